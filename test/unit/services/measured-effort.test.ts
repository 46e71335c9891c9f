// Measured effort counts only finished work: a production task's units and its credited work
// count once every slot of it is verified (the task is done); a cancelled task never counts.
import { afterEach, describe, expect, it } from "vitest";
import { riverside, type TestPool } from "../../support/app.ts";

let t: TestPool;
afterEach(() => t?.close());

/** The bakery (alice coordinates) with bread declared at 2 wh per loaf, 10 in stock, measured from 6 units on. */
async function bakery(): Promise<TestPool> {
  const tp = await riverside({ members: ["bob", "carol", "dave", "erin"] });
  await tp.ok("admin", "pool policy measuredEffortMinUnits 6");
  await tp.ok("alice", "good add bakery bread effort:2 stock:10");
  return tp;
}

const bread = async () => (await t.ok("erin", "good show bread")).good;

describe("measured effort counts only finished work (issue 13, item 11)", () => {
  it("GIVEN a 3-slot task making 6 loaves with 1 of 3 claims verified THEN nothing is measured yet and members pay the declared 2.00; with all 3 verified, 6.6 wh / 6 = 1.10", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Bake the week's bread hours:2 slots:3 good:bread qty:6");
    for (const [who, hours] of [
      ["bob", "3"],
      ["carol", "2"],
      ["dave", "1.6"],
    ]) {
      await t.ok(who!, "task claim 1");
      await t.ok(who!, `task done 1 hours:${hours}`);
    }
    await t.ok("alice", "task verify 1 @bob");
    expect(await bread()).toMatchObject({ measuredUnits: 0, measuredEffort: null, effort: 2 }); // was 6 units at 0.5
    expect((await t.ok("erin", "good request bread qty:1")).request.cost).toBe(2); // was charged 0.5
    await t.ok("alice", "task verify 1 @carol");
    expect(await bread()).toMatchObject({ measuredUnits: 0, measuredEffort: null, effort: 2 });
    await t.ok("alice", "task verify 1 @dave");
    expect(await bread()).toMatchObject({ measuredUnits: 6, measuredEffort: 1.1, effort: 1.1 });
    expect((await t.ok("erin", "good request bread qty:1")).request.cost).toBe(1.1);
  });

  it("GIVEN a production task cancelled after one of its two slots was verified THEN its units never count", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Bake rolls hours:1 slots:2 good:bread qty:8");
    await t.ok("bob", "task claim 1");
    await t.ok("bob", "task done 1");
    await t.ok("alice", "task verify 1 @bob");
    await t.ok("alice", "task cancel 1");
    expect(await bread()).toMatchObject({ measuredUnits: 0, measuredEffort: null, effort: 2 }); // was 8 units at 0.125
    expect((await t.ok("erin", "good request bread qty:1")).request.cost).toBe(2); // was 0.125
  });
});
