import { describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../../src/clock.ts";
import { claimDeadline, creditHours, openTimeAfter, taskState } from "../../../src/core/tasks.ts";

describe("taskState", () => {
  const task = { slots: 2, cancelledAt: null };
  it.each([
    [[], "open"],
    [["active"], "open"],
    [["active", "reported"], "claimed"],
    [["verified", "dropped", "active"], "claimed"],
    [["verified", "verified"], "done"],
    [["refused", "released", "cancelled"], "open"],
  ] as const)("GIVEN claims %j on two slots THEN %s", (statuses, state) => {
    expect(taskState(task, statuses.map((status) => ({ status })))).toBe(state);
  });
  it("GIVEN a cancelled task THEN cancelled whatever its claims", () => {
    expect(taskState({ slots: 1, cancelledAt: 5 }, [{ status: "verified" }])).toBe("cancelled");
  });
});

describe("open time", () => {
  it("GIVEN the last slot fills THEN the open clock stops and keeps what it counted", () => {
    expect(openTimeAfter({ openMs: DAY_MS, openSince: 10 * DAY_MS }, 1, 0, 1, 12 * DAY_MS)).toEqual({ openMs: 3 * DAY_MS, openSince: null });
  });
  it("GIVEN a slot reopens THEN the clock restarts from where it was", () => {
    expect(openTimeAfter({ openMs: 3 * DAY_MS, openSince: null }, 1, 1, 0, 20 * DAY_MS)).toEqual({ openMs: 3 * DAY_MS, openSince: 20 * DAY_MS });
  });
  it("GIVEN one of two slots fills THEN the clock keeps running", () => {
    const t = { openMs: 0, openSince: 0 };
    expect(openTimeAfter(t, 2, 0, 1, 5 * HOUR_MS)).toBe(t);
  });
});

describe("claimDeadline", () => {
  it("GIVEN no due date THEN claim days from now", () => expect(claimDeadline(null, 0, 7)).toBe(7 * DAY_MS));
  it("GIVEN a due date ahead THEN the due date", () => expect(claimDeadline(3 * DAY_MS, 0, 7)).toBe(3 * DAY_MS));
  it("GIVEN a due date passed THEN claim days from now", () => expect(claimDeadline(DAY_MS, 2 * DAY_MS, 7)).toBe(9 * DAY_MS));
});

describe("creditHours (cap: twice the estimate unless the verifier says otherwise)", () => {
  it.each([
    [4000, 3000, undefined, { ok: true, hours: 3000 }],
    [4000, 8000, undefined, { ok: true, hours: 8000 }],
    [4000, 8001, undefined, { ok: false, reported: 8001, cap: 8000 }],
    [4000, 20000, 12000, { ok: true, hours: 12000 }],
    [4000, 1000, 2500, { ok: true, hours: 2500 }],
  ])("GIVEN estimate %i, reported %i, explicit %s THEN %j", (estimate, reported, explicit, expected) => {
    expect(creditHours(estimate, reported, explicit, 2000)).toEqual(expected);
  });
});
