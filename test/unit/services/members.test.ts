// Link codes (issue 12, item 1): single use, 15 minutes, and a link confirmed to every account.
import { afterEach, describe, expect, it } from "vitest";
import { renderNote } from "../../../commands/announcements.ts";
import { docToText } from "../../../commands/doc.ts";
import { MINUTE_MS } from "../../../src/clock.ts";
import { testPool, type TestPool } from "../../support/app.ts";

let t: TestPool;
afterEach(() => t?.close());

describe("link codes", () => {
  it.each([
    ["GIVEN a code 14 min 59 s old THEN it links", 15 * MINUTE_MS - 1000, { ok: true }],
    ["GIVEN a code exactly 15 min old THEN it has expired", 15 * MINUTE_MS, { ok: false, code: "code_invalid", message: "that code has expired: ask for a new one" }],
    ["GIVEN a code a day old THEN it has expired", 24 * 60 * MINUTE_MS, { ok: false, code: "code_invalid", message: "that code has expired: ask for a new one" }],
  ])("%s", async (_name, ageMs, expected) => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const { code, expiresAt } = await t.ok("alice", "me link");
    expect(Date.parse(expiresAt) - t.clock.now().getTime()).toBe(15 * MINUTE_MS);
    t.clock.advance(ageMs);
    const before = t.dump();
    const r = await t.say("alicephone", `me link ${code}`);
    expect(r).toMatchObject(expected);
    if (!r.ok) expect(t.dump()).toBe(before);
  });

  it("GIVEN a used code THEN it works for nobody again, its user included, and nothing changes", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const { code } = await t.ok("alice", "me link");
    await t.ok("alicephone", `me link ${code}`);
    const before = t.dump();
    for (const user of ["bob", "alicephone", "alice"]) {
      expect(await t.say(user, `me link ${code}`)).toMatchObject({ ok: false, code: "code_invalid", message: "that code was used already: each code works once, ask for a new one" });
    }
    expect(t.dump()).toBe(before);
  });

  it("GIVEN a completed link THEN each account gets its own private note, and nobody else does", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const { code } = await t.ok("alice", "me link");
    await t.ok("bob", "me balance");
    await t.ok("alicephone", `me link ${code}`);
    const notes = (await t.store.pendingNotes("console", 100)).filter((n) => n.kind === "linked");
    expect(notes.map((n) => n.externalId).sort()).toEqual(["alice", "alicephone"]);
    expect(new Set(notes.map((n) => n.id)).size).toBe(2);
    expect(docToText(renderNote("linked", notes[0]!.body))).toBe(
      "🔗 Accounts linked: console:alicephone now acts as @alice (@alicephone was merged into it).\nIf you did not do this, tell a pool admin at once.",
    );
    // A note for one account is not handed to the member's accounts on other platforms.
    await t.store.transaction(async (tx) => {
      const alice = await tx.memberByHandle("alice");
      await tx.insertIdentity({ platform: "matrix", externalId: "@alice:test", memberId: alice!.id, createdAt: 0 });
    });
    const claimed = await t.store.claimNotes("matrix", { owner: "test", now: Date.now(), leaseMs: 60_000, limit: 100 });
    expect(claimed.filter((n) => n.kind === "linked")).toEqual([]);
  });
});
