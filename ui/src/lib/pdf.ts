// pdf.js, loaded on demand, with its worker and data files served from the app itself.

import type { PDFDocumentProxy } from "pdfjs-dist";
import workerUrl from "pdfjs-dist/build/pdf.worker.min.mjs?url";

type PdfJs = typeof import("pdfjs-dist");
let loading: Promise<PdfJs> | null = null;

export function pdfjs(): Promise<PdfJs> {
  loading ??= import("pdfjs-dist").then((lib) => {
    lib.GlobalWorkerOptions.workerSrc = workerUrl;
    return lib;
  });
  return loading;
}

function local(dir: string): string {
  return new URL(`./pdfjs/${dir}/`, document.baseURI).href;
}

/** Opens a PDF from its bytes (no eval, no remote content). */
export async function openPdf(data: Uint8Array): Promise<PDFDocumentProxy> {
  const lib = await pdfjs();
  const task = lib.getDocument({
    data,
    isEvalSupported: false,
    cMapUrl: local("cmaps"),
    cMapPacked: true,
    standardFontDataUrl: local("standard_fonts"),
    wasmUrl: local("wasm"),
    iccUrl: local("iccs"),
    enableXfa: false,
    stopAtErrors: false,
  });
  return task.promise;
}
