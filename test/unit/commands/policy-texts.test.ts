// Help and refusals quote the pool's own policy, not the defaults: a pool may have changed any
// number of it (pool policy). Outside a pool, and in the command reference, help says which
// numbers are defaults.
import { describe, expect, it } from "vitest";
import { describeCommand, fillPolicy } from "../../../commands/help.ts";
import { table } from "../../../commands/table.ts";
import { defaultPolicy, policySchema } from "../../../src/core/policy.ts";
import { testPool, text } from "../../support/app.ts";

describe("policy numbers in help and refusals", () => {
  it("GIVEN every command's details THEN each placeholder names a policy key and is filled, in a pool and outside one", () => {
    const changed = policySchema.parse({ ...defaultPolicy(), claimDays: 3, weightCap: 5000 });
    let placeholders = 0;
    for (const c of table) {
      placeholders += (c.details?.match(/\{\w+\}/g) ?? []).length;
      for (const policy of [changed, undefined]) expect(describeCommand(c, policy).details ?? "").not.toMatch(/[{}]/);
    }
    // task post, claim, verify, kind list, good add, request, subscribe, borrow, project info, me balance, pool invite...
    expect(placeholders).toBeGreaterThanOrEqual(15);
    expect(() => fillPolicy("up to {weightCapp}")).toThrow(/names no policy key/);
  });

  it("GIVEN a pool that changed claimDays, marketSmoothing and waitlistPenalty THEN help task claim there quotes its values, and elsewhere the defaults", async () => {
    const t = await testPool();
    try {
      await t.ok("admin", "pool create Riverside");
      for (const [key, value] of [
        ["claimDays", "3"],
        ["marketSmoothing", "40%"],
        ["waitlistPenalty", "12.5%"],
      ])
        await t.ok("admin", `pool policy ${key} ${value}`);
      const here = text(await t.say("carol", "help task claim"));
      expect(here).toContain("marketSmoothing (40%)");
      expect(here).toContain("waitlistPenalty (12.5%)");
      expect(here).toContain("claimDays (3 days)");
      expect(here).not.toMatch(/default|25%|\(7 days\)/);
      // A room of no pool: the defaults, said to be defaults.
      const elsewhere = text(await t.say("carol", "help task claim", { room: "unbound" }));
      expect(elsewhere).toContain("marketSmoothing (default 25%)");
      expect(elsewhere).toContain("claimDays (default 7 days)");
    } finally {
      await t.close();
    }
  });

  it("GIVEN a pool that changed maxRequestQty and creditCapFactor THEN the refusals quote its limits", async () => {
    const t = await testPool();
    try {
      await t.ok("admin", "pool create Riverside");
      await t.ok("admin", "pool policy maxRequestQty 5");
      await t.ok("admin", "pool policy creditCapFactor 3");
      await t.ok("alice", "project create bakery The Bakery");
      await t.ok("alice", "good add bakery bread effort:0.1 stock:50");
      const many = await t.say("carol", "good request bread qty:6");
      expect(many.ok).toBe(false);
      if (!many.ok) expect(many.message).toMatch(/^a request may ask for at most 5 units \(pool policy maxRequestQty\), not 6/);
      await t.ok("alice", 'task post bakery "Knead the dough" hours:1');
      await t.ok("carol", "task claim 1");
      await t.ok("carol", "task done 1 hours:4");
      const verify = await t.say("alice", "task verify 1 @carol");
      expect(verify.ok).toBe(false);
      // Three times the estimate of 1 h here (twice by default).
      if (!verify.ok) expect(verify.message).toMatch(/^@carol reported 4 h, above the cap of 3 h \(the pool's creditCapFactor times the estimate\)/);
      expect(await t.ok("alice", "task verify 1 @carol hours:3")).toBeTruthy();
    } finally {
      await t.close();
    }
  });
});
