// Schedules as five-field cron expressions (minute hour day-of-month month day-of-week), read
// in a time zone. The scheduler asks which slots fell between two moments, so that a bot that
// was down runs each missed slot once, as of its own time.
import { MINUTE_MS } from "./time.ts";

type Field = ReadonlySet<number>;
export interface Cron {
  readonly minute: Field;
  readonly hour: Field;
  readonly day: Field;
  readonly month: Field;
  readonly weekday: Field;
  readonly anyDay: boolean;
  readonly anyWeekday: boolean;
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
  return { minute: minute!, hour: hour!, day: day!, month: month!, weekday: weekday!, anyDay: parts[2] === "*", anyWeekday: parts[4] === "*" };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function localParts(ms: number, timeZone: string) {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", weekday: "short" });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(p.weekday ?? "");
  return { minute: Number(p.minute), hour: Number(p.hour), day: Number(p.day), month: Number(p.month), weekday };
}

/** Whether the minute starting at `ms` is a slot of the schedule, in the time zone. */
export function matches(c: Cron, ms: number, timeZone = "UTC"): boolean {
  const t = localParts(ms, timeZone);
  if (!c.minute.has(t.minute) || !c.hour.has(t.hour) || !c.month.has(t.month)) return false;
  // As in cron: with both day fields restricted, either one matching is enough.
  const day = c.day.has(t.day);
  const weekday = c.weekday.has(t.weekday);
  if (c.anyDay && c.anyWeekday) return true;
  if (c.anyDay) return weekday;
  if (c.anyWeekday) return day;
  return day || weekday;
}

/** The slots after `after` up to and including `until`, oldest first (at most `limit`). */
export function slotsBetween(c: Cron, after: number, until: number, timeZone = "UTC", limit = 10_000): number[] {
  const out: number[] = [];
  let t = Math.floor(after / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  for (; t <= until && out.length < limit; t += MINUTE_MS) if (matches(c, t, timeZone)) out.push(t);
  return out;
}

/** The latest slot at or before `at`, looking back at most `lookbackMs`. */
export function lastSlot(c: Cron, at: number, timeZone = "UTC", lookbackMs = 8 * 24 * 60 * MINUTE_MS): number | null {
  for (let t = Math.floor(at / MINUTE_MS) * MINUTE_MS; t >= at - lookbackMs; t -= MINUTE_MS) if (matches(c, t, timeZone)) return t;
  return null;
}
