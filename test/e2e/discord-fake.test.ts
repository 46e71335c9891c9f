// Smoke test of the local Discord server (test/fakes/discord-server.ts) against the REAL discord.js
// client, with a tiny handler written here (not the project's adapter): gateway handshake, slash
// commands with subcommand groups and user options, autocomplete, buttons, every reply style,
// channel messages, command registration, resume after a dropped connection, clean shutdown.
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  SlashCommandBuilder,
  type Interaction,
  type Message,
} from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAKE_IDS, FakeDiscord } from "../fakes/discord-server.ts";

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
    await fake.waitFor(() => fake.heartbeats >= 1, 3000, "a heartbeat");
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
    const sent = await channel.send({ embeds: [{ title: "Chart", image: { url: "attachment://c.png" } }], files: [{ attachment: bytes, name: "c.png" }, { attachment: Buffer.from("notes"), name: "n.txt" }] });
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
    await expect(
      client.rest.post(`/interactions/${i.id}/${i.token}/callback`, { body: { type: 4, data: { content: "again" } }, auth: false }),
    ).rejects.toThrow(/already been acknowledged/);
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
