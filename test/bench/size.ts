// One size of the bench, in processes of its own (test/bench/run.ts starts them):
//   generate FILE SCALE FACTS   builds the pool on FILE and writes what the bench needs to FACTS
//   copy FILE URL OUT           copies the pool of FILE into the empty PostgreSQL database at URL
//                               (`dpool migrate-to-postgres`'s code), timed, and writes that to OUT
//   measure FILE FACTS OUT [--postgres URL]
//                               measures commands on FILE (or, with --postgres, on its copy at URL
//                               through the PostgreSQL store) and writes the figures to OUT, step
//                               by step (a step that never ends leaves the earlier ones written)
// Every command goes through the dispatcher as a chat adapter calls it: runText with the
// platform's request id and a replyTo, so each answer is stored as on Matrix; every other
// `me balance` of the mix is answered as on Discord instead, where a read's answer is not stored.
import { spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { ensureBuilt } from "../../bin/build.js";
import { runText, type Reply } from "../../commands/dispatch.ts";
import { databaseBytes, fixtureShape, generatePool, pgBenchDb, sqliteBenchDb, type BenchDb, type Fixture } from "../../db/bench-fixture.ts";
import { migrateToPostgres } from "../../db/migrate-to-pg.ts";
import { PgStore } from "../../db/pg-store.ts";
import type { SqliteStore } from "../../db/sqlite-store.ts";
import { openApp, type App } from "../../src/app.ts";
import { memoryLogger } from "../../src/log.ts";
import { benchRound } from "./round.ts";
import { seeded, series, timed, type Sample, type Series } from "./stats.ts";
import type { SizeFigures } from "./table.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const PLATFORM = "matrix";
export const DOMAIN = "bench.example";
const LOBBY = `!lobby:${DOMAIN}`;
const ADMIN = `@admin:${DOMAIN}`;
/** The history ends here; the measured commands follow, a few seconds apart. */
export const HISTORY_ENDS = Date.parse("2026-11-27T09:00:00Z");
const SEED = 20261127;
/** `me balance` answered as on Discord (its answer not stored); "me balance" is as on Matrix. */
export const ME_DISCORD = "me balance (Discord)";

type Facts = Fixture & {
  readonly poolId: number;
  readonly scale: number;
  readonly generateMs: number;
  readonly generateCpuMs: number;
  readonly fileBytes: number;
  readonly entries: number;
};

function open(file: string): App {
  // Quiet: only errors are kept (a bug shows as a refusal with code "internal" anyway).
  return openApp({ dbFile: file, logger: memoryLogger("fatal").logger });
}

/** The app on the pool's copy in PostgreSQL, as a bot with DPOOL_DATABASE_URL opens it (connected, migrations checked). */
async function openOnPostgres(url: string): Promise<App> {
  return openApp({ dbFile: ":memory:", store: await PgStore.open(url), logger: memoryLogger("fatal").logger });
}

function client(app: App) {
  return (app.store as SqliteStore).db.$client;
}

/** A chat platform's caller: the command comes from `user` in `room`, its answer is stored as a reply. */
function sayer(app: App, startAt: number, prefix: string) {
  let clock = startAt;
  let n = 0;
  return {
    get now() {
      return clock;
    },
    /** `once`: as on Discord, whose interaction takes one answer: a read's answer is not stored. */
    say(user: string, text: string, room = LOBBY, stepMs = 2000, once = false): Promise<Reply> {
      const id = `${PLATFORM}:$${prefix}${++n}`;
      clock += stepMs;
      return runText(
        app.engine,
        {
          caller: { platform: PLATFORM, userId: user, displayName: user.slice(1).split(":")[0]!, roomId: room },
          requestId: id,
          now: new Date(clock),
          replyTo: { room, event: `$${prefix}${n}` },
          ...(once ? { platformAnswersOnce: true } : {}),
        },
        text,
      );
    },
  };
}

async function generate(file: string, scale: number, factsFile: string): Promise<void> {
  const shape = fixtureShape(scale);
  const app = open(file);
  const start = HISTORY_ENDS - shape.days * 86_400_000;
  const s = sayer(app, start, "setup");
  const created = await s.say(ADMIN, "pool create Bench");
  if (!created.ok) throw new Error(`pool create: ${created.message}`);
  const sqlite = client(app);
  const { id: poolId } = sqlite.prepare("SELECT id FROM pools WHERE name = 'Bench'").get() as { id: number };
  const { member_id: adminId } = sqlite.prepare("SELECT member_id FROM identities WHERE platform = ? AND external_id = ?").get(PLATFORM, ADMIN) as {
    member_id: number;
  };
  const made = await timed(() =>
    generatePool(sqlite, {
      poolId,
      adminId,
      platform: PLATFORM,
      domain: DOMAIN,
      now: HISTORY_ENDS,
      seed: SEED,
      shape,
      console: { user: "admin", room: "lobby" },
    }),
  );
  const fileBytes = databaseBytes(sqlite);
  await app.close();
  const facts: Facts = { ...made.value, poolId, scale, generateMs: made.wallMs, generateCpuMs: made.cpuMs, fileBytes, entries: made.value.rows.entries ?? 0 };
  writeFileSync(factsFile, JSON.stringify(facts));
}

/** The copy into PostgreSQL, as `dpool migrate-to-postgres` makes it, timed in a process of its own. */
async function copy(file: string, url: string, out: string): Promise<void> {
  const t = await timed(() => migrateToPostgres(file, url));
  const rows = Object.values(t.value.tables).reduce((a, b) => a + b, 0);
  const balanced = t.value.target.every((a) => a.balanced);
  writeFileSync(out, JSON.stringify({ wallMs: t.wallMs, cpuMs: t.cpuMs, rows, balanced } satisfies NonNullable<SizeFigures["copy"]>));
}

type Figures = SizeFigures;

async function measure(file: string, factsFile: string, out: string, pgUrl: string | undefined): Promise<void> {
  const facts = JSON.parse(readFileSync(factsFile, "utf8")) as Facts;
  const fig: Figures = {
    ...(pgUrl ? { store: "postgres" as const } : {}),
    scale: facts.scale,
    shape: facts.shape,
    rows: facts.rows,
    generate: { wallMs: facts.generateMs, cpuMs: facts.generateCpuMs },
    fileBytes: facts.fileBytes,
    bytesPerEntry: facts.fileBytes / Math.max(1, facts.entries),
  };
  const save = (step?: string) => {
    fig.peakRssMB = process.resourceUsage().maxRSS / 1024;
    // The peak so far after each step: which step reached it.
    if (step) fig.peakRssMBAfter = { ...fig.peakRssMBAfter, [step]: Math.round(fig.peakRssMB) };
    writeFileSync(out, JSON.stringify(fig, null, 2));
  };
  // A restart on the generated file (migrations checked, statistics brought up to date), or a
  // start on its copy in PostgreSQL (connected, migrations checked).
  const opened = await timed(() => (pgUrl ? openOnPostgres(pgUrl) : open(file)));
  const app = opened.value;
  fig.openMs = opened.wallMs;
  // The bench's own statements: on SQLite the store's connection, on PostgreSQL one beside its pool.
  const db: BenchDb = pgUrl ? await pgBenchDb(pgUrl) : sqliteBenchDb(client(app));
  if (pgUrl) {
    fig.fileBytes = await db.bytes();
    fig.bytesPerEntry = fig.fileBytes / Math.max(1, facts.entries);
  }
  const rand = seeded(SEED + 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const s = sayer(app, HISTORY_ENDS, "bench");

  // ---- The cheapest write and read on the same database and connection settings.
  const write = await db.cheapestWrite();
  const writes: Sample[] = [];
  for (let i = 0; i < 300; i++) writes.push(await timed(() => write()));
  const read = db.cheapestRead();
  const maxAccount = await db.maxAccountId();
  const reads: Sample[] = [];
  if (db.kind === "sqlite") {
    // Each sample is 100 reads (one is below the timer's resolution), counted as 100.
    for (let i = 0; i < 200; i++) {
      const t = await timed(() => {
        for (let k = 0; k < 100; k++) read(1 + Math.floor(rand() * maxAccount));
      });
      for (let k = 0; k < 100; k++) reads.push({ wallMs: t.wallMs / 100, cpuMs: t.cpuMs / 100 });
    }
  } else {
    // A round trip to the server each, well above the timer's resolution.
    for (let i = 0; i < 2000; i++) reads.push(await timed(() => read(1 + Math.floor(rand() * maxAccount))));
  }
  fig.cheapest = { write: series(writes), read: series(reads) };
  save("open and cheapest");

  // ---- The 70/30 mix through the dispatcher.
  const members = facts.memberUsers;
  const coordinators = new Set(facts.projects.flatMap((p) => p.coordinators));
  const workers = members.filter((m) => !coordinators.has(m));
  const openTasks = [...facts.openTasks];
  const claimed = facts.activeClaims.map((c) => ({ ...c }));
  const reported = facts.reportedClaims.map((c) => ({ ...c }));
  const total = Math.max(100, Math.min(1000, Math.round(2000 * Math.sqrt(facts.scale))));
  const plan: Array<{ name: string; write: boolean }> = [];
  const reads4 = ["me balance", "task list <project>", "task show", "good show"];
  let meBalances = 0;
  const writes4 = ["task claim", "task done", "task verify", "good request"];
  for (let i = 0; i < total; i++) plan.push(i % 10 < 7 ? { name: reads4[i % 4]!, write: false } : { name: writes4[i % 4]!, write: true });
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  const samples = new Map<string, Sample[]>();
  const refused: string[] = [];
  const goods = [...facts.goodsInStock, ...facts.goodsWaiting];
  const solvent = facts.solventUsers.length > 0 ? facts.solventUsers : workers;
  // Claims made in the mix, reported in the mix, verified in the mix: the coordinator of each task's project.
  const coordinatorOf = async (task: number) => {
    const slug = await db.taskProject(task);
    return facts.projects.find((p) => p.slug === slug)!.coordinators[0]!;
  };
  for (const step of plan) {
    let user: string;
    let text: string;
    let after: ((r: Reply) => unknown) | undefined;
    let [label, once] = [step.name, false];
    switch (step.name) {
      case "me balance":
        [user, text] = [pick(members), "me balance"];
        // Every other one answered as on Discord (not stored), the rest as on Matrix (stored).
        if (++meBalances % 2 === 0) [label, once] = [ME_DISCORD, true];
        break;
      case "task list <project>":
        [user, text] = [pick(members), `task list ${pick(facts.projects).slug}`];
        break;
      case "task show":
        [user, text] = [pick(members), `task show ${pick(facts.openTasks)}`];
        break;
      case "good show":
        [user, text] = [pick(members), `good show ${pick(goods)}`];
        break;
      case "task claim": {
        const task = openTasks.splice(Math.floor(rand() * openTasks.length), 1)[0];
        if (task === undefined) continue;
        const worker = pick(workers);
        [user, text] = [worker, `task claim ${task}`];
        after = (r) => r.ok && claimed.push({ task, user: worker });
        break;
      }
      case "task done": {
        const c = claimed.shift();
        if (!c) continue;
        [user, text] = [c.user, `task done ${c.task}`];
        after = async (r) => r.ok && reported.push({ task: c.task, handle: c.user.slice(1).split(":")[0]!, coordinator: await coordinatorOf(c.task) });
        break;
      }
      case "task verify": {
        const c = reported.shift();
        if (!c) continue;
        [user, text] = [c.coordinator, `task verify ${c.task} @${c.handle}`];
        break;
      }
      default:
        [user, text] = [pick(solvent), `good request ${pick(facts.goodsInStock.length > 0 ? facts.goodsInStock : goods)}`];
    }
    const t = await timed(() => s.say(user, text, LOBBY, 2000, once));
    if (!t.value.ok) refused.push(`${text} (${user}): ${t.value.message}`);
    await after?.(t.value);
    const list = samples.get(label) ?? [];
    list.push(t);
    samples.set(label, list);
  }
  const commands: Record<string, Series> = {};
  for (const [name, list] of samples) commands[name] = series(list);
  const readSamples = [...samples].filter(([n]) => reads4.includes(n) || n === ME_DISCORD).flatMap(([, l]) => l);
  const writeSamples = [...samples].filter(([n]) => writes4.includes(n)).flatMap(([, l]) => l);
  fig.mix = { commands, reads: series(readSamples), writes: series(writeSamples), all: series([...readSamples, ...writeSamples]), refused };
  const w = fig.mix.writes;
  const me = commands["me balance"]!;
  fig.ratios = {
    writesVsCheapestWrite: fig.cheapest.write.meanMs / w.meanMs,
    meBalanceVsCheapestRead: fig.cheapest.read.meanMs / me.meanMs,
    writesCpuVsCheapestWrite: fig.cheapest.write.cpuMs / w.cpuMs,
    meBalanceCpuVsCheapestRead: fig.cheapest.read.cpuMs / me.cpuMs,
    ...(commands[ME_DISCORD]
      ? {
          meBalanceDiscordVsCheapestRead: fig.cheapest.read.meanMs / commands[ME_DISCORD].meanMs,
          meBalanceDiscordCpuVsCheapestRead: fig.cheapest.read.cpuMs / commands[ME_DISCORD].cpuMs,
        }
      : {}),
  };
  save("mix");

  // ---- Single commands over the whole pool: run up to 5 times (once when it takes seconds).
  fig.single = {};
  const largest = [...facts.projects].sort((a, b) => b.openTasks - a.openTasks)[0]!;
  const singles: Array<[string, string, string]> = [
    [`pool summary (largest project)`, ADMIN, `pool summary ${largest.slug}`],
    ["pool summary (whole pool)", ADMIN, "pool summary"],
    ["task list (all open tasks)", ADMIN, "task list"],
    ["kind list", ADMIN, "kind list"],
    ["pool audit", ADMIN, "pool audit"],
  ];
  for (const [label, user, text] of singles) {
    const runs: Sample[] = [];
    let last: Reply | undefined;
    for (let i = 0; i < 5; i++) {
      const t = await timed(() => s.say(user, text, LOBBY, 5000));
      runs.push(t);
      last = t.value;
      if (!last.ok || t.wallMs > 2000) break;
    }
    const sorted = [...runs].sort((a, b) => a.wallMs - b.wallMs);
    const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
    fig.single[label] = { wallMs: mid.wallMs, cpuMs: mid.cpuMs, runs: runs.length, ok: last!.ok, ...(last!.ok ? {} : { message: last!.message }) };
    if (text === "pool audit" && last?.ok) {
      const report = last.data as { balanced: boolean; entries: number; accounts: number };
      fig.audit = { balanced: report.balanced, entries: report.entries, accounts: report.accounts };
    }
    save(label);
  }

  // ---- `dpool exec` from start to answer, on this file (or, with DPOOL_DATABASE_URL, on its
  // copy in PostgreSQL), as users run it (dist/ built before each run, untimed: other work may
  // change the sources in between), beside a bare node that opens the file (or connects) and
  // reads one row.
  {
    const env = pgUrl ? { ...process.env, DPOOL_DATABASE_URL: pgUrl } : process.env;
    const runs: number[] = [];
    let ok = true;
    let message: string | undefined;
    for (let i = 0; i < 6; i++) {
      ensureBuilt(() => undefined);
      const t0 = performance.now();
      const r = spawnSync(
        process.execPath,
        [join(ROOT, "bin", "dpool.js"), "exec", ...(pgUrl ? [] : ["--db", file]), "--as", "admin", "--room", "lobby", "--json", "--", "me balance"],
        { cwd: ROOT, encoding: "utf8", timeout: 120_000, env },
      );
      const ms = performance.now() - t0;
      if (r.status !== 0) {
        ok = false;
        message = (r.stdout || r.stderr || String(r.error)).trim().split("\n")[0];
        break;
      }
      if (i > 0) runs.push(ms);
    }
    const bare: number[] = [];
    const script = pgUrl
      ? "const pg = require('pg'); const c = new pg.Client(process.argv[1]); c.connect().then(() => c.query('SELECT balance FROM accounts WHERE id = 2')).then(() => c.end());"
      : "const D = require('better-sqlite3'); const db = new D(process.argv[1]); db.prepare('SELECT balance FROM accounts WHERE id = 2').get(); db.close();";
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      spawnSync(process.execPath, ["-e", script, pgUrl ?? file], { cwd: ROOT, timeout: 60_000 });
      bare.push(performance.now() - t0);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? 0;
    fig.exec = { runs, medianMs: median(runs), bareNodeMs: median(bare), ok, ...(message ? { message } : {}) };
    save("dpool exec");
  }

  // ---- A round of 100,000 requests (at full size) closed by its coordinator (test/bench/round.ts).
  fig.round = await benchRound(db, facts, {
    say: (user, text) => s.say(user, text),
    now: () => s.now,
    platform: PLATFORM,
    domain: DOMAIN,
    seed: SEED + 2,
    name: "roundcake",
  });
  save("round");
  if (pgUrl) fig.fileBytesAfter = await db.bytes();
  await db.close();
  await app.close();
  if (!pgUrl) fig.fileBytesAfter = statSync(file).size;
  save();
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "generate") await generate(args[0]!, Number(args[1]), args[2]!);
else if (mode === "copy") await copy(args[0]!, args[1]!, args[2]!);
else if (mode === "measure" && (args.length === 3 || (args.length === 5 && args[3] === "--postgres"))) await measure(args[0]!, args[1]!, args[2]!, args[4]);
else {
  process.stderr.write("usage: size.ts generate FILE SCALE FACTS | copy FILE URL OUT | measure FILE FACTS OUT [--postgres URL]\n");
  process.exit(2);
}
