// How numbers, sizes and times read on screen.

import type { Duration } from "../ipc";

/** 1536 → "1.5 KB"; binary units, one decimal below 10. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return "—";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = value < 10 ? 1 : 0;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** 0.4267 → "43 %" (never 100 % before the end, never below 0). */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction) || fraction <= 0) return "0 %";
  if (fraction >= 1) return "100 %";
  return `${Math.min(99, Math.floor(fraction * 100))} %`;
}

/** Seconds of a serialized `std::time::Duration`. */
export function durationSeconds(d: Duration | null | undefined): number | null {
  if (!d) return null;
  return d.secs + d.nanos / 1e9;
}

/** Time left, in words: "under a minute", "12 min", "2 h 05 min". */
export function formatEta(d: Duration | null | undefined): string {
  const secs = durationSeconds(d);
  if (secs === null || !Number.isFinite(secs) || secs < 0) return "";
  if (secs < 60) return "under a minute";
  const minutes = Math.round(secs / 60);
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `${h} h` : `${h} h ${String(m).padStart(2, "0")} min`;
}

/** 183.4 → "183 tokens/s"; 4.25 → "4.3 tokens/s". */
export function formatRate(tokensPerSecond: number | null | undefined): string {
  if (tokensPerSecond === null || tokensPerSecond === undefined || !Number.isFinite(tokensPerSecond) || tokensPerSecond <= 0)
    return "";
  const v = tokensPerSecond < 10 ? tokensPerSecond.toFixed(1) : Math.round(tokensPerSecond).toString();
  return `${v} tokens/s`;
}

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** The file name of a path (either separator). */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/** A date for lists: "12 Mar 2026, 14:05". */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleString("en-GB", { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** A file name for an exported chat: "Who is Anne.md". */
export function exportFileName(title: string): string {
  const cleaned = title.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, " ").replace(/\s+/g, " ").trim().slice(0, 60).trim();
  return `${cleaned || "chat"}.md`;
}

/** Format names as people say them. */
export function formatName(format: string): string {
  const names: Record<string, string> = {
    pdf: "PDF",
    epub: "EPUB",
    text: "Text",
    markdown: "Markdown",
    html: "HTML",
    docx: "Word",
  };
  return names[format] ?? format.toUpperCase();
}
