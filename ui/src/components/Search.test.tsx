import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test, vi } from "vitest";
import type { SearchHit } from "../ipc";
import { SearchResults } from "./Search";

const bytes = (s: string) => new TextEncoder().encode(s).length;

describe("search results", () => {
  test("hits render their matches as <mark> from byte ranges, and document text never as HTML", async () => {
    const snippet = "<img src=x onerror=alert(1)> “Wentworth” — café Wentworth";
    const i = snippet.indexOf("Wentworth");
    const j = snippet.lastIndexOf("Wentworth");
    const hit: SearchHit = {
      title: "<b>Persuasion</b>",
      doc: 1,
      page_index: 3,
      page_label: "iv",
      score: 2,
      snippet,
      highlights: [
        [bytes(snippet.slice(0, i)), bytes(snippet.slice(0, i + 9))],
        [bytes(snippet.slice(0, j)), bytes(snippet.slice(0, j + 9))],
      ],
    };
    const onOpen = vi.fn();
    const { container } = render(<SearchResults search={{ query: "wentworth", hits: [hit], error: null, busy: false, open: true }} onOpen={onOpen} onClose={() => {}} />);
    const region = screen.getByRole("region", { name: "1 result for “wentworth”" });
    expect(Array.from(region.querySelectorAll("mark")).map((m) => m.textContent)).toEqual(["Wentworth", "Wentworth"]);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("b")).toBeNull();
    expect(region).toHaveTextContent("<img src=x onerror=alert(1)>");
    expect(within(region).getByText("p. iv")).toBeInTheDocument();
    await userEvent.click(within(region).getByRole("button", { name: "<b>Persuasion</b>, page iv: open" }));
    expect(onOpen).toHaveBeenCalledWith(hit);
  });

  test("no hits and errors are explained", () => {
    const { rerender } = render(<SearchResults search={{ query: "zzz", hits: [], error: null, busy: false, open: true }} onOpen={() => {}} onClose={() => {}} />);
    expect(screen.getByText(/Nothing found/)).toBeInTheDocument();
    rerender(<SearchResults search={{ query: "a:", hits: [], error: "malformed query: a:", busy: false, open: true }} onOpen={() => {}} onClose={() => {}} />);
    expect(screen.getByRole("alert")).toHaveTextContent("malformed query: a:");
  });
});
