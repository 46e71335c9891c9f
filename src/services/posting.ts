// Writing to the ledger: every movement of weighted hours goes through `postEntry` (or
// `postEntries`), which checks the entry with the pure rules and appends it. Kept apart from
// ledger.ts (corrections, balances), which reads goods.ts, so that goods.ts can post without
// importing it back.
import { checkEntry } from "../core/ledger.ts";
import type { AccountRow, EntryRow, NewEntry, Tx } from "../store.ts";
import type { AccountId } from "../core/ids.ts";

/** An entry to append; `reverses` only for corrections. */
export type Posting = Omit<NewEntry, "reverses"> & { readonly reverses?: number | null };

/**
 * Appends one entry. Callers decide amounts with the pure rules first; a bad entry here is a
 * bug, so it throws and the whole command rolls back.
 */
export async function postEntry(tx: Tx, p: Posting): Promise<EntryRow> {
  const problem = checkEntry(p);
  if (problem) throw new Error(`refusing ledger entry (${problem}): ${JSON.stringify(p)}`);
  const [from, to] = [await tx.accountById(p.fromAccount), await tx.accountById(p.toAccount)];
  if (!from || !to || from.poolId !== p.poolId || to.poolId !== p.poolId) {
    throw new Error(`ledger entry between accounts of different pools: ${JSON.stringify(p)}`);
  }
  const row = { ...p, reverses: p.reverses ?? null };
  const id = await tx.insertEntry(row);
  return { id, ...row };
}

/**
 * Appends several entries in order, each checked as `postEntry` does; each account is read
 * once however many entries it is in (a round's winners all pay the same project).
 */
export async function postEntries(tx: Tx, ps: readonly Posting[]): Promise<void> {
  const accounts = new Map<AccountId, AccountRow | undefined>();
  for (const p of ps) {
    const problem = checkEntry(p);
    if (problem) throw new Error(`refusing ledger entry (${problem}): ${JSON.stringify(p)}`);
    for (const id of [p.fromAccount, p.toAccount]) if (!accounts.has(id)) accounts.set(id, await tx.accountById(id));
    const [from, to] = [accounts.get(p.fromAccount), accounts.get(p.toAccount)];
    if (!from || !to || from.poolId !== p.poolId || to.poolId !== p.poolId) {
      throw new Error(`ledger entry between accounts of different pools: ${JSON.stringify(p)}`);
    }
  }
  await tx.insertEntries(ps.map((p) => ({ ...p, reverses: p.reverses ?? null })));
}
