// Issue 15: `pool audit` sums each account's entries from covering indexes (account, amount)
// instead of grouping the pool's every entry row, and still catches a tampered balance or a
// tampered entry. A round's entries are written in bulk with each balance moved once.
import { afterEach, describe, expect, it } from "vitest";
import { testPool, type TestPool } from "../../support/app.ts";
import { sqlRows } from "../../support/db-dump.ts";
import { testStoreKind } from "../../support/pg.ts";

let t: TestPool;
afterEach(() => t?.close());

/** Riverside with work credited to bob and carol, a unit of bread won by dave in a round (allocation and surplus): four entries. */
async function ledgerPool(): Promise<TestPool> {
  t = await testPool();
  await t.ok("admin", "pool create Riverside");
  await t.ok("admin", "project create bakery The Bakery");
  await t.ok("admin", "good add bakery bread effort:1 stock:0");
  for (const [task, who] of [
    [1, "bob"],
    [2, "carol"],
  ] as const) {
    await t.ok("admin", `task post bakery Job${task} hours:2`);
    await t.ok(who, `task claim ${task}`);
    await t.ok(who, `task done ${task}`);
    await t.ok("admin", `task verify ${task} @${who}`);
  }
  await t.ok("dave", "good request bread weight:1.5");
  await t.ok("erin", "good request bread weight:1.2");
  await t.ok("admin", "good produce bread 1");
  await t.ok("admin", "good allocate bread");
  return t;
}

/** The one row `sql` returns. */
const row = async <R>(sql: string, params: readonly unknown[] = []) => (await sqlRows<R>(t.store, sql, params))[0]!;
const accountOf = async (handle: string) =>
  (await row<{ id: number }>("SELECT a.id FROM accounts a JOIN members m ON m.id = a.owner_id WHERE a.kind = 'member' AND m.handle = ?", [handle])).id;

describe("pool audit from the running balances and the indexes", () => {
  it("GIVEN work credited and a round's allocation THEN the audit balances, counting every entry and account", async () => {
    await ledgerPool();
    const entries = (await row<{ n: number }>("SELECT count(*) AS n FROM entries")).n;
    const accounts = (await row<{ n: number }>("SELECT count(*) AS n FROM accounts")).n;
    expect(entries).toBe(4);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true, sum: 0, entries, accounts, mismatched: [] });
  });

  it("GIVEN a balance changed behind the ledger's back THEN the audit is not balanced and names that account", async () => {
    await ledgerPool();
    const bob = await accountOf("bob");
    await sqlRows(t.store, "UPDATE accounts SET balance = balance + 500 WHERE id = ?", [bob]);
    const r = await t.ok("admin", "pool audit");
    expect(r.balanced).toBe(false);
    expect(r.sum).toBe(0.5);
    expect(r.mismatched).toEqual([{ account: bob, kind: "member", balance: 2.5, entries: 2 }]);
  });

  it("GIVEN an entry's amount changed behind the ledger's back (its guard dropped) THEN both of its accounts differ from their entries", async () => {
    await ledgerPool();
    const carol = await accountOf("carol");
    const entry = await row<{ id: number; from_account: number }>("SELECT id, from_account FROM entries WHERE to_account = ? AND kind = 'work'", [carol]);
    // PostgreSQL names a trigger's table when dropping it; SQLite's trigger names are the schema's own.
    await sqlRows(t.store, testStoreKind() === "postgres" ? "DROP TRIGGER entries_no_update ON entries" : "DROP TRIGGER entries_no_update");
    await sqlRows(t.store, "UPDATE entries SET amount = amount + 250 WHERE id = ?", [entry.id]);
    const r = await t.ok("admin", "pool audit");
    expect(r.balanced).toBe(false);
    expect(r.mismatched.map((m: { account: number }) => m.account).sort((a: number, b: number) => a - b)).toEqual(
      [entry.from_account, carol].sort((a, b) => a - b),
    );
    expect(r.mismatched.find((m: { account: number }) => m.account === carol)).toMatchObject({ balance: 2, entries: 2.25 });
  });

  it("GIVEN entries written in bulk THEN their ids are theirs in order and each balance moved by its sum", async () => {
    await ledgerPool();
    const [bob, carol, dave] = [await accountOf("bob"), await accountOf("carol"), await accountOf("dave")];
    const before = async (id: number) => (await row<{ balance: number }>("SELECT balance FROM accounts WHERE id = ?", [id])).balance;
    const was = [await before(bob), await before(carol), await before(dave)];
    const poolId = (await row<{ id: number }>("SELECT id FROM pools")).id;
    const e = { poolId, kind: "transfer", reverses: null, requestId: "test:bulk", createdAt: Date.parse("2026-11-27T10:00:00Z"), createdBy: null };
    // More than one statement's worth of rows, so that ids span the chunks.
    const moves = Array.from({ length: 150 }, (_, i) => ({ ...e, fromAccount: i % 2 ? bob : carol, toAccount: dave, amount: 1 + i, memo: `move ${i}` }));
    const ids = await t.store.transaction((tx) => tx.insertEntries(moves));
    expect(ids).toHaveLength(150);
    const stored = await sqlRows<{ id: number; memo: string; amount: number }>(
      t.store,
      "SELECT id, memo, amount FROM entries WHERE request_id = 'test:bulk' ORDER BY id",
    );
    expect(stored.map((s) => s.id)).toEqual(ids);
    expect(stored.map((s) => s.memo)).toEqual(moves.map((m) => m.memo));
    const sent = (odd: number) => moves.filter((_, i) => i % 2 === odd).reduce((a, m) => a + m.amount, 0);
    expect([await before(bob), await before(carol), await before(dave)]).toEqual([was[0]! - sent(1), was[1]! - sent(0), was[2]! + sent(0) + sent(1)]);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true });
  });
});
