// Every row of every table but the stored answers, to check that a refused command changes
// nothing. `quietDump` first waits for the bot to be quiet: boards marked by earlier commands
// rebuilt and every queued message sent (delivery runs after each commit, so it may still be at
// work when a test step begins, and its own bookkeeping is no change made by the step).
import type { SqliteStore } from "../../db/sqlite-store.ts";
import type { Store } from "../../src/store.ts";
import { until } from "./until.ts";

export function dumpTables(store: Store): string {
  const db = (store as SqliteStore).db.$client;
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'replies' AND name NOT LIKE 'sqlite_stat%' ORDER BY name").all() as Array<{ name: string }>;
  return JSON.stringify(tables.map((t) => [t.name, db.prepare(`SELECT * FROM "${t.name}" ORDER BY rowid`).all()]));
}

/** Waits until the bot is quiet: no board marked for a rebuild, no message or note left to send. */
export async function waitQuiet(store: Store): Promise<void> {
  const db = (store as SqliteStore).db.$client;
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  await until(
    "boards rebuilt and messages sent",
    () =>
      count("SELECT count(*) AS n FROM pools WHERE boards_dirty_at IS NOT NULL") === 0 &&
      count("SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL") === 0 &&
      count("SELECT count(*) AS n FROM member_notes WHERE delivered_at IS NULL AND failed_at IS NULL") === 0,
  );
}

export async function quietDump(store: Store): Promise<string> {
  await waitQuiet(store);
  return dumpTables(store);
}
