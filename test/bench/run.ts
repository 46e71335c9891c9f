// `npm run bench`: a pool with years of history (50 projects, 10,000 members, 100,000 tasks of which
// 10,000 open, 1,000,000 ledger entries, 2,000 goods) generated from a seed with bulk inserts, at
// each size asked for (`--size 0.01,0.1,1`, the default; 1 is the full pool), then measured
// through the dispatcher as a chat adapter calls it. Each size is generated and measured in
// processes of their own (test/bench/size.ts), so peak memory is the measuring process's own.
// When a PostgreSQL server answers (DPOOL_BENCH_PG_URL, else the tests' DPOOL_TEST_PG_URL, else
// the local one), each size's generated pool is also copied into a new database of that server
// (`dpool migrate-to-postgres`'s code, timed) and the same figures are measured again through the
// PostgreSQL store; the database is dropped afterwards. Without a server it says so in one line.
// Prints the tables (Markdown) and writes the figures to bench/results.json (`--out FILE`).
//   npm run bench -- --size 0.01 --out /tmp/results.json [--keep]
//   npm run bench -- --print bench/results.json     (the table of an earlier run)
// Not part of `npm test`: no test times anything (test/e2e/bench-smoke.test.ts runs a tiny size).
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, release, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
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

/**
 * The PostgreSQL server to measure on, or why there is none (one line). DPOOL_BENCH_PG_URL wins
 * over the tests' DPOOL_TEST_PG_URL; test/support/pg.ts reads the latter when it is first loaded,
 * hence the import here, after it is set.
 */
async function postgresServer(): Promise<{ server: string; fresh: typeof import("../support/pg.ts").freshPgDatabase } | { skipped: string }> {
  if (process.env.DPOOL_BENCH_PG_URL) process.env.DPOOL_TEST_PG_URL = process.env.DPOOL_BENCH_PG_URL;
  const { freshPgDatabase, pgUnavailable, PG_ADMIN_URL } = await import("../support/pg.ts");
  const why = await pgUnavailable();
  if (why) return { skipped: why.replace("PostgreSQL tests skipped: ", "").replace("DPOOL_TEST_PG_URL to run them", "DPOOL_BENCH_PG_URL to measure it") };
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    const version = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
    const at = new URL(PG_ADMIN_URL);
    return { server: `PostgreSQL ${version.split(" ")[0]} at ${at.hostname}:${at.port || 5432}`, fresh: freshPgDatabase };
  } finally {
    await client.end();
  }
}

async function main() {
  const o = options(process.argv.slice(2));
  if (o.print) {
    // The tables of an earlier run, from its results file.
    process.stdout.write(`${formatTable(JSON.parse(readFileSync(o.print, "utf8")) as Results)}\n`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), "dpool-bench-"));
  const started = new Date().toISOString();
  const server = await postgresServer();
  const results: {
    machine: ReturnType<typeof machine>;
    command: string;
    postgres: { server: string } | { skipped: string };
    started: string;
    finished?: string;
    sizes: Array<SizeFigures | { scale: number; error: string }>;
  } = {
    machine: machine(),
    command: `npm run bench -- --size ${o.sizes.join(",")}`,
    postgres: "server" in server ? { server: server.server } : server,
    started,
    sizes: [],
  };
  const save = () => {
    mkdirSync(dirname(o.out), { recursive: true });
    writeFileSync(o.out, `${JSON.stringify(results, null, 2)}\n`);
  };
  process.stderr.write(`bench: ${results.machine.nproc} cores, ${results.machine.cpu}, node ${results.machine.node}; files in ${work}\n`);
  if ("skipped" in server) process.stderr.write(`bench: PostgreSQL not measured, SQLite only: ${server.skipped}\n`);
  else process.stderr.write(`bench: SQLite, then ${server.server}\n`);
  for (const scale of o.sizes) {
    const file = join(work, `pool-${scale}.sqlite`);
    // The generated pool as it was, for PostgreSQL's copy (measuring SQLite changes the file).
    const pristine = join(work, `pool-${scale}-generated.sqlite`);
    const facts = join(work, `facts-${scale}.json`);
    const figures = join(work, `figures-${scale}.json`);
    process.stderr.write(`bench: size ${scale}: generating...\n`);
    const g = run(["generate", file, String(scale), facts], MEASURE_LIMIT_MS);
    if (!g.ok) {
      results.sizes.push({ scale, error: `generating failed: ${g.message}` });
      save();
      continue;
    }
    if ("server" in server) for (const ext of ["", "-wal"]) if (existsSync(file + ext)) copyFileSync(file + ext, pristine + ext);
    process.stderr.write(`bench: size ${scale}: measuring on SQLite...\n`);
    const m = run(["measure", file, facts, figures], MEASURE_LIMIT_MS);
    let sqlite: SizeFigures | { scale: number; error: string };
    if (existsSync(figures)) {
      const fig = JSON.parse(readFileSync(figures, "utf8")) as SizeFigures;
      sqlite = m.ok ? fig : { ...fig, error: `measuring stopped: ${m.message}` };
    } else sqlite = { scale, error: `measuring failed: ${m.message}` };
    results.sizes.push(sqlite);
    save();
    if (!o.keep) for (const f of [file, `${file}-wal`, `${file}-shm`, figures]) rmSync(f, { force: true });
    if ("server" in server) {
      const postgres = await onPostgres(server.fresh, scale, pristine, facts, work);
      results.sizes[results.sizes.length - 1] = { ...sqlite, postgres };
      save();
      if (!o.keep) for (const f of [pristine, `${pristine}-wal`, `${pristine}-shm`]) rmSync(f, { force: true });
    }
    if (!o.keep) rmSync(facts, { force: true });
  }
  results.finished = new Date().toISOString();
  save();
  process.stdout.write(`${formatTable(results)}\n`);
  process.stderr.write(`bench: figures written to ${o.out}\n`);
  if (!o.keep) rmSync(work, { recursive: true, force: true });
  const failed = (s: object | undefined) => s !== undefined && "error" in s && (s as { error?: string }).error !== undefined;
  if (results.sizes.some((s) => failed(s) || ("postgres" in s && failed(s.postgres)))) process.exitCode = 1;
}

/**
 * One size on PostgreSQL: the generated pool copied into a new database (timed, in a process of
 * its own), measured there as on SQLite, and the database dropped whatever happened.
 */
async function onPostgres(
  fresh: typeof import("../support/pg.ts").freshPgDatabase,
  scale: number,
  file: string,
  facts: string,
  work: string,
): Promise<SizeFigures | { scale: number; error: string }> {
  const copied = join(work, `copy-${scale}.json`);
  const figures = join(work, `figures-${scale}-postgres.json`);
  const database = await fresh();
  try {
    process.stderr.write(`bench: size ${scale}: copying into PostgreSQL...\n`);
    const c = run(["copy", file, database.url, copied], MEASURE_LIMIT_MS);
    if (!c.ok || !existsSync(copied)) return { scale, error: `copying into PostgreSQL failed: ${c.message}` };
    const copy = JSON.parse(readFileSync(copied, "utf8")) as NonNullable<SizeFigures["copy"]>;
    process.stderr.write(`bench: size ${scale}: measuring on PostgreSQL...\n`);
    const m = run(["measure", file, facts, figures, "--postgres", database.url], MEASURE_LIMIT_MS);
    if (!existsSync(figures)) return { scale, error: `measuring on PostgreSQL failed: ${m.message}` };
    const fig = { ...(JSON.parse(readFileSync(figures, "utf8")) as SizeFigures), copy };
    return m.ok ? fig : { ...fig, error: `measuring on PostgreSQL stopped: ${m.message}` };
  } finally {
    await database.drop();
    rmSync(copied, { force: true });
    rmSync(figures, { force: true });
  }
}

await main();
