// Members and their platform identities: one person, many accounts on many platforms.
import { MINUTE_MS } from "../clock.ts";
import { MAX_ENTRY_MILLI_HOURS } from "../core/ledger.ts";
import type { DomainError } from "../errors.ts";
import { err, ok, type Result } from "../result.ts";
import type { IdentityRow, MemberRow } from "../store.ts";
import { ensureAccount, ensureMembership, type Ctx } from "./context.ts";
import { postEntry } from "./ledger.ts";
import { freshCode, takeCode } from "./pools.ts";

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

export interface Linked {
  readonly member: MemberRow;
  readonly merged: MemberRow;
  readonly identities: readonly IdentityRow[];
  readonly movedBalances: number;
}

/**
 * Joins the caller's identity with the member who made the code. The caller's member is
 * merged into that member: identities, pool memberships (the higher role wins), coordinator
 * seats, and balances (moved by ledger entries, so every pool stays balanced).
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
  let movedBalances = 0;
  for (const m of await tx.membershipsOf(from.id)) {
    const role = await ensureMembership(tx, m.poolId, into.id, m.role, now);
    if (m.role === "admin" && role !== "admin") await tx.setRole(m.poolId, into.id, "admin");
    for (const project of await tx.coordinatorProjects(m.poolId, from.id)) {
      await tx.insertCoordinator(project.id, into.id, now);
      await tx.deleteCoordinator(project.id, from.id);
    }
    const source = await tx.account(m.poolId, "member", from.id);
    const target = await ensureAccount(tx, m.poolId, "member", into.id);
    if (source && source.balance !== 0) {
      const positive = source.balance > 0;
      // One entry per largest allowed amount: a balance beyond it moves in several entries.
      for (let left = Math.abs(source.balance); left > 0; left -= Math.min(left, MAX_ENTRY_MILLI_HOURS)) {
        await postEntry(tx, {
          poolId: m.poolId,
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
  }
  const added = await tx.identitiesOf(from.id);
  await tx.moveIdentities(from.id, into.id);
  await tx.markMerged(from.id, into.id);
  const identities = await tx.identitiesOf(into.id);
  await confirmLink(ctx, into, from, added, identities);
  return ok({ member: into, merged: from, identities, movedBalances });
}

/**
 * Tells every account of the linked member, privately (a note to that one account), that the
 * link happened: whoever made the code learns at once if someone else used it. Notes belong to
 * a pool: the room's, else one of the member's; a member in no pool has nothing to take over.
 */
async function confirmLink(ctx: Ctx, into: MemberRow, from: MemberRow, added: readonly IdentityRow[], identities: readonly IdentityRow[]): Promise<void> {
  const poolId = ctx.pool?.row.id ?? (await ctx.tx.membershipsOf(into.id))[0]?.poolId;
  if (poolId === undefined) return;
  const body = JSON.stringify({ member: into.handle, merged: from.handle, accounts: added.map((i) => `${i.platform}:${i.externalId}`) });
  for (const i of identities) {
    await ctx.tx.insertNote({ poolId, memberId: into.id, kind: "linked", body, createdAt: ctx.now, onlyPlatform: i.platform, onlyExternalId: i.externalId });
  }
}
