import { forwardRef, useState } from "react";
import type { SearchHit } from "../ipc";
import { snippetPieces } from "../lib/highlight";

export type SearchState = { query: string; hits: SearchHit[] | null; error: string | null; busy: boolean; open: boolean };

export const emptySearch: SearchState = { query: "", hits: null, error: null, busy: false, open: false };

/** The search field of the header (role=search). */
export const SearchBox = forwardRef<HTMLInputElement, { onSearch: (q: string) => void; onEscape: () => void }>(function SearchBox(props, ref) {
  const [q, setQ] = useState("");
  return (
    <form
      role="search"
      className="search-box"
      onSubmit={(e) => {
        e.preventDefault();
        if (q.trim()) props.onSearch(q.trim());
      }}
    >
      <label htmlFor="search" className="visually-hidden">
        Search the full text of the library
      </label>
      <input
        id="search"
        ref={ref}
        type="search"
        value={q}
        placeholder="Search all documents (Ctrl+F)"
        autoComplete="off"
        aria-controls="search-results"
        onChange={(e) => setQ(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            e.preventDefault();
            e.stopPropagation();
            props.onEscape();
          }
        }}
      />
      <button type="submit" className="small">
        Search
      </button>
    </form>
  );
});

/** Hits with their matches as <mark> elements, built from text slices. */
export function SearchResults(props: { search: SearchState; onOpen: (hit: SearchHit) => void; onClose: () => void }) {
  const { search } = props;
  if (!search.open) return null;
  const count = search.hits?.length ?? 0;
  return (
    <section id="search-results" className="search-results" aria-labelledby="search-results-heading">
      <header className="search-results-head">
        <h2 id="search-results-heading">{search.busy ? `Searching for “${search.query}”…` : `${count} result${count === 1 ? "" : "s"} for “${search.query}”`}</h2>
        <button type="button" className="icon-button" aria-label="Close search results" onClick={props.onClose}>
          <span aria-hidden="true">×</span>
        </button>
      </header>
      <p className="visually-hidden" role="status">
        {search.busy ? "Searching" : `${count} results`}
      </p>
      {search.error ? (
        <p className="error-box" role="alert">
          {search.error}
        </p>
      ) : null}
      {search.hits && search.hits.length === 0 && !search.error ? (
        <p className="empty-note">Nothing found. Search looks for the words in every page of every document; try fewer or other words.</p>
      ) : null}
      {search.hits && search.hits.length > 0 ? (
        <ol className="hit-list">
          {search.hits.map((h, i) => (
            <li key={`${h.doc}-${h.page_index}-${i}`}>
              <button type="button" className="hit" onClick={() => props.onOpen(h)} aria-label={`${h.title}, page ${h.page_label}: open`}>
                <span className="hit-head">
                  <span className="hit-title">{h.title}</span>
                  <span className="chip chip-static">p. {h.page_label}</span>
                </span>
                <span className="hit-snippet">
                  {snippetPieces(h.snippet, h.highlights).map((p, k) => (p.mark ? <mark key={k}>{p.text}</mark> : <span key={k}>{p.text}</span>))}
                </span>
              </button>
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}
