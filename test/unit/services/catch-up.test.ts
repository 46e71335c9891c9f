// Every read is as of now: whatever came due (claims that ran out, rounds past their closing
// time, ended flat-rate periods) is caught up at the start of every command of a pool, reads
// included, in the command's own transaction, so no command shows a state the next one contradicts.
import { afterEach, describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../../src/clock.ts";
import { DEADLINES_SQL } from "../../../db/sqlite-store.ts";
import { testPool, type TestPool } from "../../support/app.ts";
import { sqlRows } from "../../support/db-dump.ts";
import { testStoreKind } from "../../support/pg.ts";

let t: TestPool;
afterEach(() => t?.close());

/** A pool with the bakery (coordinated by alice) and members bob, carol, dave. */
async function bakery(start = "2026-11-02T11:00:00Z"): Promise<TestPool> {
  const tp = await testPool({ start });
  await tp.ok("admin", "pool create Riverside");
  await tp.ok("alice", "project create bakery The Bakery");
  for (const m of ["bob", "carol", "dave"]) await tp.ok(m, "me balance");
  return tp;
}

describe("a claim that ran out", () => {
  it("GIVEN a claim that ran out at 11:00 THEN at 12:00 task show shows it released and task list shows the task open, as task done refuses it", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Scrub the floor hours:2");
    const claimed = await t.ok("bob", "task claim 1");
    expect(claimed.expiresAt).toBe("2026-11-09T11:00:00.000Z");
    t.clock.advance(7 * DAY_MS + HOUR_MS);
    const shown = (await t.ok("carol", "task show 1")).task;
    expect(shown.status).toBe("open");
    expect(shown.claims).toEqual([expect.objectContaining({ member: "bob", status: "released" })]);
    expect((await t.ok("carol", "task list")).tasks.map((x: { id: number }) => x.id)).toEqual([1]);
    const done = await t.say("bob", "task done 1");
    expect(!done.ok && done.code).toBe("no_claim");
    // The worker was told once, as of the read that released it.
    const notes = await sqlRows(t.store, "SELECT kind, created_at AS at FROM member_notes WHERE kind = 'released'");
    expect(notes).toEqual([{ kind: "released", at: Date.parse("2026-11-09T12:00:00Z") }]);
  });

  it("GIVEN a claim that ran out THEN the weight shown rises from its deadline, the same as a write would find", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Scrub the floor hours:2");
    await t.ok("bob", "task claim 1");
    t.clock.advance(7 * DAY_MS + 2 * DAY_MS);
    // Released at the deadline, open for the two days since: 1.00 x 1.1^2.
    expect((await t.ok("carol", "task show 1")).task.weight).toBe(1.21);
    expect((await t.ok("carol", "task claim 1")).weight).toBe(1.21);
  });
});

describe("an auction round past its closing time", () => {
  it("GIVEN a round that closed at 11:00 THEN at 12:00 good show shows no open round and the unit handed out, as good request finds", async () => {
    t = await bakery("2026-11-02T11:00:00Z");
    await t.ok("alice", "good add bakery cake effort:2");
    await t.ok("bob", "good request cake weight:1.5");
    await t.ok("carol", "good request cake weight:1.2");
    await t.ok("alice", "good produce cake 1");
    expect((await t.ok("dave", "good show cake")).good.openRound).toMatchObject({ closesAt: "2026-11-03T11:00:00.000Z", waiting: 2 });
    t.clock.advance(DAY_MS + HOUR_MS);
    const shown = (await t.ok("dave", "good show cake")).good;
    // Bob won at carol's 1.20; carol waits for the next round, which opened at the close.
    expect(shown).toMatchObject({ stock: 0, demand: 1, lastClearingWeight: 1.2, openRound: { closesAt: "2026-11-04T11:00:00.000Z", waiting: 1 } });
    expect((await t.ok("bob", "me balance")).balance).toBe(-2.4);
    const joined = await t.ok("dave", "good request cake");
    expect(joined.request).toMatchObject({ status: "pending", roundClosesAt: "2026-11-04T11:00:00.000Z" });
  });

  it("GIVEN a closed round THEN good list and me balance show its outcome too, and the winner's note is written once", async () => {
    t = await bakery();
    await t.ok("alice", "good add bakery cake effort:2 stock:1");
    await t.ok("bob", "good request cake qty:2");
    t.clock.advance(DAY_MS);
    expect((await t.ok("carol", "good list")).goods[0]).toMatchObject({ name: "cake", stock: 0, demand: 1 });
    expect((await t.ok("bob", "me balance")).balance).toBe(-2);
    await t.ok("bob", "me balance");
    const allocated = await sqlRows(t.store, "SELECT count(*) AS n FROM member_notes WHERE kind = 'allocated'");
    expect(allocated).toEqual([{ n: 1 }]);
  });
});

describe("a flat-rate period that ended", () => {
  it("GIVEN a weekly period that ended on Monday THEN me balance on Monday morning shows the share charged, dated at the period's end", async () => {
    t = await bakery("2026-11-02T11:00:00Z");
    await t.ok("admin", "pool policy settlePeriod weekly");
    await t.ok("alice", "good add bakery soup effort:1 model:flat-rate");
    await t.ok("bob", "good subscribe soup");
    await t.ok("carol", "good subscribe soup");
    await t.ok("alice", "good produce soup 3");
    t.clock.set(new Date("2026-11-09T00:01:00Z"));
    expect((await t.ok("bob", "me balance")).balance).toBe(-1.5);
    expect((await t.ok("carol", "me balance")).balance).toBe(-1.5);
    const dates = await sqlRows(t.store, "SELECT DISTINCT created_at AS at FROM entries WHERE kind = 'flat-rate'");
    expect(dates).toEqual([{ at: Date.parse("2026-11-09T00:00:00Z") }]);
  });
});

describe("catching up is part of the command", () => {
  /** What catching up could change (the pool's own clock moves with every command); each table's rows in id order. */
  const caughtUpState = async (tp: TestPool) => {
    const tables = ["claims", "tasks", "rounds", "good_requests", "allocations", "entries", "accounts", "settlements", "loans", "member_notes", "outbox"];
    const rows: unknown[] = [];
    for (const x of tables) rows.push(await sqlRows(tp.store, `SELECT * FROM ${x} ORDER BY id`));
    return JSON.stringify(rows);
  };

  it("GIVEN nothing due THEN a read writes nothing", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Scrub the floor hours:2");
    await t.ok("bob", "task claim 1");
    await t.ok("alice", "good add bakery cake effort:2 stock:0");
    await t.ok("carol", "good request cake");
    t.clock.advance(10 * MINUTE_MS);
    const before = await caughtUpState(t);
    await t.ok("dave", "task show 1");
    await t.ok("dave", "good show cake");
    expect(await caughtUpState(t)).toBe(before);
  });

  it("GIVEN something due and a refused command THEN the catch-up is rolled back with it and the database is exactly as it was", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Scrub the floor hours:2");
    await t.ok("bob", "task claim 1");
    t.clock.advance(8 * DAY_MS);
    const before = await t.dump();
    const refused = await t.say("bob", "task verify 1 @bob");
    expect(refused.ok).toBe(false);
    expect(await t.dump()).toBe(before);
  });
});

describe("a loan past its due date", () => {
  it("GIVEN a loan of 2 days THEN the first command after its due date, a read of something else, marks it overdue as of its due date", async () => {
    t = await bakery();
    await t.ok("alice", "good add bakery drill effort:20 model:durable stock:1");
    await t.ok("bob", "good borrow drill days:2");
    t.clock.advance(3 * DAY_MS);
    await t.ok("carol", "task list");
    const [loan] = await sqlRows<{ dueAt: number; overdueAt: number | null }>(t.store, 'SELECT due_at AS "dueAt", overdue_at AS "overdueAt" FROM loans');
    expect(loan!.overdueAt).toBe(Date.parse("2026-11-04T11:00:00Z"));
    expect(loan!.overdueAt).toBe(loan!.dueAt);
  });
});

describe("when nothing is due, catching up is cheap", () => {
  // SQLite's query plans (EXPLAIN QUERY PLAN) of SqliteStore's statements: PostgreSQL plans by
  // its own statistics, and on a pool this small it rightly reads the tables whole.
  it.skipIf(testStoreKind() === "postgres")("GIVEN the queries that find what is due THEN each reads an index, never a whole table", async () => {
    t = await bakery();
    const db = t.store.db.$client;
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail);
    // The store's own statement (SqliteStore.nextDeadlines, also part of Tx.opening), planned once.
    const deadlines = plan(`SELECT ${DEADLINES_SQL}`);
    expect(deadlines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^SEARCH claims USING COVERING INDEX claims_open/),
        expect.stringMatching(/^SEARCH rounds USING COVERING INDEX rounds_due/),
        expect.stringMatching(/^SEARCH loans USING COVERING INDEX loans_due/),
      ]),
    );
    expect(deadlines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^SEARCH g USING INDEX goods_model/),
        expect.stringMatching(/^SEARCH s USING INDEX settlements_good_period/),
      ]),
    );
    for (const line of deadlines) expect(line).not.toMatch(/^SCAN (claims|rounds|loans|goods|settlements)/);
  });
});
