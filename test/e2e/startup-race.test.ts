// Issue 12, case 6: many processes started at once on a new database file all start (before,
// 2 of 120 died with "table `accounts` already exists": each read the migrations journal
// before taking the write lock).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { MIGRATIONS_DIR } from "../../db/client.ts";

const root = resolve(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "dpool-race-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PROCESSES = Number(process.env.DPOOL_RACE_PROCESSES || 30);

interface Racer {
  ready: Promise<void>;
  done: Promise<{ code: number | null; out: string; err: string }>;
  go(): void;
}

function racer(file: string): Racer {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "test", "support", "open-store.ts"), file], {
    cwd: root,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString();
    if (out.includes("ready\n")) markReady();
  });
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const done = new Promise<{ code: number | null; out: string; err: string }>((r) => child.on("close", (code) => r({ code, out, err })));
  return { ready, done, go: () => child.stdin.write("go\n") };
}

describe("start-up race", () => {
  it(`GIVEN ${PROCESSES} processes opening a new database file at the same moment THEN every one starts and each migration is applied once`, async () => {
    const file = join(dir, "new.sqlite");
    const racers = Array.from({ length: PROCESSES }, () => racer(file));
    await Promise.all(racers.map((r) => r.ready));
    for (const r of racers) r.go();
    const results = await Promise.all(racers.map((r) => r.done));
    const failed = results.filter((r) => r.code !== 0 || !r.out.includes("opened"));
    console.log(`start-up race: ${PROCESSES} processes, ${PROCESSES - failed.length} started, ${failed.length} failed`);
    expect(failed.map((r) => (r.out + r.err).split("\n").find((l) => /failed|Error/.test(l)))).toEqual([]);

    const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, "meta", "_journal.json"), "utf8")) as { entries: unknown[] };
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM __drizzle_migrations").get()).toEqual({ n: journal.entries.length });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
  }, 120_000);
});
