// Issue 15: the pool's policy is parsed once per stored text and kept (every command reads it),
// frozen so that no caller changes what another gets; a changed policy is seen at once.
import { afterEach, describe, expect, it } from "vitest";
import { cachedPolicies, POLICY_CACHE_SIZE, readPolicy } from "../../../src/core/policy.ts";
import { testPool, type TestPool } from "../../support/app.ts";

let t: TestPool | undefined;
afterEach(() => t?.close());

describe("the policy parsed once", () => {
  it("GIVEN the same stored text twice THEN the same frozen policy comes back, and another text gets its own", () => {
    const text = JSON.stringify({ creditLimit: 12_000 });
    const a = readPolicy(text);
    expect(readPolicy(text)).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(() => {
      (a as { creditLimit: number }).creditLimit = 1;
    }).toThrow(TypeError);
    expect(readPolicy(text).creditLimit).toBe(12_000);
    const b = readPolicy(JSON.stringify({ creditLimit: 13_000 }));
    expect(b).not.toBe(a);
    expect(b.creditLimit).toBe(13_000);
  });

  it("GIVEN more distinct policies than the cache holds THEN it stays bounded and each still reads right", () => {
    for (let i = 0; i < POLICY_CACHE_SIZE * 3; i++) expect(readPolicy(JSON.stringify({ claimDays: 1 + (i % 300) })).claimDays).toBe(1 + (i % 300));
    expect(cachedPolicies()).toBeLessThanOrEqual(POLICY_CACHE_SIZE);
  });

  it("GIVEN a bad stored policy THEN it is refused each time, never kept", () => {
    expect(() => readPolicy("{not json")).toThrow();
    expect(() => readPolicy("{not json")).toThrow();
  });

  it("GIVEN an admin changes a key THEN the very next command follows the new value", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    expect((await t.ok("bob", "me balance")).creditLimit).toBe(10);
    await t.ok("admin", "pool policy creditLimit 3");
    expect((await t.ok("bob", "me balance")).creditLimit).toBe(3);
    await t.ok("admin", "pool policy creditLimit 10");
    expect((await t.ok("bob", "me balance")).creditLimit).toBe(10);
  });
});
