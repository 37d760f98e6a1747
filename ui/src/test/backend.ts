// A tiny mocked backend for component tests: `mockIPC` with events, a window label, the
// commands a test answers, and a log of what was invoked.

import { mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import type { DocumentSummary, LibraryOverview, ReadingEvent } from "../ipc";

export type Handler = (args: Record<string, unknown>) => unknown;

export function installBackend(handlers: Record<string, Handler>) {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  mockWindows("main");
  mockIPC(
    async (cmd, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args: a });
      const h = handlers[cmd];
      if (!h) throw `no mock for ${cmd}`;
      return h(a);
    },
    { shouldMockEvents: true },
  );
  return {
    calls,
    called: (cmd: string) => calls.filter((c) => c.cmd === cmd),
    /** Sends a message on a `Channel` the app passed, as the Rust side does. */
    send(channel: unknown, index: number, message: unknown) {
      const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback(id: number, data: unknown): void } }).__TAURI_INTERNALS__;
      internals.runCallback((channel as { id: number }).id, { index, message });
    },
    reading: (event: ReadingEvent) => emit("reading-update", event),
    emit: (event: string, payload: unknown) => emit(event, payload),
  };
}

export function docSummary(id: number, title: string, state: DocumentSummary["memory"]["state"] = "read", format = "pdf"): DocumentSummary {
  return {
    document: {
      id,
      sha256: "0".repeat(64),
      title,
      format,
      size_bytes: 2_000_000,
      page_count: 3,
      source_path: `/books/${title}.${format === "pdf" ? "pdf" : "md"}`,
      added_ms: 0,
      extraction_version: 1,
      warnings: [],
      token_count: 1200,
    },
    memory: { state, built_with: null, fingerprint: null },
    memory_bytes: state === "read" ? 21_800_000 : 0,
  };
}

export function overview(documents: DocumentSummary[], extra: Partial<LibraryOverview> = {}): LibraryOverview {
  return { documents, collections: [], jobs: [], reading: false, ...extra };
}

export const deferred = <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
