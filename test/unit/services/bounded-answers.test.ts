// Issue 15, peak memory: the answer to closing a round named every winner (6.5 MB of JSON for
// 50,000 winners), and `pool audit` carried every account of the pool (1 MB at 10,000
// accounts); both are stored with the command (a reply row for the chat platforms, the request
// id's record for a change). Now they carry counts and totals and at most `ROUND_LINES` /
// `AUDIT_LINES` lines, say how many more there are, and every winner still gets a note.
import { afterEach, describe, expect, it } from "vitest";
import { runText, type Reply } from "../../../commands/dispatch.ts";
import { ROUND_LINES } from "../../../src/services/goods.ts";
import { AUDIT_LINES } from "../../../src/services/pools.ts";
import { testPool, text, type TestPool } from "../../support/app.ts";
import { insertRows, sqlRows } from "../../support/db-dump.ts";

let t: TestPool;
afterEach(() => t?.close());

/** A command as a chat platform sends it: with a reply target, so its answer is stored in a reply row. */
function chat(user: string, line: string, requestId: string): Promise<Reply> {
  return runText(
    t.app.engine,
    {
      caller: { platform: "console", userId: user, displayName: user, roomId: "lobby" },
      requestId,
      now: t.clock.now(),
      replyTo: { room: "lobby", event: requestId },
    },
    line,
  );
}

/** The one row `sql` returns. */
const row = async <R>(sql: string, params: readonly unknown[] = []) => (await sqlRows<R>(t.store, sql, params))[0]!;
const storedReply = async (requestId: string) => (await row<{ body: string }>("SELECT body FROM replies WHERE request_id = ?", [requestId])).body;
const recorded = async (requestId: string) => (await row<{ reply: string }>("SELECT reply FROM requests WHERE request_id = ?", [requestId])).reply;
const count = async (sql: string) => (await row<{ n: number }>(sql)).n;

/** Riverside with a cake of effort `effort` and `bidders` members waiting for one each at `weight`, then `units` made. */
async function round(o: { bidders: number; units: number; effort: number; weight?: string }): Promise<string[]> {
  t = await testPool();
  await t.ok("admin", "pool create Riverside");
  await t.ok("admin", "project create bakery The Bakery");
  await t.ok("admin", `good add bakery cake effort:${o.effort}`);
  const bidders = Array.from({ length: o.bidders }, (_, i) => `m${String(i + 1).padStart(3, "0")}`);
  for (const m of bidders) await t.ok(m, `good request cake${o.weight ? ` weight:${o.weight}` : ""}`);
  await t.ok("admin", `good produce cake ${o.units}`);
  return bidders;
}

describe("a round's close answers with counts and the first winners", () => {
  it("GIVEN 300 members waiting for one cake each and 250 made THEN good allocate stores a bounded answer naming the first 20 winners, says how many more, and every winner has a note", async () => {
    const bidders = await round({ bidders: 300, units: 250, effort: 1 });
    const r = await chat("admin", "good allocate cake", "chat:close");
    expect(r.ok).toBe(true);
    const data = r.ok
      ? (r.data as { round: { units: number; winners: number; allocations: Array<{ member: string; qty: number; cost: number }>; queued: number } }).round
      : undefined;
    // Ties go to the earlier bid: the first 250 bidders win, one unit each at the effort.
    expect(data).toMatchObject({ units: 250, winners: 250, queued: 50, skippedMembers: 0 });
    expect(data!.allocations).toEqual(bidders.slice(0, ROUND_LINES).map((m) => ({ member: m, qty: 1, cost: 1 })));
    const shown = text(r);
    expect(shown).toContain("250 units to 250 members, the first 20:");
    expect(shown).toContain("and 230 more members (230 units): each winner has a note of what they got.");
    expect(shown).toContain("50 units still asked for");
    // The stored answers (reply row and request record) name only the first 20: no later winner.
    for (const body of [await storedReply("chat:close"), await recorded("chat:close")]) {
      expect(body.length).toBeLessThan(3000);
      expect(body).toContain(`"${bidders[ROUND_LINES - 1]}"`);
      expect(body).not.toContain(`"${bidders[ROUND_LINES]}"`);
      expect(body).not.toContain(`"${bidders[249]}"`);
    }
    // The books are as before: every winner has an allocation and a note, every one paid.
    expect(await count("SELECT count(*) AS n FROM allocations")).toBe(250);
    expect(await count("SELECT count(*) AS n FROM member_notes WHERE kind = 'allocated'")).toBe(250);
    expect(await count("SELECT count(*) AS n FROM good_requests WHERE status = 'allocated'")).toBe(250);
    expect((await t.ok(bidders[249]!, "me balance")).balance).toBe(-1);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true, sum: 0 });
    // The same request again gives the stored answer, rendered the same.
    const again = await chat("admin", "good allocate cake", "chat:close");
    expect(again.ok && again.replayed).toBe(true);
    expect(text(again)).toBe(shown);
  }, 120_000);

  it("GIVEN 12 winners THEN the answer names them all and says nothing of more", async () => {
    const bidders = await round({ bidders: 15, units: 12, effort: 1 });
    const r = await t.say("admin", "good allocate cake");
    const shown = text(r);
    expect(shown).not.toMatch(/more member|the first \d+:/);
    for (const m of bidders.slice(0, 12)) expect(shown).toContain(`@${m}: 1 for 1.00 wh`);
    expect(r.ok && r.data).toMatchObject({ round: { units: 12, winners: 12, skippedMembers: 0 } });
  }, 60_000);

  it("GIVEN everyone waiting served at once by new stock THEN good produce names the first 20 and how many more", async () => {
    const bidders = await round({ bidders: 30, units: 1, effort: 1 });
    // One unit for 30 waiting: the round stays open; 40 more cover everyone, so it closes at once.
    const r = await chat("admin", "good produce cake 40", "chat:produce");
    expect(r.ok).toBe(true);
    expect(text(r)).toMatch(/Everyone waiting was served: @m001 1, .*@m020 1 and 10 more members \(10 units\)\./);
    expect(r.ok && r.data).toMatchObject({ allocatedMembers: 30 });
    expect(r.ok && (r.data as { allocated: unknown[] }).allocated).toHaveLength(ROUND_LINES);
    expect(await storedReply("chat:produce")).not.toContain(`"${bidders[ROUND_LINES]}"`);
    expect(await count("SELECT count(*) AS n FROM member_notes WHERE kind = 'allocated'")).toBe(30);
  }, 60_000);

  it("GIVEN 60 bids at 2.00 for 30 units that cost more than the credit limit at 2.00 THEN the answer names the first 20 skipped and how many more, and each has a note", async () => {
    // Effort 6 fits the credit limit of 10; at weight 2 (the highest losing bid) it costs 12:
    // winners are skipped until no bid loses (30 skipped), and then the price is the effort.
    await round({ bidders: 60, units: 30, effort: 6, weight: "2" });
    const r = await chat("admin", "good allocate cake", "chat:skips");
    expect(r.ok).toBe(true);
    const data = r.ok ? (r.data as { round: { skipped: unknown[] } }).round : undefined;
    const skipped = await count("SELECT count(*) AS n FROM member_notes WHERE kind = 'skipped'");
    expect(skipped).toBe(30);
    expect(data).toMatchObject({ skippedMembers: 30, winners: 30, units: 30 });
    expect(data!.skipped).toHaveLength(ROUND_LINES);
    expect(text(r)).toMatch(/Skipped \(past the credit limit\): (@m\d{3} ){19}@m\d{3} and 10 more members\./);
    expect(await count("SELECT count(*) AS n FROM member_notes WHERE kind = 'allocated'")).toBe(30);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true });
  }, 60_000);
});

describe("pool audit answers with counts and the first accounts that differ", () => {
  /** Riverside plus `n` member accounts written straight into the table, all at 0. */
  async function manyAccounts(n: number): Promise<number[]> {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const poolId = (await row<{ id: number }>("SELECT id FROM pools")).id;
    const owners = Array.from({ length: n }, (_, i) => 100_000 + i);
    await insertRows(
      t.store,
      "accounts",
      owners.map((owner) => ({ pool_id: poolId, kind: "member", owner_id: owner, balance: 0 })),
    );
    // Their ids in the order written (each owner's account is the one of its number).
    return (await sqlRows<{ id: number }>(t.store, "SELECT id FROM accounts WHERE owner_id >= ? ORDER BY owner_id", [owners[0]])).map((r) => r.id);
  }

  it("GIVEN 5,000 accounts THEN the stored answer of pool audit holds its counts, not the accounts", async () => {
    await manyAccounts(5000);
    const accounts = await count("SELECT count(*) AS n FROM accounts");
    const r = await chat("admin", "pool audit", "chat:audit");
    expect(r.ok && r.data).toEqual({ balanced: true, sum: 0, accounts, entries: 0, mismatchedCount: 0, mismatched: [] });
    expect((await storedReply("chat:audit")).length).toBeLessThan(500);
  });

  it("GIVEN 30 of 5,000 balances changed behind the ledger's back THEN the audit lists the first 20 by number and says how many more", async () => {
    const ids = await manyAccounts(5000);
    // Every 100th account from the 7th, in an order that is not theirs.
    const tampered = Array.from({ length: 30 }, (_, i) => ids[7 + 100 * i]!);
    for (const id of [...tampered].reverse()) await sqlRows(t.store, "UPDATE accounts SET balance = balance + 250 WHERE id = ?", [id]);
    const r = await chat("admin", "pool audit", "chat:audit");
    expect(r.ok).toBe(true);
    const data = r.ok
      ? (r.data as { balanced: boolean; mismatchedCount: number; mismatched: Array<{ account: number; balance: number; entries: number }> })
      : undefined;
    expect(data).toMatchObject({ balanced: false, sum: 7.5, mismatchedCount: 30 });
    expect(data!.mismatched).toEqual(tampered.slice(0, AUDIT_LINES).map((account) => ({ account, kind: "member", balance: 0.25, entries: 0 })));
    const shown = text(r);
    expect(shown).toContain("30 account(s) differ from their entries, the first 20 by number.");
    expect(shown).toContain(`account ${tampered[19]} (member)`);
    expect(shown).not.toContain(`account ${tampered[20]} (member)`);
    expect(shown).toContain("and 10 more accounts that differ.");
    expect((await storedReply("chat:audit")).length).toBeLessThan(3000);
  });
});
