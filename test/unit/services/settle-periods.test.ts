// Issue 12, item 4: flat-rate goods were charged twice when an admin switched settlePeriod
// (monthly to weekly or back): 6 wh produced, two subscribers, 12 wh charged, the audit still
// balanced. Periods never overlap now: a switch first settles the running period up to the
// change, and each unit of effort is charged once.
import { afterEach, describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../../src/clock.ts";
import { testPool, type TestPool } from "../../support/app.ts";
import { sqlRows } from "../../support/db-dump.ts";

let t: TestPool;
afterEach(() => t?.close());

/** Every flat-rate charge in the ledger, in milli-hours. */
const charged = async (tp: TestPool) =>
  (await sqlRows<{ s: number }>(tp.store, "SELECT coalesce(sum(amount), 0) AS s FROM entries WHERE kind = 'flat-rate'"))[0]!.s;

async function soup(): Promise<TestPool> {
  const tp = await testPool({ start: "2026-11-02T09:00:00Z" });
  await tp.ok("admin", "pool create Riverside");
  await tp.ok("alice", "project create kitchen The Kitchen");
  await tp.ok("alice", "good add kitchen soup effort:1 model:flat-rate");
  await tp.ok("carol", "good subscribe soup");
  await tp.ok("dave", "good subscribe soup");
  await tp.ok("alice", "good produce soup 6");
  return tp;
}

describe("settlement periods never overlap", () => {
  it("GIVEN 6 wh produced in November, settled monthly, THEN switching to weekly charges nothing more: 6 wh in all", async () => {
    t = await soup();
    t.clock.advance(30 * DAY_MS);
    await t.ok("admin", "pool settle");
    expect(await charged(t)).toBe(6000);
    await t.ok("admin", "pool policy settlePeriod weekly");
    t.clock.advance(14 * DAY_MS);
    await t.ok("admin", "pool settle");
    expect(await charged(t)).toBe(6000);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true });
  });

  it("GIVEN weekly, switched to monthly mid-month THEN the running week is settled up to the switch, and the month's rest once", async () => {
    t = await soup();
    await t.ok("admin", "pool policy settlePeriod weekly");
    t.clock.advance(8 * DAY_MS); // Tuesday 10 November: the first week ended
    await t.ok("admin", "pool settle");
    expect(await charged(t)).toBe(6000);
    await t.ok("alice", "good produce soup 4");
    t.clock.advance(HOUR_MS);
    await t.ok("admin", "pool policy settlePeriod monthly");
    // The week running since Monday 9 November is settled up to the switch: 4 more.
    expect(await charged(t)).toBe(10_000);
    await t.ok("alice", "good produce soup 2");
    t.clock.advance(30 * DAY_MS);
    await t.ok("admin", "pool settle");
    expect(await charged(t)).toBe(12_000);
    await t.ok("admin", "pool policy settlePeriod weekly");
    await t.ok("admin", "pool policy settlePeriod monthly");
    t.clock.advance(60 * DAY_MS);
    await t.ok("admin", "pool settle");
    expect(await charged(t)).toBe(12_000);
  });
});
