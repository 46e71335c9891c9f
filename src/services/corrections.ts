// Corrections are visible: `pool correct` reverses a ledger entry, and what the entry stood for
// follows. A reversed work credit marks its claim as corrected, so summaries, `task show` and a
// good's measured effort count it no more and the task is open again; reversing that reversal
// makes the claim verified again. Entries of other kinds have no such record to follow.
import type { DomainError } from "../errors.ts";
import { ok, type Result } from "../result.ts";
import type { EntryRow } from "../store.ts";
import type { PoolCtx } from "./context.ts";
import { reverseEntry } from "./ledger.ts";
import { followCredit, type CreditChange } from "./tasks.ts";

export interface Correction {
  readonly original: EntryRow;
  readonly correction: EntryRow;
  /** The claim whose credit was reversed (or restored), if the chain started at a work credit. */
  readonly claim: CreditChange | null;
}

/** Reverses a ledger entry (pool admins) and marks a work credit's claim accordingly. */
export async function correctEntry(c: PoolCtx, entryId: number, reason: string): Promise<Result<Correction, DomainError>> {
  const r = await reverseEntry(c, entryId, reason);
  if (!r.ok) return r;
  // Walk back to the entry the chain of corrections started from: after an odd number of
  // reversals its effect is undone, after an even number it stands again.
  let root = r.value.original;
  let stands = false;
  while (root.reverses !== null) {
    const earlier = await c.tx.entry(root.reverses);
    if (!earlier) break;
    root = earlier;
    stands = !stands;
  }
  const claim = root.kind === "work" ? await c.tx.claimOfEntry(root.id) : undefined;
  return ok({ ...r.value, claim: claim ? await followCredit(c, claim, stands, reason) : null });
}
