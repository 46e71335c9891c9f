// PostgreSQL for tests: the server at DPOOL_TEST_PG_URL (default: the local one, user
// postgres), a fresh database per test file (dpool_test_<random>), dropped afterwards. When no
// server answers, `pgUnavailable` says why in one line and the PostgreSQL tests are skipped.
import { randomBytes } from "node:crypto";
import pg from "pg";

/** The server's maintenance database, where test databases are created and dropped. */
export const PG_ADMIN_URL = process.env.DPOOL_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** Why PostgreSQL cannot be used here (undefined: it can). */
export async function pgUnavailable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (e) {
    return `PostgreSQL tests skipped: no server at ${PG_ADMIN_URL.replace(/\/\/[^@/]*@/, "//")} (${(e as Error).message || String(e)}); set DPOOL_TEST_PG_URL to run them`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface TestDatabase {
  /** Where the new, empty database is. */
  readonly url: string;
  /** Drops it (every connection to it must be closed first; others are cut). */
  drop(): Promise<void>;
}

/** A new, empty database with a random name. */
export async function freshPgDatabase(): Promise<TestDatabase> {
  const name = `dpool_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    /**
     * The test run's name on the PostgreSQL server (test/support/pg-global-setup.ts): every
     * database of the run begins with it, and `<run>_template` is migrated already.
     */
    dpoolPgRun?: string;
  }
}

/** The store testPool builds its pools on: DPOOL_TEST_STORE=postgres, or SQLite. */
export function testStoreKind(): "sqlite" | "postgres" {
  return process.env.DPOOL_TEST_STORE === "postgres" ? "postgres" : "sqlite";
}

/** The address of database `name` on the test server. */
export function pgUrlOf(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

// This test file's databases: the ones emptied for the next pool, those kept per dbFile (a
// pool opened again on "the same file" finds its rows), and all of them, dropped at the end.
const emptied: string[] = [];
const perFile = new Map<string, string>();
const made: string[] = [];

/**
 * A new database for this test file, copied from the run's migrated template (much cheaper than
 * migrating each one). Commits do not wait for the disk: a test database is never recovered.
 */
async function newPgDatabase(): Promise<string> {
  const { inject } = await import("vitest");
  const run = inject("dpoolPgRun") ?? "dpool_test";
  const name = `${run}_${randomBytes(5).toString("hex")}`;
  await onAdmin(async (c) => {
    await c.query(inject("dpoolPgRun") ? `CREATE DATABASE ${name} TEMPLATE ${run}_template` : `CREATE DATABASE ${name}`);
    await c.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  });
  made.push(name);
  return name;
}

/** Per database of this file: a connection kept for emptying it, and the statement that does. */
const emptiers = new Map<string, { readonly client: pg.Client; readonly sql: string }>();

/**
 * Deletes every row and restarts every id sequence, so the next pool starts as on a new
 * database (ids from 1). Triggers and foreign keys are off meanwhile (session_replication_role):
 * the ledger's append-only trigger would refuse the deletes, and the order does not matter. One
 * round trip on a connection kept per database (connecting and a PL/pgSQL loop each time took
 * about 50 ms, which tests that open hundreds of pools paid hundreds of times).
 */
async function emptyPgDatabase(name: string): Promise<void> {
  let e = emptiers.get(name);
  if (!e) {
    const client = new pg.Client({ connectionString: pgUrlOf(name) });
    // A database dropped at the end cuts this connection: nothing to report then.
    client.on("error", () => undefined);
    await client.connect();
    const tables = await client.query<{ t: string }>(`SELECT format('%I', tablename) AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
    const sequences = await client.query<{ s: string }>(
      `SELECT format('%I', c.relname) AS s FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = 'public' ORDER BY 1`,
    );
    const sql = [
      "BEGIN",
      "SET LOCAL session_replication_role = replica",
      ...tables.rows.map((r) => `DELETE FROM public.${r.t}`),
      ...(sequences.rows.length ? [`SELECT ${sequences.rows.map((r) => `setval('public.${r.s}', 1, false)`).join(", ")}`] : []),
      "COMMIT",
    ].join(";\n");
    e = { client, sql };
    emptiers.set(name, e);
  }
  await e.client.query(e.sql);
}

/**
 * A PgStore on an empty database of this test file's for testPool; `dbFile` (other than
 * ":memory:") names one database that stays as it is between the pools opened on it. `release`
 * (after the store closed) empties the database for the next pool.
 */
export async function takePgDatabase(dbFile?: string): Promise<{ store: import("../../db/pg-store.ts").PgStore; release(): Promise<void> }> {
  const { PgStore } = await import("../../db/pg-store.ts");
  const key = dbFile !== undefined && dbFile !== ":memory:" ? dbFile : undefined;
  let name = key === undefined ? undefined : perFile.get(key);
  if (name === undefined) {
    name = emptied.pop() ?? (await newPgDatabase());
    if (key !== undefined) perFile.set(key, name);
  }
  const store = await PgStore.open(pgUrlOf(name), { max: 4 });
  return {
    store,
    async release() {
      if (key !== undefined) return;
      await emptyPgDatabase(name);
      emptied.push(name);
    },
  };
}

/** Drops this test file's databases (its pools closed; connections left open are cut). */
export async function dropPgDatabases(): Promise<void> {
  for (const e of emptiers.values()) await e.client.end().catch(() => undefined);
  emptiers.clear();
  const names = made.splice(0);
  emptied.length = 0;
  perFile.clear();
  if (names.length === 0) return;
  await onAdmin(async (c) => {
    for (const name of names) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}

/**
 * How many random cases a test makes on the store the run asks for (a property test's cases, a
 * crash test's kills): `sqlite` on SQLite, `postgres` (fewer) on PostgreSQL. The rules checked
 * and the seed are the same on both; SQLite, where a command is a few function calls, explores
 * the random space widely, while on PostgreSQL, where each command is several round trips, fewer
 * cases check that the engine keeps the same rules. Whether the generator reaches the interesting
 * states (the coverage checks) is a property of the generator, checked where the full count
 * runs: `fullRandomRuns()`.
 */
export function randomRuns(runs: { readonly sqlite: number; readonly postgres: number }): number {
  return testStoreKind() === "postgres" ? runs.postgres : runs.sqlite;
}

/** True where random tests make their full count of cases (SQLite): their coverage is checked there. */
export function fullRandomRuns(): boolean {
  return testStoreKind() === "sqlite";
}
