// The pool's clockwork: one table of jobs, each with a cron schedule and a `run(tx, slot)`.
// Every run is keyed by its slot (the moment it was due) and recorded in the same transaction
// as its work, so a slot never runs twice (also not with two processes on one database), and a
// bot that was down runs each missed slot once, as of that slot's time. One job's failure is
// logged and leaves the others alone; the failed slot is tried again at the next tick.
import { lastSlot, parseCron, slotsBetween } from "./core/cron.ts";
import { MINUTE_MS } from "./core/time.ts";
import { closeDueRounds, settlePeriod } from "./services/goods.ts";
import { refreshAllBoards, sendNeglectedNotices } from "./services/rooms.ts";
import { sendSummaries } from "./services/summary.ts";
import { releaseExpiredClaims } from "./services/tasks.ts";
import type { Store, Tx } from "./store.ts";

export interface Job {
  readonly name: string;
  /** Five-field cron expression, read in `timeZone` (UTC unless given). */
  readonly cron: string;
  /** An IANA time zone: a local time then runs once per local occurrence (see core/cron.ts). */
  readonly timeZone?: string;
  readonly summary: string;
  readonly run: (tx: Tx, slot: number) => Promise<unknown>;
  /** A job that shows the present (the boards) runs only the latest of several missed slots. */
  readonly latestOnly?: boolean;
}

export const JOBS: readonly Job[] = [
  {
    name: "release-claims",
    cron: "*/5 * * * *",
    summary: "Release claims not reported within claimDays (or by the due date)",
    run: async (tx, slot) => (await releaseExpiredClaims(tx, slot)).length,
  },
  {
    name: "close-rounds",
    cron: "*/5 * * * *",
    summary: "Close auction rounds roundHours after their first unmet request",
    run: async (tx, slot) => (await closeDueRounds(tx, slot)).length,
  },
  {
    name: "summaries",
    cron: "*/5 * * * *",
    summary: "Send each project's summary (with its chart) to its rooms and coordinators, and the pool's to the lobby, at the pool's summarySchedule",
    run: (tx, slot) => sendSummaries(tx, slot, 5 * MINUTE_MS),
  },
  {
    name: "neglected-work",
    cron: "*/5 * * * *",
    summary: "Tell each room of tasks whose weight reached neglectedWeight, at the pool's noticeSchedule, at most once a day",
    run: (tx, slot) => sendNeglectedNotices(tx, slot, 5 * MINUTE_MS),
  },
  {
    name: "boards",
    cron: "*/5 * * * *",
    summary: "Edit each room's live task board when its tasks or their weights changed (weights rise by the day)",
    run: (tx, slot) => refreshAllBoards(tx, slot),
    latestOnly: true,
  },
  {
    name: "settle-periods",
    cron: "5 0 * * *",
    summary: "Split each ended period's effort on flat-rate goods among their subscribers",
    run: async (tx, slot) => (await settlePeriod(tx, slot)).length,
  },
];

export interface SlotRun {
  readonly job: string;
  readonly slot: number;
  readonly ok: boolean;
  /** What the job returned (how many claims, rounds or periods), or the error's message. */
  readonly outcome: string;
}

/**
 * Runs every slot that is due by `now` and has not run yet, oldest first. A job that never
 * ran starts with its latest slot (no history is replayed for a new database).
 */
export async function runDueJobs(store: Store, now: number, o: { jobs?: readonly Job[]; log?: (msg: string, err?: unknown) => void } = {}): Promise<SlotRun[]> {
  const runs: SlotRun[] = [];
  for (const job of o.jobs ?? JOBS) {
    const cron = parseCron(job.cron);
    if (!cron) throw new Error(`job ${job.name} has a bad schedule "${job.cron}"`);
    const last = await store.transaction((tx) => tx.lastJobSlot(job.name));
    const first = last === undefined ? lastSlot(cron, now, job.timeZone) : null;
    const missed = last === undefined ? (first === null ? [] : [first]) : slotsBetween(cron, last, now, job.timeZone);
    const slots = job.latestOnly ? missed.slice(-1) : missed;
    for (const slot of slots) {
      try {
        const outcome = await store.transaction(async (tx) => {
          if (await tx.jobRan(job.name, slot)) return null; // another process ran it
          const result = JSON.stringify((await job.run(tx, slot)) ?? null);
          await tx.insertJobRun({ job: job.name, slot, ranAt: now, outcome: result });
          return result;
        });
        if (outcome !== null) runs.push({ job: job.name, slot, ok: true, outcome });
      } catch (e) {
        o.log?.(`job ${job.name} failed for ${new Date(slot).toISOString()}`, e);
        runs.push({ job: job.name, slot, ok: false, outcome: e instanceof Error ? e.message : String(e) });
        break; // the rest of this job's slots wait for the next tick
      }
    }
  }
  return runs;
}
