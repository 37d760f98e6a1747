import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { PDFDocumentProxy, RenderTask } from "pdfjs-dist";
import { api, errorText, type DocumentDetails, type DocumentSummary, type PageSummary } from "../ipc";
import { formatName } from "../lib/format";
import { applyRanges, findRanges, type HighlightSpec } from "../lib/highlight";
import { markSpec } from "../lib/markDom";

/** Where the reader should go: a page, optionally with something to highlight on it. */
export type ReaderTarget = { doc: number; pageIndex: number; highlight: HighlightSpec | null; nonce: number };

/** What the reader shows now (for "as of page" and the page field). */
export type ReaderPosition = { doc: number; pageIndex: number; label: string };

type Jump = { pageIndex: number; highlight: HighlightSpec | null; nonce: number };

export function ReaderPane(props: {
  doc: DocumentSummary | null;
  target: ReaderTarget | null;
  onPosition: (p: ReaderPosition) => void;
  onError: (message: string) => void;
  empty: ReactNode;
}) {
  const { doc, target } = props;
  const id = doc?.document.id ?? null;
  const pageCount = doc?.document.page_count ?? 0;
  const [details, setDetails] = useState<DocumentDetails | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [current, setCurrent] = useState(0);
  const [jump, setJump] = useState<Jump | null>(null);
  const onPosition = useRef(props.onPosition);
  onPosition.current = props.onPosition;

  useEffect(() => {
    setDetails(null);
    setLoadError(null);
    setCurrent(0);
    if (id === null) return;
    let gone = false;
    api
      .documentDetails(id)
      .then((d) => !gone && setDetails(d))
      .catch((e) => !gone && setLoadError(errorText(e)));
    return () => {
      gone = true;
    };
  }, [id, pageCount]);

  useEffect(() => {
    if (target && target.doc === id) {
      setJump({ pageIndex: target.pageIndex, highlight: target.highlight, nonce: target.nonce });
      setCurrent(target.pageIndex);
    }
  }, [target, id]);

  const pages = details?.pages ?? [];
  const onVisible = useCallback(
    (pageIndex: number) => {
      setCurrent(pageIndex);
      const page = pages[pageIndex];
      if (id !== null && page) onPosition.current({ doc: id, pageIndex, label: page.label });
    },
    [id, pages],
  );

  useEffect(() => {
    const page = pages[current];
    if (id !== null && page) onPosition.current({ doc: id, pageIndex: current, label: page.label });
    // Only when the document's pages arrive.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [details]);

  if (!doc) {
    return (
      <section className="reader" aria-label="Reader" id="reader">
        {props.empty}
      </section>
    );
  }

  const go = (pageIndex: number) => {
    const clamped = Math.max(0, Math.min(pages.length - 1, pageIndex));
    setJump({ pageIndex: clamped, highlight: null, nonce: Date.now() });
    setCurrent(clamped);
  };

  return (
    <section className="reader" aria-labelledby="reader-title" id="reader">
      <header className="reader-head">
        <div className="reader-title-block">
          <h2 id="reader-title">{doc.document.title}</h2>
          <p className="muted small-text">
            {formatName(doc.document.format)} · {doc.document.page_count} {doc.document.format === "pdf" ? "pages" : "sections"}
          </p>
        </div>
        {pages.length > 0 ? <PageNav pages={pages} current={current} onGo={go} /> : null}
      </header>
      {doc.document.warnings.length > 0 ? (
        <ul className="warnings" aria-label="Extraction warnings">
          {doc.document.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      ) : null}
      {loadError ? (
        <p className="error-box" role="alert">
          {loadError}
        </p>
      ) : details === null ? (
        <p className="muted pad">Opening…</p>
      ) : details.document.format === "pdf" ? (
        <PdfView key={details.document.id} details={details} jump={jump} onVisible={onVisible} onError={props.onError} />
      ) : (
        <TextView key={details.document.id} details={details} jump={jump} onVisible={onVisible} onError={props.onError} />
      )}
    </section>
  );
}

function PageNav(props: { pages: PageSummary[]; current: number; onGo: (pageIndex: number) => void }) {
  const { pages, current } = props;
  const page = pages[current];
  const [value, setValue] = useState(page?.label ?? "");
  const [invalid, setInvalid] = useState(false);
  useEffect(() => {
    setValue(page?.label ?? "");
    setInvalid(false);
  }, [page?.label]);
  const submit = () => {
    const i = pageIndexFor(pages, value);
    if (i === null) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    props.onGo(i);
  };
  return (
    <form
      className="page-nav"
      aria-label="Page navigation"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <button type="button" className="icon-button" aria-label="Previous page" disabled={current <= 0} onClick={() => props.onGo(current - 1)}>
        <span aria-hidden="true">‹</span>
      </button>
      <label htmlFor="page-field" className="visually-hidden">
        Go to page (printed label or number)
      </label>
      <input
        id="page-field"
        className="page-field"
        value={value}
        aria-invalid={invalid || undefined}
        aria-describedby="page-count"
        onChange={(e) => setValue(e.target.value)}
        onBlur={() => setValue(page?.label ?? "")}
        inputMode="text"
        autoComplete="off"
      />
      <span id="page-count" className="muted small-text">
        {page && page.label !== String(page.number) ? `(${page.number}) ` : ""}of {pages.length}
      </span>
      <button type="button" className="icon-button" aria-label="Next page" disabled={current >= pages.length - 1} onClick={() => props.onGo(current + 1)}>
        <span aria-hidden="true">›</span>
      </button>
    </form>
  );
}

/** The page a person means: its printed label, else its 1-based number. */
export function pageIndexFor(pages: PageSummary[], input: string): number | null {
  const v = input.trim().toLowerCase();
  if (!v) return null;
  const byLabel = pages.find((p) => p.label.toLowerCase() === v);
  if (byLabel) return byLabel.index;
  const n = Number(v);
  if (Number.isInteger(n) && n >= 1 && n <= pages.length) return n - 1;
  return null;
}

/** A page's heading in text documents: the chapter or section title when there is one. */
function pageHeading(page: PageSummary): string {
  const loc = page.locator as Record<string, unknown> | null;
  const title = loc && (typeof loc.chapter_title === "string" ? loc.chapter_title : typeof loc.heading === "string" ? loc.heading : null);
  return title ? `${page.label} · ${title}` : `Page ${page.label}`;
}

/**
 * Which pages are near the viewport (to render them) and which one is on top (the current
 * page). Without IntersectionObserver (tests) the pages around the current one count.
 */
function useVisiblePages(container: React.RefObject<HTMLDivElement | null>, count: number, around: number) {
  const [near, setNear] = useState<Set<number>>(() => new Set());
  const [top, setTop] = useState<number | null>(null);
  useEffect(() => {
    const root = container.current;
    if (!root) return;
    if (typeof IntersectionObserver === "undefined") {
      const s = new Set<number>();
      for (let i = Math.max(0, around - 2); i <= Math.min(count - 1, around + 2); i += 1) s.add(i);
      setNear(s);
      return;
    }
    const nearObs = new IntersectionObserver(
      (entries) => {
        setNear((prev) => {
          const next = new Set(prev);
          for (const e of entries) {
            const i = Number((e.target as HTMLElement).dataset.pageIndex);
            if (e.isIntersecting) next.add(i);
            else next.delete(i);
          }
          return next;
        });
      },
      { root, rootMargin: "600px 0px" },
    );
    const ratios = new Map<number, number>();
    const topObs = new IntersectionObserver(
      (entries) => {
        for (const e of entries) ratios.set(Number((e.target as HTMLElement).dataset.pageIndex), e.intersectionRatio);
        let best: number | null = null;
        let bestRatio = 0;
        for (const [i, r] of ratios) {
          if (r > bestRatio || (r === bestRatio && best !== null && r > 0 && i < best)) {
            best = i;
            bestRatio = r;
          }
        }
        if (best !== null && bestRatio > 0) setTop(best);
      },
      { root, threshold: [0, 0.25, 0.5, 0.75, 1] },
    );
    for (const el of Array.from(root.querySelectorAll<HTMLElement>("[data-page-index]"))) {
      nearObs.observe(el);
      topObs.observe(el);
    }
    return () => {
      nearObs.disconnect();
      topObs.disconnect();
    };
    // `around` only matters without IntersectionObserver.
  }, [container, count, typeof IntersectionObserver === "undefined" ? around : -1]);
  return { near, top };
}

function useJump(container: React.RefObject<HTMLDivElement | null>, jump: Jump | null) {
  useEffect(() => {
    if (!jump || !container.current) return;
    const el = container.current.querySelector<HTMLElement>(`[data-page-index="${jump.pageIndex}"]`);
    el?.scrollIntoView?.({ block: "start" });
  }, [container, jump]);
}

function useReportTop(top: number | null, onVisible: (i: number) => void) {
  const report = useRef(onVisible);
  report.current = onVisible;
  useEffect(() => {
    if (top !== null) report.current(top);
  }, [top]);
}

export function TextView(props: { details: DocumentDetails; jump: Jump | null; onVisible: (i: number) => void; onError: (m: string) => void }) {
  const { details, jump } = props;
  const doc = details.document.id;
  const pages = details.pages;
  const container = useRef<HTMLDivElement>(null);
  const [texts, setTexts] = useState<Map<number, string>>(() => new Map());
  const requested = useRef(new Set<number>());
  const { near, top } = useVisiblePages(container, pages.length, jump?.pageIndex ?? 0);
  useJump(container, jump);
  useReportTop(top, props.onVisible);
  const onError = useRef(props.onError);
  onError.current = props.onError;

  useEffect(() => {
    const want = new Set(near);
    if (jump) want.add(jump.pageIndex);
    for (const i of want) {
      if (requested.current.has(i) || i < 0 || i >= pages.length) continue;
      requested.current.add(i);
      api
        .pageText(doc, i)
        .then((t) => setTexts((m) => new Map(m).set(i, t)))
        .catch((e) => {
          requested.current.delete(i);
          onError.current(errorText(e));
        });
    }
  }, [near, jump, doc, pages.length]);

  // After a jump with a highlight, bring the first mark into view once the text is there.
  const jumpText = jump ? texts.get(jump.pageIndex) : undefined;
  useEffect(() => {
    if (!jump?.highlight || jumpText === undefined || !container.current) return;
    const mark = container.current.querySelector<HTMLElement>(`[data-page-index="${jump.pageIndex}"] mark`);
    mark?.scrollIntoView?.({ block: "center" });
  }, [jump, jumpText]);

  return (
    <div className="text-view" ref={container} tabIndex={0} aria-label={`Text of ${details.document.title}`}>
      {pages.map((p) => {
        const text = texts.get(p.index);
        const highlight = jump && jump.pageIndex === p.index ? jump.highlight : null;
        return (
          <section
            key={p.index}
            className="text-page"
            data-page-index={p.index}
            aria-label={`Page ${p.label}`}
            style={text === undefined ? { minHeight: `${Math.max(4, Math.min(60, p.chars / 80)) * 1.6}em` } : undefined}
          >
            <h3 className="page-heading">{pageHeading(p)}</h3>
            {text === undefined ? <p className="muted">…</p> : <PageText text={text} highlight={highlight} />}
          </section>
        );
      })}
    </div>
  );
}

/** Page text with highlights: React text nodes and <mark> elements, never HTML. */
export function PageText(props: { text: string; highlight: HighlightSpec | null }) {
  const pieces = useMemo(() => applyRanges(props.text, findRanges(props.text, props.highlight)), [props.text, props.highlight]);
  return (
    <div className="page-text">
      {pieces.map((p, i) =>
        p.mark ? (
          <mark key={i} className="hl">
            {p.text}
          </mark>
        ) : (
          <span key={i}>{p.text}</span>
        ),
      )}
    </div>
  );
}

function pdfPageNumber(p: PageSummary): number {
  const loc = p.locator as Record<string, unknown> | null;
  if (loc && loc.kind === "pdf" && typeof loc.page_index === "number") return loc.page_index + 1;
  return p.index + 1;
}

export function PdfView(props: { details: DocumentDetails; jump: Jump | null; onVisible: (i: number) => void; onError: (m: string) => void }) {
  const { details, jump } = props;
  const pages = details.pages;
  const container = useRef<HTMLDivElement>(null);
  const [pdf, setPdf] = useState<PDFDocumentProxy | null>(null);
  const [base, setBase] = useState<{ w: number; h: number } | null>(null);
  const [width, setWidth] = useState(800);
  const [failed, setFailed] = useState<string | null>(null);
  const { near, top } = useVisiblePages(container, base ? pages.length : 0, jump?.pageIndex ?? 0);
  useJump(container, base ? jump : null);
  useReportTop(top, props.onVisible);

  useEffect(() => {
    let gone = false;
    let doc: PDFDocumentProxy | null = null;
    (async () => {
      try {
        const bytes = await api.documentBytes(details.document.id);
        const { openPdf } = await import("../lib/pdf");
        doc = await openPdf(bytes);
        if (gone) {
          void doc.destroy();
          return;
        }
        const first = await doc.getPage(pages[0] ? pdfPageNumber(pages[0]) : 1);
        const vp = first.getViewport({ scale: 1 });
        setBase({ w: vp.width, h: vp.height });
        setPdf(doc);
      } catch (e) {
        if (!gone) setFailed(errorText(e));
      }
    })();
    return () => {
      gone = true;
      void doc?.destroy();
    };
  }, [details.document.id, pages]);

  useEffect(() => {
    const el = container.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    setWidth(el.clientWidth);
    return () => ro.disconnect();
  }, []);

  // The page width that fits the pane, times the person's zoom.
  const [zoom, setZoom] = useState(1);
  const fit = base ? Math.max(0.4, Math.min(2, (Math.min(width, 980) - 48) / base.w)) : 1;
  const scale = fit * zoom;
  const zoomBy = (factor: number | null) => {
    const keep = top;
    setZoom((z) => (factor === null ? 1 : Math.max(0.5, Math.min(4, z * factor))));
    // The page on top stays on top.
    requestAnimationFrame(() => container.current?.querySelector(`[data-page-index="${keep}"]`)?.scrollIntoView({ block: "start" }));
  };

  if (failed) {
    return (
      <p className="error-box" role="alert">
        This PDF cannot be shown: {failed}
      </p>
    );
  }
  return (
    <>
      {base ? (
        <div className="zoom-bar" role="toolbar" aria-label="Zoom">
          <button type="button" className="small secondary" aria-label="Zoom out" title="Zoom out (Ctrl+−)" disabled={zoom <= 0.5} onClick={() => zoomBy(0.8)}>
            −
          </button>
          <button type="button" className="small secondary" aria-label="Fit the width" title="Fit the width (Ctrl+0)" onClick={() => zoomBy(null)}>
            {Math.round(scale * 100)} %
          </button>
          <button type="button" className="small secondary" aria-label="Zoom in" title="Zoom in (Ctrl++)" disabled={zoom >= 4} onClick={() => zoomBy(1.25)}>
            +
          </button>
        </div>
      ) : null}
      <div
        className="pdf-view"
        ref={container}
        tabIndex={0}
        aria-label={`Pages of ${details.document.title}`}
        aria-busy={!pdf}
        onKeyDown={(e) => {
          if (!(e.ctrlKey || e.metaKey)) return;
          const factor = e.key === "=" || e.key === "+" ? 1.25 : e.key === "-" ? 0.8 : e.key === "0" ? null : undefined;
          if (factor === undefined) return;
          e.preventDefault();
          zoomBy(factor);
        }}
      >
        {!base ? <p className="muted pad">Rendering…</p> : null}
        {base
          ? pages.map((p) => (
              <section
                key={p.index}
                className="pdf-page"
                data-page-index={p.index}
                aria-label={`Page ${p.label}`}
                style={{ width: `${base.w * scale}px`, height: `${base.h * scale}px` }}
              >
                {pdf && (near.has(p.index) || jump?.pageIndex === p.index) ? (
                  <PdfPage
                    pdf={pdf}
                    number={pdfPageNumber(p)}
                    scale={scale}
                    highlight={jump && jump.pageIndex === p.index ? jump.highlight : null}
                    nonce={jump && jump.pageIndex === p.index ? jump.nonce : 0}
                  />
                ) : null}
              </section>
            ))
          : null}
      </div>
    </>
  );
}

function PdfPage(props: { pdf: PDFDocumentProxy; number: number; scale: number; highlight: HighlightSpec | null; nonce: number }) {
  const { pdf, number, scale, highlight, nonce } = props;
  const canvas = useRef<HTMLCanvasElement>(null);
  const textLayer = useRef<HTMLDivElement>(null);
  const holder = useRef<HTMLDivElement>(null);
  const [textReady, setTextReady] = useState(0);

  useEffect(() => {
    let task: RenderTask | null = null;
    let layer: { cancel(): void } | null = null;
    let gone = false;
    (async () => {
      const { pdfjs } = await import("../lib/pdf");
      const lib = await pdfjs();
      const page = await pdf.getPage(number);
      if (gone || !canvas.current || !textLayer.current || !holder.current) return;
      const viewport = page.getViewport({ scale });
      const dpr = window.devicePixelRatio || 1;
      const c = canvas.current;
      c.width = Math.floor(viewport.width * dpr);
      c.height = Math.floor(viewport.height * dpr);
      c.style.width = `${viewport.width}px`;
      c.style.height = `${viewport.height}px`;
      holder.current.style.setProperty("--total-scale-factor", String(scale));
      const ctx = c.getContext("2d");
      if (!ctx) return;
      task = page.render({ canvas: c, canvasContext: ctx, viewport, transform: dpr !== 1 ? [dpr, 0, 0, dpr, 0, 0] : undefined });
      const tl = textLayer.current;
      tl.replaceChildren();
      const text = new lib.TextLayer({ textContentSource: page.streamTextContent(), container: tl, viewport });
      layer = text;
      await Promise.all([task.promise, text.render()]);
      if (!gone) setTextReady((n) => n + 1);
    })().catch((e: unknown) => {
      if (!gone && !(e instanceof Error && e.name === "RenderingCancelledException")) console.warn("pdf page", number, e);
    });
    return () => {
      gone = true;
      task?.cancel();
      layer?.cancel();
    };
  }, [pdf, number, scale]);

  useEffect(() => {
    if (!textReady || !textLayer.current) return;
    const marks = markSpec(textLayer.current, highlight);
    holder.current?.setAttribute("data-rendered", "true");
    if (marks.length > 0 && nonce) marks[0]?.scrollIntoView?.({ block: "center" });
  }, [textReady, highlight, nonce]);

  return (
    <div className="pdf-page-inner" ref={holder} data-page-number={number}>
      <canvas ref={canvas} aria-hidden="true" />
      <div ref={textLayer} className="textLayer" />
    </div>
  );
}
