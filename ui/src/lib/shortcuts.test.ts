import { describe, expect, test } from "vitest";
import { isTextEntry, shortcutFor } from "./shortcuts";

const key = (k: string, mods: Partial<{ ctrl: boolean; meta: boolean; alt: boolean; shift: boolean }> = {}) => ({
  key: k,
  ctrlKey: !!mods.ctrl,
  metaKey: !!mods.meta,
  altKey: !!mods.alt,
  shiftKey: !!mods.shift,
});

describe("shortcuts", () => {
  test("modifier shortcuts work everywhere", () => {
    for (const typing of [false, true]) {
      expect(shortcutFor(key("k", { ctrl: true }), typing)).toBe("focus-question");
      expect(shortcutFor(key("K", { meta: true }), typing)).toBe("focus-question");
      expect(shortcutFor(key("f", { ctrl: true }), typing)).toBe("focus-search");
      expect(shortcutFor(key("ArrowDown", { alt: true }), typing)).toBe("next-citation");
      expect(shortcutFor(key("ArrowUp", { alt: true }), typing)).toBe("previous-citation");
      expect(shortcutFor(key("Escape"), typing)).toBe("escape");
    }
  });

  test("plain keys belong to text fields", () => {
    expect(shortcutFor(key("/"), false)).toBe("focus-question");
    expect(shortcutFor(key("?", { shift: true }), false)).toBe("help");
    expect(shortcutFor(key("/"), true)).toBeNull();
    expect(shortcutFor(key("?", { shift: true }), true)).toBeNull();
    expect(shortcutFor(key("a"), false)).toBeNull();
    expect(shortcutFor(key("f", { ctrl: true, shift: true }), false)).toBeNull();
  });

  test("what counts as a text field", () => {
    const input = document.createElement("input");
    const checkbox = document.createElement("input");
    checkbox.type = "checkbox";
    expect(isTextEntry(input)).toBe(true);
    expect(isTextEntry(checkbox)).toBe(false);
    expect(isTextEntry(document.createElement("textarea"))).toBe(true);
    expect(isTextEntry(document.createElement("button"))).toBe(false);
    expect(isTextEntry(null)).toBe(false);
  });
});
