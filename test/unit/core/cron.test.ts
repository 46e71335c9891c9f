import { describe, expect, it } from "vitest";
import { lastSlot, matches, parseCron, slotsBetween } from "../../../src/core/cron.ts";

const at = (iso: string) => Date.parse(iso);

describe("parseCron", () => {
  it.each(["* * * * *", "*/15 * * * *", "0 9 * * 1", "5 0 1 * *", "0 9-17/2 * * 1-5", "30 6 * * 7"])("GIVEN %j THEN it parses", (e) => expect(parseCron(e)).not.toBeNull());
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
