import { describe, expect, it } from "vitest";
import { EXCERPT_MAX, excerpt, unsafeChar, withoutUnsafe } from "../../../src/core/clean-text.ts";

describe("unsafeChar", () => {
  it.each([
    ["Bake bread", null],
    ["Crème brûlée für 40 Haushalte", null],
    ["日本語のテキスト", null],
    ["שלום עולם", null], // right-to-left script itself is text
    ["مرحبا", null],
    ["e\u0301", null], // combining accent
    ["🎉 party", null],
    ["👩‍🍳 cooks", null], // woman, ZWJ, cooking
    ["👩🏽‍🍳 cooks", null], // with a skin tone before the joiner
    ["🏳️‍🌈 flag", null], // VS16 before the joiner
    ["❤️‍🔥", null],
    ["👩‍👩‍👧", null],
    ["🏴󠁧󠁢󠁳󠁣󠁴󠁿", null], // subdivision flag: tag characters, no joiner
  ])("GIVEN %j THEN it is clean", (s, expected) => expect(unsafeChar(s)).toBe(expected));

  it.each([
    ["a\u001bb", "control", "U+001B", 2],
    ["\u0007", "control", "U+0007", 1],
    ["a\u0085", "control", "U+0085", 2],
    ["a\u007f", "control", "U+007F", 2],
    ["pay \u202Ealice", "direction", "U+202E", 5],
    ["\u202Aembedded", "direction", "U+202A", 1],
    ["\u2066isolate\u2069", "direction", "U+2066", 1],
    ["\u2069", "direction", "U+2069", 1],
    ["mark\u200E", "direction", "U+200E", 5],
    ["mark\u200F", "direction", "U+200F", 5],
    ["\u061C", "direction", "U+061C", 1],
    ["zero\u200Bwidth", "invisible", "U+200B", 5],
    ["zero\u200Cwidth", "invisible", "U+200C", 5],
    ["word\u2060joiner", "invisible", "U+2060", 5],
    ["\uFEFFbom", "invisible", "U+FEFF", 1],
    // The joiner between letters, after an emoji with nothing after it, or between an emoji and a letter.
    ["Pas\u200Dtry", "invisible", "U+200D", 4],
    ["👩\u200D", "invisible", "U+200D", 2],
    ["\u200D🍳", "invisible", "U+200D", 1],
    ["👩\u200Dx", "invisible", "U+200D", 2],
    ["a\u200D\u200D🍳", "invisible", "U+200D", 2],
    ["🎉 lone \ud800 half", "invisible", "U+D800", 8],
  ])("GIVEN %j THEN %s %s at %i", (s, kind, codePoint, position) => {
    expect(unsafeChar(s)).toEqual({ kind, codePoint, position });
  });

  it("GIVEN a display name with hidden characters THEN withoutUnsafe keeps the rest, emoji joiners included", () => {
    expect(withoutUnsafe("\u202Eal\u200Bice 👩‍🍳\u0007")).toBe("alice 👩‍🍳");
    expect(withoutUnsafe("plain")).toBe("plain");
  });
});

describe("excerpt", () => {
  it.each([
    ["hello", "hello"],
    ["a\u001b[31mred", "a\\u001b[31mred"],
    ["bell\u0007", "bell\\u0007"],
    ["\u202Eevil", "\\u202eevil"],
    ["zero\u200Bwidth", "zero\\u200bwidth"],
    ["👩‍🍳", "👩‍🍳"],
    ["x".repeat(61), `${"x".repeat(60)}…`],
    ["x".repeat(60), "x".repeat(60)],
  ])("GIVEN %j THEN %j", (input, shown) => expect(excerpt(input)).toBe(shown));

  it("GIVEN 100 KB of escapes and emoji THEN at most 60 characters are shown, none raw", () => {
    for (const input of ["\u001b".repeat(100_000), "🎉".repeat(100_000), "a\u202e".repeat(50_000), "👩‍🍳".repeat(30_000)]) {
      const shown = excerpt(input);
      expect([...shown.replace(/…$/, "")].length).toBeLessThanOrEqual(EXCERPT_MAX);
      expect(shown.endsWith("…")).toBe(true);
      expect(unsafeChar(shown)).toBeNull();
    }
  });

  it("GIVEN a cut right after an emoji's joiner THEN the joiner goes with the cut", () => {
    const shown = excerpt(`${"x".repeat(58)}👩‍🍳`);
    expect(shown).toBe(`${"x".repeat(58)}👩…`);
  });
});
