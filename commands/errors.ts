// The words for every refusal, in one exhaustive switch: each says what went wrong and what
// to type instead, on one line.
import { formatHours, formatPlainHours } from "../src/core/amounts.ts";
import { excerpt } from "../src/core/clean-text.ts";
import type { DomainError } from "../src/errors.ts";
import { commandName, type AnyCommand } from "./define.ts";
import { UTC_VIEW, when, type View } from "./present.ts";
import { usageLine, type UsageError } from "./text.ts";

function assertNever(x: never): never {
  throw new Error(`unhandled refusal ${JSON.stringify(x)}`);
}

/** `did you mean "bakery"? `, or nothing when nothing is near. */
function didYouMean(near: readonly string[] | undefined, quoted: boolean): string {
  const n = near?.[0];
  if (n === undefined) return "";
  return `did you mean ${quoted ? `"${excerpt(n)}"` : excerpt(n)}? `;
}

/** The refusal as one line; times in it are written in the view's zone (the pool's, when the command ran in one). */
export function describeDomainError(e: DomainError, view: View = UTC_VIEW): string {
  switch (e.kind) {
    case "room_unbound":
      return 'this room belongs to no pool yet: type "pool create <name>" to start one, or "pool join <code>" with an invite from a pool admin';
    case "room_bound":
      return `this room already belongs to the pool "${e.pool}"${e.project ? ` (project ${e.project})` : ""}: use another room, or type "pool info"`;
    case "forbidden":
      return e.need === "admin"
        ? 'only a pool admin can do that: "pool members" shows who the admins are'
        : `only a coordinator of ${e.project}${e.orAdmin ? " or a pool admin" : ""} can do that: "project info ${e.project}" shows who coordinates it`;
    case "not_found":
      switch (e.what) {
        case "project":
          if (e.near && e.near.length > 1)
            return `"${excerpt(e.ref)}" is the name of ${e.near.length} projects: type the short name of the one you mean, ${e.near.map((n) => `"${n}"`).join(" or ")}`;
          return `there is no project "${excerpt(e.ref)}" in this pool: ${didYouMean(e.near, true)}"project list" shows them`;
        case "goal":
          return `there is no goal ${e.ref} in this pool: "goal list" shows them`;
        case "member":
          return `${excerpt(e.ref)} is not a member of this pool: ${didYouMean(e.near, false)}they become one by typing any command in a room of the pool ("pool members" lists them)`;
        case "entry":
          return `there is no ledger entry ${e.ref} in this pool: "me history" shows entry numbers`;
        case "task":
          return `there is no task ${excerpt(e.ref)} in this pool: ${didYouMean(e.near, false)}"task list status:all" shows them`;
        case "good":
          if (e.near && e.near.length > 1)
            return `"${excerpt(e.ref)}" is the name of ${e.near.length} goods: type the short name of the one you mean, ${e.near.map((n) => `"${n}"`).join(" or ")}`;
          return `there is no good "${excerpt(e.ref)}" in this pool: ${didYouMean(e.near, true)}"good list" shows them`;
        case "kind":
          return `there is no kind "${excerpt(e.ref)}" in this pool: ${didYouMean(e.near, true)}"kind list" shows them`;
        case "request":
          return `there is no request ${e.ref} in this pool: "good show <good>" lists the waiting ones`;
        case "loan":
          return `there is no loan ${e.ref} in this pool: "me" lists your loans with their numbers`;
        default:
          return assertNever(e);
      }
    case "project_exists":
      return `a project "${e.slug}" exists already: choose another short name, or type "project info ${e.slug}"`;
    case "code_invalid":
      switch (e.reason) {
        case "unknown":
          return "that code is not known: check it for typos, or ask for a new one";
        case "expired":
          return "that code has expired: ask for a new one";
        case "used":
          return "that code was used already: each code works once, ask for a new one";
        case "other_purpose":
          return 'that code is for something else: pool invites go with "pool join <code>", link codes with "me link <code>"';
        default:
          return assertNever(e.reason);
      }
    case "already_linked":
      return "that link code is your own: type it as your other account (on the other platform), not this one";
    case "already_coordinator":
      return `@${e.member} already coordinates ${e.project}`;
    case "not_coordinator":
      return `@${e.member} is not a coordinator of ${e.project}: "project info ${e.project}" shows who is`;
    case "last_coordinator":
      return `${e.project} needs at least one coordinator: add another with "project coordinator add ${e.project} @member" first`;
    case "already_admin":
      return `@${e.member} is already a pool admin`;
    case "not_admin":
      return `@${e.member} is not a pool admin: "pool members" shows who is`;
    case "last_admin":
      return 'the pool needs at least one admin: add another with "pool admin add @member" first';
    case "goal_done":
      return `goal #${e.id} is done already: "goal list" shows the open ones`;
    case "policy_value":
      return `${e.key} must be ${e.expected}: type "pool policy ${e.key} ${e.example ?? "<value>"}"`;
    case "room_is_project_room":
      return `this room is already a room of ${e.project}: nothing to change ("project info ${e.project}" lists its rooms)`;
    case "already_reversed":
      return `entry #${e.entry} was already corrected by entry #${e.by}`;
    case "text_like_option":
      return `the ${e.what} holds "${e.word}", which looks like an option, and this command has none: type the ${e.what} in words, such as ${e.retype}`;
    case "which_loan":
      return `you have ${e.loans.length === 2 ? "two" : e.loans.length} loans of ${e.good}: type ${e.loans.map((l) => `"good return ${l}"`).join(" or ")}`;
    case "task_closed":
      return `task #${e.id} is ${e.state === "done" ? "done" : "cancelled"}: "task list" shows the open ones`;
    case "already_claimed":
      return e.state === "active"
        ? `you already have a slot on task #${e.id}: report it with "task done ${e.id}", or give it back with "task drop ${e.id}"`
        : e.state === "reported"
          ? `you reported task #${e.id} done already: it waits for a coordinator's "task verify"`
          : `your work on task #${e.id} is verified already`;
    case "turned_down":
      return `${e.project} turned you down for task #${e.id}: "task list" shows other work`;
    case "no_claim":
      return e.member === null
        ? `you have no slot on task #${e.id}: "task claim ${e.id}" takes one`
        : `@${e.member} has no slot on task #${e.id}: "task show ${e.id}" lists who has`;
    case "not_reported":
      return `@${e.member} has not reported task #${e.id} done yet: they type "task done ${e.id}" first`;
    case "already_reported":
      return `you reported task #${e.id} done already: wait for verification, or "task drop ${e.id}" to give it back`;
    case "self_verify":
      return `nobody verifies their own work: another coordinator of the project or a pool admin verifies task #${e.id}`;
    case "needs_hours":
      return `@${e.member} reported ${formatPlainHours(e.reported)}, above the cap of ${formatPlainHours(e.cap)} (the pool's creditCapFactor times the estimate): type "task verify ${e.id} @${e.member} hours:<h>" with the hours you confirm`;
    case "due_past":
      return e.id === undefined
        ? `that due date has passed: give a date ahead, such as due:${new Date(e.due + 7 * 86_400_000).toISOString().slice(0, 10)}`
        : `that due date has passed: give a date ahead, such as "task due ${e.id} ${new Date(e.due + 7 * 86_400_000).toISOString().slice(0, 10)}"`;
    case "task_overdue": {
      const due = when(e.dueAt, view);
      return e.action === "claim"
        ? `task #${e.id} was due ${due}: it can no longer be claimed. Its coordinators can give it a new date ("task due ${e.id} <date>") or cancel it ("task cancel ${e.id}")`
        : `task #${e.id} was due ${due}: work sent back now could not be redone in time. Verify it ("task verify ${e.id} @${e.member}"), turn it down ("task refuse ${e.id} @${e.member}"), or give the task a new date first ("task due ${e.id} <date>")`;
    }
    case "coordinator_claim":
      return `${e.project} turned a volunteer down for task #${e.id}, so its coordinators may not claim it themselves (its weight rose after that): leave it to another member, or cancel it ("task cancel ${e.id}") and post it anew at the market weight`;
    case "good_exists":
      return `a good "${e.name}" exists already: choose another name, or "good show ${e.name}"`;
    case "good_model":
      return e.need === "stock"
        ? `${e.good} is copyable: it has no stock to produce; its effort is credited through tasks posted with good:${e.good}`
        : e.model === "flat-rate"
          ? `${e.good} is a flat-rate good: type "good subscribe ${e.good}" instead`
          : e.model === "durable"
            ? `${e.good} is a durable good: type "good borrow ${e.good} days:<n>" instead`
            : e.model === "copyable"
              ? `${e.good} is copyable: "good request ${e.good}" gives access, there is nothing to ${e.need === "durable" ? "borrow" : "subscribe to"}`
              : `${e.good} is a per-unit good: type "good request ${e.good} qty:<n>" instead`;
    case "insufficient_credit": {
      const held = e.committed ? `, less ${formatHours(e.committed)} held by your waiting requests, loans and subscriptions` : "";
      const units =
        e.units === undefined ? "" : e.units > 0 ? `enough for ${e.units} unit${e.units === 1 ? "" : "s"} at the effort; ` : "not enough for one unit; ";
      // The limit itself comes last, so the member sees how far below zero the pool lets a balance go.
      const limit = ` (the pool's credit limit is ${formatHours(e.limit)})`;
      if (e.share)
        return `your expected share of ${e.share.good} this period is ${formatHours(e.needed)} and you can take ${formatHours(Math.max(0, e.available))} more (balance plus the credit limit${held}): contribute first, then "good subscribe ${e.share.good}"${limit}`;
      return `that costs ${formatHours(e.needed)} and you can take ${formatHours(Math.max(0, e.available))} more (balance plus the credit limit${held}): ${units}contribute first, or ask for less${limit}`;
    }
    case "too_many_units":
      return `a request may ask for at most ${e.max} units (pool policy maxRequestQty), not ${e.qty}: ask for fewer`;
    case "out_of_stock":
      return `no ${e.good} is in stock right now: try later, or ask its coordinators`;
    case "no_round":
      return `nobody is waiting for ${e.good}: there is no round to close`;
    case "not_yours":
      return `${e.what} #${e.id} is not yours: only the member who made it can ${e.what === "request" ? "cancel" : "return"} it`;
    case "request_closed":
      return `request #${e.id} is ${e.status} already: only waiting requests can be cancelled`;
    case "subscription":
      return e.subscribed ? `you are subscribed to ${e.good} already` : `you are not subscribed to ${e.good}`;
    case "loan_returned":
      return `loan #${e.id} was returned already`;
    case "deficit_cap":
      return `${e.project}'s deficit is ${formatHours(e.deficit)}, past the pool's cap of ${formatHours(e.cap)}: no new production tasks until members take more of its goods (${e.goods.join(", ")}); tasks without good: can still be posted`;
    case "good_other_project":
      return `${e.good} is not a good of ${e.project}: a production task makes its own project's goods`;
    case "request_reused":
      return "that request id was already used for another command";
    case "rate_limited":
      return `you are sending commands too fast: wait ${Math.max(1, Math.ceil(e.waitMs / 1000))} s`;
    case "clock_behind": {
      const clock = new Date(e.clock).toISOString().replace(".000Z", "Z");
      return `this pool's time is already ${clock} (its latest recorded command): --at cannot go back before it; give --at ${clock} or later`;
    }
    default:
      return assertNever(e);
  }
}

export function describeUsageError(e: UsageError): string {
  const parts = [e.problem];
  if (e.command) parts.push(`usage: ${usageLine(e.command)}`);
  if (e.suggestion) parts.push(`did you mean "${e.suggestion}"?`);
  if (e.command) parts.push(`("help ${commandName(e.command)}" explains it)`);
  return parts.join(" · ");
}

export type { AnyCommand };
