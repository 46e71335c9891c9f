// `npm run bench`: a pool with years of history (50 projects, 10,000 members, 100,000 tasks of which
// 10,000 open, 1,000,000 ledger entries, 2,000 goods) generated from a seed with bulk inserts, at
// each size asked for (`--size 0.01,0.1,1`, the default; 1 is the full pool), then measured
// through the dispatcher as a chat adapter calls it. Each size is generated and measured in
// processes of their own (test/bench/size.ts), so peak memory is the measuring process's own.
// Prints a table (Markdown) and writes the figures to bench/results.json (`--out FILE`).
//   npm run bench -- --size 0.01 --out /tmp/results.json [--keep]
//   npm run bench -- --print bench/results.json     (the table of an earlier run)
// Not part of `npm test`: no test times anything (test/e2e/bench-smoke.test.ts runs a tiny size).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, release, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatTable, type Results, type SizeFigures } from "./table.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SIZE_SCRIPT = join(ROOT, "test", "bench", "size.ts");
/** Hang guard for one size's measuring process (the full size takes minutes when all is well). */
const MEASURE_LIMIT_MS = 90 * 60_000;

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run bench -- [--size 0.01,0.1,1] [--out bench/results.json] [--keep] | --print bench/results.json\n`);
  process.exit(2);
}

function options(argv: readonly string[]) {
  let sizes = [0.01, 0.1, 1];
  let out = join(ROOT, "bench", "results.json");
  let keep = false;
  let print: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--print") print = resolve(argv[++i] ?? usage("--print needs a results file, such as bench/results.json"));
    else if (a === "--size") {
      const v = argv[++i] ?? usage("--size needs a number, such as --size 0.01 or --size 0.01,0.1,1");
      sizes = v.split(",").map(Number);
      if (sizes.some((s) => !(s > 0 && s <= 10))) usage(`--size ${v}: each size is a number above 0 and at most 10 (1 is the full pool)`);
    } else if (a === "--out") out = resolve(argv[++i] ?? usage("--out needs a file name"));
    else if (a === "--keep") keep = true;
    else usage(`unknown option ${a}`);
  }
  return { sizes, out, keep, print };
}

function run(args: readonly string[], timeoutMs: number): { ok: boolean; message: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", SIZE_SCRIPT, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: timeoutMs,
    stdio: ["ignore", "inherit", "pipe"],
    maxBuffer: 64 * 2 ** 20,
  });
  if (r.status === 0) return { ok: true, message: "" };
  const why = r.error ? String(r.error) : r.signal ? `killed (${r.signal})` : `exit code ${r.status}`;
  return { ok: false, message: `${why}: ${(r.stderr ?? "").trim().split("\n").slice(-5).join(" | ")}` };
}

export function machine() {
  const cpu = cpus()[0];
  return {
    nproc: availableParallelism(),
    cpu: cpu?.model.trim() ?? "unknown",
    mhz: cpu?.speed,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${process.platform} ${release()}`,
  };
}

async function main() {
  const o = options(process.argv.slice(2));
  if (o.print) {
    // The table of an earlier run, from its results file.
    process.stdout.write(`${formatTable(JSON.parse(readFileSync(o.print, "utf8")) as Results)}\n`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), "dpool-bench-"));
  const started = new Date().toISOString();
  const results: {
    machine: ReturnType<typeof machine>;
    command: string;
    started: string;
    finished?: string;
    sizes: Array<SizeFigures | { scale: number; error: string }>;
  } = {
    machine: machine(),
    command: `npm run bench -- --size ${o.sizes.join(",")}`,
    started,
    sizes: [],
  };
  const save = () => {
    mkdirSync(dirname(o.out), { recursive: true });
    writeFileSync(o.out, `${JSON.stringify(results, null, 2)}\n`);
  };
  process.stderr.write(`bench: ${results.machine.nproc} cores, ${results.machine.cpu}, node ${results.machine.node}; files in ${work}\n`);
  for (const scale of o.sizes) {
    const file = join(work, `pool-${scale}.sqlite`);
    const facts = join(work, `facts-${scale}.json`);
    const figures = join(work, `figures-${scale}.json`);
    process.stderr.write(`bench: size ${scale}: generating...\n`);
    const g = run(["generate", file, String(scale), facts], MEASURE_LIMIT_MS);
    if (!g.ok) {
      results.sizes.push({ scale, error: `generating failed: ${g.message}` });
      save();
      continue;
    }
    process.stderr.write(`bench: size ${scale}: measuring...\n`);
    const m = run(["measure", file, facts, figures], MEASURE_LIMIT_MS);
    if (existsSync(figures)) {
      const fig = JSON.parse(readFileSync(figures, "utf8")) as SizeFigures;
      results.sizes.push(m.ok ? fig : { ...fig, error: `measuring stopped: ${m.message}` });
    } else results.sizes.push({ scale, error: `measuring failed: ${m.message}` });
    save();
    if (!o.keep) for (const f of [file, `${file}-wal`, `${file}-shm`, facts, figures]) rmSync(f, { force: true });
  }
  results.finished = new Date().toISOString();
  save();
  process.stdout.write(`${formatTable(results)}\n`);
  process.stderr.write(`bench: figures written to ${o.out}\n`);
  // PostgreSQL beside SQLite (test/bench/pg.ts, printed only), at the smallest size, when a server
  // answers (it says so in one line when none does); its trouble does not fail the SQLite bench.
  const smallest = Math.min(...o.sizes);
  process.stderr.write(`bench: size ${smallest} on SQLite and PostgreSQL...\n`);
  const pgRun = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "test", "bench", "pg.ts"), "--size", String(smallest)], {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "inherit"],
    timeout: MEASURE_LIMIT_MS,
  });
  if (pgRun.status !== 0)
    process.stderr.write(`bench: the PostgreSQL comparison stopped (${pgRun.error ? String(pgRun.error) : `exit code ${pgRun.status}`})\n`);
  if (!o.keep) rmSync(work, { recursive: true, force: true });
  if (results.sizes.some((s) => "error" in s)) process.exitCode = 1;
}

await main();
