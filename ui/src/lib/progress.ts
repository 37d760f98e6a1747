// Reading progress: the jobs of the ingestion queue kept up to date from `reading-update`
// events between overview refreshes, aggregated for the progress panel, and each
// document's status as the library list shows it.

import type { DocId, DocumentSummary, Duration, FetchProgress, JobId, JobInfo, JobState, ReadingEvent } from "../ipc";

/** A job as the UI knows it: the stored row plus what only events carry. */
export type LiveJob = JobInfo & {
  tokens_per_second: number | null;
  eta: Duration | null;
  /** Extraction units (PDF pages, EPUB chapters), while extracting. */
  extract_done: number;
  extract_total: number;
};

export type ReadingState = {
  /** Newest first, as the backend lists them. */
  jobs: LiveJob[];
  /** Whether the worker runs. */
  reading: boolean;
  /** Fetching the model before reading, if it is. */
  fetch: FetchProgress | null;
  /** Why the last run stopped early, if it failed. */
  runError: string | null;
  /** Bumped when an event means the document list changed (refresh the overview). */
  changes: number;
};

export const emptyReading: ReadingState = { jobs: [], reading: false, fetch: null, runError: null, changes: 0 };

export function isActive(state: JobState): boolean {
  return state === "extracting" || state === "indexing" || state === "reading";
}

export function isFinal(state: JobState): boolean {
  return state === "done" || state === "failed" || state === "cancelled";
}

function live(job: JobInfo, previous?: LiveJob): LiveJob {
  const keep = previous && previous.state === job.state && isActive(job.state);
  return {
    ...job,
    tokens_per_second: keep ? previous.tokens_per_second : null,
    eta: keep ? previous.eta : null,
    extract_done: keep ? previous.extract_done : 0,
    extract_total: keep ? previous.extract_total : 0,
  };
}

/** The state after a fresh `library_overview` (keeping the rates and ETAs only events carry). */
export function fromOverview(state: ReadingState, jobs: JobInfo[], reading: boolean): ReadingState {
  const before = new Map(state.jobs.map((j) => [j.id, j]));
  return {
    ...state,
    jobs: jobs.map((j) => {
      const prev = before.get(j.id);
      // An event may be newer than the row the overview read: keep the further progress.
      if (prev && prev.state === j.state && prev.tokens_done > j.tokens_done) return { ...live(j, prev), ...pick(prev) };
      return live(j, prev);
    }),
    reading,
    fetch: reading ? state.fetch : null,
  };
}

function pick(j: LiveJob) {
  return { pages_done: j.pages_done, tokens_done: j.tokens_done, pages_total: j.pages_total, tokens_total: j.tokens_total };
}

function update(state: ReadingState, id: JobId, change: (job: LiveJob) => LiveJob, create?: () => LiveJob): ReadingState {
  const i = state.jobs.findIndex((j) => j.id === id);
  if (i < 0) {
    if (!create) return state;
    return { ...state, jobs: [create(), ...state.jobs] };
  }
  const jobs = state.jobs.slice();
  jobs[i] = change(jobs[i] as LiveJob);
  return { ...state, jobs };
}

function blankJob(id: JobId, path: string): LiveJob {
  return {
    id,
    source_path: path,
    doc: null,
    state: "queued",
    error: null,
    pages_done: 0,
    pages_total: 0,
    tokens_done: 0,
    tokens_total: 0,
    queued_ms: Date.now(),
    tokens_per_second: null,
    eta: null,
    extract_done: 0,
    extract_total: 0,
  };
}

/** Applies one `reading-update` event. */
export function readingReducer(state: ReadingState, event: ReadingEvent): ReadingState {
  switch (event.kind) {
    case "fetch":
      return { ...state, reading: true, fetch: event.data };
    case "started":
      return { ...state, reading: true, fetch: null, runError: null };
    case "filed":
      return { ...state, changes: state.changes + 1 };
    case "finished":
      return {
        ...state,
        reading: false,
        fetch: null,
        runError: event.data.error,
        jobs: state.jobs.map((j) => ({ ...j, tokens_per_second: null, eta: null })),
        changes: state.changes + 1,
      };
    case "ingest": {
      const e = event.data;
      switch (e.event) {
        case "job_started":
          return update(
            { ...state, reading: true },
            e.job,
            (j) => ({ ...j, source_path: e.path, error: null }),
            () => blankJob(e.job, e.path),
          );
        case "stage":
          return {
            ...update(state, e.job, (j) => ({
              ...j,
              state: e.state,
              error: e.state === "failed" ? j.error : null,
              tokens_per_second: e.state === "reading" ? j.tokens_per_second : null,
              eta: e.state === "reading" ? j.eta : null,
            })),
            // After extraction the document exists: the list should show it.
            changes: e.state === "indexing" || e.state === "reading" ? state.changes + 1 : state.changes,
          };
        case "extracting":
          return update(state, e.job, (j) => ({ ...j, state: "extracting", extract_done: e.done, extract_total: e.total }));
        case "reading":
          return update(state, e.job, (j) => ({
            ...j,
            state: "reading",
            doc: e.doc,
            pages_done: e.pages_done,
            pages_total: e.pages_total,
            tokens_done: e.tokens_done,
            tokens_total: e.tokens_total,
            tokens_per_second: e.tokens_per_second,
            eta: e.eta,
          }));
        case "checkpoint":
          return update(state, e.job, (j) => ({ ...j, doc: e.doc }));
        case "job_finished":
          return {
            ...update(state, e.job, (j) => ({
              ...j,
              state: e.state,
              doc: e.doc ?? j.doc,
              error: e.error,
              tokens_done: e.state === "done" ? Math.max(j.tokens_done, j.tokens_total) : j.tokens_done,
              pages_done: e.state === "done" ? Math.max(j.pages_done, j.pages_total) : j.pages_done,
              tokens_per_second: null,
              eta: null,
            })),
            changes: state.changes + 1,
          };
        default:
          return state;
      }
    }
    default:
      return state;
  }
}

/** How far one job is, 0..1 (finished jobs count as 1; reading goes by tokens). */
export function jobFraction(job: JobInfo): number {
  if (isFinal(job.state)) return job.state === "cancelled" ? readFraction(job) : 1;
  if (job.state === "reading") return readFraction(job);
  return 0;
}

function readFraction(job: JobInfo): number {
  if (job.tokens_total > 0) return Math.min(1, job.tokens_done / job.tokens_total);
  if (job.pages_total > 0) return Math.min(1, job.pages_done / job.pages_total);
  return 0;
}

export type Aggregate = {
  /** The job being worked on now. */
  current: LiveJob | null;
  /** Waiting, oldest first (the order they will be read in). */
  queued: LiveJob[];
  /** Stopped by the person (resumable). */
  cancelled: LiveJob[];
  /** Failed, with their reasons, newest first. */
  failed: LiveJob[];
  /** The batch: jobs queued since the oldest unfinished one. */
  total: number;
  finished: number;
  /** Progress of the whole batch, 0..1. */
  fraction: number;
  /** Whether there is something to resume. */
  resumable: boolean;
};

/** What the progress panel shows. */
export function aggregate(state: ReadingState): Aggregate {
  const jobs = state.jobs;
  const current = jobs.find((j) => isActive(j.state)) ?? null;
  const queued = jobs.filter((j) => j.state === "queued").sort((a, b) => a.queued_ms - b.queued_ms || a.id - b.id);
  const cancelled = jobs.filter((j) => j.state === "cancelled");
  const failed = jobs.filter((j) => j.state === "failed");
  const unfinished = jobs.filter((j) => !isFinal(j.state) || j.state === "cancelled");
  let batch: LiveJob[] = [];
  if (unfinished.length > 0) {
    const since = Math.min(...unfinished.map((j) => j.queued_ms));
    batch = jobs.filter((j) => j.queued_ms >= since);
  }
  const finished = batch.filter((j) => isFinal(j.state) && j.state !== "cancelled").length;
  const fraction = batch.length === 0 ? 0 : batch.reduce((sum, j) => sum + jobFraction(j), 0) / batch.length;
  return {
    current,
    queued,
    cancelled,
    failed,
    total: batch.length,
    finished,
    fraction,
    resumable: !state.reading && (queued.length > 0 || cancelled.length > 0),
  };
}

export type DocStatus =
  | { kind: "reading"; fraction: number; job: LiveJob }
  | { kind: "preparing"; job: LiveJob }
  | { kind: "queued"; job: LiveJob }
  | { kind: "paused"; fraction: number; job: LiveJob }
  | { kind: "failed"; error: string; job: LiveJob }
  | { kind: "read" }
  | { kind: "partly_read" }
  | { kind: "other_model"; builtWith: string | null }
  | { kind: "not_read" };

/** The newest job of each document. */
export function latestJobs(jobs: LiveJob[]): Map<DocId, LiveJob> {
  const out = new Map<DocId, LiveJob>();
  for (const j of jobs) {
    if (j.doc === null) continue;
    const have = out.get(j.doc);
    if (!have || j.id > have.id) out.set(j.doc, j);
  }
  return out;
}

/** A document's status: its newest job while one is unfinished or failed, else its memory. */
export function documentStatus(summary: DocumentSummary, job: LiveJob | undefined): DocStatus {
  if (job) {
    switch (job.state) {
      case "reading":
        return { kind: "reading", fraction: readFraction(job), job };
      case "extracting":
      case "indexing":
        return { kind: "preparing", job };
      case "queued":
        return { kind: "queued", job };
      case "cancelled":
        if (summary.memory.state !== "read") return { kind: "paused", fraction: readFraction(job), job };
        break;
      case "failed":
        return { kind: "failed", error: job.error ?? "reading failed", job };
      default:
        break;
    }
  }
  switch (summary.memory.state) {
    case "read":
      return { kind: "read" };
    case "partly_read":
      return { kind: "partly_read" };
    case "other_model":
      return { kind: "other_model", builtWith: summary.memory.built_with };
    default:
      return { kind: "not_read" };
  }
}

/** The status in words (also the accessible description). */
export function statusText(status: DocStatus): string {
  switch (status.kind) {
    case "reading":
      return `reading ${Math.min(99, Math.floor(status.fraction * 100))} %`;
    case "preparing":
      return status.job.state === "extracting" ? "extracting text" : "indexing";
    case "queued":
      return "queued";
    case "paused":
      return `paused at ${Math.min(99, Math.floor(status.fraction * 100))} %`;
    case "failed":
      return "failed";
    case "read":
      return "read";
    case "partly_read":
      return "partly read";
    case "other_model":
      return "read with another model";
    case "not_read":
      return "not read";
  }
}

/** Fetch progress as a fraction (null: indeterminate). */
export function fetchFraction(p: FetchProgress | null): number | null {
  if (!p) return null;
  switch (p.event) {
    case "assembled":
      return p.parts > 0 ? p.part / p.parts : null;
    case "ready":
    case "already_present":
      return 1;
    case "downloading":
      return 0;
    default:
      return null;
  }
}

/** Fetch progress in words. */
export function fetchText(p: FetchProgress | null): string {
  if (!p) return "Starting…";
  switch (p.event) {
    case "verifying":
      return "Checking the file already on disk…";
    case "already_present":
      return "The model is already here and intact.";
    case "damaged":
      return `The file on disk was damaged (${p.reason}); fetching it again…`;
    case "downloading":
      return `Downloading ${p.parts} part${p.parts === 1 ? "" : "s"}…`;
    case "assembled":
      return `Downloaded and checked part ${p.part} of ${p.parts}`;
    case "ready":
      return "Ready: the model's checksum matches.";
  }
}
