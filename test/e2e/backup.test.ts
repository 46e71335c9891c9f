// Issue 12, case 9: `dpool backup` copies the database while the bot holds it open and another
// process keeps writing; every copy is a complete database (integrity ok, audit balanced). A
// plain file copy taken at the same time misses what is still in the WAL.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { backupCommand } from "../../src/cli-data.ts";
import { exec } from "../../src/cli.ts";
import { testPool } from "../support/app.ts";

const root = resolve(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "dpool-backup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(command: typeof exec, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await command(
    argv,
    { ...process.env, DPOOL_DB: "" },
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** What a copy holds: its integrity check, its audit through `dpool exec`, its ledger entries. */
async function inspect(file: string) {
  const db = new Database(file, { readonly: true });
  const integrity = db.pragma("integrity_check", { simple: true });
  const entries = (db.prepare("SELECT count(*) AS n FROM entries").get() as { n: number }).n;
  db.close();
  const audit = JSON.parse((await cli(exec, ["--json", "--db", file, "--", "pool", "audit"])).out);
  return { integrity, entries, audit: audit.data };
}

function tablesIn(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe("dpool backup", () => {
  it("GIVEN the bot holding the database open and another process writing THEN each backup is complete: integrity ok, audit balanced; a plain copy of the file is not", async () => {
    const file = join(dir, "live.sqlite");
    const bot = await testPool({ dbFile: file });
    await bot.ok("admin", "pool create Riverside commons");
    await bot.ok("alice", "project create bakery The Bakery");
    await bot.ok("alice", "task post bakery Knead hours:2 kind:baking");
    await bot.ok("bob", "task claim 1");
    await bot.ok("bob", "task done 1");
    await bot.ok("alice", "task verify 1 @bob");

    // Everything so far lies in the WAL: the main file alone has not a single table.
    expect(existsSync(`${file}-wal`)).toBe(true);
    const plain = join(dir, "plain-copy.sqlite");
    copyFileSync(file, plain);
    expect(tablesIn(plain)).toBe(0);

    const writer = spawn(process.execPath, ["--import", "tsx", join(root, "test", "support", "pool-writer.ts"), file], {
      cwd: root,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    writer.stdout.on("data", (b: Buffer) => (out += b.toString()));
    writer.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((r) => writer.on("close", r));
    while (!out.includes("ready")) {
      if (writer.exitCode !== null) throw new Error(`the writer stopped: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }

    const copies: Array<Awaited<ReturnType<typeof inspect>>> = [];
    for (let i = 0; i < 10; i++) {
      const target = join(dir, `backup-${i}.sqlite`);
      const r = await cli(backupCommand, ["--json", "--db", file, target]);
      expect(r.code, r.out + r.err).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ ok: true, command: "backup", data: { file: target, integrity: "ok" } });
      expect(statSync(target).mode & 0o777).toBe(0o600);
      expect(existsSync(`${target}-wal`)).toBe(false);
      copies.push(await inspect(target));
    }
    writer.stdin.end();
    expect(await exited, err).toBe(0);
    const credits = Number(/done (\d+)/.exec(out)?.[1]);

    for (const c of copies) expect(c).toMatchObject({ integrity: "ok", audit: { balanced: true, sum: 0 } });
    const counts = copies.map((c) => c.entries);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts[0]).toBeGreaterThan(1);
    expect(counts.at(-1)).toBeGreaterThan(counts[0]!);

    const last = join(dir, "backup-last.sqlite");
    expect((await cli(backupCommand, ["--db", file, last])).code).toBe(0);
    const final = await inspect(last);
    expect(final).toMatchObject({ integrity: "ok", audit: { balanced: true } });
    await bot.close();
    const live = await inspect(file);
    expect(final.entries).toBe(live.entries);
    console.log(
      `backup while writing: ${copies.length} backups while another process credited ${credits} tasks (entries ${counts.join(", ")}; final ${final.entries}), each integrity ok and audit balanced; a plain copy had ${tablesIn(plain)} tables`,
    );
  });

  it("GIVEN an existing file THEN backup refuses unless --force; a missing database or folder is one clear line", async () => {
    const file = join(dir, "small.sqlite");
    const t = await testPool({ dbFile: file });
    await t.ok("admin", "pool create Small");
    await t.close();
    const target = join(dir, "taken.sqlite");
    writeFileSync(target, "something precious");
    expect(await cli(backupCommand, ["--json", "--db", file, target])).toMatchObject({
      code: 1,
      out: JSON.stringify({ ok: false, error: { code: "exists", message: `${target} already exists: choose a new name, or add --force to replace it` } }),
    });
    const text = await cli(backupCommand, ["--db", file, target]);
    expect(text).toMatchObject({ code: 1, out: "" });
    expect(text.err).toBe(`dpool: ${target} already exists: choose a new name, or add --force to replace it`);
    expect((await cli(backupCommand, ["--db", file, "--force", target])).code).toBe(0);
    expect((await inspect(target)).audit).toMatchObject({ balanced: true });

    const missing = await cli(backupCommand, ["--json", "--db", join(dir, "none.sqlite"), join(dir, "b.sqlite")]);
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.out).error.code).toBe("database");
    expect(existsSync(join(dir, "none.sqlite"))).toBe(false);
    const noFolder = await cli(backupCommand, ["--json", "--db", file, join(dir, "no", "such", "b.sqlite")]);
    expect(noFolder.code).toBe(3);
    expect(JSON.parse(noFolder.out).error).toEqual({ code: "file", message: expect.stringContaining("its folder does not exist") });
    expect((await cli(backupCommand, ["--json", "--db", file])).out).toContain('"code":"usage"');
    expect((await cli(backupCommand, ["--json", "--db", file, file])).out).toContain("cannot be the database itself");
  });
});
