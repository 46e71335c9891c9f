import { describe, expect, it } from "vitest";
import { lastSlot, matches, parseCron, slotsBetween } from "../../../src/core/cron.ts";

const at = (iso: string) => Date.parse(iso);

describe("parseCron", () => {
  it.each(["* * * * *", "*/15 * * * *", "0 9 * * 1", "5 0 1 * *", "0 9-17/2 * * 1-5", "30 6 * * 7"])("GIVEN %j THEN it parses", (e) =>
    expect(parseCron(e)).not.toBeNull(),
  );
  it.each(["", "* * * *", "60 * * * *", "* 24 * * *", "*/0 * * * *", "a * * * *", "5-1 * * * *"])("GIVEN %j THEN null", (e) => expect(parseCron(e)).toBeNull());
});

describe("slots", () => {
  it("GIVEN Mondays 09:00 THEN a week has one slot, and Sunday can be 0 or 7", () => {
    const c = parseCron("0 9 * * 1")!;
    expect(slotsBetween(c, at("2026-11-01T00:00:00Z"), at("2026-11-08T00:00:00Z")).map((t) => new Date(t).toISOString())).toEqual(["2026-11-02T09:00:00.000Z"]);
    expect(matches(parseCron("0 0 * * 7")!, at("2026-11-01T00:00:00Z"))).toBe(true);
  });
  it("GIVEN every 15 minutes THEN two days down means 192 slots", () => {
    expect(slotsBetween(parseCron("*/15 * * * *")!, at("2026-11-01T00:00:00Z"), at("2026-11-03T00:00:00Z"))).toHaveLength(192);
  });
  it("GIVEN a time zone THEN slots are local times", () => {
    const c = parseCron("0 9 * * *")!;
    expect(new Date(lastSlot(c, at("2026-11-02T12:00:00Z"), "Europe/Berlin")!).toISOString()).toBe("2026-11-02T08:00:00.000Z");
  });
});

// Clock changes in 2026. Europe/Berlin: forward 29 March at 02:00 CET (01:00Z) to 03:00 CEST,
// back 25 October at 03:00 CEST (01:00Z) to 02:00 CET. America/New_York: forward 8 March at
// 02:00 EST (07:00Z) to 03:00 EDT, back 1 November at 02:00 EDT (06:00Z) to 01:00 EST.
describe("daylight saving time", () => {
  const iso = (xs: readonly number[]) => xs.map((t) => new Date(t).toISOString());
  const around = (day: string) => [at(`${day}T00:00:00Z`) - 36 * 3_600_000, at(`${day}T00:00:00Z`) + 36 * 3_600_000] as const;

  it.each([
    ["Europe/Berlin", "30 2 * * *", "2026-10-25", ["2026-10-24T00:30:00.000Z", "2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"]],
    ["Europe/Berlin", "30 2 * * *", "2026-03-29", ["2026-03-28T01:30:00.000Z", "2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"]],
    ["America/New_York", "30 1 * * *", "2026-11-01", ["2026-10-31T05:30:00.000Z", "2026-11-01T05:30:00.000Z", "2026-11-02T06:30:00.000Z"]],
    ["America/New_York", "30 2 * * *", "2026-03-08", ["2026-03-07T07:30:00.000Z", "2026-03-08T07:00:00.000Z", "2026-03-09T06:30:00.000Z"]],
    // Several skipped times of one schedule stand for one instant after the gap: one slot.
    [
      "Europe/Berlin",
      "*/15 2 * * *",
      "2026-03-29",
      [
        "2026-03-28T01:00:00.000Z",
        "2026-03-28T01:15:00.000Z",
        "2026-03-28T01:30:00.000Z",
        "2026-03-28T01:45:00.000Z",
        "2026-03-29T01:00:00.000Z",
        "2026-03-30T00:00:00.000Z",
        "2026-03-30T00:15:00.000Z",
        "2026-03-30T00:30:00.000Z",
        "2026-03-30T00:45:00.000Z",
      ],
    ],
    // A time next to the change is not moved.
    ["Europe/Berlin", "59 1 * * *", "2026-03-29", ["2026-03-28T00:59:00.000Z", "2026-03-29T00:59:00.000Z", "2026-03-29T23:59:00.000Z"]],
    ["Europe/Berlin", "0 3 * * *", "2026-03-29", ["2026-03-28T02:00:00.000Z", "2026-03-29T01:00:00.000Z", "2026-03-30T01:00:00.000Z"]],
    ["Europe/Berlin", "0 3 * * *", "2026-10-25", ["2026-10-24T01:00:00.000Z", "2026-10-25T02:00:00.000Z", "2026-10-26T02:00:00.000Z"]],
  ])("GIVEN %s and %j around %s THEN each local day has its slot once", (zone, expr, day, expected) => {
    const [from, to] = around(day);
    expect(iso(slotsBetween(parseCron(expr)!, from, to, zone))).toEqual(expected);
  });

  it.each([
    ["Europe/Berlin", "2026-10-25", 25],
    ["Europe/Berlin", "2026-03-29", 23],
    ["America/New_York", "2026-11-01", 25],
    ["America/New_York", "2026-03-08", 23],
  ])("GIVEN an hourly schedule in %s on %s THEN it follows elapsed time: %i slots in the local day", (zone, day, n) => {
    const c = parseCron("0 * * * *")!;
    const midnight = (d: string) => lastSlot(parseCron("0 0 * * *")!, at(`${d}T12:00:00Z`), zone)!;
    const next = new Date(at(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const slots = slotsBetween(c, midnight(day) - 1, midnight(next) - 1, zone);
    expect(slots).toHaveLength(n);
    expect(slots.every((t, i) => i === 0 || t - slots[i - 1]! === 3_600_000)).toBe(true);
  });

  it.each([
    // Inside the repeated hour the latest slot is the first 02:30, not the second.
    ["Europe/Berlin", "30 2 * * *", "2026-10-25T01:45:00Z", "2026-10-25T00:30:00.000Z"],
    ["Europe/Berlin", "30 2 * * *", "2026-03-29T01:00:00Z", "2026-03-29T01:00:00.000Z"],
    ["Europe/Berlin", "30 2 * * *", "2026-03-29T00:59:00Z", "2026-03-28T01:30:00.000Z"],
    ["America/New_York", "30 1 * * *", "2026-11-01T06:45:00Z", "2026-11-01T05:30:00.000Z"],
    ["America/New_York", "30 2 * * *", "2026-03-08T08:00:00Z", "2026-03-08T07:00:00.000Z"],
  ])("GIVEN %s and %j THEN the last slot at %s is %s", (zone, expr, moment, expected) => {
    expect(new Date(lastSlot(parseCron(expr)!, at(moment), zone)!).toISOString()).toBe(expected);
  });

  it.each(["Europe/Berlin", "America/New_York"])("GIVEN a whole year in %s THEN a daily 02:30 has one slot a day and slots match lastSlot", (zone) => {
    const c = parseCron("30 2 * * *")!;
    const slots = slotsBetween(c, at("2026-01-01T12:00:00Z"), at("2027-01-01T12:00:00Z"), zone);
    expect(slots).toHaveLength(365);
    for (const t of slots) expect(lastSlot(c, t, zone)).toBe(t);
  });
});
