// Corrections are visible: reversing the entry that credited verified work marks its claim as
// corrected; summaries, `task show`, a good's measured effort and the task's state count it no more.
import { afterEach, describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../../src/core/time.ts";
import { testPool, type TestPool } from "../../support/app.ts";
import { sqlRows } from "../../support/db-dump.ts";

let t: TestPool;
afterEach(() => t?.close());

/** bakery (alice coordinates), task #1 (2 h) done by bob and verified by alice: entry #1 credits 2 wh. */
async function verifiedWork(): Promise<TestPool> {
  const tp = await testPool({ start: "2026-11-02T09:00:00Z" });
  await tp.ok("admin", "pool create Riverside");
  await tp.ok("alice", "project create bakery The Bakery");
  await tp.ok("alice", "task post bakery Knead the dough hours:2 kind:baking");
  await tp.ok("bob", "task claim 1");
  await tp.ok("bob", "task done 1");
  tp.clock.advance(HOUR_MS);
  const v = await tp.ok("alice", "task verify 1 @bob");
  expect(v).toMatchObject({ credited: 2, entry: 1 });
  return tp;
}

const notes = (tp: TestPool, handle: string) =>
  sqlRows<{ kind: string; body: string }>(
    tp.store,
    "SELECT n.kind, n.body FROM member_notes n JOIN members m ON m.id = n.member_id WHERE m.handle = ? ORDER BY n.id",
    [handle],
  );

describe("pool correct of a work credit", () => {
  it("GIVEN verified work whose credit is reversed THEN the claim reads corrected, the task is open again, and summaries count it no more", async () => {
    t = await verifiedWork();
    t.clock.advance(60_000);
    const before = (await t.ok("alice", "pool summary bakery")).projects[0];
    expect(before.contributions).toEqual({ total: 2, members: [{ member: "bob", credited: 2 }] });
    expect((await t.ok("bob", "task show 1")).task.status).toBe("done");

    t.clock.advance(HOUR_MS);
    const c = await t.ok("admin", 'pool correct 1 "the dough was never kneaded" confirm');
    expect(c).toMatchObject({ original: { id: 1, kind: "work" }, correction: { id: 2, reverses: 1 }, claim: { task: 1, member: "bob", status: "corrected" } });

    const shown = (await t.ok("bob", "task show 1")).task;
    expect(shown.status).toBe("open");
    expect(shown.claims).toEqual([expect.objectContaining({ member: "bob", status: "corrected", credited: null })]);
    const text = (await t.say("bob", "task show 1", { requestId: "show" })).doc;
    expect(JSON.stringify(text)).toContain("corrected");

    const after = (await t.ok("alice", "pool summary bakery")).projects[0];
    expect(after.contributions).toEqual({ total: 0, members: [] });
    expect(after.open.map((x: { id: number }) => x.id)).toEqual([1]);
    expect((await t.ok("bob", "me balance")).balance).toBe(0);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true, entries: 2 });
    expect((await notes(t, "bob")).map((n) => n.kind)).toContain("corrected");
    expect(JSON.parse((await notes(t, "bob")).find((n) => n.kind === "corrected")!.body)).toMatchObject({
      task: 1,
      reason: "the dough was never kneaded",
      by: "admin",
    });
  });

  it("GIVEN a corrected claim THEN the task is claimed, done and verified again, and counted once", async () => {
    t = await verifiedWork();
    await t.ok("admin", "pool correct 1 wrong hours confirm");
    // The weight goes on rising from where it stopped while the task was held.
    t.clock.advance(DAY_MS);
    expect((await t.ok("carol", "task show 1")).task.weight).toBe(1.1);
    await t.ok("bob", "task claim 1");
    await t.ok("bob", "task done 1 hours:1");
    const v = await t.ok("alice", "task verify 1 @bob");
    expect(v.credited).toBe(1.1);
    t.clock.advance(60_000);
    const s = (await t.ok("alice", "pool summary bakery")).projects[0];
    expect(s.contributions).toEqual({ total: 1.1, members: [{ member: "bob", credited: 1.1 }] });
    const shown = (await t.ok("bob", "task show 1")).task;
    expect(shown.status).toBe("done");
    expect(shown.claims.map((c: { status: string }) => c.status)).toEqual(["corrected", "verified"]);
    expect((await t.ok("bob", "me balance")).balance).toBe(1.1);
  });

  it("GIVEN the correction itself reversed THEN the claim is verified again and counted again", async () => {
    t = await verifiedWork();
    await t.ok("admin", "pool correct 1 oops confirm");
    const back = await t.ok("admin", "pool correct 2 that was the wrong entry confirm");
    expect(back.claim).toMatchObject({ task: 1, member: "bob", status: "verified" });
    t.clock.advance(60_000);
    expect((await t.ok("bob", "task show 1")).task).toMatchObject({ status: "done", claims: [expect.objectContaining({ status: "verified", credited: 2 })] });
    expect((await t.ok("alice", "pool summary bakery")).projects[0].contributions.total).toBe(2);
    expect((await t.ok("bob", "me balance")).balance).toBe(2);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true, entries: 3 });
  });

  it("GIVEN a production task's credit reversed THEN the good's measured effort no longer counts it", async () => {
    t = await testPool({ start: "2026-11-02T09:00:00Z" });
    await t.ok("admin", "pool create Riverside");
    await t.ok("alice", "project create bakery The Bakery");
    await t.ok("alice", "good add bakery bread effort:1");
    await t.ok("alice", "task post bakery Bake bread hours:3 good:bread qty:2");
    await t.ok("bob", "task claim 1");
    await t.ok("bob", "task done 1");
    await t.ok("alice", "task verify 1 @bob");
    expect((await t.ok("bob", "good show bread")).good).toMatchObject({ measuredUnits: 2, measuredEffort: 1.5 });
    await t.ok("admin", "pool correct 1 not baked confirm");
    expect((await t.ok("bob", "good show bread")).good).toMatchObject({ measuredUnits: 0, measuredEffort: null, effort: 1 });
  });

  it("GIVEN a work entry of no claim, or another kind of entry THEN the correction is only the reversing entry", async () => {
    t = await verifiedWork();
    await t.ok("dave", "good list");
    const c = await t.ok("admin", "pool correct 1 x confirm");
    expect(c.claim).not.toBeNull();
    const again = await t.ok("admin", "pool correct 2 y confirm");
    expect(again.claim).toMatchObject({ status: "verified" });
    const third = await t.ok("admin", "pool correct 3 z confirm");
    expect(third.claim).toMatchObject({ status: "corrected" });
  });
});
