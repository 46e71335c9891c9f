// `dpool migrate-to-postgres` copies in bulk: the foreign keys and secondary indexes are set
// aside in its transaction and put back after the rows, so the copy must leave the target's
// keys and indexes exactly as its migrations made them, bring every text back as it was (the
// rows travel as one array per column), still refuse a row whose parent is missing (the key is
// checked when it is put back) leaving PostgreSQL empty, and leave statistics for the planner.
// Skipped with its reason when no PostgreSQL server answers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runText } from "../../commands/dispatch.ts";
import { fixtureShape, generatePool } from "../../db/bench-fixture.ts";
import { migrateToPostgres } from "../../db/migrate-to-pg.ts";
import { openPg } from "../../db/pg-client.ts";
import type { SqliteStore } from "../../db/sqlite-store.ts";
import { openApp } from "../../src/app.ts";
import { memoryLogger } from "../../src/log.ts";
import { freshPgDatabase, pgUnavailable, type TestDatabase } from "../support/pg.ts";

const skip = await pgUnavailable();
if (skip) console.log(skip);

const dir = mkdtempSync(join(tmpdir(), "dpool-pg-migrate-bulk-"));
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const d of databases) await d.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function database(): Promise<TestDatabase> {
  const d = await freshPgDatabase();
  databases.push(d);
  return d;
}

/** Task titles no array literal may mangle: quotes, commas, braces, backslashes, the word NULL, nothing, other scripts, a line break. */
const AWKWARD = ['a "quoted", {braced} title', "back\\slash\\", "NULL", "", "ünïcødé ✓ 🥖", "two\nlines", "'single' ; -- not SQL", "{}", "a,b"];

/** The bench's generated pool at its smallest (some thousand rows of every kind), with AWKWARD as the first tasks' titles. */
async function generatedPool(file: string, change?: (sqlite: SqliteStore["db"]["$client"]) => void): Promise<void> {
  const app = openApp({ dbFile: file, logger: memoryLogger("fatal").logger });
  const admin = "@admin:bench.example";
  const created = await runText(
    app.engine,
    {
      caller: { platform: "matrix", userId: admin, displayName: "admin", roomId: "!lobby:bench.example" },
      requestId: "matrix:$create",
      now: new Date("2026-11-27T09:00:00Z"),
    },
    "pool create Bench",
  );
  expect(created.ok).toBe(true);
  const sqlite = (app.store as SqliteStore).db.$client;
  const { id: poolId } = sqlite.prepare("SELECT id FROM pools").get() as { id: number };
  const { member_id: adminId } = sqlite.prepare("SELECT member_id FROM identities WHERE external_id = ?").get(admin) as { member_id: number };
  generatePool(sqlite, {
    poolId,
    adminId,
    platform: "matrix",
    domain: "bench.example",
    now: Date.parse("2026-11-27T09:00:00Z"),
    seed: 7,
    shape: fixtureShape(0.001),
  });
  const title = sqlite.prepare("UPDATE tasks SET title = ? WHERE id = ?");
  AWKWARD.forEach((t, i) => title.run(t, i + 1));
  change?.(sqlite);
  await app.close();
}

/** The target's foreign keys and indexes, by name, with their definitions. */
async function keysAndIndexes(url: string): Promise<{ keys: string[]; indexes: string[] }> {
  const pool = await openPg(url, { max: 1 });
  try {
    const keys = await pool.query<{ k: string }>(
      "SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS k FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1",
    );
    const indexes = await pool.query<{ i: string }>("SELECT indexdef AS i FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname");
    return { keys: keys.rows.map((r) => r.k), indexes: indexes.rows.map((r) => r.i) };
  } finally {
    await pool.end();
  }
}

/** Rows in every table of the target. */
async function rowsIn(url: string): Promise<number> {
  const pool = await openPg(url, { max: 1 });
  try {
    const tables = (await pool.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'")).rows.map((r) => r.t);
    let n = 0;
    for (const t of tables) n += (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${t}"`)).rows[0]!.n;
    return n;
  } finally {
    await pool.end();
  }
}

describe.skipIf(Boolean(skip))("dpool migrate-to-postgres, in bulk", () => {
  it("GIVEN a generated pool with awkward task titles WHEN it is copied THEN every title comes back as it was, the keys and indexes are those of a newly migrated database, and the planner has statistics", async () => {
    const file = join(dir, "pool.sqlite");
    await generatedPool(file);
    const [target, fresh] = [await database(), await database()];
    const r = await migrateToPostgres(file, target.url);
    expect(r.target.every((a) => a.balanced)).toBe(true);
    expect(r.tables.entries).toBeGreaterThan(0);
    const pool = await openPg(target.url, { max: 1 });
    try {
      const titles = await pool.query<{ id: number; title: string }>("SELECT id, title FROM tasks WHERE id <= $1 ORDER BY id", [AWKWARD.length]);
      expect(titles.rows.map((t) => t.title)).toEqual(AWKWARD);
      const stats = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stats WHERE schemaname = 'public' AND tablename = 'entries'");
      expect(stats.rows[0]!.n).toBeGreaterThan(0);
    } finally {
      await pool.end();
    }
    // A database its migrations made, untouched: the same keys and indexes, under the same names.
    await openPg(fresh.url, { max: 1 }).then((p) => p.end());
    expect(await keysAndIndexes(target.url)).toEqual(await keysAndIndexes(fresh.url));
  });

  it("GIVEN a file with a task whose project is missing WHEN it is copied THEN the foreign key refuses it, and PostgreSQL is left empty with its keys and indexes as its migrations made them", async () => {
    const file = join(dir, "dangling.sqlite");
    await generatedPool(file, (sqlite) => {
      sqlite.pragma("foreign_keys = OFF");
      sqlite.prepare("UPDATE tasks SET project_id = 9999 WHERE id = 1").run();
    });
    const [target, fresh] = [await database(), await database()];
    await expect(migrateToPostgres(file, target.url)).rejects.toThrow(/foreign key/);
    expect(await rowsIn(target.url)).toBe(0);
    await openPg(fresh.url, { max: 1 }).then((p) => p.end());
    expect(await keysAndIndexes(target.url)).toEqual(await keysAndIndexes(fresh.url));
  });
});
