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

/**
 * Deletes every row and restarts every id sequence, so the next pool starts as on a new
 * database (ids from 1). Triggers and foreign keys are off meanwhile (session_replication_role):
 * the ledger's append-only trigger would refuse the deletes, and the order does not matter.
 */
async function emptyPgDatabase(name: string): Promise<void> {
  const c = new pg.Client({ connectionString: pgUrlOf(name) });
  await c.connect();
  try {
    await c.query(`DO $$
      DECLARE r record;
      BEGIN
        PERFORM set_config('session_replication_role', 'replica', true);
        FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
          EXECUTE format('DELETE FROM public.%I', r.tablename);
        END LOOP;
        FOR r IN SELECT c.oid::regclass AS seq FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind = 'S' AND n.nspname = 'public' LOOP
          PERFORM setval(r.seq, 1, false);
        END LOOP;
      END $$`);
  } finally {
    await c.end();
  }
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
  const names = made.splice(0);
  emptied.length = 0;
  perFile.clear();
  if (names.length === 0) return;
  await onAdmin(async (c) => {
    for (const name of names) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}
