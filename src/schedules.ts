// The pool's clockwork: one table of jobs, each with a cron schedule and a `run(tx, slot)`.
// Every run is keyed by its slot (the moment it was due) and recorded in the same transaction
// as its work, so a slot never runs twice (also not with two processes on one database), and a
// bot that was down runs each missed slot once, as of that slot's time. One job's failure is
// logged and leaves the others alone; the failed slot is tried again at the next tick. Every
// command of a pool catches up the same events first (services/catch-up.ts), so the jobs matter
// where nobody types: the notes, announcements and boards that follow from them go out on time.
import { lastSlot, parseCron, slotsBetween } from "./core/cron.ts";
import { didSomething } from "./core/outcome.ts";
import { MINUTE_MS } from "./core/time.ts";
import type { Logger } from "./log.ts";
import { closeDueRounds, settlePeriod } from "./services/goods.ts";
import { refreshAllBoards, sendNeglectedNotices } from "./services/rooms.ts";
import { sendSummaries } from "./services/summary.ts";
import { PRUNE_BATCH, pruneStored } from "./services/storage.ts";
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
  /**
   * A job that works in batches (the storage job): while `more` says the batch it returned was
   * full, it runs again at once for the same slot, each batch in a transaction of its own, so
   * that it never holds the write lock long and commands get their turn in between.
   */
  readonly more?: (result: unknown) => boolean;
}

/** Batches a batched job runs for one slot at most; the rest waits for its next slot. */
export const MAX_BATCHES = 200;

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
    summary:
      "Close auction rounds roundHours after their first unmet request; loans falling overdue and flat-rate periods that ended before are done first, each as of its own time",
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
    summary: "Split each ended period's effort on flat-rate goods among their subscribers, as of the period's end",
    run: async (tx, slot) => (await settlePeriod(tx, slot)).length,
  },
  {
    name: "storage",
    cron: "0 * * * *",
    summary: `Delete stored answers and request ids older than keepDays, and room messages and notes sent or given up that long ago, ${PRUNE_BATCH} of each per transaction; refresh the database's statistics`,
    run: (tx, slot) => pruneStored(tx, slot),
    latestOnly: true,
    more: (result) => (result as { more?: boolean } | null)?.more === true,
  },
];

export interface SlotRun {
  readonly job: string;
  readonly slot: number;
  readonly ok: boolean;
  /** What the job returned (how many claims, rounds or periods), or the error's message. */
  readonly outcome: string;
}

/** The further batches of a batched job's slot; one that fails is logged and left to the next slot. */
async function moreBatches(store: Store, job: Job, slot: number, first: unknown, logger?: Logger): Promise<void> {
  let last = first;
  try {
    for (let batch = 1; batch < MAX_BATCHES && job.more?.(last); batch++) last = await store.transaction((tx) => job.run(tx, slot));
  } catch (e) {
    logger?.error({ err: e, job: job.name }, `job ${job.name}: a further batch failed for ${new Date(slot).toISOString()}`);
  }
}

/**
 * Runs every slot that is due by `now` and has not run yet, oldest first. A job that never
 * ran starts with its latest slot (no history is replayed for a new database).
 */
export async function runDueJobs(store: Store, now: number, o: { jobs?: readonly Job[]; logger?: Logger } = {}): Promise<SlotRun[]> {
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
          const done = await job.run(tx, slot);
          const result = JSON.stringify(done ?? null);
          await tx.insertJobRun({ job: job.name, slot, ranAt: now, outcome: result });
          // A job that changed something decided every pool as of its slot: no pool's clock may stay before it.
          if (didSomething(done)) await tx.advanceClock(slot);
          return result;
        });
        if (outcome !== null) runs.push({ job: job.name, slot, ok: true, outcome });
        if (outcome !== null && job.more) await moreBatches(store, job, slot, JSON.parse(outcome), o.logger);
      } catch (e) {
        // `err`: pino keeps the error's stack beside its message.
        o.logger?.error({ err: e, job: job.name }, `job ${job.name} failed for ${new Date(slot).toISOString()}`);
        runs.push({ job: job.name, slot, ok: false, outcome: e instanceof Error ? e.message : String(e) });
        break; // the rest of this job's slots wait for the next tick
      }
    }
  }
  return runs;
}
