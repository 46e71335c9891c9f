// Issue 13 ("every rule holds at every moment"), the goods: production tasks that did not
// produce, a raised bid that became a second bid, rounds closed late that decided with later
// balances, a credit limit that flat rates and loans went past, charges rounded before they were
// multiplied, and loans kept past their days without anyone noticing.
import { docToText } from "../../../commands/doc.ts";
import { afterEach, describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../../src/clock.ts";
import { ensureAccount } from "../../../src/services/context.ts";
import { closeDueRounds } from "../../../src/services/goods.ts";
import { postEntry } from "../../../src/services/posting.ts";
import { riverside, text, type TestPool } from "../../support/app.ts";

let t: TestPool;
afterEach(() => t?.close());

const pool = () => riverside({ bikes: true, members: ["carol", "dave", "erin", "frank"] });

const balance = async (tp: TestPool, who: string) => (await tp.ok(who, "me balance")).balance;
const commons = async (tp: TestPool) => (await tp.ok("admin", "pool info")).commons;
const projectBalance = async (tp: TestPool, slug: string) => (await tp.ok("admin", `project info ${slug}`)).project.balance;
const stock = async (tp: TestPool, good: string) => (await tp.ok("admin", `good show ${good}`)).good.stock;
/** Work credited to a member through a task of the bike workshop (hours at weight 1.00). */
async function earn(tp: TestPool, who: string, hours: number): Promise<void> {
  const posted = await tp.ok("bob", `task post bikes Odd job hours:${hours}`);
  await tp.ok(who, `task claim ${posted.task.id}`);
  await tp.ok(who, `task done ${posted.task.id}`);
  await tp.ok("bob", `task verify ${posted.task.id} @${who}`);
}
/** Takes `hours` worth of bread at effort 0.5 a loaf (bread must exist with enough stock). */
async function spend(tp: TestPool, who: string, hours: number): Promise<void> {
  await tp.ok(who, `good request bread qty:${hours * 2}`);
}

describe("item 8: production tasks produce", () => {
  it("GIVEN a production task with good:bread qty:20 and two slots THEN verifying the last slot adds 20 loaves to the stock, once", async () => {
    t = await pool();
    await t.ok("alice", "good add bakery bread effort:1 unit:loaf");
    await t.ok("alice", "task post bakery Bake bread hours:2 slots:2 good:bread qty:20");
    for (const w of ["carol", "dave"]) {
      await t.ok(w, "task claim 1");
      await t.ok(w, "task done 1");
    }
    expect((await t.ok("alice", "task verify 1 @carol")).produced).toBeNull();
    expect(await stock(t, "bread")).toBe(0);
    const last = await t.say("alice", "task verify 1 @dave");
    expect(last.ok && docToText(last.doc)).toContain("Task #1 is done: 20 added to the bread stock.");
    expect(await stock(t, "bread")).toBe(20);
    // Undoing dave's credit and restoring it verifies the last slot again: nothing is added twice.
    const entry = (await t.ok("dave", "me history")).entries.find((e: { kind: string }) => e.kind === "work").id;
    const undo = await t.ok("admin", `pool correct ${entry} wrong hours confirm`);
    await t.ok("admin", `pool correct ${undo.correction.id} they were right confirm`);
    expect(await stock(t, "bread")).toBe(20);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true });
  });

  it("GIVEN members waiting for bread THEN the units a production task makes serve them as good produce would", async () => {
    t = await pool();
    await t.ok("alice", "good add bakery bread effort:1 unit:loaf");
    expect((await t.ok("erin", "good request bread qty:3")).request.status).toBe("pending");
    await t.ok("alice", "task post bakery Bake bread hours:2 good:bread qty:5");
    await t.ok("carol", "task claim 1");
    await t.ok("carol", "task done 1");
    await t.ok("alice", "task verify 1 @carol");
    expect(await stock(t, "bread")).toBe(2);
    expect(await balance(t, "erin")).toBe(-3);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true });
  });

  it("GIVEN the help THEN good produce and task post say that a production task adds its units when its last slot is verified", async () => {
    t = await pool();
    expect(text(await t.say("alice", "help good produce"))).toMatch(/production task.*last slot is verified/s);
    expect(text(await t.say("alice", "help task post"))).toMatch(/last slot is verified.*stock/s);
  });
});

describe("item 9: one bid per member per good", () => {
  it("GIVEN dave waiting for a cake THEN good request cake weight:1.5 raises his bid instead of adding a second one, and he wins one cake only", async () => {
    t = await pool();
    await t.ok("alice", "good add bakery cake effort:2");
    const first = await t.ok("dave", "good request cake weight:1.2");
    await t.ok("erin", "good request cake weight:1.1");
    const raised = await t.say("dave", "good request cake weight:1.5");
    expect(raised.ok).toBe(true);
    expect(raised.ok && (raised.data as any).request).toMatchObject({ id: first.request.id, status: "pending", qty: 1, weight: 1.5 });
    expect(text(raised)).toMatch(/Your request #1 for cake now bids 1.50 \(was 1.20\)/);
    expect((await t.ok("dave", "good show cake")).good).toMatchObject({ demand: 2, openRound: { waiting: 2 } });
    // Two cakes for two waiting units: everyone is served at once (two bids of dave's would have
    // made three units wait, and his 1.5 and 1.2 would have won both).
    const produced = await t.ok("alice", "good produce cake 2");
    expect(produced.allocated).toEqual([
      { member: "dave", qty: 1, cost: 2 },
      { member: "erin", qty: 1, cost: 2 },
    ]);
  });

  it("GIVEN a waiting request THEN qty: changes its units too, and the change must still be payable at the effort", async () => {
    t = await pool();
    await t.ok("alice", "good add bakery cake effort:2");
    await t.ok("dave", "good request cake weight:1.2");
    expect((await t.ok("dave", "good request cake qty:4 weight:1.3")).request).toMatchObject({ id: 1, qty: 4, weight: 1.3 });
    const before = await t.dump();
    const r = await t.say("dave", "good request cake qty:6");
    expect(!r.ok && r.code).toBe("insufficient_credit");
    expect(!r.ok && r.message).toMatch(/that costs 12.00 wh and you can take 10.00 wh more/);
    expect(await t.dump()).toBe(before);
  });
});

describe("item 12: a round closed late decides as of its closing time", () => {
  async function cakeRound(): Promise<TestPool> {
    const tp = await pool();
    await tp.ok("alice", "good add bakery bread effort:0.5 stock:100");
    await tp.ok("alice", "good add bakery cake effort:2");
    // carol can wait for a cake at its effort (2 of her 2.5 left) but not pay 1.5 x 2 = 3.
    await spend(tp, "carol", 7.5);
    await tp.ok("carol", "good request cake weight:2");
    await tp.ok("dave", "good request cake weight:1.5");
    await tp.ok("alice", "good produce cake 1");
    return tp;
  }

  it("GIVEN the round closed on time THEN dave wins and carol is skipped", async () => {
    t = await cakeRound();
    t.clock.advance(24 * HOUR_MS);
    const [closed] = await t.store.transaction((tx) => closeDueRounds(tx, t.clock.now().getTime()));
    expect(closed!.allocations.map((a) => a.member)).toEqual(["dave"]);
    expect(closed!.skipped.map((s) => s.member)).toEqual(["carol"]);
  });

  it("GIVEN carol earned 5 wh after the closing time THEN closing a week late still gives the cake to dave, dated at the closing time", async () => {
    t = await cakeRound();
    // Credited an hour after the round should have closed, before anything closed it (commands
    // now catch up first, so the entry goes in directly, as a bot that was down would find it).
    const at = t.clock.now().getTime() + 25 * HOUR_MS;
    await t.store.transaction(async (tx) => {
      const from = await ensureAccount(tx, 1, "project", 2);
      const to = await ensureAccount(tx, 1, "member", (await tx.memberByHandle("carol"))!.id);
      await postEntry(tx, {
        poolId: 1,
        fromAccount: from,
        toAccount: to,
        amount: 5000,
        kind: "work",
        memo: "late work",
        requestId: "test:late",
        createdAt: at,
        createdBy: null,
      });
    });
    t.clock.advance(7 * DAY_MS);
    const [closed] = await t.store.transaction((tx) => closeDueRounds(tx, t.clock.now().getTime()));
    expect(closed!.allocations.map((a) => a.member)).toEqual(["dave"]);
    expect(closed!.skipped.map((s) => s.member)).toEqual(["carol"]);
    const daves = (await t.ok("dave", "me history")).entries;
    expect(daves.map((e: { createdAt: string }) => e.createdAt)).toEqual(["2026-11-03T09:00:00.000Z"]);
    expect(await balance(t, "carol")).toBe(-2.5);
  });

  it("GIVEN production work verified after the closing time THEN the round closed late charges the effort of its closing time", async () => {
    t = await pool();
    await t.ok("admin", "pool policy measuredEffortMinUnits 2");
    await t.ok("alice", "good add bakery cake effort:2");
    await t.ok("alice", "task post bakery Bake cakes hours:1 good:cake qty:2");
    await t.ok("erin", "task claim 1");
    await t.ok("erin", "task done 1");
    await t.ok("carol", "good request cake weight:2");
    await t.ok("dave", "good request cake weight:1.5");
    await t.ok("alice", "good produce cake 1");
    // Verified an hour after the round should have closed, before anything closed it (as a bot
    // that was down would find it): from then on a cake measures 0.50, but not at 09:00.
    const later = t.clock.now().getTime() + 25 * HOUR_MS;
    await t.store.transaction(async (tx) => {
      const claim = (await tx.claimsOf(1))[0]!;
      await tx.updateClaim(claim.id, { status: "verified", verifiedAt: later, verifiedBy: 2, creditedHours: 1000, credited: 1000 });
    });
    t.clock.advance(7 * DAY_MS);
    const [closed] = await t.store.transaction((tx) => closeDueRounds(tx, t.clock.now().getTime()));
    expect(closed).toMatchObject({ effort: 2000, allocations: [{ member: "carol", qty: 1, cost: 3000 }] });
    expect((await t.ok("carol", "good show cake")).good.effort).toBe(0.5);
  });

  it("GIVEN a flat-rate period settled late THEN its entries are dated at the period's end", async () => {
    t = await pool();
    await t.ok("alice", "good add bakery soup effort:1 model:flat-rate");
    await t.ok("carol", "good subscribe soup");
    await t.ok("alice", "good produce soup 3");
    t.clock.set("2026-12-09T12:00:00Z");
    await t.ok("admin", "pool settle");
    const entries = (await t.ok("carol", "me history")).entries;
    expect(entries.map((e: { kind: string; createdAt: string }) => [e.kind, e.createdAt])).toEqual([["flat-rate", "2026-12-01T00:00:00.000Z"]]);
  });
});

describe("item 13: the credit limit binds what members choose to take", () => {
  it("GIVEN 20 wh of soup made this month THEN a newcomer cannot subscribe as its sole subscriber (their share would be 20 of their 10)", async () => {
    t = await pool();
    await t.ok("alice", "good add bakery soup effort:1 model:flat-rate");
    await t.ok("alice", "good produce soup 20");
    const before = await t.dump();
    const r = await t.say("carol", "good subscribe soup");
    expect(!r.ok && r.code).toBe("insufficient_credit");
    expect(!r.ok && r.message).toMatch(
      /your expected share of soup this period is 20.00 wh and you can take 10.00 wh more \(balance plus the credit limit\): contribute first, then "good subscribe soup"/,
    );
    expect(await t.dump()).toBe(before);
    // With a second subscriber the expected share is 10: it fits.
    await earn(t, "dave", 10);
    await t.ok("dave", "good subscribe soup");
    expect((await t.ok("carol", "good subscribe soup")).subscribed).toBe(true);
  });

  it("GIVEN a settlement that took a subscriber past the limit THEN they can take nothing more until back within it", async () => {
    t = await pool();
    await t.ok("alice", "good add bakery bread effort:0.5 stock:100");
    await t.ok("alice", "good add bakery soup effort:1 model:flat-rate");
    await t.ok("bob", "good add bikes drill effort:10 model:durable stock:1");
    await t.ok("carol", "good subscribe soup");
    await t.ok("alice", "good produce soup 20");
    // The subscription's share of what was made holds her room: she cannot spend it twice.
    expect((await t.say("carol", "good request bread")).ok).toBe(false);
    t.clock.set("2026-12-01T00:10:00Z");
    await t.ok("admin", "pool settle");
    expect(await balance(t, "carol")).toBe(-20);
    for (const cmd of ["good request bread", "good borrow drill days:1"]) {
      const r = await t.say("carol", cmd);
      expect(!r.ok && r.code, cmd).toBe("insufficient_credit");
    }
    await earn(t, "carol", 11);
    // Back within the limit, but the next period's expected share (20, like the last) is held.
    expect((await t.say("carol", "good request bread")).ok).toBe(false);
    await t.ok("carol", "good unsubscribe soup");
    expect((await t.ok("carol", "good request bread")).request.status).toBe("allocated");
  });

  it("GIVEN an open loan THEN its days count against the limit, and the reply says what each overdue day costs", async () => {
    t = await pool();
    await t.ok("bob", "good add bikes drill effort:100 model:durable stock:1");
    const refused = await t.say("carol", "good borrow drill days:11");
    expect(!refused.ok && refused.message).toMatch(/that costs 11.00 wh and you can take 10.00 wh more/);
    const r = await t.say("carol", "good borrow drill days:5");
    expect(text(r)).toMatch(/Each day you keep it past .* costs 1.00 wh more, also past your credit limit/);
  });

  it("GIVEN a loan of 5 days returned after 30 THEN the overdue days are charged past the limit, counted while it is out, and she can take nothing more", async () => {
    t = await pool();
    await t.ok("alice", "good add bakery bread effort:0.5 stock:100");
    await t.ok("bob", "good add bikes drill effort:100 model:durable stock:1");
    await t.ok("carol", "good borrow drill days:5");
    t.clock.advance(12 * DAY_MS);
    // Twelve days of use are already hers to pay: the room left is not 5 but none.
    expect((await t.say("carol", "good request bread")).ok).toBe(false);
    t.clock.advance(18 * DAY_MS);
    expect((await t.ok("carol", "good return 1")).loan).toMatchObject({ days: 30, charged: 30 });
    expect(await balance(t, "carol")).toBe(-30);
    expect((await t.say("carol", "good request bread")).ok).toBe(false);
  });
});

describe("item 14: every charge is rounded once, at the end", () => {
  it("GIVEN 1000 units at effort 0.001 won at clearing weight 1.5 THEN the winner pays 1.500 wh, the commons gets 0.5", async () => {
    t = await pool();
    await t.ok("admin", "pool policy maxRequestQty 1000");
    await t.ok("alice", "good add bakery seed effort:0.001");
    await t.ok("carol", "good request seed qty:1000 weight:2");
    await t.ok("dave", "good request seed weight:1.5");
    await t.ok("alice", "good produce seed 1000");
    const round = (await t.ok("alice", "good allocate seed")).round;
    expect(round).toMatchObject({ clearingWeight: 1.5, allocations: [{ member: "carol", qty: 1000, cost: 1.5 }] });
    expect(await balance(t, "carol")).toBe(-1.5);
    expect(await projectBalance(t, "bakery")).toBe(1);
    expect(await commons(t)).toBe(0.5);
  });

  it("GIVEN a durable good of effort 0.15 THEN 10 days cost 0.015 (not 10 x 0.002), and effort 0.04 is never free", async () => {
    t = await pool();
    await t.ok("bob", "good add bikes drill effort:0.15 model:durable stock:1");
    await t.ok("bob", "good add bikes pump effort:0.04 model:durable stock:1");
    await t.ok("carol", "good borrow drill days:10");
    await t.ok("dave", "good borrow pump days:1");
    t.clock.advance(10 * DAY_MS);
    expect((await t.ok("carol", "good return 1")).loan).toMatchObject({ days: 10, charged: 0.015 });
    expect((await t.ok("dave", "good return 2")).loan).toMatchObject({ days: 10, charged: 0.004 });
    await t.ok("dave", "good borrow pump days:1");
    t.clock.advance(HOUR_MS);
    expect((await t.ok("dave", "good return 3")).loan).toMatchObject({ days: 1, charged: 0.001 });
  });
});

describe("overdue loans", () => {
  it("GIVEN a loan past its days THEN it is marked overdue, the borrower gets a note, and me balance and the project's summary show it", async () => {
    t = await pool();
    await t.ok("bob", "good add bikes drill effort:20 model:durable stock:1");
    await t.ok("carol", "good borrow drill days:3");
    t.clock.advance(3 * DAY_MS + HOUR_MS);
    await t.store.transaction((tx) => closeDueRounds(tx, t.clock.now().getTime()));
    const notes = (await t.store.pendingNotes("console", 20)).filter((n) => n.kind === "overdue");
    expect(notes.map((n) => n.externalId)).toEqual(["carol"]);
    expect(JSON.parse(notes[0]!.body)).toMatchObject({ loan: 1, good: "drill", dueAt: Date.parse("2026-11-05T09:00:00Z") });
    const mine = await t.say("carol", "me balance");
    expect(mine.ok && (mine.data as any).overdue).toEqual([{ loan: 1, good: "drill", dueAt: "2026-11-05T09:00:00.000Z", days: 4, charged: 0.8 }]);
    expect(text(mine)).toMatch(/Overdue: drill \(loan #1\), due .*: 0.80 wh so far/);
    const summary = await t.say("bob", "pool summary bikes");
    expect(text(summary)).toMatch(/Overdue loans: drill #1 @carol/);
    // Marked once: catching up again adds no note.
    await t.store.transaction((tx) => closeDueRounds(tx, t.clock.now().getTime()));
    expect((await t.store.pendingNotes("console", 20)).filter((n) => n.kind === "overdue")).toHaveLength(1);
  });
});
