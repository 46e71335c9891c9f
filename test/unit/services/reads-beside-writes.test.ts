// Issue 15 (and 17's first item): a command that changes nothing runs on the store's read-only
// view, so it takes no write lock and waits for no write, in this process or another. It runs as
// a write only when the read finds that something must be written first: a caller new to the
// pool, something come due (catching up writes and moves the clocks), or a command that wanted
// to write after all. A chat platform's answer to a read is still stored once by request id.
// Every test here is about order (the read answered while the lock was still held), never time.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runText, type Invocation, type Reply } from "../../../commands/dispatch.ts";
import { DAY_MS, HOUR_MS } from "../../../src/clock.ts";
import { DatabaseBusyError, WriteInReadError } from "../../../src/errors.ts";
import type { Store } from "../../../src/store.ts";
import { nothingDue } from "../../../src/services/catch-up.ts";
import { testPool, type TestPool } from "../../support/app.ts";
import { until } from "../../support/until.ts";

const dirs: string[] = [];
const children: ChildProcess[] = [];
let t: TestPool | undefined;
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill();
  await t?.close();
  t = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "dpool-reads-"));
  dirs.push(dir);
  return join(dir, "pool.sqlite");
}

/**
 * Another process that takes the write lock of `file` (BEGIN IMMEDIATE) and holds it until
 * `release` is called: no timer decides when it lets go, the test does.
 */
async function holdLock(file: string): Promise<{ release: () => Promise<void>; held: () => boolean }> {
  const code = `
    const Database = require("better-sqlite3");
    const db = new Database(process.argv[1]);
    db.prepare("BEGIN IMMEDIATE").run();
    process.stdout.write("locked\\n");
    process.stdin.once("data", () => { db.prepare("COMMIT").run(); db.close(); process.exit(0); });
  `;
  const child = spawn(process.execPath, ["-e", code, file], { stdio: ["pipe", "pipe", "inherit"] });
  children.push(child);
  let exited = false;
  const gone = new Promise<void>((resolve) => child.on("exit", () => ((exited = true), resolve())));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once("data", () => resolve());
    child.once("error", reject);
  });
  return {
    held: () => !exited,
    release: async () => {
      child.stdin.write("go\n");
      await gone;
    },
  };
}

/** The Riverside pool on a file: the bakery with a task and a cake, bob and carol known to it. */
async function riversideOnFile(file: string): Promise<TestPool> {
  const tp = await testPool({ start: "2026-11-02T09:00:00Z", dbFile: file });
  await tp.ok("admin", "pool create Riverside");
  await tp.ok("alice", "project create bakery The Bakery");
  for (const m of ["bob", "carol"]) await tp.ok(m, "me balance");
  await tp.ok("alice", "task post bakery Knead the dough hours:2");
  await tp.ok("alice", "good add bakery cake effort:2 stock:3");
  return tp;
}

/** A command as a chat adapter runs it: with a reply target, so its answer is stored by request id. */
function chat(tp: TestPool, user: string, text: string, requestId: string): Promise<Reply> {
  const inv: Invocation = {
    caller: { platform: "console", userId: user, displayName: user, roomId: "lobby" },
    requestId,
    now: tp.clock.now(),
    replyTo: { room: "lobby", event: requestId },
  };
  return runText(tp.app.engine, inv, text);
}

const count = (tp: TestPool, sql: string) => (tp.store.db.$client.prepare(sql).get() as { n: number }).n;

describe("reads while another process holds the write lock", () => {
  it("GIVEN another process holding BEGIN IMMEDIATE THEN me balance, task list, task show and good show answer while it holds it, and a write waits for it", async () => {
    const file = tempFile();
    t = await riversideOnFile(file);
    const lock = await holdLock(file);
    let wrote = false;
    const write = t.say("bob", "task claim 1").then((r) => ((wrote = true), r));
    await until("the write waiting in line", () => !t!.store.idle());

    const balance = await t.say("bob", "me balance");
    const list = await t.say("carol", "task list");
    const show = await t.say("carol", "task show 1");
    const good = await t.say("carol", "good show cake");
    // A refusal of a read is answered too (nothing to store without a reply target).
    const missing = await t.say("carol", "task show 99");

    // All of them answered while the lock was still held and the write still waited for it.
    expect(lock.held()).toBe(true);
    expect(wrote).toBe(false);
    expect(balance.ok && balance.data).toMatchObject({ balance: 0 });
    expect(list.ok && (list.data as { tasks: Array<{ id: number }> }).tasks.map((x) => x.id)).toEqual([1]);
    expect(show.ok && (show.data as { task: { status: string } }).task.status).toBe("open");
    expect(good.ok && (good.data as { good: { stock: number } }).good.stock).toBe(3);
    expect(!missing.ok && missing.code).toBe("not_found");

    await lock.release();
    const claimed = await write;
    expect(claimed.ok).toBe(true);
    // After the write committed, a read sees it.
    const after = await t.say("carol", "task show 1");
    expect(after.ok && (after.data as { task: { claims: Array<{ member: string }> } }).task.claims.map((c) => c.member)).toEqual(["bob"]);
  });

  it("GIVEN a chat read (a reply target) under the lock THEN its work is done, and its answer is stored once the lock is free: a replay gives it again, another member's use of the id is refused", async () => {
    const file = tempFile();
    t = await riversideOnFile(file);
    const lock = await holdLock(file);
    const pending = chat(t, "bob", "me balance", "chat:b1");
    await until("the answer waiting to be stored", () => !t!.store.idle());
    expect(count(t, "SELECT count(*) AS n FROM replies WHERE request_id = 'chat:b1'")).toBe(0);
    await lock.release();
    const first = await pending;
    expect(first.ok && first.replayed).toBe(false);
    const row = t.store.db.$client.prepare("SELECT body FROM replies WHERE request_id = 'chat:b1'").get() as { body: string };
    expect(JSON.parse(row.body)).toMatchObject({ ok: true, command: "me balance", data: { balance: 0 } });

    const again = await chat(t, "bob", "me balance", "chat:b1");
    expect(again.ok && again.replayed).toBe(true);
    expect(again.doc).toEqual(first.doc);
    const other = await chat(t, "carol", "me balance", "chat:b1");
    expect(!other.ok && other.code).toBe("request_reused");
    expect(count(t, "SELECT count(*) AS n FROM replies WHERE request_id = 'chat:b1'")).toBe(1);
  });
});

describe("reads beside a write of this process", () => {
  it("GIVEN a write transaction of this process held open THEN me balance and good show answer before it ends, and see only what was committed", async () => {
    const file = tempFile();
    t = await riversideOnFile(file);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let ended = false;
    const long = t.store
      .transaction(async (tx) => {
        // Written, not yet committed: no read may see it.
        await tx.insertMember("zed", t!.clock.now().getTime());
        await gate;
      })
      .then(() => (ended = true));
    await until("the write transaction open", () => !t!.store.idle());

    const balance = await t.say("bob", "me balance");
    const good = await t.say("carol", "good show cake");
    const zed = await t.store.read((tx) => tx.memberByHandle("zed"));
    expect(ended).toBe(false);
    expect(balance.ok).toBe(true);
    expect(good.ok).toBe(true);
    expect(zed).toBeUndefined();

    release();
    await long;
    expect(await t.store.read((tx) => tx.memberByHandle("zed"))).toMatchObject({ handle: "zed" });
  });
});

describe("reads that must write first run as writes", () => {
  it("GIVEN a member never seen before THEN their first me balance works, and makes them a member of the pool with an account", async () => {
    const file = tempFile();
    t = await riversideOnFile(file);
    const before = count(t, "SELECT count(*) AS n FROM memberships");
    const first = await t.say("dave", "me balance");
    expect(first.ok && first.data).toMatchObject({ balance: 0 });
    expect(count(t, "SELECT count(*) AS n FROM memberships")).toBe(before + 1);
    expect(count(t, "SELECT count(*) AS n FROM members WHERE handle = 'dave'")).toBe(1);
    // The second is a plain read: nothing more is written.
    const dump = await t.dump();
    expect((await t.say("dave", "me balance")).ok).toBe(true);
    expect(await t.dump()).toBe(dump);
  });

  it("GIVEN a new member while another process holds the lock THEN their read waits for the lock (it must write the membership) and works after", async () => {
    const file = tempFile();
    t = await riversideOnFile(file);
    const lock = await holdLock(file);
    let answered = false;
    const first = t.say("dave", "me balance").then((r) => ((answered = true), r));
    await until("the read gone to the write path", () => !t!.store.idle());
    expect(answered).toBe(false);
    await lock.release();
    expect((await first).ok).toBe(true);
    expect(count(t, "SELECT count(*) AS n FROM members WHERE handle = 'dave'")).toBe(1);
  });

  it("GIVEN a round past its closing time THEN good show closes it first (as a write, moving the pool's clock), and shows the unit handed out", async () => {
    const file = tempFile();
    t = await riversideOnFile(file);
    await t.ok("alice", "good add bakery bread effort:2");
    await t.ok("bob", "good request bread weight:1.5");
    await t.ok("carol", "good request bread weight:1.2");
    await t.ok("alice", "good produce bread 1");
    const open = (await t.ok("carol", "good show bread")).good.openRound;
    expect(open).toMatchObject({ waiting: 2 });
    t.clock.advance(DAY_MS + HOUR_MS);
    const lock = await holdLock(file);
    let answered = false;
    const shown = t.say("carol", "good show bread").then((r) => ((answered = true), r));
    // Something is due: the read does not answer from the old state, it waits for the lock.
    await until("the read gone to the write path", () => !t!.store.idle());
    expect(answered).toBe(false);
    await lock.release();
    const r = await shown;
    expect(r.ok && (r.data as { good: { stock: number; lastClearingWeight: number } }).good).toMatchObject({ stock: 0, lastClearingWeight: 1.2 });
    expect(count(t, "SELECT count(*) AS n FROM rounds WHERE closed_at IS NOT NULL")).toBe(1);
    expect(count(t, "SELECT clock AS n FROM pools")).toBe(t.clock.now().getTime());
  });

  it("GIVEN nothing due THEN a read records nothing: the pool's clock stays where the last write left it", async () => {
    const file = tempFile();
    t = await riversideOnFile(file);
    const clock = count(t, "SELECT clock AS n FROM pools");
    t.clock.advance(HOUR_MS);
    const dump = await t.dump();
    for (const c of ["me balance", "task list", "task show 1", "good show cake", "pool info"]) expect((await t.say("bob", c)).ok).toBe(true);
    expect(await t.dump()).toBe(dump);
    expect(count(t, "SELECT clock AS n FROM pools")).toBe(clock);
  });
});

describe("nothingDue agrees with catching up", () => {
  // If catching up left something that nothingDue counts as due, every read would run as a write
  // from then on. Each kind of event: due before, and not due once one read caught it up.
  const cases: Array<[string, (tp: TestPool) => Promise<void>, number]> = [
    ["a claim that ran out", async (tp) => (await tp.ok("alice", "task post bakery Scrub hours:2"), void (await tp.ok("bob", "task claim 1"))), 8 * DAY_MS],
    [
      "a round past its closing time",
      async (tp) => {
        await tp.ok("alice", "good add bakery bread effort:2");
        await tp.ok("bob", "good request bread weight:1.5");
        await tp.ok("carol", "good request bread weight:1.2");
        await tp.ok("alice", "good produce bread 1");
      },
      DAY_MS + HOUR_MS,
    ],
    [
      "a loan past its due date",
      async (tp) => (await tp.ok("alice", "good add bakery drill effort:20 model:durable stock:1"), void (await tp.ok("bob", "good borrow drill days:2"))),
      3 * DAY_MS,
    ],
    [
      "a flat-rate period that ended",
      async (tp) => {
        await tp.ok("admin", "pool policy settlePeriod weekly");
        await tp.ok("alice", "good add bakery soup effort:1 model:flat-rate");
        await tp.ok("bob", "good subscribe soup");
        await tp.ok("alice", "good produce soup 3");
      },
      8 * DAY_MS,
    ],
  ];
  for (const [what, make, later] of cases) {
    it(`GIVEN ${what} THEN it is due until a read catches it up, and then nothing is`, async () => {
      t = await riversideOnFile(":memory:");
      await make(t);
      const due = () => t!.store.read(async (tx) => !nothingDue(await tx.nextDeadlines(), t!.clock.now().getTime()));
      expect(await due()).toBe(false);
      t.clock.advance(later);
      expect(await due()).toBe(true);
      expect((await t.say("carol", "task list")).ok).toBe(true);
      expect(await due()).toBe(false);
      // And the next read writes nothing.
      const dump = await t.dump();
      expect((await t.say("carol", "me balance")).ok).toBe(true);
      expect(await t.dump()).toBe(dump);
    });
  }
});

describe("a busy read-only view", () => {
  it("GIVEN the read-only view busy (a moment of WAL upkeep) THEN the read runs as a write and answers", async () => {
    t = await riversideOnFile(tempFile());
    const store = t.store;
    let tried = 0;
    // The real store, whose read-only view reports busy once.
    const busyOnce: Store = new Proxy(store, {
      get(target, key, receiver) {
        if (key === "read" && tried === 0) return () => (tried++, Promise.reject(new DatabaseBusyError(20)));
        const v = Reflect.get(target, key, receiver) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const engine = { ...t.app.engine, store: busyOnce };
    const r = await runText(
      engine,
      { caller: { platform: "console", userId: "bob", displayName: "bob", roomId: "lobby" }, requestId: "console:busy", now: t.clock.now() },
      "me balance",
    );
    expect(tried).toBe(1);
    expect(r.ok && r.data).toMatchObject({ balance: 0 });
  });
});

describe("the read-only view refuses writes", () => {
  for (const where of ["file", "memory"] as const) {
    it(`GIVEN a write through Store.read (${where}) THEN it throws WriteInReadError and nothing is written`, async () => {
      t = await riversideOnFile(where === "file" ? tempFile() : ":memory:");
      const now = t.clock.now().getTime();
      await expect(t.store.read((tx) => tx.insertMember("zed", now))).rejects.toBeInstanceOf(WriteInReadError);
      expect(count(t, "SELECT count(*) AS n FROM members WHERE handle = 'zed'")).toBe(0);
      // The connection writes again afterwards (query_only is off again in memory).
      expect((await t.say("dave", "me balance")).ok).toBe(true);
    });
  }
});
