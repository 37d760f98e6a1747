// WCAG AA contrast of the colour pairs the UI uses, in both themes, read from styles.css.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";

const css = readFileSync(join(__dirname, "styles.css"), "utf8");

function variables(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of block.matchAll(/--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;/g)) out[m[1] as string] = m[2] as string;
  return out;
}

const light = variables(css.slice(css.indexOf(":root {"), css.indexOf("}", css.indexOf(":root {"))));
const darkStart = css.indexOf("@media (prefers-color-scheme: dark)");
const dark = { ...light, ...variables(css.slice(darkStart, css.indexOf("}\n}", darkStart))) };

function luminance(hex: string): number {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * (c[0] as number) + 0.7152 * (c[1] as number) + 0.0722 * (c[2] as number);
}

export function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
}

// [foreground, background, minimum]: 4.5 for text, 3 for large text and UI parts.
const PAIRS: [string, string, number][] = [
  ["text", "bg", 4.5],
  ["text", "surface", 4.5],
  ["text", "surface-2", 4.5],
  ["muted", "surface", 4.5],
  ["muted", "surface-2", 4.5],
  ["muted", "bg", 4.5],
  ["accent-text", "accent", 4.5],
  ["accent-soft-text", "accent-soft", 4.5],
  ["accent-soft-text", "surface", 4.5],
  ["accent", "surface", 3],
  ["danger-text", "danger", 4.5],
  ["danger-soft-text", "danger-soft", 4.5],
  ["danger-soft-text", "surface", 4.5],
  ["success", "surface", 4.5],
  ["success", "accent-soft", 4.5],
  ["warning", "surface", 4.5],
  ["mark-text", "mark", 4.5],
  ["focus", "surface", 3],
  ["focus", "bg", 3],
];

describe("contrast (WCAG AA)", () => {
  test("both themes define every colour", () => {
    for (const [fg, bg] of PAIRS) {
      expect(light[fg], `light --${fg}`).toBeDefined();
      expect(light[bg], `light --${bg}`).toBeDefined();
      expect(dark[fg], `dark --${fg}`).not.toBe(undefined);
    }
    expect(dark.bg).not.toBe(light.bg);
  });

  for (const [name, theme] of [
    ["light", light],
    ["dark", dark],
  ] as const) {
    test(`${name} theme pairs`, () => {
      const failures = PAIRS.filter(([fg, bg, min]) => contrast(theme[fg] as string, theme[bg] as string) < min).map(
        ([fg, bg, min]) => `--${fg} on --${bg}: ${contrast(theme[fg] as string, theme[bg] as string).toFixed(2)} < ${min}`,
      );
      expect(failures).toEqual([]);
    });
  }

  test("the checker itself", () => {
    expect(contrast("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(contrast("#777777", "#ffffff")).toBeCloseTo(4.48, 2);
  });
});
