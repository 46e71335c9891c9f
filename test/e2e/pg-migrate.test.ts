// `dpool migrate-to-postgres`: a pool with a week of history copied from its SQLite file into an
// empty PostgreSQL database keeps every row of every table (ids too) and audits the same; the
// ids PostgreSQL hands out next come after the copied ones; a second copy into the now
// non-empty database is refused and changes nothing; a missing file or a bad address gets one
// line. Skipped with its reason when no PostgreSQL server answers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { auditAll, migrateCommand, migrateToPostgres } from "../../db/migrate-to-pg.ts";
import { openPg } from "../../db/pg-client.ts";
import { PgStore } from "../../db/pg-store.ts";
import { SqliteStore } from "../../db/sqlite-store.ts";
import { runDueJobs } from "../../src/schedules.ts";
import { testPoolOn } from "../support/pg-pool.ts";
import { freshPgDatabase, pgUnavailable, type TestDatabase } from "../support/pg.ts";

const skip = await pgUnavailable();
if (skip) console.log(skip);

const dir = mkdtempSync(join(tmpdir(), "dpool-pg-migrate-"));
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const d of databases) await d.drop();
  rmSync(dir, { recursive: true, force: true });
});

const HOUR = 3600_000;

/** A week of a pool's life on a file: projects, tasks claimed, done, verified, goods, a round, a correction, the jobs every hour. */
async function poolWithAWeek(file: string): Promise<void> {
  // A SQLite file by nature (what is migrated), also when the suite runs its stores on PostgreSQL.
  const store = new SqliteStore(file);
  const t = testPoolOn(store, "2026-11-02T09:00:00Z");
  const jobs = async () => void (await runDueJobs(store, t.clock.now().getTime()));
  await t.ok("admin", "pool create Riverside commons");
  await t.ok("alice", "project create bakery The Bakery");
  await t.ok("bob", "project create bikes Bike Workshop");
  await t.ok("alice", "goal announce bakery Bread for 40 households");
  await t.ok("alice", "good add bakery bread effort:0.5 unit:loaf stock:10 sector:food");
  await t.ok("alice", "good add bakery cake effort:1 sector:food");
  let task = 0;
  for (let day = 0; day < 7; day++) {
    await t.ok("alice", `task post bakery "Knead the dough ${day}" hours:2 kind:baking`);
    await t.ok("bob", `task post bikes "Fix brakes ${day}" hours:3 kind:repair`);
    const [kneading, brakes] = [++task, ++task];
    await t.ok("bob", `task claim ${kneading}`);
    await t.ok("bob", `task done ${kneading} hours:2`);
    await t.ok("alice", `task verify ${kneading} @bob`);
    await t.ok(day % 2 === 0 ? "carol" : "dave", `task claim ${brakes}`);
    if (day % 3 !== 2) {
      await t.ok(day % 2 === 0 ? "carol" : "dave", `task done ${brakes}`);
      await t.ok("bob", `task verify ${brakes} @${day % 2 === 0 ? "carol" : "dave"}`);
    }
    await t.ok(day % 2 === 0 ? "dave" : "carol", "good request bread qty:1");
    if (day === 2) {
      await t.ok("alice", "good produce cake 2");
      await t.ok("bob", "good request cake");
      await t.ok("dave", "good request cake qty:2");
    }
    for (let h = 0; h < 24; h += 6) {
      t.clock.advance(6 * HOUR);
      await jobs();
    }
  }
  await t.ok("admin", 'pool correct 2 "counted twice" confirm');
  await store.close();
}

/** A row as JSON, its columns by name (the two schemas order them differently), booleans as SQLite's 0 and 1. */
const normalised = (row: Record<string, unknown>): string =>
  JSON.stringify(
    Object.keys(row)
      .sort()
      .map((k) => [k, typeof row[k] === "boolean" ? Number(row[k]) : row[k]]),
  );

/** Every table's rows, normalised (booleans as 0/1, rows sorted), keyed by table. */
async function pgRows(url: string, tables: readonly string[]): Promise<Record<string, string[]>> {
  // openPg reads bigints as numbers, as the store does (its migrations are applied already).
  const pool = await openPg(url, { max: 1 });
  try {
    const out: Record<string, string[]> = {};
    for (const table of tables) {
      const r = await pool.query<Record<string, unknown>>(`SELECT * FROM "${table}"`);
      out[table] = r.rows.map((row) => normalised(row)).sort();
    }
    return out;
  } finally {
    await pool.end();
  }
}

function sqliteRows(file: string): Record<string, string[]> {
  const s = new SqliteStore(file);
  try {
    const db = s.db.$client;
    const tables = (
      db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__drizzle_migrations' ORDER BY name")
        .all() as Array<{ name: string }>
    ).map((r) => r.name);
    return Object.fromEntries(
      tables.map((t) => [t, (db.prepare(`SELECT * FROM "${t}"`).all() as Array<Record<string, unknown>>).map((row) => normalised(row)).sort()]),
    );
  } finally {
    void s.close();
  }
}

describe.skipIf(Boolean(skip))("dpool migrate-to-postgres", () => {
  it("GIVEN a pool with a week of history on a file WHEN it is copied into an empty PostgreSQL database THEN both audits agree and balance, every table's rows are equal, new ids follow the copied ones, and a second copy is refused, changing nothing", async () => {
    const file = join(dir, "week.sqlite");
    await poolWithAWeek(file);
    const target = await freshPgDatabase();
    databases.push(target);

    const result = await migrateToPostgres(file, target.url);
    console.log(
      `migrate-to-postgres: ${Object.values(result.tables).reduce((a, b) => a + b, 0)} rows; audit file ${JSON.stringify(result.source)}, PostgreSQL ${JSON.stringify(result.target)}`,
    );
    expect(result.target).toEqual(result.source);
    expect(result.source.length).toBe(1);
    expect(result.source[0]).toMatchObject({ balanced: true, sum: 0, mismatched: 0 });
    expect(result.source[0]!.entries).toBeGreaterThan(20);

    const before = sqliteRows(file);
    const tables = Object.keys(before);
    expect(Object.keys(result.tables).sort()).toEqual(tables);
    const after = await pgRows(target.url, tables);
    for (const table of tables) expect({ table, rows: after[table] }).toEqual({ table, rows: before[table] });
    expect(before.entries!.length).toBeGreaterThan(20);
    expect(before.job_runs!.length).toBeGreaterThan(20);

    // A bot on the copy: its audit is the file's, and the next task gets the id after the copied ones.
    const store = await PgStore.open(target.url, { max: 2 });
    try {
      expect(await auditAll(store)).toEqual(result.source);
      const highest = Math.max(...before.tasks!.map((r) => Object.fromEntries(JSON.parse(r) as Array<[string, number]>).id!));
      const t = testPoolOn(store, "2026-11-10T09:00:00Z");
      const posted = await t.ok("alice", 'task post bakery "After the move" hours:1 kind:baking');
      expect(posted.task.id).toBe(highest + 1);
    } finally {
      await store.close();
    }

    // Again into the database that now holds the pool: refused in one line, nothing changed.
    const dumped = await pgRows(target.url, tables);
    const lines: string[] = [];
    const code = await migrateCommand(
      ["--from", file, "--to", target.url],
      (s) => lines.push(s),
      (s) => lines.push(s),
    );
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^dpool: the PostgreSQL database .* is not empty \(\d+ rows in \w+\): give a new, empty database/);
    expect(await pgRows(target.url, tables)).toEqual(dumped);
  }, 300_000);

  it("GIVEN a missing file, an address that is not PostgreSQL's, or a server that does not answer THEN one line says what to give instead", async () => {
    const file = join(dir, "small.sqlite");
    const store = new SqliteStore(file);
    await testPoolOn(store, "2026-11-02T09:00:00Z").ok("admin", "pool create Small");
    await store.close();
    const run = async (...argv: string[]) => {
      const lines: string[] = [];
      const code = await migrateCommand(
        argv,
        (s) => lines.push(s),
        (s) => lines.push(s),
      );
      return { code, lines };
    };
    const missing = await run("--from", join(dir, "nowhere.sqlite"), "--to", "postgres://postgres@127.0.0.1:5432/x");
    expect(missing).toEqual({
      code: 3,
      lines: [expect.stringMatching(/^dpool: there is no SQLite file .*nowhere\.sqlite: give the pool's database file with --from/)],
    });
    const notPg = await run("--from", file, "--to", "mysql://root@localhost/pool");
    expect(notPg).toEqual({ code: 2, lines: [expect.stringMatching(/^dpool: --to must be a PostgreSQL address such as postgres:\/\//)] });
    const noServer = await run("--from", file, "--to", "postgres://postgres@127.0.0.1:1/dpool");
    expect(noServer).toEqual({
      code: 3,
      lines: [
        expect.stringMatching(
          /^dpool: cannot open the PostgreSQL database postgres:\/\/postgres@127\.0\.0\.1:1\/dpool: .*\(create it with createdb, and check the address\)$/,
        ),
      ],
    });
    const noTo = await run("--from", file);
    expect(noTo).toEqual({ code: 2, lines: [expect.stringMatching(/^dpool: give both --from FILE and --to postgres:/)] });
  }, 60_000);
});
