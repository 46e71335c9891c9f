// Opens the SQLite database: WAL, foreign keys, synchronous=FULL (an acknowledged command
// survives a crash), and every committed migration applied before first use, under the write
// lock, so that any number of processes may start at once on a new file; then the planner's
// statistics are brought up to date (PRAGMA optimize).
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { readMigrationFiles } from "drizzle-orm/migrator";
import * as schema from "./schema.ts";

export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "migrations");
export const DEFAULT_DB_FILE = "./data/dpool.sqlite";

export type SqliteDb = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export function openSqlite(file: string): SqliteDb {
  if (file !== ":memory:") mkdirSync(dirname(resolve(file)), { recursive: true });
  const sqlite = new Database(file);
  try {
    // Before journal_mode: turning a new file to WAL takes a lock another process may hold.
    sqlite.pragma(`busy_timeout = ${OPEN_BUSY_TIMEOUT_MS}`);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = FULL");
    sqlite.pragma("foreign_keys = ON");
    migrateLocked(sqlite, MIGRATIONS_DIR);
    try {
      optimize(sqlite);
    } catch (e) {
      // Another process held the write lock all along: the statistics wait for the next start
      // or the next run of the storage job; the bot starts anyway.
      if (!(e instanceof Database.SqliteError && e.code.startsWith("SQLITE_BUSY"))) throw e;
    }
  } catch (e) {
    sqlite.close();
    throw e;
  }
  return drizzle(sqlite, { schema });
}

/**
 * Rows ANALYZE samples per index (SQLite's analysis_limit): statistics of a large table in a few
 * milliseconds instead of a read of all of it.
 */
export const ANALYSIS_LIMIT = 1000;

/**
 * Keeps the query planner's statistics (sqlite_stat1) up to date: ANALYZE runs on each table that
 * has none yet or whose size changed much since (about 25 times), and on nothing else, so a start
 * with nothing to do costs a fraction of a millisecond. Without statistics the planner guesses,
 * and over a long history it guessed wrong (a good's measured effort went through every verified
 * claim of the pool). Run at every start, after the migrations (new indexes have no statistics),
 * and by the storage job while the bot runs (src/schedules.ts).
 */
export function optimize(sqlite: Database.Database): void {
  sqlite.pragma(`analysis_limit = ${ANALYSIS_LIMIT}`);
  // 0x10000: look at every table, not only those this connection used; 0x02: analyse them.
  sqlite.pragma("optimize = 0x10002");
}

/** SQLite's blocking wait for a lock while the file is opened and migrated (start-up only). */
const OPEN_BUSY_TIMEOUT_MS = 5000;
/** How long a start waits, in all, for other processes' migrations before it gives up. */
const MIGRATE_WAIT_MS = 60_000;
/** drizzle's journal table: its format is kept, so files migrated by drizzle's migrate() stay valid. */
const JOURNAL = "__drizzle_migrations";

/**
 * drizzle's migrate() reads the last applied migration before its (deferred) BEGIN, so two
 * processes starting on a new file both saw none and the second died on "table already exists".
 * Here the journal is read again after BEGIN EXCLUSIVE: the first process applies the migrations,
 * the others wait for its lock, find them applied and go on. An up-to-date file takes no lock.
 */
export function migrateLocked(sqlite: Database.Database, folder: string): number {
  const migrations = readMigrationFiles({ migrationsFolder: folder });
  const latest = migrations.at(-1)?.folderMillis ?? 0;
  const applied = (): number => {
    const exists = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(JOURNAL);
    if (!exists) return -1;
    const row = sqlite.prepare(`SELECT created_at AS at FROM "${JOURNAL}" ORDER BY created_at DESC LIMIT 1`).get() as { at: number | string } | undefined;
    return row ? Number(row.at) : -1;
  };
  if (applied() >= latest) return 0;
  const deadline = Date.now() + MIGRATE_WAIT_MS;
  for (;;) {
    try {
      sqlite.prepare("BEGIN EXCLUSIVE").run();
      break;
    } catch (e) {
      const busy = e instanceof Database.SqliteError && e.code.startsWith("SQLITE_BUSY");
      if (!busy || Date.now() >= deadline) throw e;
    }
  }
  try {
    sqlite.exec(`CREATE TABLE IF NOT EXISTS "${JOURNAL}" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`);
    const last = applied();
    let count = 0;
    for (const m of migrations) {
      if (m.folderMillis <= last) continue;
      for (const statement of m.sql) sqlite.exec(statement);
      sqlite.prepare(`INSERT INTO "${JOURNAL}" ("hash", "created_at") VALUES (?, ?)`).run(m.hash, m.folderMillis);
      count++;
    }
    sqlite.prepare("COMMIT").run();
    return count;
  } catch (e) {
    if (sqlite.inTransaction) sqlite.prepare("ROLLBACK").run();
    throw e;
  }
}

const FILE_CODES: Record<string, string> = {
  EACCES: "no permission to create or open it",
  EPERM: "no permission to create or open it",
  EROFS: "it is on a read-only file system",
  ENOTDIR: "a part of its path is a file, not a folder",
  EEXIST: "a part of its path is a file, not a folder",
  EISDIR: "it is a folder, not a file",
  ENOSPC: "the disk is full",
};

/**
 * What is wrong when `e` says the database file itself cannot be used (a folder, not an SQLite
 * file, read-only, damaged, locked): the person running d-pool can fix that, so it is reported
 * in one line, not as a bug. Anything else: undefined.
 */
export function databaseProblem(e: unknown): { readonly code: "database" | "busy"; readonly reason: string } | undefined {
  if (e instanceof Database.SqliteError) {
    const c = e.code;
    if (c.startsWith("SQLITE_BUSY") || c.startsWith("SQLITE_LOCKED")) return { code: "busy", reason: "another process holds it locked; try again in a moment" };
    if (c.startsWith("SQLITE_CANTOPEN")) return { code: "database", reason: "it cannot be opened (a folder, a missing folder on the way, or no permission)" };
    if (c.startsWith("SQLITE_NOTADB")) return { code: "database", reason: "the file is not an SQLite database" };
    if (c.startsWith("SQLITE_READONLY")) return { code: "database", reason: "it is read-only" };
    if (c.startsWith("SQLITE_PERM") || c.startsWith("SQLITE_AUTH")) return { code: "database", reason: "no permission to use it" };
    if (c.startsWith("SQLITE_CORRUPT")) return { code: "database", reason: "the file is damaged (restore a backup)" };
    if (c.startsWith("SQLITE_FULL")) return { code: "database", reason: "the disk is full" };
    if (c.startsWith("SQLITE_IOERR")) return { code: "database", reason: "reading or writing it failed (the disk or file system)" };
    return undefined;
  }
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && FILE_CODES[code]) return { code: "database", reason: FILE_CODES[code] };
  return undefined;
}
