// Goods with the default policy: production effort, scarcity auctions, only wanted effort counts.
import { afterEach, describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../../src/clock.ts";
import { closeDueRounds, settlePeriod } from "../../../src/services/goods.ts";
import { riverside, type TestPool } from "../../support/app.ts";

let t: TestPool;
afterEach(() => t?.close());

const pool = () => riverside({ bikes: true, members: ["carol", "dave", "erin", "frank"] });

const commons = async (tp: TestPool) => (await tp.ok("admin", "pool info")).commons;
const projectBalance = async (tp: TestPool, slug: string) => (await tp.ok("admin", `project info ${slug}`)).project.balance;
const balance = async (tp: TestPool, who: string) => (await tp.ok(who, "me balance")).balance;

describe("taking goods at their production effort", () => {
  it("GIVEN effort 2 and stock 5 THEN 3 units cost the member 6 and credit the project 6", async () => {
    t = await pool();
    const added = await t.ok("alice", "good add bakery bread effort:2 unit:loaf stock:5 sector:food");
    expect(added.good).toMatchObject({ name: "bread", model: "per-unit", stock: 5, effort: 2 });
    const r = await t.ok("carol", "good request bread qty:3");
    expect(r.request).toMatchObject({ status: "allocated", qty: 3, cost: 6 });
    expect(await balance(t, "carol")).toBe(-6);
    expect(await projectBalance(t, "bakery")).toBe(6);
    expect((await t.ok("carol", "good show bread")).good.stock).toBe(2);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true, sum: 0 });
  });

  it("GIVEN a request beyond the credit limit THEN it is refused and nothing changes", async () => {
    t = await pool();
    await t.ok("alice", "good add bakery bread effort:4 stock:5");
    const before = await t.dump();
    const r = await t.say("carol", "good request bread qty:3");
    expect(!r.ok && r.message).toMatch(/that costs 12.00 wh and you can take 10.00 wh more/);
    expect(await t.dump()).toBe(before);
  });
});

describe("scarcity: a uniform-price auction", () => {
  async function scarce(): Promise<TestPool> {
    const tp = await pool();
    await tp.ok("alice", "good add bakery cake effort:2 sector:food");
    const reqs = [];
    for (const [who, w] of [
      ["dave", "1.2"],
      ["erin", "1.5"],
      ["frank", "1.8"],
    ] as const)
      reqs.push(await tp.ok(who, `good request cake weight:${w}`));
    expect(reqs.map((r) => r.request.status)).toEqual(["pending", "pending", "pending"]);
    // Two units made while three are waiting: they go to the round, not to the earliest requests.
    const produced = await tp.ok("alice", "good produce cake 2");
    expect(produced.allocated).toEqual([]);
    return tp;
  }

  it("GIVEN stock 2 and requests at 1.2, 1.5 and 1.8 THEN 1.8 and 1.5 win and each pays 2 x 1.2 = 2.4; the project gets 2 per unit, the commons 0.4", async () => {
    t = await scarce();
    const round = (await t.ok("alice", "good allocate cake")).round;
    expect(round.clearingWeight).toBe(1.2);
    expect(round.allocations).toEqual([
      { member: "frank", qty: 1, cost: 2.4 },
      { member: "erin", qty: 1, cost: 2.4 },
    ]);
    expect(await balance(t, "frank")).toBe(-2.4);
    expect(await balance(t, "erin")).toBe(-2.4);
    expect(await balance(t, "dave")).toBe(0);
    expect(await projectBalance(t, "bakery")).toBe(4);
    expect(await commons(t)).toBe(0.8);
    const shown = (await t.ok("dave", "good show cake")).good;
    expect(shown).toMatchObject({ stock: 0, demand: 1, lastClearingWeight: 1.2 });
    expect(shown.openRound).not.toBeNull();
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true, sum: 0 });
  });

  it("GIVEN the 1.2 request still queued THEN the next units made serve it at the effort", async () => {
    t = await scarce();
    await t.ok("alice", "good allocate cake");
    const produced = await t.ok("alice", "good produce cake 1");
    expect(produced.allocated).toEqual([{ member: "dave", qty: 1, cost: 2 }]);
    expect(await balance(t, "dave")).toBe(-2);
  });

  it("GIVEN a winner at the credit limit THEN they are skipped and the unit goes to the next bid", async () => {
    t = await pool();
    await t.ok("alice", "good add bakery cake effort:2 sector:food");
    for (const [who, w] of [
      ["dave", "1.2"],
      ["erin", "1.5"],
      ["frank", "1.8"],
    ] as const)
      await t.ok(who, `good request cake weight:${w}`);
    // Frank's waiting cake holds 2 of his 10; the bread takes the other 8, so 2.4 is too much.
    await t.ok("alice", "good add bakery bread effort:8 stock:2");
    await t.ok("frank", "good request bread");
    await t.ok("alice", "good produce cake 2");
    const round = (await t.ok("alice", "good allocate cake")).round;
    expect(round.skipped).toEqual([{ member: "frank", qty: 1 }]);
    expect(round.allocations.map((a: { member: string }) => a.member)).toEqual(["erin", "dave"]);
    expect(round.clearingWeight).toBe(1);
    const notes = await t.store.pendingNotes("console", 20);
    expect(notes.filter((n) => n.kind === "skipped").map((n) => n.externalId)).toEqual(["frank"]);
  });

  it("GIVEN a round left alone THEN closeDueRounds closes it 24 h after its first unmet request, as of that time", async () => {
    t = await scarce();
    const run = () => t.store.transaction((tx) => closeDueRounds(tx, t.clock.now().getTime()));
    t.clock.advance(23 * HOUR_MS);
    expect(await run()).toEqual([]);
    t.clock.advance(3 * DAY_MS);
    const closed = await run();
    // The first round sells both units; later rounds for dave's queued unit have no stock.
    expect(closed[0]!.allocations.map((a) => a.member)).toEqual(["frank", "erin"]);
    expect(closed.length).toBeGreaterThanOrEqual(2);
    expect(await run()).toEqual([]);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true });
  });

  it("GIVEN a pending request THEN its owner cancels it, nobody else can", async () => {
    t = await scarce();
    const other = await t.say("erin", "good cancel 1");
    expect(!other.ok && other.code).toBe("not_yours");
    expect((await t.ok("dave", "good cancel 1")).request.status).toBe("cancelled");
    const again = await t.say("dave", "good cancel 1");
    expect(!again.ok && again.code).toBe("request_closed");
  });
});

describe("only wanted effort counts", () => {
  it("GIVEN production tasks THEN their verified work measures the effort per unit, charged once enough units exist", async () => {
    t = await pool();
    await t.ok("admin", "pool policy measuredEffortMinUnits 10");
    await t.ok("alice", "good add bakery bread effort:1 unit:loaf");
    await t.ok("alice", "task post bakery Bake bread hours:3 kind:baking good:bread qty:10");
    await t.ok("carol", "task claim 1");
    await t.ok("carol", "task done 1 hours:4");
    await t.ok("alice", "task verify 1 @carol");
    const shown = (await t.ok("carol", "good show bread")).good;
    expect(shown).toMatchObject({ declaredEffort: 1, measuredEffort: 0.4, measuredUnits: 10, effort: 0.4 });
    await t.ok("alice", "good produce bread 10");
    expect((await t.ok("dave", "good request bread qty:5")).request.cost).toBe(2);
  });

  it("GIVEN a project whose deficit passed the cap THEN new production tasks are refused with the reason; project info warns before", async () => {
    t = await pool();
    await t.ok("admin", "pool policy deficitCap 5");
    await t.ok("alice", "good add bakery bread effort:1");
    await t.ok("alice", "task post bakery Bake hours:4 good:bread qty:4");
    await t.ok("carol", "task claim 1");
    await t.ok("carol", "task done 1");
    await t.ok("alice", "task verify 1 @carol");
    const info = (await t.ok("alice", "project info bakery")).project;
    expect(info).toMatchObject({ balance: -4, deficit: 4, deficitWarning: "near_cap" });
    await t.ok("alice", "task post bakery Bake more hours:2 good:bread qty:2");
    await t.ok("dave", "task claim 2");
    await t.ok("dave", "task done 2");
    await t.ok("alice", "task verify 2 @dave");
    expect((await t.ok("alice", "project info bakery")).project.deficitWarning).toBe("over_cap");
    const before = await t.dump();
    const refused = await t.say("alice", "task post bakery Even more hours:1 good:bread");
    expect(!refused.ok && refused.message).toMatch(/bakery's deficit is 6.00 wh, past the pool's cap of 5.00 wh: no new production tasks/);
    expect(await t.dump()).toBe(before);
    // Tasks that make no good are still fine, and demand brings the deficit down.
    expect((await t.say("alice", "task post bakery Sweep hours:1")).ok).toBe(true);
    await t.ok("alice", "good produce bread 6");
    await t.ok("erin", "good request bread qty:3");
    expect((await t.say("alice", "task post bakery Bake again hours:1 good:bread")).ok).toBe(true);
  });

  it("GIVEN a good of another project THEN a production task for it is refused", async () => {
    t = await pool();
    await t.ok("bob", "good add bikes drill effort:20 model:durable stock:1");
    const r = await t.say("alice", "task post bakery Make a drill hours:1 good:drill");
    expect(!r.ok && r.code).toBe("good_other_project");
  });
});

describe("the other models", () => {
  it("GIVEN a copyable good THEN taking it is free and its production work is credited by the commons", async () => {
    t = await pool();
    await t.ok("bob", "good add bikes manual effort:10 model:copyable sector:docs");
    expect((await t.ok("carol", "good request manual")).request).toMatchObject({ status: "access", cost: 0 });
    expect(await balance(t, "carol")).toBe(0);
    await t.ok("bob", "task post bikes Write the manual hours:5 kind:writing good:manual");
    await t.ok("dave", "task claim 1");
    await t.ok("dave", "task done 1");
    await t.ok("bob", "task verify 1 @dave");
    expect(await balance(t, "dave")).toBe(5);
    expect(await commons(t)).toBe(-5);
    expect(await projectBalance(t, "bikes")).toBe(0);
    const produce = await t.say("bob", "good produce manual 3");
    expect(!produce.ok && produce.code).toBe("good_model");
  });

  it("GIVEN a flat-rate good THEN each period's effort is split evenly among subscribers, once", async () => {
    t = await pool();
    await t.ok("admin", "pool policy settlePeriod weekly");
    await t.ok("alice", "good add bakery weekly-bread effort:1 model:flat-rate");
    await t.ok("carol", "good subscribe weekly-bread");
    await t.ok("dave", "good subscribe weekly-bread");
    await t.ok("erin", "good subscribe weekly-bread");
    await t.ok("erin", "good unsubscribe weekly-bread");
    const wrong = await t.say("carol", "good request weekly-bread");
    expect(!wrong.ok && wrong.message).toMatch(/flat-rate good: type "good subscribe weekly-bread" instead/);
    await t.ok("alice", "good produce weekly-bread 10");
    // 2026-11-02 is a Monday: the week ends on the 9th.
    t.clock.set("2026-11-09T00:00:00Z");
    const settled = await t.ok("admin", "pool settle");
    expect(settled.settled).toEqual([
      { good: "weekly-bread", periodStart: "2026-11-02T00:00:00.000Z", periodEnd: "2026-11-09T00:00:00.000Z", effort: 10, subscribers: 2, share: 5 },
    ]);
    expect(await balance(t, "carol")).toBe(-5);
    expect(await balance(t, "dave")).toBe(-5);
    expect(await balance(t, "erin")).toBe(0);
    expect(await projectBalance(t, "bakery")).toBe(10);
    expect((await t.ok("admin", "pool settle")).settled).toEqual([]);
    expect(await t.store.transaction((tx) => settlePeriod(tx, t.clock.now().getTime()))).toEqual([]);
  });

  it("GIVEN a flat-rate effort that does not divide evenly THEN the shares still add up to it exactly", async () => {
    t = await pool();
    await t.ok("alice", "good add bakery soup effort:0.001 model:flat-rate");
    for (const m of ["carol", "dave", "erin"]) await t.ok(m, "good subscribe soup");
    await t.ok("alice", "good produce soup 10");
    t.clock.set("2026-12-01T00:00:00Z");
    await t.ok("admin", "pool settle");
    expect(await projectBalance(t, "bakery")).toBe(0.01);
    expect([await balance(t, "carol"), await balance(t, "dave"), await balance(t, "erin")]).toEqual([-0.004, -0.003, -0.003]);
  });

  it("GIVEN a durable good THEN borrowing takes it from stock and returning charges each started day", async () => {
    t = await pool();
    await t.ok("bob", "good add bikes drill effort:20 model:durable stock:1");
    const loan = (await t.ok("carol", "good borrow drill days:3")).loan;
    expect(loan).toMatchObject({ id: 1, good: "drill", perDay: 0.2 });
    const none = await t.say("dave", "good borrow drill days:1");
    expect(!none.ok && none.code).toBe("out_of_stock");
    t.clock.advance(2 * DAY_MS + HOUR_MS);
    const back = (await t.ok("carol", "good return 1")).loan;
    expect(back).toMatchObject({ days: 3, charged: 0.6 });
    expect(await balance(t, "carol")).toBe(-0.6);
    expect(await projectBalance(t, "bikes")).toBe(0.6);
    const twice = await t.say("carol", "good return 1");
    expect(!twice.ok && twice.code).toBe("loan_returned");
  });
});

describe("a scenario across projects", () => {
  it("GIVEN a member who works only for the bike workshop THEN their credit takes the bakery's goods", async () => {
    t = await pool();
    await t.ok("alice", "good add bakery bread effort:0.5 unit:loaf stock:20 sector:food");
    await t.ok("bob", "task post bikes Fix the lathe hours:4 kind:repair");
    t.clock.advance(2 * DAY_MS);
    await t.ok("frank", "task claim 1");
    await t.ok("frank", "task done 1");
    const v = await t.ok("bob", "task verify 1 @frank");
    expect(v.credited).toBe(4.84);
    const bread = await t.ok("frank", "good request bread qty:8");
    expect(bread.request).toMatchObject({ status: "allocated", cost: 4 });
    expect(await balance(t, "frank")).toBe(0.84);
    expect(await projectBalance(t, "bikes")).toBe(-4.84);
    expect(await projectBalance(t, "bakery")).toBe(4);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true, sum: 0 });
    const sector = (await t.ok("admin", "sector report food")).sectors;
    expect(sector).toEqual([
      {
        sector: "food",
        goods: [{ name: "bread", project: "bakery", stock: 12, demand: 0, effort: 0.5, lastClearingWeight: null }],
        projects: [{ slug: "bakery", deficit: 0, cap: 200 }],
      },
    ]);
  });
});
