import { describe, expect, test } from "vitest";
import { baseName, exportFileName, formatBytes, formatEta, formatPercent, formatRate } from "./format";

describe("format", () => {
  test("bytes in binary units, one decimal below 10", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(21_800_000)).toBe("21 MB");
    expect(formatBytes(531_068_000)).toBe("506 MB");
    expect(formatBytes(1_646_000_000)).toBe("1.5 GB");
    expect(formatBytes(null)).toBe("—");
    expect(formatBytes(-1)).toBe("—");
  });

  test("percent never says 100 % before the end", () => {
    expect(formatPercent(0)).toBe("0 %");
    expect(formatPercent(0.4267)).toBe("42 %");
    expect(formatPercent(0.999)).toBe("99 %");
    expect(formatPercent(1)).toBe("100 %");
    expect(formatPercent(Number.NaN)).toBe("0 %");
  });

  test("ETA from a serialized Duration", () => {
    expect(formatEta(null)).toBe("");
    expect(formatEta({ secs: 42, nanos: 0 })).toBe("under a minute");
    expect(formatEta({ secs: 59, nanos: 999_000_000 })).toBe("under a minute");
    expect(formatEta({ secs: 90, nanos: 0 })).toBe("2 min");
    expect(formatEta({ secs: 12 * 60 + 20, nanos: 0 })).toBe("12 min");
    expect(formatEta({ secs: 3600, nanos: 0 })).toBe("1 h");
    expect(formatEta({ secs: 2 * 3600 + 5 * 60, nanos: 0 })).toBe("2 h 05 min");
  });

  test("rates", () => {
    expect(formatRate(183.4)).toBe("183 tokens/s");
    expect(formatRate(4.25)).toBe("4.3 tokens/s");
    expect(formatRate(0)).toBe("");
    expect(formatRate(null)).toBe("");
  });

  test("file names", () => {
    expect(baseName("/home/a/Books/Persuasion.pdf")).toBe("Persuasion.pdf");
    expect(baseName("C:\\Users\\a\\book.epub")).toBe("book.epub");
    expect(exportFileName("Who is Anne? / part: 1")).toBe("Who is Anne part 1.md");
    expect(exportFileName("???")).toBe("chat.md");
  });
});
