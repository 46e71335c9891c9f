// The Discord adapter: slash commands, buttons and autocomplete in, replies and announcements
// out, all through the same engine as the console and Matrix. Platform code only: the
// interaction id is the request id, the channel is the room, the user is the identity.
import { randomBytes } from "node:crypto";
import {
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  MessageFlags,
  RESTJSONErrorCodes,
  type AttachmentPayload,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type InteractionReplyOptions,
  type User,
} from "discord.js";
import { newestBoards, renderAnnouncement, renderNote } from "../../commands/announcements.ts";
import type { BoardMessage } from "../../src/services/rooms.ts";
import { CHART_FILE, chartOfStoredSummary, replyCharts } from "../../commands/chart.ts";
import type { AnyCommand } from "../../commands/define.ts";
import { execute, runText, usageReply, type Engine, type Reply } from "../../commands/dispatch.ts";
import { checkValues, parseCommand } from "../../commands/text.ts";
import type { Clock } from "../../src/clock.ts";
import type { Caller } from "../../src/services/context.ts";
import { createLogger, type Logger } from "../../src/log.ts";
import type { Store } from "../../src/store.ts";
import { announcementPayload, boardPayload, BUTTON_PREFIX, errorPayload, okPayload, type ReplyPayload } from "./render.ts";
import { autocompleteOf, commandForSlash } from "./slash-json.ts";

export interface DiscordOptions {
  readonly token: string;
  readonly engine: Engine;
  readonly store: Store;
  readonly clock: Clock;
  /** Base of the REST API (DISCORD_API_URL), e.g. a shared rate-limit proxy or a test server. */
  readonly apiBase?: string;
  readonly logger?: Logger;
  /** How long a command may run before the reply is deferred (Discord allows 3 s in all). */
  readonly deferAfterMs?: number;
}

const displayName = (u: User) => u.globalName ?? u.username;

export class DiscordAdapter {
  readonly client: Client;
  private delivering: Promise<void> = Promise.resolve();
  private readonly logger: Logger;

  constructor(private readonly o: DiscordOptions) {
    this.logger = (o.logger ?? createLogger()).child({ platform: "discord" });
    // Slash commands need no privileged intent: Guilds is enough.
    this.client = new Client({ intents: [GatewayIntentBits.Guilds], ...(o.apiBase ? { rest: { api: o.apiBase } } : {}) });
    this.client.on(Events.InteractionCreate, (i) => {
      void this.onInteraction(i);
    });
    this.client.on(Events.Error, (e) => this.log("discord client error", e));
  }

  /** Logs in and resolves once the gateway session is ready. */
  async start(): Promise<void> {
    const ready = new Promise<void>((resolve) => this.client.once(Events.ClientReady, () => resolve()));
    await this.client.login(this.o.token);
    await ready;
    await this.deliver();
  }

  async stop(): Promise<void> {
    await this.delivering;
    await this.client.destroy();
  }

  private log(msg: string, err?: unknown): void {
    if (err === undefined) this.logger.warn(msg);
    else this.logger.error({ err }, msg);
  }

  private caller(i: Interaction): Caller {
    const nick = i.inCachedGuild() ? i.member.nickname : null;
    return { platform: "discord", userId: i.user.id, displayName: nick ?? displayName(i.user), roomId: i.channelId ?? `dm:${i.user.id}` };
  }

  private invocation(i: Interaction) {
    return { caller: this.caller(i), requestId: `discord:${i.id}`, now: this.o.clock.now() };
  }

  private async onInteraction(i: Interaction): Promise<void> {
    try {
      if (i.isChatInputCommand()) await this.onSlash(i);
      else if (i.isButton()) await this.onButton(i);
      else if (i.isAutocomplete()) await this.onAutocomplete(i);
    } catch (e) {
      // A bug in this adapter: log it once with an incident id, tell the user, stay connected.
      const incident = randomBytes(4).toString("hex");
      this.log(`incident ${incident} in a Discord interaction`, e);
      if (i.isRepliable()) {
        const payload = { content: `✗ something went wrong on our side (incident ${incident}); nothing was changed.`, flags: MessageFlags.Ephemeral } as const;
        await (i.replied || i.deferred ? i.followUp(payload) : i.reply(payload)).catch((err: unknown) => this.log(`could not report incident ${incident}`, err));
      }
    }
  }

  private async onSlash(i: ChatInputCommandInteraction): Promise<void> {
    const command = commandForSlash(this.o.engine.table, i.commandName, i.options.getSubcommandGroup(false), i.options.getSubcommand(false));
    if (!command) {
      await i.reply({ ...errorPayload(`this command is not known to the bot any more: ask an admin to run npm run discord:register`), flags: MessageFlags.Ephemeral });
      return;
    }
    const raw = new Map<string, unknown>();
    for (const [name, a] of Object.entries(command.args)) {
      if (a.spec.kind === "member") {
        const u = i.options.getUser(name, false);
        if (u) raw.set(name, { platform: "discord", userId: u.id, displayName: displayName(u) });
      } else {
        const v = i.options.get(name, false)?.value;
        if (v !== undefined && v !== null) raw.set(name, v);
      }
    }
    const checked = checkValues(command, raw);
    const work = checked.ok ? execute(this.o.engine, this.invocation(i), command, checked.values) : Promise.resolve(usageReply(checked.error));
    await this.answer(i, command, work);
  }

  /** Buttons carry a command's text; it runs like a typed command, as the member who pressed. */
  private async onButton(i: ButtonInteraction): Promise<void> {
    if (!i.customId.startsWith(BUTTON_PREFIX)) return;
    const text = i.customId.slice(BUTTON_PREFIX.length);
    const parsed = parseCommand(this.o.engine.table, text);
    const work = parsed.ok ? execute(this.o.engine, this.invocation(i), parsed.command, parsed.values) : runText(this.o.engine, this.invocation(i), text);
    // A button's answer goes to the member who pressed it only; the card stays for everyone.
    await this.answer(i, parsed.ok ? parsed.command : undefined, work, true);
  }

  /**
   * Answers within Discord's 3 seconds: at once when the command is quick, else deferred and
   * edited when it is done. Refusals and personal data are ephemeral.
   */
  private async answer(i: ChatInputCommandInteraction | ButtonInteraction, command: AnyCommand | undefined, work: Promise<Reply>, privately = false): Promise<void> {
    const personal = privately || command?.personal === true;
    const quick = await Promise.race([work, sleep(this.o.deferAfterMs ?? 1500).then(() => null)]);
    if (quick) {
      await i.reply(this.payload(quick, personal));
      await this.deliver();
      return;
    }
    await i.deferReply(personal ? { flags: MessageFlags.Ephemeral } : {});
    const reply = await work;
    if (!reply.ok && !personal) {
      // A public deferral cannot turn private: replace it by a private follow-up.
      await i.deleteReply();
      await i.followUp(this.payload(reply, true));
    } else {
      const { flags: _flags, ...rest } = this.payload(reply, personal);
      await i.editReply(rest);
    }
    await this.deliver();
  }

  private payload(reply: Reply, personal: boolean): InteractionReplyOptions & ReplyPayload {
    if (!reply.ok) return { ...errorPayload(reply.message), flags: MessageFlags.Ephemeral };
    const p = withCharts(okPayload(reply.command, reply.doc, reply.data), this.charts(reply.command, reply.data));
    return personal ? { ...p, flags: MessageFlags.Ephemeral } : p;
  }

  /** The charts of an on-demand `pool summary`; none if they fail to draw (the text still goes). */
  private charts(command: string, data: unknown): Array<{ name: string; png: Buffer }> {
    try {
      return replyCharts(command, data);
    } catch (e) {
      this.log("could not draw a summary chart", e);
      return [];
    }
  }

  /** A summary (kind "summary") carries its chart; a chart that fails to draw leaves the text alone. */
  private withChart(kind: string, body: string, payload: ReplyPayload): ReplyPayload & { files?: AttachmentPayload[] } {
    if (kind !== "summary") return payload;
    try {
      return withCharts(payload, [{ name: CHART_FILE, png: chartOfStoredSummary(body) }]);
    } catch (e) {
      this.log("could not draw a summary chart", e);
      return payload;
    }
  }

  /** Offers projects, open tasks (with their weights), goods and kinds as the member types. */
  private async onAutocomplete(i: AutocompleteInteraction): Promise<void> {
    const command = commandForSlash(this.o.engine.table, i.commandName, i.options.getSubcommandGroup(false), i.options.getSubcommand(false));
    const focused = i.options.getFocused(true);
    const ref = command ? autocompleteOf(command, focused.name) : undefined;
    if (!ref) {
      await i.respond([]);
      return;
    }
    const typed = String(focused.value ?? "").toLowerCase();
    const list = { project: "project list", task: "task list status:all", good: "good list", kind: "kind list" }[ref];
    const reply = await runText(this.o.engine, { ...this.invocation(i), requestId: `discord:auto:${i.id}` }, list);
    const choices: Array<{ name: string; value: string | number }> = [];
    if (reply.ok) {
      const d = reply.data as Record<string, Array<Record<string, unknown>>>;
      if (ref === "project") for (const p of d.projects ?? []) choices.push({ name: `${p.slug} · ${p.name}`, value: String(p.slug) });
      if (ref === "good") for (const g of d.goods ?? []) choices.push({ name: `${g.name} · ${g.effort} wh · ${g.stock} in stock`, value: String(g.name) });
      if (ref === "kind") for (const k of d.kinds ?? []) choices.push({ name: `${k.kind} · weight ${k.weight}`, value: String(k.kind) });
      if (ref === "task") {
        // Open tasks first (the list is sorted most neglected first), then claimed ones.
        const tasks = (d.tasks ?? []).filter((t) => t.status === "open" || t.status === "claimed");
        for (const t of tasks) choices.push({ name: `#${t.id} ${t.title} · weight ${t.weight} · ${t.status}`.slice(0, 100), value: Number(t.id) });
      }
    }
    const matching = choices.filter((c) => typed === "" || c.name.toLowerCase().includes(typed) || String(c.value).startsWith(typed));
    await i.respond(matching.slice(0, 25));
  }

  /**
   * The channel's live task board: the message posted the first time is edited from then on.
   * A board message someone deleted is posted again; other failures are logged and the next
   * change tries again.
   */
  private async showBoard(roomId: number, channelId: string, body: string): Promise<void> {
    try {
      const channel = await this.client.channels.fetch(channelId);
      if (!channel?.isSendable()) return;
      const board = JSON.parse(body) as BoardMessage;
      if (board.removed) {
        if (board.messageId !== null) await channel.messages.delete(board.messageId).catch((e: unknown) => ignoreUnknownMessage(e));
        return;
      }
      const payload = boardPayload(renderAnnouncement("board", body), board.tasks.map((t) => t.id));
      const existing = await this.o.store.boardMessage(roomId);
      if (existing !== null) {
        try {
          await channel.messages.edit(existing, payload);
          return;
        } catch (e) {
          ignoreUnknownMessage(e);
        }
      }
      const sent = await channel.send(payload);
      await this.o.store.setBoardMessage(roomId, sent.id);
    } catch (e) {
      this.log(`could not update the task board in channel ${channelId}`, e);
    }
  }

  /** Sends queued announcements to their channels and notes to their members, in order, once. */
  deliver(): Promise<void> {
    this.delivering = this.delivering.then(() => this.deliverNow()).catch((e: unknown) => this.log("delivery failed", e));
    return this.delivering;
  }

  private async deliverNow(): Promise<void> {
    if (!this.client.isReady()) return;
    const now = () => this.o.clock.now().getTime();
    const pending = await this.o.store.pendingOutbox("discord", 100);
    const newestBoard = newestBoards(pending);
    for (const item of pending) {
      if (item.kind === "board") {
        // Only the newest board of a room is shown; older ones were overtaken on the way.
        if (newestBoard.get(item.roomId) === item.id) await this.showBoard(item.roomId, item.room.externalId, item.body);
        await this.o.store.markDelivered([item.id], now());
        continue;
      }
      try {
        const channel = await this.client.channels.fetch(item.room.externalId);
        if (channel?.isSendable()) await channel.send(this.withChart(item.kind, item.body, announcementPayload(renderAnnouncement(item.kind, item.body), announcementData(item.kind, item.body))));
      } catch (e) {
        this.log(`could not announce in channel ${item.room.externalId}`, e);
      }
      await this.o.store.markDelivered([item.id], now());
    }
    const seen = new Set<number>();
    for (const note of await this.o.store.pendingNotes("discord", 100)) {
      if (seen.has(note.id)) continue;
      seen.add(note.id);
      try {
        const user = await this.client.users.fetch(note.externalId);
        await user.send(this.withChart(note.kind, note.body, announcementPayload(renderNote(note.kind, note.body), null)));
      } catch (e) {
        this.log(`could not send a note to ${note.externalId}`, e);
      }
      await this.o.store.markNotesDelivered([note.id], now());
    }
  }
}

/**
 * PNG charts attached to a message: the first is the image of its embed, the others come in
 * embeds of their own (Discord shows one image per embed, ten embeds per message).
 */
function withCharts(payload: ReplyPayload, charts: ReadonlyArray<{ name: string; png: Buffer }>): ReplyPayload & { files?: AttachmentPayload[] } {
  const shown = charts.slice(0, 10);
  if (shown.length === 0) return payload;
  const [first, ...rest] = payload.embeds ?? [{}];
  const image = (name: string) => ({ url: `attachment://${name}` });
  return {
    ...payload,
    embeds: [{ ...first, image: image(shown[0]!.name) }, ...rest, ...shown.slice(1).map((c) => ({ image: image(c.name), color: first?.color }))].slice(0, 10),
    files: shown.map((c) => ({ attachment: c.png, name: c.name })),
  };
}

/** A board message someone already deleted is no error; anything else is. */
function ignoreUnknownMessage(e: unknown): void {
  if (!(e instanceof DiscordAPIError && e.code === RESTJSONErrorCodes.UnknownMessage)) throw e;
}

/** The data a queued announcement's buttons need: a new task carries Claim. */
function announcementData(kind: string, body: string): unknown {
  if (kind === "task") {
    const t = JSON.parse(body) as { task: number };
    return { task: { id: t.task, status: "open" } };
  }
  return null;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
