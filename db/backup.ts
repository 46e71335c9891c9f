// `dpool backup`: SQLite's online backup API copies the database page by page through a normal
// read transaction, so it sees what the running bot committed, also what still lies in the WAL
// (a plain file copy of a WAL database can miss all of it). The copy is written under a
// temporary name, checked, turned into a self-contained file and only then renamed into place:
// a file at the target's name is always a complete database.
import { existsSync, renameSync, rmSync, statSync } from "node:fs";
import { resolve } from "node:path";
import Database from "better-sqlite3";

export interface BackupResult {
  readonly file: string;
  readonly bytes: number;
  readonly pages: number;
  /** `PRAGMA integrity_check` of the copy: "ok". */
  readonly integrity: string;
}

/** Why a backup was not made: a refusal the person running it can act on, not a bug. */
export class BackupRefused extends Error {
  constructor(
    readonly reason: "exists" | "same_file" | "no_database",
    message: string,
  ) {
    super(message);
    this.name = "BackupRefused";
  }
}

const SIDE_FILES = ["-wal", "-shm", "-journal"];

/** Copies the database at `source` to `target` while other processes may be writing to it. */
export async function backupDatabase(source: string, target: string, o: { force?: boolean } = {}): Promise<BackupResult> {
  if (source === ":memory:" || !existsSync(source)) throw new BackupRefused("no_database", `there is no database at ${source}`);
  if (resolve(source) === resolve(target)) throw new BackupRefused("same_file", "the backup cannot be the database itself: choose another file");
  if (existsSync(target) && !o.force) throw new BackupRefused("exists", `${target} already exists: choose a new name, or add --force to replace it`);
  const partial = `${target}.partial-${process.pid}`;
  for (const f of [partial, ...SIDE_FILES.map((s) => partial + s)]) rmSync(f, { force: true });

  const db = new Database(source, { fileMustExist: true });
  let pages = 0;
  try {
    db.pragma("busy_timeout = 5000");
    // All remaining pages in one step: a step the bot's writes cannot interleave with, so the
    // copy is one consistent snapshot and a busy bot cannot make it start over forever.
    const progress = await db.backup(partial, { progress: () => 0x7fffffff });
    pages = progress.totalPages;
  } finally {
    db.close();
  }

  let integrity: string;
  const copy = new Database(partial, { fileMustExist: true });
  try {
    integrity = String(copy.pragma("integrity_check", { simple: true }));
    // A single file with no -wal beside it: safe to copy, mail or move as it is. The bot turns
    // WAL on again when it opens the file.
    copy.pragma("journal_mode = DELETE");
  } finally {
    copy.close();
  }
  if (integrity !== "ok") {
    rmSync(partial, { force: true });
    throw new Error(`the copy failed its integrity check (${integrity}); the database itself may be damaged`);
  }
  // A -wal left beside an older file of the target's name would be read into the new one.
  for (const s of SIDE_FILES) rmSync(target + s, { force: true });
  renameSync(partial, target);
  return { file: target, bytes: statSync(target).size, pages, integrity };
}
