import { describe, expect, it } from "vitest";
import { closest, SUGGEST_MAX, type SuggestWork } from "../../../src/core/suggest.ts";
import { commandName } from "../../../commands/define.ts";
import { table } from "../../../commands/table.ts";

const names = table.map(commandName);

describe("closest", () => {
  it.each([
    ["task clam", "task claim"],
    ["projet list", "project list"],
    ["POOL INF", "pool info"],
    ["goal", "goal announce"],
    ["zzzzzz", null],
  ])("GIVEN %j THEN %j", (word, expected) => expect(closest(word, names)).toBe(expected));

  it("GIVEN a 100 KB token THEN no edit distance is computed at all", () => {
    const work: SuggestWork = { cells: 0 };
    expect(closest("x".repeat(100_000), names, work)).toBeNull();
    expect(work.cells).toBe(0);
  });

  it("GIVEN any word THEN the work is bounded by the longest word compared, whatever its length", () => {
    const longestName = Math.max(...names.map((n) => n.length));
    const bound = SUGGEST_MAX * longestName * names.length;
    for (const n of [1, 10, SUGGEST_MAX, SUGGEST_MAX + 1, 1_000, 100_000]) {
      const work: SuggestWork = { cells: 0 };
      closest("task claim".repeat(n).slice(0, n), names, work);
      expect(work.cells).toBeLessThanOrEqual(bound);
    }
  });

  it("GIVEN candidates far longer or shorter than the word THEN they are not compared", () => {
    const work: SuggestWork = { cells: 0 };
    expect(closest("ab", ["abcdefghijkl", "xyzxyzxyzxyz", "ax"], work)).toBe("abcdefghijkl");
    expect(work.cells).toBe(2 * 2);
  });
});
