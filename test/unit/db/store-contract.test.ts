// The Store's contract, run on both stores: SQLite (in memory, or a temporary file where two
// stores share one database) and PostgreSQL (a fresh database for this file, dropped at the
// end; its tests share it, each in a pool of its own with names of its own, as pools share a
// database in production). The same scenarios must give the same answers on both; then a
// few commands through the whole app on each. Without a PostgreSQL server the PostgreSQL half
// is skipped, with the reason printed once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { is } from "drizzle-orm";
import { getTableConfig as pgTableConfig, PgTable } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { runText } from "../../../commands/dispatch.ts";
import * as pgSchema from "../../../db/pg-schema.ts";
import * as sqliteSchema from "../../../db/schema.ts";
import { PgStore, UNIQUE_ATTEMPTS } from "../../../db/pg-store.ts";
import { SqliteStore } from "../../../db/sqlite-store.ts";
import { openApp, openDatabaseUrl } from "../../../src/app.ts";
import { runDueJobs } from "../../../src/schedules.ts";
import { DatabaseBusyError, WriteInReadError } from "../../../src/errors.ts";
import { EXIT, FatalError } from "../../../src/lifecycle.ts";
import { memoryLogger } from "../../../src/log.ts";
import type { MemberId } from "../../../src/core/ids.ts";
import type { NewEntry, Store, Tx } from "../../../src/store.ts";
import { freshPgDatabase, pgUnavailable, type TestDatabase } from "../../support/pg.ts";
import { seededRandom } from "../../support/app.ts";

const T0 = Date.UTC(2026, 10, 27, 9);
const HOUR = 3_600_000;

interface Backend {
  readonly name: string;
  /** A store on a database of its own, empty. */
  open(): Promise<Store>;
  /** Two stores on one database, as two bot processes would have. */
  openTwo(): Promise<[Store, Store]>;
}

const skipPg = await pgUnavailable();
if (skipPg) console.log(skipPg);

let pgDb: TestDatabase | undefined;
const tmp = mkdtempSync(join(tmpdir(), "dpool-contract-"));
const opened: Store[] = [];
let files = 0;

const sqlite: Backend = {
  name: "SQLite",
  async open() {
    const s = new SqliteStore(":memory:");
    opened.push(s);
    return s;
  },
  async openTwo() {
    const file = join(tmp, `two-${++files}.sqlite`);
    const a = new SqliteStore(file);
    const b = new SqliteStore(file);
    opened.push(a, b);
    return [a, b];
  },
};

const postgres: Backend = {
  name: "PostgreSQL",
  async open() {
    const s = await PgStore.open(pgDb!.url, { max: 4 });
    opened.push(s);
    return s;
  },
  async openTwo() {
    const a = await PgStore.open(pgDb!.url, { max: 4 });
    const b = await PgStore.open(pgDb!.url, { max: 4 });
    opened.push(a, b);
    return [a, b];
  },
};

beforeAll(async () => {
  if (!skipPg) pgDb = await freshPgDatabase();
});

afterAll(async () => {
  for (const s of opened.splice(0)) await s.close();
  await pgDb?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

let worlds = 0;

/**
 * A pool with an admin, a project and a member, and the accounts of both people and the
 * commons; its people's names end in the world's own number (`tag`).
 */
async function world(tx: Tx) {
  const tag = ++worlds;
  const admin = await tx.insertMember(`admin-${tag}`, T0);
  const bob = await tx.insertMember(`bob-${tag}`, T0);
  const pool = await tx.insertPool({ name: "Riverside", policy: "{}", createdAt: T0, createdBy: admin });
  await tx.insertMembership({ poolId: pool, memberId: admin, role: "admin", joinedAt: T0 });
  await tx.insertMembership({ poolId: pool, memberId: bob, role: "member", joinedAt: T0 + 1 });
  const project = await tx.insertProject({ poolId: pool, slug: "bakery", name: "The Bakery", createdAt: T0, createdBy: admin });
  const commons = await tx.insertAccount({ poolId: pool, kind: "commons", ownerId: pool });
  const adminAcc = await tx.insertAccount({ poolId: pool, kind: "member", ownerId: admin });
  const bobAcc = await tx.insertAccount({ poolId: pool, kind: "member", ownerId: bob });
  const kind = await tx.insertKind({ poolId: pool, name: "baking", weight: 1_000_000, createdAt: T0 });
  return { tag, admin, bob, pool, project, commons, adminAcc, bobAcc, kind };
}

const entry = (poolId: number, from: number, to: number, amount: number, at = T0): NewEntry => ({
  poolId,
  fromAccount: from,
  toAccount: to,
  amount,
  kind: "work",
  memo: "",
  reverses: null,
  requestId: "r",
  createdAt: at,
  createdBy: null,
});

describe.each([
  { backend: sqlite, skip: undefined as string | undefined },
  { backend: postgres, skip: skipPg },
])("Store contract on $backend.name", ({ backend, skip }) => {
  it.skipIf(skip)("keeps pools, members, identities and memberships, and merges one member into another", async () => {
    const store = await backend.open();
    const w = await store.transaction(async (tx) => {
      const w = await world(tx);
      await tx.insertIdentity({ platform: "console", externalId: `bob-${w.tag}`, memberId: w.bob, createdAt: T0 });
      const bob2 = await tx.insertMember(`bob-matrix-${w.tag}`, T0 + 5);
      await tx.insertIdentity({ platform: "matrix", externalId: `@bob${w.tag}:example.org`, memberId: bob2, createdAt: T0 + 5 });
      await tx.insertMembership({ poolId: w.pool, memberId: bob2, role: "admin", joinedAt: T0 - 10 });
      await tx.advanceClock(T0 + HOUR, w.pool);
      await tx.advanceClock(T0, w.pool); // never back
      await tx.moveIdentities(bob2, w.bob);
      await tx.mergeMemberRows(bob2, w.bob, T0 + 6);
      await tx.markMerged(bob2, w.bob);
      return w;
    });
    const seen = await store.read(async (tx) => {
      const pool = (await tx.pools()).find((p) => p.id === w.pool)!;
      const bob = (await tx.memberByHandle(`bob-${w.tag}`))!;
      return {
        pool: { name: pool.name, clock: pool.clock, isNumber: typeof pool.createdAt },
        identity: await tx.identity("matrix", `@bob${w.tag}:example.org`),
        identities: (await tx.identitiesOf(bob.id)).map((i) => i.platform),
        membership: await tx.membership(pool.id, bob.id),
        members: (await tx.members(pool.id)).map((m) => `${m.handle}:${m.role}`),
        merged: (await tx.memberByHandle(`bob-matrix-${w.tag}`))?.mergedInto === bob.id,
        projects: (await tx.projects(pool.id)).map((p) => p.slug),
      };
    });
    expect(seen).toEqual({
      pool: { name: "Riverside", clock: T0 + HOUR, isNumber: "number" },
      identity: { platform: "matrix", externalId: `@bob${w.tag}:example.org`, memberId: w.bob },
      identities: ["console", "matrix"],
      // The higher role and the earlier joining of the two.
      membership: { poolId: w.pool, memberId: w.bob, role: "admin", joinedAt: T0 - 10 },
      members: [`admin-${w.tag}:admin`, `bob-${w.tag}:admin`],
      merged: true,
      projects: ["bakery"],
    });
  });

  it.skipIf(skip)("moves balances with ledger entries, and auditFacts balances them against the entries", async () => {
    const store = await backend.open();
    const ids = await store.transaction(async (tx) => {
      const w = await world(tx);
      const first = await tx.insertEntry(entry(w.pool, w.commons, w.bobAcc, 2500));
      // More than 2^31 in all: amounts are 64-bit on both stores.
      const many = await tx.insertEntries([
        entry(w.pool, w.commons, w.bobAcc, 3_000_000_000),
        entry(w.pool, w.bobAcc, w.adminAcc, 500),
        entry(w.pool, w.adminAcc, w.bobAcc, 100),
      ]);
      return { w, first, many };
    });
    expect(ids.many).toEqual([ids.first + 1, ids.first + 2, ids.first + 3]);
    const facts = await store.read(async (tx) => ({
      bob: (await tx.accountById(ids.w.bobAcc))!.balance,
      admin: (await tx.account(ids.w.pool, "member", ids.w.admin))!.balance,
      audit: await tx.auditFacts(ids.w.pool),
      last: (await tx.entriesOf(ids.w.bobAcc, 2)).map((e) => e.amount),
      entry: (await tx.entry(ids.first))!.amount,
    }));
    expect(facts.bob).toBe(2500 + 3_000_000_000 - 500 + 100);
    expect(facts.admin).toBe(400);
    expect(facts.audit.entries).toBe(4);
    for (const a of facts.audit.accounts) expect(a.net).toBe(a.account.balance);
    expect(facts.audit.accounts.map((a) => a.account.kind)).toEqual(["commons", "member", "member"]);
    expect(facts.last).toEqual([100, 500]);
    expect(facts.entry).toBe(2500);
    // Entries are append-only on both.
    await expect(store.transaction(async (tx) => tx.insertEntry(entry(ids.w.pool, ids.w.bobAcc, ids.w.bobAcc, 1)))).rejects.toThrow();
  });

  it.skipIf(skip)("keeps tasks, claims and waitlists, and counts open tasks", async () => {
    const store = await backend.open();
    const w = await store.transaction(async (tx) => {
      const w = await world(tx);
      const carol = await tx.insertMember(`carol-${w.tag}`, T0);
      const task = await tx.insertTask({
        poolId: w.pool,
        projectId: w.project,
        kindId: w.kind,
        title: "Knead",
        estimate: 2000,
        slots: 1,
        postedWeight: 1_000_000,
        postedAt: T0,
        postedBy: w.admin,
        dueAt: null,
        openSince: T0,
        openMs: 0,
        cancelledAt: null,
        cancelledBy: null,
        goodId: null,
        goodQty: null,
      });
      const claim = await tx.insertClaim({
        taskId: task,
        memberId: w.bob,
        weight: 1_000_000,
        status: "active",
        claimedAt: T0 + HOUR,
        expiresAt: T0 + 49 * HOUR,
        reportedAt: null,
        reportedHours: null,
        note: null,
        rejectReason: null,
        verifiedAt: null,
        verifiedBy: null,
        creditedHours: null,
        credited: null,
        entryId: null,
        endedAt: null,
        endedBy: null,
      });
      await tx.setTaskOpen(task, null, HOUR);
      // Two wait at one time: they keep the order they came in.
      await tx.joinWaitlist(task, carol, T0 + 2 * HOUR);
      await tx.joinWaitlist(task, w.admin, T0 + 2 * HOUR);
      await tx.leaveWaitlist(task, carol, T0 + 3 * HOUR);
      await tx.joinWaitlist(task, carol, T0 + 4 * HOUR); // back, at the first place in time
      await tx.updateClaim(claim, { status: "reported", reportedAt: T0 + 5 * HOUR, reportedHours: 2000 });
      return { ...w, task, claim, carol };
    });
    const seen = await store.read(async (tx) => ({
      claims: (await tx.claimsOf(w.task)).map((c) => `${c.status}:${c.reportedHours}`),
      ofTasks: (await tx.claimsOfTasks([w.task, 999])).length,
      waitlist: (await tx.waitlistOf(w.task)).map((x) => x.memberId),
      lists: (await tx.waitlistsOfTasks([w.task])).map((x) => x.memberId),
      waited: await tx.waitedBefore(w.task, w.carol),
      expired: (await tx.expiredClaims(T0 + 100 * HOUR)).filter((c) => c.taskId === w.task).length,
      openNow: await tx.countOpenTasks({ poolId: w.pool, now: T0 }),
      page: await tx.taskPage({ poolId: w.pool, now: T0 + 6 * HOUR }, "claimed", 10, 0),
      unfinished: (await tx.unfinishedTasks({ poolId: w.pool })).claims.length,
      task: await tx.task(w.task),
    }));
    expect(seen).toMatchObject({
      claims: ["reported:2000"],
      ofTasks: 1,
      waitlist: [w.carol, w.admin],
      lists: [w.carol, w.admin],
      waited: true,
      expired: 0,
      openNow: 0,
      page: { ids: [w.task], total: 1 },
      unfinished: 1,
      task: { openSince: null, openMs: HOUR, title: "Knead" },
    });
    // The slot opens again: the task is on the boards, with its kind's count.
    await store.transaction((tx) => tx.setTaskOpen(w.task, T0 + 6 * HOUR, HOUR));
    const open = await store.read(async (tx) => ({
      count: await tx.countOpenTasks({ poolId: w.pool, now: T0 + 7 * HOUR }),
      perKind: await tx.openTasksPerKind(w.pool, T0 + 7 * HOUR),
      by: (await tx.openTasksBy({ poolId: w.pool, now: T0 + 7 * HOUR }, "age", 5)).map((x) => `${x.project}/${x.kind}/${x.taken}`),
      openTasks: (await tx.openTasks(w.pool)).length,
    }));
    // The reported claim still holds the only slot: openTasks (slots taken) leaves it out.
    expect(open).toEqual({ count: 1, perKind: [{ kindId: w.kind, open: 1 }], by: ["bakery/baking/1"], openTasks: 0 });
  });

  it.skipIf(skip)("keeps goods, requests, rounds and allocations", async () => {
    const store = await backend.open();
    const w = await store.transaction(async (tx) => {
      const w = await world(tx);
      const good = await tx.insertGood({
        poolId: w.pool,
        projectId: w.project,
        name: "bread",
        displayName: null,
        unit: "loaf",
        model: "per-unit",
        sector: null,
        declaredEffort: 500,
        stock: 10,
        createdAt: T0,
        createdBy: w.admin,
      });
      const req = (memberId: number, weight: number) =>
        tx.insertGoodRequest({ goodId: good, memberId, qty: 2, filled: 0, weight, status: "pending", createdAt: T0 + 1, closedAt: null, bidAt: null });
      const r1 = await req(w.bob, 1_500_000);
      const r2 = await req(w.admin, 1_000_000);
      const round = await tx.insertRound({
        goodId: good,
        openedAt: T0,
        closesAt: T0 + HOUR,
        closedAt: null,
        clearingWeight: null,
        supply: null,
        allocated: null,
      });
      return { ...w, good, r1, r2, round };
    });
    const before = await store.read(async (tx) => ({
      totals: await tx.pendingTotals(w.good),
      due: (await tx.dueRounds(T0 + HOUR)).filter((r) => r.goodId === w.good).map((r) => r.id),
      open: (await tx.openRound(w.good))?.id,
      accounts: (await tx.pendingMemberAccounts(w.pool, w.good)).map((a) => a.handle).sort(),
    }));
    expect(before).toEqual({ totals: { requests: 2, units: 4 }, due: [w.round], open: w.round, accounts: [`admin-${w.tag}`, `bob-${w.tag}`] });
    await store.transaction(async (tx) => {
      await tx.fillGoodRequests([
        { id: w.r1, filled: 2, status: "allocated", closedAt: T0 + HOUR },
        { id: w.r2, filled: 1, status: "pending", closedAt: null },
      ]);
      const ids = await tx.insertAllocations([
        { goodId: w.good, requestId: w.r1, roundId: w.round, memberId: w.bob, qty: 2, effort: 500, weight: 1_000_000, cost: 1000, at: T0 + HOUR },
        { goodId: w.good, requestId: w.r2, roundId: w.round, memberId: w.admin, qty: 1, effort: 500, weight: 1_000_000, cost: 500, at: T0 + HOUR },
      ]);
      expect(ids[1]).toBe(ids[0]! + 1);
      await tx.closeRound(w.round, { closedAt: T0 + HOUR, clearingWeight: 1_000_000, supply: 10, allocated: 3 });
      await tx.setStock(w.good, 7);
    });
    const after = await store.read(async (tx) => ({
      totals: await tx.pendingTotals(w.good),
      last: (await tx.lastClosedRound(w.good))?.clearingWeight,
      closed: (await tx.roundsClosed(w.good, T0, T0 + 2 * HOUR)).length,
      allocations: (await tx.allocationsOf(w.good, T0)).map((a) => a.qty),
      stock: (await tx.good(w.good))!.stock,
      byName: (await tx.goodByName(w.pool, "bread"))?.id,
      flows: (await tx.goodFlows(w.pool, w.project, T0, T0 + 2 * HOUR)).map((f) => [f.good.name, f.allocatedSince, f.requested]),
      made: (await tx.goodRequestsMade(w.good, T0, T0 + HOUR)).map((r) => r.status),
      mine: (await tx.pendingRequestsOfMember(w.pool, w.admin)).map((r) => r.filled),
    }));
    expect(after).toEqual({
      totals: { requests: 1, units: 1 },
      last: 1_000_000,
      closed: 1,
      allocations: [2, 1],
      stock: 7,
      byName: w.good,
      flows: [["bread", 3, 4]],
      made: ["allocated", "pending"],
      mine: [1],
    });
  });

  it.skipIf(skip)("marks and clears boards, keeping the latest mark", async () => {
    const store = await backend.open();
    const { pool, room } = await store.transaction(async (tx) => {
      const w = await world(tx);
      await tx.markBoards(w.pool, T0 + 5);
      await tx.markBoards(w.pool, T0 + 2);
      const room = await tx.insertRoom({
        platform: "console",
        externalId: `lobby-${w.tag}`,
        poolId: w.pool,
        projectId: null,
        isLobby: true,
        boundAt: T0,
        boundBy: w.admin,
      });
      await tx.putBoard(room, "first", T0);
      await tx.putBoard(room, "second", T0 + 1);
      return { pool: w.pool, room };
    });
    const marks = async () => (await store.read((tx) => tx.markedBoards())).filter((m) => m.poolId === pool);
    expect(await marks()).toEqual([{ poolId: pool, at: T0 + 5 }]);
    await store.transaction((tx) => tx.clearBoardsMark(pool));
    await store.setBoardMessage(room, "msg-1");
    expect(await marks()).toEqual([]);
    expect(await store.read((tx) => tx.board(room))).toMatchObject({ body: "second", updatedAt: T0 + 1, messageId: "msg-1" });
    expect(await store.boardMessage(room)).toBe("msg-1");
    expect((await store.read((tx) => tx.rooms(pool)))[0]).toMatchObject({ isLobby: true, unreachableSince: null });
  });

  it.skipIf(skip)("read() refuses writes and writes nothing", async () => {
    const store = await backend.open();
    const zed = `zed-${(await store.transaction((tx) => world(tx))).tag}`;
    await expect(store.read((tx) => tx.insertMember(zed, T0))).rejects.toBeInstanceOf(WriteInReadError);
    expect(await store.read((tx) => tx.memberByHandle(zed))).toBeUndefined();
    // The store still works after the refusal.
    await store.transaction((tx) => tx.insertMember(zed, T0));
    expect((await store.read((tx) => tx.memberByHandle(zed)))?.handle).toBe(zed);
  });

  it.skipIf(skip)("two stores on one database never claim the same reply, room message or note", async () => {
    const [a, b] = await backend.openTwo();
    const room = await a.transaction(async (tx) => {
      const w = await world(tx);
      await tx.insertIdentity({ platform: "matrix", externalId: "@bob:x", memberId: w.bob, createdAt: T0 });
      const room = await tx.insertRoom({
        platform: "matrix",
        externalId: "!lobby",
        poolId: w.pool,
        projectId: null,
        isLobby: true,
        boundAt: T0,
        boundBy: w.admin,
      });
      for (let i = 0; i < 6; i++) {
        await tx.insertReply({ requestId: `req-${i}`, platform: "matrix", target: "{}", body: `{"n":${i}}`, createdAt: T0 + i });
        await tx.insertOutbox({ roomId: room, kind: "goal", body: `m${i}`, createdAt: T0 + i });
        await tx.insertNote({ poolId: w.pool, memberId: w.bob, kind: "released", body: `n${i}`, createdAt: T0 + i });
      }
      // A second answer to one request id is ignored.
      await tx.insertReply({ requestId: "req-0", platform: "matrix", target: "{}", body: "other", createdAt: T0 });
      return room;
    });
    const now = T0 + HOUR;
    const claim = (s: Store, owner: string) =>
      Promise.all([
        s.claimReplies("matrix", { owner, now, leaseMs: 60_000, limit: 4 }),
        s.claimOutbox("matrix", { owner, now, leaseMs: 60_000, limit: 4 }),
        s.claimNotes("matrix", { owner, now, leaseMs: 60_000, limit: 4 }),
      ]);
    const [[ra, oa, na], [rb, ob, nb]] = await Promise.all([claim(a, "a"), claim(b, "b")]);
    const replies = [...ra, ...rb].map((r) => r.requestId);
    const outbox = [...oa, ...ob].map((r) => r.id);
    const notes = [...na, ...nb].map((r) => r.id);
    // Each row once, all of them between the two (4 at most each).
    expect(new Set(replies).size).toBe(6);
    expect(replies).toHaveLength(6);
    expect(new Set(outbox).size).toBe(6);
    expect(outbox).toHaveLength(6);
    expect(new Set(notes).size).toBe(6);
    expect(notes).toHaveLength(6);
    expect(ra.find((r) => r.requestId === "req-0")?.body ?? rb.find((r) => r.requestId === "req-0")?.body).toBe('{"n":0}');
    expect([...oa, ...ob][0]!.room).toMatchObject({ platform: "matrix", externalId: "!lobby" });
    expect([...na, ...nb][0]!.externalId).toBe("@bob:x");
    // Nothing is left to claim while the leases hold; only the owner settles.
    expect(await b.claimReplies("matrix", { owner: "b", now, leaseMs: 60_000, limit: 10 })).toEqual([]);
    const first = ra[0] ?? rb[0]!;
    const owner = ra.includes(first) ? "a" : "b";
    await (owner === "a" ? b : a).settle({ kind: "reply", id: first.requestId }, owner === "a" ? "b" : "a", { delivered: now });
    expect((await a.read((tx) => tx.reply(first.requestId)))!.deliveredAt).toBeNull();
    await a.settle({ kind: "reply", id: first.requestId }, owner, { delivered: now });
    expect(await a.read((tx) => tx.reply(first.requestId))).toMatchObject({ deliveredAt: now, attempts: 1 });
    // A transient failure frees the row from `retryAt` on; a lease that ran out frees the rest.
    const note = na[0] ?? nb[0]!;
    await a.settle({ kind: "note", id: note.id }, na.includes(note) ? "a" : "b", { retryAt: now + 1000, error: "timeout" });
    const later = await a.claimNotes("matrix", { owner: "a", now: now + 120_000, leaseMs: 60_000, limit: 10 });
    expect(later.map((n) => n.id).sort((x, y) => x - y)).toEqual([...notes].sort((x, y) => x - y));
    expect(later.find((n) => n.id === note.id)?.attempts).toBe(1);
    // A room that refused the bot: what waited for it is given up.
    await b.markRoomUnreachable(room, now);
    expect(await a.claimOutbox("matrix", { owner: "a", now: now + 120_000, leaseMs: 60_000, limit: 10 })).toEqual([]);
  });

  it.skipIf(skip)("runs a check-then-insert race one after the other: both succeed, no duplicate", async () => {
    const [a, b] = await backend.openTwo();
    const w = await a.transaction((tx) => world(tx));
    const pool = w.pool;
    let runs = 0;
    let read = 0;
    // Each waits (a while at most) until both have read: on PostgreSQL both read before either
    // writes; on SQLite the second waits for the first's commit and reads after it.
    const bothRead = async () => {
      read++;
      for (let i = 0; i < 40 && read < 2; i++) await new Promise((r) => setTimeout(r, 10));
    };
    const addGoalOnce = (s: Store) =>
      s.transaction(async (tx) => {
        runs++;
        const open = await tx.goals(pool, { status: "open" });
        if (runs <= 2) await bothRead();
        if (open.some((g) => g.text === "Bread for 40")) return "found";
        await tx.insertGoal({
          poolId: pool,
          projectId: w.project,
          text: "Bread for 40",
          status: "open",
          createdAt: T0,
          createdBy: w.admin,
          doneAt: null,
          doneBy: null,
        });
        return "added";
      });
    const outcomes = await Promise.all([addGoalOnce(a), addGoalOnce(b)]);
    expect(outcomes.sort()).toEqual(["added", "found"]);
    expect(await a.read((tx) => tx.goals(pool, {}))).toHaveLength(1);
    // PostgreSQL refused one commit and ran that transaction again, unseen by the caller.
    if (backend === postgres) expect(runs).toBeGreaterThanOrEqual(3);
  });

  it.skipIf(skip)("keeps due dates, single claims and requests, loans, notices, room states and boards' removal", async () => {
    const store = await backend.open();
    const w = await store.transaction(async (tx) => {
      const w = await world(tx);
      const base = { poolId: w.pool, projectId: w.project, kindId: w.kind, estimate: 1000, slots: 1, postedWeight: 1_000_000, postedAt: T0, postedBy: w.admin };
      const nulls = { dueAt: null, openSince: T0, openMs: 0, cancelledAt: null, cancelledBy: null, goodId: null, goodQty: null };
      const task = await tx.insertTask({ ...base, ...nulls, title: "Sweep" });
      const other = await tx.insertTask({ ...base, ...nulls, title: "Mop", openSince: null });
      await tx.setTaskDue({ taskId: task, before: null, after: T0 + 24 * HOUR, at: T0 + 1, by: w.admin });
      await tx.setTaskDue({ taskId: task, before: T0 + 24 * HOUR, after: T0 + 48 * HOUR, at: T0 + 2, by: w.admin });
      const claim = await tx.insertClaim({
        taskId: task,
        memberId: w.bob,
        weight: 1_000_000,
        status: "active",
        claimedAt: T0,
        expiresAt: T0 + HOUR,
        reportedAt: null,
        reportedHours: null,
        note: null,
        rejectReason: null,
        verifiedAt: null,
        verifiedBy: null,
        creditedHours: null,
        credited: null,
        entryId: null,
        endedAt: null,
        endedBy: null,
      });
      const good = await tx.insertGood({
        poolId: w.pool,
        projectId: w.project,
        name: "oven",
        displayName: "Big Oven",
        unit: "oven",
        model: "durable",
        sector: "kitchen",
        declaredEffort: 1000,
        stock: 1,
        createdAt: T0,
        createdBy: w.admin,
      });
      const request = await tx.insertGoodRequest({
        goodId: good,
        memberId: w.bob,
        qty: 1,
        filled: 0,
        weight: 1_000_000,
        status: "pending",
        createdAt: T0,
        closedAt: null,
      });
      await tx.updateGoodRequest(request, { status: "cancelled", closedAt: T0 + 5 });
      const loan = await tx.insertLoan({
        goodId: good,
        memberId: w.bob,
        borrowedAt: T0,
        dueAt: T0 + 24 * HOUR,
        returnedAt: null,
        charged: null,
        overdueAt: null,
      });
      await tx.returnLoan(loan, T0 + 2 * HOUR, 83);
      const room = await tx.insertRoom({
        platform: "console",
        externalId: `hall-${w.tag}`,
        poolId: w.pool,
        projectId: null,
        isLobby: false,
        boundAt: T0,
        boundBy: w.admin,
      });
      await tx.insertNotice({ roomId: room, taskId: task, noticedAt: T0 });
      await tx.insertNotice({ roomId: room, taskId: task, noticedAt: T0 + 1 }); // once per room
      await tx.insertOutbox({ roomId: room, kind: "neglected", body: "a", createdAt: T0 + 3 });
      await tx.insertOutbox({ roomId: room, kind: "neglected", body: "b", createdAt: T0 + 7 });
      await tx.setRoomUnreachable(room, T0 + 8);
      await tx.putBoard(room, "board", T0);
      await tx.deleteBoard(room);
      return { ...w, task, other, claim, good, request, loan, room };
    });
    const seen = await store.read(async (tx) => ({
      due: (await tx.task(w.task))!.dueAt,
      changes: (await tx.dueChangesOf([w.task, w.other])).map((c) => c.after),
      claim: (await tx.claim(w.claim))?.expiresAt,
      open: (await tx.tasks(w.pool, { open: true })).map((x) => x.title),
      all: (await tx.tasks(w.pool, { projectId: w.project, kindId: w.kind })).map((x) => x.title),
      request: await tx.goodRequest(w.request),
      loans: (await tx.loansOf(w.good)).map((l) => [l.returnedAt, l.charged]),
      noticed: await tx.noticedTasks(w.room),
      lastOutbox: await tx.lastOutboxAt(w.room, "neglected"),
      none: await tx.lastOutboxAt(w.room, "goal"),
      unreachable: (await tx.rooms(w.pool))[0]!.unreachableSince,
      board: await tx.board(w.room),
    }));
    expect(seen).toEqual({
      due: T0 + 48 * HOUR,
      changes: [T0 + 24 * HOUR, T0 + 48 * HOUR],
      claim: T0 + HOUR,
      open: ["Sweep"],
      all: ["Sweep", "Mop"],
      request: {
        id: w.request,
        goodId: w.good,
        memberId: w.bob,
        qty: 1,
        filled: 0,
        weight: 1_000_000,
        status: "cancelled",
        createdAt: T0,
        closedAt: T0 + 5,
        bidAt: null,
      },
      loans: [[T0 + 2 * HOUR, 83]],
      noticed: [w.task],
      lastOutbox: T0 + 7,
      none: undefined,
      unreachable: T0 + 8,
      board: undefined,
    });
  });

  it.skipIf(skip)("lists, claims one by one and marks delivered the messages to send", async () => {
    const store = await backend.open();
    const w = await store.transaction(async (tx) => {
      const w = await world(tx);
      await tx.insertIdentity({ platform: "discord", externalId: `d-${w.tag}`, memberId: w.bob, createdAt: T0 });
      const room = await tx.insertRoom({
        platform: "discord",
        externalId: `c-${w.tag}`,
        poolId: w.pool,
        projectId: null,
        isLobby: true,
        boundAt: T0,
        boundBy: w.admin,
      });
      const outbox = [
        await tx.insertOutbox({ roomId: room, kind: "goal", body: "x", createdAt: T0 }),
        await tx.insertOutbox({ roomId: room, kind: "goal", body: "y", createdAt: T0 }),
      ];
      const note = await tx.insertNote({ poolId: w.pool, memberId: w.bob, kind: "released", body: "n", createdAt: T0 });
      // Meant for another account of bob's only: not sent to this one.
      await tx.insertNote({ poolId: w.pool, memberId: w.bob, kind: "linked", body: "m", createdAt: T0, onlyPlatform: "discord", onlyExternalId: "elsewhere" });
      await tx.insertReply({ requestId: `discord:${w.tag}`, platform: "discord", target: "{}", body: "{}", createdAt: T0 });
      return { ...w, room, outbox, note };
    });
    const mine = <R extends { room?: { id: number }; memberId?: number }>(rows: R[]) =>
      rows.filter((r) => (r.room ? r.room.id === w.room : r.memberId === w.bob));
    expect(mine(await store.pendingOutbox("discord", 100)).map((o) => o.body)).toEqual(["x", "y"]);
    expect(mine(await store.pendingNotes("discord", 100)).map((n) => [n.body, n.externalId])).toEqual([["n", `d-${w.tag}`]]);
    // Marking returns what this call took: a second mark of the same rows (another console on
    // the same database) takes nothing.
    expect(await store.markDelivered([w.outbox[0]!], T0 + 1)).toEqual([w.outbox[0]]);
    expect(await store.markNotesDelivered([w.note], T0 + 1)).toEqual([w.note]);
    expect(await store.markDelivered([w.outbox[0]!], T0 + 1)).toEqual([]);
    expect(await store.markNotesDelivered([w.note], T0 + 1)).toEqual([]);
    expect(mine(await store.pendingOutbox("discord", 100)).map((o) => o.body)).toEqual(["y"]);
    expect(mine(await store.pendingNotes("discord", 100))).toEqual([]);
    const o = { owner: "p1", now: T0 + 2, leaseMs: 1000 };
    expect((await store.claimReply(`discord:${w.tag}`, o))?.requestId).toBe(`discord:${w.tag}`);
    expect(await store.claimReply(`discord:${w.tag}`, { ...o, owner: "p2" })).toBeUndefined();
    // The lease ran out: another process may take it.
    expect((await store.claimReply(`discord:${w.tag}`, { ...o, owner: "p2", now: T0 + 2000 }))?.requestId).toBe(`discord:${w.tag}`);
    await store.settle({ kind: "reply", id: `discord:${w.tag}` }, "p2", { failedAt: T0 + 2001, reason: "interaction expired" });
    expect(await store.read((tx) => tx.reply(`discord:${w.tag}`))).toMatchObject({ failedAt: T0 + 2001, failure: "interaction expired", attempts: 1 });
  });

  it.skipIf(skip)("gives the last slot of a task to one of two members claiming it at once on two processes", async () => {
    const [a, b] = await backend.openTwo();
    const apps = [a, b].map((store, i) =>
      openApp({ dbFile: "(given)", store, random: seededRandom(20 + i), logger: memoryLogger().logger, floodControl: false }),
    );
    let n = 0;
    const say = (app: (typeof apps)[number], user: string, text: string) =>
      runText(
        app.engine,
        { caller: { platform: "console", userId: user, displayName: user, roomId: "race-room" }, requestId: `console:race-${++n}`, now: new Date(T0 + 60_000) },
        text,
      );
    await say(apps[0]!, "admin", "pool create Riverside");
    await say(apps[0]!, "alice", "project create bakery The Bakery");
    const posted = await say(apps[0]!, "alice", "task post bakery Knead hours:2 kind:baking");
    const task = posted.ok ? (posted.data as { task: { id: number } }).task.id : 0;
    // Both are known to the pool before they race (a room of its own: the database is shared with the other tests).
    await say(apps[0]!, "bob", "me balance");
    await say(apps[1]!, "carol", "me balance");
    await Promise.all([say(apps[0]!, "bob", `task claim ${task}`), say(apps[1]!, "carol", `task claim ${task}`)]);
    const claims = await a.read((tx) => tx.claimsOf(task));
    const waiting = await a.read((tx) => tx.waitlistOf(task));
    // One holds the slot; the other waits for it.
    expect(claims.filter((c) => c.status === "active")).toHaveLength(1);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]!.memberId).not.toBe(claims[0]!.memberId);
  });

  it.skipIf(skip)("runs commands through the app: claim, done, verify, balance", async () => {
    const store = await backend.open();
    const { logger } = memoryLogger();
    const app = openApp({ dbFile: "(given)", store, random: seededRandom(7), logger, floodControl: false });
    let n = 0;
    const say = async (user: string, text: string) => {
      const r = await runText(
        app.engine,
        { caller: { platform: "console", userId: user, displayName: user, roomId: "lobby" }, requestId: `console:c-${++n}`, now: new Date(T0 + n * 60_000) },
        text,
      );
      if (!r.ok) throw new Error(`"${text}" as ${user} was refused: ${r.message}`);
      return r.data as { task?: { id: number } };
    };
    await say("admin", "pool create Riverside");
    await say("alice", "project create bakery The Bakery");
    const task = (await say("alice", 'task post bakery "Knead the dough" hours:2 kind:baking')).task!.id;
    await say("bob", `task claim ${task}`);
    await say("bob", `task done ${task}`);
    await say("alice", `task verify ${task} @bob`);
    // Two hours at weight 1, credited to bob; every account balances on its entries.
    expect(await say("bob", "me balance")).toMatchObject({ balance: 2 });
    expect(await say("admin", "pool audit")).toMatchObject({ balanced: true, entries: 1, mismatchedCount: 0 });
  });
});

/**
 * A session of the pool's life, typed by several members over some days: tasks (slots, a
 * waitlist, a due date, verification, a drop, a cancel), goals, goods of every model (a round,
 * a loan, a copyable good, a subscription and its settlement), and the reads of all of it.
 * Each line: who, how many minutes after the one before, what, and in which room (the lobby
 * unless given); {code} is the code the last answer that had one gave.
 */
const SESSION: ReadonlyArray<readonly [string, number, string, string?]> = [
  ["admin", 0, "pool create Riverside"],
  ["alice", 1, "project create bakery The Bakery"],
  ["bob", 1, "project create bikes Bike Workshop"],
  ["alice", 1, 'task post bakery "Knead the dough" hours:2 kind:baking slots:2'],
  ["alice", 1, "task post bakery Sweep hours:1 kind:cleaning due:2026-12-03"],
  ["bob", 5, "task post bikes Fix the chain hours:3 kind:repair"],
  ["bob", 5, "task claim 1"],
  ["carol", 5, "task claim 1"],
  ["dave", 5, "task claim 1"],
  ["bob", 60, "task done 1 hours:2 all kneaded"],
  ["alice", 10, "task verify 1 @bob"],
  ["carol", 10, "task drop 1"],
  ["dave", 10, "task claim 1"],
  ["carol", 10, "task claim 3"],
  ["alice", 10, 'goal announce bakery "Bread for 40"'],
  ["alice", 1, "goal list"],
  ["alice", 1, "good add bakery bread Fresh Bread effort:0.5 unit:loaf stock:3"],
  ["bob", 1, "good request bread qty:2 weight:1.5"],
  ["carol", 1, "good request bread qty:2"],
  ["dave", 1, "good request bread qty:1 weight:2"],
  ["alice", 1, "good show bread"],
  ["alice", 30, "good allocate bread"],
  ["alice", 1, "good add bakery oven effort:1 model:durable stock:1"],
  ["bob", 1, "good borrow oven days:2"],
  ["alice", 1, "good add bakery recipes effort:1 model:copyable"],
  ["carol", 1, "good request recipes"],
  ["alice", 1, "good add bakery share effort:1 model:flat-rate"],
  ["bob", 1, "good subscribe share"],
  ["carol", 1, "good subscribe share"],
  ["alice", 1, "good produce bread 5"],
  ["admin", 1, "pool admin add @bob"],
  ["alice", 1, "project coordinator add bakery @carol"],
  ["alice", 1, "pool announcements"],
  ["admin", 1, "pool invite"],
  ["alice", 1, "pool join {code}", "kitchen"],
  ["alice", 1, "project room bakery", "kitchen"],
  ["alice", 1, "pool announcements goals off", "kitchen"],
  ["admin", 1, "pool policy claimDays 5"],
  ["alice", 1, "goal done 1"],
  ["alice", 1, "task due 1 2026-12-20"],
  ["alice", 1, "task post bakery Bake bread hours:1 good:bread qty:4"],
  ["carol", 1, "task claim 4"],
  ["carol", 30, "task done 4"],
  ["alice", 1, "task verify 4 @carol"],
  ["alice", 1, "project coordinator remove bakery @carol"],
  ["admin", 1, 'pool correct 1 "reported twice"'],
  ["admin", 1, 'pool correct 1 "reported twice" confirm'],
  ["bob", 1, "me link"],
  ["robert", 1, "me link {code}"],
  ["alice", 2 * 24 * 60, "task list"],
  ["bob", 1, "good return oven"],
  ["dave", 1, "task show 1"],
  ["alice", 4 * 24 * 60, "task cancel 2"],
  ["admin", 30 * 24 * 60, "pool settle"],
  ["bob", 1, "good unsubscribe share"],
  ["alice", 1, "kind list"],
  ["alice", 1, "good list"],
  ["alice", 1, "pool info"],
  ["alice", 1, "pool members"],
  ["alice", 1, "project list"],
  ["alice", 1, "project info bakery"],
  ["alice", 1, "sector report"],
  ["alice", 1, "pool summary bakery"],
  ["admin", 1, "pool summary"],
  ["bob", 1, "me status"],
  ["bob", 1, "me history"],
  ["carol", 1, "me balance"],
  ["admin", 1, "pool audit"],
];

/** Every answer of the session, in order: what it said (data or refusal). */
async function playSession(store: Store): Promise<unknown[]> {
  const { logger } = memoryLogger();
  const app = openApp({ dbFile: "(given)", store, random: seededRandom(11), logger, floodControl: false });
  let at = T0;
  const answers: unknown[] = [];
  let code = "";
  for (const [i, [user, minutes, text, room]] of SESSION.entries()) {
    at += minutes * 60_000;
    const r = await runText(
      app.engine,
      { caller: { platform: "console", userId: user, displayName: user, roomId: room ?? "lobby" }, requestId: `console:s-${i}`, now: new Date(at) },
      text.replace("{code}", code),
    );
    if (r.ok) code = (r.data as { code?: string } | null)?.code ?? code;
    answers.push([text, r.ok ? r.data : r.message]);
  }
  // The scheduler's jobs, a week on: summaries, notices of neglected work, storage.
  answers.push(await runDueJobs(store, at + 7 * 24 * HOUR));
  await app.close();
  return answers;
}

describe.skipIf(skipPg)("the same session on SQLite and PostgreSQL", () => {
  it("gives the same answers, command by command", async () => {
    const db = await freshPgDatabase();
    try {
      const onSqlite = await playSession(new SqliteStore(":memory:"));
      const onPg = await playSession(await PgStore.open(db.url, { max: 4 }));
      // Every command was done, none refused: the session means something.
      expect(onSqlite.filter((a) => typeof (a as unknown[])[1] === "string")).toEqual([]);
      for (let i = 0; i < SESSION.length; i++) expect(onPg[i], SESSION[i]![2]).toEqual(onSqlite[i]);
    } finally {
      await db.drop();
    }
  });
});

describe.skipIf(skipPg)("PostgreSQL's refusals", () => {
  it("gives up on a transaction refused maxAttempts times with DatabaseBusyError, and keeps nothing of it", async () => {
    const a = await PgStore.open(pgDb!.url, { max: 2, maxAttempts: 1 });
    const b = await PgStore.open(pgDb!.url, { max: 2, maxAttempts: 1 });
    opened.push(a, b);
    const w = await a.transaction((tx) => world(tx));
    let read = 0;
    const addGoal = (s: Store, text: string) =>
      s.transaction(async (tx) => {
        const open = await tx.goals(w.pool, {});
        read++;
        for (let i = 0; i < 100 && read < 2; i++) await new Promise((r) => setTimeout(r, 10));
        await tx.insertGoal({
          poolId: w.pool,
          projectId: w.project,
          text: `${text} after ${open.length}`,
          status: "open",
          createdAt: T0,
          createdBy: w.admin,
          doneAt: null,
          doneBy: null,
        });
      });
    const outcomes = await Promise.allSettled([addGoal(a, "one"), addGoal(b, "two")]);
    // Each read the other's write too late: one of the two may not commit.
    const refused = outcomes.filter((o) => o.status === "rejected");
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(DatabaseBusyError);
    expect((await a.read((tx) => tx.goals(w.pool, {}))).map((g) => g.text)).toHaveLength(1);
  });
});

describe.skipIf(skipPg)("PostgreSQL's unique keys under concurrency", () => {
  const request = (w: { admin: MemberId }, requestId: string) => ({
    requestId,
    command: "pool audit",
    memberId: w.admin,
    reply: "null",
    createdAt: T0,
    fingerprint: null,
  });

  it("runs a transaction again when another one's insert broke a unique key (23505) it decided from a snapshot without", async () => {
    const a = await PgStore.open(pgDb!.url, { max: 2 });
    const b = await PgStore.open(pgDb!.url, { max: 2 });
    opened.push(a, b);
    const w = await a.transaction((tx) => world(tx));
    let inserted!: () => void;
    const firstInserted = new Promise<void>((resolve) => (inserted = resolve));
    // The first process takes the key and holds its transaction open a moment.
    const first = a.transaction(async (tx) => {
      await tx.insertRequest(request(w, "race-1"));
      inserted();
      await new Promise((resolve) => setTimeout(resolve, 100));
    });
    // The second decided, from what it read before, that the key was free: its insert waits for
    // the first, then breaks the key. Run again, it reads the first's row and decides otherwise.
    let attempts = 0;
    const second = b.transaction(async (tx) => {
      attempts++;
      await firstInserted;
      if (attempts > 1 && (await tx.request("race-1"))) return "taken";
      await tx.insertRequest(request(w, "race-1"));
      return "inserted";
    });
    await first;
    expect(await second).toBe("taken");
    expect(attempts).toBe(2);
  });

  it("reports a unique key that every attempt breaks as the error it is, not as a busy database", async () => {
    const a = await PgStore.open(pgDb!.url, { max: 2 });
    opened.push(a);
    const w = await a.transaction((tx) => world(tx));
    await a.transaction((tx) => tx.insertRequest(request(w, "taken-1")));
    let attempts = 0;
    const again = a.transaction(async (tx) => {
      attempts++;
      await tx.insertRequest(request(w, "taken-1"));
    });
    await expect(again).rejects.toMatchObject({ code: "23505" });
    // Tried a few times (it might have been another transaction's doing), then given up as itself.
    expect(attempts).toBe(UNIQUE_ATTEMPTS);
  });
});

/**
 * What a table is made of, in either dialect: columns, indexes, checks, keys. (Not the default
 * of a primary key: SQLite numbers any integer key by itself, PostgreSQL only its identities.)
 */
function shapeOf(c: ReturnType<typeof sqliteTableConfig> | ReturnType<typeof pgTableConfig>, leaveOut: readonly string[] = []) {
  return {
    name: c.name,
    columns: c.columns
      .filter((x) => !leaveOut.includes(x.name))
      .map((x) => `${x.name}${x.notNull ? " not null" : ""}${x.hasDefault && !x.primary ? " default" : ""}${x.primary ? " primary" : ""}`),
    indexes: c.indexes
      .map(
        (i) =>
          `${i.config.name}${i.config.unique ? " unique" : ""} (${i.config.columns.map((x) => ("name" in x && typeof x.name === "string" ? x.name : "expression")).join(", ")})${i.config.where ? " partial" : ""}`,
      )
      .sort(),
    checks: c.checks.map((x) => x.name).sort(),
    primaryKeys: c.primaryKeys.map((k) => k.columns.map((x) => x.name).join(", ")),
    foreignKeys: c.foreignKeys
      .map((f) =>
        f
          .reference()
          .columns.map((x) => x.name)
          .join(", "),
      )
      .sort(),
  };
}

describe("db/pg-schema.ts", () => {
  it("has the tables, columns, indexes, checks and keys of db/schema.ts (PostgreSQL's waitlist adds its order of arrival)", () => {
    const tables = Object.entries(sqliteSchema).filter(([, v]) => is(v, SQLiteTable));
    expect(tables.length).toBeGreaterThan(30);
    for (const [key, table] of tables) {
      const pgTable = (pgSchema as Record<string, unknown>)[key];
      expect(is(pgTable, PgTable), `${key} in db/pg-schema.ts`).toBe(true);
      expect(shapeOf(pgTableConfig(pgTable as PgTable), key === "waitlist" ? ["seq"] : []), key).toEqual(shapeOf(sqliteTableConfig(table as SQLiteTable)));
    }
    expect(Object.values(pgSchema).filter((v) => is(v, PgTable))).toHaveLength(tables.length);
  });
});

describe("DPOOL_DATABASE_URL", () => {
  it("opens nothing when unset (the SQLite file is the store) and refuses an address that is not PostgreSQL's, with what to set", async () => {
    expect(await openDatabaseUrl({})).toBeUndefined();
    expect(await openDatabaseUrl({ DPOOL_DATABASE_URL: " " })).toBeUndefined();
    const refused = await openDatabaseUrl({ DPOOL_DATABASE_URL: "mysql://localhost/dpool" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FatalError);
    expect(refused).toMatchObject({ exitCode: EXIT.config, message: expect.stringContaining("postgres://") as unknown });
  });

  it.skipIf(skipPg)("opens the PostgreSQL store it names, migrated", async () => {
    const store = await openDatabaseUrl({ DPOOL_DATABASE_URL: pgDb!.url });
    expect(store).toBeInstanceOf(PgStore);
    opened.push(store!);
    expect(await store!.read((tx) => tx.member(1_000_000))).toBeUndefined();
  });

  it("says in one line when the server cannot be reached", async () => {
    const refused = await openDatabaseUrl({ DPOOL_DATABASE_URL: "postgres://postgres@127.0.0.1:1/none" }).catch((e: unknown) => e);
    expect(refused).toMatchObject({
      exitCode: EXIT.unreachable,
      message: expect.stringMatching(/^cannot open the PostgreSQL database of DPOOL_DATABASE_URL: /) as unknown,
    });
  });
});
