// The database file: pragmas, migrations forward from an older version, schema in sync.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { afterEach, describe, expect, it } from "vitest";
import { MIGRATIONS_DIR, openSqlite } from "../../../db/client.ts";
import { SqliteStore } from "../../../db/sqlite-store.ts";

const root = join(MIGRATIONS_DIR, "..", "..");
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(under?: string): string {
  if (under) mkdirSync(under, { recursive: true });
  const d = mkdtempSync(join(under ?? tmpdir(), "dpool-"));
  dirs.push(d);
  return d;
}

describe("opening the database", () => {
  it("GIVEN a new file THEN WAL, synchronous=FULL and foreign keys are on", () => {
    const file = join(tempDir(), "nested", "dpool.sqlite");
    const db = openSqlite(file);
    const c = db.$client;
    expect(c.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(c.pragma("synchronous", { simple: true })).toBe(2);
    expect(c.pragma("foreign_keys", { simple: true })).toBe(1);
    c.close();
  });

  it("GIVEN a database made by an older version (first migration only) THEN opening it migrates it forward and keeps its data", async () => {
    const dir = tempDir();
    const old = join(dir, "old-migrations");
    cpSync(MIGRATIONS_DIR, old, { recursive: true });
    const journalFile = join(old, "meta", "_journal.json");
    const journal = JSON.parse(readFileSync(journalFile, "utf8"));
    expect(journal.entries.length).toBeGreaterThan(1);
    journal.entries = journal.entries.slice(0, 1);
    writeFileSync(journalFile, JSON.stringify(journal));
    const file = join(dir, "old.sqlite");
    const raw = new Database(file);
    migrate(drizzle(raw), { migrationsFolder: old });
    raw.prepare("INSERT INTO members (handle, created_at) VALUES ('olduser', 1)").run();
    const triggersBefore = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all();
    expect(triggersBefore).toEqual([]);
    raw.close();

    const store = new SqliteStore(file);
    const c = store.db.$client;
    expect(c.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name").all()).toEqual([
      { name: "entries_no_delete" },
      { name: "entries_no_update" },
    ]);
    expect(await store.transaction((tx) => tx.memberByHandle("olduser"))).toMatchObject({ handle: "olduser" });
    const applied = c.prepare("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number };
    expect(applied.n).toBe(readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith(".sql")).length);
    await store.close();
  });

  it("GIVEN db/schema.ts THEN the committed migrations already describe it (drizzle-kit generates nothing new)", () => {
    const dir = tempDir(join(root, ".tmp"));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    const before = readdirSync(dir).sort();
    const out = execFileSync(
      join(root, "node_modules", ".bin", "drizzle-kit"),
      ["generate", "--dialect", "sqlite", "--schema", "./db/schema.ts", "--out", `./${relative(root, dir)}`],
      { cwd: root, encoding: "utf8" },
    );
    expect(out).toContain("No schema changes");
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});
