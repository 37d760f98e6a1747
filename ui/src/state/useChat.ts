import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { api, dialogs, errorText, type ChatInfo, type Scope } from "../ipc";
import { chatReducer, emptyChat } from "../lib/chat";
import { exportFileName } from "../lib/format";

/** The conversation and the stored chats. */
export function useChat(notify: (text: string, kind?: "error" | "info") => void) {
  const [state, dispatch] = useReducer(chatReducer, emptyChat);
  const [chats, setChats] = useState<ChatInfo[]>([]);
  const notifyRef = useRef(notify);
  notifyRef.current = notify;
  const chatRef = useRef(state.chat);
  chatRef.current = state.chat;

  const refreshChats = useCallback(async () => {
    try {
      setChats(await api.chats());
    } catch (e) {
      notifyRef.current(errorText(e), "error");
    }
  }, []);

  useEffect(() => {
    void refreshChats();
  }, [refreshChats]);

  const ask = useCallback(
    async (text: string, scope: Scope, asOfPage: string | null) => {
      const doc = scope.kind === "document" ? scope.value : null;
      dispatch({ type: "ask", text, doc });
      try {
        const answered = await api.ask(
          {
            text,
            scope,
            chat: scope.kind === "model" ? null : chatRef.current,
            asOfPage: scope.kind === "document" ? asOfPage : null,
            memory: true,
            passages: true,
          },
          (event) => dispatch({ type: "event", event }),
        );
        dispatch({ type: "answered", answered });
        if (answered.chat !== null) void refreshChats();
      } catch (e) {
        dispatch({ type: "failed", error: errorText(e) });
      }
    },
    [refreshChats],
  );

  const stop = useCallback(async () => {
    try {
      await api.stopAnswer();
    } catch (e) {
      notifyRef.current(errorText(e), "error");
    }
  }, []);

  const open = useCallback(async (chat: ChatInfo) => {
    try {
      const messages = await api.chatMessages(chat.id);
      dispatch({ type: "load", chat: chat.id, messages, doc: chat.scope === "document" ? chat.doc : null });
    } catch (e) {
      notifyRef.current(errorText(e), "error");
    }
  }, []);

  const reset = useCallback(() => dispatch({ type: "reset" }), []);

  const exportChat = useCallback(async (chat: ChatInfo) => {
    try {
      const path = await dialogs.saveMarkdown(exportFileName(chat.title));
      if (!path) return;
      await api.exportChat(chat.id, path);
      notifyRef.current(`Exported “${chat.title}” to ${path}`, "info");
    } catch (e) {
      notifyRef.current(errorText(e), "error");
    }
  }, []);

  const remove = useCallback(
    async (chat: ChatInfo) => {
      try {
        await api.removeChat(chat.id);
        if (chatRef.current === chat.id) dispatch({ type: "reset" });
        await refreshChats();
      } catch (e) {
        notifyRef.current(errorText(e), "error");
      }
    },
    [refreshChats],
  );

  return { state, chats, ask, stop, open, reset, exportChat, remove, refreshChats };
}
