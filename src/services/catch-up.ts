// Catching up: whatever has come due by now (claims not reported in time, loans past their due
// date, flat-rate periods that ended, auction rounds past their closing time) is done before a
// command runs, in the command's own transaction, reads included, so that every command sees
// the pool as of now and none shows a state that the next one contradicts. Each event is decided
// as of its own time by the service that owns it (releaseExpiredClaims, catchUpGoods); this only
// finds out cheaply whether anything is due: nearly always nothing is (the scheduler catches up
// every few minutes), and then it costs two queries that each read the first entry of an index.
import { readPolicy } from "../core/policy.ts";
import type { Tx } from "../store.ts";
import { catchUpGoods, periodEnd, periodStart, type GoodsCaughtUp } from "./goods.ts";
import { releaseExpiredClaims, type Released } from "./tasks.ts";

export interface CaughtUp extends GoodsCaughtUp {
  /** Claims released as of their deadlines. */
  readonly released: Released[];
}

const NOTHING: GoodsCaughtUp = { rounds: [], settled: [], overdue: [] };

/**
 * Everything due by `now`, in every pool. Releasing a claim moves no balance and no stock, so
 * claims go first; the goods' events follow in the order of their times (catchUpGoods).
 */
export async function catchUp(tx: Tx, now: number): Promise<CaughtUp> {
  const due = await tx.nextDeadlines();
  const released = due.claim !== null && due.claim <= now ? await releaseExpiredClaims(tx, now) : [];
  return { released, ...((await goodsDue(tx, due, now)) ? await catchUpGoods(tx, now) : NOTHING) };
}

/**
 * Whether catchUp would find nothing due by `now`, in any pool: only reads, writes nothing (a
 * read command checks this on the read-only connection; when something is due it runs as a
 * write, which catches up first). It looks at every pool, as catchUp does: the command that
 * then catches up does it for all of them, so at most one read per event that came due waits
 * for the write lock. The same queries as catchUp's own check.
 */
export async function nothingDue(tx: Tx, now: number): Promise<boolean> {
  const due = await tx.nextDeadlines();
  if (due.claim !== null && due.claim <= now) return false;
  return !(await goodsDue(tx, due, now));
}

type Deadlines = Awaited<ReturnType<Tx["nextDeadlines"]>>;

async function goodsDue(tx: Tx, due: Deadlines, now: number): Promise<boolean> {
  return (due.round !== null && due.round <= now) || (due.loan !== null && due.loan <= now) || (await periodEnded(tx, now));
}

/**
 * Whether a flat-rate good of any pool has a period that ended by `now` and is not settled yet:
 * its running period starts where its last settled one ended (or at its creation) and ends at
 * the end of the pool's `settlePeriod` (week or month) that contains that start.
 */
async function periodEnded(tx: Tx, now: number): Promise<boolean> {
  for (const p of await tx.unsettledSince()) {
    const period = readPolicy(p.policy).settlePeriod;
    if (periodEnd(periodStart(p.since, period), period) <= now) return true;
  }
  return false;
}
