// task show after pool correct: a verified claim whose credit was reversed is not shown as
// credited; its slot reads corrected and the reversal shows who made it and why. Reversing the
// reversal shows the work credited again, with no reversal left on it.
import { afterEach, describe, expect, it } from "vitest";
import { HOUR_MS } from "../../../src/core/time.ts";
import { testPool, text, type TestPool } from "../../support/app.ts";

let t: TestPool;
afterEach(() => t?.close());

async function verifiedWork(): Promise<TestPool> {
  const tp = await testPool({ start: "2026-11-02T09:00:00Z" });
  await tp.ok("admin", "pool create Riverside");
  await tp.ok("alice", "project create bakery The Bakery");
  await tp.ok("alice", "task post bakery Knead the dough hours:2 kind:baking");
  await tp.ok("bob", "task claim 1");
  await tp.ok("bob", "task done 1");
  tp.clock.advance(HOUR_MS);
  await tp.ok("alice", "task verify 1 @bob");
  return tp;
}

describe("task show after a reversed credit", () => {
  it("GIVEN bob's verified credit reversed by pool correct THEN task show reads the slot corrected, credits nothing, and says who reversed it and why", async () => {
    t = await verifiedWork();
    const before = await t.say("bob", "task show 1");
    expect(text(before)).toContain("2.00 wh by @alice");
    t.clock.advance(HOUR_MS);
    await t.ok("admin", 'pool correct 1 "the dough was never kneaded" confirm');

    const shown = await t.say("bob", "task show 1");
    expect(shown.ok).toBe(true);
    const body = text(shown);
    // Not credited any more: no amount in the claim's row, the task open again.
    expect(body).not.toContain("2.00 wh by @alice");
    expect(body).toMatch(/@bob\s+\S+\s+corrected/);
    expect(body).toContain("reversed by @admin");
    expect(body).toContain("the dough was never kneaded");
    expect(body).toContain("entry #2");
    const data = (shown as { data: { task: { state?: string; status?: string; claims: unknown[] } } }).data.task;
    expect(data.claims).toEqual([
      expect.objectContaining({
        member: "bob",
        status: "corrected",
        credited: null,
        correction: expect.objectContaining({ entry: 2, by: "admin", reason: "the dough was never kneaded" }),
      }),
    ]);
  });

  it("GIVEN the reversal reversed THEN task show credits bob again and shows no reversal", async () => {
    t = await verifiedWork();
    await t.ok("admin", "pool correct 1 oops confirm");
    await t.ok("admin", "pool correct 2 that was the wrong entry confirm");
    const shown = await t.say("bob", "task show 1");
    const body = text(shown);
    expect(body).toContain("2.00 wh by @alice");
    expect(body).not.toContain("reversed by");
    const data = (shown as { data: { task: { claims: unknown[] } } }).data.task;
    expect(data.claims).toEqual([expect.objectContaining({ status: "verified", credited: 2, correction: null })]);
  });
});
