/// <reference types="vitest/config" />
import { cpSync, createReadStream, existsSync, statSync } from "node:fs";
import { dirname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const pdfjsRoot = resolve(here, "node_modules/pdfjs-dist");
/** pdf.js data served from the app itself (no CDN): CMaps, standard fonts, wasm decoders, ICC profiles. */
const pdfjsAssets = ["cmaps", "standard_fonts", "wasm", "iccs"];

function pdfjsData(): Plugin {
  return {
    name: "seahorse-pdfjs-data",
    configureServer(server) {
      server.middlewares.use("/pdfjs", (req, res, next) => {
        const rel = normalize(decodeURIComponent((req.url ?? "/").split("?")[0] ?? "/")).replace(/^([/\\])+/, "");
        const [dir] = rel.split(/[/\\]/);
        const file = join(pdfjsRoot, rel);
        if (!dir || !pdfjsAssets.includes(dir) || !file.startsWith(pdfjsRoot) || !existsSync(file) || !statSync(file).isFile()) {
          next();
          return;
        }
        createReadStream(file).pipe(res);
      });
    },
    writeBundle(options) {
      const out = options.dir ?? resolve(here, "dist");
      for (const dir of pdfjsAssets) {
        cpSync(join(pdfjsRoot, dir), join(out, "pdfjs", dir), { recursive: true });
      }
    },
  };
}

export default defineConfig({
  base: "./",
  plugins: [react(), pdfjsData()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 1500,
  },
  server: { strictPort: true, port: 1420 },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
  },
});
