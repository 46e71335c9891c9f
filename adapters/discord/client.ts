// The Discord adapter: slash commands, buttons and autocomplete in, replies and announcements
// out, all through the same engine as the console and Matrix. Platform code only: the
// interaction id is the request id, the channel is the room, the user is the identity.
//
// In time whatever the load: a command that changes something (or any command while others
// wait for the database) is acknowledged ("thinking…") before any database work, then run; a
// read on an idle database may answer at once, deferred after `deferAfterMs` if it has not.
// Every answer is a reply row written in the command's transaction and sent by the Deliverer
// (src/delivery.ts) through the DiscordCourier, so a crash between the commit and the answer is
// followed by the answer after the restart. Autocomplete reads on the store's read-only path.
import { randomBytes } from "node:crypto";
import {
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  PermissionFlagsBits,
  Routes,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type User,
} from "discord.js";
import type { AnyCommand } from "../../commands/define.ts";
import { runConfirmation } from "../../commands/confirm.ts";
import { execute, refuse, runText, usageReply, type Engine, type Invocation, type Reply } from "../../commands/dispatch.ts";
import { doc } from "../../commands/doc.ts";
import { checkValues, parseCommand } from "../../commands/text.ts";
import type { Clock } from "../../src/clock.ts";
import { Deliverer } from "../../src/delivery.ts";
import { EXIT, FatalError, type OnFatal } from "../../src/lifecycle.ts";
import { choiceFacts } from "../../src/services/choices.ts";
import type { Caller } from "../../src/services/context.ts";
import { createLogger, type Logger } from "../../src/log.ts";
import type { Store } from "../../src/store.ts";
import { choicesOf, fitChoices } from "./choices.ts";
import { DiscordCourier, LiveInteraction, TOKEN_TTL_MS, type ReplyTarget } from "./courier.ts";
import { Inbox, type InboxPlan } from "./inbox.ts";
import { ACTION_PREFIX, BUTTON_PREFIX, CANCEL_PREFIX, CONFIRM_PREFIX, readActionId, UNKNOWN_BUTTON } from "./render.ts";
import { autocompleteOf, commandForSlash } from "./slash-json.ts";

export interface DiscordOptions {
  readonly token: string;
  readonly engine: Engine;
  readonly store: Store;
  readonly clock: Clock;
  /** Base of the REST API (DISCORD_API_URL), e.g. a shared rate-limit proxy or a test server. */
  readonly apiBase?: string | undefined;
  readonly logger?: Logger;
  /** How long a read may run before its reply is deferred (Discord allows 3 s in all). */
  readonly deferAfterMs?: number;
  /**
   * Called once when Discord will not take the bot any more (invalid token, gateway close 4004 or
   * 4010-4014): the wiring logs it and exits with its code. Without it the adapter logs it at fatal level.
   */
  readonly onFatal?: OnFatal;
  /**
   * How long a process's claim on a message holds (ms). Every Discord send is safe to repeat (nonce,
   * edits, @original checked first), so a short lease lets a restarted bot take over quickly.
   */
  readonly leaseMs?: number;
  /** How often waiting messages are looked at (ms). */
  readonly pollMs?: number;
  /**
   * Where acknowledged interactions are noted before they run (adapters/discord/inbox.ts), so that
   * one acknowledged just before a crash is still run and answered after the restart. Default:
   * the wiring puts it next to the database file (`<file>.discord-inbox`); none when not given.
   */
  readonly inboxFile?: string | null;
}

const displayName = (u: User) => u.globalName ?? u.username;

/** Gateway close codes after which Discord will not take the bot again as it is configured. */
export const FATAL_CLOSES: Readonly<Record<number, string>> = {
  4004: "Discord refused the bot token (gateway close 4004, authentication failed): it was reset or is wrong; put the current one in DISCORD_TOKEN",
  4010: "Discord closed the gateway with 4010 (invalid shard)",
  4011: "Discord closed the gateway with 4011 (sharding required): the bot is in too many servers for one connection",
  4012: "Discord closed the gateway with 4012 (invalid API version)",
  4013: "Discord closed the gateway with 4013 (invalid intents)",
  4014: "Discord closed the gateway with 4014 (disallowed intents): the bot asks for a privileged intent that is switched off in the Developer Portal",
};

export class DiscordAdapter {
  readonly client: Client;
  readonly deliverer: Deliverer;
  private readonly courier: DiscordCourier;
  private readonly logger: Logger;
  /** Interactions received by this process (for 15 minutes), by id. */
  private readonly live = new Map<string, LiveInteraction>();
  private started = false;
  private fatal: FatalError | undefined;
  private lostAt: number | undefined;
  private readonly inbox: Inbox | undefined;

  constructor(private readonly o: DiscordOptions) {
    this.logger = (o.logger ?? createLogger()).child({ platform: "discord" });
    this.inbox = o.inboxFile ? new Inbox(o.inboxFile, { logger: this.logger }) : undefined;
    // Slash commands need no privileged intent: Guilds is enough.
    this.client = new Client({ intents: [GatewayIntentBits.Guilds], ...(o.apiBase ? { rest: { api: o.apiBase } } : {}) });
    this.courier = new DiscordCourier({
      rest: this.client.rest,
      store: o.store,
      table: o.engine.table,
      logger: this.logger,
      live: this.live,
      started: () => this.started,
    });
    this.deliverer = new Deliverer({ store: o.store, courier: this.courier, logger: this.logger, leaseMs: o.leaseMs ?? 15_000, pollMs: o.pollMs ?? 5_000 });
    this.client.on(Events.InteractionCreate, (i) => {
      void this.onInteraction(i);
    });
    this.client.on(Events.Error, (e) => this.logger.error({ err: e }, "Discord client error"));
    this.client.on(Events.ShardDisconnect, (event) => {
      const reason = FATAL_CLOSES[event.code];
      if (reason) this.reportFatal(new FatalError(reason, EXIT.credentials));
    });
    this.client.on(Events.ShardReconnecting, () => {
      if (this.lostAt !== undefined || !this.started) return;
      this.lostAt = Date.now();
      this.logger.warn("lost the connection to Discord's gateway; reconnecting");
    });
    const back = () => {
      if (this.lostAt === undefined) return;
      this.logger.info(`connected to Discord's gateway again (after ${((Date.now() - this.lostAt) / 1000).toFixed(1)} s)`);
      this.lostAt = undefined;
      void this.deliver();
    };
    this.client.on(Events.ShardResume, back);
    this.client.on(Events.ShardReady, back);
  }

  /** Logs in and resolves once the gateway session is ready; a refused token rejects with a FatalError (also given to onFatal). */
  async start(): Promise<void> {
    const ready = new Promise<void>((resolve) => this.client.once(Events.ClientReady, () => resolve()));
    try {
      await this.client.login(this.o.token);
    } catch (e) {
      const fatal = this.fatal ?? fatalOfLogin(e);
      if (fatal) {
        this.reportFatal(fatal);
        throw fatal;
      }
      throw e;
    }
    await ready;
    this.started = true;
    this.deliverer.start();
    await this.replayInbox();
    await this.deliver();
  }

  /**
   * Runs the interactions acknowledged before a crash that have no stored answer yet; their
   * answers then go out like any other (the deferral is edited through the token).
   */
  private async replayInbox(): Promise<void> {
    if (!this.inbox) return;
    let entries;
    try {
      entries = this.inbox.compact(Date.now());
    } catch (e) {
      this.logger.warn({ reason: e instanceof Error ? e.message : String(e) }, `could not read the interaction inbox ${this.inbox.file}`);
      return;
    }
    let ran = 0;
    for (const entry of entries) {
      const requestId = `discord:${entry.target.interaction}`;
      if (await this.o.store.read((tx) => tx.reply(requestId))) continue;
      // Noted just before the acknowledgement was sent: run it only if Discord has it as "thinking…".
      const state = await this.courier.originalState(entry.target).catch((e: unknown) => {
        this.logger.warn({ requestId, reason: e instanceof Error ? e.message : String(e) }, "could not read an interaction's state; not run again");
        return "gone" as const;
      });
      if (state !== "thinking") continue;
      const plan = this.planOf(entry.plan);
      // Stored, reads too (no platformAnswersOnce): no live interaction of this process waits for
      // the answer, so it goes out from its row, through the deferral's token.
      await plan.run({ caller: entry.caller, requestId, now: new Date(entry.now), replyTo: { ...entry.target, deferred: true } });
      ran++;
    }
    if (ran > 0) this.logger.info(`ran ${ran} interaction(s) acknowledged before the last stop but not yet run; their answers follow`);
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.deliverer.stop();
    await this.client.destroy();
  }

  /** Sends what is waiting (answers, announcements, boards, notes); rounds never overlap. */
  deliver(): Promise<void> {
    return this.deliverer.kick();
  }

  private reportFatal(e: FatalError): void {
    if (this.fatal) return;
    this.fatal = e;
    this.started = false;
    if (this.o.onFatal) this.o.onFatal(e);
    else this.logger.fatal({ exitCode: e.exitCode }, e.message);
  }

  private caller(i: Interaction): Caller {
    const nick = i.inCachedGuild() ? i.member.nickname : null;
    return { platform: "discord", userId: i.user.id, displayName: nick ?? displayName(i.user), roomId: i.channelId ?? `dm:${i.user.id}` };
  }

  private async onInteraction(i: Interaction): Promise<void> {
    if (i.isAutocomplete()) return this.onAutocomplete(i);
    if (!i.isChatInputCommand() && !i.isButton()) return;
    if (i.isButton() && ![ACTION_PREFIX, BUTTON_PREFIX, CONFIRM_PREFIX, CANCEL_PREFIX].some((p) => i.customId.startsWith(p))) return;
    const now = Date.now();
    for (const [id, l] of this.live) if (now - l.target.at > TOKEN_TTL_MS) this.live.delete(id);
    if (this.live.has(i.id)) {
      this.logger.info({ requestId: `discord:${i.id}` }, "the same interaction arrived twice; the second is ignored");
      return;
    }
    const target: ReplyTarget = { interaction: i.id, token: i.token, app: i.applicationId, ephemeral: false, deferred: false, at: i.createdTimestamp };
    try {
      if (i.isButton() && i.customId.startsWith(CANCEL_PREFIX)) return await this.onCancel(i);
      const planned = i.isChatInputCommand() ? this.planSlash(i) : this.planButton(i);
      const live = new LiveInteraction({ ...target, ephemeral: planned.personal });
      this.live.set(i.id, live);
      await this.run(i, live, planned);
    } catch (e) {
      // A bug in this adapter: log it once with an incident id, tell the user, stay connected.
      const incident = randomBytes(4).toString("hex");
      this.logger.error({ err: e, incident, requestId: `discord:${i.id}` }, `incident ${incident} in a Discord interaction`);
      const live = this.live.get(i.id) ?? new LiveInteraction(target);
      this.live.set(i.id, live);
      const message = `something went wrong on our side (incident ${incident}); nothing was changed.`;
      const reply: Reply = { ok: false, code: "internal", message, doc: [doc.line(doc.bad("✗ "), message)] };
      await live
        .serial(() => this.courier.answerLive(live, reply))
        .catch((err: unknown) => this.logger.warn({ incident, reason: String(err) }, `could not report incident ${incident}`));
    }
  }

  /** What a slash command will run, whether it changes anything, and whether its answer is private. */
  private planSlash(i: ChatInputCommandInteraction): Plan {
    const command = commandForSlash(this.o.engine.table, i.commandName, i.options.getSubcommandGroup(false), i.options.getSubcommand(false));
    if (!command)
      return this.planOf({ refuse: { code: "usage", message: "this command is not known to the bot any more: ask an admin to run npm run discord:register" } });
    const refusal = roomRightRefusal(i, command);
    if (refusal) return this.planOf({ refuse: { code: "forbidden", message: refusal } });
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
    return this.planOf({ path: command.path, raw: [...raw] });
  }

  /**
   * Buttons carry a command's key and values (an older button its text); it runs like a typed
   * command, as the member who pressed, answered privately. A preview's confirm button names the
   * preview's interaction instead: its stored answer says what to run and who may
   * (commands/confirm.ts), read after the deferral; the confirmed command is answered in the
   * channel, as when typed.
   */
  private planButton(i: ButtonInteraction): Plan {
    if (i.customId.startsWith(CONFIRM_PREFIX)) return this.planOf({ confirm: `discord:${i.customId.slice(CONFIRM_PREFIX.length)}` });
    if (i.customId.startsWith(ACTION_PREFIX)) {
      const read = readActionId(this.o.engine.table, i.customId);
      if (!read.ok) return this.planOf({ refuse: { code: "usage", message: read.message } });
      const refusal = roomRightRefusal(i, read.command);
      if (refusal) return this.planOf({ refuse: { code: "forbidden", message: refusal } });
      return this.planOf({ action: read.command.key!, raw: read.raw });
    }
    const text = i.customId.slice(BUTTON_PREFIX.length);
    const parsed = parseCommand(this.o.engine.table, text);
    const refusal = parsed.ok ? roomRightRefusal(i, parsed.command) : undefined;
    if (refusal) return this.planOf({ refuse: { code: "forbidden", message: refusal } });
    return this.planOf({ text });
  }

  /**
   * Cancel on a preview: for the member who asked, the preview loses its buttons and says it was
   * cancelled (Discord's message update is the press's one answer, within its 3 s); anyone else is
   * told privately that it is not theirs. Nothing in the pool changes, so nothing is stored.
   */
  private async onCancel(i: ButtonInteraction): Promise<void> {
    this.live.set(
      i.id,
      new LiveInteraction({ interaction: i.id, token: i.token, app: i.applicationId, ephemeral: true, deferred: false, at: i.createdTimestamp }),
    );
    const preview = await this.o.store.read((tx) => tx.reply(`discord:${i.customId.slice(CANCEL_PREFIX.length)}`));
    if (preview && preview.userId !== i.user.id) {
      await i.reply({ content: "✗ only the member who asked for this preview can cancel it; nothing was changed", flags: MessageFlags.Ephemeral });
      return;
    }
    const footer = { text: preview ? `Cancelled by ${displayName(i.user)}: nothing was changed.` : "This preview is no longer kept: nothing was changed." };
    await i.update({ embeds: i.message.embeds.map((e) => ({ ...e.toJSON(), footer })), components: [] });
  }

  /**
   * Takes the buttons off a preview that was confirmed, through the preview's own interaction
   * token (good for 15 minutes; an older preview keeps them, and a press there is refused as done
   * already). Trouble here is logged: the confirmation stands and is answered either way.
   */
  private async retireButtons(previewRequestId: string): Promise<void> {
    try {
      const row = await this.o.store.read((tx) => tx.reply(previewRequestId));
      if (!row) return;
      const t = JSON.parse(row.target) as ReplyTarget;
      if (Date.now() - t.at > TOKEN_TTL_MS) return;
      await this.client.rest.patch(Routes.webhookMessage(t.app, t.token, "@original"), { body: { components: [] }, auth: false });
    } catch (e) {
      this.logger.warn(
        { requestId: previewRequestId, reason: e instanceof Error ? e.message : String(e) },
        "could not take the buttons off a confirmed preview",
      );
    }
  }

  /** A plan from its stored form (the same for a live interaction and one run again after a crash). */
  private planOf(journal: InboxPlan): Plan {
    const engine = this.o.engine;
    if ("refuse" in journal) {
      const { code, message } = journal.refuse;
      return {
        journal,
        personal: true,
        mutates: false,
        run: (inv) => refuse(engine, inv, { ok: false, code, message, doc: [doc.line(doc.bad("✗ "), message)] }),
      };
    }
    // A confirmation is answered in the channel like the typed command (a refusal still privately);
    // once it acted, the preview's buttons go.
    if ("confirm" in journal) {
      const run = async (inv: Invocation) => {
        const reply = await runConfirmation(engine, inv, journal.confirm);
        if (reply.ok && !reply.replayed) await this.retireButtons(journal.confirm);
        return reply;
      };
      return { journal, personal: false, mutates: true, run };
    }
    if ("text" in journal) {
      const parsed = parseCommand(engine.table, journal.text);
      if (!parsed.ok) return { journal, personal: true, mutates: false, run: (inv) => runText(engine, inv, journal.text) };
      return {
        journal,
        personal: true,
        mutates: mutatesWith(parsed.command, parsed.values),
        run: (inv) => execute(engine, inv, parsed.command, parsed.values),
      };
    }
    if ("action" in journal) {
      // A button: answered privately, as the command's text on an older button was.
      const command = engine.table.find((c) => c.key === journal.action);
      if (!command) return this.planOf({ refuse: { code: "usage", message: UNKNOWN_BUTTON } });
      const checked = checkValues(command, new Map(journal.raw));
      if (!checked.ok) return { journal, personal: true, mutates: false, run: (inv) => refuse(engine, inv, usageReply(checked.error)) };
      return { journal, personal: true, mutates: mutatesWith(command, checked.values), run: (inv) => execute(engine, inv, command, checked.values) };
    }
    const command = engine.table.find((c) => c.path.length === journal.path.length && c.path.every((w, k) => w === journal.path[k]));
    if (!command) return this.planOf({ refuse: { code: "usage", message: `the command "${journal.path.join(" ")}" is not known to the bot any more` } });
    const checked = checkValues(command, new Map(journal.raw));
    if (!checked.ok) return { journal, personal: true, mutates: false, run: (inv) => refuse(engine, inv, usageReply(checked.error)) };
    return {
      journal,
      personal: command.personal === true,
      mutates: mutatesWith(command, checked.values),
      run: (inv) => execute(engine, inv, command, checked.values),
    };
  }

  /**
   * Acknowledges in time and answers once. A command that changes something, or any command
   * while the database is busy, is deferred before any database work (and not run at all if
   * Discord says it is too late: nobody would see the answer). A read on an idle database answers
   * directly, deferred after deferAfterMs if the answer is not out by then.
   */
  private async run(i: Interaction, live: LiveInteraction, plan: Plan): Promise<void> {
    const target = live.target;
    const requestId = `discord:${i.id}`;
    // An interaction takes one answer (its token): a read's answer need not be stored (dispatch.ts).
    const inv: Invocation = { caller: this.caller(i), requestId, now: this.o.clock.now(), replyTo: target, platformAnswersOnce: true };
    const note = () => this.note({ target: { ...target, deferred: true }, caller: inv.caller, now: inv.now.getTime(), plan: plan.journal });
    if (plan.mutates || !this.o.store.idle() || this.acking > 0) {
      // Noted before the acknowledgement goes out: a crash right after Discord took it leaves the note.
      note();
      if (!(await this.defer(live))) return;
      target.deferred = true;
    }
    // Acknowledgements first: while a burst is being acknowledged, database work waits a moment.
    if (this.acking > 0) await Promise.race([this.acksDone(), sleep(500)]);
    const answered = plan.run(inv).then((reply) => this.answer(live, requestId, reply));
    if (!target.deferred) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.o.deferAfterMs ?? 1500);
      });
      const inTime = await Promise.race([answered.then(() => true), late]);
      clearTimeout(timer);
      if (!inTime && live.ack === "none") {
        note();
        await this.defer(live);
      }
    }
    await answered;
  }

  /** Acknowledgements in flight, and who waits for them to be done. */
  private acking = 0;
  private quiet: Array<() => void> = [];

  private async defer(live: LiveInteraction): Promise<boolean> {
    this.acking++;
    try {
      return await this.courier.defer(live);
    } finally {
      if (--this.acking === 0) for (const done of this.quiet.splice(0)) done();
    }
  }

  private acksDone(): Promise<void> {
    return this.acking === 0 ? Promise.resolve() : new Promise((resolve) => this.quiet.push(resolve));
  }

  /** Notes an acknowledged interaction in the inbox before it runs; trouble there is logged, the command still runs. */
  private note(entry: Parameters<Inbox["record"]>[0]): void {
    try {
      this.inbox?.record(entry);
    } catch (e) {
      this.logger.warn(
        { requestId: `discord:${entry.target.interaction}`, reason: e instanceof Error ? e.message : String(e) },
        "could not note the interaction in the inbox",
      );
    }
  }

  /** Sends the stored answer (keyed by the request id); an answer not stored (a read's, or busy) goes directly. */
  private async answer(live: LiveInteraction, requestId: string, reply: Reply): Promise<void> {
    // Flood control ignores it: no answer at all (a "thinking…" already shown is taken down).
    if (!reply.ok && reply.quiet) return live.serial(() => this.courier.withdraw(live));
    // Without a row (a read's answer is not stored on Discord; a busy database stored nothing),
    // answered directly: looked up on the read-only view, so a read never waits for the write
    // lock. With a row, it goes out from the row; another delivery round may hold it (it answers).
    const stored = reply.ok === false && reply.code === "busy" ? undefined : await this.o.store.read((tx) => tx.reply(requestId));
    if (!stored) return live.ack === "expired" ? undefined : live.serial(() => this.courier.answerLive(live, reply));
    await this.deliverer.deliverReply(requestId);
  }

  /** Offers projects, open tasks (with their weights), goods and kinds as the member types: read only, never behind writes. */
  private async onAutocomplete(i: AutocompleteInteraction): Promise<void> {
    try {
      const command = commandForSlash(this.o.engine.table, i.commandName, i.options.getSubcommandGroup(false), i.options.getSubcommand(false));
      const focused = i.options.getFocused(true);
      const ref = command ? autocompleteOf(command, focused.name) : undefined;
      const facts = ref ? await this.o.store.read((tx) => choiceFacts(tx, this.caller(i), this.o.clock.now().getTime(), ref)) : undefined;
      await i.respond(fitChoices(choicesOf(facts), String(focused.value ?? "")));
    } catch (e) {
      this.logger.warn({ requestId: `discord:${i.id}`, reason: e instanceof Error ? e.message : String(e) }, "could not offer autocomplete choices");
      await i.respond([]).catch(() => undefined);
    }
  }
}

interface Plan {
  /** How to run it again after a crash. */
  readonly journal: InboxPlan;
  readonly personal: boolean;
  readonly mutates: boolean;
  readonly run: (inv: Invocation) => Promise<Reply>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Why the caller may not run a command here, if they may not, before it runs. A command that
 * binds a room needs Manage Channels in the channel (Discord sends the member's permissions
 * there, overwrites included, as `member.permissions`; Administrator implies it). A direct
 * message (a `user`, no `member`) is no channel of a pool: only help and me link work there.
 */
export function roomRightRefusal(i: Interaction, command: AnyCommand): string | undefined {
  const name = `/${command.path.join(" ")}`;
  if (!i.inGuild() && command.where === "pool")
    return `${name} works in a channel of your pool, not in a direct message: run it there (here /help and /me link work)`;
  if (command.bindsRoom !== true) return undefined;
  if (!i.inGuild()) return `${name} binds a server channel: run it in the channel to bind (it needs Manage Channels there), not in a direct message`;
  if (i.memberPermissions?.has(PermissionFlagsBits.ManageChannels)) return undefined;
  return `${name} binds this channel, which needs the Manage Channels permission here: ask someone who has it to run ${name}`;
}

function mutatesWith(command: AnyCommand, values: Record<string, unknown>): boolean {
  return typeof command.mutates === "function" ? command.mutates(values as never) : command.mutates;
}

/** An error from login() that means Discord will not take the bot as configured. */
function fatalOfLogin(e: unknown): FatalError | undefined {
  const err = e as { code?: unknown; message?: unknown };
  if (err?.code === "TokenInvalid")
    return new FatalError("Discord refused the bot token (invalid token at login): put the current one in DISCORD_TOKEN", EXIT.credentials);
  const message = typeof err?.message === "string" ? err.message : "";
  const byMessage: Record<string, number> = {
    "Authentication failed": 4004,
    "Invalid shard": 4010,
    "Sharding is required": 4011,
    "Used an invalid API version": 4012,
    "Used invalid intents": 4013,
    "Used disallowed intents": 4014,
  };
  const close = byMessage[message];
  return close ? new FatalError(FATAL_CLOSES[close]!, EXIT.credentials) : undefined;
}
