// Issue 15: storage proportional to the pool, not to its traffic. Stored answers and request ids
// are kept keepDays (7 by default), as long as a platform may deliver a request again; then a
// reused id is a new request. Messages to rooms and notes to members that were sent (or given
// up) are deleted after the same time. The storage job deletes them in batches, each batch a
// transaction of its own, so it never holds the write lock long.
import { afterEach, describe, expect, it } from "vitest";
import { runText } from "../../../commands/dispatch.ts";
import { DAY_MS, HOUR_MS } from "../../../src/core/time.ts";
import { JOBS, runDueJobs } from "../../../src/schedules.ts";
import { PRUNE_BATCH } from "../../../src/services/storage.ts";
import type { Store, Tx } from "../../../src/store.ts";
import { testPool, type TestPool } from "../../support/app.ts";
import { sqlRows } from "../../support/db-dump.ts";

const START = "2026-11-02T09:00:00Z";
const pools: TestPool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
});

async function pool(): Promise<TestPool> {
  const t = await testPool({ start: START });
  pools.push(t);
  await t.ok("admin", 'pool create "Riverside"');
  await t.ok("admin", 'project create bakery "The Bakery"');
  return t;
}

const at = (t: TestPool, days: number, hours = 0) => {
  t.clock.set(new Date(Date.parse(START) + days * DAY_MS + hours * HOUR_MS));
  return t.clock.now().getTime();
};
const count = async (t: TestPool, sql: string) => ((await sqlRows<{ n: number }>(t.store, sql)) as [{ n: number }])[0].n;
/** The storage job alone (the other jobs are tested elsewhere), run by the scheduler as of `now`. */
const STORAGE = JOBS.filter((j) => j.name === "storage");
const storage = (t: TestPool, now: number) => runDueJobs(t.store, now, { jobs: STORAGE });

describe("keepDays: how long answers, request ids and sent messages are kept", () => {
  it("GIVEN pool policy THEN keepDays is 7 days by default, takes 1 to 365, and a bad value changes nothing", async () => {
    const t = await pool();
    const shown = await t.ok("admin", "pool policy");
    expect(JSON.stringify(shown)).toContain('"keepDays"');
    const before = await t.dump();
    const refused = await t.say("admin", "pool policy keepDays 0");
    expect(refused.ok).toBe(false);
    expect(refused.ok ? "" : refused.message).toContain("a whole number from 1 to 365");
    expect(await t.dump()).toBe(before);
    await t.ok("admin", "pool policy keepDays 30");
  });

  it("GIVEN a request id THEN it answers the first answer again for 7 days, and after the storage job ran past them it is a new request", async () => {
    const t = await pool();
    const goals = () => count(t, "SELECT count(*) AS n FROM goals");
    at(t, 0);
    expect((await t.say("admin", 'goal announce bakery "Bread for 40"', { requestId: "console:goal-1" })).ok).toBe(true);
    at(t, 6, 23);
    await storage(t, t.clock.now().getTime());
    const replay = await t.say("admin", 'goal announce bakery "Bread for 40"', { requestId: "console:goal-1" });
    expect(replay.ok && replay.replayed).toBe(true);
    expect(await goals()).toBe(1);
    // Seven days and an hour later the job has run past the first request: the id is free again.
    const pruned = await storage(t, at(t, 7, 1));
    expect(pruned).toHaveLength(1);
    // The three commands of the first day (pool create, project create, goal announce) are forgotten.
    expect(JSON.parse(pruned[0]!.outcome)).toMatchObject({ requests: 3 });
    const again = await t.say("admin", 'goal announce bakery "Bread for 40"', { requestId: "console:goal-1" });
    expect(again.ok && again.replayed).toBe(false);
    expect(await goals()).toBe(2);
  });

  it("GIVEN answers stored for a chat platform THEN a sent or given-up answer goes after 7 days, one still to send stays", async () => {
    const t = await pool();
    const say = (id: string, text: string) =>
      runText(
        t.app.engine,
        { caller: { platform: "chat", userId: "ann", displayName: "ann", roomId: "room-1" }, requestId: id, now: t.clock.now(), replyTo: { event: id } },
        text,
      );
    at(t, 0);
    for (const id of ["chat:sent", "chat:waiting", "chat:given-up"]) await say(id, "help");
    const o = { owner: "test", now: t.clock.now().getTime(), leaseMs: 60_000 };
    await t.store.claimReply("chat:sent", o);
    await t.store.settle({ kind: "reply", id: "chat:sent" }, "test", { delivered: o.now });
    await t.store.claimReply("chat:given-up", o);
    await t.store.settle({ kind: "reply", id: "chat:given-up" }, "test", { failedAt: o.now, reason: "the interaction expired" });
    await storage(t, at(t, 6, 23));
    expect(await count(t, "SELECT count(*) AS n FROM replies")).toBe(3);
    await storage(t, at(t, 7, 1));
    expect(await sqlRows(t.store, "SELECT request_id FROM replies ORDER BY request_id")).toEqual([{ request_id: "chat:waiting" }]);
    // The sent answer's id is new again: the command runs, it is not a replay.
    const again = await say("chat:sent", "help");
    expect(again.ok && again.replayed).toBe(false);
  });

  it("GIVEN messages to rooms and notes to members THEN those sent or given up 7 days ago are deleted, those still to send are kept", async () => {
    const t = await pool();
    at(t, 0);
    await t.ok("admin", "task post bakery Sweep hours:1");
    let roomId = 0;
    const ids = await t.store.transaction(async (tx: Tx) => {
      const member = (await tx.memberByHandle("admin"))!.id;
      const poolId = (await tx.pools())[0]!.id;
      roomId = (await tx.rooms(poolId))[0]!.id;
      const note = (body: string) => tx.insertNote({ poolId, memberId: member, kind: "released", body, createdAt: t.clock.now().getTime() });
      return { sentNote: await note("{}"), waitingNote: await note("{}") };
    });
    const sent = (await t.store.pendingOutbox("console", 100)).map((m) => m.id);
    expect(sent.length).toBeGreaterThan(0);
    await t.store.markDelivered(sent, at(t, 0, 1));
    await t.store.markNotesDelivered([ids.sentNote], at(t, 0, 1));
    at(t, 1);
    await t.ok("admin", 'goal announce bakery "Bread for 40"');
    const ids_ = async (sql: string) => (await sqlRows<{ id: number }>(t.store, sql)).map((r) => r.id);
    const waiting = await ids_("SELECT id FROM outbox WHERE delivered_at IS NULL");
    expect(waiting.length).toBeGreaterThan(0);
    const outbox = () => ids_("SELECT id FROM outbox");
    await storage(t, at(t, 7, 0));
    expect(await outbox()).toEqual(expect.arrayContaining([...sent, ...waiting]));
    const [run] = await storage(t, at(t, 8, 2));
    expect(JSON.parse(run!.outcome)).toMatchObject({ outbox: sent.length, notes: 1 });
    expect((await outbox()).filter((id) => sent.includes(id))).toEqual([]);
    expect(await outbox()).toEqual(expect.arrayContaining(waiting));
    const notes = await ids_("SELECT id FROM member_notes");
    expect([notes.includes(ids.sentNote), notes.includes(ids.waitingNote)]).toEqual([false, true]);
    // A room that refused the bot: what waited for it is given up, and deleted 7 days later.
    await t.store.markRoomUnreachable(roomId, at(t, 9));
    const givenUp = await ids_("SELECT id FROM outbox WHERE failed_at IS NOT NULL");
    expect(givenUp).toEqual(expect.arrayContaining(waiting));
    await storage(t, at(t, 15, 23));
    expect(await outbox()).toEqual(expect.arrayContaining(givenUp));
    await storage(t, at(t, 16, 1));
    expect((await outbox()).filter((id) => givenUp.includes(id))).toEqual([]);
  });

  it("GIVEN a longer keepDays THEN answers are kept that long", async () => {
    const t = await pool();
    await t.ok("admin", "pool policy keepDays 30");
    at(t, 0);
    await t.say("admin", 'goal announce bakery "Bread for 40"', { requestId: "console:goal-1" });
    await storage(t, at(t, 29, 23));
    expect(await count(t, "SELECT count(*) AS n FROM requests WHERE request_id = 'console:goal-1'")).toBe(1);
    await storage(t, at(t, 30, 1));
    expect(await count(t, "SELECT count(*) AS n FROM requests WHERE request_id = 'console:goal-1'")).toBe(0);
  });
});

describe("the storage job", () => {
  it(`GIVEN ${2 * PRUNE_BATCH + 234} sent messages past keeping THEN one slot deletes them all, ${PRUNE_BATCH} at most per transaction`, async () => {
    const t = await pool();
    at(t, 0);
    const many = 2 * PRUNE_BATCH + 234;
    const ids = await t.store.transaction(async (tx) => {
      const roomId = (await tx.rooms((await tx.pools())[0]!.id))[0]!.id;
      const out: number[] = [];
      for (let i = 0; i < many; i++) out.push(await tx.insertOutbox({ roomId, kind: "goal", body: "{}", createdAt: t.clock.now().getTime() }));
      return out;
    });
    await t.store.markDelivered(ids, t.clock.now().getTime());
    const batches: number[] = [];
    // The scheduler sees the store as usual; each batch the job deletes is noted.
    const store: Store = Object.assign(Object.create(t.store) as Store, {
      transaction: <T>(fn: (tx: Tx) => Promise<T>) =>
        t.store.transaction((tx) =>
          fn(
            new Proxy(tx, {
              get(target, key) {
                if (key !== "pruneStored") return Reflect.get(target, key);
                return async (o: Parameters<Tx["pruneStored"]>[0]) => {
                  const r = await target.pruneStored(o);
                  batches.push(r.outbox);
                  return r;
                };
              },
            }),
          ),
        ),
    });
    const runs = await runDueJobs(store, at(t, 8), { jobs: STORAGE });
    expect(runs).toHaveLength(1);
    // Full batches are followed by another, in a new transaction; the short one is the last.
    expect(batches).toEqual([PRUNE_BATCH, PRUNE_BATCH, 234]);
    expect(await count(t, "SELECT count(*) AS n FROM outbox WHERE delivered_at IS NOT NULL")).toBe(0);
  });
});
