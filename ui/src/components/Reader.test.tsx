import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test, vi } from "vitest";
import { docSummary, installBackend } from "../test/backend";
import { PageText, ReaderPane, pageIndexFor } from "./Reader";

const pages = ["i", "ii", "1", "2"].map((label, i) => ({ index: i, number: i + 1, label, locator: { kind: "epub", chapter_title: i === 2 ? "Chapter One" : null }, tokens: null, chars: 20 }));

describe("reader", () => {
  test("page text is text: markup in a document stays visible characters", () => {
    const { container } = render(<PageText text={"<script>alert(1)</script> Lady Russell <b>said</b>"} highlight={{ kind: "terms", terms: ["russell"] }} />);
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("b")).toBeNull();
    expect(container).toHaveTextContent("<script>alert(1)</script> Lady Russell <b>said</b>");
    expect(container.querySelector("mark")).toHaveTextContent("Russell");
  });

  test("pages are found by printed label or number", () => {
    expect(pageIndexFor(pages, "ii")).toBe(1);
    expect(pageIndexFor(pages, "II")).toBe(1);
    expect(pageIndexFor(pages, "2")).toBe(3);
    expect(pageIndexFor(pages, "4")).toBe(3);
    expect(pageIndexFor(pages, "3")).toBe(2);
    expect(pageIndexFor(pages, "9")).toBeNull();
    expect(pageIndexFor(pages, "")).toBeNull();
  });

  test("a text document opens at the target page, loads its text lazily, and the page field jumps", async () => {
    const user = userEvent.setup();
    const doc = docSummary(4, "Notes", "read", "epub");
    const backend = installBackend({
      document_details: () => ({ document: { ...doc.document, page_count: 4 }, memory: doc.memory, pages, states: [], storage: {}, passages: 4 }),
      page_text: (a) => `This is page index ${String(a.pageIndex)}, where Anne meets Wentworth.`,
    });
    const onPosition = vi.fn();
    const target = { doc: 4, pageIndex: 2, highlight: { kind: "passage" as const, text: "where Anne meets Wentworth" }, nonce: 1 };
    render(<ReaderPane doc={doc} target={target} onPosition={onPosition} onError={() => {}} empty={null} />);
    const page = await screen.findByRole("region", { name: "Page 1" });
    await waitFor(() => expect(page.querySelector("mark")).toHaveTextContent("where Anne meets Wentworth"));
    expect(page).toHaveTextContent("1 · Chapter One");
    expect(backend.called("document_details")[0]?.args).toEqual({ doc: 4 });
    // Only pages near the target were read.
    const read = backend.called("page_text").map((c) => c.args.pageIndex);
    expect(read).toContain(2);
    expect(new Set(read).size).toBeLessThanOrEqual(4);
    const field = screen.getByLabelText("Go to page (printed label or number)");
    expect(field).toHaveValue("1");
    await user.clear(field);
    await user.type(field, "zz{Enter}");
    expect(field).toHaveAttribute("aria-invalid", "true");
    await user.clear(field);
    await user.type(field, "ii{Enter}");
    expect(field).not.toHaveAttribute("aria-invalid");
    expect(await screen.findByText(/This is page index 1,/)).toBeInTheDocument();
  });
});
