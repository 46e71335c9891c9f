// Issue 15: task boards are rebuilt lazily. A task command only marks its pool's boards (in its
// own transaction); the boards are rebuilt after the commit, at delivery time, once for a burst
// of commands, from the top of two indexes rather than every open task. The mark is in the
// database, so a process killed between the commit and the rebuild leaves it for the next one.
// Every board is checked against one worked out from scratch (test/support/board-oracle.ts).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { runText } from "../../../commands/dispatch.ts";
import { SqliteStore } from "../../../db/sqlite-store.ts";
import { DAY_MS, HOUR_MS } from "../../../src/core/time.ts";
import { readPolicy } from "../../../src/core/policy.ts";
import { weightRules } from "../../../src/core/weights.ts";
import { Deliverer, type Courier, type OutboxItem } from "../../../src/delivery.ts";
import { memoryLogger } from "../../../src/log.ts";
import { runDueJobs } from "../../../src/schedules.ts";
import { BOARD_SIZE, rebuildMarkedBoards, refreshBoards, topOpenTasks } from "../../../src/services/rooms.ts";
import type { Store, Tx } from "../../../src/store.ts";
import { testPool, type TestPool } from "../../support/app.ts";
import { boardFromScratch, storedBoards } from "../../support/board-oracle.ts";
import { sqlRows } from "../../support/db-dump.ts";
import { manyTasks } from "../../support/open-tasks.ts";
import { takePgDatabase, testStoreKind } from "../../support/pg.ts";

let t: TestPool | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await t?.close();
  t = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The store, with each call of the Tx methods counted by name (through transactions and reads alike). */
function counted(store: Store): { store: Store; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const wrap = (tx: Tx) =>
    new Proxy(tx, {
      get(target, key) {
        const v = Reflect.get(target, key) as unknown;
        if (typeof key !== "string" || typeof v !== "function") return v;
        return (...a: unknown[]) => {
          calls[key] = (calls[key] ?? 0) + 1;
          return (v as (...x: unknown[]) => unknown).apply(target, a);
        };
      },
    });
  const proxy = new Proxy(store, {
    get(target, key) {
      if (key === "transaction" || key === "read") return (fn: (tx: Tx) => Promise<unknown>) => target[key]((tx) => fn(wrap(tx)));
      const v = Reflect.get(target, key) as unknown;
      return typeof v === "function" ? (v as (...x: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store: proxy, calls };
}

/** A courier for console rooms that keeps what it was handed. */
function recordingCourier(): Courier & { boards: OutboxItem[] } {
  const boards: OutboxItem[] = [];
  return {
    platform: "console",
    boards,
    ready: () => true,
    reply: async () => undefined,
    announce: async (row) => {
      if (row.kind === "board") boards.push(row);
    },
    note: async () => undefined,
    classify: (e) => ({ retry: false, reason: String(e) }),
  };
}

const boardRows = (p: { store: Store }, afterId = 0) =>
  sqlRows<{ room: string; id: number }>(
    p.store,
    "SELECT r.external_id AS room, o.id FROM outbox o JOIN rooms r ON r.id = o.room_id WHERE o.kind = 'board' AND o.id > ? ORDER BY o.id",
    [afterId],
  );

/** Each room's kept board equals the one worked out from scratch at `now`. */
async function expectBoardsExact(store: Store, now: number, rooms: readonly string[]): Promise<void> {
  const kept = await storedBoards(store);
  expect([...kept.keys()].sort()).toEqual([...rooms].sort());
  for (const [room, { projectId, board }] of kept) expect(board, `the board of ${room}`).toEqual(await boardFromScratch(store, 1, projectId, now));
}

/** Riverside with the lobby and a room each for the bakery and the garden; alice coordinates both. */
async function riversideRooms(): Promise<TestPool> {
  const p = await testPool({ boards: "left marked" });
  await p.ok("admin", "pool create Riverside");
  for (const project of ["bakery", "garden"]) {
    await p.ok("alice", `project create ${project} ${project}`);
    const { code } = await p.ok("admin", "pool invite");
    await p.ok("alice", `pool join ${code}`, { room: project });
    await p.ok("alice", `project room ${project}`, { room: project });
  }
  return p;
}

describe("boards rebuilt lazily", () => {
  it("GIVEN a task command THEN it marks its pool's boards and queues no board; the rebuild after it queues the changed ones and clears the mark", async () => {
    t = await riversideRooms();
    await t.ok("alice", 'task post bakery "Knead dough" hours:2 kind:baking');
    expect(await boardRows(t)).toEqual([]);
    expect(await t.store.read((tx) => tx.markedBoards())).toEqual([{ poolId: 1, at: t.clock.now().getTime() }]);
    expect(await rebuildMarkedBoards(t.store)).toEqual({ pools: 1, rooms: 2 }); // the garden shows nothing yet
    expect((await boardRows(t)).map((b) => b.room)).toEqual(["lobby", "bakery"]);
    expect(await t.store.read((tx) => tx.markedBoards())).toEqual([]);
    // Nothing marked: the next delivery costs one read and rebuilds nothing.
    expect(await rebuildMarkedBoards(t.store)).toEqual({ pools: 0, rooms: 0 });
    await expectBoardsExact(t.store, t.clock.now().getTime(), ["lobby", "bakery"]);
  });

  it("GIVEN a burst of 50 task commands with delivery kicked after each commit THEN each room's board is rebuilt once, after the burst, and reads as one built from scratch", async () => {
    t = await riversideRooms();
    for (let i = 0; i < 60; i++) await t.ok("alice", `task post ${i % 2 === 0 ? "bakery" : "garden"} "Job ${i}" hours:${1 + (i % 5)} kind:k${i % 3}`);
    await rebuildMarkedBoards(t.store);
    const before = (await boardRows(t)).at(-1)!.id;
    const { store, calls } = counted(t.store);
    const courier = recordingCourier();
    const deliverer = new Deliverer({ store, courier, logger: memoryLogger().logger });
    const engine = { ...t.app.engine, afterCommit: () => void deliverer.kick() };
    t.clock.advance(3 * DAY_MS + 5 * HOUR_MS);
    const now = t.clock.now();
    // Fifty members claim fifty tasks at once, as a busy chat would send them.
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        runText(
          engine,
          { caller: { platform: "console", userId: `m${i}`, displayName: `m${i}`, roomId: "lobby" }, requestId: `console:burst-${i}`, now },
          `task claim ${i + 1}`,
        ),
      ),
    );
    expect(replies.filter((r) => !r.ok)).toEqual([]);
    await deliverer.kick();
    await deliverer.stop();
    expect(calls.clearBoardsMark, "pools rebuilt").toBe(1);
    // One board per room, each handed to the platform once (per command it would have been 50).
    expect((await boardRows(t, before)).map((b) => b.room)).toEqual(["lobby", "bakery", "garden"]);
    expect(courier.boards.filter((b) => b.id > before).map((b) => b.room.externalId)).toEqual(["lobby", "bakery", "garden"]);
    await expectBoardsExact(t.store, now.getTime(), ["lobby", "bakery", "garden"]);
    expect(await t.store.read((tx) => tx.markedBoards())).toEqual([]);
  });

  it(
    "GIVEN the process killed after its task commands committed, before any rebuild THEN the next delivery rebuilds the boards from the mark left in the database, exactly",
    { timeout: 120_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "dpool-boards-"));
      dirs.push(dir);
      const file = join(dir, "pool.sqlite");
      // On PostgreSQL, a database of this test's: the dispatcher process gets its address.
      const pg = testStoreKind() === "postgres" ? await takePgDatabase(file) : undefined;
      const database = pg ? pg.store.pool.options.connectionString! : file;
      const start = Date.parse("2026-11-02T09:00:00Z");
      const lines = [
        ["admin", "pool create Riverside"],
        ["alice", "project create bakery Bakery"],
        ...Array.from({ length: 14 }, (_, i) => ["alice", `task post bakery "Job ${i}" hours:1 kind:k${i % 4}${i % 3 === 0 ? " slots:2" : ""}`]),
        ["bob", "task claim 2"],
        ["carol", "task claim 3"],
        ["bob", "task claim 1"],
        ["alice", "task cancel 4"],
      ].map(([user, text], i) => ({ id: `console:k${i}`, user, text, at: start + i * 6 * HOUR_MS }));
      // A dispatcher process that delivers nothing (no chat platform), killed once all is answered.
      const child = spawn(process.execPath, ["--import", "tsx", "test/support/dispatcher.ts", database], {
        cwd: process.cwd(),
        stdio: ["pipe", "pipe", "inherit"],
      });
      const answered = new Map<string, { ok: boolean }>();
      const exited = new Promise((resolve) => child.on("exit", resolve));
      await new Promise<void>((resolve) => {
        createInterface({ input: child.stdout }).on("line", (raw) => {
          const o = JSON.parse(raw) as { id?: string; ok?: boolean; ready?: number };
          if (o.ready !== undefined) for (const l of lines) child.stdin.write(`${JSON.stringify(l)}\n`);
          if (o.id !== undefined) answered.set(o.id, { ok: o.ok === true });
          if (answered.size === lines.length) resolve();
        });
      });
      child.kill("SIGKILL");
      await exited;
      expect([...answered.values()].every((a) => a.ok)).toBe(true);

      const store: Store = pg?.store ?? new SqliteStore(file);
      try {
        const last = lines.at(-1)!.at;
        expect(await store.read((tx) => tx.markedBoards())).toEqual([{ poolId: 1, at: last }]);
        expect(await boardRows({ store })).toEqual([]);
        // A bot starts on the file: its first delivery round rebuilds the board.
        const courier = recordingCourier();
        const deliverer = new Deliverer({ store, courier, logger: memoryLogger().logger });
        await deliverer.kick();
        await deliverer.stop();
        expect((await boardRows({ store })).map((b) => b.room)).toEqual(["lobby"]);
        expect(courier.boards).toHaveLength(1);
        await expectBoardsExact(store, last, ["lobby"]);
        const board = (await storedBoards(store)).get("lobby")!.board;
        expect(board.tasks.map((x) => x.id)).not.toContain(4); // cancelled
        expect(board.tasks.map((x) => x.id)).toContain(1); // two slots, one taken
        expect(board.open).toBe(11);
        expect(await store.read((tx) => tx.markedBoards())).toEqual([]);
      } finally {
        await store.close();
        await pg?.release();
      }
    },
  );

  it("GIVEN boards marked and no delivery THEN the scheduled boards job rebuilds them and clears the mark", async () => {
    t = await riversideRooms();
    await t.ok("alice", 'task post garden "Weed beds" hours:1');
    expect(await boardRows(t)).toEqual([]);
    await runDueJobs(t.store, t.clock.now().getTime());
    expect((await boardRows(t)).map((b) => b.room)).toEqual(["lobby", "garden"]);
    expect(await t.store.read((tx) => tx.markedBoards())).toEqual([]);
    await expectBoardsExact(t.store, t.clock.now().getTime(), ["lobby", "garden"]);
  });
});

describe("a board reads its top tasks, not every open task", () => {
  it(
    "GIVEN 3,000 open tasks of every posted weight, age, slot count and due date THEN each board equals the one built from scratch, today and as the weights rise, and reads a small part of the open tasks",
    { timeout: 120_000 },
    async () => {
      t = await testPool({ boards: "left marked" });
      await t.ok("admin", "pool create Big");
      await manyTasks(t, { open: 3000, done: 500, projects: 6, kinds: 5, seed: 11 });
      for (let p = 0; p < 3; p++) {
        const { code } = await t.ok("admin", "pool invite");
        await t.ok(`c${p}`, `pool join ${code}`, { room: `room${p}` });
        await t.ok(`c${p}`, `project room p${p}`, { room: `room${p}` });
      }
      const start = t.clock.now().getTime();
      for (const later of [0, 2 * HOUR_MS, 3 * DAY_MS, 9 * DAY_MS + 7 * HOUR_MS, 40 * DAY_MS]) {
        const now = start + later;
        await t.store.transaction((tx) => refreshBoards(tx, 1, now));
        await expectBoardsExact(t.store, now, ["lobby", "room0", "room1", "room2"]);
      }
      // The lobby's board read from both orders of the index, at most a few times its size deep.
      const { store, calls } = counted(t.store);
      const read: number[] = [];
      await store.transaction(async (tx) => {
        const pool = (await tx.pool(1))!;
        const counting = new Proxy(tx, {
          get(target, key) {
            if (key !== "openTasksBy") return Reflect.get(target, key) as unknown;
            return async (...a: Parameters<Tx["openTasksBy"]>) => {
              const rows = await target.openTasksBy(...a);
              read.push(rows.length);
              return rows;
            };
          },
        });
        for (const later of [0, 3 * DAY_MS, 40 * DAY_MS])
          await topOpenTasks(counting, { poolId: 1, now: start + later }, weightRules(readPolicy(pool.policy)), BOARD_SIZE);
      });
      expect(calls.openTasks ?? 0, "every open task read").toBe(0);
      expect(Math.max(...read)).toBeLessThanOrEqual(8 * BOARD_SIZE);
    },
  );

  it("GIVEN a heavy new task and old light ones THEN the board ranks by weight at now, with ties by time open and then number", async () => {
    t = await riversideRooms();
    await t.ok("alice", 'task post bakery "Old a" hours:1');
    await t.ok("alice", 'task post bakery "Old b" hours:1');
    t.clock.advance(5 * DAY_MS);
    await t.ok("alice", 'task post garden "Same time" hours:1 kind:rare');
    await t.ok("alice", 'task post garden "Same time too" hours:1 kind:rare');
    // A kind whose market rose: its new task starts heavier than the old ones have grown.
    await t.store.transaction(async (tx) => tx.setKindWeight((await tx.kind(1, "rare"))!.id, 2_000_000));
    await t.ok("alice", 'task post garden "Heavy" hours:1 kind:rare');
    await rebuildMarkedBoards(t.store);
    const lobby = (await storedBoards(t.store)).get("lobby")!.board;
    expect(lobby.tasks.map((x) => x.title)).toEqual(["Heavy", "Old a", "Old b", "Same time", "Same time too"]);
    await expectBoardsExact(t.store, t.clock.now().getTime(), ["lobby", "bakery", "garden"]);
  });
});
