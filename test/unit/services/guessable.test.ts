// Commands people can guess: `help <unknown>` says so, units typed after numbers, `pool correct`
// shows before it acts, `good return <good>`, and `me` lists what is mine.
import { parseCommand } from "../../../commands/text.ts";
import { table } from "../../../commands/table.ts";
import { afterEach, describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../../src/core/time.ts";
import { riverside, testPool, text, type TestPool } from "../../support/app.ts";

let t: TestPool;
afterEach(() => t?.close());

const pool = () => riverside();

describe("help <unknown>", () => {
  it("GIVEN help nonsense THEN it says the command is unknown, then lists the commands", async () => {
    t = await testPool();
    const r = await t.say("someone", "help nonsense", { room: "nowhere" });
    expect(r.ok).toBe(true);
    expect(text(r)).toMatch(/^"nonsense" is not a command/);
    expect(text(r)).toContain("pool create");
  });

  it("GIVEN help with a near miss of a group THEN it says unknown and suggests the nearest", async () => {
    t = await testPool();
    const r = await t.ok("someone", "help projetc frobnicate", { room: "nowhere" });
    expect(r).toMatchObject({ topic: "all", unknown: "projetc frobnicate", suggestion: "help project" });
    expect(r.commands.length).toBeGreaterThan(10);
  });
});

describe("units typed after numbers", () => {
  it("GIVEN pool policy creditLimit 15 wh (or 15wh) THEN it is set; 15 days is refused naming the unit", async () => {
    t = await pool();
    expect(await t.ok("admin", "pool policy creditLimit 15 wh")).toMatchObject({ value: 15, changed: true });
    expect(await t.ok("admin", "pool policy creditLimit 16wh")).toMatchObject({ value: 16 });
    const before = await t.dump();
    const r = await t.say("admin", "pool policy creditLimit 15 days");
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.message).toMatch(/weighted hours \(wh\), not days.*pool policy creditLimit 15/);
    expect(await t.dump()).toBe(before);
  });

  it("GIVEN hours:2h on task post and effort:2wh on good add THEN accepted; hours:2wh and effort:2% are refused", async () => {
    t = await pool();
    expect((await t.ok("alice", "task post bakery Knead the dough hours:2h")).task.estimate).toBe(2);
    expect((await t.ok("alice", 'task post bakery Knead again hours:"1.5 hours"')).task.estimate).toBe(1.5);
    const spaced = (await t.ok("alice", "task post bakery Mop the floor hours:2 h")).task;
    expect(spaced).toMatchObject({ title: "Mop the floor", estimate: 2 });
    const before = await t.dump();
    const days = await t.say("alice", "task post bakery Mop again hours:2 days");
    expect(days.ok ? "" : days.message).toMatch(/hours must be hours, not days: type 2 or 2h/);
    // Followed by more words, a unit word is text: a note that starts "days were long" is a note.
    expect(parseCommand(table, "task done 1 hours:2 days were long")).toMatchObject({ ok: true, values: { id: 1, hours: 2000, note: "days were long" } });
    expect(parseCommand(table, "task done 1 hours:1 d")).toMatchObject({ ok: false });
    const bad = await t.say("alice", "task post bakery Knead more hours:2wh");
    expect(bad.ok ? "" : bad.message).toMatch(/hours.*not weighted hours/);
    expect(await t.dump()).toBe(before);
    expect(await t.ok("alice", "good add bakery bread effort:2wh")).toMatchObject({ good: { name: "bread" } });
    const pct = await t.say("alice", "good add bakery cake effort:2%");
    expect(pct.ok).toBe(false);
    expect(await t.dump()).not.toBe(before);
  });
});

/** Bob's verified 2 h on task #1 credited by entry #1. */
async function verifiedWork(): Promise<TestPool> {
  const tp = await pool();
  await tp.ok("alice", "task post bakery Knead the dough hours:2");
  await tp.ok("bob", "task claim 1");
  await tp.ok("bob", "task done 1");
  tp.clock.advance(HOUR_MS);
  await tp.ok("alice", "task verify 1 @bob");
  return tp;
}

describe("pool correct shows before it acts", () => {
  it("GIVEN pool correct 1 <reason> THEN nothing changes and the reply shows the entry and how to confirm; with confirm it is reversed", async () => {
    t = await verifiedWork();
    const before = await t.dump();
    const r = await t.say("admin", "pool correct 1 reported twice");
    expect(r.ok).toBe(true);
    expect(await t.dump()).toBe(before);
    expect(r.ok && r.data).toMatchObject({ confirmed: false, original: { id: 1, kind: "work", amount: 2 }, claim: { task: 1, member: "bob" } });
    expect(text(r)).toContain("pool correct 1 reported twice confirm");
    const done = await t.ok("admin", "pool correct 1 reported twice confirm");
    expect(done).toMatchObject({ confirmed: true, correction: { reverses: 1, memo: "reported twice" }, claim: { status: "corrected" } });
    expect((await t.ok("bob", "task show 1")).task.claims).toEqual([expect.objectContaining({ member: "bob", status: "corrected", credited: null })]);
    expect((await t.ok("bob", "me balance")).balance).toBe(0);
  });

  it("GIVEN a reason that looks like an option (hours:2) THEN it is refused with what to type, and nothing changes", async () => {
    t = await verifiedWork();
    const before = await t.dump();
    const r = await t.say("admin", "pool correct 1 hours:2 confirm");
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.message).toMatch(/reason.*hours:2.*pool correct 1 "/);
    expect(await t.dump()).toBe(before);
  });
});

describe("good return <good>", () => {
  it("GIVEN one loan of the drill THEN good return drill returns it; with two it names the loan numbers", async () => {
    t = await pool();
    await t.ok("alice", "good add bakery drill effort:20 model:durable stock:2");
    await t.ok("bob", "good borrow drill days:2");
    t.clock.advance(DAY_MS);
    expect(await t.ok("bob", "good return drill")).toMatchObject({ loan: { id: 1, good: "drill", days: 1 } });
    await t.ok("bob", "good borrow drill days:2");
    await t.ok("bob", "good borrow drill days:2");
    const before = await t.dump();
    const two = await t.say("bob", "good return drill");
    expect(two.ok).toBe(false);
    expect(two.ok ? "" : two.message).toMatch(/two loans of drill.*good return 2.*good return 3/);
    expect(await t.dump()).toBe(before);
    const none = await t.say("carol", "good return drill");
    expect(none.ok ? "" : none.message).toMatch(/no loan of drill.*"me" lists your loans/);
  });
});

describe("me", () => {
  it("GIVEN claims, reported work, requests, loans and a subscription THEN me lists them with deadlines, overdue marked, and the balance", async () => {
    t = await pool();
    await t.ok("alice", "task post bakery Knead the dough hours:2");
    await t.ok("alice", "task post bakery Sweep the floor hours:1");
    await t.ok("alice", "good add bakery cake effort:2");
    await t.ok("alice", "good add bakery drill effort:20 model:durable stock:1");
    await t.ok("alice", "good add bakery soup effort:1 model:flat-rate");
    await t.ok("bob", "task claim 1");
    await t.ok("bob", "task claim 2");
    await t.ok("bob", "task done 2");
    await t.ok("bob", "good request cake weight:1.5");
    await t.ok("bob", "good borrow drill days:1");
    await t.ok("bob", "good subscribe soup");
    t.clock.advance(2 * DAY_MS);
    const me = await t.ok("bob", "me");
    expect(me.claims).toEqual([expect.objectContaining({ task: 1, title: "Knead the dough", status: "active" })]);
    expect(me.reported).toEqual([expect.objectContaining({ task: 2, title: "Sweep the floor", hours: 1 })]);
    expect(me.requests).toEqual([expect.objectContaining({ good: "cake", qty: 1, weight: 1.5 })]);
    expect(me.loans).toEqual([expect.objectContaining({ loan: 1, good: "drill", overdue: true })]);
    expect(me.subscriptions).toEqual([expect.objectContaining({ good: "soup" })]);
    expect(typeof me.balance).toBe("number");
    const shown = text(await t.say("bob", "me status"));
    expect(shown).toMatch(/Knead the dough.*due/s);
    expect(shown).toMatch(/overdue/i);
    expect(shown).toMatch(/soup/);
    expect(shown).toMatch(/cake.*1\.5/s);
    const empty = text(await t.say("carol", "me"));
    expect(empty).toMatch(/nothing/i);
  });
});
