// Every row of every table, to compare the database before and after a command (`dumpStore`),
// or every table but the stored answers, to check that a refused command changes nothing
// (`dumpTables`), on either store. The text is the same for the same rows on SQLite and
// PostgreSQL: tables by name, rows in primary key order, each row's columns by name, numbers as
// numbers (PostgreSQL's booleans as SQLite's 0 and 1). Not in it: the migrations' own journal
// and SQLite's planner statistics (sqlite_stat1, from PRAGMA optimize), which are no pool's rows.
// `quietDump` first waits for the bot to be quiet: boards marked by earlier commands rebuilt and
// every queued message sent (delivery runs after each commit, so it may still be at work when a
// test step begins, and its own bookkeeping is no change made by the step).
import type { PgStore } from "../../db/pg-store.ts";
import type { SqliteStore } from "../../db/sqlite-store.ts";
import type { Store } from "../../src/store.ts";
import { until } from "./until.ts";

type Row = Record<string, unknown>;

/** A row with its columns in name order and booleans as 0 and 1. */
function normalised(row: Row): Row {
  const out: Row = {};
  for (const k of Object.keys(row).sort()) {
    const v = row[k];
    out[k] = typeof v === "boolean" ? Number(v) : typeof v === "bigint" ? Number(v) : v;
  }
  return out;
}

const isPg = (store: Store): store is PgStore => "pool" in store;

/** Every table's rows, tables by name, but those of `without`. */
async function rowsOf(store: Store, without: readonly string[]): Promise<Array<[string, Row[]]>> {
  if (isPg(store)) {
    let query = pgQueries.get(store.pool);
    if (!query) {
      // Each table with its primary key's columns, in key order; found once per pool, as on SQLite.
      const tables = await store.pool.query<{ name: string; pk: string[] | null }>(
        `SELECT t.relname AS name,
                (SELECT array_agg(a.attname::text ORDER BY k.i) FROM pg_index x
                   CROSS JOIN unnest(x.indkey) WITH ORDINALITY AS k(attnum, i)
                   JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                  WHERE x.indrelid = t.oid AND x.indisprimary) AS pk
           FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
          WHERE n.nspname = 'public' AND t.relkind = 'r' ORDER BY t.relname COLLATE "C"`,
      );
      // Every table's rows in one statement (tests dump before and after every command, and a
      // statement per table made a dump twenty times slower than SQLite's), each table as JSON:
      // its columns are integers, booleans and text, which JSON carries as they are.
      const names = tables.rows.map((t) => t.name);
      const columns = tables.rows.map((t) => {
        const order = t.pk?.length ? t.pk.map((c) => `dump_row."${c}"`).join(", ") : "1";
        return `(SELECT coalesce(json_agg(dump_row ORDER BY ${order}), '[]'::json) FROM "${t.name}" dump_row) AS "${t.name}"`;
      });
      query = { names, sql: `SELECT ${columns.join(", ")}` };
      pgQueries.set(store.pool, query);
    }
    const row = (await store.pool.query<Record<string, Row[]>>(query.sql)).rows[0]!;
    return query.names.filter((name) => !without.includes(name)).map((name) => [name, row[name]!.map(normalised)]);
  }
  const db = (store as SqliteStore).db.$client;
  let queries = sqliteQueries.get(db);
  if (!queries) {
    // Each table's query, found once per connection: tests dump before and after every command.
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__drizzle_migrations' ORDER BY name")
      .all() as Array<{ name: string }>;
    queries = tables.map((t) => {
      const pk = (db.prepare(`SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`).all(t.name) as Array<{ name: string }>).map(
        (c) => `"${c.name}"`,
      );
      return [t.name, `SELECT * FROM "${t.name}" ORDER BY ${pk.length ? pk.join(", ") : "rowid"}`] as const;
    });
    sqliteQueries.set(db, queries);
  }
  return queries.filter(([name]) => !without.includes(name)).map(([name, sql]) => [name, (db.prepare(sql).all() as Row[]).map(normalised)]);
}

const sqliteQueries = new WeakMap<object, ReadonlyArray<readonly [string, string]>>();
const pgQueries = new WeakMap<object, { readonly names: readonly string[]; readonly sql: string }>();

/** Every row of every table. */
export async function dumpStore(store: Store): Promise<string> {
  return JSON.stringify(await rowsOf(store, []));
}

/** Every row of every table but the stored answers (replies). */
export async function dumpTables(store: Store): Promise<string> {
  return JSON.stringify(await rowsOf(store, ["replies"]));
}

/** Rows counted by `sql` (SELECT count(*) AS n ...), on either store. */
async function count(store: Store, sql: string): Promise<number> {
  if (isPg(store)) return Number((await store.pool.query<{ n: number }>(sql)).rows[0]!.n);
  return ((store as SqliteStore).db.$client.prepare(sql).get() as { n: number }).n;
}

/** Waits until the bot is quiet: no board marked for a rebuild, no message or note left to send. */
export async function waitQuiet(store: Store): Promise<void> {
  await until(
    "boards rebuilt and messages sent",
    async () =>
      (await count(store, "SELECT count(*) AS n FROM pools WHERE boards_dirty_at IS NOT NULL")) === 0 &&
      (await count(store, "SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL")) === 0 &&
      (await count(store, "SELECT count(*) AS n FROM member_notes WHERE delivered_at IS NULL AND failed_at IS NULL")) === 0,
  );
}

export async function quietDump(store: Store): Promise<string> {
  await waitQuiet(store);
  return dumpTables(store);
}

/**
 * The rows a query of the test's own returns (none for a statement that returns none), on
 * either store: SQL both understand, with `?` parameters, which PostgreSQL numbers ($1, $2,
 * ...); numbers come back as numbers on both.
 */
export async function sqlRows<R = Row>(store: Store, sql: string, params: readonly unknown[] = []): Promise<R[]> {
  if (isPg(store)) {
    let i = 0;
    return (
      await store.pool.query(
        sql.replace(/\?/g, () => `$${++i}`),
        params as unknown[],
      )
    ).rows as R[];
  }
  const statement = (store as SqliteStore).db.$client.prepare(sql);
  if (!statement.reader) {
    statement.run(...params);
    return [];
  }
  return statement.all(...params) as R[];
}

/**
 * Writes `rows` (each with the same columns, named as in the table) into `table` at once, on
 * either store: on SQLite one prepared statement run for each row in a transaction, on
 * PostgreSQL one statement for them all (json_populate_recordset), so that a fixture of 10,000
 * rows is not 10,000 round trips. Rows may carry their own ids: PostgreSQL's id sequence is then
 * moved past the highest (SQLite's rowid follows by itself), so the store's next row gets a new one.
 * PostgreSQL then analyses the table: its planner knows nothing of rows written a moment ago
 * (autovacuum analyses later), and a guess made without statistics read 10,000 tasks' claims
 * a hundred times slower.
 */
export async function insertRows(store: Store, table: string, rows: readonly Row[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const names = columns.map((c) => `"${c}"`).join(", ");
  if (isPg(store)) {
    await store.pool.query(`INSERT INTO "${table}" (${names}) SELECT ${names} FROM json_populate_recordset(NULL::"${table}", $1::json)`, [
      JSON.stringify(rows),
    ]);
    if (columns.includes("id")) await store.pool.query(`SELECT setval(pg_get_serial_sequence($1, 'id'), (SELECT max(id) FROM "${table}"))`, [table]);
    await store.pool.query(`ANALYZE "${table}"`);
    return;
  }
  const db = (store as SqliteStore).db.$client;
  const insert = db.prepare(`INSERT INTO "${table}" (${names}) VALUES (${columns.map((c) => `@${c}`).join(", ")})`);
  db.transaction(() => {
    for (const row of rows) insert.run(row);
  })();
}
