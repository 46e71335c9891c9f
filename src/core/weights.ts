// Weighted labour. A task's weight is a pure function of stored facts and the time: the kind's
// weight when it was posted, how long it has had an open slot before its due date, the growth per
// full day (compounded, rounded to millionths each day) and the cap. So a bot that was down for a
// day computes the same weight as one that ran all day. A kind's market weight moves only on
// evidence: a verified claim pulls it part of the way toward that claim's weight, and volunteers
// who find a task full lower it.
import { ppmOfThousandths, timesThousandths, weightOf, WEIGHT_ONE, type MilliHours, type Thousandths, type WeightPpm } from "./amounts.ts";
import { DAY_MS } from "./time.ts";
import type { Policy } from "./policy.ts";

/** Weights are integer millionths (WeightPpm): 1.331 = 1_331_000, 0.857375 = 857_375. */
export { WEIGHT_ONE };

export interface WeightRules {
  /** Factor per full open day (10% -> 1_100_000). */
  readonly growth: WeightPpm;
  readonly cap: WeightPpm;
  readonly floor: WeightPpm;
  /** Factor applied to a kind's weight when a volunteer finds a task full (5% -> 950_000). */
  readonly waitlistFactor: WeightPpm;
  readonly newKind: WeightPpm;
  /** Share of the way a kind's weight moves toward a verified claim's weight (25% -> 250). */
  readonly smoothing: Thousandths;
}

/** The weight rules of a pool's policy (policy weights are thousandths, percents thousandths of one). */
export function weightRules(p: Policy): WeightRules {
  return {
    growth: WEIGHT_ONE + ppmOfThousandths(p.weightGrowthPerDay),
    cap: ppmOfThousandths(p.weightCap),
    floor: ppmOfThousandths(p.weightFloor),
    waitlistFactor: WEIGHT_ONE - ppmOfThousandths(p.waitlistPenalty),
    newKind: ppmOfThousandths(p.newKindWeight),
    smoothing: p.marketSmoothing,
  };
}

/** a x factor, both millionths, rounded half up. */
export function mulWeight(a: WeightPpm, factor: WeightPpm): WeightPpm {
  return Math.round((a * factor) / WEIGHT_ONE);
}

/** The weight after `openMs` with an open slot: +growth per full day, compounded, up to the cap. */
export function taskWeight(postedWeight: WeightPpm, openMs: number, r: WeightRules): WeightPpm {
  if (postedWeight >= r.cap || r.growth <= WEIGHT_ONE) return postedWeight;
  const days = Math.floor(openMs / DAY_MS);
  let w = postedWeight;
  for (let d = 0; d < days; d++) {
    w = mulWeight(w, r.growth);
    if (w >= r.cap) return r.cap;
  }
  return w;
}

export interface OpenTime {
  /** Milliseconds with an open slot before the current stretch (never counting time past the due date). */
  readonly openMs: number;
  /** Start of the current stretch with an open slot, or null while every slot is taken. */
  readonly openSince: number | null;
  /** The task's due date: open time stops counting there (a task past due stops rising). */
  readonly dueAt?: number | null;
}

/** Open time by `now`: the current stretch counts up to the due date at most. */
export function openMsAt(t: OpenTime, now: number): number {
  const end = t.dueAt === null || t.dueAt === undefined ? now : Math.min(now, t.dueAt);
  return t.openMs + (t.openSince === null ? 0 : Math.max(0, end - t.openSince));
}

/** When the weight next rises: after the next full day of open time; null when full, capped or due before then. */
export function nextRiseAt(postedWeight: WeightPpm, t: OpenTime, now: number, r: WeightRules): number | null {
  if (t.openSince === null) return null;
  const open = openMsAt(t, now);
  if (taskWeight(postedWeight, open, r) >= r.cap || r.growth <= WEIGHT_ONE) return null;
  const at = now + (DAY_MS - (open % DAY_MS));
  return t.dueAt !== null && t.dueAt !== undefined && at > t.dueAt ? null : at;
}

/**
 * A kind's market weight after a claim at `claimWeight` was verified: `smoothing` (thousandths)
 * of the way toward it, rounded half up. One escalated task at 4.00 moves a market at 1.00 to
 * 1.75 with 25%; claims that end without verified work move nothing.
 */
export function marketWeight(kindWeight: WeightPpm, claimWeight: WeightPpm, smoothing: Thousandths): WeightPpm {
  return kindWeight + Math.round(timesThousandths(claimWeight - kindWeight, smoothing));
}

/** A kind's weight after one more volunteer found a task of it full: -5%, not below the floor. */
export function waitlistWeight(kindWeight: WeightPpm, r: WeightRules): WeightPpm {
  // Never a rise: a kind already below a floor raised since stays where it is.
  return Math.min(kindWeight, Math.max(r.floor, mulWeight(kindWeight, r.waitlistFactor)));
}

/** Credit for verified work: hours x weight, in milli-hours. */
export function credit(hoursMilli: MilliHours, weight: WeightPpm): MilliHours {
  return Math.round((hoursMilli * weight) / WEIGHT_ONE);
}

/** A weight as JSON shows it: 1.331. */
export const weightJson = (w: WeightPpm): number => weightOf(w);
