// The clockwork with an injected clock: no real timers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { runText } from "../../commands/dispatch.ts";
import { table } from "../../commands/table.ts";
import { SqliteStore } from "../../db/sqlite-store.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../src/core/time.ts";
import { memoryLogger } from "../../src/log.ts";
import { JOBS, runDueJobs, type Job, type SlotRun } from "../../src/schedules.ts";
import { seededRandom } from "../support/app.ts";

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fileStore(memory = false): { store: SqliteStore; file: string } {
  const f = memory ? ":memory:" : join(mkdtempSync(join(tmpdir(), "dpool-sched-")), "pool.sqlite");
  if (!memory) dirs.push(join(f, ".."));
  const store = new SqliteStore(f);
  stores.push(store);
  return { store, file: f };
}

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..", "..");

const start = Date.parse("2026-11-02T09:00:00Z");

async function setUp(store: SqliteStore) {
  const engine = { store, table, random: seededRandom(1) };
  let n = 0;
  const say = async (user: string, text: string, at: number) => {
    const r = await runText(
      engine,
      { caller: { platform: "console", userId: user, displayName: user, roomId: "lobby" }, requestId: `t:${++n}`, now: new Date(at) },
      text,
    );
    if (!r.ok) throw new Error(`${text}: ${r.message}`);
    return r.data as any;
  };
  await say("admin", "pool create Clockwork", start);
  await say("admin", "pool policy settlePeriod weekly", start);
  await say("alice", "project create bakery Bakery", start);
  await say("alice", "task post bakery Sweep hours:1", start);
  await say("bob", "task claim 1", start);
  await say("alice", "good add bakery cake effort:2", start);
  await say("carol", "good request cake", start + HOUR_MS);
  await say("alice", "good add bakery soup effort:1 model:flat-rate", start);
  await say("carol", "good subscribe soup", start);
  await say("alice", "good produce soup 4", start);
  return say;
}

describe("the scheduler", () => {
  it("GIVEN a simulated week THEN claims are released, rounds closed and the period settled, each at its time, once", async () => {
    const { store } = fileStore(true);
    const say = await setUp(store);
    const runs: SlotRun[] = [];
    // A tick every 30 minutes; the slots in between are caught up as of their own times.
    for (let t = start; t <= start + 7 * DAY_MS + HOUR_MS; t += 30 * MINUTE_MS) runs.push(...(await runDueJobs(store, t)));
    const did = (job: string) => runs.filter((r) => r.job === job && r.outcome !== "0");
    expect(did("release-claims").map((r) => new Date(r.slot).toISOString())).toEqual(["2026-11-09T09:00:00.000Z"]);
    expect(did("close-rounds").map((r) => new Date(r.slot).toISOString())[0]).toBe("2026-11-03T10:00:00.000Z");
    // The week ended on Monday at 00:00: the job slot then (close-rounds catches up all of the
    // goods, periods included) settled it, once, its entries dated at the period's end.
    const db = store.db.$client;
    expect(db.prepare("SELECT period_end AS periodEnd, at FROM settlements").all()).toEqual([
      { periodEnd: Date.parse("2026-11-09T00:00:00Z"), at: Date.parse("2026-11-09T00:00:00Z") },
    ]);
    expect(db.prepare("SELECT DISTINCT created_at AS at FROM entries WHERE kind = 'flat-rate'").all()).toEqual([{ at: Date.parse("2026-11-09T00:00:00Z") }]);
    expect(runs.every((r) => r.ok)).toBe(true);
    // Every slot of the week ran once: 12 per hour for the two 5-minute jobs, one a day for settling.
    const count = (job: string) => runs.filter((r) => r.job === job).length;
    expect(count("release-claims")).toBe(7 * 24 * 12 + 12 + 1);
    expect(count("settle-periods")).toBe(8);
    // Coordinator summaries on Mondays at 09:00 (the default summarySchedule): the bakery's
    // coordinator gets one as a note each week, and the project's rooms get it too.
    const summaries = store.db.$client.prepare("SELECT created_at FROM member_notes WHERE kind = 'summary' ORDER BY id").all() as Array<{ created_at: number }>;
    expect(summaries.map((s) => new Date(s.created_at).toISOString())).toEqual(["2026-11-02T09:00:00.000Z", "2026-11-09T09:00:00.000Z"]);
    const body = JSON.parse((store.db.$client.prepare("SELECT body FROM member_notes WHERE kind = 'summary' ORDER BY id DESC").get() as { body: string }).body);
    expect(body).toMatchObject({ project: { slug: "bakery" }, from: Date.parse("2026-11-02T09:00:00Z"), to: Date.parse("2026-11-09T09:00:00Z") });
    expect((await say("carol", "me balance", start + 8 * DAY_MS)).balance).toBe(-4);
    expect((await say("admin", "pool audit", start + 8 * DAY_MS)).balanced).toBe(true);
  });

  it("GIVEN the bot down for two days THEN the restart runs each missed slot once, as of its time", async () => {
    const { store } = fileStore(true);
    await setUp(store);
    await runDueJobs(store, start);
    const restart = start + 2 * DAY_MS + 3 * MINUTE_MS;
    const runs = await runDueJobs(store, restart);
    expect(runs.filter((r) => r.job === "release-claims")).toHaveLength(2 * 24 * 12);
    expect(runs.filter((r) => r.job === "settle-periods")).toHaveLength(2);
    const rounds = runs.filter((r) => r.job === "close-rounds" && r.outcome !== "0");
    expect(new Date(rounds[0]!.slot).toISOString()).toBe("2026-11-03T10:00:00.000Z");
    expect(await runDueJobs(store, restart)).toEqual([]);
  });

  it("GIVEN two scheduler processes on one database THEN no slot runs twice and nothing is doubled", async () => {
    const { store: a, file } = fileStore();
    await setUp(a);
    await runDueJobs(a, start);
    await a.close();
    const later = String(start + 8 * DAY_MS);
    const both = await Promise.all(
      [0, 1].map(() => run(join(root, "node_modules", ".bin", "tsx"), [join(root, "test", "support", "run-scheduler.ts"), file, later], { cwd: root })),
    );
    const attempts = both.flatMap((r) => JSON.parse(r.stdout) as SlotRun[]);
    // A process that finds the database busy past its timeout leaves that job's slots to the
    // next tick: an attempt, not a run. Nothing else may fail.
    expect(attempts.filter((r) => !r.ok && !/locked|busy/i.test(r.outcome))).toEqual([]);
    const { store: c } = { store: new SqliteStore(file) };
    stores.push(c);
    const runs = [...attempts.filter((r) => r.ok), ...(await runDueJobs(c, Number(later)))];
    const slots = runs.map((r) => `${r.job}@${r.slot}`);
    expect(
      slots.filter((s, i) => slots.indexOf(s) !== i),
      "slots run twice",
    ).toEqual([]);
    expect(runs.every((r) => r.ok)).toBe(true);
    expect(runs.filter((r) => r.job === "release-claims")).toHaveLength(8 * 24 * 12);
    const db = c.db.$client;
    expect(db.prepare("SELECT kind, count(*) AS n FROM entries GROUP BY kind ORDER BY kind").all()).toEqual([{ kind: "flat-rate", n: 1 }]);
    expect(db.prepare("SELECT count(*) AS n FROM claims WHERE status = 'released'").get()).toEqual({ n: 1 });
    expect(db.prepare("SELECT count(*) AS n FROM job_runs").get()).toEqual({ n: JOBS.length + runs.length });
  });

  it("GIVEN a job that fails THEN it is logged with its stack, the others run, and its slot is tried again", async () => {
    const { store } = fileStore(true);
    let fail = false;
    const flaky: Job = {
      name: "flaky",
      cron: "* * * * *",
      summary: "fails once",
      run: async () => {
        if (fail) throw new Error("boom");
        return "fine";
      },
    };
    const { logger, lines } = memoryLogger();
    const jobs = [flaky, ...JOBS];
    await runDueJobs(store, start, { jobs });
    fail = true;
    const runs = await runDueJobs(store, start + 2 * MINUTE_MS, { jobs, logger });
    expect(runs.filter((r) => r.job === "flaky")).toEqual([{ job: "flaky", slot: start + MINUTE_MS, ok: false, outcome: "boom" }]);
    expect(runs.filter((r) => r.job !== "flaky").every((r) => r.ok)).toBe(true);
    expect(lines.map((l) => [l.level, l.msg, l.job])).toEqual([["error", "job flaky failed for 2026-11-02T09:01:00.000Z", "flaky"]]);
    // The line keeps the error's stack, down to the job's own code in this file.
    const err = lines[0]!.err as { message: string; stack: string };
    expect(err.message).toBe("boom");
    expect(err.stack).toMatch(/^Error: boom\n\s+at .*schedules\.test\.ts:\d+/);
    fail = false;
    const again = await runDueJobs(store, start + 2 * MINUTE_MS, { jobs });
    expect(again.map((r) => [r.job, r.slot - start, r.ok])).toEqual([
      ["flaky", MINUTE_MS, true],
      ["flaky", 2 * MINUTE_MS, true],
    ]);
  });

  describe("in local time across clock changes", () => {
    // Ticks every 5 minutes around each change (each tick costs the scheduler a few ms).
    const ticks = (day: string, before = 2 * DAY_MS, after = 2 * DAY_MS) => {
      const mid = Date.parse(`${day}T00:00:00Z`);
      const out: number[] = [];
      for (let t = mid - before; t <= mid + after; t += 5 * MINUTE_MS) out.push(t);
      return out;
    };

    it.each([
      ["Europe/Berlin", "30 2 * * *", "2026-10-25", "2026-10-25T00:30:00.000Z"],
      ["Europe/Berlin", "30 2 * * *", "2026-03-29", "2026-03-29T01:00:00.000Z"],
      ["America/New_York", "30 1 * * *", "2026-11-01", "2026-11-01T05:30:00.000Z"],
      ["America/New_York", "30 2 * * *", "2026-03-08", "2026-03-08T07:00:00.000Z"],
    ])("GIVEN a job in %s at %j THEN runDueJobs runs it once a day around %s (that day at %s)", async (timeZone, cron, day, expected) => {
      const { store } = fileStore(true);
      const job: Job = { name: "local", cron, timeZone, summary: "local time", run: async () => "ran" };
      const runs: SlotRun[] = [];
      for (const t of ticks(day)) runs.push(...(await runDueJobs(store, t, { jobs: [job] })));
      const slots = runs.map((r) => new Date(r.slot).toISOString());
      // The first tick runs the latest slot before it; then one slot per local day.
      expect(slots).toHaveLength(5);
      expect(new Set(slots).size).toBe(5);
      expect(slots.filter((s) => s.startsWith(day))).toEqual([expected]);
      expect(runs.every((r) => r.ok)).toBe(true);
    });

    it.each([
      ["2026-10-25", "2026-10-25T00:30:00.000Z"],
      ["2026-03-29", "2026-03-29T01:00:00.000Z"],
    ])("GIVEN a pool in Europe/Berlin with its summary at 02:30 THEN the summary is sent once on %s", async (day, expected) => {
      const { store } = fileStore(true);
      const engine = { store, table, random: seededRandom(1) };
      const first = Date.parse(`${day}T00:00:00Z`) - 12 * HOUR_MS;
      let n = 0;
      const say = async (text: string) => {
        const r = await runText(
          engine,
          { caller: { platform: "console", userId: "admin", displayName: "admin", roomId: "lobby" }, requestId: `dst:${++n}`, now: new Date(first) },
          text,
        );
        if (!r.ok) throw new Error(`${text}: ${r.message}`);
      };
      await say("pool create Clockwork");
      await say("pool policy timezone Europe/Berlin");
      await say('pool policy summarySchedule "30 2 * * *"');
      await say("project create bakery Bakery");
      for (const t of ticks(day, 12 * HOUR_MS, 18 * HOUR_MS)) await runDueJobs(store, t);
      const sent = store.db.$client.prepare("SELECT created_at FROM outbox WHERE kind = 'pool-summary' ORDER BY id").all() as Array<{ created_at: number }>;
      expect(sent.map((s) => new Date(s.created_at).toISOString())).toEqual([expected]);
    });
  });
});
