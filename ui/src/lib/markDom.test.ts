import { describe, expect, test } from "vitest";
import { clearMarks, markSpec } from "./markDom";

function layer(items: string[]): HTMLElement {
  const root = document.createElement("div");
  for (const t of items) {
    const span = document.createElement("span");
    span.textContent = t;
    root.appendChild(span);
  }
  return root;
}

describe("marking rendered text", () => {
  test("a passage across several text-layer spans is marked in each, text unchanged", () => {
    const root = layer(["Eight years earlier, Anne Elliot had been persuaded by Lady Russell", "to break off her engagement to Frederick Wentworth,", "a young officer."]);
    const before = root.textContent;
    const marks = markSpec(root, { kind: "passage", text: "Anne Elliot had been persuaded by Lady Russell to break off her engagement" });
    expect(marks.map((m) => m.textContent)).toEqual(["Anne Elliot had been persuaded by Lady Russell", "to break off her engagement"]);
    expect(root.textContent).toBe(before);
    expect(marks.every((m) => m.parentElement?.tagName === "SPAN")).toBe(true);
  });

  test("marking again replaces the old marks; clearing restores the nodes", () => {
    const root = layer(["Captain Wentworth returned.", "Wentworth smiled."]);
    expect(markSpec(root, { kind: "terms", terms: ["wentworth"] })).toHaveLength(2);
    expect(markSpec(root, { kind: "terms", terms: ["returned"] }).map((m) => m.textContent)).toEqual(["returned"]);
    expect(root.querySelectorAll("mark")).toHaveLength(1);
    clearMarks(root);
    expect(root.querySelectorAll("mark")).toHaveLength(0);
    expect(root.children[0]?.childNodes).toHaveLength(1);
    expect(markSpec(root, null)).toEqual([]);
  });
});
