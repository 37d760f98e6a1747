// A stand-in for the Rust side, for the end-to-end tests in Chromium. Bundled by Vite as an
// IIFE (tests/e2e/build-mock.mjs) and injected with `page.addInitScript` before the app's
// own scripts run, it installs `mockIPC(..., { shouldMockEvents: true })` + `mockWindows`
// and answers every command of the IPC contract from an in-memory library, emitting the
// `reading-update` events and streaming answers through the `Channel`s the app passes, as
// the real backend does. The test drives it through `window.__seahorseMock`.

import { mockConvertFileSrc, mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import type {
  AnswerEvent,
  Answered,
  ChatInfo,
  Citation,
  CollectionInfo,
  DocumentDetails,
  DocumentInfo,
  DocumentSummary,
  FetchProgress,
  GivenPassage,
  JobInfo,
  JobState,
  MessageInfo,
  ModelEntry,
  ReadingEvent,
  SearchHit,
  Settings,
} from "../../../src/ipc";

/** A file the mock can "read". */
export type Fixture = {
  title: string;
  format: string;
  pages: string[];
  labels?: string[];
  /** The file itself, base64 (PDFs, for pdf.js). */
  base64?: string;
  /** Extraction fails with this message (a scanned or encrypted PDF). */
  fail?: string;
  warnings?: string[];
};

export type MockConfig = {
  /** The active model has no file yet: the welcome screen shows. */
  firstRun: boolean;
  fixtures: Record<string, Fixture>;
  /** Paths already read when the app starts. */
  preloaded?: string[];
  /** Milliseconds between simulated steps. */
  tick?: number;
  /** Reading of the first job pauses at this fraction (and fetching after part 2) until `release()`. */
  holdAt?: number | null;
  /** Answers: the text streamed, in pieces, with its citations. */
  answerPieces?: string[];
  answerDelay?: number;
  /** The page (0-based) the answer cites, per document title; its text is the passage. */
  citePage?: number;
};

type Doc = {
  info: DocumentInfo;
  fixture: Fixture;
  state: "read" | "partly_read" | "not_read" | "other_model";
  memoryBytes: number;
};

type Call = { cmd: string; args: Record<string, unknown> };

const enc = new TextEncoder();

function bytesOf(s: string): number {
  return enc.encode(s).length;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

type ChannelLike = { id: number };

class Mock {
  config: Required<MockConfig>;
  calls: Call[] = [];
  models: ModelEntry[];
  settings: Settings;
  docs = new Map<number, Doc>();
  jobs: JobInfo[] = [];
  collections: { id: number; name: string; docs: Set<number> }[] = [];
  chats: ChatInfo[] = [];
  messages = new Map<number, MessageInfo[]>();
  exported: { chat: number; path: string }[] = [];
  reading = false;
  /** What the next file dialog returns (a queue; null: cancelled). */
  nextOpen: (string | string[] | null)[] = [];
  nextSave: string | null = "/home/reader/Who persuaded Anne.md";
  private ids = { doc: 1, job: 1, chat: 1, collection: 1, message: 1 };
  private cancelReading = false;
  private stopAnswer = false;
  private answering = false;
  private held: (() => void) | null = null;
  private holdUsed = false;

  constructor(config: MockConfig) {
    this.config = {
      preloaded: [],
      tick: 120,
      holdAt: null,
      answerPieces: [
        "Lady Russell persuaded Anne Elliot ",
        "to break off her engagement ",
        "to Frederick Wentworth [p. 2]. ",
        "Eight years later he comes back ",
        "as Captain Wentworth [p. 3].",
      ],
      answerDelay: 90,
      citePage: 1,
      ...config,
    };
    this.models = [
      {
        id: "qwen2.5-0.5b-instruct",
        description: "Qwen2.5 0.5B Instruct (Q8_0), fast on any CPU",
        added: false,
        path: config.firstRun ? null : "/home/reader/.cache/seahorse/models/qwen2.5-0.5b-instruct-q8_0.gguf",
        size: 531_068_000,
        shipped_block: true,
        active: true,
      },
      {
        id: "qwen2.5-1.5b-instruct",
        description: "Qwen2.5 1.5B Instruct (Q8_0), better answers",
        added: false,
        path: null,
        size: 1_646_000_000,
        shipped_block: true,
        active: false,
      },
    ];
    this.settings = {
      model: "qwen2.5-0.5b-instruct",
      block: { kind: "shipped" },
      reading: { window: 1024, sinks: 64, chunk_tokens: 512, checkpoint_tokens: 16384, checkpoint_seconds: 120, checkpoints_kept: 8, threads: null },
      gpu_layers: 4294967295,
      local_models: [],
    };
    for (const path of this.config.preloaded) {
      const fx = this.config.fixtures[path];
      if (!fx) continue;
      const doc = this.store(path, fx);
      doc.state = "read";
      doc.memoryBytes = 21_800_000;
      const id = this.ids.job++;
      this.jobs.unshift(this.job(id, path, doc.info.id, "done", fx));
    }
  }

  // ----- helpers -----

  private job(id: number, path: string, doc: number | null, state: JobState, fx?: Fixture): JobInfo {
    const tokens = fx ? this.tokens(fx) : 0;
    return {
      id,
      source_path: path,
      doc,
      state,
      error: null,
      pages_done: state === "done" && fx ? fx.pages.length : 0,
      pages_total: fx && doc !== null ? fx.pages.length : 0,
      tokens_done: state === "done" ? tokens : 0,
      tokens_total: doc !== null ? tokens : 0,
      queued_ms: Date.now() - 1000,
    };
  }

  private tokens(fx: Fixture): number {
    return fx.pages.reduce((n, p) => n + Math.ceil(p.length / 4) + 6, 0) * 40;
  }

  private store(path: string, fx: Fixture): Doc {
    for (const d of this.docs.values()) if (d.info.source_path === path) return d;
    const id = this.ids.doc++;
    const doc: Doc = {
      fixture: fx,
      state: "not_read",
      memoryBytes: 0,
      info: {
        id,
        sha256: `${id}`.padStart(64, "0"),
        title: fx.title,
        format: fx.format,
        size_bytes: fx.base64 ? Math.floor((fx.base64.length * 3) / 4) : bytesOf(fx.pages.join("\n")),
        page_count: fx.pages.length,
        source_path: path,
        added_ms: Date.now(),
        extraction_version: 3,
        warnings: fx.warnings ?? [],
        token_count: this.tokens(fx),
      },
    };
    this.docs.set(id, doc);
    return doc;
  }

  private doc(id: unknown): Doc {
    const d = this.docs.get(Number(id));
    if (!d) throw `no document with id ${String(id)}`;
    return d;
  }

  private label(d: Doc, i: number): string {
    return d.fixture.labels?.[i] ?? String(i + 1);
  }

  private summary(d: Doc): DocumentSummary {
    return {
      document: d.info,
      memory: {
        state: d.state,
        built_with: d.state === "not_read" ? null : "qwen2.5-0.5b-instruct with its shipped AHN block, W=1024 S=64",
        fingerprint: null,
      },
      memory_bytes: d.memoryBytes,
    };
  }

  private emitReading(event: ReadingEvent): Promise<void> {
    return emit("reading-update", event);
  }

  private send(channel: unknown, index: number, message: unknown): void {
    const id = (channel as ChannelLike).id;
    (window as unknown as { __TAURI_INTERNALS__: { runCallback(id: number, data: unknown): void } }).__TAURI_INTERNALS__.runCallback(id, {
      index,
      message,
    });
  }

  // ----- the test's controls -----

  /** Files dragged over the window. */
  dragEnter(paths: string[]): Promise<void> {
    return emit("tauri://drag-enter", { paths, position: { x: 400, y: 300 } });
  }

  dragLeave(): Promise<void> {
    return emit("tauri://drag-leave", null);
  }

  /** Files dropped on the window (Tauri's drag-drop event, as the webview sends it). */
  drop(paths: string[]): Promise<void> {
    return emit("tauri://drag-drop", { paths, position: { x: 400, y: 300 } });
  }

  /** Lets reading go on past `holdAt`. */
  release(): void {
    this.holdUsed = true;
    this.held?.();
    this.held = null;
  }

  get isHeld(): boolean {
    return this.held !== null;
  }

  /**
   * What the app's `doc:` protocol serves for `/<id>` (the harness answers the webview's
   * request with it): the file as base64, or the reason it cannot.
   */
  documentFile(id: number): { base64: string } | { error: string } {
    const d = this.docs.get(id);
    if (!d) return { error: `no document with id ${id}` };
    if (!d.fixture.base64) return { error: `"${d.info.title}" has no original file to show` };
    return { base64: d.fixture.base64 };
  }

  commands(): string[] {
    return this.calls.map((c) => c.cmd);
  }

  // ----- reading -----

  private startReading(): void {
    if (this.reading) return;
    this.reading = true;
    this.cancelReading = false;
    void this.run();
  }

  private async run(): Promise<void> {
    const tick = this.config.tick;
    let done = 0;
    let failed = 0;
    let cancelled = false;
    await sleep(tick);
    for (;;) {
      const job = this.jobs.filter((j) => j.state === "queued").sort((a, b) => a.id - b.id)[0];
      if (!job) break;
      const fx = this.config.fixtures[job.source_path];
      await this.emitReading({ kind: "ingest", data: { event: "job_started", job: job.id, path: job.source_path } });
      job.state = "extracting";
      await this.emitReading({ kind: "ingest", data: { event: "stage", job: job.id, state: "extracting" } });
      await sleep(tick);
      if (!fx || fx.fail) {
        job.state = "failed";
        job.error = fx?.fail ?? `${job.source_path}: no such file`;
        failed += 1;
        await this.emitReading({ kind: "ingest", data: { event: "job_finished", job: job.id, doc: null, state: "failed", error: job.error } });
        continue;
      }
      await this.emitReading({ kind: "ingest", data: { event: "extracting", job: job.id, done: fx.pages.length, total: fx.pages.length } });
      const doc = this.store(job.source_path, fx);
      job.doc = doc.info.id;
      job.pages_total = fx.pages.length;
      job.tokens_total = this.tokens(fx);
      job.state = "indexing";
      await this.emitReading({ kind: "ingest", data: { event: "stage", job: job.id, state: "indexing" } });
      await sleep(tick);
      job.state = "reading";
      await this.emitReading({ kind: "ingest", data: { event: "stage", job: job.id, state: "reading" } });
      const steps = 7;
      const start = Math.round((job.tokens_done / Math.max(1, job.tokens_total)) * steps);
      for (let k = start + 1; k <= steps; k += 1) {
        if (this.cancelReading) {
          cancelled = true;
          break;
        }
        const fraction = k === 3 && this.config.holdAt !== null ? this.config.holdAt : k / steps;
        job.tokens_done = Math.round(job.tokens_total * fraction);
        job.pages_done = Math.floor(fx.pages.length * fraction);
        const rate = 183.4;
        const left = (job.tokens_total - job.tokens_done) / rate;
        await this.emitReading({
          kind: "ingest",
          data: {
            event: "reading",
            job: job.id,
            doc: doc.info.id,
            pages_done: job.pages_done,
            pages_total: job.pages_total,
            tokens_done: job.tokens_done,
            tokens_total: job.tokens_total,
            tokens_per_second: rate,
            eta: { secs: Math.floor(left), nanos: 0 },
          },
        });
        if (k === 3 && this.config.holdAt !== null && !this.holdUsed) {
          await new Promise<void>((resolve) => {
            this.held = resolve;
          });
        }
        await sleep(tick);
      }
      if (cancelled) {
        job.state = "cancelled";
        doc.state = "partly_read";
        doc.memoryBytes = 9_400_000;
        await this.emitReading({ kind: "ingest", data: { event: "job_finished", job: job.id, doc: doc.info.id, state: "cancelled", error: null } });
        break;
      }
      await this.emitReading({
        kind: "ingest",
        data: { event: "checkpoint", job: job.id, doc: doc.info.id, position: job.tokens_total, page_index: fx.pages.length - 1, is_final: true },
      });
      job.state = "done";
      job.tokens_done = job.tokens_total;
      job.pages_done = job.pages_total;
      doc.state = "read";
      doc.memoryBytes = 21_800_000;
      done += 1;
      await this.emitReading({ kind: "ingest", data: { event: "job_finished", job: job.id, doc: doc.info.id, state: "done", error: null } });
    }
    this.reading = false;
    await this.emitReading({ kind: "finished", data: { summary: { done, failed, cancelled }, error: null } });
  }

  // ----- asking -----

  private async ask(question: { text: string; scope: { kind: string; value?: unknown }; chat: number | null; asOfPage: string | null }, channel: unknown): Promise<Answered> {
    if (!question.text.trim()) throw "the question is empty";
    this.stopAnswer = false;
    this.answering = true;
    let index = 0;
    const send = (e: AnswerEvent) => this.send(channel, index++, e);
    const choice = { model: this.settings.model, block: this.settings.block, reading: this.settings.reading };
    try {
      const scope = question.scope;
      if (scope.kind === "model") {
        let text = "";
        for (const piece of ["A sliding window ", "keeps the last tokens ", "in full."]) {
          if (this.stopAnswer) break;
          await sleep(this.config.answerDelay);
          text += piece;
          send({ kind: "text", text: piece });
        }
        return { chat: null, answer: { from: "model", text, stop: this.stopAnswer ? "cancelled" : "end_of_turn" }, choice };
      }
      let chat = question.chat;
      let docs: Doc[];
      if (chat !== null) {
        const info = this.chats.find((c) => c.id === chat);
        if (!info) throw `no chat ${chat}`;
        docs = info.scope === "document" ? [this.doc(info.doc)] : [...this.docs.values()];
      } else if (scope.kind === "document") {
        docs = [this.doc(scope.value)];
      } else if (scope.kind === "collection") {
        const c = this.collections.find((x) => x.name === scope.value);
        if (!c) throw `no collection named "${String(scope.value)}"`;
        docs = [...c.docs].map((d) => this.doc(d));
      } else {
        docs = [...this.docs.values()];
      }
      const corpus = scope.kind !== "document" && (chat === null || this.chats.find((c) => c.id === chat)?.scope === "corpus");
      const first = docs[0];
      if (!first) throw "the library has no documents to ask";
      if (!corpus && first.state !== "read") throw `"${first.info.title}" has not been read yet; wait for reading to finish (or resume it)`;
      if (chat === null) {
        chat = this.ids.chat++;
        const title = question.text.length > 60 ? `${question.text.slice(0, 57)}…` : question.text;
        const base = { id: chat, title, created_ms: Date.now(), message_count: 0 };
        this.chats.unshift(
          corpus
            ? { ...base, scope: "corpus", collection: scope.kind === "collection" ? (this.collections.find((x) => x.name === scope.value)?.id ?? null) : null }
            : { ...base, scope: "document", doc: first.info.id, as_of_page: question.asOfPage ? Number(question.asOfPage) - 1 : null },
        );
      }
      const citeDoc = first;
      const cite = Math.min(this.config.citePage, citeDoc.fixture.pages.length - 1);
      const cite2 = Math.min(cite + 1, citeDoc.fixture.pages.length - 1);
      const passage = (i: number): GivenPassage => ({
        doc: citeDoc.info.id,
        page_index: i,
        page_label: this.label(citeDoc, i),
        section: null,
        score: 4.2 - i,
        tokens: 60,
        text: (citeDoc.fixture.pages[i] ?? "").split("\n").slice(1, 4).join(" "),
      });
      const given = [passage(cite), passage(cite2)];
      if (corpus) {
        const ranked = docs.filter((d) => d.state === "read").map((d, i) => ({ number: i + 1, doc: d.info.id, title: d.info.title, score: 9 - i }));
        send({ kind: "ranked", documents: ranked });
        for (const r of ranked) {
          await sleep(this.config.answerDelay);
          send({ kind: "consulting", document: r });
        }
      } else {
        await sleep(this.config.answerDelay);
        send({ kind: "restored", position: citeDoc.info.token_count ?? 0, page_index: citeDoc.fixture.pages.length - 1, is_final: true });
        send({ kind: "passages", passages: given.map((p) => ({ doc: p.doc, page_index: p.page_index, page_label: p.page_label, tokens: p.tokens })) });
        send({ kind: "prefill", done: 480, total: 480 });
      }
      const pieces = corpus
        ? this.config.answerPieces.map((p) => p.replace(/\[p\. /g, "[1, p. "))
        : this.config.answerPieces;
      let text = "";
      for (const piece of pieces) {
        if (this.stopAnswer) break;
        await sleep(this.config.answerDelay);
        text += piece;
        send({ kind: "text", text: piece });
      }
      const citations: Citation[] = [];
      const re = /\[(?:(\d+), )?p\. ([^\]]+)\]/g;
      for (let m = re.exec(text); m; m = re.exec(text)) {
        const label = m[2] as string;
        const pageIndex = citeDoc.fixture.pages.findIndex((_, i) => this.label(citeDoc, i) === label);
        citations.push({
          text: m[0],
          attributed: false,
          pages: [{ source: m[1] ? Number(m[1]) : 0, doc: citeDoc.info.id, page_index: pageIndex, label, locator: JSON.stringify({ kind: "pdf", page_index: pageIndex }) }],
        });
      }
      const stop = this.stopAnswer ? "cancelled" : "end_of_turn";
      const sources = { doc: citeDoc.info.id, state_id: 1, state_position: 1000, state_page_index: 2, caught_up_tokens: 0, window_rebuilt: false, passages: given, window_pages: [] };
      const timings = { restore_ms: 12, prompt_tokens: 480, prefill_ms: 300, first_token_ms: 320, generated_tokens: 40, check_ms: 80, total_ms: 900 };
      const confidence = { mean_logprob: -0.1, min_logprob: -1.2, lift: 1.5 };
      const list = this.messages.get(chat) ?? [];
      const now = Date.now();
      list.push(
        { id: this.ids.message++, chat, role: "user", content: question.text, citations: "[]", sources: "{}", created_ms: now },
        { id: this.ids.message++, chat, role: "assistant", content: text, citations: JSON.stringify(citations), sources: JSON.stringify(sources), created_ms: now },
      );
      this.messages.set(chat, list);
      const info = this.chats.find((c) => c.id === chat);
      if (info) info.message_count = list.length;
      if (corpus) {
        return {
          chat,
          choice,
          answer: {
            from: "library",
            scope: "corpus",
            text,
            citations,
            dropped: [],
            unsupported: [],
            documents: [{ document: { number: 1, doc: citeDoc.info.id, title: citeDoc.info.title, score: 9 }, answer: { text, citations, dropped: [], unsupported: [], withheld: null, relocated: null, confidence, sources, timings, stop } }],
            first_token_ms: 300,
            total_ms: 900,
            stop,
          },
        };
      }
      return { chat, choice, answer: { from: "library", scope: "document", text, citations, dropped: [], unsupported: [], withheld: null, relocated: null, confidence, sources, timings, stop } };
    } finally {
      this.answering = false;
    }
  }

  // ----- search -----

  private search(query: string, limit: number): SearchHit[] {
    const words = query.toLowerCase().split(/\s+/).filter((w) => w.length > 1);
    if (words.length === 0) throw "the query has no words to search for";
    const hits: SearchHit[] = [];
    for (const d of this.docs.values()) {
      d.fixture.pages.forEach((text, i) => {
        const lower = text.toLowerCase();
        const at = words.map((w) => lower.indexOf(w)).filter((x) => x >= 0);
        if (at.length === 0) return;
        const from = Math.max(0, Math.min(...at) - 40);
        const snippet = text.slice(from, from + 180).replace(/\s+/g, " ");
        const highlights: [number, number][] = [];
        const sl = snippet.toLowerCase();
        for (const w of words) {
          for (let k = sl.indexOf(w); k >= 0; k = sl.indexOf(w, k + w.length)) {
            highlights.push([bytesOf(snippet.slice(0, k)), bytesOf(snippet.slice(0, k + w.length))]);
          }
        }
        highlights.sort((a, b) => a[0] - b[0]);
        hits.push({ title: d.info.title, doc: d.info.id, page_index: i, page_label: this.label(d, i), score: at.length * 2.5, snippet, highlights });
      });
    }
    return hits.sort((a, b) => (b.score ?? 0) - (a.score ?? 0)).slice(0, limit);
  }

  // ----- the command handler -----

  async handle(cmd: string, args: Record<string, unknown> = {}): Promise<unknown> {
    const loggable: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(args)) loggable[k] = v && typeof v === "object" && "id" in (v as object) && k.startsWith("on") ? "[Channel]" : v;
    this.calls.push({ cmd, args: loggable });
    switch (cmd) {
      case "library_overview": {
        const collections: CollectionInfo[] = this.collections.map((c) => ({
          id: c.id,
          name: c.name,
          documents: c.docs.size,
          members: [...c.docs].sort((a, b) => a - b),
        }));
        return {
          documents: [...this.docs.values()].map((d) => this.summary(d)),
          collections,
          jobs: [...this.jobs].sort((a, b) => b.id - a.id).map((j) => ({ ...j })),
          reading: this.reading,
        };
      }
      case "document_details": {
        const d = this.doc(args.doc);
        const details: DocumentDetails = {
          document: d.info,
          memory: this.summary(d).memory,
          pages: d.fixture.pages.map((text, i) => ({
            index: i,
            number: i + 1,
            label: this.label(d, i),
            locator: (d.info.format === "pdf" ? { kind: "pdf", page_index: i } : { kind: "section", line_first: 1, line_last: 2, heading: null }) as DocumentDetails["pages"][number]["locator"],
            tokens: null,
            chars: text.length,
          })),
          states: [],
          storage: { doc: d.info.id, pages: d.fixture.pages.length, text_bytes: 0, locator_bytes: 0, index_bytes: 0, states: 1, state_raw_bytes: 0, state_stored_bytes: d.memoryBytes },
          passages: d.fixture.pages.length,
        };
        return details;
      }
      case "page_text": {
        const d = this.doc(args.doc);
        const text = d.fixture.pages[Number(args.pageIndex)];
        if (text === undefined) throw `the document has no page ${Number(args.pageIndex) + 1}`;
        return text;
      }
      case "page_index": {
        const d = this.doc(args.doc);
        const i = d.fixture.pages.findIndex((_, k) => this.label(d, k) === args.label);
        if (i < 0) throw `the document has no page "${String(args.label)}"`;
        return i;
      }
      case "add_paths": {
        const paths = (args.paths as string[]) ?? [];
        const files: string[] = [];
        for (const p of paths) {
          if (this.config.fixtures[p]) files.push(p);
          else {
            const dir = p.endsWith("/") ? p : `${p}/`;
            files.push(...Object.keys(this.config.fixtures).filter((f) => f.startsWith(dir)));
          }
        }
        if (files.length === 0) throw "no supported files found (extensions: pdf, epub, txt, text, md, markdown, html, htm, xhtml, docx)";
        const ids = files.map((f) => {
          const id = this.ids.job++;
          this.jobs.push(this.job(id, f, null, "queued"));
          return id;
        });
        const collection = args.collection as string | null;
        if (collection) this.ensureCollection(collection);
        this.startReading();
        return ids;
      }
      case "cancel_reading": {
        if (!this.reading) return false;
        this.cancelReading = true;
        this.release();
        return true;
      }
      case "resume_reading": {
        let n = 0;
        for (const j of this.jobs) {
          if (j.state === "cancelled" || j.state === "failed") {
            j.state = "queued";
            j.error = null;
            n += 1;
          }
        }
        this.startReading();
        return n;
      }
      case "remove_document": {
        const d = this.doc(args.doc);
        this.docs.delete(d.info.id);
        for (const c of this.collections) c.docs.delete(d.info.id);
        this.chats = this.chats.filter((c) => !(c.scope === "document" && c.doc === d.info.id));
        return null;
      }
      case "reread": {
        const d = this.doc(args.doc);
        const id = this.ids.job++;
        this.jobs.push(this.job(id, d.info.source_path, null, "queued"));
        this.startReading();
        return id;
      }
      case "search":
        return this.search(String(args.query ?? ""), Number(args.limit ?? 50));
      case "add_to_collection": {
        const c = this.ensureCollection(String(args.name));
        for (const d of args.docs as number[]) c.docs.add(d);
        return { id: c.id, name: c.name, documents: c.docs.size };
      }
      case "remove_from_collection": {
        const c = this.collections.find((x) => x.name === args.name);
        if (!c) throw `no collection named "${String(args.name)}"`;
        for (const d of args.docs as number[]) c.docs.delete(d);
        return { id: c.id, name: c.name, documents: c.docs.size };
      }
      case "delete_collection": {
        this.collections = this.collections.filter((c) => c.name !== args.name);
        return null;
      }
      case "rename_collection": {
        const c = this.collections.find((x) => x.name === args.from);
        if (!c) throw `no collection named "${String(args.from)}"`;
        c.name = String(args.to);
        return { id: c.id, name: c.name, documents: c.docs.size };
      }
      case "ask":
        return this.ask(args.question as never, args.onEvent);
      case "stop_answer": {
        const was = this.answering;
        this.stopAnswer = true;
        return was;
      }
      case "chats":
        return this.chats.map((c) => ({ ...c }));
      case "chat_messages":
        return this.messages.get(Number(args.chat)) ?? [];
      case "export_chat": {
        if (!this.chats.some((c) => c.id === Number(args.chat))) throw `no chat ${String(args.chat)}`;
        this.exported.push({ chat: Number(args.chat), path: String(args.path) });
        return null;
      }
      case "remove_chat": {
        this.chats = this.chats.filter((c) => c.id !== Number(args.chat));
        this.messages.delete(Number(args.chat));
        return null;
      }
      case "models":
        return this.models.map((m) => ({ ...m }));
      case "fetch_model": {
        const m = this.models.find((x) => x.id === args.id);
        if (!m) throw `unknown model "${String(args.id)}"`;
        const steps: FetchProgress[] = [{ event: "downloading", parts: 4 }];
        for (let p = 1; p <= 4; p += 1) steps.push({ event: "assembled", part: p, parts: 4 });
        const path = `/home/reader/.cache/seahorse/models/${m.id}-q8_0.gguf`;
        steps.push({ event: "ready", path });
        let i = 0;
        for (const s of steps) {
          await sleep(this.config.tick * 2);
          this.send(args.onProgress, i++, s);
          if (s.event === "assembled" && s.part === 2 && this.config.holdAt !== null && !this.holdUsed) {
            await new Promise<void>((resolve) => {
              this.held = resolve;
            });
          }
        }
        m.path = path;
        return path;
      }
      case "add_model": {
        const path = String(args.path);
        if (!path.endsWith(".gguf")) throw `${path} is not a GGUF file`;
        const id = (path.split("/").pop() ?? "model").replace(/\.gguf$/, "").toLowerCase();
        const entry: ModelEntry = { id, description: `added GGUF ${path}`, added: true, path, size: 990_000_000, shipped_block: false, active: true };
        for (const m of this.models) m.active = false;
        this.models.push(entry);
        this.settings = { ...this.settings, model: id, local_models: [...this.settings.local_models, { id, path }] };
        return entry;
      }
      case "add_block": {
        const path = String(args.path);
        const model = (args.model as string | null) ?? this.settings.model;
        const stem = (path.split("/").pop() ?? "ahn").replace(/\.gguf$/, "");
        const out = `/home/reader/.cache/seahorse/models/added-blocks/${model}.${stem}.ahn.gguf`;
        this.settings = { ...this.settings, model, block: { kind: "file", path: out } };
        return out;
      }
      case "settings":
        return structuredClone(this.settings);
      case "update_settings": {
        const s = args.settings as Settings;
        if (!(s.reading.window >= 1)) throw "the window (W) must hold at least one token";
        if (!this.models.some((m) => m.id === s.model)) throw `unknown model "${s.model}"`;
        this.settings = structuredClone(s);
        for (const m of this.models) m.active = m.id === s.model;
        return structuredClone(this.settings);
      }
      case "memory_estimate": {
        const m = this.models.find((x) => x.id === args.model);
        if (!m) throw `unknown model "${String(args.model)}"`;
        const window = Number(args.window);
        const sinks = Number(args.sinks);
        const cache = (window + sinks + 1) * 24 * 2 * 128 * 2 * 2 + 18_000_000;
        return m.path
          ? { model_bytes: m.size, cache_bytes: cache, total_bytes: m.size + cache, model_present: true }
          : { model_bytes: m.size, cache_bytes: 0, total_bytes: m.size, model_present: false };
      }
      case "plugin:dialog|open":
        return this.nextOpen.length > 0 ? this.nextOpen.shift() : null;
      case "plugin:dialog|save":
        return this.nextSave;
      default:
        throw `unknown command ${cmd}`;
    }
  }

  private ensureCollection(name: string) {
    let c = this.collections.find((x) => x.name === name);
    if (!c) {
      c = { id: this.ids.collection++, name, docs: new Set() };
      this.collections.push(c);
      this.collections.sort((a, b) => a.name.localeCompare(b.name));
    }
    return c;
  }
}

declare global {
  interface Window {
    __SEAHORSE_MOCK_CONFIG__?: MockConfig;
    __seahorseMock?: Mock;
  }
}

const config = window.__SEAHORSE_MOCK_CONFIG__ ?? { firstRun: false, fixtures: {} };
const mock = new Mock(config);
window.__seahorseMock = mock;
mockWindows("main");
// As on Windows: `convertFileSrc(id, "doc")` = `http://doc.localhost/<id>`, which the harness serves.
mockConvertFileSrc("windows");
mockIPC((cmd, args) => mock.handle(cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
