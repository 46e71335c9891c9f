// Flood control: at most `commands` commands of one member in any window of `windowMs`. Past
// the limit the member is told once how long to wait, then ignored quietly until the oldest
// counted command leaves the window. Only admitted commands are counted, so waiting it out
// always works, and a told or ignored command changes nothing.

export interface FloodLimit {
  /** 0: no limit. */
  readonly commands: number;
  readonly windowMs: number;
}

export interface FloodState {
  /** Times of the admitted commands still in the window, oldest first (at most `commands`). */
  readonly times: readonly number[];
  /** Until when the member has been told to wait: commands before it are ignored quietly. */
  readonly toldUntil: number | null;
}

export type FloodVerdict =
  { readonly verdict: "run" } | { readonly verdict: "tell"; readonly waitMs: number } | { readonly verdict: "quiet"; readonly waitMs: number };

export const EMPTY_FLOOD: FloodState = { times: [], toldUntil: null };

/** What to do with one more command at `now`, and the member's state after it. */
export function floodVerdict(state: FloodState, now: number, limit: FloodLimit): { readonly outcome: FloodVerdict; readonly state: FloodState } {
  if (limit.commands <= 0) return { outcome: { verdict: "run" }, state: EMPTY_FLOOD };
  // Times after `now` (a clock set back) stay counted: they are not older than the window.
  const times = state.times.filter((t) => t > now - limit.windowMs).slice(-limit.commands);
  if (times.length < limit.commands) return { outcome: { verdict: "run" }, state: { times: [...times, now], toldUntil: null } };
  const until = times[0]! + limit.windowMs;
  const waitMs = Math.max(1, until - now);
  if (state.toldUntil !== null && now < state.toldUntil) return { outcome: { verdict: "quiet", waitMs }, state: { times, toldUntil: state.toldUntil } };
  return { outcome: { verdict: "tell", waitMs }, state: { times, toldUntil: until } };
}

/** Whether a state can be forgotten at `now` (nothing counted, nobody told to wait). */
export function floodIdle(state: FloodState, now: number, windowMs: number): boolean {
  return (state.toldUntil === null || state.toldUntil <= now) && state.times.every((t) => t <= now - windowMs);
}
