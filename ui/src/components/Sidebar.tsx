import { useMemo, useRef, useState, useEffect } from "react";
import type { CollectionInfo, DocId, DocumentSummary, LibraryOverview, Scope } from "../ipc";
import { baseName, formatBytes, formatEta, formatName, formatPercent, formatRate } from "../lib/format";
import {
  aggregate,
  documentStatus,
  fetchFraction,
  fetchText,
  latestJobs,
  statusText,
  type DocStatus,
  type LiveJob,
  type ReadingState,
} from "../lib/progress";
import { Menu } from "./Menu";
import { ProgressBar } from "./Progress";

export type SidebarActions = {
  onOpen: (doc: DocId) => void;
  onAsk: (scope: Scope) => void;
  onAddFiles: () => void;
  onAddFolders: () => void;
  onRemove: (doc: DocumentSummary) => void;
  onReread: (doc: DocumentSummary) => void;
  onAddToCollection: (doc: DocumentSummary) => void;
  onRemoveFromCollection: (doc: DocumentSummary) => void;
  onTakeOutOfCollection: (c: CollectionInfo, doc: DocId) => void;
  onRenameCollection: (c: CollectionInfo) => void;
  onDeleteCollection: (c: CollectionInfo) => void;
  onCancelReading: () => void;
  onResumeReading: () => void;
};

export function Sidebar(props: { overview: LibraryOverview | null; reading: ReadingState; selectedDoc: DocId | null } & SidebarActions) {
  const { overview, reading } = props;
  const latest = useMemo(() => latestJobs(reading.jobs), [reading.jobs]);
  const titles = useMemo(() => new Map(overview?.documents.map((d) => [d.document.id, d.document.title]) ?? []), [overview]);
  return (
    <nav className="sidebar" aria-label="Library">
      <section className="sidebar-section" aria-labelledby="library-heading">
        <div className="section-head">
          <h2 id="library-heading">Library</h2>
          <div className="button-row">
            <button type="button" className="small" onClick={props.onAddFiles}>
              Add files…
            </button>
            <button type="button" className="small secondary" onClick={props.onAddFolders}>
              Add folder…
            </button>
          </div>
        </div>
        {overview === null ? (
          <p className="muted">Loading the library…</p>
        ) : overview.documents.length === 0 ? (
          <p className="empty-note">
            No documents yet. Drop files or folders anywhere on this window, or choose <strong>Add files…</strong> (PDF, EPUB,
            Word, HTML, Markdown, text).
          </p>
        ) : (
          <ul className="doc-list">
            {overview.documents.map((d) => (
              <DocumentItem
                key={d.document.id}
                summary={d}
                status={documentStatus(d, latest.get(d.document.id))}
                selected={props.selectedDoc === d.document.id}
                inCollection={overview.collections.some((c) => c.members.includes(d.document.id))}
                {...props}
              />
            ))}
          </ul>
        )}
      </section>

      <section className="sidebar-section" aria-labelledby="collections-heading">
        <div className="section-head">
          <h2 id="collections-heading">Collections</h2>
        </div>
        {overview && overview.collections.length > 0 ? (
          <ul className="collection-list">
            {overview.collections.map((c) => (
              <CollectionItem key={c.id} collection={c} titles={titles} {...props} />
            ))}
          </ul>
        ) : (
          <p className="empty-note">Group documents to ask them together: choose “Add to collection…” in a document’s menu.</p>
        )}
      </section>

      <ReadingPanel reading={reading} titles={titles} onCancel={props.onCancelReading} onResume={props.onResumeReading} />
    </nav>
  );
}

/** A collection: ask it, its actions, and its documents shown on demand (open one, take one out). */
function CollectionItem(props: { collection: CollectionInfo; titles: Map<number, string> } & SidebarActions) {
  const c = props.collection;
  const [open, setOpen] = useState(false);
  const listId = `collection-members-${c.id}`;
  const count = `${c.documents} document${c.documents === 1 ? "" : "s"}`;
  return (
    <li className="collection-entry">
      <div className="collection-item">
        <button
          type="button"
          className="icon-button disclosure"
          aria-expanded={open}
          aria-controls={listId}
          aria-label={`Documents of ${c.name}`}
          onClick={() => setOpen((o) => !o)}
        >
          <span aria-hidden="true">{open ? "▾" : "▸"}</span>
        </button>
        <button
          type="button"
          className="link-button collection-ask"
          onClick={() => props.onAsk({ kind: "collection", value: c.name })}
          aria-label={`Ask the collection ${c.name} (${count})`}
        >
          <span className="collection-name">{c.name}</span>
          <span className="muted"> · {c.documents}</span>
        </button>
        <Menu
          label={`Actions for collection ${c.name}`}
          items={[
            { label: "Ask this collection", onSelect: () => props.onAsk({ kind: "collection", value: c.name }) },
            { label: open ? "Hide its documents" : "Show its documents", onSelect: () => setOpen((o) => !o) },
            { label: "Rename…", onSelect: () => props.onRenameCollection(c) },
            { label: "Delete collection…", danger: true, onSelect: () => props.onDeleteCollection(c) },
          ]}
        />
      </div>
      {open ? (
        <ul id={listId} className="collection-members" aria-label={`Documents of ${c.name}`}>
          {c.members.length === 0 ? <li className="empty-note">No documents: add one from its menu.</li> : null}
          {c.members.map((id) => {
            const title = props.titles.get(id) ?? `document ${id}`;
            return (
              <li key={id} className="collection-member">
                <button type="button" className="link-button member-open" onClick={() => props.onOpen(id)}>
                  {title}
                </button>
                <button
                  type="button"
                  className="small secondary"
                  aria-label={`Take ${title} out of ${c.name}`}
                  onClick={() => props.onTakeOutOfCollection(c, id)}
                >
                  Take out
                </button>
              </li>
            );
          })}
        </ul>
      ) : null}
    </li>
  );
}

function statusClass(s: DocStatus): string {
  return `status status-${s.kind.replace("_", "-")}`;
}

function DocumentItem(
  props: { summary: DocumentSummary; status: DocStatus; selected: boolean; inCollection: boolean } & SidebarActions,
) {
  const { summary, status } = props;
  const d = summary.document;
  const meta = [
    formatName(d.format),
    `${d.page_count} ${d.format === "pdf" ? "page" : "section"}${d.page_count === 1 ? "" : "s"}`,
    formatBytes(d.size_bytes),
  ];
  if (summary.memory_bytes > 0) meta.push(`memory ${formatBytes(summary.memory_bytes)}`);
  const statusId = `doc-status-${d.id}`;
  return (
    <li className={props.selected ? "doc-item selected" : "doc-item"} data-doc={d.id}>
      <div className="doc-row">
        <button
          type="button"
          className="doc-open"
          aria-current={props.selected ? "page" : undefined}
          aria-describedby={statusId}
          onClick={() => props.onOpen(d.id)}
        >
          <span className="doc-title">{d.title}</span>
          <span className="doc-meta">{meta.join(" · ")}</span>
        </button>
        <Menu
          label={`Actions for ${d.title}`}
          items={[
            { label: "Ask about this document", onSelect: () => props.onAsk({ kind: "document", value: d.id }) },
            { label: "Read again", onSelect: () => props.onReread(summary) },
            { label: "Add to collection…", onSelect: () => props.onAddToCollection(summary) },
            { label: "Remove from collection…", disabled: !props.inCollection, onSelect: () => props.onRemoveFromCollection(summary) },
            { label: "Remove from library…", danger: true, onSelect: () => props.onRemove(summary) },
          ]}
        />
      </div>
      <div id={statusId} className="doc-status-line">
        <span className={statusClass(status)}>
          <span className="status-dot" aria-hidden="true" />
          {statusText(status)}
        </span>
        {status.kind === "other_model" && status.builtWith ? <span className="muted small-text"> ({status.builtWith})</span> : null}
      </div>
      {status.kind === "reading" || status.kind === "paused" ? (
        <ProgressBar small value={status.fraction} label={`Reading ${d.title}`} />
      ) : null}
      {status.kind === "failed" ? <p className="doc-error">{status.error}</p> : null}
    </li>
  );
}

function jobTitle(job: LiveJob, titles: Map<number, string>): string {
  return (job.doc !== null ? titles.get(job.doc) : undefined) ?? baseName(job.source_path);
}

/** The queue: the document being read (pages, tokens/s, ETA), the whole batch, what waits, what failed. */
export function ReadingPanel(props: {
  reading: ReadingState;
  titles: Map<number, string>;
  onCancel: () => void;
  onResume: () => void;
}) {
  const { reading, titles } = props;
  const agg = aggregate(reading);
  const cur = agg.current;
  const failed = latestFailed(reading.jobs);
  const idle = !reading.reading && !cur && agg.queued.length === 0 && agg.cancelled.length === 0 && failed.length === 0;

  // A coarse announcement for screen readers (every 10 %, and each change of document).
  const [spoken, setSpoken] = useState("");
  const last = useRef("");
  useEffect(() => {
    let text = "";
    if (cur) {
      const f = cur.tokens_total > 0 ? cur.tokens_done / cur.tokens_total : 0;
      text = `Reading ${jobTitle(cur, titles)}: ${Math.floor(f * 10) * 10} %`;
    } else if (!reading.reading && agg.total > 0 && agg.finished === agg.total) {
      text = "Reading finished";
    }
    if (text && text !== last.current) {
      last.current = text;
      setSpoken(text);
    }
  }, [cur, reading.reading, agg.total, agg.finished, titles]);

  return (
    <section className="sidebar-section reading-panel" aria-labelledby="reading-heading">
      <div className="section-head">
        <h2 id="reading-heading">Reading</h2>
        <div className="button-row">
          {reading.reading ? (
            <button type="button" className="small secondary" onClick={props.onCancel}>
              Pause reading
            </button>
          ) : null}
          {agg.resumable ? (
            <button type="button" className="small" onClick={props.onResume}>
              Resume reading
            </button>
          ) : null}
        </div>
      </div>
      <p className="visually-hidden" role="status" aria-live="polite">
        {spoken}
      </p>
      {idle ? <p className="empty-note">Nothing to read. Added documents are read here, one after another.</p> : null}
      {reading.fetch ? (
        <div className="job">
          <p>Fetching the model: {fetchText(reading.fetch)}</p>
          <ProgressBar value={fetchFraction(reading.fetch)} label="Fetching the model" />
        </div>
      ) : null}
      {cur ? <CurrentJob job={cur} title={jobTitle(cur, titles)} /> : null}
      {agg.total > 1 ? (
        <div className="job batch">
          <p>
            All documents: {agg.finished} of {agg.total} done · {formatPercent(agg.fraction)}
          </p>
          <ProgressBar small value={agg.fraction} label="Reading all added documents" />
        </div>
      ) : null}
      {agg.cancelled.length > 0 && !reading.reading ? (
        <p className="muted">
          Paused: {agg.cancelled.map((j) => jobTitle(j, titles)).join(", ")}. Resume continues from the last checkpoint.
        </p>
      ) : null}
      {agg.queued.length > 0 ? (
        <>
          <h3 className="small-heading">Waiting ({agg.queued.length})</h3>
          <ul className="queue-list">
            {agg.queued.map((j) => (
              <li key={j.id}>{jobTitle(j, titles)}</li>
            ))}
          </ul>
        </>
      ) : null}
      {failed.length > 0 ? (
        <>
          <h3 className="small-heading">Could not read</h3>
          <ul className="failed-list">
            {failed.map((j) => (
              <li key={j.id}>
                <span className="failed-title">{jobTitle(j, titles)}</span>
                <p className="doc-error">{j.error ?? "reading failed"}</p>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {reading.runError ? <p className="doc-error">Reading stopped: {reading.runError}</p> : null}
    </section>
  );
}

function latestFailed(jobs: LiveJob[]): LiveJob[] {
  const newest = new Map<string, LiveJob>();
  for (const j of jobs) {
    const have = newest.get(j.source_path);
    if (!have || j.id > have.id) newest.set(j.source_path, j);
  }
  return [...newest.values()].filter((j) => j.state === "failed").sort((a, b) => b.id - a.id).slice(0, 5);
}

function CurrentJob(props: { job: LiveJob; title: string }) {
  const j = props.job;
  const fraction = j.tokens_total > 0 ? j.tokens_done / j.tokens_total : null;
  let detail: string;
  if (j.state === "extracting") {
    detail = j.extract_total > 0 ? `Extracting text: ${j.extract_done} of ${j.extract_total}` : "Extracting text…";
  } else if (j.state === "indexing") {
    detail = "Indexing for full-text search…";
  } else {
    const parts = [`Page ${j.pages_done} of ${j.pages_total}`];
    const rate = formatRate(j.tokens_per_second);
    if (rate) parts.push(rate);
    const eta = formatEta(j.eta);
    if (eta) parts.push(`${eta} left`);
    detail = parts.join(" · ");
  }
  return (
    <div className="job current-job">
      <p className="job-title">
        <span className="job-name">{props.title}</span>
        {fraction !== null ? <span className="job-percent">{formatPercent(fraction)}</span> : null}
      </p>
      <ProgressBar
        value={j.state === "reading" ? fraction : j.extract_total > 0 ? j.extract_done / j.extract_total : null}
        label={`Reading ${props.title}`}
      />
      <p className="job-detail">{detail}</p>
    </div>
  );
}
