// The project's own crash test of a long-lived dispatcher: a child process runs commands from
// stdin through runText on a SQLite file (test/support/dispatcher.ts) and is SIGKILLed at random
// (seeded) moments while commands are in flight, then started again; every command not yet
// answered is sent again with the same request id. Checked at the end: every command answered
// (nothing lost), each request id's effect once (tasks, claims, one ledger entry per crediting
// or charging request, stock, balances), `pool audit` balanced, `PRAGMA integrity_check` ok.
// On the "postgres" test project the process runs on a PostgreSQL database (its address given):
// a kill cuts its connection mid-transaction, and the server rolls that transaction back.
// A CI-sized run by default (about 30 s); DPOOL_CRASH_KILLS=200 for a longer one,
// DPOOL_CRASH_SEED for other moments.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { runText } from "../../commands/dispatch.ts";
import type { SqliteStore } from "../../db/sqlite-store.ts";
import { openApp } from "../../src/app.ts";
import { sqlRows } from "../support/db-dump.ts";
import { mulberry32 } from "../support/random.ts";
import { randomRuns } from "../support/pg.ts";
import { testDatabaseSpot } from "../support/test-app.ts";

// Fewer by default on PostgreSQL (randomRuns), where each restart connects to a database.
const KILLS = Math.max(1, Number(process.env.DPOOL_CRASH_KILLS ?? "") || randomRuns({ sqlite: 12, postgres: 6 }));
const SEED = Number(process.env.DPOOL_CRASH_SEED ?? "20261127") || 20261127;
const MEMBERS = ["bob", "carol", "dave", "erin"];
/** Jobs per batch: each job is a task posted, claimed, reported, verified, and a unit taken. */
const JOBS = 6;
const START = Date.parse("2026-11-27T09:00:00Z");

interface Command {
  readonly id: string;
  readonly user: string;
  readonly text: string;
  readonly at: number;
}
interface Answer {
  readonly id: string;
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
  readonly replayed?: boolean;
  readonly data?: any;
}

/** The dispatcher process, restarted after every kill; unanswered commands are sent again, in order. */
class Dispatcher {
  private child: ChildProcess | undefined;
  private ready = false;
  private stopping = false;
  private readonly pending = new Map<string, { cmd: Command; done: (a: Answer) => void }>();
  private readonly sent = new Set<string>();
  readonly answers = new Map<string, Answer>();
  starts = 0;
  kills = 0;
  retries = 0;
  doubled = 0;
  private onReady: Array<() => void> = [];

  /** `file`: the SQLite file, or a PostgreSQL database's postgres:// address. */
  constructor(private readonly file: string) {}

  start(): void {
    this.ready = false;
    this.starts++;
    const c = spawn(process.execPath, ["--import", "tsx", "test/support/dispatcher.ts", this.file], { cwd: process.cwd(), stdio: ["pipe", "pipe", "inherit"] });
    this.child = c;
    c.stdin.on("error", () => undefined); // writes to a killed process
    createInterface({ input: c.stdout }).on("line", (raw) => {
      if (c !== this.child) return;
      let o: Answer & { ready?: number };
      try {
        o = JSON.parse(raw) as Answer & { ready?: number };
      } catch {
        return; // a line cut by the kill
      }
      if (o.ready !== undefined) {
        this.ready = true;
        // Everything not answered yet goes again, in the order it first came.
        for (const { cmd } of this.pending.values()) this.write(cmd);
        for (const f of this.onReady.splice(0)) f();
        return;
      }
      const p = this.pending.get(o.id);
      if (!p) {
        if (this.answers.has(o.id)) this.doubled++;
        return;
      }
      this.pending.delete(o.id);
      this.answers.set(o.id, o);
      p.done(o);
    });
    c.on("exit", () => {
      if (c !== this.child) return;
      this.ready = false;
      if (!this.stopping) this.start();
    });
  }

  private write(cmd: Command): void {
    if (this.sent.has(cmd.id)) this.retries++;
    this.sent.add(cmd.id);
    this.child!.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  run(cmds: readonly Command[]): Promise<Answer[]> {
    return Promise.all(
      cmds.map(
        (cmd) =>
          new Promise<Answer>((done) => {
            this.pending.set(cmd.id, { cmd, done });
            if (this.ready) this.write(cmd);
          }),
      ),
    );
  }

  inFlight(): number {
    return this.pending.size;
  }

  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((r) => this.onReady.push(r));
  }

  kill(): void {
    if (!this.ready) return;
    this.kills++;
    this.ready = false;
    this.child!.kill("SIGKILL");
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.stdin!.end();
    await exited;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("crash test of a long-lived dispatcher", () => {
  it(
    `GIVEN ${KILLS} SIGKILLs at random moments in flight THEN nothing lost, nothing doubled, audit balanced, integrity ok`,
    { timeout: 90_000 + KILLS * 6_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "dpool-crash-"));
      const file = join(dir, "dpool.sqlite");
      const spot = await testDatabaseSpot(file);
      const random = mulberry32(SEED);
      const d = new Dispatcher(spot.url ?? file);
      const started = Date.now();
      let seq = 0;
      // Simulated time, 2 s a command: weights stay put and no member nears the flood limit.
      const cmd = (user: string, text: string, kind: string): Command => ({ id: `crash:${kind}:${++seq}`, user, text, at: START + seq * 2_000 });
      try {
        d.start();
        await d.whenReady();
        let killing = true;
        // The killer: a random moment (0-800 ms) after each start, but only with commands in flight.
        const killer = (async () => {
          while (d.kills < KILLS) {
            await d.whenReady();
            await sleep(Math.floor(random() * 800));
            if (d.inFlight() > 0) d.kill();
          }
          killing = false;
        })();

        const setup = [
          cmd("admin", "pool create Crash test", "setup"),
          cmd("alice", "project create bakery The Bakery", "setup"),
          cmd("alice", "good add bakery bread effort:1", "setup"),
          ...MEMBERS.map((m) => cmd(m, "me balance", "setup")),
        ];
        for (const c of setup) expect((await d.run([c]))[0]).toMatchObject({ ok: true });

        const credited = new Map<string, number>(MEMBERS.map((m) => [m, 0]));
        const charged = new Map<string, number>(MEMBERS.map((m) => [m, 0]));
        const expectEntries = new Set<string>();
        let jobs = 0;
        let produced = 0;
        let taken = 0;
        const refused: Answer[] = [];
        const okAll = (as: Answer[]) => {
          refused.push(...as.filter((a) => !a.ok));
          return as;
        };
        while (killing) {
          const batch = Array.from({ length: JOBS }, (_, i) => ({ n: jobs + i + 1, member: MEMBERS[Math.floor(random() * MEMBERS.length)]! }));
          jobs += JOBS;
          const posts = okAll(
            await d.run([
              cmd("alice", `good produce bread ${JOBS}`, "produce"),
              ...batch.map((j) => cmd("alice", `task post bakery "Job ${j.n}" hours:1 kind:baking`, "post")),
            ]),
          );
          produced += JOBS;
          const ids = posts.slice(1).map((a) => a.data.task.id as number);
          okAll(await d.run(batch.map((j, i) => cmd(j.member, `task claim ${ids[i]}`, "claim"))));
          okAll(await d.run(batch.map((j, i) => cmd(j.member, `task done ${ids[i]}`, "done"))));
          const last = batch.flatMap((j, i) => [cmd("alice", `task verify ${ids[i]} @${j.member}`, "verify"), cmd(j.member, "good request bread", "request")]);
          const answers = okAll(await d.run(last));
          for (const [k, a] of answers.entries()) {
            if (!a.ok) continue;
            const j = batch[Math.floor(k / 2)]!;
            expectEntries.add(a.id);
            if (k % 2 === 0) credited.set(j.member, credited.get(j.member)! + a.data.credited);
            else {
              expect(a.data.request).toMatchObject({ status: "allocated", qty: 1 });
              charged.set(j.member, charged.get(j.member)! + a.data.request.cost);
              taken++;
            }
          }
        }
        await killer;
        await d.stop();
        const commands = seq;
        const replayed = [...d.answers.values()].filter((a) => a.replayed).length;
        console.log(
          `dispatcher crash test: ${d.kills} kills in flight, ${commands} commands (${jobs} tasks), ${d.retries} retries with the same request id (${replayed} answered from the stored reply), 0 lost, ${d.doubled} doubled, ${((Date.now() - started) / 1000).toFixed(1)} s, seed ${SEED}`,
        );

        // Nothing lost: every command was answered, and none refused.
        expect(refused).toEqual([]);
        expect(d.answers.size).toBe(commands);
        expect(d.doubled).toBe(0);

        const app = openApp({ dbFile: file, store: await spot.open() });
        try {
          const one = async <T>(sql: string) => (await sqlRows<T>(app.store, sql))[0]!;
          if (spot.url === undefined) expect((app.store as SqliteStore).db.$client.pragma("integrity_check", { simple: true })).toBe("ok");
          // Each request id's effect once.
          expect((await one<{ n: number }>("SELECT count(*) AS n FROM tasks")).n).toBe(jobs);
          expect(
            await sqlRows(
              app.store,
              "SELECT task_id, count(*) AS n, sum(CASE WHEN status = 'verified' THEN 1 ELSE 0 END) AS v FROM claims GROUP BY task_id HAVING count(*) <> 1 OR sum(CASE WHEN status = 'verified' THEN 1 ELSE 0 END) <> 1",
            ),
          ).toEqual([]);
          const perRequest = await sqlRows<{ id: string; n: number }>(app.store, "SELECT request_id AS id, count(*) AS n FROM entries GROUP BY request_id");
          expect(perRequest.filter((r) => r.n !== 1)).toEqual([]);
          expect(new Set(perRequest.map((r) => r.id))).toEqual(expectEntries);
          expect((await one<{ n: number }>("SELECT count(*) AS n FROM requests WHERE request_id LIKE 'crash:%'")).n).toBe(commands - MEMBERS.length);
          const say = (user: string, text: string) =>
            runText(
              app.engine,
              {
                caller: { platform: "console", userId: user, displayName: user, roomId: "lobby" },
                requestId: `check:${++seq}`,
                now: new Date(START + ++seq * 2_000),
              },
              text,
            );
          const audit = await say("admin", "pool audit");
          expect(audit).toMatchObject({ ok: true, data: { balanced: true, sum: 0, mismatched: [] } });
          for (const m of MEMBERS) {
            const b = await say(m, "me balance");
            expect(b.ok && (b.data as { balance: number }).balance, m).toBe(credited.get(m)! - charged.get(m)!);
          }
          const bread = await say("alice", "good show bread");
          expect(bread.ok && (bread.data as { good: { stock: number } }).good.stock).toBe(produced - taken);
        } finally {
          await app.close();
        }
      } finally {
        await d.stop();
        await spot.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
