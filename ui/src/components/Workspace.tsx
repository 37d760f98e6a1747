import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  api,
  dialogs,
  errorText,
  onDragDrop,
  type ChatInfo,
  type CollectionInfo,
  type DocId,
  type DocumentSummary,
  type ModelEntry,
  type Scope,
  type SearchHit,
  type Settings,
} from "../ipc";
import { passageFor, type ChipPage } from "../lib/citations";
import type { Turn } from "../lib/chat";
import { hitTerms, type HighlightSpec } from "../lib/highlight";
import { isTextEntry, shortcutFor } from "../lib/shortcuts";
import { useChat } from "../state/useChat";
import { useLibrary } from "../state/useLibrary";
import { ChatPane } from "./ChatPane";
import { DropOverlay } from "./DropOverlay";
import { ConfirmDialog, PromptDialog } from "./Modal";
import { ReaderPane, pageIndexFor, type ReaderPosition, type ReaderTarget } from "./Reader";
import { SearchBox, SearchResults, emptySearch, type SearchState } from "./Search";
import { SettingsDialog } from "./SettingsDialog";
import { ShortcutsDialog } from "./Shortcuts";
import { Sidebar } from "./Sidebar";
import { Toasts, type Toast } from "./Toasts";

type Dialog =
  | { kind: "settings" }
  | { kind: "shortcuts" }
  | { kind: "confirm"; title: string; message: string; confirm: string; action: () => Promise<void> }
  | { kind: "prompt"; title: string; label: string; initial: string; submit: string; suggestions: string[]; action: (v: string) => Promise<void> };

let toastId = 0;

export function Workspace(props: { settings: Settings; models: ModelEntry[]; onSettings: (s: Settings) => void }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const notify = useCallback((text: string, kind: Toast["kind"] = "error") => {
    const id = ++toastId;
    setToasts((t) => [...t.slice(-4), { id, kind, text }]);
    if (kind === "info") setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 6000);
  }, []);
  const { overview, reading, refresh } = useLibrary(notify);
  const chat = useChat(notify);
  const [selected, setSelected] = useState<DocId | null>(null);
  const [target, setTarget] = useState<ReaderTarget | null>(null);
  const [position, setPosition] = useState<ReaderPosition | null>(null);
  const [scope, setScopeState] = useState<Scope>({ kind: "library" });
  const [asOfEnabled, setAsOfEnabled] = useState(false);
  const [asOfPage, setAsOfPage] = useState("");
  const [search, setSearch] = useState<SearchState>(emptySearch);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [drag, setDrag] = useState<{ visible: boolean; count: number }>({ visible: false, count: 0 });
  const questionRef = useRef<HTMLTextAreaElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);

  const documents = overview?.documents ?? [];
  const collections = overview?.collections ?? [];
  const selectedDoc = documents.find((d) => d.document.id === selected) ?? null;

  // A removed document leaves the reader.
  useEffect(() => {
    if (overview && selected !== null && !overview.documents.some((d) => d.document.id === selected)) setSelected(null);
  }, [overview, selected]);

  const scopeRef = useRef(scope);
  scopeRef.current = scope;
  /** Another scope starts another chat (a chat's scope is fixed). */
  const setScope = (next: Scope) => {
    if (JSON.stringify(scopeRef.current) !== JSON.stringify(next) && chat.state.turns.length > 0) chat.reset();
    setScopeState(next);
    setAsOfEnabled(false);
    setAsOfPage("");
  };

  // ----- adding documents -----
  const addPaths = useCallback(
    async (paths: string[]) => {
      if (paths.length === 0) return;
      try {
        const jobs = await api.addPaths(paths, null);
        notify(`Added ${jobs.length} document${jobs.length === 1 ? "" : "s"}; reading starts now.`, "info");
        await refresh();
      } catch (e) {
        notify(errorText(e));
      }
    },
    [notify, refresh],
  );

  useEffect(() => {
    let unlisten: (() => void) | null = null;
    let gone = false;
    onDragDrop((e) => {
      if (e.type === "enter") setDrag({ visible: true, count: e.paths.length });
      else if (e.type === "over") setDrag((d) => (d.visible ? d : { visible: true, count: d.count }));
      else if (e.type === "leave") setDrag({ visible: false, count: 0 });
      else {
        setDrag({ visible: false, count: 0 });
        void addPaths(e.paths);
      }
    })
      .then((u) => (gone ? u() : (unlisten = u)))
      .catch((e) => notify(errorText(e)));
    return () => {
      gone = true;
      unlisten?.();
    };
  }, [addPaths, notify]);

  const pick = async (kind: "files" | "folders") => {
    try {
      const paths = kind === "files" ? await dialogs.documents() : await dialogs.folders();
      await addPaths(paths);
    } catch (e) {
      notify(errorText(e));
    }
  };

  // ----- documents and collections -----
  const openDocument = (doc: DocId) => {
    setSelected(doc);
    if (chat.state.turns.length === 0 && !chat.state.busy) setScope({ kind: "document", value: doc });
  };

  const run = async (what: () => Promise<unknown>, done?: string) => {
    try {
      await what();
      if (done) notify(done, "info");
    } catch (e) {
      notify(errorText(e));
    }
    await refresh();
  };

  const names = collections.map((c) => c.name);
  const actions = {
    onOpen: openDocument,
    onAsk: (s: Scope) => {
      setScope(s);
      chat.reset();
      if (s.kind === "document") setSelected(s.value);
      questionRef.current?.focus();
    },
    onAddFiles: () => void pick("files"),
    onAddFolders: () => void pick("folders"),
    onRemove: (d: DocumentSummary) =>
      setDialog({
        kind: "confirm",
        title: "Remove from library?",
        message: `“${d.document.title}” will be removed with its pages, its memory and its chats. The file itself stays where it is.`,
        confirm: "Remove",
        action: async () => {
          await run(() => api.removeDocument(d.document.id), `Removed “${d.document.title}”.`);
          if (scope.kind === "document" && scope.value === d.document.id) setScope({ kind: "library" });
          await chat.refreshChats();
        },
      }),
    onReread: (d: DocumentSummary) => void run(() => api.reread(d.document.id), `“${d.document.title}” will be read again.`),
    onAddToCollection: (d: DocumentSummary) =>
      setDialog({
        kind: "prompt",
        title: `Add “${d.document.title}” to a collection`,
        label: "Collection (an existing one, or a new name)",
        initial: names[0] ?? "",
        submit: "Add",
        suggestions: names,
        action: (name) => run(() => api.addToCollection(name, [d.document.id]), `Added to “${name}”.`),
      }),
    onRemoveFromCollection: (d: DocumentSummary) => {
      const holding = collections.filter((c) => c.members.includes(d.document.id)).map((c) => c.name);
      setDialog({
        kind: "prompt",
        title: `Take “${d.document.title}” out of a collection`,
        label: "Collection",
        initial: holding[0] ?? "",
        submit: "Take out",
        suggestions: holding,
        action: (name) => run(() => api.removeFromCollection(name, [d.document.id]), `Taken out of “${name}”.`),
      });
    },
    onTakeOutOfCollection: (c: CollectionInfo, doc: DocId) => {
      const title = documents.find((d) => d.document.id === doc)?.document.title ?? "The document";
      void run(() => api.removeFromCollection(c.name, [doc]), `Took “${title}” out of “${c.name}”.`);
    },
    onRenameCollection: (c: CollectionInfo) =>
      setDialog({
        kind: "prompt",
        title: `Rename collection “${c.name}”`,
        label: "New name",
        initial: c.name,
        submit: "Rename",
        suggestions: [],
        action: async (to) => {
          await run(() => api.renameCollection(c.name, to));
          if (scope.kind === "collection" && scope.value === c.name) setScopeState({ kind: "collection", value: to });
        },
      }),
    onDeleteCollection: (c: CollectionInfo) =>
      setDialog({
        kind: "confirm",
        title: "Delete collection?",
        message: `The collection “${c.name}” will be deleted. Its ${c.documents} document${c.documents === 1 ? "" : "s"} stay in the library.`,
        confirm: "Delete collection",
        action: async () => {
          await run(() => api.deleteCollection(c.name), `Deleted the collection “${c.name}”.`);
          if (scope.kind === "collection" && scope.value === c.name) setScope({ kind: "library" });
        },
      }),
    onCancelReading: () => void run(() => api.cancelReading(), "Reading pauses after the current chunk; resume continues from there."),
    onResumeReading: () =>
      void run(async () => {
        const n = await api.resumeReading();
        notify(n > 0 ? `Resuming ${n} document${n === 1 ? "" : "s"}.` : "Resuming the queue.", "info");
      }),
  };

  // ----- search -----
  const runSearch = async (query: string) => {
    setSearch({ query, hits: null, error: null, busy: true, open: true });
    try {
      const hits = await api.search(query, 50);
      setSearch({ query, hits, error: null, busy: false, open: true });
    } catch (e) {
      setSearch({ query, hits: [], error: errorText(e), busy: false, open: true });
    }
  };
  const openHit = (hit: SearchHit) => {
    setSelected(hit.doc);
    setTarget({ doc: hit.doc, pageIndex: hit.page_index, highlight: { kind: "terms", terms: hitTerms(hit.snippet, hit.highlights) }, nonce: Date.now() });
    setSearch((s) => ({ ...s, open: false }));
  };

  // ----- citations -----
  const openCitation = async (page: ChipPage, turn: Turn, sentence: string) => {
    const doc = page.doc ?? turn.doc ?? (scope.kind === "document" ? scope.value : null);
    if (doc === null) {
      notify(`Cannot tell which document page ${page.label} belongs to.`);
      return;
    }
    let pageIndex = page.pageIndex;
    if (pageIndex === null) {
      try {
        pageIndex = pageIndexFor((await api.documentDetails(doc)).pages, page.label);
      } catch (e) {
        notify(errorText(e));
        return;
      }
    }
    if (pageIndex === null) {
      notify(`The document has no page ${page.label}.`);
      return;
    }
    const passage = passageFor(turn.given, doc, pageIndex);
    setSelected(doc);
    // A page given as a passage shows the passage; a page the memory's window held (no
    // passage) shows its sentence that supports the cited one.
    const highlight: HighlightSpec | null = passage
      ? { kind: "passage", text: passage }
      : sentence
        ? { kind: "support", sentence }
        : null;
    setTarget({ doc, pageIndex, highlight, nonce: Date.now() });
  };

  // ----- keyboard -----
  const state = useRef({ busy: chat.state.busy, dialog, searchOpen: search.open });
  state.current = { busy: chat.state.busy, dialog, searchOpen: search.open };
  const stop = chat.stop;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (state.current.dialog) return;
      const action = shortcutFor(e, isTextEntry(document.activeElement));
      if (!action) return;
      switch (action) {
        case "focus-question":
          e.preventDefault();
          questionRef.current?.focus();
          break;
        case "focus-search":
          e.preventDefault();
          searchRef.current?.focus();
          searchRef.current?.select();
          break;
        case "next-citation":
        case "previous-citation": {
          const chips = Array.from(document.querySelectorAll<HTMLButtonElement>(".messages [data-citation]"));
          if (chips.length === 0) return;
          e.preventDefault();
          const at = chips.indexOf(document.activeElement as HTMLButtonElement);
          const next =
            action === "next-citation" ? (at < 0 ? 0 : Math.min(chips.length - 1, at + 1)) : at < 0 ? chips.length - 1 : Math.max(0, at - 1);
          const chip = chips[next];
          chip?.focus();
          chip?.click();
          break;
        }
        case "escape":
          if (state.current.busy) {
            e.preventDefault();
            void stop();
          } else if (state.current.searchOpen) {
            e.preventDefault();
            setSearch((s) => ({ ...s, open: false }));
          }
          break;
        case "help":
          e.preventDefault();
          setDialog({ kind: "shortcuts" });
          break;
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [stop]);

  const readerPage = position && scope.kind === "document" && position.doc === scope.value ? position.label : null;
  const titleById = useMemo(() => new Map(documents.map((d) => [d.document.id, d.document.title])), [documents]);

  return (
    <div className="app">
      <a href="#question" className="skip-link">
        Skip to the question
      </a>
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            ◗
          </span>
          <span className="brand-name">Seahorse</span>
        </div>
        <SearchBox ref={searchRef} onSearch={runSearch} onEscape={() => setSearch((s) => ({ ...s, open: false }))} />
        <div className="button-row">
          <button type="button" className="secondary small" onClick={() => setDialog({ kind: "settings" })}>
            Settings
          </button>
          <button type="button" className="icon-button" aria-label="Keyboard shortcuts" onClick={() => setDialog({ kind: "shortcuts" })}>
            <span aria-hidden="true">?</span>
          </button>
        </div>
      </header>
      <div className="panes">
        <Sidebar overview={overview} reading={reading} selectedDoc={selected} {...actions} />
        <main className="center" id="main">
          <SearchResults search={search} onOpen={openHit} onClose={() => setSearch((s) => ({ ...s, open: false }))} />
          <ReaderPane
            doc={selectedDoc}
            target={target}
            onPosition={setPosition}
            onError={notify}
            empty={<ReaderEmpty hasDocuments={documents.length > 0} onAddFiles={actions.onAddFiles} onAddFolders={actions.onAddFolders} />}
          />
        </main>
        <ChatPane
          ref={questionRef}
          chat={chat.state}
          chats={chat.chats}
          documents={documents}
          collections={collections}
          scope={scope}
          onScope={setScope}
          asOfPage={asOfPage}
          asOfEnabled={asOfEnabled}
          onAsOfPage={setAsOfPage}
          onAsOfEnabled={setAsOfEnabled}
          readerPage={readerPage}
          onAsk={(text) => void chat.ask(text, scope, asOfEnabled && asOfPage.trim() ? asOfPage.trim() : null)}
          onStop={() => void chat.stop()}
          onNewChat={() => chat.reset()}
          onOpenChat={(c: ChatInfo) => {
            setScopeState(
              c.scope === "document"
                ? { kind: "document", value: c.doc }
                : c.collection !== null
                  ? { kind: "collection", value: collections.find((x) => x.id === c.collection)?.name ?? "" }
                  : { kind: "library" },
            );
            if (c.scope === "document" && titleById.has(c.doc)) setSelected(c.doc);
            void chat.open(c);
          }}
          onExportChat={(c) => void chat.exportChat(c)}
          onRemoveChat={(c) =>
            setDialog({
              kind: "confirm",
              title: "Delete chat?",
              message: `The chat “${c.title}” and its ${c.message_count} messages will be deleted.`,
              confirm: "Delete chat",
              action: () => chat.remove(c),
            })
          }
          onOpenCitation={(p, t, sentence) => void openCitation(p, t, sentence)}
        />
      </div>
      <DropOverlay visible={drag.visible} count={drag.count} />
      <Toasts toasts={toasts} onDismiss={(id) => setToasts((t) => t.filter((x) => x.id !== id))} />
      {dialog?.kind === "settings" ? (
        <SettingsDialog
          settings={props.settings}
          models={props.models}
          onClose={() => setDialog(null)}
          onSaved={(s) => {
            props.onSettings(s);
            notify("Settings applied.", "info");
            void refresh();
          }}
        />
      ) : null}
      {dialog?.kind === "shortcuts" ? <ShortcutsDialog onClose={() => setDialog(null)} /> : null}
      {dialog?.kind === "confirm" ? (
        <ConfirmDialog
          title={dialog.title}
          message={dialog.message}
          confirm={dialog.confirm}
          danger
          onCancel={() => setDialog(null)}
          onConfirm={() => {
            setDialog(null);
            void dialog.action();
          }}
        />
      ) : null}
      {dialog?.kind === "prompt" ? (
        <PromptDialog
          title={dialog.title}
          label={dialog.label}
          initial={dialog.initial}
          submit={dialog.submit}
          suggestions={dialog.suggestions}
          onCancel={() => setDialog(null)}
          onSubmit={(v) => {
            setDialog(null);
            void dialog.action(v);
          }}
        />
      ) : null}
    </div>
  );
}

function ReaderEmpty(props: { hasDocuments: boolean; onAddFiles: () => void; onAddFolders: () => void }) {
  if (props.hasDocuments) {
    return (
      <div className="reader-empty">
        <h2>Choose a document to read it here</h2>
        <p>Citations in answers and search results open their page here, with the passage highlighted.</p>
      </div>
    );
  }
  return (
    <div className="reader-empty">
      <h2>Your library is empty</h2>
      <p>Drop books and documents anywhere on this window, or add them:</p>
      <div className="button-row center-row">
        <button type="button" className="primary" onClick={props.onAddFiles}>
          Add files…
        </button>
        <button type="button" className="secondary" onClick={props.onAddFolders}>
          Add a folder…
        </button>
      </div>
      <p className="muted">
        Seahorse reads each document once, all of it, and keeps its memory. Then you can ask about the whole book and get answers with
        the pages they come from.
      </p>
    </div>
  );
}
