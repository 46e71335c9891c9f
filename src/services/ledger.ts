// The ledger's services: corrections reverse an entry; a member's balance and history. Every
// movement of weighted hours goes through `postEntry` (posting.ts).
import { reversal } from "../core/ledger.ts";
import type { DomainError } from "../errors.ts";
import { err, ok, type Result } from "../result.ts";
import type { AccountRow, EntryRow, Tx } from "../store.ts";
import { requireAdmin, type PoolCtx } from "./context.ts";
import { overdueLoans, type OverdueView } from "./goods.ts";
import { postEntry } from "./posting.ts";
import type { EntryId } from "../core/ids.ts";

type R<T> = Promise<Result<T, DomainError>>;

/** An entry of this pool that a pool admin may reverse: not reversed yet. */
export async function reversibleEntry(c: PoolCtx, entryId: EntryId): R<EntryRow> {
  const denied = requireAdmin(c);
  if (denied) return err(denied);
  const original = await c.tx.entry(entryId);
  if (!original || original.poolId !== c.pool.row.id) return err({ kind: "not_found", what: "entry", ref: `#${entryId}` });
  const earlier = await c.tx.reversalOf(entryId);
  if (earlier) return err({ kind: "already_reversed", entry: entryId, by: earlier.id });
  return ok(original);
}

/**
 * Reverses an entry with a new one (pool admins); the original stays as it was. What the entry
 * stood for follows in services/corrections.ts (a work credit's claim).
 */
export async function reverseEntry(c: PoolCtx, entryId: EntryId, reason: string): R<{ original: EntryRow; correction: EntryRow }> {
  const found = await reversibleEntry(c, entryId);
  if (!found.ok) return found;
  const original = found.value;
  const back = reversal(original);
  const correction = await postEntry(c.tx, {
    poolId: c.pool.row.id,
    ...back,
    kind: "correction",
    memo: reason,
    reverses: original.id,
    requestId: c.requestId,
    createdAt: c.now,
    createdBy: c.member.id,
  });
  return ok({ original, correction });
}

export interface BalanceView {
  readonly balance: number;
  readonly creditLimit: number;
  /** How much the member may still take: balance plus the credit limit. */
  readonly available: number;
  /** The member's loans past their due date, still out. */
  readonly overdue: readonly OverdueView[];
}

export async function myBalance(c: PoolCtx): R<BalanceView> {
  const account = await c.tx.account(c.pool.row.id, "member", c.member.id);
  const balance = account?.balance ?? 0;
  const overdue = await overdueLoans(c, { memberId: c.member.id });
  return ok({ balance, creditLimit: c.pool.policy.creditLimit, available: balance + c.pool.policy.creditLimit, overdue });
}

export interface HistoryLine {
  readonly entry: EntryRow;
  /** Signed amount as seen from the member's account. */
  readonly amount: number;
  readonly counterparty: string;
}

export async function myHistory(c: PoolCtx, limit: number): R<{ lines: HistoryLine[]; balance: number }> {
  const account = await c.tx.account(c.pool.row.id, "member", c.member.id);
  if (!account) return ok({ lines: [], balance: 0 });
  const rows = await c.tx.entriesOf(account.id, limit);
  const lines: HistoryLine[] = [];
  for (const e of rows) {
    const incoming = e.toAccount === account.id;
    const other = await c.tx.accountById(incoming ? e.fromAccount : e.toAccount);
    lines.push({ entry: e, amount: incoming ? e.amount : -e.amount, counterparty: other ? await accountName(c.tx, other) : "?" });
  }
  return ok({ lines, balance: account.balance });
}

/** How an account is named to people: @handle, project slug, or "commons". */
export async function accountName(tx: Tx, a: AccountRow): Promise<string> {
  switch (a.kind) {
    case "commons":
      return "commons";
    case "project":
      return (await tx.project(a.ownerId))?.slug ?? `project ${a.ownerId}`;
    case "member":
      return `@${(await tx.member(a.ownerId))?.handle ?? a.ownerId}`;
  }
}
