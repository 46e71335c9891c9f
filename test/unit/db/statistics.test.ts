// Issue 15: the planner's statistics are gathered at every start (PRAGMA optimize, db/client.ts)
// and by the storage job, but never at the price of a start: a file whose write lock another
// process holds still opens, and its statistics wait for the next time.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openSqlite } from "../../../db/client.ts";

const dir = mkdtempSync(join(tmpdir(), "dpool-stats-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const statTables = (c: Database.Database) => {
  const has = c.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").get();
  return has ? (c.prepare("SELECT DISTINCT tbl FROM sqlite_stat1 ORDER BY tbl").all() as Array<{ tbl: string }>).map((r) => r.tbl) : [];
};

/** A database whose members table has rows but no statistics yet (written by an older version). */
function grownWithoutStatistics(name: string): string {
  const file = join(dir, name);
  openSqlite(file).$client.close();
  const raw = new Database(file);
  const add = raw.prepare("INSERT INTO members (handle, created_at) VALUES (?, 0)");
  raw.transaction(() => {
    for (let i = 0; i < 200; i++) add.run(`m${i}`);
  })();
  raw.exec("DELETE FROM sqlite_stat1");
  raw.close();
  return file;
}

describe("statistics at start", () => {
  it("GIVEN a table with rows and no statistics THEN opening the database gathers them", () => {
    const c = openSqlite(grownWithoutStatistics("plain.sqlite")).$client;
    expect(statTables(c)).toContain("members");
    c.close();
  });

  it("GIVEN another process holding the write lock THEN the database still opens, and the statistics come at the next start", () => {
    const file = grownWithoutStatistics("locked.sqlite");
    const holder = new Database(file);
    holder.prepare("BEGIN IMMEDIATE").run();
    try {
      const c = openSqlite(file).$client;
      expect(c.prepare("SELECT count(*) AS n FROM members").get()).toEqual({ n: 200 });
      expect(statTables(c)).not.toContain("members");
      c.close();
    } finally {
      holder.prepare("ROLLBACK").run();
      holder.close();
    }
    const again = openSqlite(file).$client;
    expect(statTables(again)).toContain("members");
    again.close();
  }, 30_000);
});
