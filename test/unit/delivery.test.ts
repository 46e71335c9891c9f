// The delivery machinery under the adapters: answers stored with the command, claims that keep
// two processes from sending one message twice, retries that are logged once, rooms that
// refused the bot, and a database lock held by another process that does not stall the bot.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runText, type Engine, type Invocation } from "../../commands/dispatch.ts";
import { table } from "../../commands/table.ts";
import { SqliteStore } from "../../db/sqlite-store.ts";
import { Deliverer, type Courier, type Failure, type NoteItem, type OutboxItem } from "../../src/delivery.ts";
import { memoryLogger } from "../../src/log.ts";
import type { ReplyRow } from "../../src/store.ts";
import { seededRandom } from "../support/app.ts";

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "dpool-delivery-"));
  dirs.push(dir);
  return join(dir, "pool.sqlite");
}

function open(file: string, o: { lockWaitMs?: number } = {}): SqliteStore {
  const s = new SqliteStore(file, o);
  stores.push(s);
  return s;
}

const at = new Date("2026-11-02T09:00:00Z");

function pool(store: SqliteStore) {
  const { logger, lines } = memoryLogger();
  const engine: Engine = { store, table, random: seededRandom(7), logger };
  let n = 0;
  const inv = (user: string, o: { requestId?: string; room?: string; replyTo?: unknown } = {}): Invocation => ({
    caller: { platform: "chat", userId: user, displayName: user, roomId: o.room ?? "lobby" },
    requestId: o.requestId ?? `chat:${++n}`,
    now: at,
    ...(o.replyTo === undefined ? {} : { replyTo: o.replyTo }),
  });
  const say = (user: string, text: string, o: { requestId?: string; room?: string; replyTo?: unknown } = {}) => runText(engine, inv(user, o), text);
  return { engine, say, lines };
}

const count = (store: SqliteStore, sql: string) => (store.db.$client.prepare(sql).get() as { n: number }).n;

describe("answers stored with the command", () => {
  it("GIVEN a command with a reply target THEN its answer is a reply row written in its transaction, and the same request id gets that answer again without running twice", async () => {
    const store = open(":memory:");
    const { say } = pool(store);
    await say("ann", "pool create Riverside");
    const first = await say("ann", "project create bakery Riverside Bakery", { requestId: "chat:p1", replyTo: { room: "lobby", event: "$1" } });
    expect(first.ok).toBe(true);
    const row = store.db.$client.prepare("SELECT * FROM replies WHERE request_id = 'chat:p1'").get() as {
      body: string;
      target: string;
      delivered_at: number | null;
    };
    expect(JSON.parse(row.target)).toEqual({ room: "lobby", event: "$1" });
    expect(JSON.parse(row.body)).toMatchObject({ ok: true, command: "project create" });
    expect(row.delivered_at).toBeNull();

    const again = await say("ann", "project create bakery Riverside Bakery", { requestId: "chat:p1", replyTo: { room: "lobby", event: "$1" } });
    expect(again.ok && again.replayed).toBe(true);
    expect(again.doc).toEqual(first.doc);
    expect(count(store, "SELECT count(*) AS n FROM projects")).toBe(1);
  });

  it("GIVEN a refusal or a typo THEN the refusal is the stored answer, the database is otherwise unchanged, and a replay gets the same refusal", async () => {
    const store = open(":memory:");
    const { say } = pool(store);
    await say("ann", "pool create Riverside");
    const refused = await say("bob", "pool invite", { requestId: "chat:r1", replyTo: "t" });
    expect(refused.ok).toBe(false);
    const typo = await say("bob", "tsak list", { requestId: "chat:r2", replyTo: "t" });
    expect(typo.ok).toBe(false);
    const bodies = (
      store.db.$client.prepare("SELECT request_id, body FROM replies ORDER BY request_id").all() as Array<{ request_id: string; body: string }>
    ).map((r) => [r.request_id, JSON.parse(r.body)]);
    expect(bodies).toEqual([
      ["chat:r1", expect.objectContaining({ ok: false, code: "forbidden" })],
      ["chat:r2", expect.objectContaining({ ok: false, code: "usage" })],
    ]);
    const replay = await say("bob", "pool invite", { requestId: "chat:r1", replyTo: "t" });
    expect(replay.ok).toBe(false);
    if (!replay.ok && !refused.ok) expect(replay.message).toBe(refused.message);
    expect(count(store, "SELECT count(*) AS n FROM codes")).toBe(0);
  });

  it("GIVEN no reply target (console, dpool exec) THEN no reply row is written", async () => {
    const store = open(":memory:");
    const { say } = pool(store);
    await say("ann", "pool create Riverside");
    await say("ann", "pool info");
    expect(count(store, "SELECT count(*) AS n FROM replies")).toBe(0);
  });
});

describe("claims", () => {
  it("GIVEN two processes on one database THEN each message is claimed by one of them, and a claim that outlived its holder is taken over", async () => {
    const file = tempFile();
    const a = open(file);
    const b = open(file);
    const { say } = pool(a);
    await say("ann", "pool create Riverside", { replyTo: "x" });
    for (let i = 0; i < 6; i++) await say("ann", `pool info`, { replyTo: "x" });
    const now = Date.now();
    const [fromA, fromB] = await Promise.all([
      a.claimReplies("chat", { owner: "A", now, leaseMs: 1000, limit: 4 }),
      b.claimReplies("chat", { owner: "B", now, leaseMs: 1000, limit: 4 }),
    ]);
    const ids = [...fromA, ...fromB].map((r) => r.requestId);
    expect(ids).toHaveLength(7);
    expect(new Set(ids).size).toBe(7);
    // Nothing is left to claim while the leases hold...
    expect(await b.claimReplies("chat", { owner: "B", now: now + 500, leaseMs: 1000, limit: 10 })).toEqual([]);
    // ...a settle by someone who does not hold the claim changes nothing...
    await b.settle({ kind: "reply", id: fromA[0]!.requestId }, "B", { delivered: now });
    expect(count(a, "SELECT count(*) AS n FROM replies WHERE delivered_at IS NOT NULL")).toBe(0);
    // ...and once A's lease ran out (A died), B takes A's messages over.
    for (const r of fromB) await b.settle({ kind: "reply", id: r.requestId }, "B", { delivered: now });
    const taken = await b.claimReplies("chat", { owner: "B", now: now + 1001, leaseMs: 1000, limit: 10 });
    expect(taken.map((r) => r.requestId).sort()).toEqual(fromA.map((r) => r.requestId).sort());
  });
});

/** A courier whose sends are scripted: each call takes the next outcome (or succeeds). */
function scriptedCourier(script: Array<Failure | "ok">): Courier & { sent: string[] } {
  const sent: string[] = [];
  const next = async (key: string) => {
    const step = script.shift() ?? "ok";
    if (step !== "ok") throw Object.assign(new Error(step.reason), { failure: step });
    sent.push(key);
  };
  return {
    platform: "chat",
    sent,
    ready: () => true,
    reply: (_r: ReplyRow, key: string) => next(key),
    announce: (_o: OutboxItem, key: string) => next(key),
    note: (_n: NoteItem, key: string) => next(key),
    classify: (e) => (e as { failure: Failure }).failure,
  };
}

describe("the deliverer", () => {
  it("GIVEN a platform failing for a while THEN the message is retried with back-off and sent once, and the trouble is logged once when it starts and once when it ends", async () => {
    const store = open(":memory:");
    const { say } = pool(store);
    await say("ann", "pool create Riverside", { replyTo: "x" });
    const { logger, lines } = memoryLogger();
    const courier = scriptedCourier([
      { retry: true, reason: "connect ECONNREFUSED" },
      { retry: true, reason: "connect ECONNREFUSED" },
    ]);
    let clock = Date.now();
    const d = new Deliverer({ store, courier, logger, now: () => clock });
    await d.kick();
    expect(courier.sent).toEqual([]);
    clock += 1500; // past the first back-off (1 s)
    await d.kick();
    expect(courier.sent).toEqual([]);
    await d.kick(); // the second back-off (2 s) has not passed: not tried
    clock += 2500;
    await d.kick();
    expect(courier.sent).toHaveLength(1);
    clock += 60_000;
    await d.kick();
    expect(courier.sent).toHaveLength(1);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ["warn", "could not deliver to answers: connect ECONNREFUSED; retrying with back-off"],
      ["info", expect.stringMatching(/^delivery to answers works again/)],
    ]);
    const row = store.db.$client.prepare("SELECT attempts, delivered_at FROM replies").get() as { attempts: number; delivered_at: number };
    expect(row.attempts).toBe(3);
    expect(row.delivered_at).toBe(clock - 60_000);
  });

  it("GIVEN a room that refused the bot THEN its message is given up with one line, announcements stop going there, and a command from the room lets them go there again", async () => {
    const store = open(":memory:");
    const { say } = pool(store);
    await say("ann", "pool create Riverside");
    const invite = await say("ann", "pool invite");
    const code = invite.ok ? (invite.data as { code: string }).code : "";
    await say("ann", `pool join ${code}`, { room: "kitchen" });
    await say("ann", "project create bakery Riverside Bakery");
    await say("ann", "goal announce bakery Bake bread every day");
    await say("ann", "goal announce bakery Bake cakes on Sundays");
    const { logger, lines } = memoryLogger();
    let triedKitchen = 0;
    const kitchenRefuses: Courier = {
      ...scriptedCourier([]),
      announce: async (item) => {
        if (item.room.externalId === "kitchen") triedKitchen++;
        if (item.room.externalId === "kitchen")
          throw Object.assign(new Error("403"), { failure: { retry: false, reason: "M_FORBIDDEN: not in room", roomGone: true } });
      },
    };
    const d = new Deliverer({ store, courier: kitchenRefuses, logger });
    await d.kick();
    const kitchen = () => store.db.$client.prepare("SELECT unreachable_since AS u FROM rooms WHERE external_id = 'kitchen'").get() as { u: number | null };
    expect(kitchen().u).not.toBeNull();
    // Its second announcement was given up with the room, without another try.
    expect(triedKitchen).toBe(1);
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
    expect(lines.some((l) => l.err !== undefined)).toBe(false);
    const before = count(store, "SELECT count(*) AS n FROM outbox o JOIN rooms r ON r.id = o.room_id WHERE r.external_id = 'kitchen'");
    await say("ann", "goal announce bakery Sell at the market");
    expect(count(store, "SELECT count(*) AS n FROM outbox o JOIN rooms r ON r.id = o.room_id WHERE r.external_id = 'kitchen'")).toBe(before);
    // Someone uses the bot in the kitchen again: it was let back in.
    await say("ann", "pool info", { room: "kitchen" });
    expect(kitchen().u).toBeNull();
    await say("ann", "goal announce bakery Teach a course");
    expect(count(store, "SELECT count(*) AS n FROM outbox o JOIN rooms r ON r.id = o.room_id WHERE r.external_id = 'kitchen'")).toBe(before + 1);
  });
});

/** Another process that takes the write lock of `file` and holds it for `ms`. */
function holdLock(file: string, ms: number): Promise<{ released: Promise<void> }> {
  const code = `
    const Database = require("better-sqlite3");
    const db = new Database(process.argv[1]);
    db.prepare("BEGIN IMMEDIATE").run();
    process.stdout.write("locked\\n");
    setTimeout(() => { db.prepare("COMMIT").run(); db.close(); }, Number(process.argv[2]));
  `;
  const child = spawn(process.execPath, ["-e", code, file, String(ms)], { stdio: ["ignore", "pipe", "inherit"] });
  const released = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout.once("data", () => resolve({ released }));
    child.once("error", reject);
  });
}

describe("a write lock held by another process", () => {
  it("GIVEN another process holding the lock THEN a command waits for it with the event loop turning, and reads go on meanwhile", async () => {
    const file = tempFile();
    const store = open(file);
    const { say } = pool(store);
    await say("ann", "pool create Riverside");
    const lock = await holdLock(file, 1500);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 50);
    const started = Date.now();
    const write = say("ann", "project create bakery Riverside Bakery");
    await new Promise((r) => setTimeout(r, 300));
    expect(store.idle()).toBe(false);
    // A read-only view answers at once, from the other connection.
    const projects = await store.read(async (tx) => (await tx.pools()).length);
    expect(projects).toBe(1);
    const r = await write;
    clearInterval(ticker);
    expect(r.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    // The loop kept turning while the command waited: timers fired (a blocking wait fires none).
    expect(ticks).toBeGreaterThanOrEqual(5);
    await lock.released;
    expect(store.idle()).toBe(true);
  });

  it("GIVEN the lock held longer than a command may wait THEN the command is refused as busy in one line, and nothing changed", async () => {
    const file = tempFile();
    const store = open(file, { lockWaitMs: 300 });
    const { say, lines } = pool(store);
    await say("ann", "pool create Riverside");
    const lock = await holdLock(file, 1500);
    const r = await say("ann", "project create bakery Riverside Bakery");
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe("busy");
      expect(r.message).toMatch(/busy.*try again/);
    }
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
    expect(lines.filter((l) => l.level === "warn").map((l) => l.msg)).toEqual([expect.stringContaining("locked by another process")]);
    await lock.released;
    expect(count(store, "SELECT count(*) AS n FROM projects")).toBe(0);
  });
});
