// Ids: the rows' ids, each kind its own type, and the codes and handles people type.

// ---- Row ids. Every table with an integer id has its own kind of id, and so has every column
// that holds one (db/schema.ts narrows them with $type: types only, no SQL changes). What it
// catches: an id of one kind where another goes, e.g. a MemberId passed to claimTask(ctx,
// taskId: TaskId) or to tx.task(id), is a type error, and so are a TaskId compared (===) with
// a MemberId and a MemberId looked up in a Map<TaskId, ...>. What it does not catch: the brand is optional, so a plain number (a
// literal in a test, a number parsed from text, arithmetic on an id, a row read by raw SQL) is
// accepted as an id of any kind, and any id goes where a plain number does (an account's
// owner, which is a member or a project, stays a plain number). So a number that never had a
// kind is trusted; only an id that carries one is checked. The check relies on
// exactOptionalPropertyTypes (tsconfig.json) and costs nothing at run time: an id is a number.

declare const idKind: unique symbol;
/** An id of a row of one table: a number that does not mix with another table's ids (a plain number still goes anywhere). */
export type Id<K extends string> = number & { readonly [idKind]?: K };

export type PoolId = Id<"pool">;
export type MemberId = Id<"member">;
export type IdentityId = Id<"identity">;
export type ProjectId = Id<"project">;
export type RoomId = Id<"room">;
export type GoalId = Id<"goal">;
export type AccountId = Id<"account">;
export type EntryId = Id<"entry">;
export type OutboxId = Id<"outbox">;
export type KindId = Id<"kind">;
export type KindChangeId = Id<"kindChange">;
export type TaskId = Id<"task">;
export type ClaimId = Id<"claim">;
export type DueChangeId = Id<"dueChange">;
export type NoteId = Id<"note">;
export type GoodId = Id<"good">;
export type ProductionId = Id<"production">;
/** A request for a good (good_requests), not a command's request id (a string). */
export type GoodRequestId = Id<"goodRequest">;
export type RoundId = Id<"round">;
export type AllocationId = Id<"allocation">;
export type SubscriptionId = Id<"subscription">;
export type SettlementId = Id<"settlement">;
export type LoanId = Id<"loan">;

// Where a number becomes an id of a kind it cannot show (a number typed in a command, a row
// read by raw SQL, a JSON body): one function per kind, named after it, so that the boundary
// says which kind it hands out. Add one here when a new boundary needs it; nowhere else.

export const taskId = (n: number): TaskId => n;
export const goalId = (n: number): GoalId => n;
export const entryId = (n: number): EntryId => n;
export const goodRequestId = (n: number): GoodRequestId => n;

// ---- Codes people type: short, unambiguous (no 0/O, 1/I/L), grouped for reading aloud.
// Randomness is a parameter so that tests decide the codes.
const ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

export type RandomBytes = (n: number) => Uint8Array;

export function makeCode(random: RandomBytes, groups = 2, groupLength = 4): string {
  // Rejection sampling: only bytes below the largest multiple of the alphabet's size are used,
  // so every character is equally likely.
  const limit = 256 - (256 % ALPHABET.length);
  const chars: string[] = [];
  while (chars.length < groups * groupLength) {
    for (const b of random(groups * groupLength)) {
      if (b < limit && chars.length < groups * groupLength) chars.push(ALPHABET[b % ALPHABET.length]!);
    }
  }
  const parts: string[] = [];
  for (let g = 0; g < groups; g++) parts.push(chars.slice(g * groupLength, (g + 1) * groupLength).join(""));
  return parts.join("-");
}

/** Normalises what a user typed for a code: case, spaces and dashes do not matter. */
export function normaliseCode(text: string, groupLength = 4): string {
  const flat = text.toUpperCase().replace(/[\s-]/g, "");
  const parts: string[] = [];
  for (let i = 0; i < flat.length; i += groupLength) parts.push(flat.slice(i, i + groupLength));
  return parts.join("-");
}

/** Handles are how members are named in text (@alice): lower case letters, digits, - and _. */
export function handleFrom(displayName: string): string {
  const h = displayName
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 32);
  return h.length > 0 ? h : "member";
}
