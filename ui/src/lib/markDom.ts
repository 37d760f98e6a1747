// Highlighting inside rendered text (the PDF text layer): the text nodes under a root are
// read in order as one string, ranges are found in it, and the matching parts of the text
// nodes are wrapped in <mark> elements by splitting nodes (DOM operations only, no HTML).

import { findRanges, type HighlightSpec, type Range } from "./highlight";

export const MARK_CLASS = "hl";

function textNodes(root: Node): Text[] {
  const out: Text[] = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if ((n as Text).data.length > 0) out.push(n as Text);
  }
  return out;
}

/** Removes marks made by [`markRanges`], restoring the plain text nodes. */
export function clearMarks(root: HTMLElement): void {
  for (const m of Array.from(root.querySelectorAll(`mark.${MARK_CLASS}`))) {
    const parent = m.parentNode;
    if (!parent) continue;
    while (m.firstChild) parent.insertBefore(m.firstChild, m);
    parent.removeChild(m);
    parent.normalize();
  }
}

/**
 * Marks what `spec` finds in the text under `root` (separate text nodes read as separated by
 * a space). Returns the marks, in document order.
 */
export function markSpec(root: HTMLElement, spec: HighlightSpec | null): HTMLElement[] {
  clearMarks(root);
  if (!spec) return [];
  const nodes = textNodes(root);
  let joined = "";
  const starts: number[] = [];
  for (const n of nodes) {
    if (joined.length > 0 && !/\s$/.test(joined)) joined += " ";
    starts.push(joined.length);
    joined += n.data;
  }
  return markRanges(nodes, starts, findRanges(joined, spec));
}

function markRanges(nodes: Text[], starts: number[], ranges: Range[]): HTMLElement[] {
  const marks: HTMLElement[] = [];
  // Walk backwards so splitting a node does not move the offsets still to do.
  for (let k = nodes.length - 1; k >= 0; k -= 1) {
    const node = nodes[k] as Text;
    const start = starts[k] as number;
    const end = start + node.data.length;
    const local = ranges
      .filter(([s, e]) => e > start && s < end)
      .map(([s, e]): Range => [Math.max(s, start) - start, Math.min(e, end) - start])
      .sort((a, b) => b[0] - a[0]);
    for (const [s, e] of local) {
      if (!/\S/.test(node.data.slice(s, e))) continue;
      const tail = node.splitText(e);
      const middle = node.splitText(s);
      const mark = document.createElement("mark");
      mark.className = MARK_CLASS;
      middle.parentNode?.insertBefore(mark, tail);
      mark.appendChild(middle);
      marks.unshift(mark);
    }
  }
  return marks;
}
