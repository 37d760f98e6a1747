import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test } from "vitest";
import type { Answered, Settings } from "../ipc";
import { deferred, docSummary, installBackend, overview } from "../test/backend";
import { Workspace } from "./Workspace";

const settings: Settings = {
  model: "qwen",
  block: { kind: "shipped" },
  reading: { window: 1024, sinks: 64, chunk_tokens: 512, checkpoint_tokens: 1, checkpoint_seconds: 1, checkpoints_kept: 1, threads: null },
  gpu_layers: 4294967295,
  local_models: [],
};

const details = {
  document: docSummary(1, "Persuasion", "read", "markdown").document,
  memory: docSummary(1, "Persuasion", "read", "markdown").memory,
  pages: [0, 1, 2].map((i) => ({ index: i, number: i + 1, label: String(i + 1), locator: { kind: "section" }, tokens: null, chars: 40 })),
  states: [],
  storage: { doc: 1, pages: 3, text_bytes: 0, locator_bytes: 0, index_bytes: 0, states: 0, state_raw_bytes: 0, state_stored_bytes: 0 },
  passages: 3,
};

function answered(text: string, stop: string): Answered {
  return {
    chat: 7,
    choice: { model: "qwen", block: { kind: "shipped" }, reading: settings.reading },
    answer: {
      from: "library",
      scope: "document",
      text,
      citations: text.includes("[p. 2]") ? [{ text: "[p. 2]", attributed: false, pages: [{ source: 0, doc: 1, page_index: 1, label: "2", locator: "{}" }] }] : [],
      dropped: [],
      unsupported: [],
      withheld: null,
      relocated: null,
      confidence: { mean_logprob: -0.1, min_logprob: -1, lift: 1 },
      sources: { doc: 1, state_id: 1, state_position: 1, state_page_index: 2, caught_up_tokens: 0, window_rebuilt: false, passages: [{ doc: 1, page_index: 1, page_label: "2", section: null, score: 1, tokens: 4, text: "persuaded by Lady Russell" }], window_pages: [] },
      timings: { restore_ms: 1, prompt_tokens: 1, prefill_ms: 1, first_token_ms: 1, generated_tokens: 1, check_ms: 1, total_ms: 1 },
      stop,
    },
  };
}

function base(extra: Record<string, (a: Record<string, unknown>) => unknown> = {}) {
  return installBackend({
    library_overview: () => overview([docSummary(1, "Persuasion", "read", "markdown"), docSummary(2, "Emma", "not_read")]),
    chats: () => [],
    document_details: () => details,
    page_text: (a) => `Text of page ${Number(a.pageIndex) + 1}: persuaded by Lady Russell.`,
    ...extra,
  });
}

describe("workspace with a mocked backend", () => {
  test("an answer streams through the channel, Stop stops it, and the chip opens the page with the passage marked", async () => {
    const user = userEvent.setup();
    const answer = deferred<Answered>();
    let channel: unknown = null;
    const backend = base({
      ask: (a) => {
        channel = a.onEvent;
        return answer.promise;
      },
      stop_answer: () => true,
    });
    render(<Workspace settings={settings} models={[]} onSettings={() => {}} />);
    await user.click(await screen.findByRole("button", { name: /^Persuasion/ }));
    expect(screen.getByLabelText("Ask about")).toHaveValue("document:1");
    await user.type(screen.getByLabelText("Question"), "Who persuaded Anne?{Enter}");
    await waitFor(() => expect(channel).not.toBeNull());
    expect(backend.called("ask")[0]?.args.question).toEqual({
      text: "Who persuaded Anne?",
      scope: { kind: "document", value: 1 },
      chat: null,
      asOfPage: null,
      memory: true,
      passages: true,
    });
    const log = screen.getByRole("log", { name: "Conversation" });
    expect(log).toHaveAttribute("aria-busy", "true");
    act(() => {
      backend.send(channel, 0, { kind: "passages", passages: [{ doc: 1, page_index: 1, page_label: "2", tokens: 4 }] });
      backend.send(channel, 2, { kind: "text", text: "[p. 2]." });
      backend.send(channel, 1, { kind: "text", text: "Lady Russell " });
    });
    // Out-of-order messages are put in order by the channel.
    expect(await within(log).findByText("Lady Russell")).toBeInTheDocument();
    expect(within(log).getByRole("button", { name: "Open page 2 of “Persuasion”" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Stop" }));
    expect(backend.called("stop_answer")).toHaveLength(1);
    await act(async () => answer.resolve(answered("Lady Russell [p. 2].", "cancelled")));
    expect(await screen.findByText("Stopped. The answer so far is kept.")).toBeInTheDocument();
    expect(log).toHaveAttribute("aria-busy", "false");

    await user.click(within(log).getByRole("button", { name: "Open page 2 of “Persuasion”" }));
    const page2 = await screen.findByRole("region", { name: "Page 2" });
    await waitFor(() => expect(page2.querySelector("mark")).toHaveTextContent("persuaded by Lady Russell"));

    // The kept answer can be copied, citations and all.
    const copied: string[] = [];
    Object.defineProperty(navigator, "clipboard", { configurable: true, value: { writeText: async (t: string) => void copied.push(t) } });
    await user.click(within(log).getByRole("button", { name: "Copy the answer" }));
    expect(copied).toEqual(["Lady Russell [p. 2]."]);
    expect(await within(log).findByText("Copied")).toBeInTheDocument();
  });

  test("reading events update the document's status and the progress panel live", async () => {
    const backend = base({
      library_overview: () =>
        overview([docSummary(2, "Emma", "not_read")], {
          reading: true,
          jobs: [{ id: 5, source_path: "/books/Emma.pdf", doc: 2, state: "reading", error: null, pages_done: 0, pages_total: 3, tokens_done: 0, tokens_total: 1000, queued_ms: 1 }],
        }),
    });
    render(<Workspace settings={settings} models={[]} onSettings={() => {}} />);
    await screen.findByRole("button", { name: /^Emma/ });
    await act(() =>
      backend.reading({
        kind: "ingest",
        data: { event: "reading", job: 5, doc: 2, pages_done: 1, pages_total: 3, tokens_done: 437, tokens_total: 1000, tokens_per_second: 183.4, eta: { secs: 750, nanos: 0 } },
      }),
    );
    expect(await screen.findByText("reading 43 %")).toBeInTheDocument();
    const panel = screen.getByRole("region", { name: "Reading" });
    expect(within(panel).getByText("Page 1 of 3 · 183 tokens/s · 13 min left")).toBeInTheDocument();
    expect(within(panel).getByRole("progressbar", { name: "Reading Emma" })).toHaveAttribute("aria-valuenow", "43");
    await act(() =>
      backend.reading({ kind: "ingest", data: { event: "job_finished", job: 5, doc: 2, state: "failed", error: "/books/Emma.pdf is an encrypted PDF that needs a password" } }),
    );
    expect(await screen.findAllByText("/books/Emma.pdf is an encrypted PDF that needs a password")).not.toHaveLength(0);
  });

  test("files dropped on the window show the overlay and are added", async () => {
    const backend = base({ add_paths: () => [11, 12] });
    render(<Workspace settings={settings} models={[]} onSettings={() => {}} />);
    await screen.findByRole("button", { name: /^Persuasion/ });
    await act(() => backend.emit("tauri://drag-enter", { paths: ["/a.pdf", "/b"], position: { x: 1, y: 1 } }));
    expect(await screen.findByText("Drop to add 2 items to the library")).toBeInTheDocument();
    await act(() => backend.emit("tauri://drag-drop", { paths: ["/a.pdf", "/b"], position: { x: 1, y: 1 } }));
    await waitFor(() => expect(backend.called("add_paths")).toHaveLength(1));
    expect(backend.called("add_paths")[0]?.args).toEqual({ paths: ["/a.pdf", "/b"], collection: null });
    expect(screen.queryByTestId("drop-overlay")).toBeNull();
    expect(await screen.findByText("Added 2 documents; reading starts now.")).toBeInTheDocument();
  });

  test("removing a document asks first and shows the backend's error as is", async () => {
    const user = userEvent.setup();
    const backend = base({ remove_document: () => Promise.reject("the library is locked by another Seahorse") });
    render(<Workspace settings={settings} models={[]} onSettings={() => {}} />);
    await user.click(await screen.findByRole("button", { name: "Actions for Persuasion" }));
    await user.click(screen.getByRole("menuitem", { name: "Remove from library…" }));
    const dialog = screen.getByRole("dialog", { name: "Remove from library?" });
    expect(dialog).toHaveTextContent("The file itself stays where it is.");
    expect(backend.called("remove_document")).toHaveLength(0);
    await user.click(within(dialog).getByRole("button", { name: "Remove" }));
    expect(await screen.findByText("the library is locked by another Seahorse")).toBeInTheDocument();
    expect(backend.called("remove_document")[0]?.args).toEqual({ doc: 1 });
  });
});
