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

interface Trial {
  readonly winners: UnitBid[];
  readonly losers: UnitBid[];
  readonly clearing: number;
  readonly unitCost: number;
  /** Winning units their member cannot pay at this price (each member's lowest-ranked ones). */
  readonly unpaid: UnitBid[];
}

/** The round with some units left out: who wins, at what price, and who could not pay it. */
function trial(units: readonly UnitBid[], out: ReadonlySet<UnitBid>, input: RoundInput): Trial {
  const eligible = units.filter((u) => !out.has(u));
  const winners = eligible.slice(0, Math.max(0, input.supply));
  const losers = eligible.slice(winners.length);
  const clearing = Math.max(WEIGHT_ONE, losers[0]?.bid.weight ?? 0);
  const unitCost = credit(input.effort, clearing);
  const won = new Map<number, UnitBid[]>();
  for (const u of winners) won.set(u.bid.member, [...(won.get(u.bid.member) ?? []), u]);
  const unpaid: UnitBid[] = [];
  for (const [member, list] of won) {
    const room = (input.balances.get(member) ?? 0) + input.creditLimit;
    const affordable = unitCost === 0 ? list.length : Math.max(0, Math.floor(room / unitCost));
    unpaid.push(...list.slice(affordable));
  }
  return { winners, losers, clearing, unitCost, unpaid };
}

export function roundOutcome(input: RoundInput): RoundOutcome {
  const sorted = [...input.bids].sort((a, b) => b.weight - a.weight || a.at - b.at || a.request - b.request);
  const units: UnitBid[] = sorted.flatMap((bid) => Array.from({ length: bid.units }, (_, i) => ({ bid, order: i })));
  // First leave out, pass by pass, the winning units their members cannot pay at the price of
  // the moment; the price can only fall as they go.
  const out = new Set<UnitBid>();
  let t = trial(units, out, input);
  while (t.unpaid.length > 0) {
    for (const u of t.unpaid) out.add(u);
    t = trial(units, out, input);
  }
  // Then give each left-out unit, best-ranked first, its place back if everyone who wins can
  // still pay the price that results: a unit dropped at a higher price may be payable now.
  // Repeated until nothing changes, since a unit given back can change the price again.
  for (let changed = true; changed; ) {
    changed = false;
    for (const u of units) {
      if (!out.has(u)) continue;
      out.delete(u);
      const again = trial(units, out, input);
      if (again.unpaid.length === 0) {
        t = again;
        changed = true;
      } else out.add(u);
    }
  }
  return { clearing: t.clearing, unitCost: t.unitCost, winners: group(t.winners), losers: group(t.losers), skipped: group(units.filter((u) => out.has(u))) };
}
