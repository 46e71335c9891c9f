// Corrections are visible: `pool correct` reverses a ledger entry, and what the entry stood for
// follows. A reversed work credit marks its claim as corrected, so summaries, `task show` and a
// good's measured effort count it no more and the task is open again; reversing that reversal
// makes the claim verified again. Entries of other kinds have no such record to follow.
import type { DomainError } from "../errors.ts";
import { ok, type Result } from "../result.ts";
import { taskState } from "../core/tasks.ts";
import type { EntryRow } from "../store.ts";
import type { PoolCtx } from "./context.ts";
import { accountName, reverseEntry, reversibleEntry } from "./ledger.ts";
import { followCredit, type CreditChange } from "./tasks.ts";
import type { AccountId, EntryId } from "../core/ids.ts";

export interface Correction {
  readonly original: EntryRow;
  readonly correction: EntryRow;
  /** The claim whose credit was reversed (or restored), if the chain started at a work credit. */
  readonly claim: CreditChange | null;
}

/** What a correction would do, shown before it is confirmed: nothing is changed. */
export interface CorrectionPreview {
  readonly original: EntryRow;
  /** Who the amount goes back to and from, as people read the accounts. */
  readonly from: string;
  readonly to: string;
  /** The claim whose credit would be reversed (or restored), as it would become. */
  readonly claim: CreditChange | null;
}

/** Walks back to the entry a chain of corrections started from, and whether reversing `entry` makes it stand again. */
async function rootOf(c: PoolCtx, entry: EntryRow): Promise<{ root: EntryRow; stands: boolean }> {
  // After an odd number of reversals its effect is undone, after an even number it stands again.
  let root = entry;
  let stands = false;
  while (root.reverses !== null) {
    const earlier = await c.tx.entry(root.reverses);
    if (!earlier) break;
    root = earlier;
    stands = !stands;
  }
  return { root, stands };
}

/**
 * Shows what `pool correct` would reverse (pool admins), with the same refusals as the
 * correction itself; it changes nothing.
 */
export async function previewCorrection(c: PoolCtx, entryId: EntryId): Promise<Result<CorrectionPreview, DomainError>> {
  const found = await reversibleEntry(c, entryId);
  if (!found.ok) return found;
  const original = found.value;
  const name = async (id: AccountId) => {
    const a = await c.tx.accountById(id);
    return a ? accountName(c.tx, a) : "?";
  };
  const { root, stands } = await rootOf(c, original);
  const row = root.kind === "work" ? await c.tx.claimOfEntry(root.id) : undefined;
  const task = row ? await c.tx.task(row.taskId) : undefined;
  const wouldChange = row && (stands ? row.status === "corrected" : row.status === "verified");
  const status = stands ? ("verified" as const) : ("corrected" as const);
  // The task's state as it would be with the claim changed.
  const after = row && task ? (await c.tx.claimsOf(task.id)).map((x) => (x.id === row.id ? { ...x, status } : x)) : [];
  const claim: CreditChange | null =
    row && task && wouldChange
      ? { task: task.id, title: task.title, member: (await c.tx.member(row.memberId))?.handle ?? "?", status, taskState: taskState(task, after) }
      : null;
  // The amount goes back: from the account it went to, to the one it came from.
  return ok({ original, from: await name(original.toAccount), to: await name(original.fromAccount), claim });
}

/** Reverses a ledger entry (pool admins) and marks a work credit's claim accordingly. */
export async function correctEntry(c: PoolCtx, entryId: EntryId, reason: string): Promise<Result<Correction, DomainError>> {
  const r = await reverseEntry(c, entryId, reason);
  if (!r.ok) return r;
  const { root, stands } = await rootOf(c, r.value.original);
  const claim = root.kind === "work" ? await c.tx.claimOfEntry(root.id) : undefined;
  return ok({ ...r.value, claim: claim ? await followCredit(c, claim, stands, reason) : null });
}
