import { describe, expect, test } from "vitest";
import type { DocumentSummary, JobInfo, ReadingEvent } from "../ipc";
import { aggregate, documentStatus, emptyReading, fetchFraction, fromOverview, readingReducer, statusText, type ReadingState } from "./progress";

const job = (id: number, state: JobInfo["state"], extra: Partial<JobInfo> = {}): JobInfo => ({
  id,
  source_path: `/b/${id}.pdf`,
  doc: null,
  state,
  error: null,
  pages_done: 0,
  pages_total: 0,
  tokens_done: 0,
  tokens_total: 0,
  queued_ms: 1000 + id,
  ...extra,
});

const ingest = (data: Extract<ReadingEvent, { kind: "ingest" }>["data"]): ReadingEvent => ({ kind: "ingest", data });

function run(events: ReadingEvent[], start: ReadingState = emptyReading): ReadingState {
  return events.reduce(readingReducer, start);
}

const summary = (id: number, state: DocumentSummary["memory"]["state"]): DocumentSummary => ({
  document: {
    id,
    sha256: "",
    title: `Doc ${id}`,
    format: "pdf",
    size_bytes: 1,
    page_count: 3,
    source_path: `/b/${id}.pdf`,
    added_ms: 0,
    extraction_version: 1,
    warnings: [],
    token_count: null,
  },
  memory: { state, built_with: state === "other_model" ? "qwen2.5-1.5b, W=2048 S=64" : null, fingerprint: null },
  memory_bytes: 0,
});

describe("reading progress", () => {
  test("events move a job through its stages with live rate and ETA", () => {
    let s = fromOverview(emptyReading, [job(2, "queued"), job(1, "queued")], true);
    s = run(
      [
        ingest({ event: "job_started", job: 1, path: "/b/1.pdf" }),
        ingest({ event: "stage", job: 1, state: "extracting" }),
        ingest({ event: "extracting", job: 1, done: 3, total: 10 }),
      ],
      s,
    );
    let j1 = s.jobs.find((j) => j.id === 1);
    expect(j1).toMatchObject({ state: "extracting", extract_done: 3, extract_total: 10 });
    s = run(
      [
        ingest({ event: "stage", job: 1, state: "indexing" }),
        ingest({ event: "stage", job: 1, state: "reading" }),
        ingest({
          event: "reading",
          job: 1,
          doc: 7,
          pages_done: 4,
          pages_total: 10,
          tokens_done: 430,
          tokens_total: 1000,
          tokens_per_second: 183.4,
          eta: { secs: 3, nanos: 0 },
        }),
      ],
      s,
    );
    j1 = s.jobs.find((j) => j.id === 1);
    expect(j1).toMatchObject({ state: "reading", doc: 7, tokens_done: 430, tokens_per_second: 183.4, eta: { secs: 3, nanos: 0 } });
    const agg = aggregate(s);
    expect(agg.current?.id).toBe(1);
    expect(agg.queued.map((j) => j.id)).toEqual([2]);
    expect(agg.total).toBe(2);
    expect(agg.fraction).toBeCloseTo(0.215, 3);
    // Stage changes bump `changes` so the list refreshes (the document exists after extraction).
    expect(s.changes).toBe(2);
  });

  test("a finished job keeps its document; a failed one its error; the run's end stops the worker", () => {
    let s = fromOverview(emptyReading, [job(1, "reading", { doc: 3, tokens_total: 100, tokens_done: 50 }), job(2, "queued")], true);
    s = run(
      [
        ingest({ event: "job_finished", job: 1, doc: 3, state: "done", error: null }),
        ingest({ event: "job_started", job: 2, path: "/b/2.pdf" }),
        ingest({ event: "job_finished", job: 2, doc: null, state: "failed", error: "/b/2.pdf is a scanned PDF" }),
        { kind: "finished", data: { summary: { done: 1, failed: 1, cancelled: false }, error: null } },
      ],
      s,
    );
    expect(s.jobs.find((j) => j.id === 1)).toMatchObject({ state: "done", tokens_done: 100 });
    expect(s.jobs.find((j) => j.id === 2)).toMatchObject({ state: "failed", error: "/b/2.pdf is a scanned PDF" });
    expect(s.reading).toBe(false);
    const agg = aggregate(s);
    expect(agg.current).toBeNull();
    expect(agg.failed.map((j) => j.id)).toEqual([2]);
    expect(agg.total).toBe(0);
    expect(agg.resumable).toBe(false);
  });

  test("an unknown job from an event is added; a refresh keeps progress newer than the stored row", () => {
    let s = run([ingest({ event: "job_started", job: 9, path: "/b/new.epub" })]);
    expect(s.jobs[0]).toMatchObject({ id: 9, source_path: "/b/new.epub", state: "queued" });
    s = run(
      [
        ingest({ event: "stage", job: 9, state: "reading" }),
        ingest({ event: "reading", job: 9, doc: 1, pages_done: 5, pages_total: 9, tokens_done: 800, tokens_total: 900, tokens_per_second: 90, eta: { secs: 1, nanos: 0 } }),
      ],
      s,
    );
    s = fromOverview(s, [job(9, "reading", { doc: 1, tokens_done: 512, tokens_total: 900, pages_total: 9 })], true);
    expect(s.jobs[0]).toMatchObject({ tokens_done: 800, tokens_per_second: 90 });
  });

  test("cancelled jobs make the queue resumable and count as paused", () => {
    const s = fromOverview(emptyReading, [job(1, "cancelled", { doc: 1, tokens_total: 100, tokens_done: 25 }), job(2, "queued")], false);
    const agg = aggregate(s);
    expect(agg.resumable).toBe(true);
    expect(agg.cancelled.map((j) => j.id)).toEqual([1]);
    const status = documentStatus(summary(1, "partly_read"), s.jobs[0]);
    expect(status.kind).toBe("paused");
    expect(statusText(status)).toBe("paused at 25 %");
  });

  test("document status: the newest job while unfinished or failed, else the memory", () => {
    const reading = { ...job(1, "reading", { doc: 1, tokens_total: 1000, tokens_done: 437 }), tokens_per_second: 1, eta: null, extract_done: 0, extract_total: 0 };
    expect(statusText(documentStatus(summary(1, "not_read"), reading))).toBe("reading 43 %");
    const failed = { ...reading, state: "failed" as const, error: "it is encrypted" };
    expect(documentStatus(summary(1, "read"), failed)).toMatchObject({ kind: "failed", error: "it is encrypted" });
    const done = { ...reading, state: "done" as const };
    expect(statusText(documentStatus(summary(1, "read"), done))).toBe("read");
    expect(documentStatus(summary(1, "other_model"), undefined)).toEqual({ kind: "other_model", builtWith: "qwen2.5-1.5b, W=2048 S=64" });
    expect(statusText(documentStatus(summary(1, "other_model"), undefined))).toBe("read with another model");
    expect(statusText(documentStatus(summary(1, "not_read"), undefined))).toBe("not read");
  });

  test("fetch progress fraction", () => {
    expect(fetchFraction(null)).toBeNull();
    expect(fetchFraction({ event: "verifying" })).toBeNull();
    expect(fetchFraction({ event: "assembled", part: 1, parts: 4 })).toBe(0.25);
    expect(fetchFraction({ event: "ready", path: "/m" })).toBe(1);
  });
});
