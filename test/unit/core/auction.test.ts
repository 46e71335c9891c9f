// The scarcity auction (docs/economics.md, "Scarce goods: rounds and the auction"): uniform
// price = the highest losing weight (at least 1.00).
import { describe, expect, it } from "vitest";
import { roundOutcome, type Bid } from "../../../src/core/auction.ts";

const bid = (request: number, member: number, weight: number, units = 1, at = request): Bid => ({ request, member, weight, units, at });
const rich = (members: number[]) => new Map(members.map((m) => [m, 1_000_000]));

describe("roundOutcome", () => {
  it("GIVEN stock 2 and bids at 1.2, 1.5 and 1.8 THEN 1.8 and 1.5 win, each paying 2 x 1.2 = 2.4; 1.2 stays queued", () => {
    const r = roundOutcome({
      bids: [bid(1, 1, 1_200_000), bid(2, 2, 1_500_000), bid(3, 3, 1_800_000)],
      supply: 2,
      effort: 2000,
      balances: rich([1, 2, 3]),
      creditLimit: 10_000,
    });
    expect(r.clearing).toBe(1_200_000);
    expect(r.unitCost).toBe(2400);
    expect(r.winners).toEqual([
      { request: 3, member: 3, units: 1 },
      { request: 2, member: 2, units: 1 },
    ]);
    expect(r.losers).toEqual([{ request: 1, member: 1, units: 1 }]);
    expect(r.skipped).toEqual([]);
  });

  it("GIVEN fewer bids than units THEN everyone wins at 1.00", () => {
    const r = roundOutcome({ bids: [bid(1, 1, 1_700_000, 2), bid(2, 2, 1_000_000)], supply: 5, effort: 2000, balances: rich([1, 2]), creditLimit: 10_000 });
    expect(r.clearing).toBe(1_000_000);
    expect(r.unitCost).toBe(2000);
    expect(r.winners).toEqual([
      { request: 1, member: 1, units: 2 },
      { request: 2, member: 2, units: 1 },
    ]);
  });

  it("GIVEN equal weights THEN the earliest request wins", () => {
    const r = roundOutcome({
      bids: [bid(7, 1, 1_500_000, 1, 50), bid(8, 2, 1_500_000, 1, 10)],
      supply: 1,
      effort: 1000,
      balances: rich([1, 2]),
      creditLimit: 0,
    });
    expect(r.winners).toEqual([{ request: 8, member: 2, units: 1 }]);
    expect(r.clearing).toBe(1_500_000);
  });

  it("GIVEN a winner at the credit limit THEN they are skipped and the unit goes to the next bid", () => {
    const balances = new Map([
      [1, -10_000],
      [2, 0],
      [3, 0],
    ]);
    const r = roundOutcome({
      bids: [bid(1, 1, 3_000_000), bid(2, 2, 1_500_000), bid(3, 3, 1_200_000)],
      supply: 1,
      effort: 2000,
      balances,
      creditLimit: 10_000,
    });
    expect(r.skipped).toEqual([{ request: 1, member: 1, units: 1 }]);
    expect(r.winners).toEqual([{ request: 2, member: 2, units: 1 }]);
    expect(r.clearing).toBe(1_200_000);
  });

  it("GIVEN a member who can afford one of two won units THEN one is allocated and one skipped", () => {
    const r = roundOutcome({
      bids: [bid(1, 1, 2_000_000, 2), bid(2, 2, 1_100_000)],
      supply: 2,
      effort: 3000,
      balances: new Map([
        [1, 0],
        [2, 0],
      ]),
      creditLimit: 4000,
    });
    // Clearing 1.1 -> 3.3 per unit; member 1 may take 4.0: one unit.
    expect(r.winners).toEqual([
      { request: 1, member: 1, units: 1 },
      { request: 2, member: 2, units: 1 },
    ]);
    expect(r.skipped).toEqual([{ request: 1, member: 1, units: 1 }]);
    expect(r.clearing).toBe(1_000_000);
  });

  it("GIVEN no supply THEN nobody wins and everyone stays queued", () => {
    const r = roundOutcome({ bids: [bid(1, 1, 1_500_000)], supply: 0, effort: 2000, balances: rich([1]), creditLimit: 0 });
    expect(r.winners).toEqual([]);
    expect(r.losers).toEqual([{ request: 1, member: 1, units: 1 }]);
  });
});
