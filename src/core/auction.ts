// The scarcity auction (MODEL.md, "Goods"): units go to the highest preference weights (ties:
// earliest request); every winner pays the same clearing weight, the highest losing weight but
// at least 1.00, times the effort: a uniform-price auction, where stating your true preference
// is the best strategy. A winner who cannot pay within the credit limit is skipped and the unit
// goes to the next bid. Weights are millionths, amounts milli-hours.
import { credit, WEIGHT_ONE } from "./weights.ts";

export interface Bid {
  readonly request: number;
  readonly member: number;
  /** Preference weight, >= 1.00. */
  readonly weight: number;
  readonly units: number;
  /** When the request was made: earlier wins ties. */
  readonly at: number;
}

export interface RoundInput {
  readonly bids: readonly Bid[];
  readonly supply: number;
  /** Production effort per unit, milli-hours. */
  readonly effort: number;
  readonly balances: ReadonlyMap<number, number>;
  readonly creditLimit: number;
}

export interface Share {
  readonly request: number;
  readonly member: number;
  readonly units: number;
}

export interface RoundOutcome {
  readonly clearing: number;
  /** What each winner pays per unit: effort x clearing weight. */
  readonly unitCost: number;
  readonly winners: readonly Share[];
  /** Units that lost, and stay queued. */
  readonly losers: readonly Share[];
  /** Units a winner could not pay within the credit limit; they stay queued too. */
  readonly skipped: readonly Share[];
}

interface UnitBid {
  readonly bid: Bid;
  readonly order: number;
}

function group(units: readonly UnitBid[]): Share[] {
  const out: Share[] = [];
  for (const u of units) {
    const last = out[out.length - 1];
    if (last && last.request === u.bid.request) out[out.length - 1] = { ...last, units: last.units + 1 };
    else out.push({ request: u.bid.request, member: u.bid.member, units: 1 });
  }
  return out;
}

export function roundOutcome(input: RoundInput): RoundOutcome {
  const sorted = [...input.bids].sort((a, b) => b.weight - a.weight || a.at - b.at || a.request - b.request);
  const units: UnitBid[] = sorted.flatMap((bid) => Array.from({ length: bid.units }, (_, i) => ({ bid, order: i })));
  const excluded = new Set<UnitBid>();
  for (;;) {
    const eligible = units.filter((u) => !excluded.has(u));
    const winners = eligible.slice(0, Math.max(0, input.supply));
    const losers = eligible.slice(winners.length);
    const clearing = Math.max(WEIGHT_ONE, losers[0]?.bid.weight ?? 0);
    const unitCost = credit(input.effort, clearing);
    // Each winning member may take as many units as their balance allows within the limit;
    // the units they cannot pay (their lowest-ranked ones) leave the round.
    const won = new Map<number, UnitBid[]>();
    for (const u of winners) won.set(u.bid.member, [...(won.get(u.bid.member) ?? []), u]);
    let changed = false;
    for (const [member, list] of won) {
      const room = (input.balances.get(member) ?? 0) + input.creditLimit;
      const affordable = unitCost === 0 ? list.length : Math.max(0, Math.floor(room / unitCost));
      for (const u of list.slice(affordable)) {
        excluded.add(u);
        changed = true;
      }
    }
    if (!changed) {
      return { clearing, unitCost, winners: group(winners), losers: group(losers), skipped: group(units.filter((u) => excluded.has(u))) };
    }
  }
}
