// Opens a PostgreSQL database (DPOOL_DATABASE_URL=postgres://...): a connection pool whose
// 64-bit integers (bigint columns, count(*), sum()) come back as JavaScript numbers, as
// SQLite's do, and every committed migration applied before first use under an advisory lock,
// so that any number of bot processes may start at once on a new database.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readMigrationFiles } from "drizzle-orm/migrator";
import pg from "pg";

export const PG_MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "pg-migrations");

/** Whether a database address is PostgreSQL's (postgres:// or postgresql://). */
export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//i.test(url);

const INT8 = 20;
const NUMERIC = 1700;

/**
 * A bigint or numeric value as a number. Amounts and times stay far below 2^53; a value beyond
 * it would be read wrong, so it is refused rather than rounded.
 */
function toNumber(text: string): number {
  const n = Number(text);
  if (!text.includes(".") && !Number.isSafeInteger(n)) throw new Error(`a number from the database is beyond 2^53: ${text}`);
  return n;
}

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    if (oid === INT8 || oid === NUMERIC) return toNumber;
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  }) as pg.CustomTypesConfig["getTypeParser"],
};

export interface PgOptions {
  /** Connections the pool keeps at most (default 10). */
  readonly max?: number;
}

/** A pool of connections to the database at `url`, migrated. */
export async function openPg(url: string, o: PgOptions = {}): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: url, types, max: o.max ?? 10 });
  // An idle connection the server dropped (a restart) must not bring the process down.
  pool.on("error", () => undefined);
  try {
    await migratePg(pool, PG_MIGRATIONS_DIR);
  } catch (e) {
    await pool.end();
    throw e;
  }
  return pool;
}

/** Any fixed number: the key of the advisory lock every process takes to migrate. */
const MIGRATE_LOCK = 0x64706f6f; // "dpoo"

/**
 * Applies the migrations not applied yet, in one transaction, while holding a session advisory
 * lock: a second process starting at the same time waits for it, then finds them applied. The
 * journal is drizzle's (drizzle.__drizzle_migrations), so drizzle-kit sees the same history.
 */
export async function migratePg(pool: pg.Pool, folder: string): Promise<number> {
  const migrations = readMigrationFiles({ migrationsFolder: folder });
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATE_LOCK]);
    try {
      await client.query("BEGIN");
      await client.query("CREATE SCHEMA IF NOT EXISTS drizzle");
      await client.query("CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)");
      const last = (await client.query<{ at: number | null }>("SELECT max(created_at) AS at FROM drizzle.__drizzle_migrations")).rows[0]?.at ?? -1;
      let count = 0;
      for (const m of migrations) {
        if (m.folderMillis <= last) continue;
        for (const statement of m.sql) if (statement.trim() !== "") await client.query(statement);
        await client.query("INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ($1, $2)", [m.hash, m.folderMillis]);
        count++;
      }
      await client.query("COMMIT");
      return count;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATE_LOCK]);
    }
  } finally {
    client.release();
  }
}
