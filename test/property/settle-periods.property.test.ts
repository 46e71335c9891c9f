// GIVEN any sequence of production, time passing, settlement runs and switches of settlePeriod
// (weekly, monthly) THEN settled periods follow one another without gap or overlap, and the
// flat-rate charges add up to exactly the effort produced: each unit charged once (issue 12).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HOUR_MS } from "../../src/clock.ts";
import { settlePeriod } from "../../src/services/goods.ts";
import { testPool } from "../support/app.ts";
import { randomRuns } from "../support/pg.ts";
import { sqlRows } from "../support/db-dump.ts";

type Step =
  | { readonly t: "produce"; readonly qty: number }
  | { readonly t: "wait"; readonly hours: number }
  | { readonly t: "settle" }
  | { readonly t: "switch"; readonly period: "weekly" | "monthly" };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ t: fc.constant("produce" as const), qty: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ t: fc.constant("wait" as const), hours: fc.oneof(fc.integer({ min: 1, max: 48 }), fc.integer({ min: 100, max: 1000 })) }),
  fc.record({ t: fc.constant("settle" as const) }),
  fc.record({ t: fc.constant("switch" as const), period: fc.constantFrom("weekly" as const, "monthly" as const) }),
);

describe("flat-rate settlement under policy switches", () => {
  it("GIVEN random switches of settlePeriod THEN the total charged equals the effort produced, periods never overlap", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 25 }),
        fc.constantFrom("2026-11-02T09:00:00Z", "2026-11-29T23:30:00Z", "2027-02-26T12:00:00Z"),
        async (steps, start) => {
          const t = await testPool({ start });
          try {
            await t.ok("admin", "pool create Riverside");
            await t.ok("alice", "project create kitchen The Kitchen");
            await t.ok("alice", "good add kitchen soup effort:1.001 model:flat-rate");
            await t.ok("carol", "good subscribe soup");
            await t.ok("dave", "good subscribe soup");
            let produced = 0;
            for (const s of steps) {
              if (s.t === "produce") {
                await t.ok("alice", `good produce soup ${s.qty}`);
                produced += s.qty * 1001;
              } else if (s.t === "wait") t.clock.advance(s.hours * HOUR_MS);
              else if (s.t === "settle") await t.ok("admin", "pool settle");
              else await t.ok("admin", `pool policy settlePeriod ${s.period}`);
              t.clock.advance(60_000);
            }
            // Whatever is still running is settled up to now.
            const now = t.clock.now().getTime();
            await t.store.transaction((tx) => settlePeriod(tx, now, 1, now));
            const [{ s: charged }] = (await sqlRows<{ s: number }>(t.store, "SELECT coalesce(sum(amount), 0) AS s FROM entries WHERE kind = 'flat-rate'")) as [
              { s: number },
            ];
            expect(charged).toBe(produced);
            const periods = await sqlRows<{ s: number; e: number }>(
              t.store,
              "SELECT period_start AS s, period_end AS e FROM settlements ORDER BY period_start",
            );
            for (const [i, p] of periods.entries()) {
              expect(p.e).toBeGreaterThan(p.s);
              if (i > 0) expect(p.s, "each period starts where the last ended").toBe(periods[i - 1]!.e);
            }
            expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true });
          } finally {
            await t.close();
          }
        },
      ),
      { numRuns: randomRuns({ sqlite: 40, postgres: 10 }) },
    );
  });
});
