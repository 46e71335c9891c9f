// Schedules as five-field cron expressions (minute hour day-of-month month day-of-week), read
// in a time zone. The scheduler asks which slots fell between two moments, so that a bot that
// was down runs each missed slot once, as of its own time.
// Daylight saving time, as Vixie cron and cronie do it: a schedule at fixed hours runs once per
// local occurrence. A local time that happens twice (clocks go back) runs at its first
// occurrence only; one that does not happen (clocks go forward) runs at the first instant after
// the gap. A schedule for every hour ("*/15 * * * *") follows elapsed time instead: it runs at
// each instant whose local time matches, twice through a repeated hour, never inside a gap.
import { DAY_MS, HOUR_MS, MINUTE_MS } from "./time.ts";

type Field = ReadonlySet<number>;
export interface Cron {
  readonly minute: Field;
  readonly hour: Field;
  readonly day: Field;
  readonly month: Field;
  readonly weekday: Field;
  readonly anyDay: boolean;
  readonly anyWeekday: boolean;
  /** Every hour: the schedule follows elapsed time through clock changes. */
  readonly anyHour: boolean;
}

const RANGES: ReadonlyArray<[number, number]> = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];

function field(text: string, [lo, hi]: [number, number]): Set<number> | null {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) return null;
    const from = m[1] === "*" ? lo : Number(m[2]);
    const to = m[1] === "*" ? hi : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? hi : from;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (from < lo || to > hi || from > to || step < 1) return null;
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

/** Parses "*\/15 * * * *", "0 9 * * 1" and the like; null when it is not a valid expression. */
export function parseCron(expr: string): Cron | null {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) return null;
  const fields = parts.map((p, i) => field(p, RANGES[i]!));
  if (fields.some((f) => f === null)) return null;
  const [minute, hour, day, month, weekday] = fields as Set<number>[];
  if (weekday!.has(7)) weekday!.add(0);
  return {
    minute: minute!,
    hour: hour!,
    day: day!,
    month: month!,
    weekday: weekday!,
    anyDay: parts[2] === "*",
    anyWeekday: parts[4] === "*",
    anyHour: hour!.size === 24,
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function localParts(ms: number, timeZone: string) {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      weekday: "short",
    });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(p.weekday ?? "");
  return { year: Number(p.year), minute: Number(p.minute), hour: Number(p.hour), day: Number(p.day), month: Number(p.month), weekday };
}

function matchesParts(c: Cron, t: { minute: number; hour: number; day: number; month: number; weekday: number }): boolean {
  if (!c.minute.has(t.minute) || !c.hour.has(t.hour) || !c.month.has(t.month)) return false;
  // As in cron: with both day fields restricted, either one matching is enough.
  const day = c.day.has(t.day);
  const weekday = c.weekday.has(t.weekday);
  if (c.anyDay && c.anyWeekday) return true;
  if (c.anyDay) return weekday;
  if (c.anyWeekday) return day;
  return day || weekday;
}

/** Whether the minute starting at `ms` is a slot of the schedule, in the time zone. */
export function matches(c: Cron, ms: number, timeZone = "UTC"): boolean {
  return matchesParts(c, localParts(ms, timeZone));
}

/** Whether a local wall-clock minute (written as if it were UTC) is a slot of the schedule. */
function matchesWall(c: Cron, wall: number): boolean {
  const d = new Date(wall);
  return matchesParts(c, { minute: d.getUTCMinutes(), hour: d.getUTCHours(), day: d.getUTCDate(), month: d.getUTCMonth() + 1, weekday: d.getUTCDay() });
}

/** The local wall-clock time at `ms`, written as if it were UTC (minute precision). */
export function wallClock(ms: number, timeZone: string): number {
  if (timeZone === "UTC") return ms;
  const p = localParts(ms, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
}

/**
 * The instant a local wall-clock minute stands for: its first occurrence when clocks went back,
 * the first instant after the gap when it was skipped because clocks went forward.
 */
export function instantOf(wall: number, timeZone: string): number {
  if (timeZone === "UTC") return wall;
  // The offsets a day either side: a wall time is read with one of them, or falls in the gap.
  const before = wallClock(wall - DAY_MS, timeZone) - (wall - DAY_MS);
  const after = wallClock(wall + DAY_MS, timeZone) - (wall + DAY_MS);
  const candidates = [wall - before, wall - after].filter((t) => wallClock(t, timeZone) === wall);
  if (candidates.length > 0) return Math.min(...candidates);
  // Skipped: the first minute whose wall-clock time is past it, found by bisection.
  let lo = Math.min(wall - before, wall - after);
  let hi = Math.max(wall - before, wall - after);
  if (wallClock(lo, timeZone) > wall || wallClock(hi, timeZone) <= wall) return hi;
  while (hi - lo > MINUTE_MS) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE_MS) * MINUTE_MS;
    if (wallClock(mid, timeZone) > wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

// Wall-clock times are searched this far beyond the two ends' offsets, for clock changes
// between them.
const WALL_MARGIN_MS = 3 * HOUR_MS;

/**
 * The UTC offset at any minute, read from hourly samples (a clock change is found by bisection
 * inside its hour): one Intl call an hour instead of one a minute.
 */
function offsetReader(timeZone: string): (ms: number) => number {
  if (timeZone === "UTC") return () => 0;
  const offset = (t: number) => wallClock(t, timeZone) - t;
  let hour = Number.NaN;
  let before = 0;
  let after = 0;
  let change = Infinity;
  return (ms) => {
    const h = Math.floor(ms / HOUR_MS) * HOUR_MS;
    if (h !== hour) {
      hour = h;
      before = offset(h);
      after = offset(h + HOUR_MS);
      change = Infinity;
      if (before !== after) {
        let lo = h;
        let hi = h + HOUR_MS;
        while (hi - lo > MINUTE_MS) {
          const mid = lo + Math.floor((hi - lo) / 2 / MINUTE_MS) * MINUTE_MS;
          if (offset(mid) === before) lo = mid;
          else hi = mid;
        }
        change = hi;
      }
    }
    return ms < change ? before : after;
  };
}

/** The slots after `after` up to and including `until`, oldest first (at most `limit`). */
export function slotsBetween(c: Cron, after: number, until: number, timeZone = "UTC", limit = 10_000): number[] {
  const out: number[] = [];
  const first = Math.floor(after / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  if (c.anyHour || timeZone === "UTC") {
    const offset = offsetReader(timeZone);
    for (let t = first; t <= until && out.length < limit; t += MINUTE_MS) if (matchesWall(c, t + offset(t))) out.push(t);
    return out;
  }
  const from = wallClock(first, timeZone) - WALL_MARGIN_MS;
  const to = wallClock(until, timeZone) + WALL_MARGIN_MS;
  for (let w = from; w <= to && out.length < limit; w += MINUTE_MS) {
    if (!matchesWall(c, w)) continue;
    const t = instantOf(w, timeZone);
    // Several skipped times may stand for the same instant after the gap: it is one slot.
    if (t > after && t <= until && t !== out[out.length - 1]) out.push(t);
  }
  return out;
}

/** The latest slot at or before `at`, looking back at most `lookbackMs`. */
export function lastSlot(c: Cron, at: number, timeZone = "UTC", lookbackMs = 8 * 24 * 60 * MINUTE_MS): number | null {
  const top = Math.floor(at / MINUTE_MS) * MINUTE_MS;
  if (c.anyHour || timeZone === "UTC") {
    const offset = offsetReader(timeZone);
    for (let t = top; t >= at - lookbackMs; t -= MINUTE_MS) if (matchesWall(c, t + offset(t))) return t;
    return null;
  }
  const bottom = wallClock(at - lookbackMs, timeZone) - WALL_MARGIN_MS;
  for (let w = wallClock(top, timeZone) + WALL_MARGIN_MS; w >= bottom; w -= MINUTE_MS) {
    if (!matchesWall(c, w)) continue;
    const t = instantOf(w, timeZone);
    if (t <= at && t >= at - lookbackMs) return t;
  }
  return null;
}
