// Any member could once freeze the bot. Two newcomers asking qty:10000 of a good
// with stock 1 that neither could pay made `good allocate` take 6.7 s here (43 s in the report),
// holding the write lock, and every later round repeated it. Now a request waits only if its
// member could pay it at the effort, `qty:` is capped by policy, and the auction is not
// quadratic in units.
import { afterEach, describe, expect, it } from "vitest";
import { riverside, type TestPool } from "../../support/app.ts";

let t: TestPool;
afterEach(() => t?.close());

const bakery = () => riverside();

describe("bounded work for every command", () => {
  it("GIVEN two newcomers asking qty:10000 of a good with stock 1 THEN both are refused, and good allocate has nothing to do", async () => {
    t = await bakery();
    await t.ok("alice", "good add bakery cake effort:20 stock:1");
    await t.ok("admin", "me balance");
    for (const who of ["mallory", "trudy"]) {
      const r = await t.say(who, "good request cake qty:10000");
      expect(!r.ok && r.code).toBe("too_many_units");
      expect(!r.ok && r.message).toMatch(/at most 100 units \(pool policy maxRequestQty\), not 10000/);
    }
    // Even with the cap lifted, a request nobody could pay does not wait.
    await t.ok("admin", "pool policy maxRequestQty 10000");
    for (const who of ["mallory", "trudy"]) {
      const r = await t.say(who, "good request cake qty:10000");
      expect(!r.ok && r.message).toMatch(/that costs 200000.00 wh and you can take 10.00 wh more \(balance plus the credit limit\): not enough for one unit/);
    }
    // Nothing waits, so there is no round to close (how long a round takes is `npm run bench`'s).
    const r = await t.say("alice", "good allocate cake");
    expect(!r.ok && r.code).toBe("no_round");
    const waiting = await t.store.read(async (tx) => tx.pendingTotals((await tx.goodByName(1, "cake"))!.id));
    expect(waiting).toEqual({ requests: 0, units: 0 });
  });

  it("GIVEN a request the member could not pay at the effort THEN it does not wait, and the refusal says what they can afford", async () => {
    t = await bakery();
    await t.ok("alice", "good add bakery cake effort:3 stock:1");
    await t.ok("carol", "good request cake");
    const before = await t.dump();
    const r = await t.say("mallory", "good request cake qty:4");
    expect(!r.ok && r.code).toBe("insufficient_credit");
    expect(!r.ok && r.message).toMatch(
      /that costs 12.00 wh and you can take 10.00 wh more \(balance plus the credit limit\): enough for 3 units at the effort; contribute first/,
    );
    expect(await t.dump()).toBe(before);
    // Three wait; raising the bid to four would not be payable.
    expect((await t.ok("mallory", "good request cake qty:3")).request.status).toBe("pending");
    const again = await t.say("mallory", "good request cake qty:4");
    expect(!again.ok && again.message).toMatch(
      /that costs 12.00 wh and you can take 10.00 wh more \(balance plus the credit limit\): enough for 3 units at the effort/,
    );
  });

  it("GIVEN waiting requests THEN they count against a loan, and a loan against a request", async () => {
    t = await bakery();
    await t.ok("alice", "good add bakery cake effort:3 stock:1");
    await t.ok("alice", "good add bakery drill effort:100 model:durable stock:1");
    await t.ok("carol", "good request cake");
    await t.ok("mallory", "good request cake qty:2");
    // 10 - 6 held = 4 left; a 5-day loan at 1.00 a day fits, a sixth day would not.
    expect(!(await t.say("mallory", "good borrow drill days:5")).ok).toBe(true);
    await t.ok("mallory", "good borrow drill days:4");
    const r = await t.say("mallory", "good request cake qty:3");
    expect(!r.ok && r.code).toBe("insufficient_credit");
    expect(!r.ok && r.message).toMatch(
      /you can take 6.00 wh more \(balance plus the credit limit, less 4.00 wh held by your waiting requests, loans and subscriptions\): enough for 2 units/,
    );
  });

  it("GIVEN maxRequestQty raised by an admin THEN larger requests are accepted", async () => {
    t = await bakery();
    await t.ok("alice", "good add bakery bread effort:0.01 stock:1000");
    expect(!(await t.say("carol", "good request bread qty:500")).ok).toBe(true);
    await t.ok("admin", "pool policy maxRequestQty 1000");
    expect((await t.ok("carol", "good request bread qty:500")).request.status).toBe("allocated");
  });
});
