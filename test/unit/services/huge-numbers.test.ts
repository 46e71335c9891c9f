// A number typed for an entry, project, good or goal past what a 32-bit id holds (PostgreSQL's
// integer ids; SQLite's are 64-bit) is a number nothing has: the same "not found" on either
// store, never an internal error (PostgreSQL refused such a value outright: 22003, out of range).
import { afterEach, describe, expect, it } from "vitest";
import { riverside, type TestPool } from "../../support/app.ts";

let t: TestPool | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe("numbers past 32-bit ids", () => {
  it("GIVEN an entry, project or good number past 2147483647 THEN the answer is the refusal for a number the pool does not have (a task number: the usage)", async () => {
    t = await riverside();
    await t.ok("alice", "good add bakery bread effort:2 stock:5");
    for (const [text, code] of [
      ["pool correct 999999999999 typed wrong", "not_found"],
      ['task post 2147483648 "Sweep" hours:1 kind:cleaning', "not_found"],
      ["good show 2147483648", "not_found"],
      ["good request 4294967296", "not_found"],
      // A task number has its bound in the command table: past it, the usage says so.
      ["task show 2147483648", "usage"],
    ] as const) {
      const r = await t.say(text.startsWith("pool ") ? "admin" : "alice", text);
      expect(r.ok, text).toBe(false);
      expect(!r.ok && r.code, `${text}: ${!r.ok ? r.message : ""}`).toBe(code);
    }
  });
});
