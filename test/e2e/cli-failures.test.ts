// Issue 12, case 10: every failure of `dpool` is one JSON line under --json and one plain line
// otherwise, never a stack trace, also when the database cannot be opened; and words after `--`
// are command text only, even when they look like dpool's own options.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOnce, DPOOL } from "../support/built.ts";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "dpool-fail-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(buildOnce, 180_000);

async function dpool(args: string[]) {
  try {
    // The real entry point (bin/dpool.js, what npx runs), without npx's own start-up time.
    const r = await run(process.execPath, [DPOOL, ...args], { cwd: root, env: { ...process.env, NO_COLOR: "1", DPOOL_DB: "" } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

const folder = join(dir, "a-folder");
mkdirSync(folder);
const notDb = join(dir, "notes.txt");
writeFileSync(notDb, "shopping list: flour, yeast, salt\n".repeat(200));
// backup and export never create a database: where there is none, they say so.
const NONE = /: there is none/;
const UNUSABLE: Array<[string, string, RegExp, RegExp]> = [
  ["a folder", folder, /it cannot be opened/, /it cannot be opened/],
  ["a file that is not a database", notDb, /not an SQLite database/, /not an SQLite database/],
  ["a path through a file", join(notDb, "pool.sqlite"), /a part of its path is a file/, NONE],
  ["a read-only location", "/proc/dpool-test.sqlite", /it cannot be opened/, NONE],
];

describe("dpool failures", () => {
  it.each(UNUSABLE)(
    "GIVEN --db at %s THEN exec, backup and export answer one JSON line under --json and one plain line otherwise (exit 3)",
    async (_what, db, reason, readReason) => {
      const runs = await Promise.all([
        dpool(["exec", "--json", "--db", db, "--", "pool", "info"]),
        dpool(["backup", "--json", "--db", db, join(dir, "never.sqlite")]),
        dpool(["export", "--json", "--db", db, "--out", join(dir, "never.json")]),
        dpool(["exec", "--db", db, "--", "pool", "info"]),
      ]);
      const [execJson, backupJson, exportJson, execText] = runs;
      for (const [r, why] of [
        [execJson, reason],
        [backupJson, readReason],
        [exportJson, readReason],
      ] as const) {
        expect(r.code).toBe(3);
        expect(r.stdout.trimEnd().split("\n")).toHaveLength(1);
        expect(JSON.parse(r.stdout)).toEqual({ ok: false, error: { code: "database", message: expect.stringMatching(why) } });
        expect(JSON.parse(r.stdout).error.message.startsWith(`cannot use the database ${db}: `)).toBe(true);
        expect(r.stderr).toBe("");
      }
      expect(execText.code).toBe(3);
      expect(execText.stdout).toBe("");
      expect(execText.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(reason)]);
      for (const r of runs) expect(r.stdout + r.stderr).not.toMatch(/^\s+at /m);
      expect(existsSync(join(dir, "never.sqlite")) || existsSync(join(dir, "never.json"))).toBe(false);
    },
  );

  it("GIVEN dpool's options after -- THEN they are command text: no other database is opened and --json does not switch the output", async () => {
    const db = join(dir, "pool.sqlite");
    const other = join(dir, "other.sqlite");
    const asText = await dpool(["exec", "--db", db, "--", "pool", "info", "--json", "--db", other]);
    expect(asText.code).toBe(2);
    expect(asText.stdout).toBe("");
    expect(asText.stderr).toMatch(/too many values: "--json" is not expected/);
    expect(existsSync(other)).toBe(false);
    const json = await dpool(["exec", "--json", "--db", db, "--", "pool", "create", "--db", other]);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, data: { pool: { name: `--db ${other}` } } });
    expect(existsSync(other)).toBe(false);
  });

  it("GIVEN an unknown option, or a database import cannot write to, under --json THEN one JSON line", async () => {
    const [usage, imported] = await Promise.all([
      dpool(["backup", "--json", "--verbose", "x"]),
      dpool(["import", "--json", "--db", folder, join(root, "package.json")]),
    ]);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({ ok: false, error: { code: "usage", message: "unknown option --verbose" } });
    // import reads its file first: this one is JSON but no export, and it says so in one line
    expect(imported.code).toBe(1);
    expect(JSON.parse(imported.stdout)).toEqual({ ok: false, error: { code: "invalid_export", message: expect.stringContaining("not a d-pool export") } });
  });
});
