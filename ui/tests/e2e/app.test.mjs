// Whole UI flows in Chromium against the built app, the Tauri IPC mocked by
// tests/e2e/mock/backend.ts. Run with `npm run test:e2e` (builds first).

import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { BOOK, makePdf } from "../fixtures/make-pdf.mjs";
import { buildMock, launchChromium, openApp, screenshot, serveDist } from "./harness.mjs";

const BOOKS = "/home/reader/Books";
const PERSUASION = `${BOOKS}/Persuasion.pdf`;
const NOTES = `${BOOKS}/Reading notes.md`;
const SCAN = `${BOOKS}/Scanned letters.pdf`;
const SCAN_ERROR = `${SCAN} is a scanned PDF: its 12 page(s) are images without a text layer, and Seahorse has no OCR; run it through OCR first (for example ocrmypdf)`;

const fixtures = {
  [PERSUASION]: { title: "Persuasion", format: "pdf", pages: BOOK.map((l) => l.join("\n")), base64: makePdf(BOOK).toString("base64") },
  [NOTES]: {
    title: "Reading notes",
    format: "markdown",
    pages: [
      "# Reading notes\n\nCaptain Wentworth’s letter — “You pierce my soul” — is the turning point of the novel; the café scene in Bath comes before it.",
      "# Questions\n\nWhy does Lady Russell object to Wentworth? Because he has no fortune, and no connexions.",
    ],
  },
  [SCAN]: { title: "Scanned letters", format: "pdf", pages: [], fail: SCAN_ERROR },
};

let server;
let browser;
let mockScript;
let current = null;

before(async () => {
  mockScript = await buildMock();
  server = await serveDist();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

afterEach(async () => {
  if (!current) return;
  const { page, errors, external } = current;
  current = null;
  await page.close();
  assert.deepEqual(external, [], "the app requested something outside itself");
  assert.deepEqual(errors, [], "errors in the page");
});

async function open(config, options) {
  current = await openApp(browser.context, server.origin, mockScript, { fixtures, ...config }, options);
  return current.page;
}

const mock = (page, fn, arg) => page.evaluate(fn, arg);
const calls = (page) => mock(page, () => window.__seahorseMock.calls.map((c) => c.cmd));

async function askPersuasion(page, question = "Who persuaded Anne to break her engagement?") {
  await page.getByRole("button", { name: /^Persuasion/ }).click();
  await page.waitForFunction(() => document.getElementById("scope-select")?.value === "document:1");
  await page.getByLabel("Question").fill(question);
  await page.getByLabel("Question").press("Enter");
}

describe("first run", () => {
  test("fetches the default model with progress, then shows the empty library", async () => {
    // Held after part 2 of 4 until release().
    const page = await open({ firstRun: true, tick: 60, holdAt: 0.5 });
    await page.getByRole("heading", { name: "Welcome to Seahorse" }).waitFor();
    await page.getByRole("button", { name: /^Download/ }).click();
    const bar = page.getByRole("progressbar", { name: "Downloading the model" });
    await page.getByText("Downloaded and checked part 2 of 4").waitFor();
    const now = Number(await bar.getAttribute("aria-valuenow"));
    assert.ok(now >= 50 && now < 100, `progress ${now}`);
    await screenshot(page, "01-welcome-fetching");
    await mock(page, () => window.__seahorseMock.release());
    await page.getByRole("heading", { name: "Your library is empty" }).waitFor();
    assert.ok((await calls(page)).includes("fetch_model"));
    const fetch = await mock(page, () => window.__seahorseMock.calls.find((c) => c.cmd === "fetch_model").args.id);
    assert.equal(fetch, "qwen2.5-0.5b-instruct");
    await page.getByText("No documents yet.").waitFor();
    await screenshot(page, "02-empty-library");
  });
});

describe("library", () => {
  test("dropping files shows the overlay, reads them with progress, and shows a scanned PDF's error", async () => {
    const page = await open({ firstRun: false, tick: 80, holdAt: 0.43 });
    await page.getByRole("heading", { name: "Your library is empty" }).waitFor();
    await mock(page, (p) => window.__seahorseMock.dragEnter(p), [PERSUASION, NOTES, SCAN]);
    await page.getByText("Drop to add 3 items to the library").waitFor();
    await screenshot(page, "03-drop-overlay");
    await mock(page, (p) => window.__seahorseMock.drop(p), [PERSUASION, NOTES, SCAN]);
    await page.getByTestId("drop-overlay").waitFor({ state: "detached" });
    const added = await mock(page, () => window.__seahorseMock.calls.find((c) => c.cmd === "add_paths").args);
    assert.deepEqual(added, { paths: [PERSUASION, NOTES, SCAN], collection: null });

    // Held at 43 % of the first book: the panel shows pages, tokens/s and the time left.
    const panel = page.getByRole("region", { name: "Reading" });
    await panel.getByText("43 %", { exact: true }).waitFor();
    await panel.getByText(/Page 1 of 3 · 183 tokens\/s · .* left/).waitFor();
    await page.locator(".doc-item", { hasText: "Persuasion" }).getByText("reading 43 %").waitFor();
    await panel.getByText("Waiting (2)").waitFor();
    assert.equal(await panel.getByRole("progressbar", { name: "Reading Persuasion" }).getAttribute("aria-valuenow"), "43");
    await screenshot(page, "04-reading-progress");

    await mock(page, () => window.__seahorseMock.release());
    await page.locator(".doc-item", { hasText: "Persuasion" }).getByText("read", { exact: true }).waitFor();
    await page.locator(".doc-item", { hasText: "Reading notes" }).getByText("read", { exact: true }).waitFor();
    // The backend's message, as it is.
    await panel.getByText(SCAN_ERROR, { exact: true }).waitFor();
    await panel.getByText("Nothing to read").waitFor({ state: "detached" });
    assert.match(await page.locator(".doc-item", { hasText: "Persuasion" }).innerText(), /PDF · 3 pages · .* · memory 21 MB/);
    await screenshot(page, "05-library-read");
  });

  test("pausing and resuming reading", async () => {
    const page = await open({ firstRun: false, tick: 80, holdAt: 0.43 });
    await page.getByRole("button", { name: "Add files…" }).first().waitFor();
    await mock(page, (p) => {
      window.__seahorseMock.nextOpen.push(p);
    }, [PERSUASION]);
    await page.getByRole("button", { name: "Add files…" }).first().click();
    const panel = page.getByRole("region", { name: "Reading" });
    await panel.getByText("43 %", { exact: true }).waitFor();
    await panel.getByRole("button", { name: "Pause reading" }).click();
    await page.locator(".doc-item", { hasText: "Persuasion" }).getByText(/paused at \d+ %/).waitFor();
    await panel.getByRole("button", { name: "Resume reading" }).click();
    await page.locator(".doc-item", { hasText: "Persuasion" }).getByText("read", { exact: true }).waitFor();
    const cmds = await calls(page);
    assert.ok(cmds.includes("cancel_reading") && cmds.includes("resume_reading"), cmds.join(","));
  });

  test("collections: add a document, ask the collection (corpus answer with numbered citations)", async () => {
    const page = await open({ firstRun: false, preloaded: [PERSUASION, NOTES], answerDelay: 30 });
    await page.getByRole("button", { name: "Actions for Persuasion" }).click();
    await page.getByRole("menuitem", { name: "Add to collection…" }).click();
    const dialog = page.getByRole("dialog", { name: /Add “Persuasion” to a collection/ });
    await dialog.getByLabel("Collection (an existing one, or a new name)").fill("Austen");
    await dialog.getByRole("button", { name: "Add" }).click();
    await page.getByRole("button", { name: /Ask the collection Austen \(1 document\)/ }).click();
    assert.equal(await page.getByLabel("Ask about").inputValue(), "collection:Austen");
    await page.getByLabel("Question").fill("Who is Wentworth?");
    await page.getByRole("button", { name: "Ask", exact: true }).click();
    await page.getByRole("button", { name: /Open page 2 of “Persuasion”/ }).waitFor();
    assert.equal(await page.getByRole("button", { name: /Open page 2 of “Persuasion”/ }).innerText(), "1 · p. 2");
    await page.getByText(/Consulted “Persuasion”/).waitFor();

    // The collection's documents, shown on demand: one opens, one is taken out.
    const notes = page.getByRole("button", { name: "Actions for Reading notes" });
    await notes.click();
    assert.equal(await page.getByRole("menuitem", { name: "Remove from collection…" }).getAttribute("aria-disabled"), "true");
    await page.keyboard.press("Escape");
    await page.getByRole("button", { name: "Documents of Austen" }).click();
    const members = page.getByRole("list", { name: "Documents of Austen" });
    await members.getByRole("button", { name: "Persuasion", exact: true }).click();
    await page.locator('.doc-item.selected', { hasText: "Persuasion" }).waitFor();
    await screenshot(page, "05b-collection-members");
    await members.getByRole("button", { name: "Take Persuasion out of Austen" }).click();
    await page.getByRole("button", { name: /Ask the collection Austen \(0 documents\)/ }).waitFor();
    await members.getByText("No documents").waitFor();
  });
});

describe("asking and reading", () => {
  test("an answer streams with Stop, its citation opens the PDF page with the passage highlighted", async () => {
    const page = await open({ firstRun: false, preloaded: [PERSUASION, NOTES], answerDelay: 160 });
    await askPersuasion(page);
    const log = page.getByRole("log", { name: "Conversation" });
    await page.getByRole("button", { name: "Stop" }).waitFor();
    await log.getByText("Lady Russell persuaded Anne Elliot").waitFor();
    assert.equal(await log.getAttribute("aria-busy"), "true");
    await screenshot(page, "06-answer-streaming");
    const chip = page.getByRole("button", { name: "Open page 2 of “Persuasion”" });
    await chip.waitFor();
    await page.getByRole("button", { name: "Ask", exact: true }).waitFor();
    assert.equal(await log.getAttribute("aria-busy"), "false");
    assert.equal(await chip.innerText(), "p. 2");
    await log.getByText(/memory of “Persuasion” \+ 2 passages/).waitFor();

    await chip.click();
    const pageTwo = page.locator('.pdf-page-inner[data-page-number="2"][data-rendered="true"]');
    await pageTwo.waitFor();
    // The highlight is drawn over the text layer, which pdf.js lays out after the canvas.
    await pageTwo.locator("mark.hl", { hasText: "Russell" }).first().waitFor();
    const marked = (await pageTwo.locator("mark.hl").allInnerTexts()).join(" ");
    assert.match(marked, /persuaded by Lady Russell/);
    assert.match(marked, /engagement to Frederick Wentworth/);
    // pdf.js drew the page (not a blank canvas).
    const inked = await pageTwo.locator("canvas").evaluate((c) => {
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let dark = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] < 100 && d[i + 3] > 0) dark += 1;
      return dark;
    });
    assert.ok(inked > 200, `dark pixels on the canvas: ${inked}`);
    assert.equal(await page.locator("#page-field").inputValue(), "2");
    await screenshot(page, "07-citation-opens-pdf");

    // Zoom: in by a quarter, then back to the width of the pane; the page stays in view.
    const section = page.getByRole("region", { name: "Page 2" });
    const width = async () => (await section.boundingBox()).width;
    const fitted = await width();
    await page.getByRole("button", { name: "Zoom in" }).click();
    await page.waitForFunction((w) => document.querySelector('[data-page-index="1"]').getBoundingClientRect().width > w * 1.2, fitted);
    assert.ok(Math.abs((await width()) / fitted - 1.25) < 0.02, `zoomed ${(await width()) / fitted}`);
    await page.locator('.pdf-page-inner[data-page-number="2"][data-rendered="true"]').waitFor();
    await page.getByRole("button", { name: "Fit the width" }).click();
    await page.waitForFunction((w) => Math.abs(document.querySelector('[data-page-index="1"]').getBoundingClientRect().width - w) < 1, fitted);
  });

  test("full-text search shows highlighted hits and jumps to the page", async () => {
    const page = await open({ firstRun: false, preloaded: [PERSUASION, NOTES] });
    await page.getByRole("button", { name: /^Persuasion/ }).waitFor();
    await page.keyboard.press("Control+f");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "search");
    await page.keyboard.type("wentworth");
    await page.keyboard.press("Enter");
    const results = page.getByRole("region", { name: /results for “wentworth”/ });
    await results.waitFor();
    const marks = await results.locator("mark").allInnerTexts();
    assert.ok(marks.length >= 3, `marks: ${marks}`);
    // Byte ranges over text with “ ” — and ’ still land exactly on the word.
    for (const m of marks) assert.equal(m.toLowerCase(), "wentworth");
    await screenshot(page, "08-search-results");
    await results.getByRole("button", { name: /Reading notes, page 1: open/ }).click();
    await results.waitFor({ state: "detached" });
    const section = page.getByRole("region", { name: "Page 1" });
    await section.locator("mark.hl", { hasText: "Wentworth" }).first().waitFor();
    await screenshot(page, "09-search-opens-text");
  });

  test("a chat is listed, resumed and exported to Markdown", async () => {
    const page = await open({ firstRun: false, preloaded: [PERSUASION], answerDelay: 20 });
    await askPersuasion(page);
    await page.getByRole("button", { name: "Open page 3 of “Persuasion”" }).waitFor();
    await page.getByRole("button", { name: "New chat" }).click();
    await page.getByRole("button", { name: "Chats (1)" }).click();
    const list = page.getByRole("region", { name: "Saved chats" });
    await list.getByRole("button", { name: /^Who persuaded Anne/ }).click();
    await page.getByRole("button", { name: "Open page 2 of “Persuasion”" }).waitFor();
    await page.getByRole("button", { name: "Chats (1)" }).click();
    await list.getByRole("button", { name: "Export “Who persuaded Anne to break her engagement?” as Markdown" }).click();
    await page.getByText("Exported “Who persuaded Anne to break her engagement?” to /home/reader/Who persuaded Anne.md").waitFor();
    const exported = await mock(page, () => window.__seahorseMock.exported);
    assert.deepEqual(exported, [{ chat: 1, path: "/home/reader/Who persuaded Anne.md" }]);
    const save = await mock(page, () => window.__seahorseMock.calls.find((c) => c.cmd === "plugin:dialog|save").args.options);
    assert.equal(save.defaultPath, "Who persuaded Anne to break her engagement.md");
  });

  test("keyboard: / and Ctrl+K focus the question, ? shows help, Escape stops, Alt+↓ walks citations", async () => {
    const page = await open({ firstRun: false, preloaded: [PERSUASION], answerDelay: 40 });
    await page.getByRole("button", { name: /^Persuasion/ }).click();
    await page.locator("body").click({ position: { x: 5, y: 300 } });
    await page.keyboard.press("/");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "question");
    assert.equal(await page.getByLabel("Question").inputValue(), "", "the / is not typed");
    await page.getByRole("button", { name: "Settings" }).focus();
    await page.keyboard.press("Control+k");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "question");

    await page.getByRole("button", { name: "Settings" }).focus();
    await page.keyboard.press("?");
    const help = page.getByRole("dialog", { name: "Keyboard shortcuts" });
    await help.waitFor();
    await screenshot(page, "10-shortcuts");
    await page.keyboard.press("Escape");
    await help.waitFor({ state: "detached" });
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Settings", "focus returns");

    // Escape stops a streaming answer; what was said stays.
    await mock(page, () => {
      window.__seahorseMock.config.answerDelay = 400;
    });
    await page.getByLabel("Question").fill("Who persuaded Anne?");
    await page.getByLabel("Question").press("Enter");
    await page.getByText("Lady Russell persuaded Anne Elliot").waitFor();
    await page.keyboard.press("Escape");
    await page.getByText("Stopped. The answer so far is kept.").waitFor();
    assert.ok((await calls(page)).includes("stop_answer"));

    // A full answer, then Alt+↓ / Alt+↑ move through its citations and open them.
    await mock(page, () => {
      window.__seahorseMock.config.answerDelay = 10;
    });
    await page.getByLabel("Question").fill("And then?");
    await page.getByLabel("Question").press("Enter");
    await page.getByRole("button", { name: "Open page 3 of “Persuasion”" }).waitFor();
    await page.getByRole("button", { name: "Ask", exact: true }).waitFor();
    // Every citation of the conversation in order (the stopped answer may have cited
    // before it was stopped, depending on timing).
    const chips = await page.locator(".messages [data-citation]").evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")));
    assert.deepEqual(chips.slice(-2), ["Open page 2 of “Persuasion”", "Open page 3 of “Persuasion”"]);
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute("aria-label"));
    for (const expected of chips) {
      await page.keyboard.press("Alt+ArrowDown");
      assert.equal(await focused(), expected);
    }
    await page.locator('.pdf-page-inner[data-page-number="3"][data-rendered="true"]').waitFor();
    await page.keyboard.press("Alt+ArrowUp");
    assert.equal(await focused(), chips[chips.length - 2]);
  });

  test("settings show the memory the choice needs before applying", async () => {
    const page = await open({ firstRun: false, preloaded: [PERSUASION] });
    await page.getByRole("button", { name: "Settings" }).click();
    const dialog = page.getByRole("dialog", { name: "Settings" });
    await dialog.getByText(/needs about 5\d\d MB of memory/).waitFor();
    await dialog.getByLabel("Window W (tokens)").fill("8192");
    await dialog.getByText(/needs about 7\d\d MB of memory/).waitFor();
    await dialog.getByText(/read with another model/).waitFor();
    await screenshot(page, "11-settings");
    await dialog.getByRole("button", { name: "Apply" }).click();
    await dialog.waitFor({ state: "detached" });
    const saved = await mock(page, () => window.__seahorseMock.settings.reading.window);
    assert.equal(saved, 8192);
  });
});

describe("look", () => {
  test("dark theme follows the system", async () => {
    const page = await open({ firstRun: false, preloaded: [PERSUASION, NOTES], answerDelay: 10 }, { colorScheme: "dark" });
    await askPersuasion(page);
    await page.getByRole("button", { name: "Open page 2 of “Persuasion”" }).click();
    await page.locator('.pdf-page-inner[data-page-number="2"][data-rendered="true"]').waitFor();
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = bg.match(/\d+/g).map(Number);
    assert.ok(r < 40 && g < 40 && b < 40, `body background ${bg}`);
    await screenshot(page, "12-dark-theme");
  });
});
