// Keyboard shortcuts as data: which action a key press means, given where focus is.

export type ShortcutAction =
  | "focus-question"
  | "focus-search"
  | "next-citation"
  | "previous-citation"
  | "escape"
  | "help";

export type KeyLike = {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
};

/** The shortcuts, for the help dialog. */
export const SHORTCUTS: { keys: string[]; what: string }[] = [
  { keys: ["Ctrl/⌘ K", "/"], what: "Ask a question (focus the question box)" },
  { keys: ["Ctrl/⌘ F"], what: "Search the full text of the library" },
  { keys: ["Enter"], what: "Send the question (Shift+Enter: new line)" },
  { keys: ["Esc"], what: "Stop the answer; close a dialog or the search results" },
  { keys: ["Alt ↓", "Alt ↑"], what: "Next / previous citation of the answers, opened in the reader" },
  { keys: ["Ctrl/⌘ +", "Ctrl/⌘ −", "Ctrl/⌘ 0"], what: "Zoom a PDF in, out, or to the width of the pane (focus on its pages)" },
  { keys: ["?"], what: "Show these shortcuts" },
];

/**
 * The action of a key press, or null. `typing` is true while focus is in a text field, where
 * plain keys ("/", "?") belong to the field.
 */
export function shortcutFor(e: KeyLike, typing: boolean): ShortcutAction | null {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (mod && !e.altKey && !e.shiftKey && key === "k") return "focus-question";
  if (mod && !e.altKey && !e.shiftKey && key === "f") return "focus-search";
  if (e.altKey && !mod && key === "ArrowDown") return "next-citation";
  if (e.altKey && !mod && key === "ArrowUp") return "previous-citation";
  if (key === "Escape") return "escape";
  if (typing || mod || e.altKey) return null;
  if (key === "/") return "focus-question";
  if (key === "?") return "help";
  return null;
}

/** Whether an element takes typed text (so "/" and "?" stay with it). */
export function isTextEntry(el: Element | null): boolean {
  if (!el) return false;
  if (el instanceof HTMLTextAreaElement) return true;
  if (el instanceof HTMLSelectElement) return false;
  if (el instanceof HTMLInputElement) {
    return !["checkbox", "radio", "button", "submit", "reset", "range", "file", "color"].includes(el.type);
  }
  return (el as HTMLElement).isContentEditable === true;
}
