// Issue 15: `dpool exec` answers from the compiled program in dist/, and loads only what the
// command needs: no TypeScript compiler, no chat platform SDK (discord.js, the Matrix SDK) and no
// chart drawing (canvas). Checked by the modules the real process imports, not by a stopwatch.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIST, isFresh, ROOT } from "../../bin/build.js";
import { buildOnce, DPOOL } from "../support/built.ts";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "dpool-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(buildOnce, 180_000);

const TRACER = join(ROOT, "test", "support", "trace-imports.mjs");
const HEAVY = /\/node_modules\/(discord\.js|@discordjs\/|@vector-im\/matrix-bot-sdk|@napi-rs\/canvas|tsx|typescript)\//;

/** Runs `dpool <args>` as npx would, and returns its answer and the modules it imported. */
async function traced(name: string, args: string[], input?: string) {
  const trace = join(dir, `${name}.imports`);
  const child = run(process.execPath, ["--import", TRACER, DPOOL, ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", DPOOL_TRACE_IMPORTS: trace },
  });
  if (input !== undefined) child.child.stdin!.end(input);
  const { stdout } = await child;
  const urls = readFileSync(trace, "utf8").split("\n").filter(Boolean);
  return { stdout, urls, ours: urls.filter((u) => u.startsWith("file:") && !u.includes("/node_modules/")).map((u) => relative(ROOT, new URL(u).pathname)) };
}

describe("starting dpool", () => {
  it("GIVEN a fresh build THEN dist/ holds the program and its migrations, and counts as built from the current sources", () => {
    expect(isFresh()).toBe(true);
    const migrations = (d: string) => readdirSync(d).filter((f) => f.endsWith(".sql"));
    expect(migrations(join(DIST, "db", "migrations"))).toEqual(migrations(join(ROOT, "db", "migrations")));
    expect(readdirSync(join(DIST, "db", "migrations", "meta"))).toContain("_journal.json");
  });

  it("GIVEN dpool exec THEN it answers from dist/ without loading TypeScript, discord.js, the Matrix SDK or canvas", async () => {
    const db = join(dir, "pool.sqlite");
    await traced("create", ["exec", "--db", db, "--", "pool", "create", "Riverside"]);
    const { stdout, urls, ours } = await traced("info", ["exec", "--db", db, "--", "pool", "info"]);
    expect(stdout).toContain("Pool Riverside");
    expect(ours).toContain("dist/src/cli.js");
    expect(ours.filter((f) => f.endsWith(".ts"))).toEqual([]);
    expect(urls.filter((u) => HEAVY.test(u))).toEqual([]);
    // The console and the bot's wiring are not loaded for one command either.
    expect(ours.filter((f) => /^dist\/(src\/main|adapters\/(console\/repl|discord|matrix))/.test(f))).toEqual([]);
  });

  it("GIVEN dpool console THEN it runs without loading either chat platform's SDK", async () => {
    const { stdout, urls } = await traced("console", ["console", "--db", join(dir, "console.sqlite")], "help\n/quit\n");
    expect(stdout).toContain("pool create");
    expect(urls.filter((u) => /\/node_modules\/(discord\.js|@vector-im\/matrix-bot-sdk|tsx)\//.test(u))).toEqual([]);
  });
});
