import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";
import { pgUnavailable } from "./support/pg.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

// Test files about SQLite itself, or about a platform fake or the bot process with no pool's rows
// at stake, which the "postgres" project leaves out (they run on SQLite):
const SQLITE_ONLY = [
  // The SQLite migrations of db/migrations, applied to SQLite files.
  "test/unit/db/migrations.test.ts",
  // SQLite's query plans (EXPLAIN QUERY PLAN, INDEXED BY) over a history in a SQLite file.
  "test/unit/db/query-plans.test.ts",
  // `dpool backup` copies the SQLite file (VACUUM INTO) and checks it.
  "test/e2e/backup.test.ts",
  // `dpool export` and `import` read and write the SQLite file only.
  "test/e2e/export-import.test.ts",
  // Reads beside another process's BEGIN IMMEDIATE and WAL: SQLite's file lock.
  "test/unit/services/reads-beside-writes.test.ts",
  // `dpool migrate-to-postgres` copies a SQLite file into PostgreSQL: its pools are SQLite's.
  "test/e2e/pg-migrate.test.ts",
  // The fake Discord server and the fake homeserver against the real clients: no store.
  "test/e2e/discord-fake.test.ts",
  "test/e2e/homeserver-fake.test.ts",
  // How `npm start` ends (signals, refused credentials, bad settings): exit codes, no pool's rows.
  "test/e2e/lifecycle.test.ts",
  // What a start and `dpool exec` on the SQLite file import (pg must not be among them).
  "test/e2e/startup.test.ts",
  "test/e2e/exec-imports.test.ts",
  // Many processes creating one new SQLite file at once (its migrations under the file's lock).
  "test/e2e/startup-race.test.ts",
  // Database paths that cannot be a SQLite file (a folder, a path through a file, read-only).
  "test/e2e/cli-failures.test.ts",
  // Another process holding SQLite's write lock while 150 interactions arrive (BEGIN IMMEDIATE).
  "test/e2e/discord-load.test.ts",
];

// How a test file opens its pools on the store the run asks for: testPool or riverside
// (test/support/app.ts), the end-to-end worlds built on test/support/test-app.ts (discord-world,
// matrix-world, every-platform), or test-app.ts itself (openTestApp, testDatabaseSpot).
const STORE_USE = /\b(testPool|riverside)\(|from "\.\.\/support\/(discord-world|matrix-world|every-platform|test-app)\.ts"/;

/**
 * The test files whose behaviour goes through a store the way STORE_USE finds: every one of them
 * runs a second time on PostgreSQL, but those in SQLITE_ONLY. Property tests make fewer random
 * cases there (randomRuns, test/support/pg.ts).
 */
function storeTestFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith(".test.ts") && STORE_USE.test(readFileSync(path, "utf8"))) files.push(relative(root, path));
    }
  };
  walk(join(root, "test"));
  return files.filter((f) => !SQLITE_ONLY.includes(f)).sort();
}

export default defineConfig(async () => {
  // The PostgreSQL half runs when a server answers (DPOOL_TEST_PG_URL, or the local one).
  // Vitest reads this file more than once per run: the reason is printed the first time.
  const noPg = await pgUnavailable();
  if (noPg && !process.env.DPOOL_TEST_PG_SAID) console.log(noPg);
  if (noPg) process.env.DPOOL_TEST_PG_SAID = "1";
  const projects: TestProjectInlineConfiguration[] = [{ extends: true, test: { name: "sqlite", include: ["test/**/*.test.ts"] } }];
  if (!noPg) {
    projects.push({
      extends: true,
      test: {
        name: "postgres",
        include: storeTestFiles(),
        env: { DPOOL_TEST_STORE: "postgres" },
        globalSetup: ["test/support/pg-global-setup.ts"],
        setupFiles: ["test/support/pg-setup.ts"],
      },
    });
  }
  return {
    root,
    test: {
      testTimeout: 60_000,
      hookTimeout: 60_000,
      pool: "forks",
      // Vitest leaves one core idle by default; on CI's two cores both run test files.
      maxWorkers: 2,
      projects,
    },
  };
});
