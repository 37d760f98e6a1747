import { describe, expect, test } from "vitest";
import {
  applyRanges,
  byteRangesToIndexRanges,
  findPassageRanges,
  findSupportRanges,
  findTermRanges,
  hitTerms,
  normalize,
  snippetPieces,
} from "./highlight";

const bytes = (s: string) => new TextEncoder().encode(s).length;
const marked = (text: string, ranges: [number, number][]) =>
  applyRanges(text, ranges)
    .filter((p) => p.mark)
    .map((p) => p.text);

describe("highlight slicing", () => {
  test("UTF-8 byte ranges of a snippet land on the right characters", () => {
    const snippet = "Café “Wentworth” — 😀 Wentworth’s ship";
    const at = (word: string, from = 0) => {
      const i = snippet.indexOf(word, from);
      return [bytes(snippet.slice(0, i)), bytes(snippet.slice(0, i + word.length))] as [number, number];
    };
    const first = at("Wentworth");
    const second = at("Wentworth", snippet.indexOf("😀"));
    const pieces = snippetPieces(snippet, [first, second]);
    expect(pieces.filter((p) => p.mark).map((p) => p.text)).toEqual(["Wentworth", "Wentworth"]);
    expect(pieces.map((p) => p.text).join("")).toBe(snippet);
    expect(hitTerms(snippet, [first, second])).toEqual(["wentworth"]);
  });

  test("ranges inside a character snap inward; bad and overlapping ranges are tidied", () => {
    const text = "aé😀b";
    // é is bytes 1..3, 😀 is 3..7: a range 2..6 covers no whole character.
    expect(byteRangesToIndexRanges(text, [[2, 6]])).toEqual([]);
    expect(byteRangesToIndexRanges(text, [[1, 7]])).toEqual([[1, 4]]);
    expect(byteRangesToIndexRanges(text, [[5, 2], [0, 1], [0, 3], [99, 120]])).toEqual([[0, 2]]);
  });

  test("applyRanges covers the text exactly once", () => {
    const text = "one two three";
    const pieces = applyRanges(text, [[4, 7], [0, 3], [2, 5]]);
    expect(pieces).toEqual([
      { text: "one two", mark: true },
      { text: " three", mark: false },
    ]);
  });
});

describe("finding passages and terms", () => {
  test("normalisation: ligatures, quotes, whitespace, hyphenated line breaks", () => {
    expect(normalize("The ﬁrst  “quote”\n and  read-\ning, end.").norm).toBe("the first quote and reading end ");
    const { norm, map } = normalize("A\u00adB  c");
    expect(norm).toBe("ab c");
    expect(map).toEqual([0, 2, 3, 5]);
  });

  test("a passage found whole, across line breaks and case", () => {
    const page = "Chapter 4\nEight years earlier, Anne Elliot had been persuaded\nby Lady Russell to break off her engagement.";
    const ranges = findPassageRanges(page, "anne elliot had been persuaded by Lady Russell");
    expect(marked(page, ranges)).toEqual(["Anne Elliot had been persuaded\nby Lady Russell"]);
  });

  test("an excerpt's parts ('…') are found apart", () => {
    const page = "First part of the text is here. Something unrelated. And the second part follows later on.";
    const ranges = findPassageRanges(page, "First part of the text is here … the second part follows later");
    expect(marked(page, ranges)).toEqual(["First part of the text is here", "the second part follows later"]);
  });

  test("text from another extractor still matches in runs of words", () => {
    const page = "She had been forced into pru-\ndence in her youth, she learned romance as she grew older.";
    const passage = "She had been forced into prudence in her youth; she learned romance as she grew older";
    const got = marked(page, findPassageRanges(page, passage));
    expect(got.join(" ")).toContain("She had been forced into pru-\ndence in her youth");
    expect(got.join(" ")).toContain("she learned romance as she grew older");
  });

  test("terms: whole words, short ones exactly, longer ones as word starts", () => {
    const page = "Wentworth’s letter. WENTWORTH wrote in Bath; inside the bath house.";
    expect(marked(page, findTermRanges(page, ["wentworth"]))).toEqual(["Wentworth", "WENTWORTH"]);
    expect(marked(page, findTermRanges(page, ["in"]))).toEqual(["in"]);
    expect(marked(page, findTermRanges(page, ["bath"]))).toEqual(["Bath", "bath"]);
  });
});

describe("support for a cited sentence", () => {
  const page =
    "Chapter II. The Falling Star\nThen came the night of the first falling star. It was seen early in the morning, " +
    "rushing over Winchester eastward. Ogilvy, the astronomer, found the cylinder on Horsell Common at dawn! " +
    "Nobody else had seen it fall.";
  const marked = (claim: string) => findSupportRanges(page, claim).map(([s, e]) => page.slice(s, e));

  test("marks the page's sentence that shares the most content words", () => {
    expect(marked("The astronomer Ogilvy found the cylinder on the common. [p. 6]")).toEqual([
      "Ogilvy, the astronomer, found the cylinder on Horsell Common at dawn!",
    ]);
    expect(marked("It was seen in the morning over Winchester")).toEqual([
      "It was seen early in the morning, rushing over Winchester eastward.",
    ]);
  });

  test("marks nothing when no sentence supports it", () => {
    expect(marked("The Martians built fighting machines.")).toEqual([]);
    // One shared word is not support; common words do not count.
    expect(marked("The night was cold and the sea was calm.")).toEqual([]);
    expect(marked("")).toEqual([]);
  });
});
