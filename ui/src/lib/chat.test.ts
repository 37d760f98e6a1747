import { describe, expect, test } from "vitest";
import type { Answered, MessageInfo } from "../ipc";
import { chatReducer, consultedSummary, emptyChat, type ChatAction, type ChatState } from "./chat";

const run = (actions: ChatAction[], start: ChatState = emptyChat) => actions.reduce(chatReducer, start);
const choice = { model: "qwen", block: { kind: "shipped" as const }, reading: { window: 1024, sinks: 64, chunk_tokens: 512, checkpoint_tokens: 1, checkpoint_seconds: 1, checkpoints_kept: 1, threads: null } };

const answered = (text: string, stop = "end_of_turn"): Answered => ({
  chat: 4,
  choice,
  answer: {
    from: "library",
    scope: "document",
    text,
    citations: [{ text: "[p. 2]", attributed: false, pages: [{ source: 0, doc: 1, page_index: 1, label: "2", locator: "{}" }] }],
    dropped: [],
    unsupported: [],
    withheld: null,
    relocated: null,
    confidence: { mean_logprob: -0.1, min_logprob: -1, lift: 1 },
    sources: { doc: 1, state_id: 1, state_position: 10, state_page_index: 2, caught_up_tokens: 0, window_rebuilt: false, passages: [{ doc: 1, page_index: 1, page_label: "2", section: null, score: 1, tokens: 5, text: "the passage" }], window_pages: [] },
    timings: { restore_ms: 1, prompt_tokens: 1, prefill_ms: 1, first_token_ms: 1, generated_tokens: 1, check_ms: 1, total_ms: 1 },
    stop,
  },
});

describe("chat state", () => {
  test("a question streams into an answer that ends with the backend's citations and passages", () => {
    let s = run([{ type: "ask", text: "Who?", doc: 1 }]);
    expect(s.busy).toBe(true);
    expect(s.turns.map((t) => [t.role, t.status])).toEqual([
      ["user", "done"],
      ["assistant", "streaming"],
    ]);
    s = run(
      [
        { type: "event", event: { kind: "restored", position: 10, page_index: 2, is_final: true } },
        { type: "event", event: { kind: "passages", passages: [{ doc: 1, page_index: 1, page_label: "2", tokens: 5 }] } },
        { type: "event", event: { kind: "text", text: "Lady Russell " } },
        { type: "event", event: { kind: "text", text: "[p. 2]." } },
      ],
      s,
    );
    const streaming = s.turns[1];
    expect(streaming?.text).toBe("Lady Russell [p. 2].");
    expect(streaming?.citations).toBeNull();
    expect(streaming?.activity).toBeNull();
    s = run([{ type: "answered", answered: answered("Lady Russell [p. 2].") }], s);
    const done = s.turns[1];
    expect(s).toMatchObject({ chat: 4, busy: false });
    expect(done?.status).toBe("done");
    expect(done?.citations?.[0]?.text).toBe("[p. 2]");
    expect(done?.given.map((p) => p.text)).toEqual(["the passage"]);
    expect(consultedSummary(done!, () => "Persuasion")).toBe("The memory of “Persuasion” + 1 passage");
  });

  test("a withheld answer shows what Seahorse says instead and keeps the model's words apart", () => {
    const reply = answered("The passages found for this question do not say. (The model's answer was withheld: it named 32, which the passages do not contain.)");
    if (reply.answer.from !== "library" || reply.answer.scope !== "document") throw new Error("a document answer");
    reply.answer.citations = [];
    reply.answer.withheld = { text: "The limit is 32 characters. [p. 2]", citations: [], reason: { kind: "invented_figures", figures: ["32"] } };
    let s = run([{ type: "ask", text: "How long may it be?", doc: 1 }, { type: "event", event: { kind: "text", text: "The limit is 32 characters. [p. 2]" } }]);
    expect(s.turns[1]?.withheld).toBeNull();
    s = run([{ type: "answered", answered: reply }], s);
    expect(s.turns[1]).toMatchObject({ status: "done", withheld: "The limit is 32 characters. [p. 2]", citations: [] });
    expect(s.turns[1]?.text).toMatch(/do not say/);
    s = run([{ type: "ask", text: "Again?", doc: 1 }, { type: "answered", answered: answered("Lady Russell [p. 2].") }], s);
    expect(s.turns[3]?.withheld).toBeNull();
  });

  test("a section named from the outline keeps the model's own words apart", () => {
    const reply = answered("In Redirections › Here Strings [p. 47].");
    if (reply.answer.from !== "library" || reply.answer.scope !== "document") throw new Error("a document answer");
    reply.answer.relocated = { model_text: "It is on page 45. [p. 47]", pointed: true };
    let s = run([{ type: "ask", text: "Which section documents here strings?", doc: 1 }, { type: "answered", answered: reply }]);
    expect(s.turns[1]).toMatchObject({ status: "done", relocated: "It is on page 45. [p. 47]", withheld: null });
    expect(s.turns[1]?.text).toBe("In Redirections › Here Strings [p. 47].");
    s = run([{ type: "ask", text: "Again?", doc: 1 }, { type: "answered", answered: answered("Lady Russell [p. 2].") }], s);
    expect(s.turns[3]?.relocated).toBeNull();
  });

  test("a stopped answer keeps its text; an error keeps the message", () => {
    let s = run([{ type: "ask", text: "Q", doc: null }, { type: "event", event: { kind: "text", text: "Half" } }, { type: "answered", answered: answered("Half", "cancelled") }]);
    expect(s.turns[1]?.status).toBe("stopped");
    s = run([{ type: "ask", text: "Q2", doc: null }, { type: "failed", error: "\"Persuasion\" has not been read yet" }], s);
    expect(s.turns[3]).toMatchObject({ status: "error", error: "\"Persuasion\" has not been read yet" });
    expect(s.busy).toBe(false);
  });

  test("corpus progress: ranked, consulted, skipped", () => {
    const doc = (n: number, title: string) => ({ number: n, doc: n, title, score: 1 });
    const s = run([
      { type: "ask", text: "Q", doc: null },
      { type: "event", event: { kind: "ranked", documents: [doc(1, "A"), doc(2, "B")] } },
      { type: "event", event: { kind: "consulting", document: doc(1, "A") } },
      { type: "event", event: { kind: "skipped", document: doc(2, "B"), reason: "not read yet" } },
    ]);
    const t = s.turns[1]!;
    expect(t.activity).toBe("Consulting “A”…");
    expect(consultedSummary(t, () => undefined)).toBe("Consulted “A” + skipped “B” (not read yet)");
  });

  test("stored messages become turns with their citations and passages", () => {
    const messages: MessageInfo[] = [
      { id: 1, chat: 3, role: "user", content: "Who?", citations: "[]", sources: "{}", created_ms: 1 },
      {
        id: 2,
        chat: 3,
        role: "assistant",
        content: "Her [p. 2].",
        citations: JSON.stringify([{ text: "[p. 2]", attributed: false, pages: [{ source: 0, doc: 1, page_index: 1, label: "2", locator: "{}" }] }]),
        sources: JSON.stringify({ doc: 1, passages: [{ doc: 1, page_index: 1, page_label: "2", score: 1, tokens: 3, text: "stored passage" }] }),
        created_ms: 2,
      },
    ];
    const s = run([{ type: "load", chat: 3, messages, doc: 1 }]);
    expect(s.chat).toBe(3);
    expect(s.turns[1]?.citations).toHaveLength(1);
    expect(s.turns[1]?.given[0]?.text).toBe("stored passage");
  });
});
