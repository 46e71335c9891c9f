import { describe, expect, it } from "vitest";
import { formatHours, formatThousandths, parseThousandths, toHours } from "../../../src/core/amounts.ts";

describe("parseThousandths", () => {
  it.each([
    ["1", 1000],
    ["1.5", 1500],
    ["0.125", 125],
    ["-2", -2000],
    ["+3.1", 3100],
    [" 7 ", 7000],
    ["1000000", 1_000_000_000],
  ])("GIVEN %j THEN %i thousandths", (text, value) => {
    expect(parseThousandths(text)).toBe(value);
  });

  it.each(["", "1.2345", "1e3", "NaN", "Infinity", "0x10", "1,5", "abc", "1.", ".5", "--1", "9999999999999"])("GIVEN %j THEN null", (text) => {
    expect(parseThousandths(text)).toBeNull();
  });
});

describe("formatting", () => {
  it.each([
    [1000, "1.00"],
    [1500, "1.50"],
    [1234, "1.234"],
    [-250, "-0.25"],
    [0, "0.00"],
  ])("GIVEN %i THEN %s", (value, text) => {
    expect(formatThousandths(value)).toBe(text);
  });

  it("THEN JSON hours carry at most three decimals", () => {
    expect(toHours(12345)).toBe(12.345);
    expect(toHours(-10000)).toBe(-10);
    expect(formatHours(2500)).toBe("2.50 wh");
  });
});
