// Matrix delivery you can trust, end to end: the real matrix-bot-sdk client in the adapter
// against the fake homeserver, which behaves like Synapse (timeline limit with `limited` and
// /messages paging, 429 with retry_after_ms, txnId dedupe, outages, kicks).
//   a. a burst of commands in a busy room: every one answered exactly once, no restart
//   c. rate limits, a homeserver that goes away and comes back, or stays away, a refused token
//   d. a room the bot was kicked from goes quiet, with one log line
import { afterEach, describe, expect, it } from "vitest";
import type { MatrixOptions } from "../../adapters/matrix/client.ts";
import { runText } from "../../commands/dispatch.ts";
import { EXIT } from "../../src/lifecycle.ts";
import type { FakeHomeserverOptions } from "../fakes/homeserver.ts";
import { MatrixWorld, text, type MatrixUser } from "../support/matrix-world.ts";
import { until } from "../support/until.ts";

/**
 * One homeserver, one database, one bot, a lobby with a pool, a project and three members.
 * The homeserver rate-limits the bot too unless a test exempts it.
 */
type World = MatrixWorld & { readonly alice: MatrixUser; readonly bob: MatrixUser; readonly carol: MatrixUser };
const World = {
  async create(homeserver: FakeHomeserverOptions = {}, adapter: Partial<MatrixOptions> = {}): Promise<World> {
    const w = await MatrixWorld.start({ seed: 7, name: "matrix-delivery", members: ["alice", "bob", "carol"], homeserver, adapter, rateLimitBot: true });
    expect(text(await w.say(w.user("alice"), "!dpool project create bakery The Bakery"))).toContain("created; you coordinate it");
    return Object.assign(w, { alice: w.user("alice"), bob: w.user("bob"), carol: w.user("carol") });
  },
};

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("Matrix: nothing lost on the way in", () => {
  it("GIVEN 20 commands typed quickly while other members' tasks and claims fill the room (timeline limit 10, as Synapse's default) THEN each is answered exactly once, without a restart", async () => {
    world = await World.create({}, { timelineLimit: 10 });
    const w = world;
    w.hs.exemptFromRateLimit(w.botUser.userId);
    for (let i = 1; i <= 6; i++) await w.sayIn(w.alice, w.lobby, `!dpool task post bakery Warm-up task ${i} hours:1`);
    const before = w.hs.requests.filter((r) => r.path.endsWith("/messages")).length;

    // Bob types 20 commands in a row; alice posts tasks and carol claims them at the same time:
    // each of those adds an answer, an announcement and a board edit to the room.
    const bobs: string[] = [];
    const others: string[] = [];
    for (let i = 0; i < 20; i++) {
      const cmd = i % 4 === 0 ? "!dpool task list" : i % 4 === 1 ? `!dpool task claim ${1 + (i % 6)}` : i % 4 === 2 ? "!dpool me balance" : "!dpool pool info";
      bobs.push(w.hs.send(w.lobby, w.bob.userId, { msgtype: "m.text", body: cmd }));
      if (i % 3 === 0) others.push(w.hs.send(w.lobby, w.alice.userId, { msgtype: "m.text", body: `!dpool task post bakery Burst task ${i} hours:2` }));
      if (i % 5 === 0) others.push(w.hs.send(w.lobby, w.carol.userId, { msgtype: "m.text", body: `!dpool task claim ${7 + Math.floor(i / 3)}` }));
      if (i % 7 === 3) await new Promise((r) => setTimeout(r, 30));
    }
    await until("an answer to each of bob's 20 commands", () => bobs.every((id) => w.answers(w.lobby, id).length > 0), 40_000);
    await until("an answer to each of the others' commands", () => others.every((id) => w.answers(w.lobby, id).length > 0), 20_000);
    await w.settle();
    const counts = bobs.map((id) => w.answers(w.lobby, id).length);
    console.log(
      `matrix burst test: bob sent 20 / answered once ${counts.filter((c) => c === 1).length} / answered twice ${counts.filter((c) => c > 1).length} / lost ${counts.filter((c) => c === 0).length}; /messages pages fetched: ${w.hs.requests.filter((r) => r.path.endsWith("/messages")).length - before}`,
    );
    expect(counts).toEqual(Array(20).fill(1));
    expect(others.map((id) => w.answers(w.lobby, id).length)).toEqual(others.map(() => 1));
    // The gaps were there, and were paged.
    expect(w.hs.requests.filter((r) => r.path.endsWith("/messages")).length).toBeGreaterThan(before);
    // Each task announced once.
    const announced = w.hs.sentBy(w.lobby, w.botUser.userId).filter((e) => /New task #\d+/.test(text(e)));
    const ids = announced.map((e) => /New task #(\d+)/.exec(text(e))![1]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(6 + 7);
    expect(text(await w.sayIn(w.alice, w.lobby, "!dpool pool audit"))).toContain("Balanced.");
    expect(w.warnings()).toEqual([]);
    expect(w.hs.unhandled).toEqual([]);
  });

  it("GIVEN commands typed while the bot is stopped, more than one sync's worth THEN all are answered once after it starts", async () => {
    world = await World.create({}, { timelineLimit: 10 });
    const w = world;
    w.hs.exemptFromRateLimit(w.botUser.userId);
    await w.bot.stop();
    const sent: string[] = [];
    for (let i = 0; i < 25; i++)
      sent.push(w.hs.send(w.lobby, i % 2 ? w.bob.userId : w.carol.userId, { msgtype: "m.text", body: i % 3 ? "!dpool me balance" : "!dpool task list" }));
    await w.startBot();
    await until("an answer to each command sent while the bot was stopped", () => sent.every((id) => w.answers(w.lobby, id).length > 0), 30_000);
    await w.settle();
    expect(sent.map((id) => w.answers(w.lobby, id).length)).toEqual(sent.map(() => 1));
    expect(w.warnings()).toEqual([]);
  });
});

describe("Matrix: replies where they belong, notices once", () => {
  it("GIVEN a command typed in a thread THEN the answer stays in that thread and replies to the command", async () => {
    world = await World.create();
    const w = world;
    w.hs.exemptFromRateLimit(w.botUser.userId);
    const root = w.hs.send(w.lobby, w.bob.userId, { msgtype: "m.text", body: "Questions about money" });
    const id = w.hs.send(w.lobby, w.bob.userId, {
      msgtype: "m.text",
      body: "!dpool me balance",
      "m.relates_to": { rel_type: "m.thread", event_id: root, is_falling_back: true, "m.in_reply_to": { event_id: root } },
    });
    await until("the answer", () => w.answers(w.lobby, id).length > 0);
    const answer = w.answers(w.lobby, id)[0]!;
    expect(answer.content["m.relates_to"]).toEqual({ rel_type: "m.thread", event_id: root, is_falling_back: false, "m.in_reply_to": { event_id: id } });
    // A personal answer: the thread hears that it went to a direct message.
    expect(text(answer)).toBe("@bob: I sent you the answer in a direct message.");
  });

  it("GIVEN an encrypted room THEN the notice is sent once, also across a restart", async () => {
    world = await World.create();
    const w = world;
    w.hs.exemptFromRateLimit(w.botUser.userId);
    const secret = w.hs.createRoom(w.alice.userId, { name: "Secret", encrypted: true });
    w.hs.invite(secret, w.alice.userId, w.botUser.userId);
    await w.hs.waitForEvent(secret, (e) => e.sender === w.botUser.userId && text(e).includes("This room is encrypted"), 10_000);
    const encrypted = { algorithm: "m.megolm.v1.aes-sha2", ciphertext: "AwgAEn...", sender_key: "k", session_id: "s", device_id: "D" };
    w.hs.send(secret, w.alice.userId, encrypted, "m.room.encrypted");
    await w.settle();
    await w.bot.stop();
    await w.startBot();
    w.hs.send(secret, w.alice.userId, { ...encrypted, session_id: "s2" }, "m.room.encrypted");
    await w.settle();
    expect(w.hs.sentBy(secret, w.botUser.userId).filter((e) => text(e).includes("This room is encrypted"))).toHaveLength(1);
  });
});

describe("Matrix: never a silent exit", () => {
  it("GIVEN Synapse's message rate limiter on the bot THEN every answer arrives once, after the waits, and each spell of trouble is logged when it starts and ends", async () => {
    world = await World.create({}, { timelineLimit: 10 });
    const w = world;
    w.hs.setMessageRateLimit({ perSecond: 4, burst: 3 });
    const sent: string[] = [];
    for (let i = 0; i < 10; i++) sent.push(w.hs.send(w.lobby, w.bob.userId, { msgtype: "m.text", body: "!dpool me balance" }));
    await until("an answer to each of 10 commands despite the rate limit", () => sent.every((id) => w.answers(w.lobby, id).length > 0), 40_000);
    await w.settle();
    expect(sent.map((id) => w.answers(w.lobby, id).length)).toEqual(sent.map(() => 1));
    expect(w.hs.requests.some((r) => r.status === 429)).toBe(true);
    // Each spell of trouble: one line when it starts, one when it ends; never a stack trace.
    const started = w.log.lines.filter((l) => l.msg.startsWith("could not deliver") || / ms as asked$/.test(l.msg));
    const ended = w.log.lines.filter((l) => l.msg.includes("works again"));
    expect(started.length).toBe(ended.length);
    expect(started.length).toBeGreaterThan(0);
    expect(started.length).toBeLessThan(w.hs.requests.filter((r) => r.status === 429).length);
    // A rate limit is the homeserver working as meant: a line, not a warning.
    expect(started.filter((l) => / ms as asked$/.test(l.msg)).every((l) => l.level === "info")).toBe(true);
    expect(w.warnings().filter((l) => l.err !== undefined)).toEqual([]);
  });

  it("GIVEN the homeserver down for a while THEN one line when it starts, one when it ends, and nothing typed meanwhile is lost", async () => {
    world = await World.create({}, { timelineLimit: 10, giveUpAfterMs: 60_000, maxRetryMs: 300 });
    const w = world;
    w.hs.exemptFromRateLimit(w.botUser.userId);
    await w.hs.goOffline();
    const sent: string[] = [];
    for (let i = 0; i < 12; i++) sent.push(w.hs.send(w.lobby, w.bob.userId, { msgtype: "m.text", body: i % 2 ? "!dpool me balance" : "!dpool pool info" }));
    await until("the outage to be noticed", () => w.log.lines.some((l) => l.msg.includes("cannot be reached")), 10_000);
    await new Promise((r) => setTimeout(r, 1200)); // down for a while: several failed attempts
    await w.hs.goOnline();
    await until("an answer to each command typed during the outage", () => sent.every((id) => w.answers(w.lobby, id).length > 0), 30_000);
    await w.settle();
    expect(sent.map((id) => w.answers(w.lobby, id).length)).toEqual(sent.map(() => 1));
    expect(w.log.lines.filter((l) => l.msg.includes("cannot be reached"))).toHaveLength(1);
    const back = w.log.lines.filter((l) => l.msg.includes("reachable again"));
    expect(back).toHaveLength(1);
    expect(w.warnings().map((l) => l.msg)).toEqual([expect.stringContaining("cannot be reached")]);
    expect(w.fatal).toEqual([]);
  });

  it("GIVEN 429s on /sync itself THEN the loop waits them out and goes on", async () => {
    world = await World.create({}, { giveUpAfterMs: 60_000 });
    const w = world;
    w.hs.exemptFromRateLimit(w.botUser.userId);
    w.hs.rateLimitNext(3, 400, "/_matrix/client/v3/sync");
    const limited = () => w.hs.requests.filter((r) => r.path.endsWith("/sync") && r.status === 429).length;
    await until("three rate-limited syncs", () => limited() === 3, 20_000);
    const id = w.hs.send(w.lobby, w.bob.userId, { msgtype: "m.text", body: "!dpool me balance" });
    await until("the answer after the rate-limited syncs", () => w.answers(w.lobby, id).length > 0, 20_000);
    expect(w.fatal).toEqual([]);
    expect(w.warnings()).toEqual([]);
  });

  it("GIVEN a 502 from a proxy in front of a restarting homeserver THEN the same: retried, answered once", async () => {
    world = await World.create({}, { giveUpAfterMs: 60_000, maxRetryMs: 300 });
    const w = world;
    w.hs.exemptFromRateLimit(w.botUser.userId);
    w.hs.startProxyErrors({ status: 502, forMs: 1000 });
    const id = w.hs.send(w.lobby, w.bob.userId, { msgtype: "m.text", body: "!dpool me balance" });
    await until("the answer after the proxy errors", () => w.answers(w.lobby, id).length > 0, 20_000);
    await w.settle();
    expect(w.answers(w.lobby, id)).toHaveLength(1);
    expect(w.fatal).toEqual([]);
  });

  it("GIVEN the homeserver down longer than the give-up time THEN onFatal with EXIT.unreachable", async () => {
    world = await World.create({}, { giveUpAfterMs: 1500, maxRetryMs: 300 });
    const w = world;
    const started = Date.now();
    await w.hs.goOffline();
    await until("onFatal", () => w.fatal.length > 0, 20_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(w.fatal).toHaveLength(1);
    expect(w.fatal[0]!.exitCode).toBe(EXIT.unreachable);
    expect(w.fatal[0]!.message).toMatch(/stayed unreachable/);
    await w.hs.goOnline();
  });

  it("GIVEN the access token revoked THEN onFatal with EXIT.credentials, once", async () => {
    world = await World.create();
    const w = world;
    w.hs.revokeToken(w.botUser.accessToken);
    await until("onFatal", () => w.fatal.length > 0, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(w.fatal.map((f) => f.exitCode)).toEqual([EXIT.credentials]);
    expect(w.fatal[0]!.message).toMatch(/M_UNKNOWN_TOKEN/);
  });
});

describe("Matrix: a room that threw the bot out", () => {
  for (const how of ["kick", "ban"] as const) {
    it(`GIVEN the bot ${how === "kick" ? "kicked" : "banned"} from a room of the pool THEN one log line, and announcements stop going there`, async () => {
      world = await World.create();
      const w = world;
      w.hs.exemptFromRateLimit(w.botUser.userId);
      const workshop = w.hs.createRoom(w.alice.userId, { name: "Workshop" });
      w.hs.invite(workshop, w.alice.userId, w.botUser.userId);
      await w.hs.waitForEvent(workshop, (e) => e.sender === w.botUser.userId && e.type === "m.room.message", 10_000);
      const code = /[A-Z2-9]{4}-[A-Z2-9]{4}/.exec(text(await w.sayIn(w.alice, w.lobby, "!dpool pool invite")))![0];
      expect(text(await w.sayIn(w.alice, workshop, `!dpool pool join ${code}`))).toContain("This room is now part of the pool");
      await w.sayIn(w.alice, w.lobby, "!dpool task post bakery Before hours:1");
      await until("the announcement in the workshop", () => w.hs.sentBy(workshop, w.botUser.userId).some((e) => text(e).includes("Before")));

      if (how === "kick") w.hs.kick(workshop, w.alice.userId, w.botUser.userId, "too chatty");
      else w.hs.ban(workshop, w.alice.userId, w.botUser.userId, "spam");
      await until("the bot to notice", () => w.log.lines.some((l) => l.msg.includes(workshop)));
      for (let i = 0; i < 3; i++) await w.sayIn(w.alice, w.lobby, `!dpool task post bakery After ${i} hours:1`);
      await w.settle();
      expect(w.hs.sentBy(w.lobby, w.botUser.userId).filter((e) => text(e).includes("New task") && text(e).includes("After"))).toHaveLength(3);
      expect(w.hs.sentBy(workshop, w.botUser.userId).filter((e) => text(e).includes("After"))).toEqual([]);
      // No attempt to post there at all, and one short line.
      expect(w.hs.requests.filter((r) => r.path.includes(workshop) && r.method === "PUT" && r.status === 403)).toEqual([]);
      const lines = w.log.lines.filter((l) => JSON.stringify(l).includes(workshop));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: "warn", msg: expect.stringContaining(how === "kick" ? "kicked" : "banned") });
      expect(lines[0]!.err).toBeUndefined();
    });
  }

  it("GIVEN an announcement waiting for a room the bot was kicked from while it was stopped THEN the first sync's leave gives the room up before anything is sent: one short line", async () => {
    world = await World.create();
    const w = world;
    w.hs.exemptFromRateLimit(w.botUser.userId);
    const workshop = w.hs.createRoom(w.alice.userId, { name: "Workshop" });
    w.hs.invite(workshop, w.alice.userId, w.botUser.userId);
    await w.hs.waitForEvent(workshop, (e) => e.sender === w.botUser.userId && e.type === "m.room.message", 10_000);
    const code = /[A-Z2-9]{4}-[A-Z2-9]{4}/.exec(text(await w.sayIn(w.alice, w.lobby, "!dpool pool invite")))![0];
    await w.sayIn(w.alice, workshop, `!dpool pool join ${code}`);
    await w.settle();
    await w.bot.stop();
    w.hs.kick(workshop, w.alice.userId, w.botUser.userId);
    // A task posted meanwhile (on another platform, say): its announcements wait in the outbox.
    const posted = await runText(
      w.app.engine,
      { caller: { platform: "matrix", userId: w.alice.userId, displayName: "alice", roomId: w.lobby }, requestId: "test:post", now: new Date() },
      "task post bakery While away hours:1",
    );
    expect(posted.ok).toBe(true);
    await w.startBot();
    await until("the announcement in the lobby", () => w.hs.sentBy(w.lobby, w.botUser.userId).some((e) => text(e).includes("While away")));
    await w.settle();
    const refused = () => w.hs.requests.filter((r) => r.path.includes(workshop) && r.method === "PUT" && r.status === 403).length;
    const before = refused();
    expect(before).toBe(0); // the first sync told of the kick before anything was sent
    await w.sayIn(w.alice, w.lobby, "!dpool task post bakery Later hours:1");
    await w.settle();
    expect(refused()).toBe(before);
    const lines = w.log.lines.filter((l) => l.level !== "debug" && JSON.stringify(l).includes(workshop));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toContain("kicked");
    expect(lines.filter((l) => l.err !== undefined || JSON.stringify(l).includes("    at "))).toEqual([]);
    const room = await w.app.store.read((tx) => tx.room("matrix", workshop));
    expect(room?.unreachableSince).not.toBeNull();
  });

  it("GIVEN a send refused with 403 M_FORBIDDEN THEN the courier gives the room up at once, without a retry", async () => {
    world = await World.create();
    const failure = world.bot.classify(
      Object.assign(new Error("x"), { errcode: "M_FORBIDDEN", error: "User @dpool:test.local not in room", statusCode: 403, body: {} }),
    );
    expect(failure).toMatchObject({ retry: false, roomGone: true });
  });
});
