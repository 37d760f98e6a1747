import { forwardRef, useEffect, useId, useMemo, useRef, useState } from "react";
import type { ChatInfo, CollectionInfo, DocumentSummary, Scope } from "../ipc";
import { chipLabel, citedSentence, segmentAnswer, streamResolver, type ChipPage } from "../lib/citations";
import { consultedSummary, type ChatState, type Turn } from "../lib/chat";
import { formatDate } from "../lib/format";

const MEMORY_WORDS: Record<DocumentSummary["memory"]["state"], string> = {
  read: "read",
  partly_read: "partly read",
  other_model: "read with another model",
  not_read: "not read yet",
};

export type ScopeOption = { value: string; label: string; scope: Scope };

export function scopeKey(scope: Scope): string {
  switch (scope.kind) {
    case "document":
      return `document:${scope.value}`;
    case "collection":
      return `collection:${scope.value}`;
    default:
      return scope.kind;
  }
}

export function scopeOptions(documents: DocumentSummary[], collections: CollectionInfo[]): ScopeOption[] {
  return [
    ...documents.map((d) => ({
      value: `document:${d.document.id}`,
      label: d.memory.state === "read" ? d.document.title : `${d.document.title} (${MEMORY_WORDS[d.memory.state]})`,
      scope: { kind: "document", value: d.document.id } as Scope,
    })),
    ...collections.map((c) => ({
      value: `collection:${c.name}`,
      label: `${c.name} (collection, ${c.documents})`,
      scope: { kind: "collection", value: c.name } as Scope,
    })),
    { value: "library", label: "The whole library", scope: { kind: "library" } },
    { value: "model", label: "The model alone (no documents)", scope: { kind: "model" } },
  ];
}

export type ChatPaneProps = {
  chat: ChatState;
  chats: ChatInfo[];
  documents: DocumentSummary[];
  collections: CollectionInfo[];
  scope: Scope;
  onScope: (scope: Scope) => void;
  asOfPage: string;
  asOfEnabled: boolean;
  onAsOfPage: (label: string) => void;
  onAsOfEnabled: (on: boolean) => void;
  /** The page the reader shows for the scope's document, if it shows it. */
  readerPage: string | null;
  onAsk: (text: string) => void;
  onStop: () => void;
  onNewChat: () => void;
  onOpenChat: (chat: ChatInfo) => void;
  onExportChat: (chat: ChatInfo) => void;
  onRemoveChat: (chat: ChatInfo) => void;
  onOpenCitation: (page: ChipPage, turn: Turn, sentence: string) => void;
};

export const ChatPane = forwardRef<HTMLTextAreaElement, ChatPaneProps>(function ChatPane(props, questionRef) {
  const { chat, documents, collections, scope } = props;
  const [text, setText] = useState("");
  const [showChats, setShowChats] = useState(false);
  const options = useMemo(() => scopeOptions(documents, collections), [documents, collections]);
  const titles = useMemo(() => new Map(documents.map((d) => [d.document.id, d.document.title])), [documents]);
  const log = useRef<HTMLDivElement>(null);
  const asOfId = useId();
  const current = chat.chat !== null ? props.chats.find((c) => c.id === chat.chat) : undefined;
  const scopeDoc = scope.kind === "document" ? documents.find((d) => d.document.id === scope.value) : undefined;

  // Keep the newest text in view while it streams.
  const lastText = chat.turns[chat.turns.length - 1]?.text.length ?? 0;
  useEffect(() => {
    const el = log.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [chat.turns.length, lastText]);

  const send = () => {
    const q = text.trim();
    if (!q || chat.busy) return;
    props.onAsk(q);
    setText("");
  };

  const placeholder =
    scope.kind === "document"
      ? `Ask about “${scopeDoc?.document.title ?? "this document"}”…`
      : scope.kind === "collection"
        ? `Ask the collection “${scope.value}”…`
        : scope.kind === "library"
          ? "Ask the whole library…"
          : "Ask the model (no documents)…";

  return (
    <aside className="chat" aria-labelledby="chat-heading">
      <header className="chat-head">
        <h2 id="chat-heading">Ask</h2>
        <div className="button-row">
          <button type="button" className="small secondary" onClick={() => setShowChats((s) => !s)} aria-expanded={showChats} aria-controls="chat-list">
            Chats ({props.chats.length})
          </button>
          <button type="button" className="small secondary" onClick={props.onNewChat} disabled={chat.busy}>
            New chat
          </button>
        </div>
      </header>

      {showChats ? (
        <section id="chat-list" className="chat-list" aria-label="Saved chats">
          {props.chats.length === 0 ? (
            <p className="empty-note">No saved chats yet. Questions about documents are kept here.</p>
          ) : (
            <ul>
              {props.chats.map((c) => (
                <li key={c.id} className={c.id === chat.chat ? "chat-item current" : "chat-item"}>
                  <button
                    type="button"
                    className="link-button chat-open"
                    aria-current={c.id === chat.chat ? "true" : undefined}
                    onClick={() => {
                      props.onOpenChat(c);
                      setShowChats(false);
                    }}
                  >
                    <span className="chat-title">{c.title}</span>
                    <span className="muted small-text">
                      {chatScopeText(c, titles, collections)} · {formatDate(c.created_ms)} · {c.message_count} messages
                    </span>
                  </button>
                  <div className="button-row">
                    <button type="button" className="small secondary" onClick={() => props.onExportChat(c)} aria-label={`Export “${c.title}” as Markdown`}>
                      Export…
                    </button>
                    <button type="button" className="small danger-outline" onClick={() => props.onRemoveChat(c)} aria-label={`Delete chat “${c.title}”`}>
                      Delete…
                    </button>
                  </div>
                </li>
              ))}
            </ul>
          )}
        </section>
      ) : null}

      <div className="scope-row">
        <label htmlFor="scope-select">Ask about</label>
        <select
          id="scope-select"
          value={scopeKey(scope)}
          disabled={chat.busy}
          onChange={(e) => {
            const o = options.find((x) => x.value === e.target.value);
            if (o) props.onScope(o.scope);
          }}
        >
          {!options.some((o) => o.value === scopeKey(scope)) ? <option value={scopeKey(scope)}>(removed)</option> : null}
          {options.some((o) => o.scope.kind === "document") ? (
            <optgroup label="Documents">
              {options
                .filter((o) => o.scope.kind === "document")
                .map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
            </optgroup>
          ) : null}
          {options.some((o) => o.scope.kind === "collection") ? (
            <optgroup label="Collections">
              {options
                .filter((o) => o.scope.kind === "collection")
                .map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
            </optgroup>
          ) : null}
          <optgroup label="Everything">
            {options
              .filter((o) => o.scope.kind === "library" || o.scope.kind === "model")
              .map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
          </optgroup>
        </select>
        {scope.kind === "document" ? (
          <div className="as-of">
            <input
              type="checkbox"
              id={asOfId}
              checked={props.asOfEnabled}
              disabled={chat.busy || chat.chat !== null}
              onChange={(e) => props.onAsOfEnabled(e.target.checked)}
            />
            <label htmlFor={asOfId}>No spoilers: only up to page</label>
            <input
              className="as-of-page"
              aria-label="Last page read (printed label or number)"
              value={props.asOfPage}
              disabled={!props.asOfEnabled || chat.busy || chat.chat !== null}
              onChange={(e) => props.onAsOfPage(e.target.value)}
            />
            {props.readerPage && chat.chat === null ? (
              <button
                type="button"
                className="small secondary"
                disabled={chat.busy || chat.chat !== null}
                onClick={() => {
                  props.onAsOfEnabled(true);
                  props.onAsOfPage(props.readerPage ?? "");
                }}
              >
                Use page {props.readerPage}
              </button>
            ) : null}
          </div>
        ) : null}
        {current ? <p className="muted small-text chat-context">Continuing “{current.title}”. Change what you ask about to start a new chat.</p> : null}
      </div>

      <div className="messages" ref={log} role="log" aria-label="Conversation" aria-live="polite" aria-busy={chat.busy} tabIndex={0}>
        {chat.turns.length === 0 ? <EmptyChat scope={scope} hasDocuments={documents.length > 0} /> : null}
        {chat.turns.map((t) =>
          t.role === "user" ? (
            <div key={t.id} className="msg msg-user">
              <p className="visually-hidden">You asked:</p>
              <p className="msg-text">{t.text}</p>
            </div>
          ) : (
            <AnswerView key={t.id} turn={t} titles={titles} onOpenCitation={props.onOpenCitation} />
          ),
        )}
      </div>

      <form
        className="ask-form"
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        <label htmlFor="question" className="visually-hidden">
          Question
        </label>
        <textarea
          id="question"
          ref={questionRef}
          value={text}
          rows={3}
          placeholder={placeholder}
          aria-describedby="question-hint"
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              send();
            }
          }}
        />
        <div className="ask-actions">
          <span id="question-hint" className="muted small-text">
            Enter to ask · Shift+Enter for a new line
          </span>
          {chat.busy ? (
            <button type="button" className="danger" onClick={props.onStop}>
              Stop
            </button>
          ) : (
            <button type="submit" className="primary" disabled={!text.trim()}>
              Ask
            </button>
          )}
        </div>
      </form>
    </aside>
  );
});

function chatScopeText(c: ChatInfo, titles: Map<number, string>, collections: CollectionInfo[]): string {
  if (c.scope === "document") {
    const t = titles.get(c.doc) ?? "a removed document";
    return c.as_of_page !== null ? `${t} (as of page ${c.as_of_page + 1})` : t;
  }
  if (c.collection !== null) return `collection ${collections.find((x) => x.id === c.collection)?.name ?? "?"}`;
  return "all documents";
}

function EmptyChat(props: { scope: Scope; hasDocuments: boolean }) {
  if (!props.hasDocuments && props.scope.kind !== "model") {
    return (
      <div className="empty-chat">
        <p>Add a book or a document first: Seahorse reads it once, then answers questions about all of it, with pages.</p>
        <p className="muted">You can also ask the model alone: choose “The model alone” above.</p>
      </div>
    );
  }
  return (
    <div className="empty-chat">
      <p>Ask anything about what you have added. Answers cite their pages; select a citation to open the page.</p>
      <ul className="muted examples">
        <li>“Summarise chapter 3.”</li>
        <li>“How does the narrator’s view of Captain Wentworth change?”</li>
        <li>“List every letter mentioned, with pages.”</li>
      </ul>
    </div>
  );
}

function AnswerView(props: {
  turn: Turn;
  titles: Map<number, string>;
  onOpenCitation: (p: ChipPage, t: Turn, sentence: string) => void;
}) {
  const t = props.turn;
  const segments = useMemo(
    () =>
      t.citations !== null
        ? segmentAnswer(t.text, t.citations)
        : segmentAnswer(t.text, null, streamResolver(t.passages, t.ranked, t.doc)),
    [t.text, t.citations, t.passages, t.ranked, t.doc],
  );
  const summary = consultedSummary(t, (d) => props.titles.get(d));
  return (
    <article className={`msg msg-assistant status-${t.status}`} aria-label="Answer" data-status={t.status}>
      {t.usingMemoryOf && t.status === "streaming" ? <p className="muted small-text">Using {t.usingMemoryOf}, the model that read this document.</p> : null}
      {t.text ? (
        <div className="msg-text answer-text">
          {segments.map((s, i) =>
            s.kind === "text" ? (
              <span key={i}>{s.text}</span>
            ) : (
              <span key={i} className={s.chip.attributed ? "chip-group attributed" : "chip-group"}>
                {s.chip.pages.map((p, k) => {
                  const title = p.doc !== null ? props.titles.get(p.doc) : undefined;
                  const name = `Open page ${p.label}${title ? ` of “${title}”` : ""}${s.chip.attributed ? " (citation added by Seahorse)" : ""}`;
                  return (
                    <button
                      key={k}
                      type="button"
                      className="chip"
                      data-citation=""
                      aria-label={name}
                      title={name}
                      onClick={() => props.onOpenCitation(p, t, citedSentence(segments, i))}
                    >
                      {chipLabel(p)}
                    </button>
                  );
                })}
              </span>
            ),
          )}
          {t.status === "streaming" ? <span className="cursor" aria-hidden="true" /> : null}
        </div>
      ) : null}
      {t.status === "streaming" && t.activity ? (
        <p className="activity">
          <span className="spinner" aria-hidden="true" /> {t.activity}
        </p>
      ) : null}
      {t.status === "stopped" ? <p className="muted small-text">Stopped. The answer so far is kept.</p> : null}
      {t.status === "error" && t.error ? (
        <p className="error-box" role="alert">
          {t.error}
        </p>
      ) : null}
      {t.withheld && t.status !== "streaming" ? (
        <details className="withheld small-text">
          <summary>Show the model’s withheld answer</summary>
          <p className="muted">{t.withheld}</p>
        </details>
      ) : null}
      {t.relocated && t.status !== "streaming" ? (
        <details className="withheld small-text">
          <summary>Section named from the document’s outline; show the model’s own answer</summary>
          <p className="muted">{t.relocated}</p>
        </details>
      ) : null}
      {summary && t.status !== "error" ? <p className="consulted muted small-text">{summary}</p> : null}
      {t.text && t.status !== "streaming" ? <CopyAnswer text={t.text} /> : null}
    </article>
  );
}

/** Copies an answer (with its citations as written, e.g. "[p. 12]") to the clipboard. */
function CopyAnswer(props: { text: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const timer = setTimeout(() => setState("idle"), 2000);
    return () => clearTimeout(timer);
  }, [state]);
  return (
    <div className="answer-actions">
      <button
        type="button"
        className="small secondary"
        aria-label="Copy the answer"
        onClick={() => {
          navigator.clipboard.writeText(props.text).then(
            () => setState("copied"),
            () => setState("failed"),
          );
        }}
      >
        Copy
      </button>
      <span className="muted small-text" role="status">
        {state === "copied" ? "Copied" : state === "failed" ? "The clipboard could not be written" : ""}
      </span>
    </div>
  );
}
