// The summary's chart: its figures come from stored facts, and the PNG decodes to an 800x400
// picture with both panels drawn, also for a project with nothing to show.
import { afterEach, describe, expect, it } from "vitest";
import { CHART_HEIGHT, CHART_WIDTH, chartInput, chartLabels, niceTicks, renderSummaryChart, summaryChartInputs } from "../../commands/chart.ts";
import { attachmentsOf, resultOf } from "../../commands/define.ts";
import { poolSummaryCommand } from "../../commands/summary.ts";
import { UTC_VIEW, viewOf } from "../../commands/present.ts";
import { poolTimeZones } from "../../src/delivery.ts";
import { DAY_MS, HOUR_MS } from "../../src/core/time.ts";
import { runDueJobs } from "../../src/schedules.ts";
import type { ProjectSummary } from "../../src/services/summary.ts";
import { testPool, type TestPool } from "../support/app.ts";
import { decodePng, distinctColours, inkIn, pixelsOf } from "../support/png.ts";

let t: TestPool;
afterEach(() => t?.close());

const WEEK_START = Date.parse("2026-11-02T09:00:00Z"); // a Monday: the default summarySchedule
const WEEK_END = WEEK_START + 7 * DAY_MS;
/** The two panels' plot areas (see commands/chart.ts), with a margin. */
const WEIGHTS = { x: 64, y: 72, w: 400, h: 230 };
const GOODS = { x: 540, y: 72, w: 230, h: 230 };

/** A week of a bakery's work, with a week before it; the scheduled summaries of the week. */
async function week(): Promise<Record<string, ProjectSummary>> {
  t = await testPool({ start: "2026-10-28T09:00:00Z" });
  await t.ok("admin", "pool create Riverside");
  await t.ok("alice", "project create bakery The Bakery");
  await t.ok("alice", "project create empty Nothing Yet");
  await t.ok("alice", "good add bakery bread effort:0.5 stock:10");
  await t.ok("alice", "good add bakery cake effort:2");
  await t.ok("alice", "good add bakery recipes effort:1 model:copyable");
  await t.ok("alice", "task post bakery Knead hours:1 kind:baking");
  await t.ok("alice", "task post bakery Shape hours:1 kind:baking");
  await t.ok("alice", "task post bakery Mop hours:1 kind:cleaning");
  await t.ok("alice", "task post bakery Paint hours:1 kind:painting"); // cancelled before the week
  await t.ok("alice", "task post bakery Sweep hours:1 kind:sweeping"); // done before the week
  t.clock.advance(DAY_MS);
  await t.ok("alice", "task cancel 4");
  await t.ok("bob", "task claim 5");
  await t.ok("bob", "task done 5");
  await t.ok("alice", "task verify 5 @bob");
  await t.ok("carol", "good request bread qty:3");
  // The week: Nov 2 09:00 to Nov 9 09:00.
  t.clock.set(new Date(WEEK_START + DAY_MS));
  await t.ok("bob", "task claim 1");
  await t.ok("bob", "task done 1");
  await t.ok("alice", "task verify 1 @bob"); // verified work moves the baking market weight
  await t.ok("alice", "good produce bread 5");
  await t.ok("erin", "good request bread qty:4");
  await t.ok("dave", "good request cake qty:2");
  await t.ok("dave", "good request recipes qty:1");
  t.clock.advance(2 * DAY_MS);
  await t.ok("carol", "task claim 3");
  const runs = await runDueJobs(t.store, WEEK_END);
  expect(runs.find((r) => r.job === "summaries")?.outcome).toBe("2");
  const notes = (await t.store.pendingNotes("console", 100)).filter((n) => n.kind === "summary");
  return Object.fromEntries(notes.map((n) => JSON.parse(n.body) as ProjectSummary).map((s) => [s.project.slug, s]));
}

describe("the summary chart's figures", () => {
  it("GIVEN a week THEN the weights of the kinds used step through their changes, and goods show supply against demand", async () => {
    const { bakery } = await week();
    const chart = bakery!.chart;
    expect(bakery!.from).toBe(WEEK_START);
    expect(bakery!.to).toBe(WEEK_END);
    // Painting was cancelled and sweeping done before the week: not part of it.
    expect(chart.kinds.map((k) => k.kind)).toEqual(["baking", "cleaning"]);
    for (const k of chart.kinds) {
      expect(k.points[0]!.at).toBe(WEEK_START);
      expect(k.points.at(-1)!.at).toBe(WEEK_END);
      expect(k.points.map((p) => p.at)).toEqual([...k.points.map((p) => p.at)].sort((a, b) => a - b));
    }
    // Baking rose when work on a task claimed after days open was verified; the last point holds the final weight.
    const baking = chart.kinds[0]!;
    expect(baking.points.length).toBeGreaterThan(2);
    expect(baking.points.at(-1)!.weight).toBeGreaterThan(baking.points[0]!.weight);
    expect(baking.points.at(-1)!.weight).toBe(baking.points.at(-2)!.weight);
    expect(chart.goods).toEqual([
      // 10 made, 3 taken before the week; 5 made and 4 asked for in it.
      { good: "bread", unit: "unit", model: "per-unit", stockAtStart: 7, produced: 5, supply: 12, demand: 4 },
      { good: "cake", unit: "unit", model: "per-unit", stockAtStart: 0, produced: 0, supply: 0, demand: 2 },
      { good: "recipes", unit: "unit", model: "copyable", stockAtStart: 0, produced: 0, supply: null, demand: 1 },
    ]);
  });

  it("GIVEN a project with nothing in the week THEN its chart has no series", async () => {
    const { empty } = await week();
    expect(empty!.chart).toEqual({ kinds: [], goods: [] });
  });
});

describe("the summary chart as a PNG", () => {
  it("GIVEN a week's summary THEN the PNG decodes to 800x400 with lines in the weights panel and bars in the goods panel", async () => {
    const { bakery } = await week();
    const picture = decodePng(renderSummaryChart(bakery!, UTC_VIEW));
    expect([picture.width, picture.height]).toEqual([CHART_WIDTH, CHART_HEIGHT]);
    expect([CHART_WIDTH, CHART_HEIGHT]).toEqual([800, 400]);
    expect(distinctColours(picture)).toBeGreaterThan(10);
    expect(inkIn(picture, WEIGHTS)).toBeGreaterThan(500);
    expect(inkIn(picture, GOODS)).toBeGreaterThan(2000);
    // The two kinds' lines (first two colours of the palette), and supply and demand bars.
    expect(pixelsOf(picture, "#4e79a7", WEIGHTS)).toBeGreaterThan(100);
    expect(pixelsOf(picture, "#f28e2b", WEIGHTS)).toBeGreaterThan(100);
    expect(pixelsOf(picture, "#4e79a7", GOODS)).toBeGreaterThan(1000);
    expect(pixelsOf(picture, "#f28e2b", GOODS)).toBeGreaterThan(300);
  });

  it("GIVEN a project with nothing to show, or a summary stored before charts THEN the chart still draws, saying so", async () => {
    const { empty } = await week();
    for (const s of [empty!, { ...empty!, chart: undefined } as unknown as ProjectSummary]) {
      const picture = decodePng(renderSummaryChart(s, UTC_VIEW));
      expect([picture.width, picture.height]).toEqual([800, 400]);
      // Axes and the "No kinds of work used" and "No goods" lines, in grey and black.
      expect(distinctColours(picture)).toBeGreaterThan(3);
      expect(inkIn(picture, WEIGHTS)).toBeGreaterThan(200);
      expect(inkIn(picture, GOODS)).toBeGreaterThan(100);
      expect(pixelsOf(picture, "#f28e2b", GOODS)).toBe(0);
    }
  });

  it("GIVEN pool summary on demand THEN its reply carries one decodable chart per project", async () => {
    await week();
    t.clock.advance(HOUR_MS);
    const r = await t.say("admin", "pool summary");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const charts = attachmentsOf(r);
    expect(charts.map((c) => c.name)).toEqual(["summary-bakery.png", "summary-empty.png"]);
    for (const c of charts) expect(decodePng(c.png).width).toBe(800);
    const balance = await t.say("admin", "me balance");
    expect(balance.ok && attachmentsOf(balance)).toEqual([]);
  });

  it("GIVEN ranges THEN the axis ticks are round numbers that cover them", () => {
    expect(niceTicks(0, 13, 5, 1).values).toEqual([0, 5, 10, 15]);
    expect(niceTicks(0, 1, 5, 1).values).toEqual([0, 1]);
    expect(niceTicks(0.95, 1.45, 5).values).toEqual([0.8, 1, 1.2, 1.4, 1.6]);
  });
});

describe("the chart's days are the pool's, in its time zone", () => {
  // Auckland is 13 hours ahead of UTC in November: its Monday 09:00 is Sunday 20:00 UTC.
  const AUCKLAND_WEEK_END = Date.parse("2026-11-08T20:00:00Z");

  /** A week of work in a pool in Pacific/Auckland, up to its scheduled summary; returns the bakery's and the pool's zone as delivery reads it. */
  async function aucklandWeek(): Promise<{ bakery: ProjectSummary; timeZone: string }> {
    t = await testPool({ start: "2026-10-28T09:00:00Z" });
    await t.ok("admin", "pool create Riverside");
    await t.ok("admin", "pool policy timezone Pacific/Auckland");
    await t.ok("alice", "project create bakery The Bakery");
    await t.ok("alice", "good add bakery bread effort:0.5 stock:10");
    await t.ok("alice", "task post bakery Knead hours:1 kind:baking");
    t.clock.set(new Date(AUCKLAND_WEEK_END - 5 * DAY_MS));
    await t.ok("bob", "task claim 1");
    await t.ok("bob", "task done 1");
    await t.ok("alice", "task verify 1 @bob");
    const runs = await runDueJobs(t.store, AUCKLAND_WEEK_END);
    expect(runs.find((r) => r.job === "summaries")?.outcome).toBe("1");
    const note = (await t.store.pendingNotes("console", 100)).find((n) => n.kind === "summary")!;
    const zones = await poolTimeZones(t.store, [note.poolId]);
    return { bakery: JSON.parse(note.body) as ProjectSummary, timeZone: zones.get(note.poolId)! };
  }

  it("GIVEN a scheduled summary of a pool in Pacific/Auckland THEN its chart's time axis and title give Auckland's days (a day after UTC's) and name the zone", async () => {
    const { bakery, timeZone } = await aucklandWeek();
    expect(timeZone).toBe("Pacific/Auckland");
    // The week ran from Monday 09:00 to Monday 09:00 in Auckland: Sundays 20:00 in UTC.
    expect([bakery.from, bakery.to]).toEqual([AUCKLAND_WEEK_END - 7 * DAY_MS, AUCKLAND_WEEK_END]);
    const auckland = chartLabels(chartInput(bakery, viewOf({ timezone: timeZone })));
    expect(auckland).toEqual({ period: "2 Nov to 9 Nov, Pacific/Auckland", axis: ["2 Nov", "5 Nov", "9 Nov"] });
    // The same chart in UTC would say the day before at both ends (as it did before).
    expect(chartLabels(chartInput(bakery, UTC_VIEW))).toEqual({ period: "1 Nov to 8 Nov, UTC", axis: ["1 Nov", "5 Nov", "8 Nov"] });
    // The labels are drawn: the picture in Auckland's days is not the picture in UTC's.
    const drawn = renderSummaryChart(bakery, { timeZone });
    expect(decodePng(drawn).width).toBe(CHART_WIDTH);
    expect(drawn.equals(renderSummaryChart(bakery, UTC_VIEW))).toBe(false);
  });

  it("GIVEN pool summary on demand in a pool in Pacific/Auckland THEN the reply carries the pool's zone and its charts are labelled in Auckland's days", async () => {
    await aucklandWeek();
    t.clock.set(new Date(AUCKLAND_WEEK_END + HOUR_MS)); // Monday 10:00 in Auckland, Sunday 21:00 UTC
    const r = await t.say("admin", "pool summary bakery");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.view).toEqual({ timeZone: "Pacific/Auckland" });
    const charts = summaryChartInputs(resultOf(r, poolSummaryCommand)?.projects ?? [], r.view);
    expect(charts.map((c) => c.name)).toEqual(["summary-bakery.png"]);
    // The last seven days: from Monday 10:00 a week ago to now, both Mondays in Auckland (Sundays in UTC).
    expect(chartLabels(charts[0]!.input)).toEqual({ period: "2 Nov to 9 Nov, Pacific/Auckland", axis: ["2 Nov", "5 Nov", "9 Nov"] });
    expect(decodePng(attachmentsOf(r)[0]!.png).height).toBe(CHART_HEIGHT);
  });
});
