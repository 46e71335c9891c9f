// Small formatting helpers shared by the command groups.
import { instantOf, wallClock } from "../src/core/cron.ts";

/**
 * How a reply is shown, besides its data: the time zone its times are written in (the pool's
 * `timezone` policy; UTC for commands outside a pool). Renders take it as their second
 * argument; the dispatcher gives the pool's, and announcement delivery the announcing pool's.
 */
export interface View {
  readonly timeZone: string;
}

export const UTC_VIEW: View = { timeZone: "UTC" };

/** The view of a pool by its policy; an unknown zone (never stored, but old data...) is UTC. */
export function viewOf(policy: { readonly timezone: string } | undefined): View {
  const zone = policy?.timezone;
  return zone && zone !== "UTC" && knownZone(zone) ? { timeZone: zone } : UTC_VIEW;
}

const zones = new Map<string, boolean>();
function knownZone(zone: string): boolean {
  let ok = zones.get(zone);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: zone });
      ok = true;
    } catch {
      ok = false;
    }
    zones.set(zone, ok);
  }
  return ok;
}

/** The wall clock of `ms` in the view's zone as "2026-11-27 06:24" (ISO order, 24 hours). */
function local(ms: number, view: View): string {
  const wall = view.timeZone === "UTC" ? ms : wallClock(ms, view.timeZone);
  return new Date(wall).toISOString().slice(0, 16).replace("T", " ");
}

/** A time as replies show it, in the pool's zone with its name: "2026-11-27 06:24 Europe/Berlin", "2026-11-27 05:24 UTC". */
export function when(ms: number, view: View): string {
  return `${local(ms, view)} ${view.timeZone}`;
}

/** The calendar day of `ms` in the view's zone: "2026-11-27". */
export function day(ms: number, view: View): string {
  return local(ms, view).slice(0, 10);
}

const DAY_MS = 86_400_000;

/**
 * A date typed without a time (`due:2026-11-20`) means the end of that day where the pool is:
 * the parser keeps it as the day's last millisecond in UTC (commands/args.ts), and this moves
 * it to the last millisecond of that day in the view's zone (23:59 in Berlin is 22:59 UTC).
 * A time typed with its zone (`2026-11-20T17:00Z`) is kept as it is.
 */
export function dayEndIn(ms: number, view: View): number {
  if (view.timeZone === "UTC" || (ms + 1) % DAY_MS !== 0) return ms;
  return instantOf(ms + 1, view.timeZone) - 1;
}

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;
