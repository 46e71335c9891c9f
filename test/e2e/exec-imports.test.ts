// What `dpool exec` loads for one command: the bundled program (dist/src/cli.js and its chunks in
// dist/chunks/, bin/bundle.js) and better-sqlite3, and nothing of the chat platforms (discord.js,
// the Matrix SDK), the console or the chart drawing (canvas). Checked by the modules the real
// process imports (test/support/trace-imports.mjs), never by a stopwatch.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../../bin/build.js";
import { buildOnce, DPOOL } from "../support/built.ts";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "dpool-exec-imports-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(buildOnce, 180_000);

const TRACER = join(ROOT, "test", "support", "trace-imports.mjs");
const db = join(dir, "pool.sqlite");
let n = 0;

/** Runs `dpool exec --db <db> --json -- <command>`; its answer, and what it imported. */
async function traced(command: string) {
  const trace = join(dir, `${n++}.imports`);
  const { stdout } = await run(process.execPath, ["--import", TRACER, DPOOL, "exec", "--db", db, "--json", "--", command], {
    cwd: dir,
    env: { ...process.env, DPOOL_TRACE_IMPORTS: trace },
  });
  const urls = [...new Set(readFileSync(trace, "utf8").split("\n").filter(Boolean))];
  const paths = urls.filter((u) => u.startsWith("file:")).map((u) => new URL(u).pathname);
  const packages = [...new Set(paths.flatMap((p) => /.*\/node_modules\/((@[^/]+\/)?[^/]+)\//.exec(p)?.[1] ?? []))].sort();
  const ours = paths.filter((p) => !p.includes("/node_modules/")).map((p) => relative(ROOT, p));
  return { answer: JSON.parse(stdout) as { ok: boolean; text: string }, packages, ours };
}

describe("dpool exec's imports", () => {
  it.each(["pool create Riverside", "me balance", "task list", "help task"])(
    "GIVEN dpool exec -- %s THEN it answers from the bundle, with better-sqlite3 the one package loaded from node_modules",
    async (command) => {
      const { answer, packages, ours } = await traced(command);
      // The first command makes the database: the migrations were found beside the bundle.
      expect(answer.ok, answer.text).toBe(true);
      // Not discord.js, the Matrix SDK or canvas; drizzle, zod and pino are inside the bundle.
      expect(packages).toEqual(["better-sqlite3"]);
      expect(ours.filter((f) => !/^(bin\/(dpool|build)\.js|dist\/src\/cli\.js|dist\/chunks\/[^/]+\.js)$/.test(f))).toEqual([]);
      // The chunks a platform or the console would need are not among them (their own chunks).
      const source = ours.filter((f) => f.startsWith("dist/chunks/")).map((f) => readFileSync(join(ROOT, f), "utf8"));
      for (const text of source) expect(text).not.toMatch(/from "(discord\.js|@vector-im\/matrix-bot-sdk|@napi-rs\/canvas)"/);
    },
    60_000,
  );
});
