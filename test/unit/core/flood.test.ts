import { describe, expect, it } from "vitest";
import { EMPTY_FLOOD, floodIdle, floodVerdict, type FloodLimit, type FloodState } from "../../../src/core/flood.ts";

const LIMIT: FloodLimit = { commands: 3, windowMs: 10_000 };

/** Runs commands at the given times (ms) and returns each verdict. */
function run(times: readonly number[], limit = LIMIT): string[] {
  let state: FloodState = EMPTY_FLOOD;
  return times.map((now) => {
    const r = floodVerdict(state, now, limit);
    state = r.state;
    return r.outcome.verdict === "run" ? "run" : `${r.outcome.verdict} ${r.outcome.waitMs}`;
  });
}

describe("floodVerdict", () => {
  it.each([
    ["GIVEN commands under the limit THEN every one runs", [0, 1, 2], ["run", "run", "run"]],
    [
      "GIVEN one past the limit THEN told once how long to wait, then ignored quietly",
      [0, 1000, 2000, 3000, 4000],
      ["run", "run", "run", "tell 7000", "quiet 6000"],
    ],
    ["GIVEN the window passed THEN it runs again", [0, 1000, 2000, 3000, 10_000], ["run", "run", "run", "tell 7000", "run"]],
    [
      "GIVEN a spell over and a new flood THEN told again",
      [0, 1, 2, 3, 10_000, 10_001, 10_002, 10_003, 10_004],
      ["run", "run", "run", "tell 9997", "run", "run", "run", "tell 9997", "quiet 9996"],
    ],
    ["GIVEN commands spread out THEN the window slides", [0, 4000, 8000, 10_000, 14_000], ["run", "run", "run", "run", "run"]],
    ["GIVEN the same instant (a clock standing still) THEN the limit holds", [5, 5, 5, 5, 5], ["run", "run", "run", "tell 10000", "quiet 10000"]],
  ])("%s", (_name, times, expected) => {
    expect(run(times)).toEqual(expected);
  });

  it("GIVEN floodCommands 0 THEN nothing is limited or remembered", () => {
    expect(run([0, 0, 0, 0, 0, 0], { commands: 0, windowMs: 10_000 })).toEqual(Array(6).fill("run"));
    expect(floodVerdict(EMPTY_FLOOD, 0, { commands: 0, windowMs: 1 }).state).toEqual(EMPTY_FLOOD);
  });

  it("GIVEN ignored commands THEN they are not counted: the wait ends when the oldest counted one leaves the window", () => {
    // Told at 3000 to wait until 10_000; a steady stream meanwhile changes nothing about that.
    expect(run([0, 1000, 2000, 3000, 5000, 7000, 9000, 9999, 10_000])).toEqual([
      "run",
      "run",
      "run",
      "tell 7000",
      "quiet 5000",
      "quiet 3000",
      "quiet 1000",
      "quiet 1",
      "run",
    ]);
  });

  it("GIVEN a state THEN it is idle once its window passed and nobody waits", () => {
    const { state } = floodVerdict(EMPTY_FLOOD, 1000, LIMIT);
    expect(floodIdle(state, 5000, LIMIT.windowMs)).toBe(false);
    expect(floodIdle(state, 11_000, LIMIT.windowMs)).toBe(true);
  });
});
