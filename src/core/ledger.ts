// The ledger's invariants: every entry moves one positive integer amount from one account to
// another, so the balances of a pool always sum to zero, and every stored balance equals the
// net of its entries. Entries are never changed; a correction is a new, reversing entry.

import type { MilliHours } from "./amounts.ts";
import type { AccountId } from "./ids.ts";

export type AccountKind = "member" | "project" | "commons";

export interface EntryDraft {
  readonly fromAccount: number;
  readonly toAccount: number;
  /** Weighted hours, a positive integer. */
  readonly amount: MilliHours;
}

export type EntryProblem = "not_integer" | "not_positive" | "same_account" | "too_large";

export const MAX_ENTRY_MILLI_HOURS: MilliHours = 1_000_000_000_000;

export function checkEntry(e: EntryDraft): EntryProblem | null {
  if (!Number.isSafeInteger(e.amount)) return "not_integer";
  if (e.amount <= 0) return "not_positive";
  if (e.amount > MAX_ENTRY_MILLI_HOURS) return "too_large";
  if (e.fromAccount === e.toAccount) return "same_account";
  return null;
}

/** The entry that undoes another: same amount, accounts swapped. */
export function reversal(e: EntryDraft): EntryDraft {
  return { fromAccount: e.toAccount, toAccount: e.fromAccount, amount: e.amount };
}

export interface AccountFacts {
  readonly id: AccountId;
  readonly kind: AccountKind;
  readonly ownerId: number;
  readonly balance: MilliHours;
  /** Sum of entries into the account minus entries out of it. */
  readonly net: MilliHours;
}

export interface AuditReport {
  readonly accounts: number;
  readonly entries: number;
  readonly sum: MilliHours;
  readonly balanced: boolean;
  readonly mismatched: readonly AccountFacts[];
}

/** Checks a pool's accounts: the balances sum to zero and each equals its entries. */
export function audit(accounts: readonly AccountFacts[], entryCount: number): AuditReport {
  let sum = 0;
  const mismatched: AccountFacts[] = [];
  for (const a of accounts) {
    sum += a.balance;
    if (a.balance !== a.net) mismatched.push(a);
  }
  return { accounts: accounts.length, entries: entryCount, sum, balanced: sum === 0 && mismatched.length === 0, mismatched };
}

/** Whether a member may take `amount` more without passing the credit limit. */
export function withinCreditLimit(balance: MilliHours, amount: MilliHours, creditLimit: MilliHours): boolean {
  // Taking nothing is always allowed, also for a member already past the limit.
  return amount <= 0 || balance - amount >= -creditLimit;
}
