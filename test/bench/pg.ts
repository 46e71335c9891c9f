// The bench's pool on SQLite and on PostgreSQL, side by side (not part of `npm test`):
//   node --import tsx test/bench/pg.ts [--size 0.01] [--commands 300]
// Generates the bench's pool (test/bench/size.ts generate) into a SQLite file, copies it into a
// new PostgreSQL database with `dpool migrate-to-postgres`'s code (both audits printed), then
// measures on each store the cheapest write (one row in a transaction of its own) and read (an
// account by its key), and the same 70/30 mix of reads and writes through the dispatcher (the
// same commands, from the same seed, each store from the same starting rows). Wall and CPU
// time per operation; CPU is this process's only (PostgreSQL's server works in its own).
// The server: DPOOL_BENCH_PG_URL, else the tests' DPOOL_TEST_PG_URL (default the local one);
// a database of its own is created and dropped.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { runText } from "../../commands/dispatch.ts";
import { cheapestRead, cheapestWrite, type Fixture } from "../../db/bench-fixture.ts";
import { migrateToPostgres } from "../../db/migrate-to-pg.ts";
import { PgStore } from "../../db/pg-store.ts";
import { SqliteStore } from "../../db/sqlite-store.ts";
import { openApp } from "../../src/app.ts";
import { memoryLogger } from "../../src/log.ts";
import type { Store } from "../../src/store.ts";
import { freshPgDatabase, pgUnavailable } from "../support/pg.ts";
import { seeded, series, timed, type Sample, type Series } from "./stats.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PLATFORM = "matrix";
const DOMAIN = "bench.example";
const LOBBY = `!lobby:${DOMAIN}`;
const HISTORY_ENDS = Date.parse("2026-11-27T09:00:00Z");
const SEED = 20261127;

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!(v > 0)) {
    process.stderr.write(`${name} takes a number above 0, such as ${name} ${fallback}\n`);
    process.exit(2);
  }
  return v;
}

if (process.env.DPOOL_BENCH_PG_URL) process.env.DPOOL_TEST_PG_URL = process.env.DPOOL_BENCH_PG_URL;
const why = await pgUnavailable();
if (why) {
  process.stdout.write(`${why.replace("PostgreSQL tests skipped", "PostgreSQL bench skipped")}\n`);
  process.exit(0);
}
const scale = option("--size", 0.01);
const total = option("--commands", 300);

interface Figures {
  write: Series;
  read: Series;
  commands: Record<string, Series>;
  reads: Series;
  writes: Series;
  refused: number;
}

/** The same mix as the bench's (test/bench/size.ts): 70% reads, 30% writes, shuffled from a seed. */
async function mix(store: Store, facts: Fixture): Promise<Pick<Figures, "commands" | "reads" | "writes" | "refused">> {
  const app = openApp({ dbFile: ":memory:", store, logger: memoryLogger("fatal").logger });
  const rand = seeded(SEED + 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  let clock = HISTORY_ENDS;
  let n = 0;
  const say = (user: string, text: string) => {
    clock += 2000;
    const id = `${PLATFORM}:$pgbench${++n}`;
    return runText(
      app.engine,
      {
        caller: { platform: PLATFORM, userId: user, displayName: user.slice(1).split(":")[0]!, roomId: LOBBY },
        requestId: id,
        now: new Date(clock),
        replyTo: { room: LOBBY, event: `$pgbench${n}` },
      },
      text,
    );
  };
  const reads4 = ["me balance", "task list <project>", "task show", "good show"];
  const writes4 = ["task claim", "task done", "task verify", "good request"];
  const plan = Array.from({ length: total }, (_, i) => (i % 10 < 7 ? reads4[i % 4]! : writes4[i % 4]!));
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  const coordinators = new Set(facts.projects.flatMap((p) => p.coordinators));
  const workers = facts.memberUsers.filter((m) => !coordinators.has(m));
  const openTasks = [...facts.openTasks];
  const claimed = facts.activeClaims.map((c) => ({ ...c }));
  const reported = facts.reportedClaims.map((c) => ({ ...c }));
  const goods = [...facts.goodsInStock, ...facts.goodsWaiting];
  const solvent = facts.solventUsers.length > 0 ? facts.solventUsers : workers;
  const samples = new Map<string, Sample[]>();
  let refused = 0;
  for (const step of plan) {
    let user: string;
    let text: string;
    let after: ((ok: boolean) => void) | undefined;
    switch (step) {
      case "me balance":
        [user, text] = [pick(facts.memberUsers), "me balance"];
        break;
      case "task list <project>":
        [user, text] = [pick(facts.memberUsers), `task list ${pick(facts.projects).slug}`];
        break;
      case "task show":
        [user, text] = [pick(facts.memberUsers), `task show ${pick(facts.openTasks)}`];
        break;
      case "good show":
        [user, text] = [pick(facts.memberUsers), `good show ${pick(goods)}`];
        break;
      case "task claim": {
        const task = openTasks.splice(Math.floor(rand() * openTasks.length), 1)[0];
        if (task === undefined) continue;
        const worker = pick(workers);
        [user, text] = [worker, `task claim ${task}`];
        after = (ok) => void (ok && claimed.push({ task, user: worker }));
        break;
      }
      case "task done": {
        const c = claimed.shift();
        if (!c) continue;
        [user, text] = [c.user, `task done ${c.task}`];
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
    const t = await timed(() => say(user, text));
    if (!t.value.ok) refused++;
    after?.(t.value.ok);
    samples.set(step, [...(samples.get(step) ?? []), t]);
  }
  const commands = Object.fromEntries([...samples].map(([k, v]) => [k, series(v)]));
  const of = (names: string[]) => [...samples].filter(([k]) => names.includes(k)).flatMap(([, v]) => v);
  return { commands, reads: series(of(reads4)), writes: series(of(writes4)), refused };
}

async function onSqlite(file: string, facts: Fixture): Promise<Figures> {
  const store = new SqliteStore(file);
  try {
    const db = store.db.$client;
    const write = cheapestWrite(db);
    const writes: Sample[] = [];
    for (let i = 0; i < 300; i++) writes.push(await timed(() => write()));
    const read = cheapestRead(db);
    const reads: Sample[] = [];
    for (let i = 0; i < 300; i++) reads.push(await timed(() => read(1 + (i % facts.memberUsers.length))));
    return { write: series(writes), read: series(reads), ...(await mix(store, facts)) };
  } finally {
    await store.close();
  }
}

async function onPostgres(url: string, facts: Fixture): Promise<Figures> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const writes: Sample[] = [];
  const reads: Sample[] = [];
  try {
    await client.query("CREATE TABLE bench_probe (id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, v integer NOT NULL)");
    for (let i = 0; i < 300; i++) {
      writes.push(
        await timed(async () => {
          await client.query("BEGIN");
          await client.query({ name: "probe", text: "INSERT INTO bench_probe (v) VALUES ($1)", values: [i] });
          await client.query("COMMIT");
        }),
      );
    }
    for (let i = 0; i < 300; i++)
      reads.push(
        await timed(() => client.query({ name: "account", text: "SELECT * FROM accounts WHERE id = $1", values: [1 + (i % facts.memberUsers.length)] })),
      );
  } finally {
    await client.end();
  }
  const store = await PgStore.open(url);
  try {
    return { write: series(writes), read: series(reads), ...(await mix(store, facts)) };
  } finally {
    await store.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), "dpool-bench-pg-"));
const database = await freshPgDatabase();
try {
  const file = join(dir, "pool.sqlite");
  const factsFile = join(dir, "facts.json");
  const made = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "test", "bench", "size.ts"), "generate", file, String(scale), factsFile], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (made.status !== 0) throw new Error(`generating the pool failed (exit ${made.status})`);
  const facts = JSON.parse(readFileSync(factsFile, "utf8")) as Fixture;
  const copied = await timed(() => migrateToPostgres(file, database.url));
  const rows = Object.values(copied.value.tables).reduce((a, b) => a + b, 0);
  process.stdout.write(
    `size ${scale}: ${rows} rows copied to PostgreSQL in ${(copied.wallMs / 1000).toFixed(1)} s; audit SQLite ${JSON.stringify(copied.value.source)}, PostgreSQL ${JSON.stringify(copied.value.target)}\n\n`,
  );
  const sqlite = await onSqlite(file, facts);
  const postgres = await onPostgres(database.url, facts);
  const cell = (s: Series | undefined) => (s ? `${s.meanMs.toFixed(3)} / ${s.p99Ms.toFixed(2)} / ${s.cpuMs.toFixed(3)}` : "-");
  const lines = [
    "| ms per operation: mean / p99 / CPU | SQLite | PostgreSQL |",
    "|---|---|---|",
    `| cheapest write (one row, own transaction) | ${cell(sqlite.write)} | ${cell(postgres.write)} |`,
    `| cheapest read (an account by key) | ${cell(sqlite.read)} | ${cell(postgres.read)} |`,
    `| mix: reads (70%) | ${cell(sqlite.reads)} | ${cell(postgres.reads)} |`,
    `| mix: writes (30%) | ${cell(sqlite.writes)} | ${cell(postgres.writes)} |`,
    ...Object.keys(sqlite.commands)
      .sort()
      .map((k) => `| ${k} | ${cell(sqlite.commands[k])} | ${cell(postgres.commands[k])} |`),
    `| refused in the mix | ${sqlite.refused} | ${postgres.refused} |`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
}
