// The end-to-end harness: the built app (ui/dist) served by a tiny static server, the mock
// backend bundled as an IIFE, and Debian's Chromium driven by playwright-core.

import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { build } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
export const uiRoot = resolve(here, "../..");
export const resultsDir = join(uiRoot, "test-results");
const distDir = join(uiRoot, "dist");
const mockOut = join(resultsDir, ".mock");
/** Where `convertFileSrc(id, "doc")` points in the mocked webview (Tauri's Windows form). */
const DOC_PROTOCOL = "http://doc.localhost/";
export const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** Bundles tests/e2e/mock/backend.ts (with @tauri-apps/api/mocks) into one classic script. */
export async function buildMock() {
  await build({
    configFile: false,
    logLevel: "warn",
    root: uiRoot,
    build: {
      outDir: mockOut,
      emptyOutDir: true,
      minify: false,
      lib: { entry: join(here, "mock/backend.ts"), formats: ["iife"], name: "SeahorseMockBackend", fileName: () => "backend.js" },
    },
  });
  return join(mockOut, "backend.js");
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".css": "text/css",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".bcmap": "application/octet-stream",
  ".pfb": "application/octet-stream",
  ".ttf": "font/ttf",
  ".icc": "application/octet-stream",
};

/**
 * The app's Content-Security-Policy from the Tauri config at the repository root (the one the
 * webview enforces), as a header value; null when there is none.
 */
export function tauriCsp() {
  const config = resolve(uiRoot, "../tauri.conf.json");
  if (!existsSync(config)) return null;
  const csp = JSON.parse(readFileSync(config, "utf8"))?.app?.security?.csp;
  if (!csp) return null;
  if (typeof csp === "string") return csp;
  return Object.entries(csp)
    .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(" ") : v}`)
    .join("; ");
}

/**
 * Serves ui/dist on 127.0.0.1 (a random port), with the app's CSP when given, so that the
 * tests see what the policy blocks; returns its origin and a close function.
 */
export async function serveDist(csp = tauriCsp()) {
  if (!existsSync(join(distDir, "index.html"))) throw new Error("ui/dist is missing: run `npm run build` first");
  const requested = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requested.push(url.pathname);
    let rel = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, "");
    if (rel === "") rel = "index.html";
    const file = join(distDir, rel);
    if (!file.startsWith(distDir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end("not found");
      return;
    }
    const headers = { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" };
    if (csp && file.endsWith(".html")) headers["content-security-policy"] = csp;
    res.writeHead(200, headers);
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  return { origin: `http://127.0.0.1:${port}`, csp, requested, close: () => new Promise((r) => server.close(r)) };
}

/** Debian's Chromium, headless, with a fresh profile and no background networking. */
export async function launchChromium() {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: apt-get install chromium`);
  const profile = await mkdtemp(join(tmpdir(), "seahorse-e2e-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 820 },
    deviceScaleFactor: 1,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A page of the app with the mock backend installed before the app's scripts run. Collects
 * page errors and every request that leaves the app's own origin.
 */
export async function openApp(context, origin, mockScript, config, options = {}) {
  const page = await context.newPage();
  await page.emulateMedia({ colorScheme: options.colorScheme ?? "light", reducedMotion: "reduce" });
  const errors = [];
  const external = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("request", (r) => {
    const url = r.url();
    const own = url.startsWith(origin) || url.startsWith(DOC_PROTOCOL) || url.startsWith("data:") || url.startsWith("blob:");
    if (!own) external.push(url);
  });
  // The app's `doc:` protocol (original files for pdf.js), answered from the mock's library.
  await page.route(`${DOC_PROTOCOL}**`, async (route) => {
    const id = Number(new URL(route.request().url()).pathname.slice(1));
    const file = await page.evaluate((doc) => window.__seahorseMock.documentFile(doc), id);
    const headers = { "access-control-allow-origin": "*", "cache-control": "no-store" };
    if (file.base64) await route.fulfill({ status: 200, headers, contentType: "application/octet-stream", body: Buffer.from(file.base64, "base64") });
    else await route.fulfill({ status: 404, headers, contentType: "text/plain; charset=utf-8", body: file.error });
  });
  await page.addInitScript((cfg) => {
    window.__SEAHORSE_MOCK_CONFIG__ = cfg;
  }, config);
  await page.addInitScript({ path: mockScript });
  await page.goto(`${origin}/index.html`);
  return { page, errors, external };
}

export async function screenshot(page, name) {
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}
