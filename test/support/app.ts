// Test harness: a fresh database with migrations applied, a fixed clock, seeded randomness,
// and a way to type commands as a console user in a console room. The database is SQLite in
// memory, or PostgreSQL when the run asks for it (DPOOL_TEST_STORE=postgres, as the "postgres"
// project of test/vitest.config.ts does): an empty database of the server's, see
// test/support/pg.ts.
import { memoryLogger } from "../../src/log.ts";
import { runText, type Reply } from "../../commands/dispatch.ts";
import { docToText } from "../../commands/doc.ts";
import { openApp, type App } from "../../src/app.ts";
import { rebuildMarkedBoards } from "../../src/services/rooms.ts";
import { fixedClock } from "../../src/clock.ts";
import type { RandomBytes } from "../../src/core/ids.ts";
import type { SqliteStore } from "../../db/sqlite-store.ts";
import { dumpStore } from "./db-dump.ts";
import { testStoreKind, takePgDatabase } from "./pg.ts";

/** Deterministic bytes (a small xorshift), so codes and ids repeat from run to run. */
export function seededRandom(seed = 42): RandomBytes {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    return out;
  };
}

export interface TestPool {
  readonly app: App;
  /**
   * The pool's store. Typed as SQLite's for the tests that read rows with SQL of their own
   * (store.db); on PostgreSQL it is a PgStore, which has no `db` (those tests run on SQLite only).
   */
  readonly store: SqliteStore;
  readonly clock: ReturnType<typeof fixedClock>;
  /** Runs a line of text as `user` in console room `room`, with a fresh request id unless given. */
  say(user: string, text: string, o?: { room?: string; requestId?: string }): Promise<Reply>;
  /** Like say, but fails the test unless the command succeeded; returns the JSON data. */
  ok(user: string, text: string, o?: { room?: string; requestId?: string }): Promise<any>;
  /** Every row of every table, to compare the database before and after a command. */
  dump(): Promise<string>;
  close(): Promise<void>;
}

/**
 * `boards`: the task boards that commands mark are rebuilt after each command (as delivery
 * does), or left marked for the test to rebuild.
 * `flood`: flood control on (off by default: tests run members through dozens of commands at a
 * clock that stands still, which no person could do).
 */
export async function testPool(
  o: { start?: string; seed?: number; dbFile?: string; flood?: boolean; boards?: "after each command" | "left marked" } = {},
): Promise<TestPool> {
  const clock = fixedClock(o.start ?? "2026-11-27T09:00:00Z");
  const { logger, lines: errors } = memoryLogger();
  // On PostgreSQL, a database of its own (the same one again for the same dbFile, as a file
  // would be), emptied for the next pool when this one closes.
  const pg = testStoreKind() === "postgres" ? await takePgDatabase(o.dbFile) : undefined;
  const app = openApp({ dbFile: o.dbFile ?? ":memory:", store: pg?.store, random: seededRandom(o.seed), logger, floodControl: o.flood ?? false });
  const store = app.store as SqliteStore;
  let n = 0;
  const say = async (user: string, text: string, opt: { room?: string; requestId?: string } = {}) => {
    const reply = await runText(
      app.engine,
      {
        caller: { platform: "console", userId: user, displayName: user, roomId: opt.room ?? "lobby" },
        requestId: opt.requestId ?? `console:test-${++n}`,
        now: clock.now(),
      },
      text,
    );
    // The boards a command marked are rebuilt after it, as a chat platform's delivery does after
    // each commit (src/delivery.ts); "left marked" leaves that to the test.
    if (o.boards !== "left marked") await rebuildMarkedBoards(store);
    return reply;
  };
  return {
    app,
    store,
    clock,
    say,
    async ok(user, text, opt) {
      const r = await say(user, text, opt);
      if (!r.ok) throw new Error(`"${text}" as ${user} was refused: ${r.message} ${JSON.stringify(errors)}`);
      return r.data;
    },
    dump: () => dumpStore(store),
    async close() {
      await app.close();
      await pg?.release();
    },
  };
}

export const text = (r: Reply) => docToText(r.doc);

/**
 * Riverside, from 2026-11-02 09:00 UTC: @admin's pool with alice's bakery (and bob's bike
 * workshop with `bikes`), and each of `members` known to the pool.
 */
export async function riverside(o: { bikes?: boolean; members?: readonly string[] } = {}): Promise<TestPool> {
  const tp = await testPool({ start: "2026-11-02T09:00:00Z" });
  await tp.ok("admin", "pool create Riverside");
  await tp.ok("alice", "project create bakery The Bakery");
  if (o.bikes) await tp.ok("bob", "project create bikes Bike Workshop");
  for (const m of o.members ?? []) await tp.ok(m, "me balance");
  return tp;
}
