// A summary's chart as a PNG, the same on every platform: on the left the market weights of the
// project's kinds of work over the period (step lines), on the right its goods' supply against
// demand (grouped bars). Drawn with @napi-rs/canvas (Skia, prebuilt binaries from the npm
// registry) in DejaVu Sans from the dejavu-fonts-ttf package, registered here by path, so the
// chart reads the same on a machine with no fonts installed. Its days are the pool's, in its
// time zone (policy `timezone`), which the title names, as every time the bot shows.
import { createRequire } from "node:module";
import type { SKRSContext2D } from "@napi-rs/canvas";
import { formatWeight, weightOf, weightPpm } from "../src/core/amounts.ts";
import { wallClock } from "../src/core/cron.ts";
import type { ProjectSummary } from "../src/services/summary.ts";
import type { SummaryChart } from "../src/services/summary-chart.ts";
import type { View } from "./present.ts";

export const CHART_WIDTH = 800;
export const CHART_HEIGHT = 400;
export const CHART_FILE = "summary.png";

/** What the chart draws: times in ms, weights as plain numbers (1 = 1.00). */
export interface ChartInput {
  readonly title: string;
  readonly from: number;
  readonly to: number;
  readonly kinds: ReadonlyArray<{ readonly kind: string; readonly points: ReadonlyArray<{ readonly at: number; readonly weight: number }> }>;
  readonly goods: ReadonlyArray<{ readonly good: string; readonly supply: number | null; readonly demand: number }>;
  /** The pool's time zone: the days on the time axis and in the title are its days. */
  readonly timeZone: string;
}

const FONT = "DPool Sans";
const FONT_BOLD = "DPool Sans Bold";
let fontsReady = false;

type CanvasModule = typeof import("@napi-rs/canvas");
let canvasModule: CanvasModule | undefined;

/**
 * @napi-rs/canvas, loaded on the first chart drawn: commands/summary.ts imports this file, so a
 * top-level import would load the native Skia library into every `dpool exec` and every start.
 */
function canvasLib(): CanvasModule {
  return (canvasModule ??= createRequire(import.meta.url)("@napi-rs/canvas") as CanvasModule);
}

function registerFonts(): void {
  if (fontsReady) return;
  const require = createRequire(import.meta.url);
  const { GlobalFonts } = canvasLib();
  const regular = GlobalFonts.registerFromPath(require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans.ttf"), FONT);
  const bold = GlobalFonts.registerFromPath(require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf"), FONT_BOLD);
  if (!regular || !bold) throw new Error("could not load the chart font (dejavu-fonts-ttf)");
  fontsReady = true;
}

const COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"] as const;
const SUPPLY = "#4e79a7";
const DEMAND = "#f28e2b";
const INK = "#222222";
const MUTED = "#777777";
const GRID = "#e3e3e3";
const BACKGROUND = "#ffffff";

/** A summary's chart, its days in the view's zone. Summaries stored before charts existed draw as empty panels. */
export function renderSummaryChart(summary: ProjectSummary, view: View): Buffer {
  return renderChart(chartInput(summary, view));
}

export function chartInput(s: ProjectSummary, view: View): ChartInput {
  const chart: SummaryChart = s.chart ?? { kinds: [], goods: [] };
  return {
    title: `${s.project.name} (${s.project.slug})`,
    from: s.from,
    to: s.to,
    kinds: chart.kinds.map((k) => ({ kind: k.kind, points: k.points.map((p) => ({ at: p.at, weight: weightOf(p.weight) })) })),
    goods: chart.goods.map((g) => ({ good: g.good, supply: g.supply, demand: g.demand })),
    timeZone: view.timeZone,
  };
}

/** Charts drawn for one reply at most (Discord shows ten images per message). */
export const MAX_REPLY_CHARTS = 10;

/**
 * The charts of an on-demand pool summary, one per project (the first few), titled by the
 * project's short name, its days in the view's zone (the answer's: its pool's zone).
 */
export function summaryCharts(projects: readonly ProjectSummary[], view: View): Array<{ name: string; png: Buffer }> {
  return summaryChartInputs(projects, view).map((c) => ({ name: c.name, png: renderChart(c.input) }));
}

/** What summaryCharts draws, before it is drawn. */
export function summaryChartInputs(projects: readonly ProjectSummary[], view: View): Array<{ name: string; input: ChartInput }> {
  // A summary of every project draws the first few: a pool of forty projects is not forty images.
  // A summary stored before charts existed has none to draw.
  return projects
    .slice(0, MAX_REPLY_CHARTS)
    .flatMap((s) =>
      (s as { chart?: unknown }).chart === undefined
        ? []
        : [{ name: `summary-${s.project.slug}.png`, input: { ...chartInput(s, view), title: s.project.slug } }],
    );
}

interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export function renderChart(input: ChartInput): Buffer {
  registerFonts();
  const canvas = canvasLib().createCanvas(CHART_WIDTH, CHART_HEIGHT);
  const g = canvas.getContext("2d");
  g.fillStyle = BACKGROUND;
  g.fillRect(0, 0, CHART_WIDTH, CHART_HEIGHT);
  const labels = chartLabels(input);
  // A long project name is cut, never the period and its zone.
  g.font = `15px "${FONT_BOLD}"`;
  const period = `, ${labels.period}`;
  text(g, fit(g, input.title, CHART_WIDTH - 32 - g.measureText(period).width, 15, true) + period, 16, 24, { size: 15, bold: true });
  drawWeights(g, input, { x: 16, y: 40, w: 460, h: 344 });
  drawGoods(g, input, { x: 500, y: 40, w: 284, h: 344 });
  return canvas.toBuffer("image/png");
}

function drawWeights(g: SKRSContext2D, input: ChartInput, box: Box): void {
  text(g, "Weights of kinds of work", box.x, box.y + 14, { size: 13, bold: true });
  const kinds = input.kinds.filter((k) => k.points.length > 0);
  const legendRows = Math.min(3, Math.ceil(kinds.length / 3));
  const plot: Box = { x: box.x + 44, y: box.y + 28, w: box.w - 52, h: box.h - 28 - 26 - legendRows * 18 };
  const all = kinds.flatMap((k) => k.points.map((p) => p.weight));
  const [lo, hi] = all.length === 0 ? [0.9, 1.1] : padded(Math.min(...all), Math.max(...all));
  const ticks = niceTicks(lo, hi, 5);
  const y = (w: number) => plot.y + plot.h - ((w - ticks.min) / (ticks.max - ticks.min)) * plot.h;
  const span = Math.max(1, input.to - input.from);
  const x = (at: number) => plot.x + ((Math.min(input.to, Math.max(input.from, at)) - input.from) / span) * plot.w;
  axes(g, plot, ticks, (v) => v.toFixed(2), y);
  const { axis } = chartLabels(input);
  for (const [i, at] of axisTimes(input).entries()) {
    const align = i === 0 ? "left" : i === 2 ? "right" : "center";
    text(g, axis[i]!, x(at), plot.y + plot.h + 15, { size: 11, colour: MUTED, align });
  }
  if (kinds.length === 0) {
    text(g, "No kinds of work used in this period", plot.x + plot.w / 2, plot.y + plot.h / 2, { size: 13, colour: MUTED, align: "center" });
    return;
  }
  kinds.forEach((k, i) => {
    g.strokeStyle = COLOURS[i % COLOURS.length]!;
    // Kinds often move together: earlier lines are wider, so a line drawn over another leaves it showing.
    g.lineWidth = Math.max(2, 5.5 - 1.5 * i);
    g.beginPath();
    const [first, ...rest] = k.points;
    g.moveTo(x(first!.at), y(first!.weight));
    let last = first!;
    for (const p of rest) {
      g.lineTo(x(p.at), y(last.weight));
      g.lineTo(x(p.at), y(p.weight));
      last = p;
    }
    g.stroke();
  });
  // Legend: three columns, three rows at most; the rest are counted.
  const shown = legendRows * 3;
  const colW = (box.w - 8) / 3;
  kinds.slice(0, shown).forEach((k, i) => {
    const lx = box.x + 8 + (i % 3) * colW;
    const ly = plot.y + plot.h + 32 + Math.floor(i / 3) * 18;
    const more = i === shown - 1 && kinds.length > shown ? ` (+${kinds.length - shown} more)` : "";
    g.fillStyle = COLOURS[i % COLOURS.length]!;
    g.fillRect(lx, ly - 9, 14, 4);
    text(
      g,
      fit(g, `${k.kind} ${formatWeight(weightPpm(k.points.at(-1)!.weight))}`, colW - 22 - (more ? g.measureText(more).width : 0), 11) + more,
      lx + 20,
      ly - 3,
      { size: 11 },
    );
  });
}

function drawGoods(g: SKRSContext2D, input: ChartInput, box: Box): void {
  text(g, "Goods: supply and demand", box.x, box.y + 14, { size: 13, bold: true });
  const plot: Box = { x: box.x + 36, y: box.y + 28, w: box.w - 40, h: box.h - 28 - 26 - 18 };
  const max = 6;
  const goods = input.goods.slice(0, max);
  // A little headroom for the numbers above the bars.
  const top = Math.max(1, ...goods.flatMap((x) => [x.supply ?? 0, x.demand])) * 1.08;
  const ticks = niceTicks(0, top, 5, 1);
  const y = (v: number) => plot.y + plot.h - (v / ticks.max) * plot.h;
  axes(g, plot, ticks, (v) => String(Math.round(v)), y);
  if (goods.length === 0) {
    text(g, "No goods", plot.x + plot.w / 2, plot.y + plot.h / 2, { size: 13, colour: MUTED, align: "center" });
  }
  const group = plot.w / Math.max(1, goods.length);
  const bar = Math.min(28, (group - 12) / 2);
  goods.forEach((x, i) => {
    const cx = plot.x + group * i + group / 2;
    if (x.supply === null) {
      // Copyable: no limit to draw. A full-height outline says so.
      g.strokeStyle = SUPPLY;
      g.setLineDash([4, 3]);
      g.lineWidth = 1.5;
      g.strokeRect(cx - bar, plot.y + 1, bar - 1, plot.h - 1);
      g.setLineDash([]);
      text(g, "∞", cx - bar / 2, plot.y + 16, { size: 13, colour: SUPPLY, align: "center" });
    } else {
      g.fillStyle = SUPPLY;
      g.fillRect(cx - bar, y(x.supply), bar - 1, plot.y + plot.h - y(x.supply));
      text(g, String(x.supply), cx - bar / 2, y(x.supply) - 3, { size: 10, colour: MUTED, align: "center" });
    }
    g.fillStyle = DEMAND;
    g.fillRect(cx + 1, y(x.demand), bar - 1, plot.y + plot.h - y(x.demand));
    text(g, String(x.demand), cx + 1 + bar / 2, y(x.demand) - 3, { size: 10, colour: MUTED, align: "center" });
    text(g, fit(g, x.good, group - 4, 11), cx, plot.y + plot.h + 15, { size: 11, align: "center" });
  });
  const ly = plot.y + plot.h + 40;
  const more = input.goods.length > max ? `  (+${input.goods.length - max} more)` : "";
  g.fillStyle = SUPPLY;
  g.fillRect(box.x + 8, ly - 10, 12, 10);
  text(g, "supply", box.x + 24, ly, { size: 11 });
  g.fillStyle = DEMAND;
  g.fillRect(box.x + 84, ly - 10, 12, 10);
  text(g, `demand${more}`, box.x + 100, ly, { size: 11 });
}

/** Grid lines with their labels, and the frame of the plot. */
function axes(g: SKRSContext2D, plot: Box, ticks: Ticks, label: (v: number) => string, y: (v: number) => number): void {
  g.lineWidth = 1;
  for (const v of ticks.values) {
    g.strokeStyle = GRID;
    g.beginPath();
    g.moveTo(plot.x, Math.round(y(v)) + 0.5);
    g.lineTo(plot.x + plot.w, Math.round(y(v)) + 0.5);
    g.stroke();
    text(g, label(v), plot.x - 5, y(v) + 4, { size: 10, colour: MUTED, align: "right" });
  }
  g.strokeStyle = MUTED;
  g.beginPath();
  g.moveTo(plot.x + 0.5, plot.y);
  g.lineTo(plot.x + 0.5, plot.y + plot.h + 0.5);
  g.lineTo(plot.x + plot.w, plot.y + plot.h + 0.5);
  g.stroke();
}

interface Ticks {
  readonly min: number;
  readonly max: number;
  readonly values: readonly number[];
}

/** Round tick values covering [lo, hi], about `count` of them, `minStep` apart at least. */
export function niceTicks(lo: number, hi: number, count: number, minStep = 0): Ticks {
  const range = hi > lo ? hi - lo : Math.abs(hi) || 1;
  const raw = range / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  // Counts (minStep 1) take no step of 2.5: their labels stay whole numbers.
  const steps = minStep >= 1 ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10];
  const step = Math.max(minStep, (steps.find((m) => m * mag >= raw) ?? 10) * mag);
  const min = Math.floor(lo / step) * step;
  const max = Math.max(min + step, Math.ceil(hi / step) * step);
  const values: number[] = [];
  for (let v = min; v <= max + step / 1e6; v += step) values.push(Number(v.toFixed(10)));
  return { min, max, values };
}

/** A little room above and below the weights, so flat lines do not sit on the frame. */
function padded(lo: number, hi: number): [number, number] {
  const pad = Math.max(0.05, (hi - lo) * 0.1);
  return [Math.max(0, lo - pad), hi + pad];
}

function text(
  g: SKRSContext2D,
  s: string,
  x: number,
  y: number,
  o: { size: number; bold?: boolean; colour?: string; align?: "left" | "center" | "right" },
): void {
  g.font = `${o.size}px "${o.bold ? FONT_BOLD : FONT}"`;
  g.fillStyle = o.colour ?? INK;
  g.textAlign = o.align ?? "left";
  g.fillText(s, x, y);
}

/** The text, cut with an ellipsis to fit `width` pixels. */
function fit(g: SKRSContext2D, s: string, width: number, size: number, bold = false): string {
  g.font = `${size}px "${bold ? FONT_BOLD : FONT}"`;
  if (g.measureText(s).width <= width) return s;
  let cut = s;
  while (cut.length > 1 && g.measureText(`${cut}…`).width > width) cut = cut.slice(0, -1);
  return `${cut}…`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

/** A date as "27 Nov", the day it is in `timeZone` at `ms`: short enough for an axis. */
function day(ms: number, timeZone: string): string {
  const d = new Date(wallClock(ms, timeZone));
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}

/** The times the weights panel labels on its time axis: the period's start, middle and end. */
function axisTimes(input: ChartInput): [number, number, number] {
  const span = Math.max(1, input.to - input.from);
  return [input.from, input.from + span / 2, input.to];
}

/**
 * The words the chart writes about time, as drawn: the period after the title ("2 Nov to 9 Nov,
 * Europe/Berlin", naming the zone) and the time axis's three day labels, all days in the pool's zone.
 */
export function chartLabels(input: ChartInput): { period: string; axis: [string, string, string] } {
  const zone = input.timeZone;
  const [a, b, c] = axisTimes(input);
  return { period: `${day(input.from, zone)} to ${day(input.to, zone)}, ${zone}`, axis: [day(a, zone), day(b, zone), day(c, zone)] };
}
