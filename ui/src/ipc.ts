// The one module that talks to the Rust side: commands, the reading event, drag and drop,
// and the dialog plugin. Everything else imports from here, never from `./bindings` or
// `@tauri-apps/*`, so that the generated bindings replace the placeholder by touching only
// this file.

import { Channel, convertFileSrc } from "@tauri-apps/api/core";
import type { UnlistenFn } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { open, save } from "@tauri-apps/plugin-dialog";
import { commands, events } from "./bindings";
// What Rust sends is typed by the `_Serialize` variants, what it accepts by `_Deserialize`;
// the rest of the UI sees one clean name per type.
import type {
  AnswerEvent_Deserialize,
  AnswerEvent_Serialize as AnswerEvent,
  Answered_Serialize as Answered,
  ChatId,
  ChatInfo_Serialize as ChatInfo,
  CollectionInfo,
  DocId,
  DocumentDetails_Serialize as DocumentDetails,
  FetchProgress,
  JobId,
  LibraryOverview_Serialize as LibraryOverview,
  MemoryEstimate,
  MessageInfo,
  ModelEntry_Serialize as ModelEntry,
  ModelRecommendation_Serialize as ModelRecommendation,
  QuestionArgs_Deserialize as QuestionArgs,
  ReadingEvent_Serialize as ReadingEvent,
  SearchHit,
  Settings_Serialize as Settings,
} from "./bindings";

export type {
  Answer_Serialize as Answer,
  AnswerEvent_Serialize as AnswerEvent,
  Answered_Serialize as Answered,
  BlockChoice,
  ChatId,
  ChatInfo_Serialize as ChatInfo,
  Choice_Serialize as Choice,
  Citation_Serialize as Citation,
  CitablePage,
  CollectionInfo,
  CorpusAnswer_Serialize as CorpusAnswer,
  DocId,
  DocumentDetails_Serialize as DocumentDetails,
  DocumentInfo_Serialize as DocumentInfo,
  DocumentSummary_Serialize as DocumentSummary,
  Duration,
  FetchProgress,
  GivenPassage_Serialize as GivenPassage,
  IngestEvent_Serialize as IngestEvent,
  JobId,
  JobInfo_Serialize as JobInfo,
  JobState,
  LibraryOverview_Serialize as LibraryOverview,
  MemoryEstimate,
  MemoryState,
  MessageInfo,
  ModelEntry_Serialize as ModelEntry,
  ModelRecommendation_Serialize as ModelRecommendation,
  PageSummary_Serialize as PageSummary,
  PassageRef,
  QuestionArgs_Deserialize as QuestionArgs,
  RankedDocument,
  ReadingEvent_Serialize as ReadingEvent,
  ReadingSettings_Serialize as ReadingSettings,
  Reply_Serialize as Reply,
  Scope,
  SearchHit,
  Settings_Serialize as Settings,
} from "./bindings";

type Result<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

/** A command's error: the backend's message, shown as is. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommandError";
  }
}

/** The message of anything thrown, for showing to a person. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === "string") return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}

async function unwrap<T>(call: Promise<Result<T, string>>): Promise<T> {
  const result = await call;
  if (result.status === "error") throw new CommandError(errorText(result.error));
  return result.data;
}

/** Where the `doc:` protocol serves a document's original file. */
export function documentUrl(doc: DocId): string {
  return convertFileSrc(String(doc), "doc");
}

/** The extensions the library picks up (`SUPPORTED_EXTENSIONS` on the Rust side). */
export const DOCUMENT_EXTENSIONS = ["pdf", "epub", "txt", "text", "md", "markdown", "html", "htm", "xhtml", "docx"];

export const api = {
  libraryOverview: (): Promise<LibraryOverview> => unwrap(commands.libraryOverview()),
  documentDetails: (doc: DocId): Promise<DocumentDetails> => unwrap(commands.documentDetails(doc)),
  pageText: (doc: DocId, pageIndex: number): Promise<string> => unwrap(commands.pageText(doc, pageIndex)),
  /**
   * The original file, for pdf.js, from the app's `doc:` protocol (`doc://localhost/<id>`,
   * `http://doc.localhost/<id>` on Windows); a refusal's body says why.
   */
  documentBytes: async (doc: DocId): Promise<Uint8Array> => {
    const response = await fetch(documentUrl(doc));
    if (!response.ok) {
      const reason = (await response.text().catch(() => "")).trim();
      throw new CommandError(reason || `the document's file cannot be read (${response.status})`);
    }
    return new Uint8Array(await response.arrayBuffer());
  },
  addPaths: (paths: string[], collection: string | null = null): Promise<JobId[]> =>
    unwrap(commands.addPaths(paths, collection)),
  cancelReading: (): Promise<boolean> => unwrap(commands.cancelReading()),
  resumeReading: (): Promise<number> => unwrap(commands.resumeReading()),
  removeDocument: async (doc: DocId): Promise<void> => {
    await unwrap(commands.removeDocument(doc));
  },
  reread: (doc: DocId): Promise<JobId> => unwrap(commands.reread(doc)),
  search: (query: string, limit = 50): Promise<SearchHit[]> => unwrap(commands.search(query, limit)),
  addToCollection: (name: string, docs: DocId[]): Promise<CollectionInfo> =>
    unwrap(commands.addToCollection(name, docs)),
  removeFromCollection: (name: string, docs: DocId[]): Promise<CollectionInfo> =>
    unwrap(commands.removeFromCollection(name, docs)),
  deleteCollection: async (name: string): Promise<void> => {
    await unwrap(commands.deleteCollection(name));
  },
  renameCollection: (from: string, to: string): Promise<CollectionInfo> =>
    unwrap(commands.renameCollection(from, to)),
  /** Asks; `onEvent` receives the streamed events in order, then the promise resolves. */
  ask: (question: QuestionArgs, onEvent: (event: AnswerEvent) => void): Promise<Answered> => {
    const channel = new Channel<AnswerEvent>();
    channel.onmessage = onEvent;
    return unwrap(commands.ask(question, channel as unknown as Channel<AnswerEvent_Deserialize>));
  },
  stopAnswer: (): Promise<boolean> => unwrap(commands.stopAnswer()),
  chats: (): Promise<ChatInfo[]> => unwrap(commands.chats()),
  chatMessages: (chat: ChatId): Promise<MessageInfo[]> => unwrap(commands.chatMessages(chat)),
  exportChat: async (chat: ChatId, path: string): Promise<void> => {
    await unwrap(commands.exportChat(chat, path));
  },
  removeChat: async (chat: ChatId): Promise<void> => {
    await unwrap(commands.removeChat(chat));
  },
  models: (): Promise<ModelEntry[]> => unwrap(commands.models()),
  fetchModel: (id: string, onProgress: (p: FetchProgress) => void): Promise<string> => {
    const channel = new Channel<FetchProgress>();
    channel.onmessage = onProgress;
    return unwrap(commands.fetchModel(id, channel));
  },
  addModel: (path: string): Promise<ModelEntry> => unwrap(commands.addModel(path)),
  addBlock: (path: string, model: string | null = null): Promise<string> => unwrap(commands.addBlock(path, model)),
  settings: (): Promise<Settings> => unwrap(commands.settings()),
  updateSettings: (settings: Settings): Promise<Settings> => unwrap(commands.updateSettings(settings)),
  memoryEstimate: (model: string, window: number, sinks: number): Promise<MemoryEstimate> =>
    unwrap(commands.memoryEstimate(model, window, sinks)),
  modelRecommendation: (): Promise<ModelRecommendation> => unwrap(commands.modelRecommendation()),
};

export type Api = typeof api;

/** Reading progress from the worker (the `reading-update` event). */
export function onReading(handler: (event: ReadingEvent) => void): Promise<UnlistenFn> {
  return events.readingUpdate.listen((e) => handler(e.payload));
}

export type DragDrop = { type: "enter"; paths: string[] } | { type: "over" } | { type: "drop"; paths: string[] } | { type: "leave" };

/** Files and folders dragged over or dropped on the window (Tauri's webview event). */
export function onDragDrop(handler: (event: DragDrop) => void): Promise<UnlistenFn> {
  return getCurrentWebview().onDragDropEvent((e) => {
    const p = e.payload;
    if (p.type === "enter") handler({ type: "enter", paths: p.paths });
    else if (p.type === "over") handler({ type: "over" });
    else if (p.type === "drop") handler({ type: "drop", paths: p.paths });
    else handler({ type: "leave" });
  });
}

function paths(picked: string | string[] | null): string[] {
  if (picked === null) return [];
  return Array.isArray(picked) ? picked : [picked];
}

/** Native dialogs (the dialog plugin). Each returns [] / null when cancelled. */
export const dialogs = {
  documents: async (): Promise<string[]> =>
    paths(
      await open({
        multiple: true,
        directory: false,
        title: "Add documents",
        filters: [{ name: "Documents", extensions: DOCUMENT_EXTENSIONS }],
      }),
    ),
  folders: async (): Promise<string[]> =>
    paths(await open({ multiple: true, directory: true, title: "Add folders of documents" })),
  gguf: async (title = "Choose a Qwen2 GGUF model"): Promise<string | null> =>
    paths(await open({ multiple: false, directory: false, title, filters: [{ name: "GGUF", extensions: ["gguf"] }] }))[0] ??
    null,
  checkpointFolder: async (): Promise<string | null> =>
    paths(await open({ multiple: false, directory: true, title: "Choose an official AHN checkpoint folder" }))[0] ?? null,
  saveMarkdown: async (defaultPath: string): Promise<string | null> =>
    save({ title: "Export chat", defaultPath, filters: [{ name: "Markdown", extensions: ["md"] }] }),
};
