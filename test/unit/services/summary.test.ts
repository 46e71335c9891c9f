import { afterEach, describe, expect, it } from "vitest";
import { okPayload, LIMITS } from "../../../adapters/discord/render.ts";
import { DAY_MS, HOUR_MS } from "../../../src/core/time.ts";
import { testPool, type TestPool } from "../../support/app.ts";

let t: TestPool;
afterEach(() => t?.close());

describe("pool summary", () => {
  it("GIVEN a task held by a claim for part of the period THEN its weight before is what it was at the period's start, not a guess", async () => {
    t = await testPool({ start: "2026-11-02T09:00:00Z" });
    await t.ok("admin", "pool create Riverside");
    await t.ok("alice", "project create bakery The Bakery");
    await t.ok("alice", "task post bakery Knead hours:1 kind:baking");
    // Open 2 days, held 3 days by bob who drops it, open 4 more days: 6 open days in all.
    t.clock.advance(2 * DAY_MS);
    await t.ok("bob", "task claim 1");
    t.clock.advance(3 * DAY_MS);
    await t.ok("bob", "task drop 1");
    t.clock.advance(4 * DAY_MS);
    const s = (await t.ok("alice", "pool summary bakery days:7")).projects[0];
    // Seven days ago the task was 2 days old and had been open for all of them: 1.1^2 = 1.21.
    // A guess from the period's length (6 open days less 7) would say 1.00.
    expect(s.open[0]).toMatchObject({ id: 1, weight: 1.771561, weightBefore: 1.21 });
  });

  it("GIVEN a week of work THEN the summary shows open tasks with their rise, waiting work, contributions, goods and patterns", async () => {
    t = await testPool({ start: "2026-11-02T09:00:00Z" });
    await t.ok("admin", "pool create Riverside");
    await t.ok("alice", "project create bakery The Bakery");
    await t.ok("bob", "me balance");
    await t.ok("alice", "project coordinator add bakery @bob");
    await t.ok("alice", "good add bakery cake effort:2");
    for (let i = 0; i < 5; i++) await t.ok("alice", `task post bakery Job${i} hours:1 kind:baking`);
    t.clock.advance(3 * DAY_MS);
    // carol takes three tasks only after they rose; alice and bob verify each other.
    for (const id of [1, 2, 3]) {
      await t.ok("carol", `task claim ${id}`);
      await t.ok("carol", `task done ${id}`);
      await t.ok("alice", `task verify ${id} @carol`);
    }
    await t.ok("alice", "task post bakery Mutual1 hours:1");
    await t.ok("alice", "task post bakery Mutual2 hours:1");
    await t.ok("alice", "task post bakery Mutual3 hours:1");
    await t.ok("alice", "task post bakery Mutual4 hours:1");
    for (const [worker, verifier, id] of [
      ["alice", "bob", 6],
      ["bob", "alice", 7],
      ["alice", "bob", 8],
      ["bob", "alice", 9],
    ] as const) {
      await t.ok(worker, `task claim ${id}`);
      await t.ok(worker, `task done ${id}`);
      await t.ok(verifier, `task verify ${id} @${worker}`);
    }
    await t.ok("carol", "task claim 4");
    await t.ok("carol", "task done 4 hours:1.5");
    await t.ok("dave", "good request cake weight:1.5");
    await t.ok("erin", "good request cake weight:1.2");
    t.clock.advance(HOUR_MS);
    await t.ok("alice", "good produce cake 1");
    await t.ok("alice", "good allocate cake");
    t.clock.advance(DAY_MS);
    const s = (await t.ok("admin", "pool summary bakery")).projects[0];
    expect(s.open.map((x: { id: number }) => x.id)).toEqual([5]);
    expect(s.open[0]).toMatchObject({ weight: 1.4641, weightBefore: 1 });
    expect(s.fastestRising).toBe(5);
    expect(s.waiting).toEqual([{ task: 4, title: "Job3", member: "carol", hours: 1.5 }]);
    expect(s.contributions.total).toBe(3 * 1.331 + 4);
    expect(s.contributions.members[0]).toEqual({ member: "carol", credited: 3.993 });
    expect(s.goods[0]).toMatchObject({ name: "cake", stock: 0, demand: 1 });
    expect(s.goods[0].rounds.filter((r: { allocated: number }) => r.allocated > 0).map((r: { clearingWeight: number }) => r.clearingWeight)).toEqual([1.2]);
    expect(s.warnings).toEqual(["@carol took 4 tasks only after their weight had risen", "@alice and @bob verified each other's work 4 times"]);
    const all = await t.say("admin", "pool summary");
    expect(all.ok && all.doc.length).toBeGreaterThan(5);
  });

  it("GIVEN a large project THEN the Discord embed stays within Discord's limits", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Big");
    await t.ok("alice", "project create bakery Bakery");
    for (let i = 0; i < 120; i++) await t.ok("alice", `task post bakery "A rather long task title number ${i} to fill the summary" hours:1 kind:kind${i % 9}x`);
    const r = await t.say("admin", "pool summary");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const payload = okPayload(r);
    const embed = payload.embeds![0]!;
    expect(embed.description!.length).toBeLessThanOrEqual(LIMITS.description);
    expect(JSON.stringify(embed).length).toBeLessThan(LIMITS.embedTotal);
    expect((embed.fields ?? []).length).toBeLessThanOrEqual(LIMITS.fields);
    expect((embed.description!.match(/```/g) ?? []).length % 2).toBe(0);
  });
});
