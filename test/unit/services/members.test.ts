// Link codes (issue 12, item 1): single use, 15 minutes, and a link confirmed to every account.
import { is } from "drizzle-orm";
import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { afterEach, describe, expect, it } from "vitest";
import * as schema from "../../../db/schema.ts";
import { MEMBER_COLUMNS } from "../../../src/services/members.ts";
import { renderNote } from "../../../commands/announcements.ts";
import { UTC_VIEW } from "../../../commands/present.ts";
import { docToText } from "../../../commands/doc.ts";
import { MINUTE_MS } from "../../../src/clock.ts";
import { testPool, type TestPool } from "../../support/app.ts";
import { sqlRows } from "../../support/db-dump.ts";

let t: TestPool;
afterEach(() => t?.close());

describe("link codes", () => {
  it.each([
    ["GIVEN a code 14 min 59 s old THEN it links", 15 * MINUTE_MS - 1000, { ok: true }],
    [
      "GIVEN a code exactly 15 min old THEN it has expired",
      15 * MINUTE_MS,
      { ok: false, code: "code_invalid", message: "that code has expired: ask for a new one" },
    ],
    [
      "GIVEN a code a day old THEN it has expired",
      24 * 60 * MINUTE_MS,
      { ok: false, code: "code_invalid", message: "that code has expired: ask for a new one" },
    ],
  ])("%s", async (_name, ageMs, expected) => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const { code, expiresAt } = await t.ok("alice", "me link");
    expect(Date.parse(expiresAt) - t.clock.now().getTime()).toBe(15 * MINUTE_MS);
    t.clock.advance(ageMs);
    const before = await t.dump();
    const r = await t.say("alicephone", `me link ${code}`);
    expect(r).toMatchObject(expected);
    if (!r.ok) expect(await t.dump()).toBe(before);
  });

  it("GIVEN a used code THEN it works for nobody again, its user included, and nothing changes", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const { code } = await t.ok("alice", "me link");
    await t.ok("alicephone", `me link ${code}`);
    const before = await t.dump();
    for (const user of ["bob", "alicephone", "alice"]) {
      expect(await t.say(user, `me link ${code}`)).toMatchObject({
        ok: false,
        code: "code_invalid",
        message: "that code was used already: each code works once, ask for a new one",
      });
    }
    expect(await t.dump()).toBe(before);
  });

  it("GIVEN a completed link THEN each account gets its own private note, and nobody else does", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const { code } = await t.ok("alice", "me link");
    await t.ok("bob", "me balance");
    await t.ok("alicephone", `me link ${code}`);
    const notes = (await t.store.pendingNotes("console", 100)).filter((n) => n.kind === "linked");
    expect(notes.map((n) => n.externalId).sort()).toEqual(["alice", "alicephone"]);
    expect(new Set(notes.map((n) => n.id)).size).toBe(2);
    expect(docToText(renderNote("linked", notes[0]!.body, UTC_VIEW))).toBe(
      "🔗 Accounts linked: console:alicephone now acts as @alice (@alicephone was merged into it).\nIf you did not do this, tell a pool admin at once.",
    );
    // A note for one account is not handed to the member's accounts on other platforms.
    await t.store.transaction(async (tx) => {
      const alice = await tx.memberByHandle("alice");
      await tx.insertIdentity({ platform: "matrix", externalId: "@alice:test", memberId: alice!.id, createdAt: 0 });
    });
    const claimed = await t.store.claimNotes("matrix", { owner: "test", now: Date.now(), leaseMs: 60_000, limit: 100 });
    expect(claimed.filter((n) => n.kind === "linked")).toEqual([]);
  });
});

// Issue 13, item 1: linking is invisible to the books. Before, `me link` moved identities, roles,
// coordinator seats and balances but left claims, waitlist places, requests, loans, subscriptions
// and notes with the merged account: bob's reported hour could never be verified ("@carol has no
// slot", "@bob has no slot"), task show still listed @bob, and bob's open claim could not be
// reported. Now everything keyed by the member moves in the link's transaction.
describe("linking moves everything the member holds", () => {
  /** carol makes a code, bob types it: bob's account is merged into carol. */
  async function link(from: string, into: string) {
    const { code } = await t.ok(into, "me link");
    return t.ok(from, `me link ${code}`);
  }

  async function bakery() {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    await t.ok("admin", "project create bakery Bakery");
  }

  it("GIVEN bob reported task 1 and holds task 2 THEN, linked into carol, the hour is verified for @carol (or typed @bob) and task 2 can be reported", async () => {
    for (const named of ["@carol", "@bob"]) {
      await bakery();
      await t.ok("admin", "task post bakery Sweep hours:1");
      await t.ok("admin", "task post bakery Knead hours:1");
      await t.ok("bob", "task claim 1");
      await t.ok("bob", "task done 1");
      await t.ok("bob", "task claim 2");
      await link("bob", "carol");

      expect((await t.ok("admin", "task show 1")).task.claims).toMatchObject([{ member: "carol", status: "reported" }]);
      expect(await t.ok("admin", `task verify 1 ${named}`)).toMatchObject({ member: "carol", credited: 1 });
      expect((await t.ok("carol", "me balance")).balance).toBe(1);
      expect((await t.ok("bob", "task done 2")).task.claims).toMatchObject([{ member: "carol", status: "reported" }]);
      expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true, sum: 0 });
      await t.close();
    }
  });

  it("GIVEN balances on both accounts THEN the member's balance is their sum, the merged account holds nothing, and the audit balances", async () => {
    await bakery();
    await t.ok("admin", "good add bakery bread effort:2 stock:10");
    await t.ok("admin", "task post bakery Sweep hours:3");
    await t.ok("bob", "task claim 1");
    await t.ok("bob", "task done 1");
    await t.ok("admin", "task verify 1 @bob");
    await t.ok("carol", "good request bread qty:2");
    expect([(await t.ok("bob", "me balance")).balance, (await t.ok("carol", "me balance")).balance]).toEqual([3, -4]);
    const linked = await link("bob", "carol");
    expect(linked).toMatchObject({ member: "carol", merged: "bob", movedBalances: 1 });
    expect((await t.ok("carol", "me balance")).balance).toBe(-1);
    expect((await t.ok("bob", "me balance")).balance).toBe(-1);
    const [bobAccount] = await sqlRows<{ balance: number }>(
      t.store,
      "SELECT a.balance FROM accounts a JOIN members m ON m.id = a.owner_id WHERE a.kind = 'member' AND m.handle = 'bob'",
    );
    expect(bobAccount!.balance).toBe(0);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true, sum: 0 });
  });

  it("GIVEN both accounts hold a slot on one task THEN the one furthest along stays (reported before active), the other is given back and the slot reopens", async () => {
    await bakery();
    await t.ok("admin", "task post bakery Sweep hours:1 slots:2");
    await t.ok("carol", "task claim 1");
    await t.ok("bob", "task claim 1");
    await t.ok("bob", "task done 1 hours:1.5");
    await t.ok("dave", "task claim 1"); // full: dave waits
    const linked = await link("bob", "carol");
    expect(linked.resolved).toEqual([{ task: 1, kept: "reported", gaveBack: "active" }]);
    const shown = (await t.ok("admin", "task show 1")).task;
    expect(shown.claims).toMatchObject([
      { member: "carol", status: "dropped" },
      { member: "carol", status: "reported", reportedHours: 1.5 },
    ]);
    expect(shown.status).toBe("open");
    expect(await t.ok("admin", "task verify 1 @carol")).toMatchObject({ member: "carol", hours: 1.5 });
    expect((await t.ok("dave", "task claim 1")).outcome).toBe("claimed");
  });

  it("GIVEN both accounts wait for one task THEN the member waits once, at the earlier place; one holding a slot where the other waits leaves the waitlist", async () => {
    await bakery();
    await t.ok("admin", "task post bakery Sweep hours:1");
    await t.ok("admin", "task post bakery Knead hours:1");
    await t.ok("erin", "task claim 1");
    await t.ok("bob", "task claim 1");
    t.clock.advance(60_000);
    await t.ok("dave", "task claim 1");
    t.clock.advance(60_000);
    await t.ok("carol", "task claim 1");
    await t.ok("carol", "task claim 2");
    await t.ok("erin", "task claim 2");
    await t.ok("bob", "task claim 2");
    await link("bob", "carol");
    expect((await t.ok("admin", "task show 1")).task.waitlist).toEqual(["carol", "dave"]);
    expect((await t.ok("admin", "task show 2")).task.waitlist).toEqual(["erin"]);
    await t.ok("erin", "task drop 1");
    expect((await t.ok("carol", "task claim 1")).outcome).toBe("claimed");
  });

  it("GIVEN both accounts coordinate one project, and admin and member roles THEN one seat, the higher role", async () => {
    await bakery();
    await t.ok("bob", "me balance");
    await t.ok("admin", "project coordinator add bakery @bob");
    await t.ok("admin", "pool admin add @bob");
    await link("bob", "admin");
    expect((await t.ok("admin", "project info bakery")).coordinators).toEqual(["admin"]);
    const members = (await t.ok("admin", "pool members")).members as Array<{ handle: string; role: string }>;
    expect(members.filter((m) => m.handle === "admin" || m.handle === "bob")).toMatchObject([{ handle: "admin", role: "admin" }]);
  });

  it("GIVEN requests, a loan and subscriptions on both accounts THEN the member cancels, returns and unsubscribes them; one subscription per good, one share", async () => {
    await bakery();
    await t.ok("admin", "good add bakery cake effort:2 stock:0");
    await t.ok("admin", "good add bakery drill effort:10 model:durable stock:1");
    await t.ok("admin", "good add bakery soup effort:1 model:flat-rate");
    const bobCake = await t.ok("bob", "good request cake weight:1.5");
    const carolCake = await t.ok("carol", "good request cake");
    const loan = await t.ok("bob", "good borrow drill days:2");
    await t.ok("bob", "good subscribe soup");
    await t.ok("carol", "good subscribe soup");
    await t.ok("dave", "good subscribe soup");
    await link("bob", "carol");
    expect((await t.ok("admin", "good show soup")).good.subscribers).toBe(2);
    expect(await t.ok("carol", `good cancel ${bobCake.request.id}`)).toMatchObject({ request: { status: "cancelled" } });
    expect(await t.ok("bob", `good cancel ${carolCake.request.id}`)).toMatchObject({ request: { status: "cancelled" } });
    expect(await t.ok("carol", `good return ${loan.loan.id}`)).toMatchObject({ loan: { days: 1 } });
    await t.ok("carol", "good unsubscribe soup");
    expect(await t.say("bob", "good unsubscribe soup")).toMatchObject({ ok: false, code: "subscription" });
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true, sum: 0 });
  });

  it("GIVEN notes waiting for bob THEN they reach carol's accounts, bob's included", async () => {
    await bakery();
    await t.ok("admin", "task post bakery Sweep hours:1");
    await t.ok("bob", "task claim 1");
    await t.ok("admin", "task refuse 1 @bob");
    await link("bob", "carol");
    const notes = (await t.store.pendingNotes("console", 100)).filter((n) => n.kind === "refused");
    expect(notes.map((n) => n.externalId).sort()).toEqual(["bob", "carol"]);
  });
});

describe("every member column of the schema is handled by linking", () => {
  /**
   * Columns that hold a member's id: those with a foreign key to members, and integer columns
   * named like one (member_id, owner_id, merged_into, *_by, by) that have none.
   */
  function memberColumns(): string[] {
    const out = new Set<string>();
    for (const table of (Object.values(schema) as unknown[]).filter((x): x is SQLiteTable => is(x, SQLiteTable))) {
      const config = getTableConfig(table);
      for (const fk of config.foreignKeys) {
        const ref = fk.reference();
        if (getTableConfig(ref.foreignTable).name === "members") for (const c of ref.columns) out.add(`${config.name}.${c.name}`);
      }
      for (const c of config.columns) {
        if (c.columnType === "SQLiteInteger" && /(^|_)(member_id|owner_id|merged_into|by)$/.test(c.name)) out.add(`${config.name}.${c.name}`);
      }
    }
    return [...out].sort();
  }

  it("GIVEN db/schema.ts THEN each column holding a member is in MEMBER_COLUMNS (moves, ledger, history or link), and no other", () => {
    const found = memberColumns();
    expect(found.length).toBeGreaterThan(20);
    expect(
      found.filter((c) => !(c in MEMBER_COLUMNS)),
      "member columns that linking does not handle: add them to MEMBER_COLUMNS and to the merge",
    ).toEqual([]);
    expect(
      Object.keys(MEMBER_COLUMNS).filter((c) => !found.includes(c)),
      "MEMBER_COLUMNS names columns the schema does not have",
    ).toEqual([]);
  });

  it("GIVEN bob holds a row in every table that moves THEN after the link no such row names bob, his history stays, and his account holds 0", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    await t.ok("admin", "project create bakery Bakery");
    await t.ok("bob", "me balance");
    await t.ok("admin", "project coordinator add bakery @bob");
    await t.ok("admin", "good add bakery bread effort:1 stock:5");
    await t.ok("admin", "good add bakery cake effort:1 stock:0");
    await t.ok("admin", "good add bakery drill effort:10 model:durable stock:1");
    await t.ok("admin", "good add bakery soup effort:1 model:flat-rate");
    await t.ok("bob", "task post bakery Sweep hours:1");
    await t.ok("bob", "task post bakery Knead hours:1");
    await t.ok("carol", "task claim 2");
    await t.ok("bob", "task claim 1");
    await t.ok("bob", "task claim 2"); // waits
    await t.ok("bob", "good request bread qty:2"); // allocated at once
    await t.ok("bob", "good request cake"); // waits for a round
    await t.ok("bob", "good borrow drill days:1");
    await t.ok("bob", "good subscribe soup");
    await t.ok("admin", "task refuse 1 @bob"); // a note for bob
    const bob = (await sqlRows<{ id: number }>(t.store, "SELECT id FROM members WHERE handle = 'bob'"))[0]!.id;
    /** Rows naming bob, per "table.column". */
    const counts = async (columns: readonly string[]): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const column of columns) {
        const [table, col] = column.split(".");
        out[column] = (await sqlRows<{ n: number }>(t.store, `SELECT count(*) AS n FROM "${table}" WHERE "${col}" = ?`, [bob]))[0]!.n;
      }
      return out;
    };
    const moving = Object.entries(MEMBER_COLUMNS)
      .filter(([, what]) => what === "moves")
      .map(([c]) => c);
    const movingBefore = await counts(moving);
    expect(
      moving.filter((c) => movingBefore[c] === 0),
      "the scenario gives bob a row in each table that moves",
    ).toEqual([]);
    const historyColumns = Object.entries(MEMBER_COLUMNS)
      .filter(([, what]) => what === "history")
      .map(([c]) => c);
    const history = await counts(historyColumns);

    const { code } = await t.ok("carol", "me link");
    await t.ok("bob", `me link ${code}`);
    // Only the link's own request id names bob: it is stored after the command, as typed by
    // that account (a replay finds the member through merged_into).
    expect(await counts(moving)).toEqual({ ...Object.fromEntries(moving.map((c) => [c, 0])), "requests.member_id": 1 });
    // History: who did what stays as it was (the link's own code and entries name bob as well).
    const after = await counts(historyColumns);
    expect(after).toEqual({ ...history, "codes.used_by": history["codes.used_by"]! + 1, "entries.created_by": after["entries.created_by"] });
    expect(await sqlRows(t.store, "SELECT balance FROM accounts WHERE kind = 'member' AND owner_id = ?", [bob])).toEqual([{ balance: 0 }]);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true, sum: 0 });
  });
});
