// A simulated month through the real commands: the weights find themselves.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { README_FILE, replaceSection, simulationSection } from "../../scripts/gen-docs.ts";
import { simulateMonth } from "../../scripts/simulate.ts";

describe("a simulated month with popular and unpopular kinds of work", () => {
  it.each([1, 2, 3])("GIVEN seed %i THEN popular kinds end below 1.0, unpopular ones above, and the ledger balances", async (seed) => {
    const r = await simulateMonth(seed);
    const weight = (kind: string) => r.kinds.find((k) => k.kind === kind)!.weight;
    expect(weight("programming")).toBeLessThan(1);
    expect(weight("garbage")).toBeGreaterThan(1);
    expect(weight("cleaning")).toBeGreaterThan(1);
    expect(weight("garbage")).toBeGreaterThan(weight("programming"));
    expect(r.balanced).toBe(true);
    for (const k of r.kinds) expect(k.claimed).toBeGreaterThan(k.posted * 0.8);
  });

  it("GIVEN the README THEN its figures are the simulation's (npm run docs updates them)", async () => {
    const readme = readFileSync(README_FILE, "utf8");
    expect(replaceSection(readme, "simulation", await simulationSection())).toBe(readme);
  });
});
