// Bad input and missing roles: every case answers with one clear line and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unsafeChar } from "../../../src/core/clean-text.ts";
import { testPool, type TestPool } from "../../support/app.ts";

let t: TestPool;

beforeAll(async () => {
  t = await testPool();
  await t.ok("admin", 'pool create "Riverside commons"');
  await t.ok("alice", "project create bakery The Bakery");
  await t.ok("bob", "project create bikes Bike Workshop");
  await t.ok("carol", "me balance");
  await t.ok("alice", 'goal announce bakery "Bread for 40"');
});
afterAll(() => t.close());

describe("GIVEN a pool with bakery (alice) and bikes (bob)", () => {
  it.each([
    // who, room, command, code, message pattern
    ["carol", "lobby", 'goal announce bakery "More bread"', "forbidden", /^only a coordinator of bakery can do that/],
    ["bob", "lobby", "goal done 1", "forbidden", /^only a coordinator of bakery can do that/],
    ["admin", "lobby", 'goal announce bakery "Admins do not set goals"', "forbidden", /only a coordinator of bakery can do that/],
    ["carol", "lobby", "project coordinator add bakery @carol", "forbidden", /only a coordinator of bakery or a pool admin can do that/],
    ["carol", "lobby", "pool policy creditLimit 50", "forbidden", /^only a pool admin can do that/],
    ["carol", "lobby", "pool invite", "forbidden", /^only a pool admin can do that/],
    ["carol", "lobby", "pool correct 1 because", "forbidden", /^only a pool admin can do that/],
    ["carol", "lobby", "project room bakery", "forbidden", /only a coordinator of bakery or a pool admin/],
    ["admin", "lobby", "pool policy creditLimit -5", "policy_value", /creditLimit must be weighted hours from 0 to 1000000/],
    ["admin", "lobby", "pool policy creditLimit 99999999999", "policy_value", /creditLimit must be/],
    ["admin", "lobby", "pool policy timezone Mars/Base", "policy_value", /timezone must be a time zone name/],
    ["admin", "lobby", "pool policy weightCap Infinity", "policy_value", /weightCap must be a weight/],
    ["admin", "lobby", "pool create Another", "room_bound", /already belongs to the pool "Riverside commons"/],
    ["dave", "elsewhere", "me balance", "room_unbound", /belongs to no pool yet: type "pool create <name>"/],
    ["dave", "elsewhere", "pool join ABCD-EFGH", "code_invalid", /code is not known/],
    ["alice", "lobby", "project create bakery Again", "project_exists", /a project "bakery" exists already/],
    ["alice", "lobby", "project info bakrey", "not_found", /no project "bakrey".*project list/],
    ["alice", "lobby", "goal done 99", "not_found", /no goal #99/],
    ["alice", "lobby", "project coordinator add bakery @nobody", "not_found", /@nobody is not a member of this pool/],
    ["alice", "lobby", "project coordinator remove bakery @alice", "last_coordinator", /needs at least one coordinator/],
    ["alice", "lobby", "project coordinator remove bakery @carol", "not_coordinator", /@carol is not a coordinator of bakery/],
    ["alice", "lobby", "project coordinator add bakery @alice", "already_coordinator", /already coordinates bakery/],
    ["admin", "lobby", "pool correct 1 nothing to correct", "not_found", /no ledger entry #1/],
    ["alice", "lobby", "me link ZZZZ-ZZZZ", "code_invalid", /not known/],
    ["alice", "lobby", "me history 0", "usage", /limit must be a whole number from 1 to 100/],
    ["alice", "lobby", "me history 99999999999999999999", "usage", /limit must be a whole number/],
    ["alice", "lobby", "goal announce bakery", "usage", /missing <text>/],
    [
      "alice",
      "lobby",
      "goal announce bakery \u001b[31mred",
      "usage",
      /^text holds a control character \(U\+001B\) at character 1: type it again with visible characters only/,
    ],
    ["alice", "lobby", 'task post bakery "Pay \u202Eecila" hours:1', "usage", /^title holds a text-direction character \(U\+202E\)/],
    ["alice", "lobby", 'task post bakery "Sweep\u200B" hours:1', "usage", /^title holds an invisible character \(U\+200B\)/],
    ["admin", "lobby", 'pool correct 1 "typo\u2067"', "usage", /^reason holds a text-direction character \(U\+2067\)/],
    ["alice", "lobby", "task post bakery Sweep hours:1 due:2027-02-30T10:00Z", "usage", /\(February 2027 has 28 days\)/],
    ["alice", "lobby", "\u001b[2J\u0007chore\u202e claim", "usage", /^unknown command "\\u001b\[2J\\u0007chore\\u202e"/],
    ["alice", "lobby", "project info \u001b[31mbakery", "usage", /project holds a control character \(U\+001B\) at character 1/],
    ["alice", "lobby", `chore ${"y".repeat(100_000)}`, "usage", /^unknown command "chore"/],
    ["alice", "lobby", `${"\u0007".repeat(50_000)}`, "usage", /^unknown command "(\\u0007){10}…"/],
    ["alice", "lobby", "chore claim 3", "usage", /unknown command "chore"/],
  ])("WHEN %s in #%s types %j THEN %s and nothing changes", async (who, room, command, code, pattern) => {
    const before = await t.dump();
    const r = await t.say(who, command, { room });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe(code);
    expect(r.message).toMatch(pattern);
    expect(r.message).not.toContain("\n");
    expect(unsafeChar(r.message)).toBeNull();
    expect(await t.dump()).toBe(before);
  });
});

describe("GIVEN a pool whose credit limit is 7 weighted hours", () => {
  it.each([
    [
      "good request cake qty:3",
      /^that costs 9\.00 wh and you can take 7\.00 wh more \(balance plus the credit limit\): enough for 2 units at the effort; contribute first, or ask for less \(the pool's credit limit is 7\.00 wh\)$/,
    ],
    [
      "good subscribe soup",
      /^your expected share of soup this period is 20\.00 wh and you can take 7\.00 wh more .*"good subscribe soup" \(the pool's credit limit is 7\.00 wh\)$/,
    ],
    ["good borrow drill days:60", /^that costs 12\.00 wh and you can take 7\.00 wh more .* \(the pool's credit limit is 7\.00 wh\)$/],
  ])("WHEN carol (balance 0) types %j beyond it THEN the refusal quotes the limit and nothing changes", async (command, pattern) => {
    const p = await testPool();
    try {
      await p.ok("admin", 'pool create "Riverside commons"');
      await p.ok("admin", "pool policy creditLimit 7");
      await p.ok("alice", "project create bakery The Bakery");
      await p.ok("alice", "good add bakery cake effort:3 stock:5");
      await p.ok("alice", "good add bakery soup effort:1 model:flat-rate");
      await p.ok("alice", "good produce soup 20");
      await p.ok("alice", "good add bakery drill effort:20 model:durable stock:1");
      await p.ok("carol", "me balance");
      const before = await p.dump();
      const r = await p.say("carol", command);
      expect(!r.ok && r.code).toBe("insufficient_credit");
      expect(!r.ok && r.message).toMatch(pattern);
      expect(await p.dump()).toBe(before);
    } finally {
      await p.close();
    }
  });
});
