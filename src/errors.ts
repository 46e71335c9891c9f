// Expected refusals are data, not prose: adapters word them (commands/errors.ts).
import type { EntryId, GoalId, GoodRequestId, LoanId, TaskId } from "./core/ids.ts";
import type { SlotHoldingStatus } from "./core/tasks.ts";

export type Role = "admin" | "coordinator";

export type DomainError =
  | { readonly kind: "room_unbound" }
  | { readonly kind: "room_bound"; readonly pool: string; readonly project: string | null }
  | { readonly kind: "forbidden"; readonly need: "admin" }
  | { readonly kind: "forbidden"; readonly need: "coordinator"; readonly project: string; readonly orAdmin: boolean }
  | {
      readonly kind: "not_found";
      readonly what: "project" | "goal" | "member" | "entry" | "task" | "good" | "kind" | "request" | "loan";
      readonly ref: string;
      /** What the member may have meant, as it is typed (one, or several when a display name is shared). */
      readonly near?: readonly string[];
    }
  | { readonly kind: "project_exists"; readonly slug: string }
  | { readonly kind: "code_invalid"; readonly reason: "unknown" | "expired" | "used" | "other_purpose" }
  | { readonly kind: "already_linked" }
  | { readonly kind: "already_coordinator"; readonly member: string; readonly project: string }
  | { readonly kind: "not_coordinator"; readonly member: string; readonly project: string }
  | { readonly kind: "last_coordinator"; readonly project: string }
  | { readonly kind: "already_admin"; readonly member: string }
  | { readonly kind: "not_admin"; readonly member: string }
  | { readonly kind: "last_admin" }
  | { readonly kind: "goal_done"; readonly id: GoalId }
  | { readonly kind: "policy_value"; readonly key: string; readonly expected: string; readonly example?: string }
  | { readonly kind: "room_is_project_room"; readonly project: string }
  | { readonly kind: "already_reversed"; readonly entry: EntryId; readonly by: EntryId }
  /** A free-text argument holds a word like an option (hours:2); `retype` is the command to type instead. */
  | { readonly kind: "text_like_option"; readonly what: string; readonly word: string; readonly retype: string }
  /** `good return <good>` when the member has several loans of it. */
  | { readonly kind: "which_loan"; readonly good: string; readonly loans: readonly LoanId[] }
  | { readonly kind: "task_closed"; readonly id: TaskId; readonly state: "done" | "cancelled" }
  /** `state`: the caller's claim that already holds a slot of the task. */
  | { readonly kind: "already_claimed"; readonly id: TaskId; readonly state: SlotHoldingStatus }
  | { readonly kind: "turned_down"; readonly id: TaskId; readonly project: string }
  | { readonly kind: "no_claim"; readonly id: TaskId; readonly member: string | null }
  | { readonly kind: "not_reported"; readonly id: TaskId; readonly member: string }
  | { readonly kind: "already_reported"; readonly id: TaskId }
  | { readonly kind: "self_verify"; readonly id: TaskId }
  | { readonly kind: "needs_hours"; readonly id: TaskId; readonly member: string; readonly reported: number; readonly cap: number }
  /** `id`: the task whose due date was being moved (task due); none for a new task's due: option. */
  | { readonly kind: "due_past"; readonly due: number; readonly id?: TaskId }
  /** Past the task's due date: no claims, and no work sent back (`member`: whose work, for reject). */
  | { readonly kind: "task_overdue"; readonly id: TaskId; readonly dueAt: number; readonly action: "claim" | "reject"; readonly member?: string }
  /** A coordinator of the task's project claims a task on which the project turned a volunteer down. */
  | { readonly kind: "coordinator_claim"; readonly id: TaskId; readonly project: string }
  | { readonly kind: "good_exists"; readonly name: string }
  | { readonly kind: "good_model"; readonly good: string; readonly model: string; readonly need: "per-unit" | "flat-rate" | "durable" | "stock" }
  /** `committed`: what the member's waiting requests and open loans already hold of the room; `units`: how many they could afford. */
  | {
      readonly kind: "insufficient_credit";
      readonly needed: number;
      readonly available: number;
      readonly limit: number;
      readonly committed?: number;
      readonly units?: number;
      readonly share?: { readonly good: string };
    }
  | { readonly kind: "out_of_stock"; readonly good: string }
  | { readonly kind: "too_many_units"; readonly qty: number; readonly max: number }
  | { readonly kind: "no_round"; readonly good: string }
  | { readonly kind: "not_yours"; readonly what: "request" | "loan"; readonly id: GoodRequestId | LoanId }
  | { readonly kind: "request_closed"; readonly id: GoodRequestId; readonly status: string }
  | { readonly kind: "subscription"; readonly good: string; readonly subscribed: boolean }
  | { readonly kind: "loan_returned"; readonly id: LoanId }
  /** `goods`: the project's goods members pay for (never copyable ones), whose taking brings the deficit down. */
  | { readonly kind: "deficit_cap"; readonly project: string; readonly deficit: number; readonly cap: number; readonly goods: readonly string[] }
  | { readonly kind: "good_other_project"; readonly good: string; readonly project: string }
  /** A request id already used by another member, or for another command (its answer is not theirs). */
  | { readonly kind: "request_reused" }
  /** Flood control: more commands than the pool's policy allows in its window. */
  | { readonly kind: "rate_limited"; readonly waitMs: number }
  /** A time given by hand (dpool exec --at) before the pool's clock, the latest time recorded in it. */
  | { readonly kind: "clock_behind"; readonly clock: number };

export type DomainErrorKind = DomainError["kind"];

/**
 * The database's write lock stayed with another process longer than a command may wait: an
 * operational condition, not a bug. Nothing was changed; the member may simply try again.
 */
export class DatabaseBusyError extends Error {
  constructor(readonly waitedMs: number) {
    super(`the database stayed locked by another process for ${waitedMs >= 1000 ? `${Math.round(waitedMs / 1000)} s` : `${waitedMs} ms`}`);
    this.name = "DatabaseBusyError";
  }
}

/**
 * Something tried to write through the read-only view of Store.read. The dispatcher runs a read
 * command there and, on this, runs it again as a write (it wanted to write after all).
 */
export class WriteInReadError extends Error {
  constructor(cause: unknown) {
    super("a write was attempted on the read-only view of the database", { cause });
    this.name = "WriteInReadError";
  }
}
