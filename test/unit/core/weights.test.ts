// The weight rules, with the pool policy's default numbers.
import { describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../../src/clock.ts";
import { defaultPolicy } from "../../../src/core/policy.ts";
import { formatWeight } from "../../../src/core/amounts.ts";
import { credit, marketWeight, nextRiseAt, openMsAt, taskWeight, waitlistWeight, weightRules, WEIGHT_ONE } from "../../../src/core/weights.ts";

const rules = weightRules(defaultPolicy());

describe("taskWeight: 10% per full day unclaimed, compounded, capped at 4.00", () => {
  it.each([
    [0, 1_000_000],
    [23 * HOUR_MS, 1_000_000],
    [1 * DAY_MS, 1_100_000],
    [2 * DAY_MS, 1_210_000],
    [3 * DAY_MS, 1_331_000],
    [3 * DAY_MS + 23 * HOUR_MS, 1_331_000],
    // 1.1^14 = 3.7974983...; rounded to millionths each day it is 3.797499.
    [14 * DAY_MS, 3_797_499],
    [15 * DAY_MS, 4_000_000],
    [400 * DAY_MS, 4_000_000],
  ])("GIVEN a task posted at 1.00 and open for %i ms THEN its weight is %i millionths", (openMs, weight) => {
    expect(taskWeight(1_000_000, openMs, rules)).toBe(weight);
  });

  it("GIVEN 3 full days THEN 1.331, exactly as the default policy gives", () => {
    expect(formatWeight(taskWeight(WEIGHT_ONE, 3 * DAY_MS, rules), { exact: true })).toBe("1.331");
  });

  it("GIVEN a posted weight above the cap THEN it does not rise, nor fall", () => {
    expect(taskWeight(4_500_000, 10 * DAY_MS, rules)).toBe(4_500_000);
  });

  it("GIVEN day-by-day computation THEN it equals the one-step computation", () => {
    for (let days = 0; days < 20; days++) {
      let w = WEIGHT_ONE;
      for (let d = 0; d < days; d++) w = taskWeight(w, DAY_MS, rules);
      expect(w).toBe(taskWeight(WEIGHT_ONE, days * DAY_MS, rules));
    }
  });

  it("GIVEN no growth THEN the weight stays", () => {
    expect(taskWeight(800_000, 30 * DAY_MS, { ...rules, growth: WEIGHT_ONE })).toBe(800_000);
  });
});

describe("open time: hours during which the task had an open slot", () => {
  it("GIVEN an open stretch THEN it adds to earlier stretches", () => {
    expect(openMsAt({ openMs: 2 * DAY_MS, openSince: 10 * DAY_MS }, 11 * DAY_MS)).toBe(3 * DAY_MS);
    expect(openMsAt({ openMs: 2 * DAY_MS, openSince: null }, 11 * DAY_MS)).toBe(2 * DAY_MS);
  });

  it("GIVEN an open task THEN the next rise is at the next full day of open time; none at the cap or when full", () => {
    expect(nextRiseAt(1_000_000, { openMs: 0, openSince: 0 }, 5 * HOUR_MS, rules)).toBe(DAY_MS);
    expect(nextRiseAt(1_000_000, { openMs: 30 * HOUR_MS, openSince: 100 * DAY_MS }, 100 * DAY_MS, rules)).toBe(100 * DAY_MS + 18 * HOUR_MS);
    expect(nextRiseAt(1_000_000, { openMs: DAY_MS, openSince: null }, 5 * DAY_MS, rules)).toBeNull();
    expect(nextRiseAt(1_000_000, { openMs: 20 * DAY_MS, openSince: 0 }, 20 * DAY_MS, rules)).toBeNull();
  });
});

describe("a task past its due date stops rising", () => {
  it("GIVEN a due date THEN open time counts up to it, never past it", () => {
    expect(openMsAt({ openMs: DAY_MS, openSince: 10 * DAY_MS, dueAt: 12 * DAY_MS }, 11 * DAY_MS)).toBe(2 * DAY_MS);
    expect(openMsAt({ openMs: DAY_MS, openSince: 10 * DAY_MS, dueAt: 12 * DAY_MS }, 40 * DAY_MS)).toBe(3 * DAY_MS);
    // A slot given back after the due date adds nothing.
    expect(openMsAt({ openMs: DAY_MS, openSince: 13 * DAY_MS, dueAt: 12 * DAY_MS }, 40 * DAY_MS)).toBe(DAY_MS);
  });
  it("GIVEN the next full day would end after the due date THEN there is no next rise", () => {
    expect(nextRiseAt(1_000_000, { openMs: 0, openSince: 0, dueAt: DAY_MS }, 5 * HOUR_MS, rules)).toBe(DAY_MS);
    expect(nextRiseAt(1_000_000, { openMs: 0, openSince: 0, dueAt: DAY_MS - 1 }, 5 * HOUR_MS, rules)).toBeNull();
    expect(nextRiseAt(1_000_000, { openMs: 0, openSince: 0, dueAt: 2 * DAY_MS }, 3 * DAY_MS, rules)).toBeNull();
  });
});

describe("market weight: a verified claim pulls its kind marketSmoothing (25%) of the way toward its weight", () => {
  it("GIVEN the default THEN 25%", () => expect(rules.smoothing).toBe(250));
  it.each([
    [1_000_000, 4_000_000, 250, 1_750_000],
    [1_750_000, 1_750_000, 250, 1_750_000],
    [1_000_000, 2_357_948, 250, 1_339_487],
    [902_500, 1_000_000, 250, 926_875],
    // Half up, also downward: -285,897.5 rounds to -285,897.
    [1_571_795, 1_000_000, 500, 1_285_898],
    [1_000_000, 3_000_000, 1000, 3_000_000],
  ])("GIVEN a market at %i and a claim verified at %i with %i thousandths THEN %i", (kind, claim, smoothing, after) => {
    expect(marketWeight(kind, claim, smoothing)).toBe(after);
  });
});

describe("waitlist: each volunteer who finds the slots full lowers the kind's weight 5%", () => {
  it("GIVEN three extra volunteers THEN the weight is 0.857375 of what it was", () => {
    let w = WEIGHT_ONE;
    for (let i = 0; i < 3; i++) w = waitlistWeight(w, rules);
    expect(w).toBe(857_375);
    expect(formatWeight(w, { exact: true })).toBe("0.857375");
  });

  it("GIVEN a weight near the floor THEN it stops at 0.25", () => {
    expect(waitlistWeight(260_000, rules)).toBe(250_000);
    expect(waitlistWeight(250_000, rules)).toBe(250_000);
  });
});

describe("credit = hours x weight, in integer milli-hours", () => {
  it.each([
    [3000, 1_331_000, 3993],
    [1500, 857_375, 1286],
    [1000, 1_000_000, 1000],
    [250, 500_000, 125],
    [1_000_000_000, 4_000_000, 4_000_000_000],
  ])("GIVEN %i mh at weight %i THEN %i mh", (hours, weight, mh) => {
    expect(credit(hours, weight)).toBe(mh);
  });
});
