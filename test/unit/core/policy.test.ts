import { describe, expect, it } from "vitest";
import { defaultPolicy, formatPolicyValue, parsePolicyValue, readPolicy } from "../../../src/core/policy.ts";

describe('pool policy defaults are the numbers docs/economics.md gives ("Policy keys")', () => {
  const p = defaultPolicy();
  it.each([
    ["creditLimit", 10_000, "credit limit of 10 weighted hours"],
    ["newKindWeight", 1000, "a new kind starts at 1.00"],
    ["weightGrowthPerDay", 100, "10% per full day"],
    ["weightCap", 4000, "capped at 4.00"],
    ["weightFloor", 250, "floor 0.25"],
    ["waitlistPenalty", 50, "full slots lower the kind's weight 5%"],
    ["creditCapFactor", 2000, "at most twice the estimate"],
    ["claimDays", 7, "claims released after 7 days"],
    ["roundHours", 24, "a round closes 24 h after its first unmet request"],
  ] as const)("GIVEN the defaults THEN %s is %i (%s)", (key, value, _why) => {
    expect(p[key]).toBe(value);
  });

  it("GIVEN the defaults THEN the time zone is UTC", () => {
    expect(p.timezone).toBe("UTC");
  });
});

describe("reading stored policies", () => {
  it("GIVEN an older document without newer keys THEN the defaults fill them in", () => {
    const p = readPolicy(JSON.stringify({ creditLimit: 5000 }));
    expect(p.creditLimit).toBe(5000);
    expect(p.weightCap).toBe(4000);
  });
  it("GIVEN unknown keys THEN they are dropped", () => {
    expect(Object.keys(readPolicy(JSON.stringify({ bogus: 1 })))).not.toContain("bogus");
  });
});

describe("parsePolicyValue", () => {
  it.each([
    ["creditLimit", "15", 15_000],
    ["creditLimit", "12.5", 12_500],
    ["weightGrowthPerDay", "12%", 120],
    ["weightGrowthPerDay", "12.5", 125],
    ["weightCap", "3.5", 3500],
    ["claimDays", "14", 14],
    ["timezone", "Europe/Berlin", "Europe/Berlin"],
  ] as const)("GIVEN %s %j THEN %j", (key, text, value) => {
    expect(parsePolicyValue(key, text)).toEqual({ ok: true, value });
  });

  it.each([
    ["creditLimit", "-1"],
    ["creditLimit", "ten"],
    ["creditLimit", "1e9"],
    ["creditLimit", "99999999"],
    ["weightGrowthPerDay", "12.25%"],
    ["weightCap", "0"],
    ["claimDays", "1.5"],
    ["claimDays", "0"],
    ["timezone", "Mars/Olympus"],
  ] as const)("GIVEN %s %j THEN refused with the expected range", (key, text) => {
    const r = parsePolicyValue(key, text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem.expected.length).toBeGreaterThan(10);
  });

  it("THEN values read back as typed", () => {
    expect(formatPolicyValue("creditLimit", 10_000)).toBe("10.00 wh");
    expect(formatPolicyValue("weightGrowthPerDay", 100)).toBe("10%");
    expect(formatPolicyValue("weightGrowthPerDay", 125)).toBe("12.5%");
    expect(formatPolicyValue("weightCap", 4000)).toBe("4.00");
  });
});
