// The Matrix adapter end to end: the real matrix-bot-sdk client against the local homeserver
// (test/fakes/homeserver.ts), side by side with the Discord adapter against the local Discord
// server, on one engine and database. Members act like users would.
import { memoryLogger } from "../../src/log.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiscordAdapter } from "../../adapters/discord/client.ts";
import { MatrixAdapter } from "../../adapters/matrix/client.ts";
import { openApp, type App } from "../../src/app.ts";
import { fixedClock } from "../../src/clock.ts";
import { FakeDiscord } from "../fakes/discord-server.ts";
import { FakeHomeserver, type FakeEvent } from "../fakes/homeserver.ts";
import { JOBS, runDueJobs } from "../../src/schedules.ts";
import { seededRandom } from "../support/app.ts";
import { decodePng, distinctColours } from "../support/png.ts";
import { dialectProblems, discordMessageText } from "../support/dialects.ts";

const STRING = 3;
const INTEGER = 4;
const NUMBER = 10;

let hs: FakeHomeserver;
let discord: FakeDiscord;
let app: App;
let dbot: DiscordAdapter;
let mbot: MatrixAdapter;
let dir: string;
let botToken: string;
let botId: string;
let alice: { userId: string; accessToken: string };
let bob: { userId: string; accessToken: string };
let room: string;
const clock = fixedClock("2026-11-02T09:00:00Z");
const { logger, lines: logged } = memoryLogger();
const adapters: Array<{ deliver(): Promise<void> }> = [];

async function startMatrix(): Promise<MatrixAdapter> {
  const m = await MatrixAdapter.connect({
    homeserverUrl: hs.baseUrl,
    accessToken: botToken,
    storageFile: join(dir, "matrix-state.json"),
    engine: app.engine,
    store: app.store,
    clock,
    syncTimeoutMs: 200,
    logger,
  });
  await m.start();
  return m;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dpool-matrix-"));
  hs = await FakeHomeserver.start();
  discord = await FakeDiscord.start();
  const bot = hs.registerUser("dpool");
  botToken = bot.accessToken;
  botId = bot.userId;
  alice = hs.registerUser("alice");
  bob = hs.registerUser("bob");
  // Members here act faster than any person types, at a clock that stands still: flood control has its own tests.
  app = openApp({
    dbFile: join(dir, "pool.sqlite"),
    random: seededRandom(3),
    logger,
    afterCommit: () => adapters.forEach((a) => void a.deliver()),
    floodControl: false,
  });
  dbot = new DiscordAdapter({ token: discord.token, apiBase: discord.apiBase, engine: app.engine, store: app.store, clock, logger });
  await dbot.start();
  adapters.push(dbot);
  mbot = await startMatrix();
  adapters.push({ deliver: () => mbot.deliver() });
});

afterAll(async () => {
  await mbot.stop();
  await dbot.stop();
  await discord.close();
  await hs.close();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends a message as a Matrix user and waits for the bot's reply to it. */
async function say(user: { userId: string }, roomId: string, body: string): Promise<FakeEvent> {
  const id = hs.send(roomId, user.userId, { msgtype: "m.text", body });
  return hs.waitForEvent(roomId, (e) => e.sender === botId && (e.content as any)?.["m.relates_to"]?.["m.in_reply_to"]?.event_id === id, 5000, { after: id });
}

const text = (e: FakeEvent) => String((e.content as { body?: string }).body ?? "");
const SENT_PRIVATELY = "I sent you the answer in a direct message";

/** The newest message of the bot's direct-message room with a user that contains `includes` (personal answers go there). */
async function privately(user: { userId: string }, includes: string): Promise<string> {
  const end = Date.now() + 5000;
  for (;;) {
    const dm = (hs.accountData(botId, "m.direct") as Record<string, string[]> | undefined)?.[user.userId]?.[0];
    const found = dm
      ? hs
          .sentBy(dm, botId, "m.room.message")
          .map(text)
          .filter((t) => t.includes(includes))
      : [];
    if (found.length > 0) return found.at(-1)!;
    if (Date.now() > end) throw new Error(`no direct message to ${user.userId} containing "${includes}"`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const html = (e: FakeEvent) => String((e.content as { formatted_body?: string }).formatted_body ?? "");

async function slash(user: string, name: string, subcommand: string, options: Array<{ name: string; type: number; value: string | number }> = []) {
  const i = discord.interact({ user, channelId: "lobby", name, subcommand, options });
  await i.settled();
  return i;
}

describe("Matrix end to end", () => {
  it("GIVEN an invite THEN the bot joins and says how to start; history from before it joined stays unanswered", async () => {
    room = hs.createRoom(alice.userId, { name: "Bakery" });
    hs.invite(room, alice.userId, bob.userId);
    hs.join(room, bob.userId);
    hs.send(room, alice.userId, { msgtype: "m.text", body: "!dpool help" }); // before the bot is there
    hs.invite(room, alice.userId, botId);
    const hello = await hs.waitForEvent(room, (e) => e.sender === botId && e.type === "m.room.message");
    expect(text(hello)).toContain("!dpool pool create <name>");
    await new Promise((r) => setTimeout(r, 400));
    expect(hs.events(room).filter((e) => e.sender === botId && e.type === "m.room.message")).toHaveLength(1);
  });

  it("GIVEN a Discord pool THEN a Matrix room joins it, and a Matrix member claims a Discord project's task with ✋, is verified and takes a good", async () => {
    await slash("alice", "pool", "create", [{ name: "name", type: STRING, value: "Riverside" }]);
    const invite = await slash("alice", "pool", "invite");
    const code = /[A-Z2-9]{4}-[A-Z2-9]{4}/.exec(invite.text)![0];

    // Only a room moderator binds a room.
    const refused = await say(bob, room, `!dpool pool join ${code}`);
    expect(text(refused)).toContain("binding a room needs the power to change its settings (power level 50 in this room, yours is 0)");
    const joined = await say(alice, room, `!dpool pool join ${code}`);
    expect(text(joined)).toContain("This room is now part of the pool Riverside.");
    expect((joined.content as any)["m.relates_to"]["m.in_reply_to"].event_id).toBeDefined();
    expect(joined.content).toMatchObject({ msgtype: "m.notice", format: "org.matrix.custom.html" });

    await slash("alice", "project", "create", [
      { name: "slug", type: STRING, value: "bakery" },
      { name: "name", type: STRING, value: "The Bakery" },
    ]);
    // Alice links her Matrix account to her Discord one, then makes this room the bakery's.
    const link = discord.interact({ user: "alice", channelId: "lobby", name: "me", subcommand: "link" });
    await link.settled();
    expect(link.ephemeral).toBe(true);
    const linkCode = /[A-Z2-9]{4}-[A-Z2-9]{4}/.exec(link.text)![0];
    expect(text(await say(alice, room, `!dp me link ${linkCode}`))).toContain(SENT_PRIVATELY);
    expect(await privately(alice, "Linked.")).toContain("Linked.");
    expect(text(await say(alice, room, "!dpool project room bakery"))).toContain("This room is now a room of bakery");

    await slash("alice", "task", "post", [
      { name: "project", type: STRING, value: "bakery" },
      { name: "title", type: STRING, value: "Knead the dough" },
      { name: "hours", type: NUMBER, value: 2 },
    ]);
    const announcement = await hs.waitForEvent(room, (e) => e.sender === botId && text(e).includes("New task #1"));
    expect(html(announcement)).toContain("<strong>#1</strong>");
    expect(text(announcement)).toContain("React with ✋ to claim it.");

    hs.react(room, bob.userId, announcement.event_id, "✋");
    const claimed = await hs.waitForEvent(room, (e) => e.sender === botId && text(e).includes("You took task"), 5000, { after: announcement.event_id });
    expect(text(claimed)).toContain("bob:");
    expect(text(await say(bob, room, "!dpool task done 1"))).toContain("Reported 2 h on task #1");
    const verified = await say(alice, room, `!dpool task verify 1 ${bob.userId}`);
    expect(text(verified)).toContain("credited 2.00 wh");

    await slash("alice", "good", "add", [
      { name: "project", type: STRING, value: "bakery" },
      { name: "name", type: STRING, value: "bread" },
      { name: "effort", type: NUMBER, value: 0.5 },
      { name: "stock", type: INTEGER, value: 10 },
    ]);
    expect(text(await say(bob, room, "!dpool good request bread qty:3"))).toContain("for 1.50 wh");
    expect(text(await say(bob, room, "!dpool me balance"))).toContain(SENT_PRIVATELY);
    expect(await privately(bob, "Your balance: 0.50 wh")).toContain("Your balance: 0.50 wh");
    const audit = await slash("alice", "pool", "audit");
    expect(audit.text).toContain("Balanced.");
    const table = await say(bob, room, "!dpool task list status:all");
    expect(html(table)).toContain("Knead the dough");
    expect(discord.unhandled).toEqual([]);
    expect(hs.unhandled).toEqual([]);
  });

  it("GIVEN bad input THEN the refusal names what to type instead, and commands of no pool are ignored", async () => {
    expect(text(await say(bob, room, "!dpool task clam 1"))).toContain("did you mean `!dpool task claim`?");
    expect(text(await say(bob, room, "!dpool good request bred"))).toContain('there is no good "bred" in this pool: did you mean "bread"?');
    // Names as the lists show them: a display name in any case (curly quotes as phones type them), a number.
    expect(text(await say(bob, room, "!dpool project info “the bakery”"))).toContain("The Bakery (bakery)");
    expect(text(await say(bob, room, "!dpool good show #1"))).toContain("bread");
    expect(text(await say(bob, room, "!dpool goal announce bakery Mine"))).toContain("only a coordinator of bakery can do that");
    const other = hs.createRoom(bob.userId, { name: "Elsewhere" });
    hs.invite(other, bob.userId, botId);
    await hs.waitForEvent(other, (e) => e.sender === botId && e.type === "m.room.message");
    const ignored = hs.send(other, bob.userId, { msgtype: "m.text", body: "!dpool task list" });
    const help = await say(bob, other, "!dpool help");
    expect(text(help)).toContain("d-pool commands");
    expect(hs.events(other).some((e) => (e.content as any)?.["m.relates_to"]?.["m.in_reply_to"]?.event_id === ignored)).toBe(false);
  });

  it("GIVEN an encrypted room THEN the bot says it cannot work there", async () => {
    const secret = hs.createRoom(alice.userId, { name: "Secret", encrypted: true });
    hs.invite(secret, alice.userId, botId);
    const reply = await hs.waitForEvent(secret, (e) => e.sender === botId && e.type === "m.room.message");
    expect(text(reply)).toContain("This room is encrypted");
  });

  it("GIVEN a rate limit on sending THEN the reply is waited out, not lost", async () => {
    hs.rateLimitNext(1, 300, "/_matrix/client/v3/rooms");
    const started = Date.now();
    expect(text(await say(bob, room, "!dpool pool info"))).toContain("Riverside");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it("GIVEN a restart in the middle of a conversation THEN no command is lost and none is answered twice", async () => {
    const before = await say(bob, room, "!dpool me balance");
    await mbot.stop();
    // While the bot is down, bob reacts and types.
    const whileDown = hs.send(room, bob.userId, { msgtype: "m.text", body: "!dpool good request bread" });
    mbot = await startMatrix();
    const answer = await hs.waitForEvent(
      room,
      (e) => e.sender === botId && (e.content as any)?.["m.relates_to"]?.["m.in_reply_to"]?.event_id === whileDown,
      8000,
      { after: whileDown },
    );
    expect(text(answer)).toContain("for 0.50 wh");
    await new Promise((r) => setTimeout(r, 500));
    const repliesTo = (id: string) =>
      hs.events(room).filter((e) => e.sender === botId && (e.content as any)?.["m.relates_to"]?.["m.in_reply_to"]?.event_id === id);
    expect(repliesTo(whileDown)).toHaveLength(1);
    expect(repliesTo((before.content as any)["m.relates_to"]["m.in_reply_to"].event_id)).toHaveLength(1);
    expect(text(await say(bob, room, "!dpool me balance"))).toContain(SENT_PRIVATELY);
    expect(await privately(bob, "Your balance: 0.00 wh")).toContain("Your balance: 0.00 wh");
  });

  it("GIVEN a summary, scheduled or asked for THEN its chart follows as an m.image whose upload decodes as a PNG", async () => {
    const isImage = (e: FakeEvent) => e.sender === botId && (e.content as { msgtype?: string }).msgtype === "m.image";
    const checkImage = (e: FakeEvent, name: string) => {
      const c = e.content as { body: string; url: string; info: { w: number; h: number; mimetype: string; size: number } };
      expect(c.body).toBe(name);
      const media = hs.media(c.url)!;
      expect(media.contentType).toBe("image/png");
      expect(c.info).toEqual({ w: 800, h: 400, mimetype: "image/png", size: media.data.length });
      const picture = decodePng(media.data);
      expect([picture.width, picture.height]).toEqual([800, 400]);
      expect(distinctColours(picture)).toBeGreaterThan(10);
    };
    // Monday 09:00: the bakery's summary goes to its room (this one), then its chart.
    const last = hs.events(room).at(-1)!.event_id;
    const summaries = JOBS.filter((j) => j.name === "summaries");
    expect((await runDueJobs(app.store, Date.parse("2026-11-09T09:00:00Z"), { jobs: summaries }))[0]?.outcome).toBe("1");
    await mbot.deliver();
    const notice = await hs.waitForEvent(room, (e) => e.sender === botId && text(e).includes("The Bakery (bakery)"), 5000, { after: last });
    checkImage(await hs.waitForEvent(room, isImage, 5000, { after: notice.event_id }), "summary.png");

    const asked = await say(bob, room, "!dpool pool summary bakery");
    expect(text(asked)).toContain("The Bakery (bakery)");
    checkImage(await hs.waitForEvent(room, isImage, 5000, { after: asked.event_id }), "summary-bakery.png");
    expect(hs.unhandled).toEqual([]);
  });
});

describe("Matrix login", () => {
  it("GIVEN a user and password THEN the bot logs in once and keeps the token for the next start", async () => {
    hs.registerUser("pwbot", { password: "s3cret" });
    const file = join(dir, "pw-state.json");
    const base = { homeserverUrl: hs.baseUrl, storageFile: file, engine: app.engine, store: app.store, clock, syncTimeoutMs: 200 };
    const first = await MatrixAdapter.connect({ ...base, user: "pwbot", password: "s3cret" });
    expect(first.userId).toBe(`@pwbot:${hs.serverName}`);
    const again = await MatrixAdapter.connect(base);
    expect(again.userId).toBe(first.userId);
    await expect(MatrixAdapter.connect({ ...base, storageFile: join(dir, "empty.json") })).rejects.toThrow(
      /no MATRIX_ACCESS_TOKEN, and no MATRIX_USER and MATRIX_PASSWORD/,
    );
  });

  it("GIVEN tasks that change THEN the room's task board is one event, replaced in place with m.replace edits", async () => {
    const isBoard = (e: FakeEvent) => e.sender === botId && text(e).includes("Open tasks of");
    const original = () => hs.events(room).filter((e) => isBoard(e) && !(e.content as any)["m.relates_to"]);
    const edits = () => hs.events(room).filter((e) => isBoard(e) && (e.content as any)["m.relates_to"]?.rel_type === "m.replace");
    const before = edits().length;
    await slash("alice", "task", "post", [
      { name: "project", type: STRING, value: "bakery" },
      { name: "title", type: STRING, value: "Wash the trays" },
      { name: "hours", type: NUMBER, value: 1 },
    ]);
    const edit = await hs.waitForEvent(room, (e) => isBoard(e) && JSON.stringify(e.content).includes("Wash the trays"));
    // One board event in the room: the first one, and from then on edits of it.
    expect(original()).toHaveLength(1);
    const content = edit.content as any;
    expect(content["m.relates_to"]).toEqual({ rel_type: "m.replace", event_id: original()[0]!.event_id });
    expect(content.body.startsWith("* ")).toBe(true);
    expect(content["m.new_content"]).toMatchObject({ msgtype: "m.notice", format: "org.matrix.custom.html" });
    expect(content["m.new_content"].body).toContain("Wash the trays");
    expect(content["m.new_content"]["m.relates_to"]).toBeUndefined();
    expect(edits().length).toBeGreaterThan(before);
    const id = /#(\d+) Wash the trays/.exec(content["m.new_content"].body)![1];
    await say(bob, room, `!dpool task claim ${id}`);
    const after = await hs.waitForEvent(room, (e) => isBoard(e) && !JSON.stringify(e.content).includes("Wash the trays"), 5000, { after: edit.event_id });
    expect((after.content as any)["m.relates_to"].event_id).toBe(original()[0]!.event_id);

    // Switched off, the board's event is redacted.
    const boardEvent = original()[0]!.event_id;
    const off = await say(alice, room, "!dpool pool announcements board off");
    expect(text(off)).toContain("board announcements are now off in this room.");
    const redaction = await hs.waitForEvent(room, (e) => e.sender === botId && e.type === "m.room.redaction");
    expect(redaction.redacts).toBe(boardEvent);
    expect(original()).toEqual([]);
    expect(logged.filter((l) => l.msg.includes("task board"))).toEqual([]);
  });

  it("GIVEN every message of the scenarios above THEN Matrix names commands with the prefix and Discord as slash commands", () => {
    const events = hs.roomIds().flatMap((r) => hs.sentBy(r, botId, "m.room.message"));
    const bodies = events.flatMap((e) => [text(e), html(e)]);
    expect(events.length).toBeGreaterThan(20);
    expect(bodies.join("\n")).toContain("!dpool task claim");
    expect(bodies.flatMap((t) => dialectProblems("matrix", t))).toEqual([]);
    expect(discord.allMessages().flatMap((m) => dialectProblems("discord", discordMessageText(m)))).toEqual([]);
  });
});
