import { describe, expect, it } from "vitest";
import { audit, checkEntry, reversal, withinCreditLimit } from "../../../src/core/ledger.ts";
import { closest } from "../../../src/core/suggest.ts";
import { handleFrom, makeCode, normaliseCode } from "../../../src/core/ids.ts";

describe("checkEntry", () => {
  it.each([
    [{ fromAccount: 1, toAccount: 2, amount: 1500 }, null],
    [{ fromAccount: 1, toAccount: 2, amount: 0 }, "not_positive"],
    [{ fromAccount: 1, toAccount: 2, amount: -5 }, "not_positive"],
    [{ fromAccount: 1, toAccount: 2, amount: 1.5 }, "not_integer"],
    [{ fromAccount: 1, toAccount: 2, amount: Number.NaN }, "not_integer"],
    [{ fromAccount: 3, toAccount: 3, amount: 10 }, "same_account"],
    [{ fromAccount: 1, toAccount: 2, amount: 2e12 }, "too_large"],
  ])("GIVEN %j THEN %s", (entry, problem) => {
    expect(checkEntry(entry)).toBe(problem);
  });

  it("GIVEN an entry THEN its reversal swaps the accounts and keeps the amount", () => {
    expect(reversal({ fromAccount: 4, toAccount: 9, amount: 700 })).toEqual({ fromAccount: 9, toAccount: 4, amount: 700 });
  });
});

describe("audit", () => {
  it("GIVEN balances that sum to zero and match their entries THEN balanced", () => {
    const r = audit(
      [
        { id: 1, kind: "project", ownerId: 1, balance: -3000, net: -3000 },
        { id: 2, kind: "member", ownerId: 1, balance: 3000, net: 3000 },
      ],
      1,
    );
    expect(r).toEqual({ accounts: 2, entries: 1, sum: 0, balanced: true, mismatched: [] });
  });
  it("GIVEN a balance that differs from its entries THEN not balanced, naming the account", () => {
    const r = audit(
      [
        { id: 1, kind: "project", ownerId: 1, balance: -3000, net: -3000 },
        { id: 2, kind: "member", ownerId: 1, balance: 3500, net: 3000 },
      ],
      1,
    );
    expect(r.balanced).toBe(false);
    expect(r.sum).toBe(500);
    expect(r.mismatched.map((m) => m.id)).toEqual([2]);
  });
});

describe('credit limit (docs/economics.md, "Balances and the credit limit": a balance may go negative down to the limit)', () => {
  it.each([
    [0, 10_000, 10_000, true],
    [0, 10_001, 10_000, false],
    [-5000, 5000, 10_000, true],
    [2000, 12_000, 10_000, true],
  ])("GIVEN balance %i taking %i with limit %i THEN %s", (balance, amount, limit, allowed) => {
    expect(withinCreditLimit(balance, amount, limit)).toBe(allowed);
  });
});

describe("codes, handles and suggestions", () => {
  it("GIVEN the same bytes THEN the same readable code", () => {
    const bytes = () => new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(makeCode(bytes)).toBe("ABCD-EFGH");
    // Bytes at or above 248 (8 x 31) are skipped so that every character is equally likely.
    let calls = 0;
    const high = () => (calls++ === 0 ? new Uint8Array([255, 250, 248, 0, 1, 2, 3, 4]) : new Uint8Array([5, 6, 7, 8, 9, 10, 11, 12]));
    expect(makeCode(high)).toBe("ABCD-EFGH");
    expect(normaliseCode(" abcd efgh ")).toBe("ABCD-EFGH");
  });
  it.each([
    ["Alice", "alice"],
    ["Zoë Müller", "zoe-muller"],
    ["!!!", "member"],
  ])("GIVEN display name %j THEN handle %j", (name, handle) => {
    expect(handleFrom(name)).toBe(handle);
  });
  it.each([
    ["clam", ["claim", "drop"], "claim"],
    ["projet", ["project", "pool"], "project"],
    ["zzzzzz", ["claim", "drop"], null],
  ])("GIVEN %j THEN suggests %j", (word, candidates, expected) => {
    expect(closest(word, candidates)).toBe(expected);
  });
});
