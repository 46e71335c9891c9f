// An app (store and engine) on the store the test run asks for, as testPool opens its pools
// (test/support/app.ts): the SQLite file or memory the test names, or, under
// DPOOL_TEST_STORE=postgres (the "postgres" project of test/vitest.config.ts), an empty
// PostgreSQL database of its own, emptied for the next app when this one closes. The
// end-to-end worlds (discord-world, matrix-world, every-platform) open their pools with it.
import { SqliteStore } from "../../db/sqlite-store.ts";
import { openApp, type App, type AppOptions } from "../../src/app.ts";
import type { Store } from "../../src/store.ts";
import { freshPgDatabase, takePgDatabase, testStoreKind } from "./pg.ts";

/**
 * `shared`: every app opened on the same dbFile gets the same PostgreSQL database, as two
 * processes on one SQLite file share its rows (the database stays as it is between them).
 */
export async function openTestApp({ shared, ...o }: Omit<AppOptions, "store"> & { readonly shared?: boolean }): Promise<App> {
  const pg = testStoreKind() === "postgres" ? await takePgDatabase(shared ? o.dbFile : undefined) : undefined;
  const app = openApp({ ...o, store: pg?.store });
  return {
    store: app.store,
    engine: app.engine,
    async close() {
      await app.close();
      await pg?.release();
    },
  };
}

/**
 * Where a process the test starts (`dpool exec`, a bot) keeps its pool, on the store the test run
 * asks for: the SQLite file `file` (the process is given it as before), or under
 * DPOOL_TEST_STORE=postgres a new, empty PostgreSQL database, which the process migrates when it
 * opens it and which `env` names (DPOOL_DATABASE_URL, as README's PostgreSQL section says).
 * `open` opens the pool's store in the test's own process; `drop` removes the database.
 */
export interface TestDatabaseSpot {
  /** The variables to add to the process's environment (none on SQLite). */
  readonly env: Readonly<Record<string, string>>;
  /** PostgreSQL's address, or undefined on SQLite. */
  readonly url: string | undefined;
  open(): Promise<Store>;
  drop(): Promise<void>;
}

export async function testDatabaseSpot(file: string): Promise<TestDatabaseSpot> {
  if (testStoreKind() !== "postgres") return { env: {}, url: undefined, open: async () => new SqliteStore(file), drop: async () => undefined };
  const db = await freshPgDatabase();
  const { PgStore } = await import("../../db/pg-store.ts");
  return { env: { DPOOL_DATABASE_URL: db.url }, url: db.url, open: () => PgStore.open(db.url), drop: () => db.drop() };
}
