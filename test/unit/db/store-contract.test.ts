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
import { runText } from "../../../commands/dispatch.ts";
import { PgStore } from "../../../db/pg-store.ts";
import { SqliteStore } from "../../../db/sqlite-store.ts";
import { openApp } from "../../../src/app.ts";
import { WriteInReadError } from "../../../src/errors.ts";
import { memoryLogger } from "../../../src/log.ts";
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
      const many = await tx.insertEntries([entry(w.pool, w.commons, w.bobAcc, 3_000_000_000), entry(w.pool, w.bobAcc, w.adminAcc, 500), entry(w.pool, w.adminAcc, w.bobAcc, 100)]);
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
      const round = await tx.insertRound({ goodId: good, openedAt: T0, closesAt: T0 + HOUR, closedAt: null, clearingWeight: null, supply: null, allocated: null });
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
      const room = await tx.insertRoom({ platform: "console", externalId: `lobby-${w.tag}`, poolId: w.pool, projectId: null, isLobby: true, boundAt: T0, boundBy: w.admin });
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
      const room = await tx.insertRoom({ platform: "matrix", externalId: "!lobby", poolId: w.pool, projectId: null, isLobby: true, boundAt: T0, boundBy: w.admin });
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
        await tx.insertGoal({ poolId: pool, projectId: w.project, text: "Bread for 40", status: "open", createdAt: T0, createdBy: w.admin, doneAt: null, doneBy: null });
        return "added";
      });
    const outcomes = await Promise.all([addGoalOnce(a), addGoalOnce(b)]);
    expect(outcomes.sort()).toEqual(["added", "found"]);
    expect(await a.read((tx) => tx.goals(pool, {}))).toHaveLength(1);
    // PostgreSQL refused one commit and ran that transaction again, unseen by the caller.
    if (backend === postgres) expect(runs).toBeGreaterThanOrEqual(3);
  });

  it.skipIf(skip)("runs commands through the app: claim, done, verify, balance", async () => {
    const store = await backend.open();
    const { logger } = memoryLogger();
    const app = openApp({ dbFile: "(given)", store, random: seededRandom(7), logger, floodControl: false });
    let n = 0;
    const say = async (user: string, text: string) => {
      const r = await runText(app.engine, { caller: { platform: "console", userId: user, displayName: user, roomId: "lobby" }, requestId: `console:c-${++n}`, now: new Date(T0 + n * 60_000) }, text);
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
