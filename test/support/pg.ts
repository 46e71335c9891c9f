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
