// Citations in answers: `[p. 12]`, `[p. 12, 14]`, `[pp. 3-4]`, `[page xii]`, and in corpus
// answers `[2, p. 12]` (document 2 of the consulted list). The backend validates them (only
// pages the model was given survive) and, once the answer is complete, lists them with their
// documents and 0-based page indexes. While it streams, the text alone is parsed and pages are
// resolved through the passages the model was given.

import type { Citation, CitablePage, GivenPassage, PassageRef, RankedDocument } from "../ipc";

/** One page a chip opens. `pageIndex` null: not resolved yet (opened by its label). */
export type ChipPage = { doc: number | null; pageIndex: number | null; label: string; source: number };

export type Chip = {
  /** The citation's text as in the answer, e.g. `[p. 12, 14]`. */
  text: string;
  pages: ChipPage[];
  /** Added by Seahorse to a sentence the model left uncited. */
  attributed: boolean;
};

export type Segment = { kind: "text"; text: string } | { kind: "cite"; chip: Chip };

const CITATION_SOURCE = String.raw`\[(?:(\d+)\s*,\s*)?(?:pp?\.|pages?)\s*([^\]]+)\]`;
/** Every citation in a text (global: used with `exec` in a loop). */
const CITATION = new RegExp(CITATION_SOURCE, "gi");
/** One whole citation. */
const ONE_CITATION = new RegExp(`^${CITATION_SOURCE}$`, "i");

/** The pages a citation's text names, or null when it is not a citation (`[sic]`). */
export function parseCitationText(text: string): { source: number; labels: string[] } | null {
  const m = ONE_CITATION.exec(text.trim());
  if (!m) return null;
  const source = m[1] ? Number(m[1]) : 0;
  const labels: string[] = [];
  for (const part of (m[2] ?? "").split(/\s*[,;]\s*|\s+and\s+/)) {
    const p = part.trim();
    if (!p) continue;
    const range = /^(\S+?)\s*[-–—]\s*(\S+)$/.exec(p);
    if (range) labels.push(range[1] as string, range[2] as string);
    else labels.push(p);
  }
  return labels.length > 0 ? { source, labels } : null;
}

/** Chip pages from the backend's validated citation. */
export function chipFromCitation(c: Citation): Chip {
  return {
    text: c.text,
    attributed: Boolean(c.attributed),
    pages: dedupe(c.pages.map((p: CitablePage) => ({ doc: p.doc, pageIndex: p.page_index, label: p.label, source: p.source }))),
  };
}

function dedupe(pages: ChipPage[]): ChipPage[] {
  const seen = new Set<string>();
  return pages.filter((p) => {
    const key = `${p.source}/${p.doc}/${p.pageIndex}/${p.label}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** What resolves a streamed citation's labels to pages. */
export type Resolver = (source: number, label: string) => ChipPage;

/** A resolver from what the stream said: the passages given and the ranked documents. */
export function streamResolver(passages: PassageRef[], ranked: RankedDocument[], fallbackDoc: number | null): Resolver {
  return (source, label) => {
    const doc = source > 0 ? (ranked.find((r) => r.number === source)?.doc ?? null) : fallbackDoc;
    const norm = label.trim().toLowerCase();
    const hit = passages.find((p) => (doc === null || p.doc === doc) && p.page_label.trim().toLowerCase() === norm);
    return { doc: hit?.doc ?? doc, pageIndex: hit ? hit.page_index : null, label, source };
  };
}

/**
 * Splits an answer into text and citation chips. With the backend's `citations` (a finished
 * answer) each one is found in order in the text; without them (streaming) citations are
 * parsed from the text and resolved with `resolve`.
 */
export function segmentAnswer(text: string, citations: Citation[] | null, resolve?: Resolver): Segment[] {
  const out: Segment[] = [];
  const pushText = (t: string) => {
    if (!t) return;
    const last = out[out.length - 1];
    if (last && last.kind === "text") last.text += t;
    else out.push({ kind: "text", text: t });
  };
  let at = 0;
  if (citations && citations.length > 0) {
    for (const c of citations) {
      const i = text.indexOf(c.text, at);
      if (i < 0) continue;
      pushText(text.slice(at, i));
      out.push({ kind: "cite", chip: chipFromCitation(c) });
      at = i + c.text.length;
    }
    pushText(text.slice(at));
    return out;
  }
  if (citations && citations.length === 0 && !resolve) {
    pushText(text);
    return out;
  }
  CITATION.lastIndex = 0;
  for (let m = CITATION.exec(text); m; m = CITATION.exec(text)) {
    const parsed = parseCitationText(m[0]);
    if (!parsed) continue;
    pushText(text.slice(at, m.index));
    const pages = parsed.labels.map((label) =>
      resolve ? resolve(parsed.source, label) : { doc: null, pageIndex: null, label, source: parsed.source },
    );
    out.push({ kind: "cite", chip: { text: m[0], pages: dedupe(pages), attributed: false } });
    at = m.index + m[0].length;
  }
  CITATION.lastIndex = 0;
  pushText(text.slice(at));
  return out;
}

/**
 * The sentence a citation closes: the answer's text before segment `index` (earlier
 * citations left out), from the end of the sentence before it.
 */
export function citedSentence(segments: Segment[], index: number): string {
  const before = segments
    .slice(0, index)
    .map((s) => (s.kind === "text" ? s.text : " "))
    .join("")
    .replace(/\s+/g, " ")
    .trim();
  // Its own closing punctuation aside, the sentence starts after the last sentence end.
  const body = before.replace(/[.!?]["”’)]*$/, "");
  const ends = [...body.matchAll(/[.!?]["”’)]*\s/g)];
  const last = ends[ends.length - 1];
  return (last && last.index !== undefined ? before.slice(last.index + last[0].length) : before).trim();
}

/** A chip's visible label: "p. 12", or "2 · p. 12" in a corpus answer. */
export function chipLabel(page: ChipPage): string {
  return page.source > 0 ? `${page.source} · p. ${page.label}` : `p. ${page.label}`;
}

/** The citations stored with a chat message (JSON text); [] for anything unreadable. */
export function parseStoredCitations(json: string | null | undefined): Citation[] {
  if (!json) return [];
  try {
    const v: unknown = JSON.parse(json);
    if (!Array.isArray(v)) return [];
    return v.filter(
      (c): c is Citation =>
        typeof c === "object" && c !== null && typeof (c as Citation).text === "string" && Array.isArray((c as Citation).pages),
    );
  } catch {
    return [];
  }
}

/**
 * Every passage (document, page, text) an answer was built from, wherever it sits in the
 * sources: a document answer's `passages`, or the consulted documents' answers of a corpus
 * answer. Accepts the object or its stored JSON.
 */
export function passagesFrom(sources: unknown): GivenPassage[] {
  let root = sources;
  if (typeof root === "string") {
    try {
      root = JSON.parse(root);
    } catch {
      return [];
    }
  }
  const out: GivenPassage[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown, depth: number) => {
    if (depth > 8 || v === null || typeof v !== "object" || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    const o = v as Record<string, unknown>;
    if (typeof o.doc === "number" && typeof o.page_index === "number" && typeof o.text === "string") {
      out.push({
        doc: o.doc,
        page_index: o.page_index,
        page_label: typeof o.page_label === "string" ? o.page_label : String(o.page_index + 1),
        section: typeof o.section === "string" ? o.section : null,
        score: typeof o.score === "number" ? o.score : 0,
        tokens: typeof o.tokens === "number" ? o.tokens : 0,
        text: o.text,
      });
      return;
    }
    for (const x of Object.values(o)) walk(x, depth + 1);
  };
  walk(root, 0);
  return out;
}

/** The passage text given for a page (joined when several), for highlighting it. */
export function passageFor(passages: GivenPassage[], doc: number | null, pageIndex: number | null): string | null {
  if (pageIndex === null) return null;
  const hits = passages.filter((p) => p.page_index === pageIndex && (doc === null || p.doc === doc));
  if (hits.length === 0) return null;
  return hits.map((p) => p.text).join(" … ");
}
