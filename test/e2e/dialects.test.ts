// One scenario typed on every platform (Discord slash commands against the local Discord server,
// Matrix messages against the local homeserver, the console room, dpool exec): every reply,
// announcement and note the members get names commands only in that platform's syntax.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import type { APIMessage } from "discord-api-types/v10";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConsole } from "../../adapters/console/repl.ts";
import { DiscordAdapter } from "../../adapters/discord/client.ts";
import { MatrixAdapter } from "../../adapters/matrix/client.ts";
import type { AnyArg } from "../../commands/args.ts";
import { readRef } from "../../commands/refs.ts";
import { table } from "../../commands/table.ts";
import { exec } from "../../src/cli.ts";
import { openApp, type App } from "../../src/app.ts";
import { fixedClock } from "../../src/clock.ts";
import { memoryLogger } from "../../src/log.ts";
import { FAKE_IDS, FakeDiscord } from "../fakes/discord-server.ts";
import { FakeHomeserver, type FakeEvent } from "../fakes/homeserver.ts";
import { seededRandom } from "../support/app.ts";
import { dialectProblems } from "../support/dialects.ts";

/** Who types what, in the pool's one room; refusals and help pages included. */
const SCRIPT: ReadonlyArray<readonly ["alice" | "bob", string]> = [
  ["alice", "help"],
  ["alice", "pool create Riverside"],
  ["alice", "project create bakery Bakery"],
  ["alice", "task post bakery Knead hours:2 kind:baking"],
  ["bob", "task list"],
  ["bob", "task board"],
  ["bob", "task claim 1"],
  ["bob", "task done 1"],
  ["alice", "task verify 1 @bob"],
  ["alice", "task post bakery Sweep hours:1"],
  ["bob", "task claim 2"],
  ["bob", "task done 2"],
  ["alice", "task reject 2 @bob dusty"],
  ["alice", "good add bakery bread effort:0.5 stock:10"],
  ["bob", "good list"],
  ["bob", "good show bread"],
  ["bob", "good request bread qty:2"],
  ["bob", "me status"],
  ["bob", "me balance"],
  ["alice", "pool info"],
  ["alice", "pool policy"],
  ["alice", "pool announcements"],
  ["alice", "pool invite"],
  ["alice", "project list"],
  ["alice", "project info bakery"],
  ["alice", "goal announce bakery Bread"],
  ["alice", "goal list"],
  ["alice", "kind list"],
  ["alice", "task show 1"],
  ["alice", "pool correct 1 mistake"],
  ["alice", "help task"],
  ["alice", "help task claim"],
  ["alice", "help nonsense"],
  ["bob", "task claim 99"],
  ["bob", "goal announce bakery Mine"],
  ["bob", "task drop 2"],
];

let hs: FakeHomeserver;
let discord: FakeDiscord;
// Each platform has its own database, so that task numbers are the same on each.
let app: App;
let mapp: App;
let capp: App;
let dbot: DiscordAdapter;
let mbot: MatrixAdapter;
let dir: string;
let botId: string;
const clock = fixedClock("2026-11-02T09:00:00Z");
const { logger } = memoryLogger();
const adapters: Array<{ deliver(): Promise<void> }> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dpool-dialects-"));
  hs = await FakeHomeserver.start();
  discord = await FakeDiscord.start();
  const bot = hs.registerUser("dpool");
  botId = bot.userId;
  const open = (name: string) => openApp({ dbFile: join(dir, `${name}.sqlite`), random: seededRandom(9), logger, afterCommit: () => adapters.forEach((a) => void a.deliver()), floodControl: false });
  app = open("discord");
  mapp = open("matrix");
  capp = open("console");
  dbot = new DiscordAdapter({ token: discord.token, apiBase: discord.apiBase, engine: app.engine, store: app.store, clock, logger });
  await dbot.start();
  adapters.push(dbot);
  mbot = await MatrixAdapter.connect({ homeserverUrl: hs.baseUrl, accessToken: bot.accessToken, storageFile: join(dir, "matrix-state.json"), engine: mapp.engine, store: mapp.store, clock, syncTimeoutMs: 200, logger });
  await mbot.start();
  adapters.push({ deliver: () => mbot.deliver() });
}, 60_000);

afterAll(async () => {
  await mbot?.stop();
  await dbot?.stop();
  await discord?.close();
  await hs?.close();
  await app?.close();
  await mapp?.close();
  await capp?.close();
  rmSync(dir, { recursive: true, force: true });
});

const settle = async () => {
  await Promise.all(adapters.map((a) => a.deliver()));
  await new Promise((r) => setTimeout(r, 300));
};

const OPTION_TYPES: Record<string, number> = { integer: 4, hours: 10, member: 6 };

/** A line of the script as the slash command a Discord member would use. */
function slashOf(user: string, text: string) {
  const ref = readRef(table, text);
  if (!ref) throw new Error(`no command in "${text}"`);
  const path = ref.command.path;
  const options = ref.parts.map((p) => {
    const kind = (ref.command.args[p.name] as AnyArg).spec.kind;
    const type = OPTION_TYPES[kind] ?? 3;
    const value = type === 6 ? FAKE_IDS[p.value.replace(/^@/, "") as "bob"] : type === 3 ? p.value : Number(p.value);
    return { name: p.name, type, value };
  });
  return { user, channelId: "lobby", name: path[0]!, ...(path.length === 3 ? { group: path[1]!, subcommand: path[2]! } : path.length === 2 ? { subcommand: path[1]! } : {}), options };
}

const messageText = (m: APIMessage) => [m.content, ...m.embeds.flatMap((e) => [e.title ?? "", e.description ?? "", ...(e.fields ?? []).flatMap((f) => [f.name, f.value]), e.footer?.text ?? ""])].filter((s) => s.length > 0).join("\n");

describe("every platform writes commands its own way", () => {
  it("GIVEN the scenario on Discord THEN every reply, announcement and DM names slash commands with real options, never !dpool or text commands", { timeout: 120_000 }, async () => {
    const texts: string[] = [];
    for (const [user, line] of SCRIPT) {
      const i = discord.interact(slashOf(user, line));
      await i.settled();
      for (const m of i.messages) texts.push(messageText(m));
    }
    await settle();
    for (const channel of ["lobby", discord.dmChannel(FAKE_IDS.alice).id, discord.dmChannel(FAKE_IDS.bob).id]) for (const m of discord.channelMessages(channel)) texts.push(messageText(m));
    const all = texts.join("\n");
    // Not vacuous: the hints are there, in slash form.
    expect(all).toContain("`/task claim id:1`");
    expect(all).toContain("`/help command:task claim`");
    expect(all).toMatch(/`\/task (done|drop) id:2`/);
    // A refusal's hint too: "task list status:all" shows them.
    expect(all).toContain("`/task list status:all` shows them");
    expect(texts.length).toBeGreaterThan(SCRIPT.length);
    expect(texts.flatMap((t) => dialectProblems("discord", t))).toEqual([]);
  });

  it("GIVEN the scenario on Matrix THEN every message in every room and DM names commands with the prefix, in both bodies", { timeout: 120_000 }, async () => {
    const alice = hs.registerUser("alice");
    const bob = hs.registerUser("bob");
    const users = { alice, bob };
    const room = hs.createRoom(alice.userId, { name: "Riverside" });
    hs.invite(room, alice.userId, bob.userId);
    hs.join(room, bob.userId);
    hs.invite(room, alice.userId, botId);
    await hs.waitForEvent(room, (e) => e.sender === botId && e.type === "m.room.message");
    for (const [user, line] of SCRIPT) {
      const typed = line.replace(/@bob\b/g, bob.userId);
      const id = hs.send(room, users[user].userId, { msgtype: "m.text", body: `!dpool ${typed}` });
      await hs.waitForEvent(room, (e) => e.sender === botId && (e.content as any)?.["m.relates_to"]?.["m.in_reply_to"]?.event_id === id, 5000, { after: id });
    }
    await settle();
    const events: FakeEvent[] = hs.roomIds().flatMap((r) => hs.sentBy(r, botId, "m.room.message"));
    const bodies = events.flatMap((e) => [String((e.content as { body?: string }).body ?? ""), String((e.content as { formatted_body?: string }).formatted_body ?? "")]);
    const all = bodies.join("\n");
    expect(all).toContain("`!dpool task claim 1`");
    expect(all).toContain("<code>!dpool task claim 1</code>");
    expect(all).toContain("!dpool help task claim");
    expect(all).toContain("`!dpool task list status:all` shows them");
    expect(all).toContain("<code>!dpool task list status:all</code> shows them");
    expect(events.length).toBeGreaterThan(SCRIPT.length);
    expect(bodies.flatMap((t) => dialectProblems("matrix", t))).toEqual([]);
  });

  it("GIVEN the scenario in the console room THEN replies and announcements are plain, within 80 columns, refusals on one line", { timeout: 120_000 }, async () => {
    let out = "";
    const output = new Writable({
      write(chunk, _enc, done) {
        out += String(chunk);
        done();
      },
    });
    const lines = SCRIPT.flatMap(([user, line]) => [`/as ${user}`, line]);
    await startConsole({ engine: capp.engine, store: capp.store, clock, input: Readable.from([`${lines.join("\n")}\n`]), output, tty: false, room: "kitchen" });
    expect(out).toContain("task claim 1");
    expect(out).toContain("help task claim");
    expect(dialectProblems("console", out)).toEqual([]);
    // Replies wrap to 80 columns; a refusal (✗ ...) stays on one line however long.
    const wide = out.split("\n").filter((l) => [...l].length > 80);
    expect(wide.length).toBeGreaterThan(0);
    for (const line of wide) expect(line).toMatch(/^✗ /);
  });

  it("GIVEN the scenario through dpool exec THEN its text has no backticks, no prefix and no slash commands; replies within 80 columns, refusals on one line", { timeout: 120_000 }, async () => {
    const db = join(dir, "exec.sqlite");
    const texts: string[] = [];
    const refusals: string[] = [];
    for (const [user, line] of SCRIPT) {
      let text = "";
      await exec(["--db", db, "--as", user, line], { NO_COLOR: "1" }, (s) => (text += `${s}\n`), (s) => refusals.push(s));
      texts.push(text);
    }
    // Replies wrap to 80 columns; a refusal stays on one line however long.
    expect(texts.flatMap((t) => t.split("\n")).filter((l) => [...l].length > 80)).toEqual([]);
    expect(refusals.some((r) => r.length > 80)).toBe(true);
    for (const r of refusals) expect(r).not.toContain("\n");
    const all = [...texts, ...refusals].join("\n");
    expect(all).toContain("task claim 1");
    expect(all).toContain("help task claim");
    expect(all).toContain('"task list status:all" shows them');
    expect([...texts, ...refusals].flatMap((t) => dialectProblems("exec", t))).toEqual([]);
  });
});
