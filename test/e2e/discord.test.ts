// The Discord adapter end to end: the real discord.js client against the local Discord server
// (test/fakes/discord-server.ts). Two members in a guild run the pool like users would.
import type { LogLine } from "../../src/log.ts";
import type { APIMessage } from "discord-api-types/v10";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DiscordAdapter } from "../../adapters/discord/client.ts";
import { registerCommands } from "../../adapters/discord/deploy.ts";
import type { App } from "../../src/app.ts";
import type { Store } from "../../src/store.ts";
import { fixedClock } from "../../src/clock.ts";
import { DAY_MS } from "../../src/core/time.ts";
import { FAKE_IDS, FakeDiscord } from "../fakes/discord-server.ts";
import { JOBS, runDueJobs } from "../../src/schedules.ts";
import { seededRandom } from "../support/app.ts";
import { openTestApp } from "../support/test-app.ts";
import { OPTION, startDiscordWorld, type DiscordWorld } from "../support/discord-world.ts";
import { dumpTables, quietDump, waitQuiet } from "../support/db-dump.ts";
import { decodePng, distinctColours } from "../support/png.ts";
import { dialectProblems, discordMessageText } from "../support/dialects.ts";

/** The custom ids of a message's buttons. */
const idsOf = (components: unknown): string[] =>
  ((components ?? []) as Array<{ components?: Array<{ custom_id?: string }> }>).flatMap((r) =>
    (r.components ?? []).flatMap((c) => (c.custom_id === undefined ? [] : [c.custom_id])),
  );
/** A button's custom id: the command's key and its values as typed (stable: old messages keep them). */
const claimButton = (id: number | string) => `dpool-do:tc:{"id":"${id}"}`;

const { STRING, INTEGER, USER, NUMBER } = OPTION;

let world: DiscordWorld;
let fake: FakeDiscord;
let app: App;
let bot: DiscordAdapter;
let logged: LogLine[];
const clock = fixedClock("2026-11-02T09:00:00Z");

beforeAll(async () => {
  world = await startDiscordWorld({ seed: 5, clock });
  ({ fake, app, bot, logged } = world);
});

afterAll(() => world?.close());

const slash = (
  user: string,
  channel: string,
  name: string,
  subcommand: string,
  options: Array<{ name: string; type: number; value: string | number }> = [],
  group?: string,
) => fake.interact({ user, channelId: channel, name, subcommand, group, options });

// Each command is sent once the bot is quiet: the tests name tasks by number, and on PostgreSQL a
// command whose transaction overlapped the board rebuild after the one before may be refused by
// the database and run again, which leaves a gap in the ids.
async function run(
  user: string,
  channel: string,
  name: string,
  subcommand: string,
  options: Array<{ name: string; type: number; value: string | number }> = [],
  group?: string,
) {
  await waitQuiet(app.store);
  const i = slash(user, channel, name, subcommand, options, group);
  await i.settled();
  return i;
}

describe("Discord end to end", () => {
  it("GIVEN the table THEN discord:register bulk-overwrites the guild's slash commands", async () => {
    const n = await registerCommands({ token: fake.token, appId: fake.applicationId, guildId: FAKE_IDS.guild, apiBase: fake.apiBase });
    const registered = fake.registeredCommands(FAKE_IDS.guild).map((c) => c.name);
    expect(n).toBe(registered.length);
    expect(registered).toEqual(expect.arrayContaining(["help", "pool", "project", "task", "good", "me", "kind", "goal", "sector"]));
  });

  it("GIVEN two members THEN pool, project, task, Claim, done, verify and a good request work, and the ledger balances", async () => {
    const created = await run("alice", "lobby", "pool", "create", [{ name: "name", type: STRING, value: "Riverside commons" }]);
    expect(created.ephemeral).toBe(false);
    expect(created.text).toContain("Pool **Riverside commons** created");

    const project = await run("alice", "lobby", "project", "create", [
      { name: "slug", type: STRING, value: "bakery" },
      { name: "name", type: STRING, value: "The Bakery" },
    ]);
    expect(project.text).toContain("Project **bakery**");

    const posted = await run("alice", "lobby", "task", "post", [
      { name: "project", type: STRING, value: "bakery" },
      { name: "title", type: STRING, value: "Knead the dough" },
      { name: "hours", type: NUMBER, value: 2 },
      { name: "kind", type: STRING, value: "baking" },
    ]);
    expect(posted.text).toContain("Knead the dough");
    expect(idsOf(posted.components)).toContain(claimButton(1));

    // The announcement reaches the lobby with a Claim button.
    const announcement: APIMessage = await fake.waitForChannelMessage("lobby", (m) => JSON.stringify(m).includes("New task"));
    expect(idsOf(announcement.components)).toContain(claimButton(1));

    // Two days later bob presses Claim on the announcement.
    clock.advance(2 * DAY_MS);
    const claim = fake.interact({ type: "button", user: "bob", channelId: "lobby", customId: claimButton(1), message: announcement.id });
    await claim.settled();
    expect(claim.ephemeral).toBe(true);
    expect(claim.text).toContain("at weight **1.21**");
    expect(idsOf(claim.components)).toContain('dpool-do:td:{"id":"1"}');

    const done = await run("bob", "lobby", "task", "done", [{ name: "id", type: INTEGER, value: 1 }]);
    expect(done.text).toContain("Reported 2 h on task #1");

    const verified = await run("alice", "lobby", "task", "verify", [
      { name: "id", type: INTEGER, value: 1 },
      { name: "member", type: USER, value: FAKE_IDS.bob },
    ]);
    expect(verified.text).toMatch(/is credited \*\*2\.42 wh\*\* \(2 h x 1\.21\)/);

    const balance = await run("bob", "lobby", "me", "balance");
    expect(balance.ephemeral).toBe(true);
    expect(balance.text).toContain("Your balance: **2.42 wh**");
    // me status: everything that is bob's, only for him.
    const status = await run("bob", "lobby", "me", "status");
    expect(status.ephemeral).toBe(true);
    expect(status.text).toContain("Your balance: **2.42 wh**");
    expect(status.text).toContain("Nothing else is yours yet");

    await run("alice", "lobby", "good", "add", [
      { name: "project", type: STRING, value: "bakery" },
      { name: "name", type: STRING, value: "bread" },
      { name: "effort", type: NUMBER, value: 0.5 },
      { name: "stock", type: INTEGER, value: 10 },
    ]);
    const request = await run("bob", "lobby", "good", "request", [
      { name: "good", type: STRING, value: "bread" },
      { name: "qty", type: INTEGER, value: 2 },
    ]);
    expect(request.text).toContain("for **1.00 wh**");

    const audit = await run("alice", "lobby", "pool", "audit");
    expect(audit.text).toContain("Balanced.");

    await run("alice", "lobby", "goal", "announce", [
      { name: "project", type: STRING, value: "bakery" },
      { name: "text", type: STRING, value: "Bread for 40 households" },
    ]);
    const goal = await fake.waitForChannelMessage("lobby", (m) => JSON.stringify(m).includes("Bread for 40 households"));
    expect(JSON.stringify(goal.embeds)).toContain("has a new goal #1");
    expect(fake.unhandled).toEqual([]);
  });

  it("GIVEN refusals THEN the replies are ephemeral and specific, and nothing changes", async () => {
    const before = await quietDump(app.store);
    const forbidden = await run("bob", "lobby", "goal", "announce", [
      { name: "project", type: STRING, value: "bakery" },
      { name: "text", type: STRING, value: "Bob's goal" },
    ]);
    // A command that changes something is deferred publicly before it runs; its refusal is then a private follow-up.
    // (The public deferral is taken down before the follow-up goes out: settled() may come between.)
    await forbidden.followupsAtLeast(1);
    expect(forbidden.reply).toBeUndefined();
    expect(forbidden.followups).toHaveLength(1);
    expect(forbidden.followups[0]!.flags! & 64).toBe(64);
    expect(forbidden.followups[0]!.content).toMatch(/^✗ only a coordinator of bakery can do that/);

    const unknown = await run("bob", "lobby", "project", "info", [{ name: "project", type: STRING, value: "bakrey" }]);
    expect(unknown.ephemeral).toBe(true);
    expect(unknown.content).toContain('there is no project "bakrey"');

    const invalid = await run("bob", "lobby", "me", "history", [{ name: "limit", type: INTEGER, value: 1000 }]);
    expect(invalid.ephemeral).toBe(true);
    expect(invalid.content).toContain("limit must be a whole number from 1 to 100");

    const badDate = await run("alice", "lobby", "task", "post", [
      { name: "project", type: STRING, value: "bakery" },
      { name: "title", type: STRING, value: "Later" },
      { name: "hours", type: NUMBER, value: 1 },
      { name: "due", type: STRING, value: "next week" },
    ]);
    expect(badDate.content).toContain("due must be a date such as 2026-12-01");

    const unbound = await run("bob", "bakery", "me", "balance");
    expect(unbound.content).toContain("this room belongs to no pool yet");
    expect(await dumpTables(app.store)).toBe(before);
  });

  it("GIVEN work sent back THEN the worker gets a direct message", async () => {
    await run("alice", "lobby", "task", "post", [
      { name: "project", type: STRING, value: "bakery" },
      { name: "title", type: STRING, value: "Wash the trays" },
      { name: "hours", type: NUMBER, value: 1 },
    ]);
    await run("bob", "lobby", "task", "claim", [{ name: "id", type: INTEGER, value: 2 }]);
    await run("bob", "lobby", "task", "done", [{ name: "id", type: INTEGER, value: 2 }]);
    await run("alice", "lobby", "task", "reject", [
      { name: "id", type: INTEGER, value: 2 },
      { name: "member", type: USER, value: FAKE_IDS.bob },
      { name: "reason", type: STRING, value: "still greasy" },
    ]);
    const dm = await fake.waitForChannelMessage(fake.dmChannel(FAKE_IDS.bob).id, (m) => JSON.stringify(m).includes("still greasy"));
    expect(JSON.stringify(dm.embeds)).toContain("sent your work on task #2");
    await run("bob", "lobby", "task", "drop", [{ name: "id", type: INTEGER, value: 2 }]);
  });

  it("GIVEN autocomplete THEN open tasks come with their weights, and projects by name", async () => {
    await run("alice", "lobby", "task", "post", [
      { name: "project", type: STRING, value: "bakery" },
      { name: "title", type: STRING, value: "Sweep the floor" },
      { name: "hours", type: NUMBER, value: 1 },
    ]);
    const tasks = fake.interact({
      type: "autocomplete",
      user: "bob",
      channelId: "lobby",
      name: "task",
      subcommand: "claim",
      options: [{ name: "id", type: INTEGER, value: "", focused: true }],
    });
    await tasks.settled();
    expect(tasks.choices?.map((c) => c.name)).toEqual(
      expect.arrayContaining(["#3 Sweep the floor · weight 1.00 · open", "#2 Wash the trays · weight 1.00 · open"]),
    );
    expect(tasks.choices?.map((c) => c.value).sort()).toEqual([2, 3]);
    const projects = fake.interact({
      type: "autocomplete",
      user: "bob",
      channelId: "lobby",
      name: "task",
      subcommand: "list",
      options: [{ name: "project", type: STRING, value: "bak", focused: true }],
    });
    await projects.settled();
    expect(projects.choices).toEqual([{ name: "bakery · The Bakery", value: "bakery" }]);
  });

  it("GIVEN names as the lists show them THEN a project is found by display name or number, and a typo gets the nearest good", async () => {
    const byName = await run("bob", "lobby", "project", "info", [{ name: "project", type: STRING, value: "the bakery" }]);
    expect(byName.text).toContain("The Bakery (bakery)");
    const byNumber = await run("bob", "lobby", "project", "info", [{ name: "project", type: STRING, value: "1" }]);
    expect(byNumber.text).toContain("The Bakery (bakery)");
    const before = await quietDump(app.store);
    const typo = await run("bob", "lobby", "good", "request", [{ name: "good", type: STRING, value: "bred" }]);
    expect(typo.text).toMatch(/there is no good "bred" in this pool: did you mean "bread"\?/);
    expect(await dumpTables(app.store)).toBe(before);
  });

  it("GIVEN the same interaction delivered twice THEN its credit is posted once", async () => {
    await run("bob", "lobby", "task", "claim", [{ name: "id", type: INTEGER, value: 3 }]);
    await run("bob", "lobby", "task", "done", [{ name: "id", type: INTEGER, value: 3 }]);
    const verify = slash("alice", "lobby", "task", "verify", [
      { name: "id", type: INTEGER, value: 3 },
      { name: "member", type: USER, value: FAKE_IDS.bob },
    ]);
    await verify.settled();
    const before = (await run("bob", "lobby", "me", "balance")).text;
    const seen = logged.length;
    fake.dispatch("INTERACTION_CREATE", verify.payload);
    await vi.waitFor(() => expect(logged.slice(seen).map((l) => l.msg)).toContain("the same interaction arrived twice; the second is ignored"), {
      timeout: 5000,
    });
    const after = (await run("bob", "lobby", "me", "balance")).text;
    expect(after).toBe(before);
  });

  it("GIVEN a bug while a command runs THEN the member gets an ephemeral incident id and the bot stays connected", async () => {
    // The command's store breaks at its first call: `me balance` reads (on a SQLite file and on
    // PostgreSQL a read is no transaction). Only the engine's store: delivery keeps the real one.
    const engine = app.engine as { store: Store };
    const real = engine.store;
    const broken = (): Promise<never> => {
      engine.store = real;
      return Promise.reject(new Error("disk on fire"));
    };
    engine.store = new Proxy(real, {
      get: (target, key) => (key === "read" || key === "transaction" ? broken : Reflect.get(target, key, target)),
    });
    const answered = await run("bob", "lobby", "me", "balance");
    expect(answered.ephemeral).toBe(true);
    expect(answered.content).toMatch(/something went wrong on our side \(incident [0-9a-f]{8}\); nothing was changed/);
    expect(logged.some((l) => l.msg.includes("incident "))).toBe(true);
    const fine = await run("bob", "lobby", "me", "balance");
    expect(fine.text).toContain("Your balance:");
  });

  it("GIVEN a summary, scheduled or asked for THEN it comes with its chart attached as a PNG that decodes", async () => {
    const loggedBefore = logged.length;
    const invite = await run("alice", "lobby", "pool", "invite");
    const code = /[A-Z2-9]{4}-[A-Z2-9]{4}/.exec(invite.text)![0];
    await run("alice", "bakery", "pool", "join", [{ name: "code", type: STRING, value: code }]);
    expect((await run("alice", "bakery", "project", "room", [{ name: "project", type: STRING, value: "bakery" }])).text).toContain(
      "This room is now a room of **bakery**",
    );
    // Monday 09:00: the bakery's summary goes to its channel and, as a note, to alice (its coordinator).
    const summaries = JOBS.filter((j) => j.name === "summaries");
    expect((await runDueJobs(app.store, Date.parse("2026-11-09T09:00:00Z"), { jobs: summaries }))[0]?.outcome).toBe("1");
    await bot.deliver();
    const decodes = (m: APIMessage) => {
      expect(m.attachments.map((a) => a.filename)).toEqual(["summary.png"]);
      expect(m.embeds[0]?.image?.url).toBe("attachment://summary.png");
      expect(m.embeds[0]?.description).toContain("The Bakery (bakery)");
      const picture = decodePng(fake.attachmentData(m.attachments[0]!)!);
      expect([picture.width, picture.height]).toEqual([800, 400]);
      expect(distinctColours(picture)).toBeGreaterThan(10);
    };
    decodes(await fake.waitForChannelMessage("bakery", (m) => m.attachments.length > 0));
    decodes(await fake.waitForChannelMessage(fake.dmChannel(FAKE_IDS.alice).id, (m) => m.attachments.length > 0));

    const asked = await run("bob", "lobby", "pool", "summary", [{ name: "project", type: STRING, value: "bakery" }]);
    expect(asked.reply?.attachments.map((a) => a.filename)).toEqual(["summary-bakery.png"]);
    expect(asked.embeds[0]?.image?.url).toBe("attachment://summary-bakery.png");
    expect(decodePng(fake.attachmentData(asked.reply!.attachments[0]!)!).height).toBe(400);
    expect(fake.unhandled).toEqual([]);
    expect(logged.slice(loggedBefore)).toEqual([]);
  });
});

describe("Discord replies that take longer", () => {
  it("GIVEN a slow command THEN the reply is deferred and then edited; a refusal after a public deferral becomes a private follow-up", async () => {
    const slowFake = await FakeDiscord.start();
    const slowApp = await openTestApp({ dbFile: ":memory:", random: seededRandom(9) });
    // Every command takes 50 ms more than the adapter waits before deferring.
    const store = slowApp.store as unknown as { transaction: <T>(fn: unknown) => Promise<T> };
    const real = store.transaction.bind(store);
    store.transaction = async <T>(fn: unknown) => {
      await new Promise((r) => setTimeout(r, 50));
      return real<T>(fn);
    };
    const slow = new DiscordAdapter({ token: slowFake.token, apiBase: slowFake.apiBase, engine: slowApp.engine, store: slowApp.store, clock, deferAfterMs: 0 });
    try {
      await slow.start();
      const created = slowFake.interact({
        user: "alice",
        channelId: "lobby",
        name: "pool",
        subcommand: "create",
        options: [{ name: "name", type: STRING, value: "Slow pool" }],
      });
      await created.settled();
      expect(created.deferred).toBe(true);
      expect(created.text).toContain("Pool **Slow pool** created");
      const refused = slowFake.interact({ user: "bob", channelId: "lobby", name: "pool", subcommand: "invite" });
      await refused.settled();
      await refused.followupsAtLeast(1);
      expect(refused.responses.map((r) => r.kind)).toEqual(["callback", "delete", "followup"]);
      expect(refused.followups[0]?.flags).toBe(64);
      expect(JSON.stringify(refused.followups[0])).toContain("only a pool admin can do that");
      const personal = slowFake.interact({ user: "bob", channelId: "lobby", name: "me", subcommand: "balance" });
      await personal.settled();
      expect(personal.ephemeral).toBe(true);
      expect(personal.text).toContain("Your balance");
    } finally {
      await slow.stop();
      await slowFake.close();
      await slowApp.close();
    }
  });

  it("GIVEN tasks that change THEN the channel's task board is one message, edited in place, with Claim buttons; deleted, it is posted again", async () => {
    const boards = () => fake.channelMessages("lobby").filter((m) => JSON.stringify(m.embeds).includes("Open tasks of"));
    const posted = await run("alice", "lobby", "task", "post", [
      { name: "project", type: STRING, value: "bakery" },
      { name: "title", type: STRING, value: "Sweep the yard" },
      { name: "hours", type: NUMBER, value: 1 },
    ]);
    const id = (posted.reply?.embeds?.[0]?.description?.match(/#(\d+)/) ?? [])[1];
    expect(id).toBeDefined();
    const board = await fake.waitFor(() => boards().find((m) => JSON.stringify(m.embeds).includes("Sweep the yard")), 5000, "a board listing the new task");
    expect(boards()).toHaveLength(1);
    expect(idsOf(board.components)).toContain(claimButton(id!));

    const claim = fake.interact({ type: "button", user: "bob", channelId: "lobby", customId: claimButton(id!), message: board.id });
    await claim.settled();
    expect(claim.text).toContain("You took task");
    const edited = await fake.waitFor(
      () => boards().find((m) => m.id === board.id && !JSON.stringify(m.embeds).includes("Sweep the yard")),
      5000,
      "the board without the claimed task",
    );
    expect(idsOf(edited.components)).not.toContain(claimButton(id!));
    expect(boards()).toHaveLength(1);

    // Someone deletes the board: the next change posts a new one, which is edited from then on.
    const res = await fetch(`${fake.apiBase}/v10/channels/${FAKE_IDS.lobby}/messages/${board.id}`, {
      method: "DELETE",
      headers: { authorization: `Bot ${fake.token}` },
    });
    expect(res.status).toBe(204);
    await run("alice", "lobby", "task", "post", [
      { name: "project", type: STRING, value: "bakery" },
      { name: "title", type: STRING, value: "Oil the hinges" },
      { name: "hours", type: NUMBER, value: 1 },
    ]);
    const again = await fake.waitFor(() => boards().find((m) => JSON.stringify(m.embeds).includes("Oil the hinges")), 5000, "a new board");
    expect(again.id).not.toBe(board.id);
    expect(boards()).toHaveLength(1);

    // Switched off, the board is taken down.
    const off = await run("alice", "lobby", "pool", "announcements", [
      { name: "kind", type: STRING, value: "board" },
      { name: "state", type: STRING, value: "off" },
    ]);
    expect(off.text).toContain("**board** announcements are now off in this room.");
    await fake.waitFor(() => boards().length === 0, 5000, "the board taken down");
    expect(logged.filter((l) => l.msg.includes("task board"))).toEqual([]);
  });
});

describe("Discord: binding channels needs Manage Channels; /help and /me link work in DMs", () => {
  const CAROL = "1300000000000000203";

  it("GIVEN bob without Manage Channels THEN /pool create, /pool join and /project room are refused privately in one line naming the right, and nothing changes", async () => {
    const invite = await run("alice", "lobby", "pool", "invite");
    const code = /[A-Z2-9]{4}-[A-Z2-9]{4}/.exec(invite.text)![0];
    const before = await quietDump(app.store);
    const tries = [
      await run("bob", "lobby", "pool", "create", [{ name: "name", type: STRING, value: "Bob's pool" }]),
      await run("bob", "bakery", "pool", "join", [{ name: "code", type: STRING, value: code }]),
      await run("bob", "bakery", "project", "room", [{ name: "project", type: STRING, value: "bakery" }]),
    ];
    for (const [i, name] of [
      [0, "/pool create"],
      [1, "/pool join"],
      [2, "/project room"],
    ] as const) {
      expect(tries[i]!.ephemeral, name).toBe(true);
      expect(tries[i]!.text, name).toBe(`✗ ${name} binds this channel, which needs the Manage Channels permission here: ask someone who has it to run ${name}`);
    }
    expect(await dumpTables(app.store)).toBe(before);
    // The same member's other commands run as before.
    expect((await run("bob", "lobby", "pool", "info")).text).toContain("Riverside commons");
  });

  it("GIVEN Administrator (which implies Manage Channels) THEN the check lets the command through to the pool's own rules", async () => {
    fake.addMember(FAKE_IDS.guild, { id: CAROL, username: "carol", admin: true });
    const before = await quietDump(app.store);
    // Past the Discord check, project room still needs a coordinator of the project or a pool admin.
    const tried = await run(CAROL, "lobby", "project", "room", [{ name: "project", type: STRING, value: "bakery" }]);
    expect(tried.text).not.toContain("Manage Channels");
    expect(tried.text).toMatch(/coordinator|admin/);
    expect(await dumpTables(app.store)).toBe(before);
  });

  it("GIVEN a button carrying a binding command THEN bob is refused the same way, and in a DM it says to use a server channel", async () => {
    const before = await quietDump(app.store);
    const pressed = fake.interact({ type: "button", user: "bob", channelId: "bakery", customId: "dpool:project room bakery" });
    await pressed.settled();
    expect(pressed.text).toBe(
      "✗ /project room binds this channel, which needs the Manage Channels permission here: ask someone who has it to run /project room",
    );
    const inDm = fake.interact({ type: "button", user: "alice", guildId: null, customId: "dpool:pool create Kitchen" });
    await inDm.settled();
    expect(inDm.text).toBe("✗ /pool create binds a server channel: run it in the channel to bind (it needs Manage Channels there), not in a direct message");
    expect(await dumpTables(app.store)).toBe(before);
  });

  it("GIVEN the commands registered globally THEN /help and /me are offered in DMs (contexts), the rest only in servers, none with dm_permission", async () => {
    await registerCommands({ token: fake.token, appId: fake.applicationId, apiBase: fake.apiBase });
    const global = fake.registeredCommands();
    const contexts = Object.fromEntries(global.map((c) => [c.name, c.contexts]));
    expect(contexts).toMatchObject({ help: [0, 1], me: [0, 1], pool: [0], project: [0], task: [0] });
    expect(global.every((c) => !("dm_permission" in c) || c.dm_permission === undefined)).toBe(true);
    // Discord offers /pool only in servers: no client could send it from a DM.
    expect(() =>
      fake.command({ user: "bob", guildId: null, name: "pool", subcommand: "create", options: [{ name: "name", type: STRING, value: "DM pool" }] }),
    ).toThrow(/not offered in DMs/);
  });

  it("GIVEN a DM with the bot (user, no member) THEN /help lists the commands and /me link gives bob a code, which his other account takes", async () => {
    const loggedBefore = logged.length;
    const help = fake.command({ user: "bob", guildId: null, name: "help" });
    await help.settled();
    expect(help.text).toContain("d-pool commands");
    expect("member" in help.payload).toBe(false);

    const link = fake.command({ user: "bob", guildId: null, name: "me", subcommand: "link" });
    await link.settled();
    expect(link.ephemeral).toBe(true);
    expect(link.text).toContain("Your link code:");
    const code = /[A-Z2-9]{4}-[A-Z2-9]{4}/.exec(link.text)![0];
    // A second Discord account of bob's takes it, also in a DM.
    const other = { id: "1300000000000000204", username: "bob-alt" };
    const taken = fake.command({ user: other, guildId: null, name: "me", subcommand: "link", options: [{ name: "code", type: STRING, value: code }] });
    await taken.settled();
    expect(taken.text).toContain("Linked.");
    expect(logged.slice(loggedBefore).filter((l) => String(l.msg).includes("incident"))).toEqual([]);
  });

  it("GIVEN /me balance in a DM (the /me group is offered there for /me link) THEN it says to run it in a channel of the pool, not to create a pool", async () => {
    const before = await quietDump(app.store);
    const balance = fake.command({ user: "alice", guildId: null, name: "me", subcommand: "balance" });
    await balance.settled();
    expect(balance.ephemeral).toBe(true);
    expect(balance.text).toBe("✗ /me balance works in a channel of your pool, not in a direct message: run it there (here /help and /me link work)");
    expect(await dumpTables(app.store)).toBe(before);
  });

  it("GIVEN every message of the scenarios above THEN commands are named as slash commands with real options, never with !dpool or as typed text", () => {
    const texts = fake.allMessages().map(discordMessageText);
    expect(texts.length).toBeGreaterThan(20);
    expect(texts.join("\n")).toContain("`/task claim id:");
    expect(texts.flatMap((t) => dialectProblems("discord", t))).toEqual([]);
  });
});
