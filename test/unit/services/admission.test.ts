// Before a command runs: request ids belong to their caller (issue 12, item 2), and flood control.
import { afterEach, describe, expect, it } from "vitest";
import { runText, type Invocation, type Reply } from "../../../commands/dispatch.ts";
import { testPool, text, type TestPool } from "../../support/app.ts";
import { sqlRows } from "../../support/db-dump.ts";

let t: TestPool;
afterEach(() => t?.close());

const SECOND_MS = 1000;
const REUSED = "that request id was already used for another command";

/** Types a command as a chat user (platform `matrix`), answered through a reply row like the adapters do. */
function chat(pool: TestPool, user: string, line: string, requestId: string, room = "!lobby"): Promise<Reply> {
  const inv: Invocation = {
    caller: { platform: "matrix", userId: `@${user}:test`, displayName: user, roomId: room },
    requestId,
    now: pool.clock.now(),
    replyTo: { roomId: room, eventId: requestId },
  };
  return runText(pool.app.engine, inv, line);
}

const replyCount = async (pool: TestPool) => (await sqlRows<{ n: number }>(pool.store, "SELECT count(*) AS n FROM replies"))[0]!.n;
const replyBody = async (pool: TestPool, requestId: string) =>
  (await sqlRows<{ body: string }>(pool.store, "SELECT body FROM replies WHERE request_id = ?", [requestId]))[0]?.body;

describe("request ids belong to their caller", () => {
  it("GIVEN an admin's invite and link code under request ids THEN a stranger reusing those ids gets neither back, is refused, and nothing changes", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const invite = await t.ok("admin", "pool invite", { requestId: "console:admin-1" });
    const link = await t.ok("admin", "me link", { requestId: "console:admin-2" });
    const before = await t.dump();
    for (const [requestId, line] of [
      ["console:admin-1", "pool invite"],
      ["console:admin-2", "me link"],
      ["console:admin-1", "me balance"],
      ["console:admin-2", "pool info"],
    ] as const) {
      const r = await t.say("mallory", line, { requestId });
      expect(r).toMatchObject({ ok: false, code: "request_reused", message: REUSED });
      expect(JSON.stringify(r)).not.toContain(invite.code);
      expect(JSON.stringify(r)).not.toContain(link.code);
    }
    expect(await t.dump()).toBe(before);
    // Mallory is no member and no admin: the refused commands made her nothing.
    expect((await t.ok("admin", "pool members")).members.map((m: { handle: string }) => m.handle)).toEqual(["admin"]);
  });

  it("GIVEN the same member and the same command THEN the replay is the stored answer; another command under that id is refused", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const first = await t.say("alice", "me link", { requestId: "console:a" });
    const again = await t.say("alice", "me link", { requestId: "console:a" });
    expect(again).toMatchObject({ ok: true, replayed: true, data: first.ok ? first.data : null });
    const before = await t.dump();
    for (const line of ["pool invite", "me link ABCD-EFGH", "me balance"]) {
      expect(await t.say("alice", line, { requestId: "console:a" })).toMatchObject({ ok: false, code: "request_reused", message: REUSED });
    }
    expect(await t.dump()).toBe(before);
  });

  it("GIVEN a member who linked another account since THEN the stored answer reaches them from that account too", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const made = await t.ok("alicephone", "me link", { requestId: "console:phone-1" });
    await t.ok("alice", `me link ${made.code}`);
    const replay = await t.say("alice", "me link", { requestId: "console:phone-1" });
    expect(replay).toMatchObject({ ok: true, replayed: true, data: { code: made.code } });
  });

  it("GIVEN a chat answer stored under a platform request id THEN another user, or another command, under that id gets nothing of it", async () => {
    t = await testPool();
    await chat(t, "alice", "pool create Riverside", "matrix:$create");
    const link = await chat(t, "alice", "me link", "matrix:$link");
    expect(link.ok).toBe(true);
    const code = link.ok ? (link.data as { code: string }).code : "";
    const before = await t.dump();
    const stolen = await chat(t, "bob", "me link", "matrix:$link");
    expect(stolen).toMatchObject({ ok: false, code: "request_reused", message: REUSED });
    expect(JSON.stringify(stolen)).not.toContain(code);
    expect(await chat(t, "alice", "me balance", "matrix:$link")).toMatchObject({ ok: false, code: "request_reused" });
    expect(await chat(t, "bob", "no such command", "matrix:$link")).toMatchObject({ ok: false, code: "request_reused" });
    expect(await t.dump()).toBe(before);
    expect(await chat(t, "alice", "me link", "matrix:$link")).toMatchObject({ ok: true, replayed: true, data: { code } });
  });
});

describe("flood control", () => {
  it("GIVEN the default policy THEN the 11th command in 10 s is told to wait once, later ones get nothing and change nothing, and after the window commands run again", async () => {
    t = await testPool({ flood: true });
    await t.ok("admin", "pool create Riverside");
    for (let i = 0; i < 9; i++) await t.ok("admin", "pool info");
    t.clock.advance(4 * SECOND_MS);
    const before = await t.dump();
    const told = await t.say("admin", "project create bakery Bakery");
    expect(told).toMatchObject({ ok: false, code: "rate_limited", message: "you are sending commands too fast: wait 6 s" });
    expect(told.ok === false && told.quiet).toBeFalsy();
    expect(text(told)).toBe("✗ you are sending commands too fast: wait 6 s");
    const ignored = await t.say("admin", "goal announce bakery Bread");
    expect(ignored).toMatchObject({ ok: false, code: "rate_limited", quiet: true });
    expect(await t.dump()).toBe(before);
    // Per member: someone else is not held up.
    expect((await t.say("bob", "pool info")).ok).toBe(true);
    t.clock.advance(6 * SECOND_MS);
    expect((await t.say("admin", "project create bakery Bakery")).ok).toBe(true);
  });

  it("GIVEN replays of one request id THEN they are not counted", async () => {
    t = await testPool({ flood: true });
    await t.ok("admin", "pool create Riverside");
    for (let i = 0; i < 30; i++) expect(await t.say("admin", "pool invite", { requestId: "console:invite" })).toMatchObject({ ok: true, replayed: i > 0 });
    for (let i = 0; i < 8; i++) await t.ok("admin", "pool info");
    expect(await t.say("admin", "pool info")).toMatchObject({ ok: false, code: "rate_limited" });
  });

  it("GIVEN a pool's floodCommands and floodSeconds THEN they are the limit, and floodCommands 0 switches it off", async () => {
    t = await testPool({ flood: true });
    await t.ok("admin", "pool create Riverside");
    await t.ok("admin", "pool policy floodCommands 3");
    await t.ok("admin", "pool policy floodSeconds 60");
    // Three in the window already (create, two policy changes): the fourth waits a minute.
    expect(await t.say("admin", "pool info")).toMatchObject({ ok: false, message: "you are sending commands too fast: wait 60 s" });
    t.clock.advance(60 * SECOND_MS);
    await t.ok("admin", "pool policy floodCommands 0");
    for (let i = 0; i < 50; i++) await t.ok("admin", "pool info");
  });

  it("GIVEN two linked accounts THEN they share one budget", async () => {
    t = await testPool({ flood: true });
    await t.ok("admin", "pool create Riverside");
    const { code } = await t.ok("alice", "me link");
    await t.ok("alicephone", `me link ${code}`);
    // alice: "me link" and four more; alicephone (alice now): five more. The linking command
    // itself counted for alicephone's old member.
    for (let i = 0; i < 4; i++) await t.ok("alice", "me balance");
    for (let i = 0; i < 5; i++) await t.ok("alicephone", "me balance");
    expect(await t.say("alicephone", "me balance")).toMatchObject({ ok: false, code: "rate_limited" });
    expect(await t.say("alice", "me balance")).toMatchObject({ ok: false, code: "rate_limited", quiet: true });
  });

  it("GIVEN a chat platform THEN the refusal is stored and sent once, ignored commands store nothing, and input that does not parse counts too", async () => {
    t = await testPool({ flood: true });
    await chat(t, "alice", "pool create Riverside", "matrix:$0");
    for (let i = 1; i < 10; i++) await chat(t, "alice", i % 2 ? "pool info" : "no such command", `matrix:$${i}`);
    const rows = await replyCount(t);
    expect(await chat(t, "alice", "pool info", "matrix:$10")).toMatchObject({ ok: false, code: "rate_limited" });
    // One row more, the refusal's, under its own request id.
    expect(await replyCount(t)).toBe(rows + 1);
    expect(JSON.parse((await replyBody(t, "matrix:$10"))!)).toMatchObject({
      ok: false,
      code: "rate_limited",
      message: "you are sending commands too fast: wait 10 s",
    });
    expect(await chat(t, "alice", "pool info", "matrix:$11")).toMatchObject({ quiet: true });
    expect(await chat(t, "alice", "gibberish", "matrix:$12")).toMatchObject({ quiet: true });
    expect(await replyCount(t)).toBe(rows + 1);
    // The told refusal is the answer of its request id: a replay gets it again, uncounted.
    expect(await chat(t, "alice", "pool info", "matrix:$10")).toMatchObject({ ok: false, code: "rate_limited" });
  });
});
