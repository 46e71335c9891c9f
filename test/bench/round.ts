// The bench's round: a good with a round of requests (one per member; bidders are added when the
// pool has fewer members), half as many units produced, and its coordinator closing the round,
// timed. test/bench/size.ts runs it as its last step; on its own, on a pool the bench generated
// (`node --import tsx test/bench/size.ts generate FILE SCALE FACTS`, or a file `--keep` left),
// it runs just the round, on a copy of the file (the file stays as it was), for profiling:
//   node --cpu-prof --import tsx test/bench/round.ts FILE FACTS [--requests N] [--phases]
// --phases adds the CPU time of each store call of the round's transactions, by method.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runText, type Reply } from "../../commands/dispatch.ts";
import { sqliteBenchDb, type BenchDb, type Fixture } from "../../db/bench-fixture.ts";
import type { SqliteStore } from "../../db/sqlite-store.ts";
import { openApp } from "../../src/app.ts";
import type { Store, Tx } from "../../src/store.ts";
import { memoryLogger } from "../../src/log.ts";
import { timed } from "./stats.ts";
import type { SizeFigures } from "./table.ts";

/** Says a command as a user of the bench's platform; advances the bench's clock. */
export type Say = (user: string, text: string) => Promise<Reply>;

export interface RoundFacts {
  readonly poolId: number;
  readonly scale: number;
  readonly projects: Fixture["projects"];
}

/**
 * Adds the good (`name`) and its round of requests (100,000 at full size), produces half as
 * many units, and times `good allocate`: the figures of the table's round line.
 */
export async function benchRound(
  db: BenchDb,
  facts: RoundFacts,
  o: { say: Say; now: () => number; platform: string; domain: string; seed: number; name: string; requests?: number | undefined; beforeClose?: () => void },
): Promise<NonNullable<SizeFigures["round"]>> {
  const project = facts.projects[0]!;
  const coordinator = project.coordinators[0]!;
  const added = await o.say(coordinator, `good add ${project.slug} ${o.name} effort:0.05`);
  if (!added.ok) throw new Error(`good add: ${added.message}`);
  const goodId = await db.goodId(facts.poolId, o.name);
  const requests = o.requests ?? Math.max(50, Math.round(100_000 * facts.scale));
  const bids = await db.addRoundBids({ poolId: facts.poolId, goodId, requests, platform: o.platform, domain: o.domain, now: o.now(), seed: o.seed });
  const units = Math.floor(requests / 2);
  const produced = await o.say(coordinator, `good produce ${o.name} ${units}`);
  if (!produced.ok) throw new Error(`good produce: ${produced.message}`);
  o.beforeClose?.();
  const t = await timed(() => o.say(coordinator, `good allocate ${o.name}`));
  const r = t.value;
  return {
    requests: bids.requests,
    newMembers: bids.members,
    units,
    wallMs: t.wallMs,
    cpuMs: t.cpuMs,
    ok: r.ok,
    ...(r.ok ? { winners: await db.allocations(goodId) } : { message: r.message }),
  };
}

/**
 * Counts the CPU time (this process's, so also SQLite's) of every Tx method the store's
 * transactions call from now on, by name: where the round's time goes without a profiler's
 * wall-clock samples (which count waiting for the disk as well).
 */
function timeStoreCalls(store: Store): Map<string, { calls: number; cpuMs: number }> {
  const by = new Map<string, { calls: number; cpuMs: number }>();
  const transaction = store.transaction.bind(store);
  store.transaction = <T>(fn: (tx: Tx) => Promise<T>) =>
    transaction((tx) =>
      fn(
        new Proxy(tx, {
          get(target, key, receiver) {
            const f = Reflect.get(target, key, receiver) as unknown;
            if (typeof f !== "function" || typeof key !== "string") return f;
            return (...args: unknown[]) => {
              const c0 = process.cpuUsage();
              const done = () => {
                const c = process.cpuUsage(c0);
                const p = by.get(key) ?? { calls: 0, cpuMs: 0 };
                p.calls++;
                p.cpuMs += (c.user + c.system) / 1000;
                by.set(key, p);
              };
              const r = (f as (...a: unknown[]) => unknown).apply(target, args);
              if (r instanceof Promise) return r.finally(done);
              done();
              return r;
            };
          },
        }),
      ),
    );
  return by;
}

async function main(argv: readonly string[]): Promise<void> {
  const [file, factsFile, ...opts] = argv;
  if (!file || !factsFile || !existsSync(file) || !existsSync(factsFile)) {
    process.stderr.write("usage: round.ts FILE FACTS [--requests N] [--phases]   (a pool and facts file of `size.ts generate`)\n");
    process.exit(2);
  }
  const i = opts.indexOf("--requests");
  const requests = i >= 0 ? Number(opts[i + 1]) : undefined;
  if (requests !== undefined && !(Number.isInteger(requests) && requests > 0)) {
    process.stderr.write("--requests needs a whole number above 0, such as --requests 10000\n");
    process.exit(2);
  }
  const facts = JSON.parse(readFileSync(factsFile, "utf8")) as RoundFacts;
  const work = mkdtempSync(join(tmpdir(), "dpool-round-"));
  const copy = join(work, "pool.sqlite");
  copyFileSync(file, copy);
  for (const ext of ["-wal", "-shm"]) if (existsSync(file + ext)) copyFileSync(file + ext, copy + ext);
  try {
    // Errors are kept, to show what went wrong when a command fails.
    const log = memoryLogger("error");
    const app = openApp({ dbFile: copy, logger: log.logger });
    const sqlite = (app.store as SqliteStore).db.$client;
    const phases = opts.includes("--phases") ? timeStoreCalls(app.store) : undefined;
    const domain = "bench.example";
    // After the bench's own commands (a day past the history's end), a few seconds apart.
    let clock = Date.parse("2026-11-28T09:00:00Z");
    let n = 0;
    const run = `${process.pid}-${Date.now().toString(36)}`;
    const say: Say = (user, text) => {
      const id = `matrix:$round-${run}-${++n}`;
      clock += 2000;
      return runText(
        app.engine,
        {
          caller: { platform: "matrix", userId: user, displayName: user.slice(1).split(":")[0]!, roomId: `!lobby:${domain}` },
          requestId: id,
          now: new Date(clock),
          replyTo: { room: `!lobby:${domain}`, event: id },
        },
        text,
      );
    };
    const taken = (sqlite.prepare("SELECT count(*) AS n FROM goods WHERE name LIKE 'roundcake%'").get() as { n: number }).n;
    const rssBefore = process.memoryUsage().rss / 2 ** 20;
    const peakBefore = process.resourceUsage().maxRSS / 1024;
    let beforeClose = { rss: 0, peak: 0, heap: 0 };
    const mark = () => {
      const m = process.memoryUsage();
      beforeClose = { rss: m.rss / 2 ** 20, peak: process.resourceUsage().maxRSS / 1024, heap: m.heapUsed / 2 ** 20 };
    };
    const r = await benchRound(sqliteBenchDb(sqlite), facts, {
      say,
      now: () => clock,
      platform: "matrix",
      domain,
      seed: 20261127 + 2,
      name: taken === 0 ? "roundcake" : `roundcake${taken + 1}`,
      requests,
      beforeClose: mark,
    }).catch((e: unknown) => {
      for (const line of log.lines) process.stderr.write(`${JSON.stringify(line)}\n`);
      throw e;
    });
    const peak = process.resourceUsage().maxRSS / 1024;
    if (phases) {
      const lines = [...phases].sort(([, a], [, b]) => b.cpuMs - a.cpuMs).filter(([, p]) => p.cpuMs >= 1);
      for (const [name, p] of lines) process.stdout.write(`  ${name}: ${p.calls} calls, CPU ${p.cpuMs.toFixed(0)} ms\n`);
    }
    // What the round wrote to the write-ahead log (pages written, some more than once).
    const walMB = existsSync(`${copy}-wal`) ? statSync(`${copy}-wal`).size / 2 ** 20 : 0;
    await app.close();
    process.stdout.write(
      `round of ${r.requests} requests (${r.newMembers} bidders added), ${r.units} units: ${r.ok ? `${r.winners} winners` : `refused: ${r.message}`}, ${r.wallMs.toFixed(0)} ms (CPU ${r.cpuMs.toFixed(0)} ms); RSS before ${rssBefore.toFixed(0)} MB (peak ${peakBefore.toFixed(0)} MB), before the close ${beforeClose.rss.toFixed(0)} MB (peak ${beforeClose.peak.toFixed(0)} MB, heap ${beforeClose.heap.toFixed(0)} MB), peak after ${peak.toFixed(0)} MB; write-ahead log ${walMB.toFixed(0)} MB\n`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
