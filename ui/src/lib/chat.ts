// The chat pane's state: turns of a conversation, the answer being streamed (its text, what
// it consulted), and how stored messages become turns again.

import type { AnswerEvent, Answered, Citation, GivenPassage, MessageInfo, PassageRef, RankedDocument } from "../ipc";
import { parseStoredCitations, passagesFrom } from "./citations";

export type TurnStatus = "streaming" | "done" | "stopped" | "error";

export type Turn = {
  id: string;
  role: "user" | "assistant";
  text: string;
  /** Validated citations once the answer is complete; null while streaming. */
  citations: Citation[] | null;
  status: TurnStatus;
  error: string | null;
  /** What is happening now ("Restoring the memory…"); null when nothing to say. */
  activity: string | null;
  /** The passages placed in the window, as streamed. */
  passages: PassageRef[];
  /** The passages with their text (from the finished answer or stored sources). */
  given: GivenPassage[];
  /** A corpus answer's documents, best first. */
  ranked: RankedDocument[];
  consulted: RankedDocument[];
  skipped: { title: string; reason: string }[];
  /** "Restored the memory of pages 1–212" etc. */
  restored: { pageIndex: number; isFinal: boolean } | null;
  /** Another model answers (the one that built this document's memory). */
  usingMemoryOf: string | null;
  /** The document a one-document answer is about (resolves streamed citations). */
  doc: number | null;
  stop: string | null;
  /** The model's own answer when Seahorse withheld it (it named figures the passages do
   *  not contain, or only repeated the question); `text` then says the passages do not say. */
  withheld: string | null;
  /** The model's own answer to a "which section" question when Seahorse named the section
   *  of the passage holding the question's words instead (from the document's outline). */
  relocated: string | null;
};

export type ChatState = {
  chat: number | null;
  turns: Turn[];
  busy: boolean;
};

export const emptyChat: ChatState = { chat: null, turns: [], busy: false };

export type ChatAction =
  | { type: "reset" }
  | { type: "load"; chat: number; messages: MessageInfo[]; doc: number | null }
  | { type: "ask"; text: string; doc: number | null }
  | { type: "event"; event: AnswerEvent }
  | { type: "answered"; answered: Answered }
  | { type: "failed"; error: string };

let counter = 0;
const nextId = () => `t${++counter}`;

function blankTurn(role: Turn["role"], text: string, status: TurnStatus, doc: number | null): Turn {
  return {
    id: nextId(),
    role,
    text,
    citations: role === "user" ? [] : null,
    status,
    error: null,
    activity: null,
    passages: [],
    given: [],
    ranked: [],
    consulted: [],
    skipped: [],
    restored: null,
    usingMemoryOf: null,
    doc,
    stop: null,
    withheld: null,
    relocated: null,
  };
}

function updateLast(state: ChatState, change: (t: Turn) => Turn): ChatState {
  const i = state.turns.length - 1;
  const last = state.turns[i];
  if (!last || last.role !== "assistant") return state;
  const turns = state.turns.slice();
  turns[i] = change(last);
  return { ...state, turns };
}

function describeChoice(choice: { model: string; reading: { window: number; sinks: number } }): string {
  return `${choice.model} (W=${choice.reading.window}, S=${choice.reading.sinks})`;
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "reset":
      return emptyChat;
    case "load":
      return {
        chat: action.chat,
        busy: false,
        turns: action.messages.map((m) => {
          const t = blankTurn(m.role, m.content, "done", action.doc);
          t.citations = m.role === "assistant" ? parseStoredCitations(m.citations) : [];
          t.given = m.role === "assistant" ? passagesFrom(m.sources) : [];
          return t;
        }),
      };
    case "ask": {
      const assistant = blankTurn("assistant", "", "streaming", action.doc);
      assistant.activity = "Starting…";
      return { ...state, busy: true, turns: [...state.turns, blankTurn("user", action.text, "done", action.doc), assistant] };
    }
    case "event":
      return updateLast(state, (t) => applyEvent(t, action.event));
    case "answered": {
      const a = action.answered;
      const next = updateLast({ ...state, chat: a.chat ?? state.chat, busy: false }, (t) => {
        const reply = a.answer;
        const done: Turn = { ...t, activity: null, status: "done" };
        if (reply.from === "model") {
          return { ...done, text: reply.text, citations: [], stop: reply.stop, status: reply.stop === "cancelled" ? "stopped" : "done" };
        }
        return {
          ...done,
          text: reply.text,
          citations: reply.citations,
          given: passagesFrom(reply),
          withheld: reply.scope === "document" ? (reply.withheld?.text ?? null) : null,
          relocated: reply.scope === "document" ? (reply.relocated?.model_text ?? null) : null,
          stop: reply.stop,
          status: reply.stop === "cancelled" ? "stopped" : "done",
        };
      });
      return next;
    }
    case "failed":
      return updateLast({ ...state, busy: false }, (t) => ({ ...t, status: "error", error: action.error, activity: null, citations: t.citations ?? [] }));
  }
}

function applyEvent(t: Turn, e: AnswerEvent): Turn {
  switch (e.kind) {
    case "fetch":
      return { ...t, activity: "Fetching the model…" };
    case "using_memory_of":
      return { ...t, usingMemoryOf: describeChoice(e.choice), activity: "Loading the model that read this document…" };
    case "restored":
      return { ...t, restored: { pageIndex: e.page_index, isFinal: e.is_final }, activity: "Memory restored; finding passages…" };
    case "catching_up":
      return { ...t, activity: `Reading up to the page you chose: ${Math.floor((e.done / Math.max(1, e.total)) * 100)} %` };
    case "passages":
      return { ...t, passages: e.passages, activity: `Reading ${e.passages.length} passage${e.passages.length === 1 ? "" : "s"}…` };
    case "prefill":
      return { ...t, activity: `Reading the question: ${Math.floor((e.done / Math.max(1, e.total)) * 100)} %` };
    case "ranked":
      return { ...t, ranked: e.documents, activity: e.documents.length ? `Consulting ${e.documents.length} document${e.documents.length === 1 ? "" : "s"}…` : "No document matches the question" };
    case "consulting":
      return { ...t, consulted: [...t.consulted, e.document], activity: `Consulting “${e.document.title}”…` };
    case "skipped":
      return { ...t, skipped: [...t.skipped, { title: e.document.title, reason: e.reason }] };
    case "text":
      return { ...t, text: t.text + e.text, activity: null };
    default:
      return t;
  }
}

/** One line on what an answer was built from (shown under it). */
export function consultedSummary(t: Turn, titleOf: (doc: number) => string | undefined): string | null {
  const parts: string[] = [];
  if (t.usingMemoryOf) parts.push(`answered with ${t.usingMemoryOf}, the model that read it`);
  if (t.consulted.length > 0 || t.ranked.length > 0) {
    const docs = (t.consulted.length > 0 ? t.consulted : t.ranked).map((d) => `“${d.title}”`);
    parts.push(`consulted ${docs.join(", ")}`);
  }
  if (t.restored) {
    const title = t.doc !== null ? titleOf(t.doc) : undefined;
    parts.push(
      t.restored.isFinal
        ? `the memory of ${title ? `“${title}”` : "the whole document"}`
        : `the memory up to page ${t.restored.pageIndex + 1}`,
    );
  }
  const passageCount = t.passages.length || t.given.length;
  if (passageCount > 0) parts.push(`${passageCount} passage${passageCount === 1 ? "" : "s"}`);
  for (const s of t.skipped) parts.push(`skipped “${s.title}” (${s.reason})`);
  if (parts.length === 0) return null;
  const text = parts.join(" + ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
