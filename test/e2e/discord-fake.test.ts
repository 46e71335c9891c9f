// Smoke test of the local Discord server (test/fakes/discord-server.ts) against the REAL discord.js
// client, with a tiny handler written here (not the project's adapter): gateway handshake, slash
// commands with subcommand groups and user options, autocomplete, buttons, every reply style,
// channel messages, command registration, resume after a dropped connection, clean shutdown.
// Then the fake's own Discord rules (nonce, permissions, close codes, interaction timing, payload
// limits), by hand and with discord.js.
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  MessageFlags,
  PermissionFlagsBits,
  SlashCommandBuilder,
  type Interaction,
  type Message,
} from "discord.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { BOT_PERMISSIONS, FAKE_IDS, FakeDiscord, type FakeInteraction } from "../fakes/discord-server.ts";

const commands = [
  new SlashCommandBuilder().setName("ping").setDescription("Replies pong"),
  new SlashCommandBuilder().setName("slow").setDescription("Defers, then edits"),
  new SlashCommandBuilder().setName("multi").setDescription("Reply and follow-ups"),
  new SlashCommandBuilder().setName("secret").setDescription("Ephemeral reply"),
  new SlashCommandBuilder().setName("thinking").setDescription("Ephemeral defer resolved by a follow-up"),
  new SlashCommandBuilder().setName("post").setDescription("Posts a message with a button"),
  new SlashCommandBuilder().setName("resp").setDescription("Reply with withResponse"),
  new SlashCommandBuilder()
    .setName("pool")
    .setDescription("Pool commands")
    .addSubcommandGroup((g) =>
      g
        .setName("member")
        .setDescription("Members")
        .addSubcommand((s) =>
          s
            .setName("credit")
            .setDescription("Credit a member")
            .addUserOption((o) => o.setName("user").setDescription("Who").setRequired(true))
            .addIntegerOption((o) => o.setName("hours").setDescription("How many").setRequired(true))
            .addStringOption((o) => o.setName("kind").setDescription("Kind of work").setAutocomplete(true)),
        ),
    ),
];

describe("FakeDiscord with the real discord.js client", () => {
  let fake: FakeDiscord;
  let client: Client;
  const handlerErrors: unknown[] = [];
  const clientErrors: unknown[] = [];
  let tcpBefore = 0;
  const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP")).length;

  beforeAll(async () => {
    tcpBefore = tcpHandles();
    expect(tcpBefore).toBe(0); // so that the check at the end is not vacuous
    fake = await FakeDiscord.start({ heartbeatInterval: 250 });
    client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiBase } });
    client.on(Events.Error, (e) => clientErrors.push(e));
    client.on(Events.ShardError, (e) => clientErrors.push(e));
    client.on(Events.InteractionCreate, (interaction) => {
      handle(interaction).catch((e: unknown) => handlerErrors.push(e));
    });
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    await client.login(fake.token);
    await ready;
  });

  afterAll(async () => {
    await client?.destroy();
    await fake?.close();
  });

  async function handle(interaction: Interaction): Promise<void> {
    if (interaction.isAutocomplete()) {
      const typed = interaction.options.getFocused();
      const kinds = ["baking", "bookkeeping", "cleaning", "delivery"];
      await interaction.respond(kinds.filter((k) => k.startsWith(typed)).map((k) => ({ name: k, value: k })));
      return;
    }
    if (interaction.isButton()) {
      if (interaction.customId === "vote:later") {
        await interaction.deferUpdate();
        await interaction.editReply({ content: `later, says ${interaction.user.username}`, components: [] });
        return;
      }
      await interaction.update({ content: `${interaction.customId} by ${interaction.user.username}`, components: [] });
      return;
    }
    if (!interaction.isChatInputCommand()) return;
    switch (interaction.commandName) {
      case "ping":
        await interaction.reply(`pong in ${interaction.inGuild() ? interaction.guild?.name : "DM"}`);
        return;
      case "slow":
        await interaction.deferReply();
        await new Promise((r) => setTimeout(r, 50));
        await interaction.editReply({ content: "done slowly", embeds: [{ title: "Result", description: "42" }] });
        return;
      case "multi":
        await interaction.reply("first");
        await interaction.followUp("second");
        await interaction.followUp({ content: "only you", flags: MessageFlags.Ephemeral });
        return;
      case "secret":
        await interaction.reply({ content: "psst", flags: MessageFlags.Ephemeral });
        return;
      case "thinking":
        await interaction.deferReply({ flags: MessageFlags.Ephemeral });
        await interaction.followUp("resolved by a follow-up");
        return;
      case "post": {
        const channel = interaction.channel;
        if (!channel?.isSendable()) throw new Error("channel is not sendable");
        const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder().setCustomId("vote:yes").setLabel("Yes").setStyle(ButtonStyle.Success),
        );
        const posted: Message = await channel.send({ content: "Vote now", components: [row] });
        await posted.edit({ content: "Vote now (edited)", components: [row] });
        await interaction.reply({ content: `posted ${posted.id}`, flags: MessageFlags.Ephemeral });
        return;
      }
      case "resp": {
        const response = await interaction.reply({ content: "with response", withResponse: true });
        await interaction.followUp(`reply id ${response.resource?.message?.id}, ephemeral ${response.interaction.responseMessageEphemeral}`);
        return;
      }
      case "pool": {
        const group = interaction.options.getSubcommandGroup();
        const sub = interaction.options.getSubcommand();
        const user = interaction.options.getUser("user", true);
        const member = interaction.options.getMember("user");
        const hours = interaction.options.getInteger("hours", true);
        const kind = interaction.options.getString("kind") ?? "none";
        const hasMember = member !== null && "joined_at" in member ? "raw" : member ? "member" : "no member";
        await interaction.reply(`${group}/${sub}: ${user.username} ${hours}h ${kind} (${hasMember})`);
        return;
      }
    }
  }

  it("GIVEN the bot logged in THEN READY and GUILD_CREATE populated the cache and heartbeats are acknowledged", async () => {
    expect(client.user?.id).toBe(fake.botUserId);
    expect(client.application?.id).toBe(fake.applicationId);
    const guild = client.guilds.cache.get(FAKE_IDS.guild);
    expect(guild?.name).toBe("Test Guild");
    expect(guild?.available).toBe(true);
    expect(guild?.channels.cache.map((c) => c.name).sort()).toEqual(["bakery", "lobby"]);
    expect(guild?.roles.everyone.id).toBe(FAKE_IDS.guild);
    expect(guild?.members.cache.get(FAKE_IDS.alice)?.user.username).toBe("alice");
    expect(fake.identifies).toHaveLength(1);
    await fake.waitFor(() => fake.heartbeats >= 1, 15_000, "a heartbeat");
    await new Promise((r) => setTimeout(r, 300));
    expect(client.ws.ping).toBeGreaterThanOrEqual(0);
    const seqs = fake.frames.filter((f) => f.direction === "out" && f.op === 0).map((f) => f.s ?? 0);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it("GIVEN commands THEN application.commands.set and guild.commands.set bulk-overwrite and return ids", async () => {
    const global = await client.application!.commands.set(commands.map((c) => c.toJSON()));
    expect(global.size).toBe(commands.length);
    expect(fake.registeredCommands().map((c) => c.name)).toContain("pool");
    const again = await client.application!.commands.set(commands.map((c) => c.toJSON()));
    expect([...again.keys()].sort()).toEqual([...global.keys()].sort()); // ids stable across overwrites
    const guildCmds = await client.guilds.cache.get(FAKE_IDS.guild)!.commands.set([commands[0]!.toJSON()]);
    expect(guildCmds.first()?.guildId).toBe(FAKE_IDS.guild);
    expect(fake.registeredCommands(FAKE_IDS.guild)).toHaveLength(1);
    const fetched = await client.application!.commands.fetch();
    expect(fetched.size).toBe(commands.length);
    await expect(client.application!.commands.set([{ name: "Bad Name", description: "x" }])).rejects.toThrow(/Invalid Form Body/);
  });

  it("GIVEN /ping THEN a plain reply (type 4)", async () => {
    const i = fake.interact({ user: "alice", channelId: "lobby", name: "ping" });
    const first = await i.firstResponse();
    expect(first.type).toBe(4);
    await i.settled();
    expect(i.content).toBe("pong in Test Guild");
    expect(i.ephemeral).toBe(false);
    expect(i.responses.map((r) => r.kind)).toEqual(["callback"]);
  });

  it("GIVEN /ping in a DM THEN the interaction carries user (not member) and the bot replies", async () => {
    const i = fake.interact({ user: "bob", guildId: null, name: "ping" });
    await i.settled();
    expect("user" in i.payload && i.payload.user?.id).toBe(FAKE_IDS.bob);
    expect(i.content).toBe("pong in DM");
  });

  it("GIVEN /slow THEN deferReply (type 5) then editReply fills the original", async () => {
    const i = fake.interact({ user: "alice", channelId: FAKE_IDS.lobby, name: "slow" });
    expect((await i.firstResponse()).type).toBe(5);
    await i.settled();
    expect(i.deferred).toBe(true);
    expect(i.responses.map((r) => r.kind)).toEqual(["callback", "edit"]);
    expect(i.content).toBe("done slowly");
    expect(i.embeds[0]?.title).toBe("Result");
    expect(i.flags & MessageFlags.Loading).toBe(0);
  });

  it("GIVEN /multi THEN reply, follow-up and an ephemeral follow-up", async () => {
    const i = fake.interact({ user: "alice", channelId: "lobby", name: "multi" });
    await i.settled();
    expect(i.content).toBe("first");
    expect(i.followups.map((m) => [m.content, (m.flags ?? 0) & MessageFlags.Ephemeral])).toEqual([
      ["second", 0],
      ["only you", MessageFlags.Ephemeral],
    ]);
    expect(i.text).toBe("first\nsecond\nonly you");
  });

  it("GIVEN /secret THEN an ephemeral reply", async () => {
    const i = fake.interact({ user: "bob", channelId: "bakery", name: "secret" });
    await i.settled();
    expect(i.ephemeral).toBe(true);
    expect(i.content).toBe("psst");
  });

  it("GIVEN an ephemeral defer THEN the first follow-up resolves the loading reply (as Discord does)", async () => {
    const i = fake.interact({ user: "bob", channelId: "bakery", name: "thinking" });
    await i.settled();
    expect(i.responses.map((r) => r.kind)).toEqual(["callback", "followup"]);
    expect(i.content).toBe("resolved by a follow-up");
    expect(i.ephemeral).toBe(true);
    expect(i.followups).toHaveLength(0);
  });

  it("GIVEN /pool member credit with a user option THEN nesting and resolved users/members reach discord.js", async () => {
    const i = fake.interact({
      user: "alice",
      channelId: "lobby",
      name: "pool",
      group: "member",
      subcommand: "credit",
      options: [
        { name: "user", type: 6, value: FAKE_IDS.bob },
        { name: "hours", type: 4, value: 3 },
        { name: "kind", type: 3, value: "baking" },
      ],
    });
    await i.settled();
    expect(i.content).toBe("member/credit: bob 3h baking (member)");
  });

  it("GIVEN autocomplete on a focused option THEN the bot answers with choices (type 8)", async () => {
    const i = fake.interact({
      type: "autocomplete",
      user: "alice",
      channelId: "lobby",
      name: "pool",
      group: "member",
      subcommand: "credit",
      options: [{ name: "kind", type: 3, value: "b", focused: true }],
    });
    await i.settled();
    expect(i.callbackType).toBe(8);
    expect(i.choices?.map((c) => c.value)).toEqual(["baking", "bookkeeping"]);
  });

  it("GIVEN /post THEN a channel message is posted and edited; a click on its button updates it (type 7)", async () => {
    const i = fake.interact({ user: "alice", channelId: "lobby", name: "post" });
    await i.settled();
    const [posted] = fake.channelMessages("lobby");
    expect(posted?.content).toBe("Vote now (edited)");
    expect(posted?.edited_timestamp).not.toBeNull();
    expect(i.content).toBe(`posted ${posted?.id}`);

    const click = fake.interact({ type: "button", user: "bob", channelId: "lobby", customId: "vote:yes" });
    await click.settled();
    expect(click.callbackType).toBe(7);
    expect(click.reply?.id).toBe(posted?.id);
    expect(fake.channelMessages("lobby")[0]?.content).toBe("vote:yes by bob");
    expect(fake.channelMessages("lobby")[0]?.components).toEqual([]);
  });

  it("GIVEN a button on an ephemeral reply THEN deferUpdate (type 6) then editReply edits that message", async () => {
    const i = fake.interact({ user: "alice", channelId: "lobby", name: "secret" });
    await i.settled();
    const click = fake.interact({
      type: "button",
      user: "alice",
      channelId: "lobby",
      customId: "vote:later",
      message: { ...i.reply!, components: [{ type: 1, components: [{ type: 2, style: 1, label: "Later", custom_id: "vote:later" }] }] },
    });
    await click.settled();
    expect(click.responses.map((r) => [r.kind, r.type])).toEqual([
      ["callback", 6],
      ["edit", undefined],
    ]);
    expect(click.reply?.id).toBe(i.reply?.id);
    expect(i.content).toBe("later, says alice");
    expect(i.ephemeral).toBe(true);
  });

  it("GIVEN reply({ withResponse: true }) THEN the callback answers with the documented body", async () => {
    const i = fake.interact({ user: "alice", channelId: "lobby", name: "resp" });
    await i.followupsAtLeast(1);
    expect(fake.requests.some((r) => r.path.endsWith("/callback") && r.query.with_response === "true" && r.status === 200)).toBe(true);
    expect(i.followups[0]?.content).toBe(`reply id ${i.reply?.id}, ephemeral false`);
  });

  it("GIVEN the client posts to a channel directly THEN the fake keeps it per channel", async () => {
    const channel = await client.channels.fetch(FAKE_IDS.bakery);
    if (!channel?.isSendable()) throw new Error("not sendable");
    const m = await channel.send({ embeds: [{ title: "Announcement" }] });
    await m.edit("now with text");
    expect(fake.channelMessages("bakery").map((x) => [x.content, x.embeds[0]?.title])).toEqual([["now with text", "Announcement"]]);
    await expect(channel.send({ content: "" })).rejects.toThrow(/empty message/);
  });

  it("GIVEN a message with files (multipart: payload_json and files[n]) THEN the fake keeps each attachment's bytes", async () => {
    const channel = await client.channels.fetch(FAKE_IDS.lobby);
    if (!channel?.isSendable()) throw new Error("not sendable");
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 255]);
    const sent = await channel.send({
      embeds: [{ title: "Chart", image: { url: "attachment://c.png" } }],
      files: [
        { attachment: bytes, name: "c.png" },
        { attachment: Buffer.from("notes"), name: "n.txt" },
      ],
    });
    expect(sent.attachments.map((a) => [a.name, a.size])).toEqual([
      ["c.png", bytes.length],
      ["n.txt", 5],
    ]);
    const stored = fake.channelMessages("lobby").at(-1)!;
    expect(stored.embeds[0]?.image?.url).toBe("attachment://c.png");
    expect(fake.attachmentData(stored.attachments[0]!)).toEqual(bytes);
    expect(fake.attachmentData(stored.attachments[1]!.id)?.toString()).toBe("notes");
  });

  it("GIVEN a second callback or an unknown route THEN Discord-like errors are returned and recorded", async () => {
    const i = fake.interact({ user: "alice", channelId: "lobby", name: "ping" });
    await i.settled();
    await expect(client.rest.post(`/interactions/${i.id}/${i.token}/callback`, { body: { type: 4, data: { content: "again" } }, auth: false })).rejects.toThrow(
      /already been acknowledged/,
    );
    expect(i.errors.map((e) => e.code)).toEqual([40060]);
    await expect(client.rest.get("/nonsense/route")).rejects.toThrow();
    expect(fake.unhandled.map((r) => r.path)).toEqual(["/nonsense/route"]);
    fake.unhandled.length = 0;
  });

  it("GIVEN the gateway connection drops THEN discord.js resumes and still gets interactions", async () => {
    fake.dropConnection(4000);
    await fake.waitFor(() => fake.resumes.length === 1, 5000, "a RESUME");
    const i = fake.interact({ user: "alice", channelId: "lobby", name: "ping" });
    await i.settled();
    expect(i.content).toBe("pong in Test Guild");
    expect(fake.identifies).toHaveLength(1);
    expect(fake.frames.some((f) => f.t === "RESUMED")).toBe(true);
  });

  it("GIVEN the run THEN no handler error, no client error and no unhandled route", () => {
    expect(handlerErrors).toEqual([]);
    expect(clientErrors).toEqual([]);
    expect(fake.unhandled).toEqual([]);
  });

  it("GIVEN client.destroy() and fake.close() THEN no socket is left open", async () => {
    expect(tcpHandles()).toBeGreaterThan(tcpBefore);
    await client.destroy();
    await fake.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(tcpHandles()).toBeLessThanOrEqual(tcpBefore);
  });
});

// ---------------------------------------------------------------------------------------------
// Behaviours of real Discord the fake reproduces (what Discord's documented API and a real
// server answer), driven with plain fetch and a raw gateway socket, then with discord.js.

interface ApiResult {
  status: number;
  body: { code?: number; message?: string; errors?: unknown; id?: string; [k: string]: unknown } & Record<string, unknown>;
}

/** One REST call to the fake: JSON, or multipart (payload_json + files[n]) when files are given. */
async function api(
  fake: FakeDiscord,
  method: string,
  path: string,
  body?: unknown,
  opts: { token?: string | null; files?: Array<{ name: string; data: Buffer }> } = {},
): Promise<ApiResult> {
  const headers: Record<string, string> = {};
  const tok = opts.token === undefined ? fake.token : opts.token;
  if (tok !== null) headers.authorization = `Bot ${tok}`;
  let payload: FormData | string | undefined;
  if (opts.files) {
    const form = new FormData();
    form.append("payload_json", JSON.stringify(body ?? {}));
    opts.files.forEach((f, i) => form.append(`files[${i}]`, new Blob([f.data]), f.name));
    payload = form;
  } else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${fake.apiBase}/v10${path}`, { method, headers, ...(payload ? { body: payload } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as ApiResult["body"]) : {} };
}

/** A bare gateway client: HELLO, then IDENTIFY (or nothing); `closed` settles with the close code. */
async function rawGateway(fake: FakeDiscord, identify: { token?: string; intents?: number } | null = {}) {
  const ws = new WebSocket(`${fake.gatewayUrl}?v=10&encoding=json`);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once("message", () => resolve()); // HELLO
    ws.once("error", reject);
  });
  if (identify) {
    ws.send(
      JSON.stringify({
        op: 2,
        d: { token: identify.token ?? fake.token, intents: identify.intents ?? 1, properties: { os: "linux", browser: "t", device: "t" } },
      }),
    );
  }
  return { ws, closed };
}

const expectError = (r: ApiResult, status: number, code: number) => {
  expect({ status: r.status, code: r.body.code }).toEqual({ status, code });
};

describe("FakeDiscord, driven by hand (fetch and a bare gateway socket)", () => {
  let fake: FakeDiscord;
  let gw: Awaited<ReturnType<typeof rawGateway>>;
  const lobby = FAKE_IDS.lobby;

  beforeAll(async () => {
    fake = await FakeDiscord.start({ nonceWindowMs: 300 });
    gw = await rawGateway(fake);
    await fake.connected();
  });
  afterAll(async () => {
    gw?.ws.terminate();
    await fake?.close();
  });
  const callback = (i: FakeInteraction, body: unknown) => api(fake, "POST", `/interactions/${i.id}/${i.token}/callback`, body, { token: null });
  const hook = (i: FakeInteraction, method: string, sub: string, body?: unknown) =>
    api(fake, method, `/webhooks/${fake.applicationId}/${i.token}${sub}`, body, { token: null });
  afterEach(() => {
    fake.setBotPermissions(BOT_PERMISSIONS);
    fake.restoreChannelAccess("lobby");
    fake.restoreChannelAccess("bakery");
    fake.failIdentify(null);
  });

  describe("nonce with enforce_nonce", () => {
    it("GIVEN the same nonce twice in a channel THEN the second post returns the first message and posts nothing", async () => {
      const before = fake.channelMessages(lobby).length;
      const first = await api(fake, "POST", `/channels/${lobby}/messages`, { content: "once", nonce: "n-1", enforce_nonce: true });
      const again = await api(fake, "POST", `/channels/${lobby}/messages`, { content: "once (retry)", nonce: "n-1", enforce_nonce: true });
      expect(first.status).toBe(200);
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
      expect(again.body.content).toBe("once");
      expect(again.body.nonce).toBe("n-1");
      expect(fake.channelMessages(lobby).length).toBe(before + 1);
    });

    it("GIVEN the same nonce in another channel, after the window, or without enforce_nonce THEN a new message is posted", async () => {
      const a = await api(fake, "POST", `/channels/${lobby}/messages`, { content: "a", nonce: 77, enforce_nonce: true });
      const other = await api(fake, "POST", `/channels/${FAKE_IDS.bakery}/messages`, { content: "a", nonce: 77, enforce_nonce: true });
      expect(other.body.id).not.toBe(a.body.id);
      const plain1 = await api(fake, "POST", `/channels/${lobby}/messages`, { content: "b", nonce: "plain" });
      const plain2 = await api(fake, "POST", `/channels/${lobby}/messages`, { content: "b", nonce: "plain" });
      expect(plain2.body.id).not.toBe(plain1.body.id);
      expect(plain2.body.nonce).toBe("plain");
      const late1 = await api(fake, "POST", `/channels/${lobby}/messages`, { content: "c", nonce: "late", enforce_nonce: true });
      await new Promise((r) => setTimeout(r, 350)); // nonceWindowMs: 300
      const late2 = await api(fake, "POST", `/channels/${lobby}/messages`, { content: "c", nonce: "late", enforce_nonce: true });
      expect(late2.body.id).not.toBe(late1.body.id);
    });

    it("GIVEN a nonce longer than 25 characters THEN 400 50035 and nothing is posted; 25 are fine", async () => {
      const before = fake.channelMessages(lobby).length;
      const long = await api(fake, "POST", `/channels/${lobby}/messages`, { content: "x", nonce: "n".repeat(26), enforce_nonce: true });
      expectError(long, 400, 50035);
      expect(long.body.errors).toEqual({ nonce: { _errors: [expect.objectContaining({ code: "BASE_TYPE_MAX_LENGTH" })] } });
      expectError(await api(fake, "POST", `/channels/${lobby}/messages`, { content: "x", nonce: "n".repeat(26) }), 400, 50035);
      expect(fake.channelMessages(lobby).length).toBe(before);
      expect((await api(fake, "POST", `/channels/${lobby}/messages`, { content: "x", nonce: "n".repeat(25), enforce_nonce: true })).status).toBe(200);
    });
  });

  describe("permissions and access", () => {
    const file = { name: "chart.png", data: Buffer.from([1, 2, 3]) };

    it("GIVEN the bot lacks Attach Files THEN a message with files gets 403 50013 and nothing is posted; without files it posts", async () => {
      fake.setBotPermissions(BOT_PERMISSIONS & ~PermissionFlagsBits.AttachFiles);
      expect(fake.botPermissionsIn("lobby") & PermissionFlagsBits.AttachFiles).toBe(0n);
      const before = fake.channelMessages(lobby).length;
      const refused = await api(fake, "POST", `/channels/${lobby}/messages`, { content: "chart" }, { files: [file] });
      expectError(refused, 403, 50013);
      expect(refused.body.message).toBe("Missing Permissions");
      expect(fake.channelMessages(lobby).length).toBe(before);
      // A refused upload is not given to the next message either.
      const text = await api(fake, "POST", `/channels/${lobby}/messages`, { content: "chart (as text)" });
      expect(text.status).toBe(200);
      expect(text.body.attachments).toEqual([]);
      // Adding a file by editing is refused too.
      expectError(await api(fake, "PATCH", `/channels/${lobby}/messages/${text.body.id}`, { content: "with chart" }, { files: [file] }), 403, 50013);
      // Back with the permission, the same upload works.
      fake.setBotPermissions(BOT_PERMISSIONS);
      const ok = await api(fake, "POST", `/channels/${lobby}/messages`, { content: "chart" }, { files: [file] });
      expect(ok.status).toBe(200);
      expect((ok.body.attachments as unknown[]).length).toBe(1);
    });

    it("GIVEN no Attach Files in the guild THEN a DM with a file still works", async () => {
      fake.setBotPermissions(BOT_PERMISSIONS & ~PermissionFlagsBits.AttachFiles);
      const dm = fake.dmChannel("alice");
      const r = await api(fake, "POST", `/channels/${dm.id}/messages`, { content: "your chart" }, { files: [file] });
      expect(r.status).toBe(200);
      expect(fake.channelMessages(dm.id).at(-1)?.attachments).toHaveLength(1);
    });

    it("GIVEN no Send Messages THEN 403 50013; a guild's botPermissions option sets it from the start", async () => {
      fake.setBotPermissions(BOT_PERMISSIONS & ~PermissionFlagsBits.SendMessages, FAKE_IDS.guild);
      expectError(await api(fake, "POST", `/channels/${lobby}/messages`, { content: "hi" }), 403, 50013);
      const other = await FakeDiscord.start({ botPermissions: PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages });
      try {
        expect(other.botPermissionsIn("lobby")).toBe(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages);
        expect((await api(other, "POST", `/channels/${FAKE_IDS.lobby}/messages`, { content: "hi" })).status).toBe(200);
        expectError(await api(other, "POST", `/channels/${FAKE_IDS.lobby}/messages`, { content: "hi" }, { files: [file] }), 403, 50013);
      } finally {
        await other.close();
      }
    });

    it("GIVEN the bot's access to a channel is revoked THEN reading, posting, editing and deleting there get 403 50001; restored, they work", async () => {
      const posted = await api(fake, "POST", `/channels/${FAKE_IDS.bakery}/messages`, { content: "before" });
      fake.revokeChannelAccess("bakery");
      const before = fake.channelMessages("bakery").length;
      const path = `/channels/${FAKE_IDS.bakery}`;
      for (const [method, p, body] of [
        ["POST", `${path}/messages`, { content: "after" }],
        ["PATCH", `${path}/messages/${posted.body.id}`, { content: "edited" }],
        ["DELETE", `${path}/messages/${posted.body.id}`, undefined],
        ["GET", `${path}/messages`, undefined],
        ["GET", path, undefined],
        ["POST", `${path}/typing`, undefined],
      ] as const) {
        const r = await api(fake, method, p, body);
        expectError(r, 403, 50001);
        expect(r.body.message).toBe("Missing Access");
      }
      expect(fake.channelMessages("bakery").length).toBe(before);
      expect(fake.channelMessages("bakery").at(-1)?.content).toBe("before");
      // Other channels are untouched; an interaction there says the app lacks every permission here.
      expect((await api(fake, "POST", `/channels/${lobby}/messages`, { content: "lobby still" })).status).toBe(200);
      const i = fake.interact({ user: "alice", channelId: "bakery", name: "ping" });
      expect("app_permissions" in i.payload && i.payload.app_permissions).toBe("0");
      fake.restoreChannelAccess("bakery");
      expect((await api(fake, "PATCH", `${path}/messages/${posted.body.id}`, { content: "edited" })).status).toBe(200);
    });

    it("GIVEN members and registered commands THEN interactions carry member.permissions as Discord does, and the fake sends none a client could not (contexts, default_member_permissions)", async () => {
      const manage = PermissionFlagsBits.ManageChannels;
      const perms = (i: FakeInteraction) => ("member" in i.payload && i.payload.member ? BigInt(i.payload.member.permissions) : undefined);
      const alice = fake.interact({ user: "alice", channelId: "lobby", name: "ping" });
      const bob = fake.interact({ user: "bob", channelId: "lobby", name: "ping" });
      // A string bitfield: alice has Manage Channels through the default world's Stewards role, bob only @everyone's.
      expect("member" in alice.payload && typeof alice.payload.member?.permissions).toBe("string");
      expect(perms(alice)! & manage).toBe(manage);
      expect(perms(bob)! & manage).toBe(0n);
      expect(typeof alice.payload.app_permissions).toBe("string");
      const put = await api(fake, "PUT", `/applications/${fake.applicationId}/commands`, [
        { name: "bind", description: "Binds the channel", default_member_permissions: String(manage), contexts: [0], integration_types: [0] },
        { name: "hello", description: "Says hello", contexts: [0, 1], integration_types: [0] },
      ]);
      expect(put.status).toBe(200);
      try {
        expect(fake.registeredCommands().map((c) => [c.name, c.contexts, c.default_member_permissions])).toEqual([
          ["bind", [0], "16"],
          ["hello", [0, 1], null],
        ]);
        expect(() => fake.interact({ user: "bob", channelId: "lobby", name: "bind" })).toThrow(/not offered to bob.*default_member_permissions/);
        expect(perms(fake.interact({ user: "alice", channelId: "lobby", name: "bind" }))! & manage).toBe(manage);
        expect(() => fake.interact({ user: "alice", guildId: null, name: "bind" })).toThrow(/not offered in DMs/);
        // In a DM: a user, no member, and the BotDM context.
        const dm = fake.interact({ user: "bob", guildId: null, name: "hello" });
        expect("member" in dm.payload).toBe(false);
        expect(dm.payload.user?.id).toBe(FAKE_IDS.bob);
        expect(dm.payload.context).toBe(1);
      } finally {
        await api(fake, "PUT", `/applications/${fake.applicationId}/commands`, []);
      }
    });

    it("GIVEN a bot token reset THEN the old token gets 401 on REST and 4004 on IDENTIFY", async () => {
      const old = fake.token;
      const fresh = fake.resetToken();
      try {
        expect(fresh).not.toBe(old);
        expect((await api(fake, "GET", "/users/@me", undefined, { token: old })).status).toBe(401);
        expect((await api(fake, "GET", "/users/@me")).status).toBe(200);
        const g = await rawGateway(fake, { token: old });
        expect(await g.closed).toEqual({ code: 4004, reason: "Authentication failed." });
      } finally {
        // Put the old token back: the other tests share this fake.
        (fake as unknown as { tokenValue: string }).tokenValue = old;
      }
    });
  });

  describe("gateway close codes", () => {
    it("GIVEN failIdentify(code) THEN later IDENTIFYs are closed with it; failIdentify(null) lets them through", async () => {
      for (const code of [4004, 4010, 4011, 4012, 4013, 4014]) {
        fake.failIdentify(code);
        const g = await rawGateway(fake);
        expect((await g.closed).code).toBe(code);
      }
      fake.failIdentify(null);
      const identifies = fake.identifies.length;
      const g = await rawGateway(fake);
      await fake.waitFor(() => fake.identifies.length > identifies, 2000, "an IDENTIFY");
      g.ws.terminate();
      await g.closed;
      // That IDENTIFY replaced the session the other tests use: identify again.
      gw.ws.terminate();
      gw = await rawGateway(fake);
      await fake.waitFor(() => fake.identifies.length > identifies + 1, 2000, "an IDENTIFY");
    });

    it("GIVEN privileged intents not enabled or unknown intent bits THEN 4014 and 4013", async () => {
      const strict = await FakeDiscord.start({ privilegedIntents: 0 });
      try {
        expect((await (await rawGateway(strict, { intents: 1 | (1 << 15) })).closed).code).toBe(4014);
        expect((await (await rawGateway(strict, { intents: 1 << 30 })).closed).code).toBe(4013);
      } finally {
        await strict.close();
      }
    });

    it("GIVEN dropConnection(code) THEN every connection is closed with that code and its reason", async () => {
      const extra = await rawGateway(fake, null);
      expect(fake.gatewayConnections).toBe(2);
      fake.dropConnection(4011);
      expect(await extra.closed).toEqual({ code: 4011, reason: "Sharding required." });
      expect((await gw.closed).code).toBe(4011);
      gw = await rawGateway(fake);
      const n = fake.identifies.length;
      await fake.waitFor(() => fake.gatewayConnections === 1 && fake.identifies.length === n, 2000, "one connection");
    });
  });

  describe("interaction timing and the webhook token", () => {
    it("GIVEN edits or follow-ups before the acknowledgement THEN 404 10015; after it they work and are timed", async () => {
      const i = fake.interact({ user: "alice", channelId: "lobby", name: "ping" });
      expect(i.acknowledged).toBe(false);
      expect(i.ackAfterMs).toBeUndefined();
      expectError(await hook(i, "PATCH", "/messages/@original", { content: "too soon" }), 404, 10015);
      expectError(await hook(i, "POST", "", { content: "too soon" }), 404, 10015);
      await new Promise((r) => setTimeout(r, 30));
      expect((await callback(i, { type: 5 })).status).toBe(204);
      expect(i.acknowledged).toBe(true);
      expect(i.callbackType).toBe(5);
      expect(i.ackAfterMs).toBeGreaterThanOrEqual(25);
      expect(i.ackAfterMs).toBeLessThan(3000);
      expect(i.answers).toEqual([]);
      expect((await hook(i, "PATCH", "/messages/@original", { content: "done" })).status).toBe(200);
      expect((await hook(i, "POST", "", { content: "more" })).status).toBe(200);
      expect(i.answers.map((a) => a.kind)).toEqual(["edit", "followup"]);
      expect(i.answeredAfterMs).toBeGreaterThanOrEqual(i.ackAfterMs!);
      expect(i.answers[1]!.afterMs).toBeGreaterThanOrEqual(i.answers[0]!.afterMs);
    });

    it("GIVEN 15 minutes since dispatch THEN edits and follow-ups get 401 50027; a callback after 3 s gets 404 10062", async () => {
      const i = fake.interact({ user: "alice", channelId: "lobby", name: "ping" });
      expect((await callback(i, { type: 4, data: { content: "hi" } })).status).toBe(204);
      i.ageBy(15 * 60_000 - 1000);
      expect((await hook(i, "PATCH", "/messages/@original", { content: "still in time" })).status).toBe(200);
      i.ageBy(2000);
      for (const r of [
        await hook(i, "PATCH", "/messages/@original", { content: "late" }),
        await hook(i, "POST", "", { content: "late" }),
        await hook(i, "DELETE", "/messages/@original"),
      ]) {
        expectError(r, 401, 50027);
        expect(r.body.message).toBe("Invalid Webhook Token");
      }
      expect(i.content).toBe("still in time");
      const slow = fake.interact({ user: "alice", channelId: "lobby", name: "ping" }).ageBy(3001);
      expectError(await callback(slow, { type: 4, data: { content: "hi" } }), 404, 10062);
      expect(slow.acknowledged).toBe(false);
      expect(slow.errors.map((e) => e.code)).toEqual([10062]);
    });

    it("GIVEN interactMany THEN all are dispatched back to back, in order, each with its own record", async () => {
      const framesBefore = fake.frames.length;
      const many = fake.interactMany(
        Array.from({ length: 150 }, (_, n) => ({
          user: n % 2 ? "alice" : "bob",
          channelId: "lobby",
          name: "ping",
          options: [{ name: "n", type: 4, value: n }],
        })),
      );
      expect(many).toHaveLength(150);
      const sent = fake.frames.slice(framesBefore).filter((f) => f.t === "INTERACTION_CREATE");
      expect(sent.map((f) => (f.d as { id: string }).id)).toEqual(many.map((i) => i.id));
      expect(new Set(many.map((i) => i.token)).size).toBe(150);
      expect(many.at(-1)!.dispatchedAt - many[0]!.dispatchedAt).toBeLessThan(500);
      expect(fake.interactions.slice(-150)).toEqual(many);
    });
  });

  describe("payload limits: refused whole with 400 50035 on every path", () => {
    const row = (n: number, extra: Record<string, unknown> = {}) => ({
      type: 1,
      components: Array.from({ length: n }, (_, k) => ({ type: 2, style: 1, label: `b${k}`, custom_id: `c${k}`, ...extra })),
    });
    const embed = (e: Record<string, unknown>) => ({ embeds: [e] });
    const tooBig: Array<[string, Record<string, unknown>]> = [
      ["content 2001", { content: "x".repeat(2001) }],
      ["11 embeds", { embeds: Array.from({ length: 11 }, () => ({ title: "t" })) }],
      ["embed title 257", embed({ title: "x".repeat(257) })],
      ["embed description 4097", embed({ description: "x".repeat(4097) })],
      ["26 fields", embed({ fields: Array.from({ length: 26 }, () => ({ name: "n", value: "v" })) })],
      ["field name 257", embed({ fields: [{ name: "x".repeat(257), value: "v" }] })],
      ["field value 1025", embed({ fields: [{ name: "n", value: "x".repeat(1025) }] })],
      ["footer text 2049", embed({ title: "t", footer: { text: "x".repeat(2049) } })],
      ["author name 257", embed({ title: "t", author: { name: "x".repeat(257) } })],
      ["6001 characters across embeds", { embeds: [{ description: "x".repeat(4000) }, { description: "x".repeat(2001) }] }],
      ["6 action rows", { content: "x", components: Array.from({ length: 6 }, () => row(1)) }],
      ["6 buttons in a row", { content: "x", components: [row(6)] }],
      ["custom_id 101", { content: "x", components: [{ type: 1, components: [{ type: 2, style: 1, label: "b", custom_id: "x".repeat(101) }] }] }],
      ["button label 81", { content: "x", components: [{ type: 1, components: [{ type: 2, style: 1, label: "x".repeat(81), custom_id: "c" }] }] }],
      [
        "a select beside a button",
        {
          content: "x",
          components: [
            {
              type: 1,
              components: [
                { type: 3, custom_id: "s", options: [{ label: "a", value: "a" }] },
                { type: 2, style: 1, label: "b", custom_id: "c" },
              ],
            },
          ],
        },
      ],
    ];
    const atTheLimit: Record<string, unknown> = {
      content: "x".repeat(2000),
      embeds: [
        { title: "x".repeat(256), description: "x".repeat(4096), footer: { text: "x".repeat(112) }, author: { name: "x".repeat(256) } },
        { fields: [{ name: "x".repeat(256), value: "x".repeat(1024) }] },
      ],
      components: [...Array.from({ length: 4 }, () => row(5)), row(5, { label: "x".repeat(80) })].map((r, k) => ({
        ...r,
        components: r.components.map((c, j) => ({ ...c, custom_id: `${k}.${j}.`.padEnd(100, "x") })),
      })),
    };

    it("GIVEN the limits exactly THEN every path accepts (6000 embed characters in total, 5x5 buttons)", async () => {
      expect(256 + 4096 + 112 + 256 + 256 + 1024).toBe(6000);
      expect((await api(fake, "POST", `/channels/${lobby}/messages`, atTheLimit)).status).toBe(200);
      const i = fake.interact({ user: "alice", channelId: "lobby", name: "ping" });
      expect((await callback(i, { type: 4, data: atTheLimit })).status).toBe(204);
      expect((await hook(i, "PATCH", "/messages/@original", atTheLimit)).status).toBe(200);
      expect((await hook(i, "POST", "", atTheLimit)).status).toBe(200);
    });

    it.each(tooBig)("GIVEN %s THEN channel post, edit, reply, update, webhook edit and follow-up are all refused", async (_what, body) => {
      const posted = await api(fake, "POST", `/channels/${lobby}/messages`, { content: "original" });
      const channelCount = fake.channelMessages(lobby).length;
      expectError(await api(fake, "POST", `/channels/${lobby}/messages`, body), 400, 50035);
      expectError(await api(fake, "PATCH", `/channels/${lobby}/messages/${posted.body.id}`, body), 400, 50035);
      expect(fake.channelMessages(lobby).length).toBe(channelCount);
      expect(fake.message(posted.body.id!)?.content).toBe("original");

      const i = fake.interact({ user: "alice", channelId: "lobby", name: "ping" });
      expectError(await callback(i, { type: 4, data: body }), 400, 50035);
      expect(i.acknowledged).toBe(false); // a refused reply acknowledges nothing: the bot may answer again
      expect((await callback(i, { type: 4, data: { content: "fine" } })).status).toBe(204);
      expectError(await hook(i, "PATCH", "/messages/@original", body), 400, 50035);
      expectError(await hook(i, "POST", "", body), 400, 50035);
      expect(i.content).toBe("fine");
      expect(i.followups).toEqual([]);

      const click = fake.interact({ type: "button", user: "bob", channelId: "lobby", customId: "vote:x", message: posted.body.id! });
      expectError(await callback(click, { type: 7, data: body }), 400, 50035);
      expect(fake.message(posted.body.id!)?.content).toBe("original");
    });

    it("GIVEN autocomplete results THEN at most 25 choices, names 1-100 UTF-16 code units, string values at most 100", async () => {
      const ac = () =>
        fake.interact({
          type: "autocomplete",
          user: "alice",
          channelId: "lobby",
          name: "pool",
          options: [{ name: "kind", type: 3, value: "b", focused: true }],
        });
      const choices = (list: unknown[]) => ({ type: 8, data: { choices: list } });
      const i = ac();
      const bad: unknown[][] = [
        Array.from({ length: 26 }, (_, k) => ({ name: `c${k}`, value: `c${k}` })),
        [{ name: "", value: "v" }],
        [{ name: "x".repeat(101), value: "v" }],
        [{ name: "😀".repeat(50) + "a", value: "v" }], // 101 UTF-16 code units, 51 code points
        [{ name: "ok", value: "x".repeat(101) }],
        [{ name: "ok" }],
      ];
      for (const list of bad) expectError(await callback(i, choices(list)), 400, 50035);
      expect(i.acknowledged).toBe(false);
      const good = [{ name: "😀".repeat(50), value: "x".repeat(100) }, ...Array.from({ length: 24 }, (_, k) => ({ name: "x".repeat(100), value: k }))];
      expect((await callback(i, choices(good))).status).toBe(204);
      expect(i.choices).toHaveLength(25);
    });
  });
});

describe("FakeDiscord's Discord behaviours with the real discord.js client", () => {
  let fake: FakeDiscord;
  let client: Client;
  const events: Array<[string, unknown]> = [];
  const handlerErrors: unknown[] = [];

  function newClient(f: FakeDiscord, intents: number[] = [GatewayIntentBits.Guilds]): Client {
    const c = new Client({ intents, rest: { api: f.apiBase } });
    c.on(Events.Error, (e) => events.push(["error", e.message]));
    c.on(Events.ShardError, (e) => events.push(["shardError", e.message]));
    c.on(Events.ShardDisconnect, (e) => events.push(["shardDisconnect", e.code]));
    c.on(Events.ShardReconnecting, () => events.push(["shardReconnecting", null]));
    c.on(Events.ShardResume, () => events.push(["shardResume", null]));
    return c;
  }

  beforeAll(async () => {
    fake = await FakeDiscord.start({ heartbeatInterval: 250 });
    client = newClient(fake);
    client.on(Events.InteractionCreate, (interaction) => {
      void (async () => {
        if (!interaction.isChatInputCommand()) return;
        await interaction.deferReply();
        await interaction.editReply(`done ${interaction.options.getInteger("n")}`);
      })().catch((e: unknown) => handlerErrors.push(e));
    });
    await client.login(fake.token);
    await fake.connected();
  });
  afterAll(async () => {
    await client?.destroy();
    await fake?.close();
  });

  const sendable = async (id: string) => {
    const channel = await client.channels.fetch(id);
    if (!channel?.isSendable()) throw new Error("not sendable");
    return channel;
  };

  it("GIVEN send({ nonce, enforceNonce: true }) twice THEN discord.js gets the same message back and one is posted", async () => {
    const channel = await sendable(FAKE_IDS.lobby);
    const before = fake.channelMessages("lobby").length;
    const a = await channel.send({ content: "exactly once", nonce: "dpool-1", enforceNonce: true });
    const b = await channel.send({ content: "exactly once", nonce: "dpool-1", enforceNonce: true });
    expect(b.id).toBe(a.id);
    expect(fake.channelMessages("lobby").length).toBe(before + 1);
    await expect(channel.send({ content: "x", nonce: "n".repeat(26), enforceNonce: true })).rejects.toMatchObject({ code: 50035, status: 400 });
  });

  it("GIVEN no Attach Files THEN send with files rejects with 50013, discord.js's permission cache agrees, and DMs still take files", async () => {
    fake.setBotPermissions(BOT_PERMISSIONS & ~PermissionFlagsBits.AttachFiles);
    const channel = await sendable(FAKE_IDS.lobby);
    await fake.waitFor(
      () =>
        client.guilds.cache.get(FAKE_IDS.guild)?.channels.cache.get(FAKE_IDS.lobby)?.permissionsFor(client.user!.id)?.has(PermissionFlagsBits.AttachFiles) ===
        false,
      2000,
      "CHANNEL_UPDATE in the cache",
    );
    const before = fake.channelMessages("lobby").length;
    const err: unknown = await channel.send({ content: "chart", files: [{ attachment: Buffer.from("png"), name: "c.png" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordAPIError);
    expect(err).toMatchObject({ status: 403, code: 50013, message: "Missing Permissions" });
    expect(fake.channelMessages("lobby").length).toBe(before);
    const alice = await client.users.fetch(FAKE_IDS.alice);
    const dm = await alice.send({ content: "your chart", files: [{ attachment: Buffer.from("png"), name: "c.png" }] });
    expect(dm.attachments.size).toBe(1);
    fake.setBotPermissions(BOT_PERMISSIONS);
    await fake.waitFor(
      () => client.guilds.cache.get(FAKE_IDS.guild)?.channels.cache.get(FAKE_IDS.lobby)?.permissionsFor(client.user!.id)?.has(PermissionFlagsBits.AttachFiles),
      2000,
      "CHANNEL_UPDATE in the cache",
    );
    expect((await channel.send({ content: "chart", files: [{ attachment: Buffer.from("png"), name: "c.png" }] })).attachments.size).toBe(1);
  });

  it("GIVEN the bot's access to a channel is revoked THEN send and edit reject with 50001 Missing Access", async () => {
    const channel = await sendable(FAKE_IDS.bakery);
    const m = await channel.send("before");
    fake.revokeChannelAccess("bakery");
    await expect(channel.send("after")).rejects.toMatchObject({ status: 403, code: 50001, message: "Missing Access" });
    await expect(m.edit("edited")).rejects.toMatchObject({ status: 403, code: 50001 });
    expect(
      client.guilds.cache.get(FAKE_IDS.guild)?.channels.cache.get(FAKE_IDS.bakery)?.permissionsFor(client.user!.id)?.has(PermissionFlagsBits.ViewChannel),
    ).toBe(false);
    fake.restoreChannelAccess("bakery");
    expect((await m.edit("edited")).content).toBe("edited");
  });

  it("GIVEN 150 interactions at once THEN discord.js acknowledges each within 3 s and answers each", async () => {
    const many = fake.interactMany(
      Array.from({ length: 150 }, (_, n) => ({
        user: n % 2 ? "alice" : "bob",
        channelId: "lobby",
        name: "burst",
        options: [{ name: "n", type: 4, value: n }],
      })),
    );
    await Promise.all(many.map((i) => i.settled(15_000)));
    expect(many.every((i) => i.acknowledged && i.callbackType === 5)).toBe(true);
    expect(Math.max(...many.map((i) => i.ackAfterMs!))).toBeLessThan(3000);
    expect(many.map((i) => i.content)).toEqual(many.map((_, n) => `done ${n}`));
    expect(many.every((i) => i.answers.length === 1 && i.answers[0]!.kind === "edit")).toBe(true);
    // Callbacks skip @discordjs/rest's global limit (50 requests/s) but the webhook edits do not:
    // 150 edits need about 3 s, whatever the server does.
    const lastAnswer = Math.max(...many.map((i) => i.answeredAfterMs!));
    expect(lastAnswer).toBeGreaterThan(1500);
    expect(handlerErrors).toEqual([]);
  });

  it("GIVEN a fatal close code on a live connection THEN discord.js emits shardError and shardDisconnect and never reconnects", async () => {
    // Slow heartbeats: with fast ones, a loaded machine can make discord.js miss an ACK and
    // reconnect on its own just as the connection is dropped, and the close code never reaches it.
    const f = await FakeDiscord.start({ heartbeatInterval: 5000 });
    const c = newClient(f);
    events.length = 0;
    try {
      await c.login(f.token);
      await f.connected();
      f.dropConnection(4014);
      await f.waitFor(() => events.some(([e]) => e === "shardDisconnect"), 15_000, "shardDisconnect");
      await new Promise((r) => setTimeout(r, 1200)); // discord.js reconnects after 500 ms when it does
      // shardDisconnect first: @discordjs/ws emits "closed" before handling the code.
      expect(events).toEqual([
        ["shardDisconnect", 4014],
        ["shardError", "Used disallowed intents"],
      ]);
      expect(f.gatewayConnections).toBe(0);
      expect(f.identifies).toHaveLength(1);
      expect(f.resumes).toHaveLength(0);
    } finally {
      await c.destroy();
      await f.close();
    }
  });

  it("GIVEN a non-fatal close code THEN discord.js resumes (for comparison)", async () => {
    const f = await FakeDiscord.start({ heartbeatInterval: 250 });
    const c = newClient(f);
    events.length = 0;
    try {
      await c.login(f.token);
      await f.connected();
      f.dropConnection(4009);
      await f.waitFor(() => f.resumes.length === 1 && f.frames.some((x) => x.t === "RESUMED"), 15_000, "a RESUME");
      await new Promise((r) => setTimeout(r, 100));
      expect(events.map(([e]) => e)).toEqual(["shardReconnecting", "shardResume"]);
    } finally {
      await c.destroy();
      await f.close();
    }
  });

  it("GIVEN failIdentify(4013) THEN login() rejects with the shard's error", async () => {
    const f = await FakeDiscord.start();
    f.failIdentify(4013);
    const c = newClient(f);
    events.length = 0;
    try {
      await expect(c.login(f.token)).rejects.toThrow("Used invalid intents");
      await new Promise((r) => setTimeout(r, 800));
      expect(f.identifies).toHaveLength(0);
      expect(f.gatewayConnections).toBe(0);
      expect(events).toContainEqual(["shardDisconnect", 4013]);
    } finally {
      await c.destroy();
      await f.close();
    }
  });

  it("GIVEN the token is reset under a running bot THEN its next RESUME gets 4004 and it stops; its REST client drops the token after one 401", async () => {
    const f = await FakeDiscord.start({ heartbeatInterval: 250 });
    const c = newClient(f);
    events.length = 0;
    try {
      await c.login(f.token);
      await f.connected();
      f.resetToken();
      f.dropConnection(4000);
      await f.waitFor(() => events.some(([e]) => e === "shardDisconnect"), 15_000, "shardDisconnect");
      expect(events).toEqual([
        ["shardReconnecting", null],
        ["shardDisconnect", 4004],
        ["shardError", "Authentication failed"],
      ]);
      await expect(c.users.fetch(FAKE_IDS.alice, { force: true })).rejects.toMatchObject({ status: 401 });
      // After a 401 @discordjs/rest forgets its token: later calls fail locally, without a request.
      const requests = f.requests.length;
      await expect(c.users.fetch(FAKE_IDS.bob, { force: true })).rejects.toThrow(/Expected token to be set/);
      expect(f.requests.length).toBe(requests);
    } finally {
      await c.destroy();
      await f.close();
    }
  });
});
