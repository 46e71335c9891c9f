// Global setup of the "postgres" test project: one migrated database, `<run>_template`, from
// which each test file copies the databases of its pools (test/support/pg.ts); at the end every
// database of the run is dropped, also those of a test file that did not get to drop its own.
import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { openPg } from "../../db/pg-client.ts";
import pg from "pg";
import { PG_ADMIN_URL, pgUrlOf } from "./pg.ts";

async function onAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const run = `dpool_test_${randomBytes(4).toString("hex")}`;
  await onAdmin((c) => c.query(`CREATE DATABASE ${run}_template`));
  const pool = await openPg(pgUrlOf(`${run}_template`), { max: 1 });
  await pool.end();
  project.provide("dpoolPgRun", run);
  return async () => {
    await onAdmin(async (c) => {
      const left = await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${run}\\_%`]);
      for (const { datname } of left.rows) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    });
  };
}
