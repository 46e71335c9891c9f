// How replies show numbers and times: one function per kind, rounding for display only.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatHours, formatNumber, formatPercent, formatPlainHours, formatWeight, MAX_MILLI_HOURS, toHours } from "../../../src/core/amounts.ts";
import { day, dayEndIn, UTC_VIEW, viewOf, when } from "../../../commands/present.ts";

describe("formatHours (amounts of weighted hours)", () => {
  it.each([
    [0, "0.00 wh"],
    [1000, "1.00 wh"],
    [23_385, "23.39 wh"], // half up
    [23_384, "23.38 wh"],
    [1_949, "1.95 wh"],
    [5, "0.01 wh"], // 0.005: half away from zero
    [4, "0.00 wh"],
    [-5, "-0.01 wh"], // halves away from zero on both sides
    [-4, "0.00 wh"], // rounds to zero: no sign
    [-1_995, "-2.00 wh"],
    [-23_385, "-23.39 wh"],
    [999_995, "1000.00 wh"],
    [MAX_MILLI_HOURS, "1000000.00 wh"],
    [-MAX_MILLI_HOURS * 50, "-50000000.00 wh"],
  ])("GIVEN %i milli-hours THEN %s", (milli, text) => {
    expect(formatHours(milli)).toBe(text);
  });

  it.each([
    [25_000, "0.03 wh"], // 0.025 wh a day, half up
    [15_000, "0.02 wh"],
    [14_999, "0.01 wh"],
    [1_000_000, "1.00 wh"],
    [2_143_589, "2.14 wh"],
  ])("GIVEN %i millionths of an hour THEN %s", (micro, text) => {
    expect(formatHours(micro, 1_000_000)).toBe(text);
  });

  it("GIVEN values past the safe integers of a product THEN the rounding is still exact (integer arithmetic)", () => {
    expect(formatHours(Number.MAX_SAFE_INTEGER)).toBe("9007199254740.99 wh");
    expect(formatHours(-Number.MAX_SAFE_INTEGER)).toBe("-9007199254740.99 wh");
  });

  it("GIVEN any amount THEN the text has exactly two decimals and is within half a hundredth of the exact value", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (milli) => {
        const text = formatHours(milli);
        expect(text).toMatch(/^-?\d+\.\d{2} wh$/);
        const shown = Math.round(Number.parseFloat(text) * 100); // hundredths
        const exact = milli / 10; // hundredths
        expect(Math.abs(shown - exact)).toBeLessThanOrEqual(0.5);
        // Halves go away from zero, so the text of -x is the text of x with a minus (unless zero).
        const mirror = formatHours(-milli);
        expect(mirror.replace(/^-/, "")).toBe(text.replace(/^-/, ""));
      }),
    );
  });
});

describe("formatWeight (weights of tasks, kinds and bids)", () => {
  it.each([
    [1_000_000, "1.00"],
    [1_331_000, "1.33"],
    [1_464_100, "1.46"],
    [857_375, "0.86"],
    [2_143_589, "2.14"],
    [1_948_717, "1.95"],
    [1_005_000, "1.01"], // half up
    [1_004_999, "1.00"],
    [4_000_000, "4.00"],
    [100_000_000, "100.00"],
    [5_000, "0.01"],
    [4_999, "0.00"],
  ])("GIVEN %i millionths THEN %s", (w, text) => {
    expect(formatWeight(w)).toBe(text);
  });

  it.each([
    [1_000_000, "1.00"],
    [1_331_000, "1.331"],
    [1_464_100, "1.4641"],
    [857_375, "0.857375"],
    [2_143_589, "2.143589"],
    [1_250_000, "1.25"],
  ])("GIVEN %i millionths THEN exactly %s (task show's why-this-weight line)", (w, text) => {
    expect(formatWeight(w, { exact: true })).toBe(text);
  });
});

describe("formatNumber, formatPlainHours, formatPercent (plain quantities)", () => {
  it.each([
    [2000, "2"],
    [1500, "1.5"],
    [1250, "1.25"],
    [1125, "1.13"], // half up
    [1124, "1.12"],
    [0, "0"],
    [4, "0"],
    [-1125, "-1.13"],
    [-4, "0"],
    [1_000_000_000, "1000000"],
  ])("GIVEN %i thousandths THEN %s", (v, text) => {
    expect(formatNumber(v)).toBe(text);
  });

  it("THEN hours of work and percentages read as people write them", () => {
    expect(formatPlainHours(2000)).toBe("2 h");
    expect(formatPlainHours(1125)).toBe("1.13 h");
    expect(formatPercent(100)).toBe("10%");
    expect(formatPercent(125)).toBe("12.5%");
    expect(formatPercent(1000)).toBe("100%");
    expect(formatPercent(10)).toBe("1%");
  });

  it("THEN JSON keeps the exact values (three decimals), whatever the text shows", () => {
    expect(toHours(23_385)).toBe(23.385);
    expect(formatHours(23_385)).toBe("23.39 wh");
  });
});

describe("when (times in the pool's time zone)", () => {
  const winter = Date.parse("2026-11-27T05:24:00Z");
  const summer = Date.parse("2026-07-01T05:24:59Z");

  it("GIVEN no pool THEN UTC, named", () => {
    expect(when(winter, UTC_VIEW)).toBe("2026-11-27 05:24 UTC");
    expect(when(winter, viewOf(undefined))).toBe("2026-11-27 05:24 UTC");
  });

  it("GIVEN Europe/Berlin THEN the local wall clock with the zone's name, summer time too", () => {
    const berlin = viewOf({ timezone: "Europe/Berlin" });
    expect(berlin).toEqual({ timeZone: "Europe/Berlin" });
    expect(when(winter, berlin)).toBe("2026-11-27 06:24 Europe/Berlin");
    expect(when(summer, berlin)).toBe("2026-07-01 07:24 Europe/Berlin");
  });

  it("GIVEN a zone west of UTC THEN the local day may be the day before", () => {
    const ny = viewOf({ timezone: "America/New_York" });
    expect(when(Date.parse("2026-11-27T03:00:00Z"), ny)).toBe("2026-11-26 22:00 America/New_York");
    expect(day(Date.parse("2026-11-27T03:00:00Z"), ny)).toBe("2026-11-26");
  });

  it("GIVEN a zone the runtime does not know THEN UTC rather than a crash", () => {
    expect(viewOf({ timezone: "Mars/Olympus" })).toEqual(UTC_VIEW);
  });
});

describe("dayEndIn (a date typed without a time, in the pool's zone)", () => {
  const endOfUtcDay = (d: string) => Date.parse(`${d}T00:00:00Z`) + 86_400_000 - 1;

  it("GIVEN UTC THEN the day's last millisecond in UTC, as the parser keeps it", () => {
    expect(new Date(dayEndIn(endOfUtcDay("2026-11-20"), UTC_VIEW)).toISOString()).toBe("2026-11-20T23:59:59.999Z");
  });

  it("GIVEN Europe/Berlin THEN the last millisecond of that day there, in winter and in summer", () => {
    const berlin = viewOf({ timezone: "Europe/Berlin" });
    expect(new Date(dayEndIn(endOfUtcDay("2026-11-20"), berlin)).toISOString()).toBe("2026-11-20T22:59:59.999Z");
    expect(new Date(dayEndIn(endOfUtcDay("2027-07-01"), berlin)).toISOString()).toBe("2027-07-01T21:59:59.999Z");
    // The day clocks go back (25 hours long) ends at midnight winter time.
    expect(new Date(dayEndIn(endOfUtcDay("2026-10-25"), berlin)).toISOString()).toBe("2026-10-25T22:59:59.999Z");
    expect(when(dayEndIn(endOfUtcDay("2026-11-20"), berlin), berlin)).toBe("2026-11-20 23:59 Europe/Berlin");
  });

  it("GIVEN a zone west of UTC THEN the day ends after midnight UTC", () => {
    const ny = viewOf({ timezone: "America/New_York" });
    expect(new Date(dayEndIn(endOfUtcDay("2026-11-20"), ny)).toISOString()).toBe("2026-11-21T04:59:59.999Z");
  });

  it("GIVEN a time typed with its zone THEN it is kept as it is", () => {
    const berlin = viewOf({ timezone: "Europe/Berlin" });
    const at = Date.parse("2026-11-20T17:00:00Z");
    expect(dayEndIn(at, berlin)).toBe(at);
  });
});
