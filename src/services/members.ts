// Members and their platform identities: one person, many accounts on many platforms.
import { MINUTE_MS } from "../clock.ts";
import { MAX_ENTRY_MILLI_HOURS } from "../core/ledger.ts";
import type { DomainError } from "../errors.ts";
import { err, ok, type Result } from "../result.ts";
import { didSomething } from "../core/outcome.ts";
import { holdsSlot } from "../core/tasks.ts";
import type { ClaimRow, ClaimStatus, IdentityRow, MemberRow, Tx } from "../store.ts";
import { noteRow } from "./announce.ts";
import { catchUp } from "./catch-up.ts";
import { ensureAccount, type Ctx } from "./context.ts";
import { postEntry } from "./posting.ts";
import { freshCode, takeCode } from "./pools.ts";
import { endClaim } from "./tasks.ts";
import type { MemberId, TaskId } from "../core/ids.ts";

type R<T> = Promise<Result<T, DomainError>>;

export const LINK_CODE_TTL_MS = 15 * MINUTE_MS;

/** A code to type on another platform (or as another identity) within 15 minutes. */
export interface LinkCode {
  readonly code: string;
  readonly expiresAt: number;
  readonly member: MemberRow;
}

export async function makeLinkCode(ctx: Ctx): R<LinkCode> {
  const code = await freshCode(ctx, "link");
  const expiresAt = ctx.now + LINK_CODE_TTL_MS;
  await ctx.tx.insertCode({ code, purpose: "link", poolId: null, memberId: ctx.member.id, createdAt: ctx.now, expiresAt, usedAt: null, usedBy: null });
  return ok({ code, expiresAt, member: ctx.member });
}

/** Two slots of the member on one task: the one kept and the one given back, by their states then. */
export interface SlotResolved {
  readonly task: TaskId;
  readonly kept: ClaimStatus;
  readonly gaveBack: ClaimStatus;
}

export interface Linked {
  readonly member: MemberRow;
  readonly merged: MemberRow;
  readonly identities: readonly IdentityRow[];
  readonly movedBalances: number;
  /** Tasks on which both accounts held a slot: the member keeps one. */
  readonly resolved: readonly SlotResolved[];
}

/**
 * Every column of the schema that holds a member's id, and what linking does with it:
 * - `moves`: it is the member's (a claim, a request, a note...) and moves to the member linked
 *   into; where both accounts hold one, see Tx.mergeMemberRows and the slots rule below;
 * - `ledger`: the member's account; its balance moves by ledger entries, the account stays at 0;
 * - `history`: who did something then (posted a task, verified work, made a code); it stays as
 *   it was, and `members.merged_into` leads from that account to the member now;
 * - `link`: the link itself.
 * test/unit/services/members.test.ts fails when a column of the schema is missing here.
 */
export const MEMBER_COLUMNS = {
  "members.merged_into": "link",
  "identities.member_id": "moves",
  "memberships.member_id": "moves",
  "coordinators.member_id": "moves",
  "waitlist.member_id": "moves",
  "claims.member_id": "moves",
  "good_requests.member_id": "moves",
  "allocations.member_id": "moves",
  "subscriptions.member_id": "moves",
  "loans.member_id": "moves",
  "member_notes.member_id": "moves",
  "requests.member_id": "moves",
  "accounts.owner_id": "ledger",
  "pools.created_by": "history",
  "projects.created_by": "history",
  "rooms.bound_by": "history",
  "goals.created_by": "history",
  "goals.done_by": "history",
  "codes.member_id": "history",
  "codes.used_by": "history",
  "entries.created_by": "history",
  "kind_changes.member_id": "history",
  "tasks.posted_by": "history",
  "tasks.cancelled_by": "history",
  "claims.verified_by": "history",
  "claims.ended_by": "history",
  "goods.created_by": "history",
  "productions.by": "history",
  "room_mutes.muted_by": "history",
  "task_due_changes.by": "history",
} as const satisfies Record<string, "moves" | "ledger" | "history" | "link">;

/** How far a claim has come: of two slots of one member on one task, the one further along stays. */
const PROGRESS: Partial<Record<ClaimStatus, number>> = { active: 1, reported: 2, verified: 3 };

/**
 * Joins the caller's identity with the member who made the code. The caller's member is
 * merged into that member, in this one transaction, so that linking is invisible to the books:
 * what came due is done first (as of its own time, with the two accounts apart), then every
 * row the caller's member holds moves (MEMBER_COLUMNS: claims, waitlist places, requests,
 * allocations, loans, subscriptions, notes, request ids, pool memberships with the higher
 * role, coordinator seats), and balances move by ledger entries, so every pool stays balanced
 * and the member's balance is the sum of both. Where both accounts hold a slot on one task the
 * member keeps one: the one further along (verified, then reported, then active; between
 * equals the earlier claim), the other is given back and its slot reopens; two verified claims
 * both stay (the work was done and credited). Where one holds a slot and the other waits for
 * one, the member leaves the waitlist.
 */
export async function useLinkCode(ctx: Ctx, typed: string): R<Linked> {
  const taken = await takeCode(ctx, typed, "link");
  if (!taken.ok) return taken;
  const code = taken.value;
  const { tx, now } = ctx;
  const from = ctx.member;
  if (code.memberId === from.id) return err({ kind: "already_linked" });
  let into = await tx.member(code.memberId);
  // The code's maker may have been merged into someone else since: link to where they are now.
  while (into && into.mergedInto !== null) into = await tx.member(into.mergedInto);
  if (!into) throw new Error(`link code ${code.code} has no member`);
  if (into.id === from.id) return err({ kind: "already_linked" });
  await tx.useCode(code.code, now, from.id);
  // A room of no pool had nothing caught up: claims that ran out, rounds and periods that
  // ended are decided first, with the two accounts still apart, as they would have been then.
  const caught = await catchUp(tx, now);
  if (didSomething(caught)) await tx.advanceClock(now);
  const pools = (await tx.membershipsOf(from.id)).map((m) => m.poolId);
  const doubled = await doubledSlots(tx, from.id, into.id);
  await tx.mergeMemberRows(from.id, into.id, now);
  // A slot on a task is no place on its waitlist (only one of the accounts had either).
  const held = (await tx.claimsOfMember(into.id)).filter((c) => holdsSlot(c.status));
  for (const taskId of new Set(held.map((c) => c.taskId))) await tx.leaveWaitlist(taskId, into.id, now);
  const resolved: SlotResolved[] = [];
  for (const { kept, gaveBack } of doubled) {
    const task = await tx.task(gaveBack.taskId);
    if (!task) throw new Error(`claim ${gaveBack.id} has no task`);
    await endClaim(tx, task, { ...gaveBack, memberId: into.id }, "dropped", now, into.id, now);
    resolved.push({ task: task.id, kept: kept.status, gaveBack: gaveBack.status });
  }
  let movedBalances = 0;
  for (const poolId of pools) {
    const source = await tx.account(poolId, "member", from.id);
    const target = await ensureAccount(tx, poolId, "member", into.id);
    if (source && source.balance !== 0) {
      const positive = source.balance > 0;
      // One entry per largest allowed amount: a balance beyond it moves in several entries.
      for (let left = Math.abs(source.balance); left > 0; left -= Math.min(left, MAX_ENTRY_MILLI_HOURS)) {
        await postEntry(tx, {
          poolId,
          fromAccount: positive ? source.id : target,
          toAccount: positive ? target : source.id,
          amount: Math.min(left, MAX_ENTRY_MILLI_HOURS),
          kind: "merge",
          memo: `@${from.handle} linked to @${into.handle}`,
          requestId: ctx.requestId,
          createdAt: now,
          createdBy: from.id,
        });
      }
      movedBalances++;
    }
    await tx.advanceClock(now, poolId);
  }
  const added = await tx.identitiesOf(from.id);
  await tx.moveIdentities(from.id, into.id);
  await tx.markMerged(from.id, into.id);
  const identities = await tx.identitiesOf(into.id);
  await confirmLink(ctx, into, from, added, identities);
  return ok({ member: into, merged: from, identities, movedBalances, resolved });
}

/**
 * Tasks on which both members hold a slot (not both verified: done work stays): which claim the
 * member keeps and which is given back.
 */
async function doubledSlots(tx: Tx, fromId: MemberId, intoId: MemberId): Promise<Array<{ kept: ClaimRow; gaveBack: ClaimRow }>> {
  const holding = (id: MemberId) => tx.claimsOfMember(id).then((cs) => new Map(cs.filter((c) => holdsSlot(c.status)).map((c) => [c.taskId, c])));
  const [mine, theirs] = [await holding(intoId), await holding(fromId)];
  const out: Array<{ kept: ClaimRow; gaveBack: ClaimRow }> = [];
  for (const [taskId, a] of mine) {
    const b = theirs.get(taskId);
    if (!b || (a.status === "verified" && b.status === "verified")) continue;
    // Positive: a stays (further along, or as far and claimed earlier).
    const aFirst = (PROGRESS[a.status] ?? 0) - (PROGRESS[b.status] ?? 0) || b.claimedAt - a.claimedAt || b.id - a.id;
    out.push(aFirst > 0 ? { kept: a, gaveBack: b } : { kept: b, gaveBack: a });
  }
  return out.sort((x, y) => x.gaveBack.taskId - y.gaveBack.taskId);
}

/**
 * Tells every account of the linked member, privately (a note to that one account), that the
 * link happened: whoever made the code learns at once if someone else used it. Notes belong to
 * a pool: the room's, else one of the member's; a member in no pool has nothing to take over.
 */
async function confirmLink(ctx: Ctx, into: MemberRow, from: MemberRow, added: readonly IdentityRow[], identities: readonly IdentityRow[]): Promise<void> {
  const poolId = ctx.pool?.row.id ?? (await ctx.tx.membershipsOf(into.id))[0]?.poolId;
  if (poolId === undefined) return;
  const note = noteRow(
    { poolId, memberId: into.id, createdAt: ctx.now },
    { kind: "linked", body: { member: into.handle, merged: from.handle, accounts: added.map((i) => `${i.platform}:${i.externalId}`) } },
  );
  for (const i of identities) {
    await ctx.tx.insertNote({ ...note, onlyPlatform: i.platform, onlyExternalId: i.externalId });
  }
}
