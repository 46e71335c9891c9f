// Every charge is computed from exact inputs and rounded once, at the end (issue 13, item 14).
// Before, the auction rounded the unit price and then multiplied it (1000 units at effort 0.001
// and clearing weight 1.5 cost 2.000 wh, not 1.500), and a loan rounded the day's charge before
// the days (effort 0.15 cost 0.002 a day instead of 0.0015, +33%; effort below 0.05 was free).
//   - GIVEN any units, effort and weight (or days, effort and day's share) THEN the charge is the
//     exact value rounded to the nearest milli-hour, halves up, and never 0 when the exact value
//     is above 0;
//   - GIVEN many small charges made through the commands (loans of a cheap durable good, units
//     won in a round at a fractional clearing weight) THEN the ledger's total is within half a
//     milli-hour per charge of the exact total, where rounding each unit or day first was off by
//     up to half a milli-hour per unit or day.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../src/clock.ts";
import { daysCharge, roundedCharge, unitsCharge } from "../../src/core/amounts.ts";
import { WEIGHT_ONE } from "../../src/core/weights.ts";
import { testPool } from "../support/app.ts";
import { randomRuns } from "../support/pg.ts";
import { sqlRows } from "../support/db-dump.ts";

/** A charge's exact value as a fraction: numerator over denominator. */
const exact = (factors: readonly number[], divisor: number) => ({ n: factors.reduce((a, f) => a * BigInt(f), 1n), d: BigInt(divisor) });

/** |charged - exact| <= 1/2, and the exact value above 0 is never charged as 0. */
function checkRounding(charged: number, factors: readonly number[], divisor: number) {
  const { n, d } = exact(factors, divisor);
  const c = BigInt(charged);
  if (n === 0n) return expect(charged).toBe(0);
  expect(charged).toBeGreaterThanOrEqual(1);
  // Within half a milli-hour, unless the exact value is below half (then it is 1, never 0).
  if (2n * n >= d) expect(2n * (c * d - n) <= d && 2n * (n - c * d) < d, `${charged} for ${n}/${d}`).toBe(true);
  else expect(charged).toBe(1);
}

describe("one rounding, at the end", () => {
  it("GIVEN any units, effort and weight THEN the charge is qty x effort x weight rounded once, never 0 for an effort", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: WEIGHT_ONE, max: 100 * WEIGHT_ONE }),
        (qty, effort, weight) => {
          checkRounding(unitsCharge(qty, effort, weight), [qty, effort, weight], WEIGHT_ONE);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("GIVEN any days, effort and day's share THEN the loan's charge is days x effort x share rounded once, never 0 for an effort", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 1000 }), (days, effort, share) => {
        checkRounding(daysCharge(days, effort, share), [days, effort, share], 1000);
      }),
      { numRuns: 2000 },
    );
  });

  it("GIVEN the issue's numbers THEN 1000 x 0.001 x 1.5 is 1.500, ten days of effort 0.15 at 1% are 0.015, a day of effort 0.04 is 0.001", () => {
    expect(unitsCharge(1000, 1, 1_500_000)).toBe(1500);
    // Products beyond the safe integers stay exact: 3,000,000,001 x 3,000,001 x 1.000001.
    expect(roundedCharge([3_000_000_001, 3_000_001, 1_000_001], 1_000_000)).toBe(9_000_012_003_003_004);
    expect(daysCharge(10, 150, 10)).toBe(15);
    expect(daysCharge(1, 40, 10)).toBe(1);
    expect(daysCharge(3, 150, 10)).toBe(5);
  });
});

const SEED = Number(process.env.DPOOL_PROPERTY_SEED ?? 20261130);
const MEMBERS = ["carol", "dave", "erin", "frank", "gina", "hugo"] as const;

describe("many small charges add up to their exact total", () => {
  it("GIVEN loans of a cheap durable good and units won at a fractional clearing weight THEN the ledger's total is within half a milli-hour per charge of the exact total", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          drillEffort: fc.integer({ min: 1, max: 200 }),
          dayPercent: fc.constantFrom("0.5%", "1%", "2.5%", "10%"),
          loans: fc.array(fc.record({ who: fc.nat({ max: MEMBERS.length - 1 }), days: fc.integer({ min: 1, max: 20 }) }), { minLength: 1, maxLength: 10 }),
          seedEffort: fc.integer({ min: 1, max: 20 }),
          bids: fc.array(fc.record({ qty: fc.integer({ min: 1, max: 100 }), weight: fc.constantFrom("1.05", "1.333", "1.5", "1.777", "2.25") }), {
            minLength: 2,
            maxLength: MEMBERS.length,
          }),
        }),
        async (p) => {
          const t = await testPool({ start: "2026-11-02T09:00:00Z" });
          try {
            await t.ok("admin", "pool create Riverside");
            await t.ok("alice", "project create garden The Garden");
            await t.ok("admin", `pool policy durableDayPercent ${p.dayPercent}`);
            await t.ok("alice", `good add garden drill effort:${p.drillEffort / 1000} model:durable stock:100`);
            await t.ok("alice", `good add garden seed effort:${p.seedEffort / 1000}`);
            const share = Math.round(Number(p.dayPercent.replace("%", "")) * 10);
            const exacts: Array<{ n: bigint; d: bigint }> = [];
            // Loans, each returned after its days (a few minutes more: the next day is started).
            for (const [i, l] of p.loans.entries()) {
              const who = MEMBERS[l.who]!;
              const loan = (await t.ok(who, `good borrow drill days:${l.days}`)).loan;
              t.clock.advance(l.days * DAY_MS - (i + 1) * 60_000);
              const back = (await t.ok(who, `good return ${loan.id}`)).loan;
              expect(back.days).toBe(l.days);
              exacts.push(exact([l.days, p.drillEffort, share], 1000));
              t.clock.advance((i + 1) * 60_000);
            }
            // A round: every bid but the lowest wins all it asked for, at the lowest bid's weight.
            const bids = p.bids.map((b, i) => ({ ...b, who: MEMBERS[i]! }));
            for (const b of bids) await t.ok(b.who, `good request seed qty:${b.qty} weight:${b.weight}`);
            const ranked = [...bids].sort((a, b) => Number(b.weight) - Number(a.weight));
            const lowest = ranked[ranked.length - 1]!;
            const winners = bids.filter((b) => Number(b.weight) > Number(lowest.weight));
            const supply = winners.reduce((a, b) => a + b.qty, 0);
            if (supply > 0) await t.ok("alice", `good produce seed ${supply}`);
            t.clock.advance(25 * HOUR_MS);
            await t.ok("alice", "good show seed");
            const clearing = Math.round(Number(lowest.weight) * WEIGHT_ONE);
            if (supply > 0 && Number(lowest.weight) < Number(ranked[0]!.weight))
              for (const w of winners) exacts.push(exact([w.qty, p.seedEffort, clearing], WEIGHT_ONE));
            // The ledger's charges: loans, allocations and the surpluses above the effort.
            const one = async (sql: string) => ((await sqlRows<{ n: number }>(t.store, sql)) as [{ n: number }])[0].n;
            const charged = await one("SELECT coalesce(sum(amount), 0) AS n FROM entries WHERE kind IN ('loan', 'allocation', 'surplus')");
            const count = (await one("SELECT count(*) AS n FROM loans")) + (await one("SELECT count(*) AS n FROM allocations"));
            expect(count).toBe(exacts.length);
            // Sum of the exact fractions, compared as fractions: |charged - sum| <= count / 2, but
            // for charges below half a milli-hour, charged 0.001 wh (less than one more each).
            const d = exacts.reduce((a, x) => (a % x.d === 0n ? a : a * x.d), 1n);
            const n = exacts.reduce((a, x) => a + (x.n * d) / x.d, 0n);
            const tiny = exacts.filter((x) => x.n > 0n && 2n * x.n < x.d).length;
            const diff = BigInt(charged) * d - n;
            expect((diff < 0n ? -diff : diff) * 2n <= BigInt(count + tiny) * d, `charged ${charged}, exact ${Number(n) / Number(d)}, ${count} charges`).toBe(
              true,
            );
          } finally {
            await t.close();
          }
        },
      ),
      { numRuns: randomRuns({ sqlite: 25, postgres: 8 }), seed: SEED },
    );
  }, 240_000);
});
