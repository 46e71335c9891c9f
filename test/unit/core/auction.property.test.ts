// GIVEN any bids, supply, effort, balances and credit limit THEN roundOutcome (the uniform-price
// scarcity auction of docs/economics.md, "Scarce goods: rounds and the auction"):
//   - hands out at most the supply, and all of it while a bid still loses;
//   - puts every unit of every bid in exactly one of winners, losers and skipped;
//   - prices every winner at the same clearing weight = the highest losing weight, at least 1.00,
//     with unitCost = effort x clearing rounded like `credit`;
//   - ranks every winner at or above the clearing weight and every loser at or below it (ties go
//     to the earlier request, then the lower request id);
//   - lets every winner pay within the credit limit, and skips only members who could not pay
//     one more unit at the highest bid's price (the exact rule fails: see "found by the property");
//   - does not depend on the order in which the bids are given.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { roundOutcome, type Bid, type RoundInput, type RoundOutcome, type Share } from "../../../src/core/auction.ts";
import { credit, WEIGHT_ONE } from "../../../src/core/weights.ts";

const MEMBERS = [1, 2, 3, 4, 5] as const;

// Weights >= 1.00 (the command's minimum), with many ties and a few odd millionths.
const weight = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(1_000_000, 1_200_000, 1_500_000, 2_000_000, 3_000_000) },
  { weight: 1, arbitrary: fc.integer({ min: WEIGHT_ONE, max: 5_000_000 }) },
);
const effort = fc.oneof(fc.constantFrom(0, 1, 333, 1000, 2000, 3333), fc.integer({ min: 0, max: 10_000 }));
const creditLimit = fc.oneof(fc.constantFrom(0, 1000, 5000, 10_000), fc.integer({ min: 0, max: 20_000 }));

/** A bid without its request id: ids are given in order, so that they are unique. */
const rawBid = fc.record({
  member: fc.constantFrom(...MEMBERS),
  weight,
  units: fc.oneof({ weight: 3, arbitrary: fc.constant(1) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 5 }) }),
  at: fc.integer({ min: 0, max: 5 }),
});

const input: fc.Arbitrary<RoundInput> = fc
  .record({
    bids: fc.array(rawBid, { maxLength: 9 }),
    supply: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 12 }) }, { weight: 1, arbitrary: fc.constant(-1) }),
    effort,
    creditLimit,
    // Room to pay (balance + limit), near multiples of the effort: the interesting edge.
    rooms: fc.array(
      fc.oneof(
        fc.integer({ min: -3000, max: 30_000 }),
        fc.tuple(fc.integer({ min: 0, max: 6 }), fc.constantFrom(-1, 0, 1, 200, 500)).map(([k, d]) => ({ k, d })),
      ),
      {
        minLength: MEMBERS.length,
        maxLength: MEMBERS.length,
      },
    ),
  })
  .map(({ bids, supply, effort, creditLimit, rooms }) => ({
    bids: bids.map((b, i): Bid => ({ request: 10 + i, ...b })),
    supply,
    effort,
    creditLimit,
    balances: new Map(
      MEMBERS.map((m, i) => {
        const r = rooms[i]!;
        const room = typeof r === "number" ? r : r.k * effort + r.d;
        return [m, room - creditLimit] as const;
      }),
    ),
  }));

interface Unit {
  readonly bid: Bid;
  /** Position in the auction's order: weight high to low, then earlier, then lower request id. */
  readonly rank: number;
}

const ranked = (bids: readonly Bid[]): Unit[] =>
  [...bids]
    .sort((a, b) => b.weight - a.weight || a.at - b.at || a.request - b.request)
    .flatMap((bid) => Array.from({ length: bid.units }, () => bid))
    .map((bid, rank) => ({ bid, rank }));

const total = (shares: readonly Share[]) => shares.reduce((a, s) => a + s.units, 0);
const room = (i: RoundInput, member: number) => (i.balances.get(member) ?? 0) + i.creditLimit;

/**
 * Splits the ranked units into winners, losers and skipped as the outcome says: per request,
 * its best units won, and of the rest a member's best ones were skipped (they were winners
 * before they were found unaffordable), the others lost.
 */
function classify(i: RoundInput, o: RoundOutcome) {
  const units = ranked(i.bids);
  const won = new Map<number, number>();
  for (const w of o.winners) won.set(w.request, (won.get(w.request) ?? 0) + w.units);
  const skip = new Map<number, number>();
  for (const s of o.skipped) skip.set(s.member, (skip.get(s.member) ?? 0) + s.units);
  const winners: Unit[] = [];
  const losers: Unit[] = [];
  const skipped: Unit[] = [];
  for (const u of units) {
    const w = won.get(u.bid.request) ?? 0;
    const s = skip.get(u.bid.member) ?? 0;
    if (w > 0) {
      winners.push(u);
      won.set(u.bid.request, w - 1);
    } else if (s > 0) {
      skipped.push(u);
      skip.set(u.bid.member, s - 1);
    } else losers.push(u);
  }
  return { units, winners, losers, skipped };
}

const outcomes = new Map<string, number>();
const seen = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);

function checkOutcome(i: RoundInput, o: RoundOutcome) {
  const supply = Math.max(0, i.supply);
  // Every unit of every bid is exactly one of winner, loser, skipped, of the right member.
  for (const b of i.bids) {
    const of = (list: readonly Share[]) => list.filter((s) => s.request === b.request);
    for (const s of [...of(o.winners), ...of(o.losers), ...of(o.skipped)]) expect(s.member).toBe(b.member);
    expect(total(of(o.winners)) + total(of(o.losers)) + total(of(o.skipped)), `units of request ${b.request}`).toBe(b.units);
  }
  for (const s of [...o.winners, ...o.losers, ...o.skipped]) {
    expect(s.units).toBeGreaterThan(0);
    expect(i.bids.some((b) => b.request === s.request)).toBe(true);
  }
  const { units, winners, losers, skipped } = classify(i, o);
  expect(winners.length + losers.length + skipped.length).toBe(units.length);

  // Never more than the supply; all of it while anyone still loses.
  expect(winners.length).toBeLessThanOrEqual(supply);
  if (losers.length > 0) expect(winners.length).toBe(supply);
  else expect(winners.length).toBe(Math.min(supply, units.length - skipped.length));

  // The price: the highest losing weight, at least 1.00, times the effort, rounded like credit.
  expect(o.clearing).toBe(Math.max(WEIGHT_ONE, ...losers.map((u) => u.bid.weight)));
  expect(o.clearing).toBeGreaterThanOrEqual(WEIGHT_ONE);
  expect(o.unitCost).toBe(credit(i.effort, o.clearing));
  expect(o.unitCost).toBeGreaterThanOrEqual(i.effort);

  // Winners at or above the clearing weight, losers at or below; ties to the earlier request.
  for (const w of winners) expect(w.bid.weight).toBeGreaterThanOrEqual(o.clearing);
  for (const l of losers) expect(l.bid.weight).toBeLessThanOrEqual(o.clearing);
  const worstWinner = winners.at(-1);
  const bestLoser = losers[0];
  if (worstWinner && bestLoser) expect(worstWinner.rank).toBeLessThan(bestLoser.rank);
  // Skipped units were winners once: they rank above every loser.
  for (const s of skipped) if (bestLoser) expect(s.rank).toBeLessThan(bestLoser.rank);

  // Every winner can pay within the credit limit.
  const wonBy = new Map<number, number>();
  for (const w of winners) wonBy.set(w.bid.member, (wonBy.get(w.bid.member) ?? 0) + 1);
  for (const [m, n] of wonBy) if (o.unitCost > 0) expect(n * o.unitCost, `member ${m} pays ${n} x ${o.unitCost}`).toBeLessThanOrEqual(room(i, m));
  // A skipped member could not have paid for one more unit even at the highest price anyone
  // could have had to pay (the highest bid): whatever the round's price was when they were
  // dropped, it was no higher than that. (The exact counterfactual is pinned below: it fails.)
  const top = Math.max(WEIGHT_ONE, ...i.bids.map((b) => b.weight));
  for (const m of new Set(skipped.map((s) => s.bid.member))) {
    expect(o.unitCost).toBeGreaterThan(0);
    expect(room(i, m)).toBeLessThan(((wonBy.get(m) ?? 0) + 1) * credit(i.effort, top));
  }

  if (losers.length > 0 && winners.length > 0) seen("winners and losers");
  if (o.clearing > WEIGHT_ONE) seen("clearing above 1.00");
  if (skipped.length > 0) seen("skipped");
  if (skipped.length > 0 && winners.length > 0) seen("skipped, the unit to the next bid");
  if (winners.some((w, k) => winners[k + 1]?.bid.request === w.bid.request) && losers.some((l) => winners.some((w) => w.bid.request === l.bid.request)))
    seen("partial fill");
  if (worstWinner && bestLoser && worstWinner.bid.weight === bestLoser.bid.weight) seen("tie at the margin");
  if (skipped.some((s) => (wonBy.get(s.bid.member) ?? 0) > 0)) seen("member paid for some of their units");
}

/**
 * The exact meaning of "skipped because they could not pay": give the member back their best
 * skipped unit, with everything else as the outcome left it; at the price that round would then
 * have, somebody who would win could not pay for their units (the member themselves, or another
 * winner whom the unit, as the highest losing bid, prices out).
 */
function couldNotPay(i: RoundInput, o: RoundOutcome): string | null {
  const { units, skipped } = classify(i, o);
  const supply = Math.max(0, i.supply);
  for (const m of new Set(skipped.map((s) => s.bid.member))) {
    const back = skipped.find((s) => s.bid.member === m)!;
    const eligible = units.filter((u) => u === back || !skipped.includes(u));
    const winners = eligible.slice(0, supply);
    const clearing = Math.max(WEIGHT_ONE, eligible[supply]?.bid.weight ?? 0);
    const cost = credit(i.effort, clearing);
    const members = new Set(winners.map((u) => u.bid.member));
    const everyonePays = [...members].every((w) => winners.filter((u) => u.bid.member === w).length * cost <= room(i, w));
    if (everyonePays) return `member ${m} was skipped, but with their bid at ${back.bid.weight} back in every winner could pay ${cost} a unit`;
  }
  return null;
}

describe("roundOutcome under random bids", () => {
  it("GIVEN any bids, supply, effort, balances and limit THEN the auction's rules hold, in whatever order the bids come", () => {
    fc.assert(
      fc.property(input, fc.integer(), (i, seed) => {
        const o = roundOutcome(i);
        checkOutcome(i, o);
        // The same bids in another order give the same outcome.
        const shuffled = [...i.bids]
          .map((b, k) => ({ b, key: Math.sin(seed + k) }))
          .sort((x, y) => x.key - y.key)
          .map((x) => x.b);
        expect(roundOutcome({ ...i, bids: shuffled })).toEqual(o);
        // The input is left alone.
        expect(i.bids.every((b) => b.units > 0)).toBe(true);
      }),
      { numRuns: 3000 },
    );
    for (const k of [
      "winners and losers",
      "clearing above 1.00",
      "skipped",
      "skipped, the unit to the next bid",
      "partial fill",
      "tie at the margin",
      "member paid for some of their units",
    ]) {
      expect(outcomes.get(k) ?? 0, `${k} in ${JSON.stringify(Object.fromEntries(outcomes))}`).toBeGreaterThan(20);
    }
  });
});

describe("found by the property", () => {
  // Two winners who cannot pay at the round's first price (2.00) are dropped together; the
  // price then falls to 1.00, which the 3.00 bidder could pay, yet the unit goes to the 1.00
  // bid. With only the 2.50 bidder dropped, the 3.00 bidder wins at 1.00 and everyone pays.
  it("GIVEN two short winners dropped in the same pass THEN a skipped member could still not pay the price the round ends at", () => {
    const bid = (request: number, member: number, weight: number): Bid => ({ request, member, weight, units: 1, at: request });
    const i: RoundInput = {
      bids: [bid(1, 1, 3_000_000), bid(2, 2, 2_500_000), bid(3, 3, 2_000_000), bid(4, 4, 1_000_000)],
      supply: 2,
      effort: 1000,
      balances: new Map([
        [1, -8500],
        [2, -8500],
        [3, 0],
        [4, 0],
      ]),
      creditLimit: 10_000,
    };
    const o = roundOutcome(i);
    expect({ winners: o.winners.map((w) => w.member), skipped: o.skipped.map((s) => s.member), clearing: o.clearing }).toEqual({
      winners: [1, 3],
      skipped: [2],
      clearing: WEIGHT_ONE,
    });
  });

  // One member alone: at the first price (1.60) they can pay one unit, so their 2.00 unit and
  // four 1.60 units are dropped for good; the price then falls to 1.00 and they get 2 units
  // for 2.00 of their 3.00, while 4 of the 6 units stay unsold. At 1.00 they could pay 3.
  it("GIVEN one bidder whose units are dropped at a price that then falls THEN they get every unit they can pay at the final price", () => {
    const o = roundOutcome({
      bids: [
        { request: 1, member: 1, weight: 3_000_000, units: 1, at: 1 },
        { request: 2, member: 1, weight: 2_000_000, units: 1, at: 2 },
        { request: 3, member: 1, weight: 1_600_000, units: 5, at: 3 },
      ],
      supply: 6,
      effort: 1000,
      balances: new Map([[1, -7000]]),
      creditLimit: 10_000,
    });
    expect({ units: total(o.winners), clearing: o.clearing }).toEqual({ units: 3, clearing: WEIGHT_ONE });
  });

  // Dropped in turn: carol (2.00, 1.20 left) cannot pay dave's 1.50, so she is dropped; then
  // dave (at his limit) cannot pay 1.00 and is dropped too. The unit stays unsold, though with
  // dave out of the round carol would pay 1.00, which she can.
  it("GIVEN the bid that set the price is dropped later THEN the bidder it priced out gets the unit", () => {
    const o = roundOutcome({
      bids: [
        { request: 1, member: 1, weight: 2_000_000, units: 1, at: 1 },
        { request: 2, member: 2, weight: 1_500_000, units: 1, at: 2 },
      ],
      supply: 1,
      effort: 1000,
      balances: new Map([
        [1, -8800],
        [2, -10_000],
      ]),
      creditLimit: 10_000,
    });
    expect(o.winners).toEqual([{ request: 1, member: 1, units: 1 }]);
  });

  it("GIVEN any bids and balances THEN a skipped member could not pay even with their best unit given back", () => {
    fc.assert(
      fc.property(input, (i) => {
        expect(couldNotPay(i, roundOutcome(i))).toBeNull();
      }),
      { numRuns: 3000 },
    );
  });
});
