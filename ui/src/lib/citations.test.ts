import { describe, expect, test } from "vitest";
import type { Citation } from "../ipc";
import { chipLabel, citedSentence, parseCitationText, parseStoredCitations, passageFor, passagesFrom, segmentAnswer, streamResolver } from "./citations";

describe("citation text", () => {
  test("the forms the backend writes", () => {
    expect(parseCitationText("[p. 12]")).toEqual({ source: 0, labels: ["12"] });
    expect(parseCitationText("[p. 12, 14]")).toEqual({ source: 0, labels: ["12", "14"] });
    expect(parseCitationText("[pp. 3-4]")).toEqual({ source: 0, labels: ["3", "4"] });
    expect(parseCitationText("[pp. 3–4]")).toEqual({ source: 0, labels: ["3", "4"] });
    expect(parseCitationText("[page xii]")).toEqual({ source: 0, labels: ["xii"] });
    expect(parseCitationText("[2, p. 12]")).toEqual({ source: 2, labels: ["12"] });
    expect(parseCitationText("[sic]")).toBeNull();
    expect(parseCitationText("see [p. 3]")).toBeNull();
  });

  const cite = (text: string, pages: [number, number, string][], attributed = false): Citation => ({
    text,
    attributed,
    pages: pages.map(([doc, page_index, label]) => ({ source: 0, doc, page_index, label, locator: "{}" })),
  });

  test("a finished answer is cut at the backend's citations, in order", () => {
    const text = "Anne was persuaded [p. 2]. He came back [p. 3, 4]. Done.";
    const segs = segmentAnswer(text, [cite("[p. 2]", [[1, 1, "2"]]), cite("[p. 3, 4]", [[1, 2, "3"], [1, 3, "4"]], true)]);
    expect(segs.map((s) => (s.kind === "text" ? s.text : `<${s.chip.pages.map(chipLabel).join("|")}>`)).join("")).toBe(
      "Anne was persuaded <p. 2>. He came back <p. 3|p. 4>. Done.",
    );
    const second = segs[3];
    expect(second?.kind === "cite" && second.chip.attributed).toBe(true);
    expect(second?.kind === "cite" && second.chip.pages[1]).toEqual({ doc: 1, pageIndex: 3, label: "4", source: 0 });
  });

  test("a finished answer without citations is plain text, brackets and all", () => {
    expect(segmentAnswer("A [sic] answer [p. 9]", [])).toEqual([{ kind: "text", text: "A [sic] answer [p. 9]" }]);
  });

  test("while streaming, pages resolve through the passages given and the ranked documents", () => {
    const resolve = streamResolver(
      [
        { doc: 5, page_index: 11, page_label: "12", tokens: 40 },
        { doc: 6, page_index: 0, page_label: "i", tokens: 40 },
      ],
      [
        { number: 1, doc: 5, title: "A", score: 1 },
        { number: 2, doc: 6, title: "B", score: 1 },
      ],
      null,
    );
    const segs = segmentAnswer("x [1, p. 12] y [2, p. I] z [p. 99]", null, resolve);
    const chips = segs.filter((s) => s.kind === "cite").map((s) => (s.kind === "cite" ? s.chip.pages[0] : null));
    expect(chips).toEqual([
      { doc: 5, pageIndex: 11, label: "12", source: 1 },
      { doc: 6, pageIndex: 0, label: "I", source: 2 },
      { doc: null, pageIndex: null, label: "99", source: 0 },
    ]);
    expect(chipLabel(chips[0] as never)).toBe("1 · p. 12");
  });

  test("stored citations and sources", () => {
    expect(parseStoredCitations("not json")).toEqual([]);
    expect(parseStoredCitations('{"a":1}')).toEqual([]);
    expect(parseStoredCitations('[{"text":"[p. 1]","pages":[],"attributed":false},{"bad":1}]')).toHaveLength(1);
    const document = JSON.stringify({ doc: 1, passages: [{ doc: 1, page_index: 4, page_label: "5", score: 2, tokens: 9, text: "the passage" }], window_pages: [] });
    expect(passagesFrom(document).map((p) => p.text)).toEqual(["the passage"]);
    const corpus = { documents: [{ document: { number: 1, doc: 2, title: "B", score: 1 }, answer: { sources: { passages: [{ doc: 2, page_index: 0, page_label: "i", score: null, tokens: 3, text: "corpus passage" }] } } }] };
    const found = passagesFrom(corpus);
    expect(found).toHaveLength(1);
    expect(passageFor(found, 2, 0)).toBe("corpus passage");
    expect(passageFor(found, 2, 1)).toBeNull();
  });
});

describe("the sentence a citation closes", () => {
  const at = (text: string, n: number) => {
    const segments = segmentAnswer(text, null);
    const chips = segments.flatMap((s, i) => (s.kind === "cite" ? [i] : []));
    return citedSentence(segments, chips[n] as number);
  };

  test("is the text since the sentence before it", () => {
    expect(at("Anne is persuaded. Lady Russell advises her to refuse Wentworth. [p. 2]", 0)).toBe(
      "Lady Russell advises her to refuse Wentworth.",
    );
    expect(at("They meet again in Bath [p. 9]. He writes a letter [p. 12].", 1)).toBe("He writes a letter");
    expect(at("First [p. 1] and second [p. 2].", 1)).toBe("First and second");
    expect(at("[p. 3] Opening.", 0)).toBe("");
  });
});
