// Highlighting as data: text slices marked or not, rendered by React as text nodes and
// <mark> elements (never HTML strings). Search hits carry UTF-8 *byte* ranges of their
// snippet; cited passages and search terms are found in page text after normalising both
// sides (case, whitespace, ligatures, quotes, hyphenation), with a map back to the original.

export type Piece = { text: string; mark: boolean };
export type Range = [number, number];

/** String (UTF-16) offset of every UTF-8 byte offset that starts a character, plus the end. */
function byteToIndex(text: string): Map<number, number> {
  const map = new Map<number, number>();
  let byte = 0;
  let i = 0;
  while (i < text.length) {
    map.set(byte, i);
    const cp = text.codePointAt(i) as number;
    byte += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    i += cp >= 0x10000 ? 2 : 1;
  }
  map.set(byte, i);
  return map;
}

/** UTF-8 byte ranges of `text` as string ranges (snapped inward to whole characters; bad ranges dropped). */
export function byteRangesToIndexRanges(text: string, ranges: Range[]): Range[] {
  const map = byteToIndex(text);
  const total = Math.max(...map.keys());
  const at = (byte: number, forward: boolean): number => {
    let b = Math.max(0, Math.min(total, byte));
    while (!map.has(b)) b += forward ? 1 : -1;
    return map.get(b) as number;
  };
  const out: Range[] = [];
  for (const [s, e] of ranges) {
    if (!Number.isFinite(s) || !Number.isFinite(e) || e <= s) continue;
    const start = at(s, true);
    const end = at(e, false);
    if (end > start) out.push([start, end]);
  }
  return mergeRanges(out);
}

/** Sorted, overlapping or touching ranges merged. */
export function mergeRanges(ranges: Range[], gap = 0): Range[] {
  const sorted = ranges.filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Range[] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1] + gap) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** The text cut into marked and unmarked pieces by string ranges. */
export function applyRanges(text: string, ranges: Range[]): Piece[] {
  const pieces: Piece[] = [];
  let at = 0;
  for (const [s0, e0] of mergeRanges(ranges)) {
    const s = Math.max(at, Math.min(text.length, s0));
    const e = Math.max(s, Math.min(text.length, e0));
    if (s > at) pieces.push({ text: text.slice(at, s), mark: false });
    if (e > s) pieces.push({ text: text.slice(s, e), mark: true });
    at = e;
  }
  if (at < text.length) pieces.push({ text: text.slice(at), mark: false });
  return pieces;
}

/** A search hit's snippet as pieces (its highlights are UTF-8 byte ranges). */
export function snippetPieces(snippet: string, highlights: Range[]): Piece[] {
  return applyRanges(snippet, byteRangesToIndexRanges(snippet, highlights));
}

/** The distinct words a search hit matched, lowercased, for highlighting them on the page. */
export function hitTerms(snippet: string, highlights: Range[]): string[] {
  const terms = new Set<string>();
  for (const [s, e] of byteRangesToIndexRanges(snippet, highlights)) {
    const t = normalize(snippet.slice(s, e)).norm.trim();
    if (t) terms.add(t);
  }
  return [...terms];
}

const FOLD: Record<string, string> = {
  "\u2018": "'",
  "\u2019": "'",
  "\u201a": "'",
  "\u201b": "'",
  "\u201c": '"',
  "\u201d": '"',
  "\u201e": '"',
  "\u2013": "-",
  "\u2014": "-",
  "\u2212": "-",
  "\u00a0": " ",
};

/**
 * Text normalised for matching, with `map[i]` = the index in `text` of normalised char i:
 * NFKC (ligatures), lowercase, runs of whitespace and punctuation as one space, soft hyphens
 * dropped, and a hyphen that ends a line joined ("read-\ning" → "reading").
 */
export function normalize(text: string): { norm: string; map: number[] } {
  let norm = "";
  const map: number[] = [];
  let i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i) as number;
    const width = cp >= 0x10000 ? 2 : 1;
    const ch = text.slice(i, i + width);
    if (ch === "\u00ad") {
      i += width;
      continue;
    }
    if (ch === "-" && /^-[ \t]*\r?\n\s*\p{L}/u.test(text.slice(i, i + 40)) && /\p{L}$/u.test(norm)) {
      // A word broken over a line: skip the hyphen and the line break.
      i += 1;
      while (i < text.length && /\s/.test(text[i] as string)) i += 1;
      continue;
    }
    // Whitespace and punctuation separate words; extractors disagree about both.
    if (/\s/.test(ch) || ch === "\u00a0" || /\p{P}/u.test(FOLD[ch] ?? ch)) {
      if (norm.length > 0 && !norm.endsWith(" ")) {
        norm += " ";
        map.push(i);
      }
      i += width;
      continue;
    }
    const folded = FOLD[ch] ?? ch.normalize("NFKC").toLowerCase();
    for (const c of folded) {
      norm += c;
      map.push(i);
    }
    i += width;
  }
  return { norm, map };
}

function toOriginal(map: number[], text: string, ns: number, ne: number): Range {
  const start = map[ns] ?? text.length;
  const lastChar = map[ne - 1];
  if (lastChar === undefined) return [start, start];
  const cp = text.codePointAt(lastChar) as number;
  return [start, lastChar + (cp >= 0x10000 ? 2 : 1)];
}

function words(s: string): string[] {
  return s.split(" ").filter(Boolean);
}

/**
 * Where a cited passage lies in a page's text, as string ranges of `haystack`. Passages are
 * excerpts ("…" joins their parts) and the page text may come from another extractor (pdf.js
 * text layer vs the backend's), so each part is looked for whole, then in runs of words.
 */
export function findPassageRanges(haystack: string, passage: string, run = 6): Range[] {
  const hay = normalize(haystack);
  const out: Range[] = [];
  const parts = passage
    .split(/\u2026|\.\.\.|\[page [^\]]*\]/i)
    .map((p) => normalize(p).norm.trim())
    .filter((p) => p.length > 0);
  for (const part of parts) {
    const whole = part.length >= 12 ? hay.norm.indexOf(part) : -1;
    if (whole >= 0) {
      out.push(toOriginal(hay.map, haystack, whole, whole + part.length));
      continue;
    }
    const ws = words(part);
    if (ws.length < 3) continue;
    let from = 0;
    for (let k = 0; k < ws.length; k += run) {
      let chunk = ws.slice(k, k + run);
      if (chunk.length < Math.min(3, run)) chunk = ws.slice(Math.max(0, ws.length - run));
      const needle = chunk.join(" ");
      if (needle.length < 8) continue;
      let i = hay.norm.indexOf(needle, from);
      if (i < 0) i = hay.norm.indexOf(needle);
      if (i < 0) continue;
      out.push(toOriginal(hay.map, haystack, i, i + needle.length));
      from = i + needle.length;
    }
  }
  // Runs found next to each other read as one highlight.
  return mergeRanges(out, 2);
}

/** Every occurrence of the terms in `haystack` (whole words when the term is a word). */
export function findTermRanges(haystack: string, terms: string[]): Range[] {
  const hay = normalize(haystack);
  const out: Range[] = [];
  for (const raw of terms) {
    const term = normalize(raw).norm.trim();
    if (term.length < 2) continue;
    let i = hay.norm.indexOf(term);
    while (i >= 0) {
      const before = i === 0 ? "" : (hay.norm[i - 1] as string);
      const after = hay.norm[i + term.length] ?? "";
      const wordChar = /[\p{L}\p{N}]/u;
      const wordy = wordChar.test(term[0] as string);
      // A word starts at a word boundary; short words must end at one too ("in" ≠ "inside").
      const startsOk = !wordy || !wordChar.test(before);
      const endsOk = !wordy || term.length >= 4 || !wordChar.test(after);
      if (startsOk && endsOk) {
        out.push(toOriginal(hay.map, haystack, i, i + term.length));
      }
      i = hay.norm.indexOf(term, i + term.length);
    }
  }
  return mergeRanges(out);
}

/** Words too common to say that a page supports a sentence. */
const COMMON = new Set(
  (
    "the and for are but not you all any can had her was one our out has him his how its may new now see two who did get " +
    "let say she too use that with have this will your from they been were said each which their there what about would " +
    "into than them then these some when also only over such more most very just like does what where while being other " +
    "page pages document"
  ).split(" "),
);

/** The content words of a text (normalised; three letters or more, or any number; not common words). */
function contentWords(text: string): Set<string> {
  return new Set(words(normalize(text).norm).filter((w) => (w.length >= 3 || /\p{N}/u.test(w)) && !COMMON.has(w)));
}

/**
 * Where a page supports a sentence of an answer, when no passage was given for the page
 * (it was in the memory's window): the page's sentence that shares the most content words
 * with it, if it shares at least two and at least a third of the sentence's.
 */
export function findSupportRanges(haystack: string, claim: string): Range[] {
  const wanted = contentWords(claim.replace(/\[[^\]]*\]/g, " "));
  if (wanted.size === 0) return [];
  let best: { range: Range; score: number } | null = null;
  const sentence = /[^.!?\n]+(?:[.!?]+|\n|$)/g;
  for (let m = sentence.exec(haystack); m; m = sentence.exec(haystack)) {
    const text = m[0];
    if (!text.trim()) continue;
    let score = 0;
    for (const w of contentWords(text)) if (wanted.has(w)) score += 1;
    if (!best || score > best.score) {
      const lead = text.length - text.trimStart().length;
      best = { range: [m.index + lead, m.index + text.trimEnd().length], score };
    }
  }
  if (!best || best.score < 2 || best.score * 3 < wanted.size) return [];
  return [best.range];
}

/** What to highlight on a page: a passage given to the model, search terms, or the support for an answer's sentence. */
export type HighlightSpec =
  | { kind: "passage"; text: string }
  | { kind: "terms"; terms: string[] }
  | { kind: "support"; sentence: string };

export function findRanges(text: string, spec: HighlightSpec | null): Range[] {
  if (!spec) return [];
  switch (spec.kind) {
    case "passage":
      return findPassageRanges(text, spec.text);
    case "terms":
      return findTermRanges(text, spec.terms);
    case "support":
      return findSupportRanges(text, spec.sentence);
  }
}
