// Storage proportional to the pool, not to its traffic (our choice): what the bot keeps only to
// answer a repeated request or to deliver a message is deleted keepDays after it served. The
// longest keepDays of the database's pools applies (stored answers and request ids belong to no
// pool), 7 days unless a pool chose otherwise.
import { DAY_MS } from "../core/time.ts";
import { defaultPolicy, readPolicy } from "../core/policy.ts";
import type { PruneCounts, Tx } from "../store.ts";

/** Rows of each kind one transaction deletes at most: a batch takes milliseconds, never the write lock for long. */
export const PRUNE_BATCH = 500;

/** The moment before which kept answers, request ids and sent messages may go, as of `now`. */
export async function keptSince(tx: Tx, now: number): Promise<number> {
  const pools = await tx.pools();
  const days = pools.length === 0 ? defaultPolicy().keepDays : Math.max(...pools.map((p) => readPolicy(p.policy).keepDays));
  return now - days * DAY_MS;
}

/**
 * One batch of the storage job: deletes up to PRUNE_BATCH rows of each kind past keeping, as of
 * `now`. `more` says a batch was full (the job runs again at once, in a new transaction); the
 * last batch also brings the planner's statistics up to date.
 */
export async function pruneStored(tx: Tx, now: number): Promise<PruneCounts & { more: boolean }> {
  const counts = await tx.pruneStored({ before: await keptSince(tx, now), limit: PRUNE_BATCH });
  const more = Object.values(counts).some((n) => n >= PRUNE_BATCH);
  if (!more) await tx.refreshStatistics();
  return { ...counts, more };
}
