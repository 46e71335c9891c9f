import { describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../../src/clock.ts";
import { claimDeadline, creditHours, isOverdue, openMsBy, openTimeAfter, openTimeOnNewDue, taskState } from "../../../src/core/tasks.ts";

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
    expect(
      taskState(
        task,
        statuses.map((status) => ({ status })),
      ),
    ).toBe(state);
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
  // Was 9 days: a claim (or work sent back) after the due date got a week past it.
  it("GIVEN a due date passed THEN never past it: the due date", () => expect(claimDeadline(DAY_MS, 2 * DAY_MS, 7)).toBe(DAY_MS));
});

describe("due dates: a task past its due date stops gathering open time", () => {
  it("GIVEN the due date THEN the task is overdue from that moment on", () => {
    expect(isOverdue({ dueAt: 5 * DAY_MS }, 5 * DAY_MS - 1)).toBe(false);
    expect(isOverdue({ dueAt: 5 * DAY_MS }, 5 * DAY_MS)).toBe(true);
    expect(isOverdue({ dueAt: null }, 500 * DAY_MS)).toBe(false);
  });
  it("GIVEN the last slot fills after the due date THEN the clock kept only what it counted by the due date", () => {
    expect(openTimeAfter({ openMs: 0, openSince: DAY_MS, dueAt: 3 * DAY_MS }, 1, 0, 1, 9 * DAY_MS)).toEqual({ openMs: 2 * DAY_MS, openSince: null });
  });
  it("GIVEN a new due date after the old one passed THEN an open stretch restarts now, so the overdue days never count", () => {
    expect(openTimeOnNewDue({ openMs: DAY_MS, openSince: 2 * DAY_MS, dueAt: 4 * DAY_MS }, 6 * DAY_MS)).toEqual({ openMs: 3 * DAY_MS, openSince: 6 * DAY_MS });
    const full = { openMs: DAY_MS, openSince: null, dueAt: 4 * DAY_MS };
    expect(openTimeOnNewDue(full, 6 * DAY_MS)).toBe(full);
    const early = { openMs: 0, openSince: 0, dueAt: 4 * DAY_MS };
    expect(openTimeOnNewDue(early, 3 * DAY_MS)).toBe(early);
  });
  it("GIVEN a task due on day 4, moved on day 6 to day 10, with a claim from day 7 to 8 THEN its history counts days 0-4 and 6-7 and 8-10: 7 days by day 12", () => {
    const task = { postedAt: 0, slots: 1, cancelledAt: null, dueAt: 10 * DAY_MS };
    const claims = [{ claimedAt: 7 * DAY_MS, endedAt: 8 * DAY_MS }];
    const moves = [{ before: 4 * DAY_MS, at: 6 * DAY_MS }];
    expect(openMsBy(task, claims, 12 * DAY_MS, moves)).toBe(7 * DAY_MS);
    expect(openMsBy(task, claims, 5 * DAY_MS, moves)).toBe(4 * DAY_MS);
    expect(openMsBy(task, claims, 7 * DAY_MS + HOUR_MS, moves)).toBe(5 * DAY_MS);
    // Moved before the old date passed: nothing was overdue.
    expect(openMsBy(task, [], 12 * DAY_MS, [{ before: 4 * DAY_MS, at: 3 * DAY_MS }])).toBe(10 * DAY_MS);
  });
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
