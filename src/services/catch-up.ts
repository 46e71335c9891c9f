// Catching up: whatever has come due by now (claims not reported in time, loans past their due
// date, flat-rate periods that ended, auction rounds past their closing time) is done before a
// command runs, in the command's own transaction, reads included, so that every command sees
// the pool as of now and none shows a state that the next one contradicts. Each event is decided
// as of its own time by the service that owns it (releaseExpiredClaims, catchUpGoods); this only
// finds out cheaply whether anything is due: nearly always nothing is (the scheduler catches up
// every few minutes), and then it costs one query (Tx.nextDeadlines, also part of Tx.opening) whose
// parts each read the first entries of an index.
import { readPolicy } from "../core/policy.ts";
import type { Deadlines, Tx } from "../store.ts";
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
export async function catchUp(tx: Tx, now: number, deadlines?: Deadlines): Promise<CaughtUp> {
  const due = deadlines ?? (await tx.nextDeadlines());
  const released = due.claim !== null && due.claim <= now ? await releaseExpiredClaims(tx, now) : [];
  return { released, ...(goodsDue(due, now) ? await catchUpGoods(tx, now) : NOTHING) };
}

/**
 * Whether catchUp would find nothing due by `now`, in any pool, from the deadlines read (a
 * read command checks this on the read-only connection; when something is due it runs as a
 * write, which catches up first). It looks at every pool, as catchUp does: the command that
 * then catches up does it for all of them, so at most one read per event that came due waits
 * for the write lock. The same test as catchUp's own.
 */
export function nothingDue(due: Deadlines, now: number): boolean {
  if (due.claim !== null && due.claim <= now) return false;
  return !goodsDue(due, now);
}

function goodsDue(due: Deadlines, now: number): boolean {
  return (due.round !== null && due.round <= now) || (due.loan !== null && due.loan <= now) || periodEnded(due, now);
}

/**
 * Whether a flat-rate good of any pool has a period that ended by `now` and is not settled yet:
 * its running period starts where its last settled one ended (or at its creation) and ends at
 * the end of the pool's `settlePeriod` (week or month) that contains that start.
 */
function periodEnded(due: Deadlines, now: number): boolean {
  for (const p of due.unsettled) {
    const period = readPolicy(p.policy).settlePeriod;
    if (periodEnd(periodStart(p.since, period), period) <= now) return true;
  }
  return false;
}
