// Issue 15: `npm run bench` at a tiny size (0.1% of the pool) completes and writes a
// well-formed results file. Nothing here is timed: the figures are only checked to be there and
// to be figures; the generated pool must be valid (its audit balances) and every command of the
// mix must have been accepted. Issue 17: when a PostgreSQL server answers, the same figures are
// there for the pool's copy in PostgreSQL; when none does, the bench says so in one line and
// reports SQLite only (whichever of the two this machine has is what is checked).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../../bin/build.js";
import { buildOnce } from "../support/built.ts";
import { pgUnavailable } from "../support/pg.ts";
import type { Results, SizeFigures } from "../bench/table.ts";

// The bench asks the same server (DPOOL_BENCH_PG_URL, else DPOOL_TEST_PG_URL, else the local one).
if (process.env.DPOOL_BENCH_PG_URL) process.env.DPOOL_TEST_PG_URL = process.env.DPOOL_BENCH_PG_URL;
const noPg = await pgUnavailable();

const dir = mkdtempSync(join(tmpdir(), "dpool-bench-smoke-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "test", "bench", "run.ts"), ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

const isSeries = (s: unknown) => {
  const x = s as Record<string, number>;
  for (const k of ["count", "perSec", "meanMs", "p50Ms", "p99Ms", "maxMs", "cpuMs"]) expect(Number.isFinite(x[k]), k).toBe(true);
  expect(x.count).toBeGreaterThan(0);
  expect(x.p50Ms).toBeLessThanOrEqual(x.p99Ms!);
};

/** The figures every store must have after a run: the mix accepted, the single commands, the round and dpool exec answered. */
function everyFigure(size: SizeFigures) {
  expect(size.error).toBeUndefined();
  expect(size.audit).toEqual({ balanced: true, entries: expect.any(Number), accounts: expect.any(Number) });
  // The history, and what the bench's own commands added (verified work, goods taken, the round).
  expect(size.audit!.entries).toBeGreaterThanOrEqual(size.shape.entries);
  expect(size.mix!.refused).toEqual([]);
  expect(Object.keys(size.mix!.commands).sort()).toEqual([
    "good request",
    "good show",
    "me balance",
    "me balance (Discord)",
    "task claim",
    "task done",
    "task list <project>",
    "task show",
    "task verify",
  ]);
  for (const s of Object.values(size.mix!.commands)) isSeries(s);
  isSeries(size.mix!.reads);
  isSeries(size.mix!.writes);
  isSeries(size.cheapest!.write);
  isSeries(size.cheapest!.read);
  expect(size.ratios!.writesVsCheapestWrite).toBeGreaterThan(0);
  expect(size.ratios!.meBalanceVsCheapestRead).toBeGreaterThan(0);
  for (const label of ["pool summary (largest project)", "pool summary (whole pool)", "task list (all open tasks)", "kind list", "pool audit"]) {
    expect(size.single![label], label).toMatchObject({ ok: true });
  }
  expect(size.round).toMatchObject({ ok: true, requests: expect.any(Number) });
  expect(size.round!.winners).toBeGreaterThan(0);
  expect(size.exec).toMatchObject({ ok: true });
  expect(size.exec!.runs).toHaveLength(5);
  expect(size.peakRssMB).toBeGreaterThan(0);
}

describe("npm run bench at a tiny size", () => {
  let run: { code: number | null; stdout: string; stderr: string };
  let results: Results;
  let size: SizeFigures;
  const out = join(dir, "results.json");

  beforeAll(async () => {
    buildOnce();
    run = await bench(["--size", "0.001", "--out", out]);
    results = JSON.parse(readFileSync(out, "utf8")) as Results;
    size = results.sizes[0] as SizeFigures;
    // A hang guard: the run takes under a minute on a quiet machine, a few when others work.
  }, 600_000);

  it("GIVEN --size 0.001 THEN it exits 0 and prints the table with every measure", () => {
    expect(run.code, run.stderr).toBe(0);
    for (const label of [
      "dispatcher writes / cheapest write",
      "`me balance` / cheapest read",
      "`pool summary` whole pool",
      "`task list` over all open tasks",
      "`kind list`",
      "closing a round of N requests",
      "`dpool exec` start to answer",
      "peak RSS",
    ]) {
      expect(run.stdout).toContain(label);
    }
    expect(run.stdout).toMatch(/^Machine: \d+ cores \(nproc\), .+, node v\d+/m);
  });

  it("GIVEN the results file THEN it names the machine and holds one size with the generated pool's shape", () => {
    expect(results.machine.nproc).toBeGreaterThan(0);
    expect(results.machine.cpu.length).toBeGreaterThan(0);
    expect(results.machine.node).toBe(process.version);
    expect(results.command).toBe("npm run bench -- --size 0.001");
    expect(results.sizes).toHaveLength(1);
    expect(size.error).toBeUndefined();
    expect(size.scale).toBe(0.001);
    // What was written is the pool's shape: every entry, task and good.
    expect(size.rows.entries).toBe(size.shape.entries);
    expect(size.rows.tasks).toBe(size.shape.tasks);
    expect(size.rows.goods).toBe(size.shape.goods);
    expect(size.rows.members).toBe(size.shape.members);
    expect(size.bytesPerEntry).toBeGreaterThan(0);
    expect(size.fileBytes).toBeGreaterThan(0);
  });

  it("GIVEN the generated pool on SQLite THEN its audit balances, every command of the mix was accepted, and the single commands, the round and dpool exec answered", () => {
    everyFigure(size);
  });

  it.skipIf(Boolean(noPg))("GIVEN a PostgreSQL server THEN the pool was copied into it and every figure measured there too", () => {
    expect(results.postgres).toEqual({ server: expect.stringMatching(/^PostgreSQL \d+\S* at /) });
    const pg = size.postgres as SizeFigures;
    expect(pg.store).toBe("postgres");
    expect(pg.scale).toBe(0.001);
    // The copy: every row of the generated pool, balanced as the file was.
    expect(pg.copy).toMatchObject({ balanced: true });
    expect(pg.copy!.rows).toBeGreaterThanOrEqual(Object.values(size.rows).reduce((x, y) => x + y, 0));
    expect(pg.fileBytes).toBeGreaterThan(0);
    everyFigure(pg);
    // The second table, with the server's memory said to be apart.
    expect(run.stdout).toContain("PostgreSQL (PostgreSQL ");
    expect(run.stdout).toContain("copying the pool into PostgreSQL");
    expect(run.stdout).toContain("`dpool exec` with DPOOL_DATABASE_URL");
    expect(run.stdout).toContain("peak RSS of the measuring process, not the server's");
  });

  it.skipIf(!noPg)("GIVEN no PostgreSQL server THEN the bench says so in one line and reports SQLite only", () => {
    expect(run.stderr.split("\n").filter((l) => l.includes("PostgreSQL not measured"))).toHaveLength(1);
    expect(results.postgres).toEqual({ skipped: expect.stringContaining("no server at") });
    expect(size.postgres).toBeUndefined();
    expect(run.stdout).toContain("PostgreSQL: not measured");
  });

  it("GIVEN an earlier results file THEN --print prints its tables again", async () => {
    const r = await bench(["--print", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(run.stdout);
  });

  it("GIVEN a results file of a run before PostgreSQL was measured THEN --print prints its SQLite table alone", async () => {
    const { postgres: _server, ...older } = results;
    const old = join(dir, "old-results.json");
    writeFileSync(old, JSON.stringify({ ...older, sizes: results.sizes.map((x) => ({ ...x, postgres: undefined })) }));
    const r = await bench(["--print", old]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("`pool summary` whole pool");
    expect(r.stdout).not.toContain("PostgreSQL");
  });

  it("GIVEN a size that is not a number THEN it says what to type and exits 2", async () => {
    const r = await bench(["--size", "big"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--size big: each size is a number above 0 and at most 10");
  });
});
