// Tasks and claims: how many slots are taken, what state a task is in, how its open time
// moves when slots fill and reopen, when a claim runs out, and how many hours a verifier credits.
import { timesThousandths, type MilliHours, type Thousandths } from "./amounts.ts";
import { DAY_MS } from "./time.ts";
import { openMsAt, type OpenTime } from "./weights.ts";

/**
 * Where a claim stands: the one type for it (the store's rows, refusals and replies use it).
 * The first three hold a slot of the task (holdsSlot); the others ended it. `corrected`:
 * verified work whose credit an admin reversed (pool correct); it counts no more.
 */
export const CLAIM_STATUSES = ["active", "reported", "verified", "dropped", "refused", "released", "cancelled", "corrected"] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];
/** The statuses of a claim that holds a slot: being worked on, reported, or verified. */
export const SLOT_HOLDING_STATUSES = ["active", "reported", "verified"] as const;
export type SlotHoldingStatus = (typeof SLOT_HOLDING_STATUSES)[number];
export type TaskState = "open" | "claimed" | "done" | "cancelled";

/** Claims that hold a slot, as a set. */
export const HOLDS_SLOT: ReadonlySet<ClaimStatus> = new Set<ClaimStatus>(SLOT_HOLDING_STATUSES);

/** Whether a claim of this status holds a slot of its task (every count of taken slots goes through here). */
export const holdsSlot = (status: ClaimStatus): status is SlotHoldingStatus => HOLDS_SLOT.has(status);

export const slotsTaken = (claims: ReadonlyArray<{ status: ClaimStatus }>) => claims.filter((c) => holdsSlot(c.status)).length;

export function taskState(task: { slots: number; cancelledAt: number | null }, claims: ReadonlyArray<{ status: ClaimStatus }>): TaskState {
  if (task.cancelledAt !== null) return "cancelled";
  if (claims.filter((c) => c.status === "verified").length >= task.slots) return "done";
  return slotsTaken(claims) >= task.slots ? "claimed" : "open";
}

/** Open time after the number of taken slots changed at `at`: the clock stops when the last slot fills and restarts when one reopens. */
export function openTimeAfter(t: OpenTime, slots: number, takenBefore: number, takenAfter: number, at: number): OpenTime {
  const wasOpen = takenBefore < slots;
  const isOpen = takenAfter < slots;
  if (wasOpen && !isOpen) return { openMs: openMsAt(t, at), openSince: null };
  if (!wasOpen && isOpen) return { openMs: t.openMs, openSince: at };
  return t;
}

/**
 * A claim runs until the task's due date, if it has one, or for the policy's claim days: never
 * past the due date (a task past it takes no claims, and its work is not sent back).
 */
export function claimDeadline(dueAt: number | null, now: number, claimDays: number): number {
  return dueAt ?? now + claimDays * DAY_MS;
}

/** A task is overdue from its due date on: it takes no claims and its weight no longer rises. */
export const isOverdue = (task: { readonly dueAt: number | null }, now: number): boolean => task.dueAt !== null && task.dueAt <= now;

/**
 * The open-time clock when a task gets a new due date at `now`. A task past its old due date
 * stopped gathering open time there; an open stretch restarts now, so the days it was overdue
 * never count. Before the old due date nothing changes.
 */
export function openTimeOnNewDue(t: OpenTime & { readonly dueAt: number | null }, now: number): OpenTime {
  if (t.dueAt === null || t.dueAt > now || t.openSince === null) return t;
  return { openMs: openMsAt(t, now), openSince: now };
}

export type CreditHours = { readonly ok: true; readonly hours: MilliHours } | { readonly ok: false; readonly reported: MilliHours; readonly cap: MilliHours };

/**
 * Hours to credit: the verifier's explicit hours count as given; otherwise the reported hours,
 * which may not exceed the cap (creditCapFactor x estimate) without the verifier saying so.
 */
export function creditHours(estimate: MilliHours, reported: MilliHours, explicit: MilliHours | undefined, capFactor: Thousandths): CreditHours {
  if (explicit !== undefined) return { ok: true, hours: explicit };
  const cap = Math.floor(timesThousandths(estimate, capFactor));
  if (reported > cap) return { ok: false, reported, cap };
  return { ok: true, hours: reported };
}

/**
 * The open time a task had gathered by `at`, worked out from its claims: a slot is held from a
 * claim's start until it ended (dropped, refused, released, cancelled), or for good once the
 * work is in. Time past a due date does not count: from the due date until the date was moved
 * (`dueChanges`: each change's old date and when it was made), and from the task's present due
 * date on. Lets a summary show a task's weight at the start of its period exactly.
 */
export function openMsBy(
  task: { readonly postedAt: number; readonly slots: number; readonly cancelledAt: number | null; readonly dueAt: number | null },
  claims: ReadonlyArray<{ readonly claimedAt: number; readonly endedAt: number | null }>,
  at: number,
  dueChanges: ReadonlyArray<{ readonly before: number | null; readonly at: number }> = [],
): number {
  const end = Math.min(at, task.cancelledAt ?? Number.POSITIVE_INFINITY);
  if (end <= task.postedAt) return 0;
  const overdue: Array<readonly [number, number]> = dueChanges.flatMap((c) => (c.before !== null && c.before < c.at ? [[c.before, c.at] as const] : []));
  if (task.dueAt !== null) overdue.push([task.dueAt, Number.POSITIVE_INFINITY]);
  /** The part of [a, b) that is not past a due date. */
  const counted = (a: number, b: number) => overdue.reduce((n, [x, y]) => n - Math.max(0, Math.min(b, y) - Math.max(a, x)), b - a);
  const events: Array<[number, number]> = [];
  for (const c of claims) {
    events.push([c.claimedAt, 1]);
    if (c.endedAt !== null) events.push([c.endedAt, -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let taken = 0;
  let t = task.postedAt;
  let open = 0;
  for (const [time, delta] of events) {
    const x = Math.min(Math.max(time, task.postedAt), end);
    if (x > t) {
      if (taken < task.slots) open += counted(t, x);
      t = x;
    }
    taken += delta;
  }
  if (end > t && taken < task.slots) open += counted(t, end);
  return open;
}
