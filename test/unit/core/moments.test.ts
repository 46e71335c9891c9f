import { describe, expect, it } from "vitest";
import { parseMoment } from "../../../src/core/moments.ts";

describe("parseMoment", () => {
  it.each([
    ["2026-12-01", Date.parse("2026-12-01T00:00:00Z"), true],
    ["2028-02-29", Date.parse("2028-02-29T00:00:00Z"), true],
    ["2026-12-01T18:00Z", Date.parse("2026-12-01T18:00:00Z"), false],
    ["2026-12-01t18:00z", Date.parse("2026-12-01T18:00:00Z"), false],
    ["2026-12-01T18:00:30Z", Date.parse("2026-12-01T18:00:30Z"), false],
    ["2026-12-01T18:00:30.5Z", Date.parse("2026-12-01T18:00:30.500Z"), false],
    ["2026-12-01T18:00:00.123Z", Date.parse("2026-12-01T18:00:00.123Z"), false],
    ["2026-12-01T18:00+01:00", Date.parse("2026-12-01T17:00:00Z"), false],
    ["2026-12-01T18:00-0530", Date.parse("2026-12-01T23:30:00Z"), false],
    ["2026-12-31T23:59:59Z", Date.parse("2026-12-31T23:59:59Z"), false],
    ["0099-01-01", Date.parse("0099-01-01T00:00:00Z"), true],
  ])("GIVEN %j THEN it is read", (text, ms, dayOnly) => expect(parseMoment(text)).toEqual({ ok: true, ms, dayOnly }));

  it.each([
    ["2026-02-30", "February 2026 has 28 days"],
    ["2027-02-29", "February 2027 has 28 days"],
    ["2026-04-31", "April 2026 has 30 days"],
    ["2026-13-01", "there is no month 13: months go from 01 to 12"],
    ["2026-00-10", "there is no month 0: months go from 01 to 12"],
    ["2026-01-00", "January 2026 has 31 days"],
    ["2027-02-30T10:00Z", "February 2027 has 28 days"],
    ["2026-12-01T24:61Z", "24:61 is not a time of day: hours go from 00 to 23, minutes and seconds from 00 to 59"],
    ["2026-12-01T24:00Z", "24:00 is not a time of day: hours go from 00 to 23, minutes and seconds from 00 to 59"],
    ["2026-12-01T10:60Z", "10:60 is not a time of day: hours go from 00 to 23, minutes and seconds from 00 to 59"],
    ["2026-12-01T10:00:60Z", "10:00:60 is not a time of day: hours go from 00 to 23, minutes and seconds from 00 to 59"],
    ["2026-12-01T10:00", "a time needs its zone: Z for UTC, or an offset such as +01:00"],
    ["2026-12-01T10:00+15:00", "+15:00 is not an offset: they go from -14:00 to +14:00"],
    ["2026-12-01T10:00+01:60", "+01:60 is not an offset: they go from -14:00 to +14:00"],
  ])("GIVEN the impossible %j THEN it is refused: %s", (text, why) => expect(parseMoment(text)).toEqual({ ok: false, why }));

  it.each(["", "tomorrow", "2026-1-1", "26-12-01", "2026-12-01 10:00Z", "2026-12-01T10Z", "2026-12-01T10:00:00.1234Z", "2026-12-01T10:00ZZ", "+2026-12-01"])(
    "GIVEN %j THEN it is not a date at all",
    (text) => expect(parseMoment(text)).toEqual({ ok: false }),
  );
});
