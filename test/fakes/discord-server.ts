// A local Discord server for end-to-end tests: HTTP REST (node:http) and a WebSocket gateway (ws) on
// 127.0.0.1, good enough for the real discord.js Client:
//
//   const fake = await FakeDiscord.start();
//   const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiBase } });
//   await client.login(fake.token);
//   const i = fake.interact({ user: "alice", channelId: fake.channelId("lobby"), name: "pool", subcommand: "show" });
//   await i.settled();
//   expect(i.content).toContain("...");
//
// Payload shapes follow discord-api-types (v10); gateway behaviour follows @discordjs/ws 1.2 and
// discord.js 14.28 (see the report in the e2e smoke test for what was checked where).
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationFlags,
  ApplicationIntegrationType,
  ChannelType,
  ComponentType,
  GatewayDispatchEvents,
  GatewayOpcodes,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  GuildSystemChannelFlags,
  GuildVerificationLevel,
  InteractionContextType,
  InteractionResponseType,
  InteractionType,
  Locale,
  MessageFlags,
  MessageType,
  OverwriteType,
  PermissionFlagsBits,
  type APIApplication,
  type APIApplicationCommand,
  type APIApplicationCommandAutocompleteInteraction,
  type APIApplicationCommandInteractionDataOption,
  type APIAttachment,
  type ChannelFlags,
  type GuildMemberFlags,
  type RoleFlags,
  type UserFlags,
  type APIChatInputApplicationCommandInteraction,
  type APIChatInputApplicationCommandInteractionDataResolved,
  type APIDMChannel,
  type APIEmbed,
  type APIGuild,
  type APIGuildMember,
  type APIGuildTextChannel,
  type APIInteraction,
  type APIInteractionDataResolvedChannel,
  type APIInteractionDataResolvedGuildMember,
  type APIInteractionGuildMember,
  type APIMessage,
  type APIMessageComponentInteraction,
  type APIMessageTopLevelComponent,
  type APIOverwrite,
  type APIRole,
  type APIUser,
  type GatewayGuildCreateDispatchData,
  type GatewayGuildMembersChunkDispatchData,
  type GatewayReadyDispatchData,
  type RESTGetAPIGatewayBotResult,
  type RESTPostAPIInteractionCallbackWithResponseResult,
} from "discord-api-types/v10";

// ---------------------------------------------------------------------------------------------
// Public input types

export interface FakeUserSpec {
  id: string;
  username: string;
  globalName?: string;
  bot?: boolean;
}

export interface FakeMemberSpec extends FakeUserSpec {
  nick?: string;
  /** Role ids besides @everyone. */
  roles?: string[];
  /** Member permissions in the guild (decimal string or bigint); default: the @everyone role's. */
  permissions?: string | bigint;
  /** Shorthand for all permissions (Administrator). */
  admin?: boolean;
}

export interface FakeGuildSpec {
  id: string;
  name: string;
  channels: Array<{ id: string; name: string; type?: ChannelType.GuildText }>;
  members?: FakeMemberSpec[];
  roles?: Array<{ id: string; name: string; permissions?: string | bigint }>;
  /**
   * Owner of the guild; default: FAKE_IDS.owner, a user who is not a member (so no test user is
   * implicitly the owner, and the bot is not either: an owner has every permission, in Discord
   * and in discord.js's permissionsFor).
   */
  ownerId?: string;
  /** The bot's permissions in this guild; default: FakeDiscordOptions.botPermissions. */
  botPermissions?: string | bigint;
}

export interface FakeDiscordOptions {
  applicationId?: string;
  botUserId?: string;
  botUsername?: string;
  token?: string;
  guilds?: FakeGuildSpec[];
  /** Gateway HELLO heartbeat interval in ms (Discord: 41250). */
  heartbeatInterval?: number;
  /** Answer interaction callbacks later than this with 404 Unknown interaction, like Discord (3000). null: never. */
  interactionCallbackDeadlineMs?: number | null;
  /** Print every REST request and gateway frame to stderr. Also on when DEBUG_FAKE_DISCORD is set. */
  verbose?: boolean;
  /**
   * How long a `nonce` sent with `enforce_nonce: true` deduplicates `POST /channels/{id}/messages`
   * (same channel, same author): Discord says "a few minutes"; default 5 minutes.
   */
  nonceWindowMs?: number;
  /** How long an interaction token takes edits and follow-ups after dispatch (Discord: 15 minutes); later: 401/50027. */
  interactionTokenTtlMs?: number;
  /**
   * The bot's permissions in every guild (a guild's `botPermissions` wins); default BOT_PERMISSIONS
   * (@everyone's, which include Attach Files, plus Manage Messages and Mention Everyone).
   */
  botPermissions?: string | bigint;
  /**
   * Privileged intents enabled for the application (GuildMembers 1<<1, GuildPresences 1<<8,
   * MessageContent 1<<15); an IDENTIFY asking for others is closed with 4014. Default: all three.
   */
  privilegedIntents?: number;
}

/** A user: a member's username or id, or a full spec (unknown ids become users on the fly). */
export type UserRef = string | FakeUserSpec;

export interface OptionInput {
  name: string;
  type: number;
  value: string | number | boolean;
  focused?: boolean;
}

interface InteractionBaseInput {
  user: UserRef;
  /** Guild of the interaction; default: the guild that holds channelId. null: a DM with the bot. */
  guildId?: string | null;
  /** Channel id (or name) where it happens; default: the first channel of the first guild, or the DM. */
  channelId?: string;
  locale?: `${Locale}`;
}

export interface CommandInput extends InteractionBaseInput {
  type?: "command";
  name: string;
  group?: string | undefined;
  subcommand?: string;
  options?: OptionInput[];
}

export interface AutocompleteInput extends InteractionBaseInput {
  type: "autocomplete";
  name: string;
  group?: string;
  subcommand?: string;
  /** The options typed so far; the one with `focused: true` (or named by `focused`, or else the last) is focused. */
  options: OptionInput[];
  focused?: string;
}

export interface ComponentInput extends InteractionBaseInput {
  type: "button" | "select";
  customId: string;
  /** For string selects. */
  values?: string[];
  /**
   * The message the component is on: a message id known to the fake, or a message object.
   * Default: the newest known message carrying a component with this custom_id, else a synthetic one.
   */
  message?: string | APIMessage;
}

export type InteractInput = CommandInput | AutocompleteInput | ComponentInput;

// ---------------------------------------------------------------------------------------------
// Records

export type ResponseRecord =
  | { kind: "callback"; type: InteractionResponseType; data: Record<string, unknown> | undefined; at: number }
  | { kind: "edit"; messageId: string; type?: undefined; data: Record<string, unknown>; at: number }
  | { kind: "followup"; messageId: string; type?: undefined; data: Record<string, unknown>; at: number }
  | { kind: "delete"; messageId: string; type?: undefined; data?: undefined; at: number };

export interface RecordedRequest {
  method: string;
  /** Route after /api/v10, e.g. /channels/123/messages. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
  at: number;
}

/** A file part of a multipart message post (`files[n]`), with its bytes. */
interface UploadedFile {
  index: number;
  filename: string;
  size: number;
  contentType: string;
  data: Buffer;
}

export interface RecordedError {
  method: string;
  path: string;
  status: number;
  code: number;
  message: string;
}

export interface GatewayFrame {
  direction: "in" | "out";
  op: number;
  t?: string | null;
  s?: number | null;
  d?: unknown;
}

// ---------------------------------------------------------------------------------------------
// Helpers

const DISCORD_EPOCH = 1420070400000n;
let snowflakeIncrement = 0n;
/** A fresh snowflake id for now (time-ordered, unique within the process). */
export function snowflake(at: number = Date.now()): string {
  snowflakeIncrement = (snowflakeIncrement + 1n) & 0xfffn;
  return (((BigInt(at) - DISCORD_EPOCH) << 22n) | (1n << 17n) | snowflakeIncrement).toString();
}

/** Stable ids of the default world, so tests can name them. */
export const FAKE_IDS = {
  application: "1300000000000000001",
  bot: "1300000000000000001",
  guild: "1300000000000000100",
  lobby: "1300000000000000101",
  bakery: "1300000000000000102",
  /** A role with Manage Channels (alice has it, bob has not): the right to bind channels to pools. */
  stewards: "1300000000000000110",
  alice: "1300000000000000201",
  bob: "1300000000000000202",
  owner: "1300000000000000299",
} as const;

const ALL_PERMISSIONS = Object.values(PermissionFlagsBits).reduce((a, b) => a | b, 0n);
const EVERYONE_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.CreatePublicThreads |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.UseExternalEmojis |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.UseApplicationCommands |
  PermissionFlagsBits.ChangeNickname |
  PermissionFlagsBits.CreateInstantInvite;
/** The bot's permissions by default (FakeDiscordOptions.botPermissions, setBotPermissions). */
export const BOT_PERMISSIONS = EVERYONE_PERMISSIONS | PermissionFlagsBits.ManageMessages | PermissionFlagsBits.MentionEveryone;

type Json = Record<string, unknown>;

function isRecord(x: unknown): x is Json {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function token(bytes = 24): string {
  return randomBytes(bytes).toString("base64url");
}

function nowIso(): string {
  return new Date().toISOString();
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: Json,
  ) {
    super(message);
  }
}

const unknownMessage = () => new HttpError(404, 10008, "Unknown Message");
const unknownChannel = () => new HttpError(404, 10003, "Unknown Channel");

function formError(errors: Json): HttpError {
  return new HttpError(400, 50035, "Invalid Form Body", errors);
}

function fieldError(path: string[], code: string, message: string): Json {
  let node: Json = { _errors: [{ code, message }] };
  for (const key of [...path].reverse()) node = { [key]: node };
  return node;
}

/** Discord's documented limits on a message body; throws 400 like Discord. */
function validateMessageBody(body: Json, creating: boolean): void {
  const content = body.content;
  if (typeof content === "string" && content.length > 2000) {
    throw formError(fieldError(["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."));
  }
  const embeds = Array.isArray(body.embeds) ? (body.embeds as unknown[]) : [];
  if (embeds.length > 10) throw formError(fieldError(["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length."));
  let total = 0;
  embeds.forEach((e, i) => {
    if (!isRecord(e)) return;
    const str = (k: string) => (typeof e[k] === "string" ? e[k] : "");
    const check = (value: string, max: number, path: string[]) => {
      if (value.length > max) throw formError(fieldError(["embeds", String(i), ...path], "BASE_TYPE_MAX_LENGTH", `Must be ${max} or fewer in length.`));
      total += value.length;
    };
    check(str("title"), 256, ["title"]);
    check(str("description"), 4096, ["description"]);
    const fields = Array.isArray(e.fields) ? (e.fields as unknown[]) : [];
    if (fields.length > 25) throw formError(fieldError(["embeds", String(i), "fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."));
    fields.forEach((f, j) => {
      if (!isRecord(f)) return;
      const name = typeof f.name === "string" ? f.name : "";
      const value = typeof f.value === "string" ? f.value : "";
      if (!name || !value) throw formError(fieldError(["embeds", String(i), "fields", String(j)], "BASE_TYPE_REQUIRED", "This field is required"));
      check(name, 256, ["fields", String(j), "name"]);
      check(value, 1024, ["fields", String(j), "value"]);
    });
    if (isRecord(e.footer) && typeof e.footer.text === "string") check(e.footer.text, 2048, ["footer", "text"]);
    if (isRecord(e.author) && typeof e.author.name === "string") check(e.author.name, 256, ["author", "name"]);
  });
  if (total > 6000) throw formError(fieldError(["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"));
  const components = Array.isArray(body.components) ? (body.components as unknown[]) : [];
  const componentsV2 = typeof body.flags === "number" && (body.flags & MessageFlags.IsComponentsV2) !== 0;
  if (!componentsV2) {
    if (components.length > 5) throw formError(fieldError(["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."));
    components.forEach((row, i) => {
      if (!isRecord(row) || row.type !== ComponentType.ActionRow) {
        throw formError(fieldError(["components", String(i)], "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1,).'));
      }
      const children = Array.isArray(row.components) ? (row.components as unknown[]) : [];
      if (children.length < 1 || children.length > 5) {
        throw formError(fieldError(["components", String(i), "components"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."));
      }
      children.forEach((c, j) => {
        if (!isRecord(c)) return;
        const at = ["components", String(i), "components", String(j)];
        if (typeof c.custom_id === "string" && c.custom_id.length > 100)
          throw formError(fieldError([...at, "custom_id"], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."));
        if (c.type === ComponentType.Button) {
          if (typeof c.label === "string" && c.label.length > 80)
            throw formError(fieldError([...at, "label"], "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length."));
          if (c.style !== 5 && c.style !== 6 && typeof c.custom_id !== "string")
            throw formError(fieldError([...at, "custom_id"], "BASE_TYPE_REQUIRED", "This field is required"));
        } else if (
          typeof c.type === "number" &&
          c.type >= ComponentType.StringSelect &&
          c.type <= ComponentType.ChannelSelect &&
          c.type !== ComponentType.TextInput
        ) {
          // A select menu fills its row (width 5).
          if (children.length > 1) throw formError(fieldError([...at], "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "The specified component exceeds the maximum width"));
          if (typeof c.placeholder === "string" && c.placeholder.length > 150)
            throw formError(fieldError([...at, "placeholder"], "BASE_TYPE_MAX_LENGTH", "Must be 150 or fewer in length."));
          if (c.type === ComponentType.StringSelect) {
            const options = Array.isArray(c.options) ? (c.options as unknown[]) : [];
            if (options.length < 1 || options.length > 25)
              throw formError(fieldError([...at, "options"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length."));
            options.forEach((o, k) => {
              if (!isRecord(o)) return;
              for (const key of ["label", "value", "description"] as const) {
                const v = o[key];
                if (typeof v === "string" && v.length > 100)
                  throw formError(fieldError([...at, "options", String(k), key], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."));
              }
            });
          }
        }
      });
    });
  }
  if (creating) {
    const hasFiles = Array.isArray(body.attachments) && (body.attachments as unknown[]).length > 0;
    const empty =
      !(typeof content === "string" && content.length > 0) && embeds.length === 0 && components.length === 0 && !hasFiles && !body.sticker_ids && !body.poll;
    if (empty) throw new HttpError(400, 50006, "Cannot send an empty message");
  }
}

function validateCommands(commands: unknown[]): void {
  if (commands.length > 100) throw formError(fieldError([], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."));
  const names = new Set<string>();
  commands.forEach((c, i) => {
    if (!isRecord(c)) throw formError(fieldError([String(i)], "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType"));
    const type = typeof c.type === "number" ? c.type : ApplicationCommandType.ChatInput;
    const name = typeof c.name === "string" ? c.name : "";
    if (type === ApplicationCommandType.ChatInput && !/^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u.test(name)) {
      throw formError(fieldError([String(i), "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"));
    }
    if (type === ApplicationCommandType.ChatInput && name !== name.toLowerCase()) {
      throw formError(fieldError([String(i), "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"));
    }
    const key = `${type}:${name}`;
    if (names.has(key)) throw formError(fieldError([String(i), "name"], "APPLICATION_COMMANDS_DUPLICATE_NAME", `Application command names must be unique`));
    names.add(key);
    const description = typeof c.description === "string" ? c.description : "";
    if (type === ApplicationCommandType.ChatInput && (description.length < 1 || description.length > 100)) {
      throw formError(fieldError([String(i), "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."));
    }
    const checkOptions = (opts: unknown, path: string[]) => {
      if (!Array.isArray(opts)) return;
      if (opts.length > 25) throw formError(fieldError([...path, "options"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."));
      let seenOptional = false;
      opts.forEach((o, j) => {
        if (!isRecord(o)) return;
        const at = [...path, "options", String(j)];
        if (typeof o.name !== "string" || !/^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u.test(o.name) || o.name !== o.name.toLowerCase()) {
          throw formError(fieldError([...at, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"));
        }
        if (typeof o.description !== "string" || o.description.length < 1 || o.description.length > 100) {
          throw formError(fieldError([...at, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."));
        }
        const sub = o.type === ApplicationCommandOptionType.Subcommand || o.type === ApplicationCommandOptionType.SubcommandGroup;
        if (!sub) {
          if (o.required === true && seenOptional) {
            throw formError(
              fieldError([...at, "required"], "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be placed before non-required options"),
            );
          }
          if (o.required !== true) seenOptional = true;
        }
        if (Array.isArray(o.choices) && o.choices.length > 25)
          throw formError(fieldError([...at, "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."));
        if (o.autocomplete === true && Array.isArray(o.choices) && o.choices.length > 0) {
          throw formError(fieldError([...at, "autocomplete"], "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID", "Autocomplete cannot be set with choices"));
        }
        checkOptions(o.options, at);
      });
    };
    checkOptions(c.options, [String(i)]);
  });
}

function mentionedUserIds(content: string): string[] {
  return [...new Set([...content.matchAll(/<@!?(\d{15,21})>/g)].map((m) => m[1]!))];
}

// ---------------------------------------------------------------------------------------------
// Interactions

interface StoredMessage {
  message: APIMessage;
  guildId?: string;
  /** Set for messages created by an interaction response or follow-up. */
  interactionId?: string;
  /** Messages posted with POST /channels/{id}/messages (these are listed by channelMessages). */
  posted: boolean;
  deleted: boolean;
}

/** Everything the bot does for one interaction; returned by FakeDiscord.interact. */
export class FakeInteraction {
  readonly responses: ResponseRecord[] = [];
  /** Requests for this interaction that the fake refused (e.g. a second callback, a late callback). */
  readonly errors: RecordedError[] = [];
  /** The id of the interaction's original response message (created by a type 4/5 callback, or the component's message). */
  originalMessageId: string | undefined;
  readonly followupIds: string[] = [];
  readonly createdAt = Date.now();
  /**
   * When INTERACTION_CREATE went out on the gateway (ms since the epoch). The 3 s callback deadline
   * and the 15 min token lifetime count from here; `ageBy` moves it back to simulate waiting.
   */
  dispatchedAt = Date.now();
  private readonly events = new EventEmitter();

  constructor(
    private readonly fake: FakeDiscord,
    readonly payload: APIInteraction,
    /** For component interactions: the message the component was on. */
    readonly componentMessageId: string | undefined,
  ) {
    this.events.setMaxListeners(0);
  }

  get id(): string {
    return this.payload.id;
  }
  get token(): string {
    return this.payload.token;
  }
  get type(): InteractionType {
    return this.payload.type;
  }

  /** @internal */
  record(r: ResponseRecord): void {
    this.responses.push(r);
    this.events.emit("change");
  }
  /** @internal */
  recordError(e: RecordedError): void {
    this.errors.push(e);
    this.events.emit("change");
  }

  /** The first callback (POST /interactions/{id}/{token}/callback), if any. */
  get callback(): Extract<ResponseRecord, { kind: "callback" }> | undefined {
    return this.responses.find((r): r is Extract<ResponseRecord, { kind: "callback" }> => r.kind === "callback");
  }
  get callbackType(): InteractionResponseType | undefined {
    return this.callback?.type;
  }
  /** The bot acknowledged the interaction (a callback the fake accepted: 4, 5, 6, 7, 8 or 9). */
  get acknowledged(): boolean {
    return this.callback !== undefined;
  }
  /** Milliseconds from dispatch to the accepted callback; undefined while unacknowledged. */
  get ackAfterMs(): number | undefined {
    const cb = this.callback;
    return cb ? cb.at - this.dispatchedAt : undefined;
  }
  /**
   * What came after the acknowledgement through the webhook token (edits of @original or of a
   * follow-up, follow-ups, deletions), in order, with ms after dispatch.
   */
  get answers(): Array<{ kind: "edit" | "followup" | "delete"; messageId: string; afterMs: number }> {
    return this.responses.flatMap((r) => (r.kind === "callback" ? [] : [{ kind: r.kind, messageId: r.messageId, afterMs: r.at - this.dispatchedAt }]));
  }
  /** Milliseconds from dispatch to the first later answer (edit, follow-up or deletion); undefined if none. */
  get answeredAfterMs(): number | undefined {
    return this.answers[0]?.afterMs;
  }
  /** Pretend `ms` more have passed since dispatch (for the 3 s deadline and the 15 min token lifetime). */
  ageBy(ms: number): this {
    this.dispatchedAt -= ms;
    return this;
  }

  /** The callback was a deferral (5 deferred reply, 6 deferred update). */
  get deferred(): boolean {
    const t = this.callbackType;
    return t === InteractionResponseType.DeferredChannelMessageWithSource || t === InteractionResponseType.DeferredMessageUpdate;
  }

  /**
   * Complete: a non-deferring callback (4, 7, 8, 9), a deferred reply (5) resolved by an edit or a
   * follow-up, or a deferred update (6) (an acknowledgement that may legitimately be all).
   */
  get complete(): boolean {
    const t = this.callbackType;
    if (t === undefined) return false;
    if (t === InteractionResponseType.DeferredChannelMessageWithSource) {
      return this.responses.some((r) => r.kind === "edit" || r.kind === "followup" || r.kind === "delete");
    }
    return true;
  }

  private waitFor<T>(check: () => T | undefined, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const first = check();
      if (first !== undefined) return resolve(first);
      const onChange = () => {
        const v = check();
        if (v !== undefined) {
          cleanup();
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `FakeDiscord: ${what} within ${ms} ms for interaction ${this.describe()}; so far: ${JSON.stringify(this.responses.map((r) => [r.kind, r.type ?? null]))}${this.errors.length ? `; refused: ${JSON.stringify(this.errors)}` : ""}`,
          ),
        );
      }, ms);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off("change", onChange);
      };
      this.events.on("change", onChange);
    });
  }

  private describe(): string {
    const d = this.payload.data as Json | undefined;
    return `${this.id} (${d && typeof d.name === "string" ? `/${d.name}` : d && typeof d.custom_id === "string" ? `component ${d.custom_id}` : `type ${this.type}`})`;
  }

  /** Resolves with the first callback the bot sends; rejects after `ms`. */
  firstResponse(ms = 5000): Promise<Extract<ResponseRecord, { kind: "callback" }>> {
    return this.waitFor(() => this.callback, ms, "no callback");
  }

  /**
   * Resolves once the interaction is `complete` and then nothing more happened for `quietMs`
   * (so trailing follow-ups are caught); rejects if it is not complete within `ms`.
   */
  async settled(ms = 5000, quietMs = 60): Promise<this> {
    const deadline = Date.now() + ms;
    await this.waitFor(() => (this.complete ? true : undefined), ms, "no complete answer");
    for (;;) {
      const count = this.responses.length;
      await new Promise((r) => setTimeout(r, quietMs));
      if (this.responses.length === count || Date.now() > deadline) return this;
    }
  }

  /** Wait until the interaction has at least `n` follow-ups. */
  followupsAtLeast(n: number, ms = 5000): Promise<APIMessage[]> {
    return this.waitFor(() => (this.followupIds.length >= n ? this.followups : undefined), ms, `fewer than ${n} follow-ups`);
  }

  /**
   * The original response as everyone (or, if ephemeral, the user) sees it now, edits applied: the
   * message created by a type 4/5 callback, or for components the message the component is on.
   */
  get reply(): APIMessage | undefined {
    const id = this.originalMessageId;
    if (!id) return undefined;
    const stored = this.fake.storedMessage(id);
    return stored && !stored.deleted ? stored.message : undefined;
  }
  get content(): string | undefined {
    return this.reply?.content;
  }
  get embeds(): APIEmbed[] {
    return this.reply?.embeds ?? [];
  }
  get components(): APIMessageTopLevelComponent[] {
    return this.reply?.components ?? [];
  }
  get flags(): number {
    return this.reply?.flags ?? 0;
  }
  get ephemeral(): boolean {
    return (this.flags & MessageFlags.Ephemeral) !== 0;
  }
  /** Follow-up messages (not counting one that resolved a deferred reply), edits applied. */
  get followups(): APIMessage[] {
    return this.followupIds
      .map((id) => this.fake.storedMessage(id))
      .filter((m): m is StoredMessage => m !== undefined && !m.deleted)
      .map((m) => m.message);
  }
  /** The reply and the follow-ups, in order. */
  get messages(): APIMessage[] {
    const r = this.reply;
    return [...(r ? [r] : []), ...this.followups];
  }
  /** All visible text: the reply's and follow-ups' content and embed titles/descriptions/fields, joined by newlines. */
  get text(): string {
    return this.messages
      .flatMap((m) => [
        m.content,
        ...m.embeds.flatMap((e) => [e.title ?? "", e.description ?? "", ...(e.fields ?? []).flatMap((f) => [f.name, f.value]), e.footer?.text ?? ""]),
      ])
      .filter((s) => s.length > 0)
      .join("\n");
  }
  /** For autocomplete: the choices of the type 8 callback. */
  get choices(): Array<{ name: string; value: string | number }> | undefined {
    const cb = this.responses.find((r) => r.kind === "callback" && r.type === InteractionResponseType.ApplicationCommandAutocompleteResult);
    const data = cb?.data;
    return data && Array.isArray(data.choices) ? (data.choices as Array<{ name: string; value: string | number }>) : undefined;
  }
  /** For a modal callback (type 9): its data. */
  get modal(): Json | undefined {
    const cb = this.responses.find((r) => r.kind === "callback" && r.type === InteractionResponseType.Modal);
    return cb?.data;
  }
}

// ---------------------------------------------------------------------------------------------
// Gateway sessions

interface Session {
  id: string;
  seq: number;
  /** Sent dispatches, for RESUME replay. */
  buffer: GatewayFrame[];
  socket: WebSocket | null;
  intents: number;
}

interface Conn {
  socket: WebSocket;
  session: Session | null;
}

// ---------------------------------------------------------------------------------------------

interface GuildState {
  spec: FakeGuildSpec;
  roles: APIRole[];
  channels: APIGuildTextChannel<ChannelType.GuildText>[];
  members: Map<string, FakeMemberSpec>;
  joinedAt: string;
  /** The bot's guild-wide permissions (exactly these: the fake does not add @everyone's). */
  botPermissions: bigint;
  /** Channels the bot has lost access to (a member overwrite denying View Channel). */
  noAccess: Set<string>;
}

/** Gateway close codes after which discord.js 14 stops reconnecting (see failIdentify). */
export const FATAL_CLOSE_CODES = {
  4004: "Authentication failed.",
  4010: "Invalid shard.",
  4011: "Sharding required.",
  4012: "Invalid API version.",
  4013: "Invalid intent(s).",
  4014: "Disallowed intent(s).",
} as const;
export type FatalCloseCode = keyof typeof FATAL_CLOSE_CODES;

const PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15);
/** Every intent bit Discord knows (v10): 0-16, 20, 21, 24, 25. */
const KNOWN_INTENTS = 0x1ffff | (1 << 20) | (1 << 21) | (1 << 24) | (1 << 25);

export class FakeDiscord {
  readonly applicationId: string;
  readonly botUserId: string;
  private tokenValue: string;
  readonly apiBase: string;
  readonly gatewayUrl: string;
  /** Every REST request, in order. */
  readonly requests: RecordedRequest[] = [];
  /** Requests to routes the fake does not know (each answered 404 `{ code: 10003 }`). */
  readonly unhandled: RecordedRequest[] = [];
  /** Every request answered with an error status (unknown routes included). */
  readonly errors: RecordedError[] = [];
  /** Gateway frames in both directions (heartbeats included). */
  readonly frames: GatewayFrame[] = [];
  readonly interactions: FakeInteraction[] = [];
  /** IDENTIFY payloads received. */
  readonly identifies: Json[] = [];
  readonly resumes: Json[] = [];
  heartbeats = 0;

  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<Socket>();
  private readonly conns = new Set<Conn>();
  private readonly sessions = new Map<string, Session>();
  private readonly guilds = new Map<string, GuildState>();
  private readonly users = new Map<string, APIUser>();
  private readonly dmChannels = new Map<string, APIDMChannel>(); // by user id
  private readonly attachmentBytes = new Map<string, Buffer>(); // by attachment id
  private requestFiles: UploadedFile[] = [];
  private readonly messages = new Map<string, StoredMessage>();
  private readonly channelLists = new Map<string, string[]>();
  private readonly interactionsById = new Map<string, FakeInteraction>();
  private readonly interactionsByToken = new Map<string, FakeInteraction>();
  private readonly commands = new Map<string, APIApplicationCommand[]>(); // scope: "global" | guild id
  private readonly commandIds = new Map<string, string>(); // `${scope}:${type}:${name}` -> id, stable across overwrites
  private readonly events = new EventEmitter();
  private readonly heartbeatInterval: number;
  private readonly callbackDeadlineMs: number | null;
  private readonly verbose: boolean;
  private readonly nonceWindowMs: number;
  private readonly tokenTtlMs: number;
  private readonly defaultBotPermissions: bigint;
  private readonly privilegedIntents: number;
  /** `${channel} ${author} ${nonce}` -> the message first posted with it (enforce_nonce). */
  private readonly nonces = new Map<string, { messageId: string; at: number }>();
  private identifyFailure: { code: number; reason: string } | null = null;
  private closed = false;

  private constructor(server: Server, wss: WebSocketServer, port: number, opts: FakeDiscordOptions) {
    this.server = server;
    this.wss = wss;
    this.applicationId = opts.applicationId ?? FAKE_IDS.application;
    this.botUserId = opts.botUserId ?? opts.applicationId ?? FAKE_IDS.bot;
    const idPart = Buffer.from(this.botUserId).toString("base64url");
    this.tokenValue = opts.token ?? `${idPart}.${token(4)}.${token(27)}`;
    this.apiBase = `http://127.0.0.1:${port}/api`;
    this.gatewayUrl = `ws://127.0.0.1:${port}/gateway`;
    this.heartbeatInterval = opts.heartbeatInterval ?? 41250;
    this.callbackDeadlineMs = opts.interactionCallbackDeadlineMs === undefined ? 3000 : opts.interactionCallbackDeadlineMs;
    this.verbose = opts.verbose ?? Boolean(process.env.DEBUG_FAKE_DISCORD);
    this.nonceWindowMs = opts.nonceWindowMs ?? 5 * 60_000;
    this.tokenTtlMs = opts.interactionTokenTtlMs ?? 15 * 60_000;
    this.defaultBotPermissions = opts.botPermissions === undefined ? BOT_PERMISSIONS : BigInt(opts.botPermissions);
    this.privilegedIntents = opts.privilegedIntents ?? PRIVILEGED_INTENTS;
    this.events.setMaxListeners(0);

    this.users.set(this.botUserId, {
      id: this.botUserId,
      username: opts.botUsername ?? "d-pool",
      discriminator: "0000",
      global_name: null,
      avatar: null,
      bot: true,
      flags: 0 as UserFlags,
      public_flags: 0 as UserFlags,
    });

    const guilds = opts.guilds ?? [
      {
        id: FAKE_IDS.guild,
        name: "Test Guild",
        channels: [
          { id: FAKE_IDS.lobby, name: "lobby" },
          { id: FAKE_IDS.bakery, name: "bakery" },
        ],
        roles: [{ id: FAKE_IDS.stewards, name: "Stewards", permissions: PermissionFlagsBits.ManageChannels }],
        members: [
          { id: FAKE_IDS.alice, username: "alice", globalName: "Alice", roles: [FAKE_IDS.stewards] },
          { id: FAKE_IDS.bob, username: "bob", globalName: "Bob" },
        ],
      },
    ];
    this.ensureUser({ id: FAKE_IDS.owner, username: "guild-owner" });
    for (const g of guilds) this.addGuildState(g);
  }

  static async start(opts: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const server = createServer();
    const wss = new WebSocketServer({ server, path: "/gateway" });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const fake = new FakeDiscord(server, wss, port, opts);
    server.on("connection", (s: Socket) => {
      fake.sockets.add(s);
      s.on("close", () => fake.sockets.delete(s));
    });
    server.on("request", (req: IncomingMessage, res: ServerResponse) => void fake.handleHttp(req, res));
    wss.on("connection", (ws: WebSocket) => fake.onGatewayConnection(ws));
    return fake;
  }

  /** The bot token: REST wants `Bot <token>`, IDENTIFY and RESUME carry it. Changed by resetToken(). */
  get token(): string {
    return this.tokenValue;
  }

  // -------------------------------------------------------------------------------------------
  // World

  private addGuildState(spec: FakeGuildSpec): void {
    const roles: APIRole[] = [
      this.role(spec.id, "@everyone", EVERYONE_PERMISSIONS, 0),
      ...(spec.roles ?? []).map((r, i) => this.role(r.id, r.name, r.permissions === undefined ? 0n : BigInt(r.permissions), i + 1)),
    ];
    const channels = spec.channels.map((c, i): APIGuildTextChannel<ChannelType.GuildText> => ({
      id: c.id,
      type: ChannelType.GuildText,
      guild_id: spec.id,
      name: c.name,
      position: i,
      permission_overwrites: [],
      nsfw: false,
      topic: null,
      last_message_id: null,
      rate_limit_per_user: 0,
      parent_id: null,
      flags: 0 as ChannelFlags,
      default_auto_archive_duration: 4320,
      default_thread_rate_limit_per_user: 0,
      last_pin_timestamp: null,
    }));
    const members = new Map<string, FakeMemberSpec>();
    for (const m of spec.members ?? []) {
      members.set(m.id, m);
      this.ensureUser(m);
    }
    const botPermissions = spec.botPermissions === undefined ? this.defaultBotPermissions : BigInt(spec.botPermissions);
    members.set(this.botUserId, { id: this.botUserId, username: this.users.get(this.botUserId)!.username, bot: true, permissions: botPermissions });
    const g: GuildState = { spec, roles, channels, members, joinedAt: nowIso(), botPermissions, noAccess: new Set() };
    this.guilds.set(spec.id, g);
    for (const c of channels) c.permission_overwrites = this.botOverwrites(g, c.id);
  }

  private role(id: string, name: string, permissions: bigint, position: number): APIRole {
    return {
      id,
      name,
      color: 0,
      colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
      hoist: false,
      icon: null,
      unicode_emoji: null,
      position,
      permissions: permissions.toString(),
      managed: false,
      mentionable: false,
      flags: 0 as RoleFlags,
    };
  }

  private ensureUser(u: FakeUserSpec): APIUser {
    const existing = this.users.get(u.id);
    if (existing) return existing;
    const user: APIUser = {
      id: u.id,
      username: u.username,
      discriminator: "0",
      global_name: u.globalName ?? null,
      avatar: null,
      ...(u.bot ? { bot: true } : {}),
      flags: 0 as UserFlags,
      public_flags: 0 as UserFlags,
    };
    this.users.set(u.id, user);
    return user;
  }

  /** Resolve a user reference: a member's username or id, a spec, or an unknown id (then a user named user<id>). */
  user(ref: UserRef): APIUser {
    if (typeof ref !== "string") return this.ensureUser(ref);
    const byId = this.users.get(ref);
    if (byId) return byId;
    for (const u of this.users.values()) if (u.username === ref) return u;
    if (/^\d{15,21}$/.test(ref)) return this.ensureUser({ id: ref, username: `user${ref}` });
    throw new Error(`FakeDiscord: unknown user ${JSON.stringify(ref)} (give a member's username or id, or a { id, username } spec)`);
  }
  userId(ref: UserRef): string {
    return this.user(ref).id;
  }
  /** The id of a channel by name (in any guild), or the id itself if it is one. */
  channelId(nameOrId: string): string {
    for (const g of this.guilds.values()) {
      const c = g.channels.find((ch) => ch.name === nameOrId || ch.id === nameOrId);
      if (c) return c.id;
    }
    for (const dm of this.dmChannels.values()) if (dm.id === nameOrId) return dm.id;
    throw new Error(`FakeDiscord: unknown channel ${JSON.stringify(nameOrId)}`);
  }
  /** The first guild's id, or the id of the guild with this name. */
  guildId(name?: string): string {
    for (const g of this.guilds.values()) if (name === undefined || g.spec.name === name || g.spec.id === name) return g.spec.id;
    throw new Error(`FakeDiscord: unknown guild ${JSON.stringify(name)}`);
  }

  private guildOfChannel(channelId: string): GuildState | undefined {
    for (const g of this.guilds.values()) if (g.channels.some((c) => c.id === channelId)) return g;
    return undefined;
  }

  private findChannel(channelId: string): { guild?: GuildState; channel: APIGuildTextChannel<ChannelType.GuildText> | APIDMChannel } | undefined {
    const g = this.guildOfChannel(channelId);
    if (g) return { guild: g, channel: g.channels.find((c) => c.id === channelId)! };
    for (const dm of this.dmChannels.values()) if (dm.id === channelId) return { channel: dm };
    return undefined;
  }

  /** The DM channel between the bot and a user (created on first use). */
  dmChannel(ref: UserRef): APIDMChannel {
    const user = this.user(ref);
    let dm = this.dmChannels.get(user.id);
    if (!dm) {
      dm = { id: snowflake(), type: ChannelType.DM, last_message_id: null, recipients: [user], flags: 0 as ChannelFlags, name: null };
      this.dmChannels.set(user.id, dm);
    }
    return dm;
  }

  // -------------------------------------------------------------------------------------------
  // The bot's permissions

  /**
   * The bot's permissions in a channel as the fake enforces them: its guild permissions (all of
   * them with Administrator), none at all where its access was revoked; in a DM everything.
   */
  botPermissionsIn(channel: string): bigint {
    const id = this.channelId(channel);
    const g = this.guildOfChannel(id);
    return g ? this.botChannelPermissions(g, id) : ALL_PERMISSIONS & ~PermissionFlagsBits.Administrator;
  }

  private botChannelPermissions(g: GuildState, channelId: string): bigint {
    if (g.noAccess.has(channelId)) return 0n;
    return (g.botPermissions & PermissionFlagsBits.Administrator) !== 0n ? ALL_PERMISSIONS : g.botPermissions;
  }

  /**
   * The bot's member overwrite on a channel, so that discord.js's `channel.permissionsFor(me)`
   * (which starts from @everyone, the bot having no role here) agrees with what the fake enforces.
   * `guild.members.me.permissions` still shows @everyone's.
   */
  private botOverwrites(g: GuildState, channelId: string): APIOverwrite[] {
    const wanted = this.botChannelPermissions(g, channelId);
    if ((wanted & PermissionFlagsBits.Administrator) !== 0n) return [];
    const base = BigInt(g.roles[0]!.permissions);
    const allow = wanted & ~base;
    const deny = base & ~wanted;
    return allow === 0n && deny === 0n ? [] : [{ id: this.botUserId, type: OverwriteType.Member, allow: allow.toString(), deny: deny.toString() }];
  }

  /** Recompute the bot's overwrites; CHANNEL_UPDATE for each channel that changed (if the bot is connected). */
  private refreshBotOverwrites(g: GuildState): void {
    for (const c of g.channels) {
      const next = this.botOverwrites(g, c.id);
      if (JSON.stringify(next) === JSON.stringify(c.permission_overwrites)) continue;
      c.permission_overwrites = next;
      if (this.currentSession()) this.dispatch(GatewayDispatchEvents.ChannelUpdate, c);
    }
  }

  /**
   * Set the bot's permissions in one guild (default: every guild), e.g.
   * `BOT_PERMISSIONS & ~PermissionFlagsBits.AttachFiles`. Sends CHANNEL_UPDATE with the bot's
   * member overwrites, as Discord does when a channel's permissions change.
   */
  setBotPermissions(permissions: bigint | string, guildId?: string): void {
    const targets = guildId === undefined ? [...this.guilds.values()] : [this.guildState(guildId)];
    for (const g of targets) {
      g.botPermissions = BigInt(permissions);
      g.members.get(this.botUserId)!.permissions = g.botPermissions;
      this.refreshBotOverwrites(g);
    }
  }

  /**
   * Take the bot's access to a guild channel away (a member overwrite denying View Channel, or the
   * bot removed from the channel): reading, posting, editing or deleting there then gets
   * 403 `50001 Missing Access`. `restoreChannelAccess` gives it back.
   */
  revokeChannelAccess(channel: string): void {
    this.setChannelAccess(channel, false);
  }
  restoreChannelAccess(channel: string): void {
    this.setChannelAccess(channel, true);
  }
  private setChannelAccess(channel: string, access: boolean): void {
    const id = this.channelId(channel);
    const g = this.guildOfChannel(id);
    if (!g) throw new Error(`FakeDiscord: ${channel} is not a guild channel (the bot always has access to its DMs)`);
    if (access) g.noAccess.delete(id);
    else g.noAccess.add(id);
    this.refreshBotOverwrites(g);
  }

  /**
   * A channel the bot may use: 404 10003 if unknown, 403 50001 without View Channel, 403 50013
   * without one of `need` (DMs allow everything).
   */
  private requireChannel(channelId: string, need = 0n): NonNullable<ReturnType<FakeDiscord["findChannel"]>> {
    const place = this.findChannel(channelId);
    if (!place) throw unknownChannel();
    if (!place.guild) return place;
    const p = this.botChannelPermissions(place.guild, channelId);
    if ((p & PermissionFlagsBits.ViewChannel) === 0n) throw new HttpError(403, 50001, "Missing Access");
    if ((need & ~p) !== 0n) throw new HttpError(403, 50013, "Missing Permissions");
    return place;
  }

  private memberPermissions(g: GuildState, m: FakeMemberSpec): bigint {
    if (m.admin || g.spec.ownerId === m.id) return ALL_PERMISSIONS;
    if (m.permissions !== undefined) {
      const p = BigInt(m.permissions);
      return (p & PermissionFlagsBits.Administrator) !== 0n ? ALL_PERMISSIONS : p;
    }
    let p = BigInt(g.roles[0]!.permissions);
    for (const rid of m.roles ?? []) {
      const r = g.roles.find((x) => x.id === rid);
      if (r) p |= BigInt(r.permissions);
    }
    return (p & PermissionFlagsBits.Administrator) !== 0n ? ALL_PERMISSIONS : p;
  }

  private apiMember(g: GuildState, m: FakeMemberSpec): APIGuildMember {
    return {
      user: this.user(m.id),
      nick: m.nick ?? null,
      avatar: null,
      banner: null,
      roles: m.roles ?? [],
      joined_at: g.joinedAt,
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0 as GuildMemberFlags,
      pending: false,
      communication_disabled_until: null,
    };
  }

  private interactionMember(g: GuildState, m: FakeMemberSpec): APIInteractionGuildMember {
    return { ...this.apiMember(g, m), user: this.user(m.id), permissions: this.memberPermissions(g, m).toString() };
  }

  /** Add a member to a guild (sends GUILD_MEMBER_ADD if the bot is connected). */
  addMember(guildId: string, member: FakeMemberSpec): void {
    const g = this.guilds.get(guildId);
    if (!g) throw new Error(`FakeDiscord: unknown guild ${guildId}`);
    g.members.set(member.id, member);
    this.ensureUser(member);
    if (this.currentSession()) this.dispatch(GatewayDispatchEvents.GuildMemberAdd, { ...this.apiMember(g, member), guild_id: guildId });
  }

  private guildCreate(g: GuildState): GatewayGuildCreateDispatchData {
    const guild: APIGuild = {
      id: g.spec.id,
      name: g.spec.name,
      icon: null,
      splash: null,
      discovery_splash: null,
      owner_id: g.spec.ownerId ?? FAKE_IDS.owner,
      afk_channel_id: null,
      afk_timeout: 300,
      widget_enabled: false,
      widget_channel_id: null,
      verification_level: GuildVerificationLevel.None,
      default_message_notifications: GuildDefaultMessageNotifications.OnlyMentions,
      explicit_content_filter: GuildExplicitContentFilter.Disabled,
      roles: g.roles,
      emojis: [],
      features: [],
      mfa_level: GuildMFALevel.None,
      application_id: null,
      system_channel_id: g.channels[0]?.id ?? null,
      system_channel_flags: GuildSystemChannelFlags.SuppressJoinNotificationReplies,
      rules_channel_id: null,
      max_presences: null,
      max_members: 500000,
      vanity_url_code: null,
      description: null,
      banner: null,
      premium_tier: GuildPremiumTier.None,
      premium_subscription_count: 0,
      preferred_locale: Locale.EnglishUS,
      public_updates_channel_id: null,
      max_video_channel_users: 25,
      max_stage_video_channel_users: 50,
      approximate_member_count: g.members.size,
      approximate_presence_count: 0,
      nsfw_level: GuildNSFWLevel.Default,
      stickers: [],
      premium_progress_bar_enabled: false,
      hub_type: null,
      safety_alerts_channel_id: null,
      incidents_data: null,
    };
    return {
      ...guild,
      joined_at: g.joinedAt,
      large: false,
      unavailable: false,
      member_count: g.members.size,
      voice_states: [],
      members: [...g.members.values()].map((m) => this.apiMember(g, m)),
      channels: g.channels,
      threads: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  // -------------------------------------------------------------------------------------------
  // Gateway

  private log(...args: unknown[]): void {
    if (this.verbose) console.error("[fake-discord]", ...args);
  }

  private onGatewayConnection(socket: WebSocket): void {
    const conn: Conn = { socket, session: null };
    this.conns.add(conn);
    socket.on("message", (raw: RawData) => {
      this.onGatewayMessage(conn, raw);
      this.events.emit("change");
    });
    socket.on("close", () => {
      this.conns.delete(conn);
      if (conn.session && conn.session.socket === socket) conn.session.socket = null;
      this.events.emit("change");
    });
    socket.on("error", () => undefined);
    this.send(conn.socket, { op: GatewayOpcodes.Hello, d: { heartbeat_interval: this.heartbeatInterval } });
  }

  private send(socket: WebSocket, frame: Omit<GatewayFrame, "direction">): void {
    const payload = { op: frame.op, d: frame.d ?? null, s: frame.s ?? null, t: frame.t ?? null };
    this.frames.push({ direction: "out", ...payload });
    if (frame.op !== GatewayOpcodes.HeartbeatAck) this.log("gateway >", payload.op, payload.t ?? "");
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(payload));
  }

  private onGatewayMessage(conn: Conn, raw: RawData): void {
    let frame: { op?: unknown; d?: unknown };
    try {
      // ws hands text frames over as a Buffer (its default binaryType, which this server keeps).
      frame = JSON.parse((raw as Buffer).toString()) as { op?: unknown; d?: unknown };
    } catch {
      conn.socket.close(4002, "Error while decoding payload.");
      return;
    }
    const op = typeof frame.op === "number" ? frame.op : -1;
    this.frames.push({ direction: "in", op, d: frame.d });
    if (op !== GatewayOpcodes.Heartbeat) this.log("gateway <", op);
    const d = isRecord(frame.d) ? frame.d : {};
    switch (op) {
      case GatewayOpcodes.Heartbeat:
        this.heartbeats++;
        this.send(conn.socket, { op: GatewayOpcodes.HeartbeatAck });
        return;
      case GatewayOpcodes.Identify: {
        if (conn.session) return void conn.socket.close(4005, "Already authenticated.");
        if (d.token !== this.token) return void conn.socket.close(4004, FATAL_CLOSE_CODES[4004]);
        if (this.identifyFailure) return void conn.socket.close(this.identifyFailure.code, this.identifyFailure.reason);
        const intents = typeof d.intents === "number" ? d.intents : 0;
        if ((intents & ~KNOWN_INTENTS) !== 0) return void conn.socket.close(4013, FATAL_CLOSE_CODES[4013]);
        if ((intents & PRIVILEGED_INTENTS & ~this.privilegedIntents) !== 0) return void conn.socket.close(4014, FATAL_CLOSE_CODES[4014]);
        this.identifies.push(d);
        const session: Session = { id: token(16), seq: 0, buffer: [], socket: conn.socket, intents: typeof d.intents === "number" ? d.intents : 0 };
        // One bot, one session: an older session is gone.
        for (const old of this.sessions.values()) if (old.socket && old.socket !== conn.socket) old.socket.close(4009, "Session timed out.");
        this.sessions.clear();
        this.sessions.set(session.id, session);
        conn.session = session;
        const ready: GatewayReadyDispatchData = {
          v: 10,
          user: { ...this.users.get(this.botUserId)!, verified: true, mfa_enabled: false },
          guilds: [...this.guilds.keys()].map((id) => ({ id, unavailable: true })),
          session_id: session.id,
          resume_gateway_url: this.gatewayUrl,
          shard: Array.isArray(d.shard) ? (d.shard as [number, number]) : [0, 1],
          application: {
            id: this.applicationId,
            flags: ApplicationFlags.GatewayMessageContentLimited,
            flags_new: String(ApplicationFlags.GatewayMessageContentLimited),
          },
        };
        this.dispatchTo(session, GatewayDispatchEvents.Ready, ready);
        // discord.js handles each frame in an async function; a GUILD_CREATE processed before READY
        // would leave the client waiting 15 s for it. Sending both in one tick worked with 14.28,
        // but real Discord has latency here and a short pause costs nothing.
        setTimeout(() => {
          if (this.closed || session.socket !== conn.socket) return;
          for (const g of this.guilds.values()) this.dispatchTo(session, GatewayDispatchEvents.GuildCreate, this.guildCreate(g));
          this.events.emit("guilds-sent");
        }, 20);
        return;
      }
      case GatewayOpcodes.Resume: {
        this.resumes.push(d);
        if (d.token !== this.token) return void conn.socket.close(4004, FATAL_CLOSE_CODES[4004]);
        const session = typeof d.session_id === "string" ? this.sessions.get(d.session_id) : undefined;
        if (!session) {
          this.send(conn.socket, { op: GatewayOpcodes.InvalidSession, d: false });
          return;
        }
        if (session.socket && session.socket !== conn.socket) session.socket.close(4009, "Session timed out.");
        session.socket = conn.socket;
        conn.session = session;
        const from = typeof d.seq === "number" ? d.seq : 0;
        for (const f of session.buffer) if ((f.s ?? 0) > from) this.send(conn.socket, f);
        this.dispatchTo(session, GatewayDispatchEvents.Resumed, {});
        return;
      }
      case GatewayOpcodes.RequestGuildMembers: {
        const session = conn.session;
        if (!session) return void conn.socket.close(4003, "Not authenticated.");
        const guildIds = Array.isArray(d.guild_id) ? (d.guild_id as string[]) : [String(d.guild_id)];
        for (const gid of guildIds) {
          const g = this.guilds.get(gid);
          if (!g) continue;
          const ids = Array.isArray(d.user_ids) ? (d.user_ids as string[]) : typeof d.user_ids === "string" ? [d.user_ids] : null;
          const query = typeof d.query === "string" ? d.query.toLowerCase() : "";
          const limit = typeof d.limit === "number" && d.limit > 0 ? d.limit : Infinity;
          const members = [...g.members.values()]
            .filter((m) => (ids ? ids.includes(m.id) : m.username.toLowerCase().startsWith(query) || (m.nick ?? "").toLowerCase().startsWith(query)))
            .slice(0, limit)
            .map((m) => this.apiMember(g, m));
          const chunk: GatewayGuildMembersChunkDispatchData = {
            guild_id: gid,
            members,
            chunk_index: 0,
            chunk_count: 1,
            ...(ids ? { not_found: ids.filter((id) => !g.members.has(id)) } : {}),
            ...(typeof d.nonce === "string" ? { nonce: d.nonce } : {}),
          };
          this.dispatchTo(session, GatewayDispatchEvents.GuildMembersChunk, chunk);
        }
        return;
      }
      case GatewayOpcodes.PresenceUpdate:
      case GatewayOpcodes.VoiceStateUpdate:
        if (!conn.session) conn.socket.close(4003, "Not authenticated.");
        return;
      default:
        conn.socket.close(4001, "Unknown opcode.");
    }
  }

  private dispatchTo(session: Session, t: string, d: unknown): void {
    const frame: GatewayFrame = { direction: "out", op: GatewayOpcodes.Dispatch, t, s: ++session.seq, d };
    session.buffer.push(frame);
    if (session.buffer.length > 1000) session.buffer.shift();
    if (session.socket) this.send(session.socket, frame);
  }

  private currentSession(): Session | undefined {
    return [...this.sessions.values()][0];
  }

  /** Send any dispatch event (e.g. GUILD_MEMBER_ADD) to the bot's session. */
  dispatch(t: string, d: unknown): void {
    const session = this.currentSession();
    if (!session) throw new Error("FakeDiscord: no bot has identified on the gateway yet");
    this.dispatchTo(session, t, d);
  }

  /** Resolves once a bot has identified and been sent every GUILD_CREATE. */
  async connected(ms = 10000): Promise<void> {
    if (this.currentSession() && this.frames.some((f) => f.t === GatewayDispatchEvents.GuildCreate)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`FakeDiscord: no bot connected within ${ms} ms`)), ms);
      this.events.once("guilds-sent", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Close every gateway connection with a close code. What discord.js 14.28 (@discordjs/ws 1.2.3,
   * WebSocketShard.onClose) does with it:
   * - after 500 ms it resumes on 4000, 4001, 4002, 4009 and unknown codes, and re-identifies (new
   *   session) on 1000, 4003, 4005, 4007, 4008;
   * - 4004, 4010, 4011, 4012, 4013, 4014 (FATAL_CLOSE_CODES): no reconnect at all. The shard
   *   emits an error ("Authentication failed", "Invalid shard", "Sharding is required", "Used an
   *   invalid API version", "Used invalid intents", "Used disallowed intents"), which the client
   *   re-emits as `shardError`, and the client emits `shardDisconnect` ({ code }). No `error`
   *   event, no rejection anywhere after login: a bot that only listens to `error` sees nothing,
   *   and with no other handle open the process exits 0. During `login()` the same codes make
   *   `login()` reject with that error.
   */
  dropConnection(code = 4000, reason: string = code in FATAL_CLOSE_CODES ? FATAL_CLOSE_CODES[code as FatalCloseCode] : "Dropped by FakeDiscord"): void {
    for (const conn of this.conns) conn.socket.close(code, reason);
  }

  /**
   * Make every later IDENTIFY fail: the connection is closed with `code` (e.g. 4014 disallowed
   * intents, 4011 sharding required). `null` lets them succeed again. RESUMEs are unaffected
   * (use resetToken for a 4004 on both).
   */
  failIdentify(
    code: number | null = 4004,
    reason: string = code !== null && code in FATAL_CLOSE_CODES ? FATAL_CLOSE_CODES[code as FatalCloseCode] : "Identify refused by FakeDiscord",
  ): void {
    this.identifyFailure = code === null ? null : { code, reason };
  }

  /**
   * A new bot token (like "Reset Token" in the developer portal); returns it. The old token gets
   * REST 401 and, on IDENTIFY or RESUME, close code 4004. A live session keeps running until it
   * reconnects; `dropConnection(4004)` ends it at once.
   */
  resetToken(): string {
    const idPart = Buffer.from(this.botUserId).toString("base64url");
    this.tokenValue = `${idPart}.${token(4)}.${token(27)}`;
    return this.tokenValue;
  }

  /** Open gateway connections (identified or not). */
  get gatewayConnections(): number {
    return this.conns.size;
  }

  /** Ask the bot to reconnect and resume (op 7). */
  requestReconnect(): void {
    for (const conn of this.conns) this.send(conn.socket, { op: GatewayOpcodes.Reconnect });
  }

  // -------------------------------------------------------------------------------------------
  // Interactions

  /** Send INTERACTION_CREATE to the bot and return the recorder of its answers. */
  interact(input: InteractInput): FakeInteraction {
    const session = this.currentSession();
    if (!session) throw new Error("FakeDiscord: no bot has identified on the gateway yet");
    const interaction = this.buildInteraction(input);
    interaction.dispatchedAt = Date.now();
    this.dispatchTo(session, GatewayDispatchEvents.InteractionCreate, interaction.payload);
    return interaction;
  }

  /**
   * Many interactions at once (e.g. 150 users pressing a button together): every payload is built
   * first, then all INTERACTION_CREATE frames are written back to back in one tick, so the bot
   * receives them as one burst. Each one's 3 s deadline counts from its own dispatch.
   */
  interactMany(inputs: InteractInput[]): FakeInteraction[] {
    const session = this.currentSession();
    if (!session) throw new Error("FakeDiscord: no bot has identified on the gateway yet");
    const built = inputs.map((input) => this.buildInteraction(input));
    for (const interaction of built) {
      interaction.dispatchedAt = Date.now();
      this.dispatchTo(session, GatewayDispatchEvents.InteractionCreate, interaction.payload);
    }
    return built;
  }

  private buildInteraction(input: InteractInput): FakeInteraction {
    const user = this.user(input.user);
    const { guild, channelId } = this.placeOf(input, user);
    if (!isComponentInput(input)) this.checkOffered(input.name, guild, user);
    const id = snowflake();
    const interactionToken = `aW50ZXJhY3Rpb246${id}${token(48)}`;
    const base = {
      id,
      application_id: this.applicationId,
      token: interactionToken,
      version: 1 as const,
      app_permissions: (guild ? this.botChannelPermissions(guild, channelId) : ALL_PERMISSIONS & ~PermissionFlagsBits.Administrator).toString(),
      locale: (input.locale ?? Locale.EnglishUS) as Locale,
      entitlements: [],
      attachment_size_limit: 10 * 1024 * 1024,
      channel_id: channelId,
      ...(guild
        ? {
            guild_id: guild.spec.id,
            guild: { id: guild.spec.id, locale: Locale.EnglishUS, features: [] },
            guild_locale: Locale.EnglishUS,
            member: this.interactionMember(guild, this.memberOf(guild, user)),
            channel: this.interactionChannel(guild, channelId),
            authorizing_integration_owners: { [ApplicationIntegrationType.GuildInstall]: guild.spec.id },
            context: InteractionContextType.Guild,
          }
        : {
            user,
            channel: this.dmChannel(user),
            authorizing_integration_owners: { [ApplicationIntegrationType.GuildInstall]: "0" },
            context: InteractionContextType.BotDM,
          }),
    };

    let payload: APIInteraction;
    let componentMessageId: string | undefined;
    if (isComponentInput(input)) {
      const message = this.componentMessage(input, channelId, guild);
      componentMessageId = message.id;
      const data =
        input.type === "button"
          ? { custom_id: input.customId, component_type: ComponentType.Button as const }
          : { custom_id: input.customId, component_type: ComponentType.StringSelect as const, values: input.values ?? [] };
      const p: APIMessageComponentInteraction = { ...base, type: InteractionType.MessageComponent, data, message };
      payload = p;
    } else {
      const { options, resolved } = this.commandOptions(input, guild);
      const commandId = this.commandIdFor(input.name, guild?.spec.id);
      if (input.type === "autocomplete") {
        const p: APIApplicationCommandAutocompleteInteraction = {
          ...base,
          type: InteractionType.ApplicationCommandAutocomplete,
          data: { id: commandId, name: input.name, type: ApplicationCommandType.ChatInput, options, ...(resolved ? { resolved } : {}) },
        };
        payload = p;
      } else {
        const p: APIChatInputApplicationCommandInteraction = {
          ...base,
          type: InteractionType.ApplicationCommand,
          data: { id: commandId, name: input.name, type: ApplicationCommandType.ChatInput, options, ...(resolved ? { resolved } : {}) },
        };
        payload = p;
      }
    }
    const interaction = new FakeInteraction(this, payload, componentMessageId);
    this.interactions.push(interaction);
    this.interactionsById.set(id, interaction);
    this.interactionsByToken.set(interactionToken, interaction);
    return interaction;
  }

  /** Shorthands for interact. */
  command(input: Omit<CommandInput, "type">): FakeInteraction {
    return this.interact({ ...input, type: "command" });
  }
  autocomplete(input: Omit<AutocompleteInput, "type">): FakeInteraction {
    return this.interact({ ...input, type: "autocomplete" });
  }
  button(input: Omit<ComponentInput, "type" | "values">): FakeInteraction {
    return this.interact({ ...input, type: "button" });
  }

  private placeOf(input: InteractInput, user: APIUser): { guild?: GuildState; channelId: string } {
    if (input.guildId === null) {
      const dm = this.dmChannel(user);
      return { channelId: input.channelId ?? dm.id };
    }
    if (input.channelId) {
      const channelId = this.channelId(input.channelId);
      const guild = input.guildId ? this.guilds.get(input.guildId) : this.guildOfChannel(channelId);
      if (input.guildId && !guild) throw new Error(`FakeDiscord: unknown guild ${input.guildId}`);
      if (!guild && ![...this.dmChannels.values()].some((c) => c.id === channelId)) throw new Error(`FakeDiscord: unknown channel ${channelId}`);
      return guild ? { guild, channelId } : { channelId };
    }
    const guild = input.guildId ? this.guilds.get(input.guildId) : this.guilds.values().next().value;
    if (!guild || !guild.channels[0]) throw new Error("FakeDiscord: no guild channel to interact in; give channelId");
    return { guild, channelId: guild.channels[0].id };
  }

  private memberOf(guild: GuildState, user: APIUser): FakeMemberSpec {
    let m = guild.members.get(user.id);
    if (!m) {
      // Interacting makes an unknown user a member (they must be one to use the command).
      m = { id: user.id, username: user.username, ...(user.global_name ? { globalName: user.global_name } : {}) };
      guild.members.set(user.id, m);
    }
    return m;
  }

  private interactionChannel(guild: GuildState, channelId: string) {
    const c = guild.channels.find((ch) => ch.id === channelId)!;
    return {
      id: c.id,
      type: ChannelType.GuildText as const,
      name: c.name ?? "",
      guild_id: guild.spec.id,
      permissions: ALL_PERMISSIONS.toString(),
      parent_id: null,
      position: c.position,
      nsfw: false,
      topic: null,
      last_message_id: null,
      rate_limit_per_user: 0,
      flags: 0 as ChannelFlags,
      permission_overwrites: [],
    } satisfies APIInteractionDataResolvedChannel & Partial<APIGuildTextChannel<ChannelType.GuildText>>;
  }

  /**
   * Discord's client offers a registered command only where its `contexts` allow (a global
   * command without BotDM is not offered in DMs) and, in a server, only to members who have its
   * `default_member_permissions`: an interaction no client could send is a test's mistake.
   */
  private checkOffered(name: string, guild: GuildState | undefined, user: APIUser): void {
    const find = (scope: string) => this.commands.get(scope)?.find((c) => c.name === name && c.type === ApplicationCommandType.ChatInput);
    if (!guild) {
      const global = find("global");
      if (global?.contexts && !global.contexts.includes(InteractionContextType.BotDM)) {
        throw new Error(`FakeDiscord: /${name} is not offered in DMs (its contexts are ${JSON.stringify(global.contexts)})`);
      }
      return;
    }
    const registered = find(guild.spec.id) ?? find("global");
    const need = registered?.default_member_permissions;
    if (need && (this.memberPermissions(guild, this.memberOf(guild, user)) & BigInt(need)) !== BigInt(need)) {
      throw new Error(`FakeDiscord: /${name} is not offered to ${user.username}: it needs the permissions ${need} (default_member_permissions)`);
    }
  }

  private commandIdFor(name: string, guildId: string | undefined): string {
    const find = (scope: string) => this.commands.get(scope)?.find((c) => c.name === name && c.type === ApplicationCommandType.ChatInput)?.id;
    return (guildId ? find(guildId) : undefined) ?? find("global") ?? this.stableCommandId("unregistered", ApplicationCommandType.ChatInput, name);
  }

  private stableCommandId(scope: string, type: number, name: string): string {
    const key = `${scope}:${type}:${name}`;
    let id = this.commandIds.get(key);
    if (!id) {
      id = snowflake();
      this.commandIds.set(key, id);
    }
    return id;
  }

  private commandOptions(
    input: CommandInput | AutocompleteInput,
    guild: GuildState | undefined,
  ): { options: APIApplicationCommandInteractionDataOption[]; resolved?: APIChatInputApplicationCommandInteractionDataResolved } {
    const given = input.options ?? [];
    let focusedIndex = -1;
    if (input.type === "autocomplete") {
      focusedIndex = given.findIndex((o) => o.focused === true);
      if (focusedIndex < 0 && input.focused !== undefined) focusedIndex = given.findIndex((o) => o.name === input.focused);
      if (focusedIndex < 0) focusedIndex = given.length - 1;
      if (focusedIndex < 0) throw new Error("FakeDiscord: an autocomplete interaction needs at least one option (the focused one)");
    }
    const resolved: APIChatInputApplicationCommandInteractionDataResolved = {};
    const leaves = given.map((o, i): APIApplicationCommandInteractionDataOption => {
      const focused = i === focusedIndex;
      switch (o.type) {
        case ApplicationCommandOptionType.User:
        case ApplicationCommandOptionType.Mentionable: {
          const value = String(o.value);
          const role = guild?.roles.find((r) => r.id === value);
          if (role && o.type === ApplicationCommandOptionType.Mentionable) {
            (resolved.roles ??= {})[role.id] = role;
          } else if (!focused) {
            const u = this.user(value);
            (resolved.users ??= {})[u.id] = u;
            const m = guild?.members.get(u.id);
            if (guild && m) {
              const { user: _user, deaf: _d, mute: _m, ...rest } = this.interactionMember(guild, m);
              const member: APIInteractionDataResolvedGuildMember = rest;
              (resolved.members ??= {})[u.id] = member;
            }
          }
          return focused
            ? { name: o.name, type: o.type as ApplicationCommandOptionType.String, value, focused: true }
            : { name: o.name, type: o.type as ApplicationCommandOptionType.User, value };
        }
        case ApplicationCommandOptionType.Channel: {
          const value = String(o.value);
          const place = this.findChannel(value);
          if (!focused && place?.guild) (resolved.channels ??= {})[value] = this.interactionChannel(place.guild, value);
          return focused
            ? { name: o.name, type: ApplicationCommandOptionType.String, value, focused: true }
            : { name: o.name, type: ApplicationCommandOptionType.Channel, value };
        }
        case ApplicationCommandOptionType.Role: {
          const value = String(o.value);
          const role = guild?.roles.find((r) => r.id === value);
          if (!focused && role) (resolved.roles ??= {})[role.id] = role;
          return focused
            ? { name: o.name, type: ApplicationCommandOptionType.String, value, focused: true }
            : { name: o.name, type: ApplicationCommandOptionType.Role, value };
        }
        case ApplicationCommandOptionType.Integer:
        case ApplicationCommandOptionType.Number:
          // While typing (focused), Discord sends the raw text.
          if (focused) return { name: o.name, type: o.type as ApplicationCommandOptionType.String, value: String(o.value), focused: true };
          return { name: o.name, type: o.type, value: Number(o.value) };
        case ApplicationCommandOptionType.Boolean:
          return { name: o.name, type: ApplicationCommandOptionType.Boolean, value: o.value === true || o.value === "true" };
        case ApplicationCommandOptionType.String:
        default:
          return focused
            ? { name: o.name, type: ApplicationCommandOptionType.String, value: String(o.value), focused: true }
            : { name: o.name, type: ApplicationCommandOptionType.String, value: String(o.value) };
      }
    });
    let options: APIApplicationCommandInteractionDataOption[] = leaves;
    if (input.subcommand !== undefined) {
      options = [{ name: input.subcommand, type: ApplicationCommandOptionType.Subcommand, options: leaves as never }];
      if (input.group !== undefined) {
        options = [{ name: input.group, type: ApplicationCommandOptionType.SubcommandGroup, options: options as never }];
      }
    } else if (input.group !== undefined) {
      throw new Error("FakeDiscord: a subcommand group needs a subcommand");
    }
    const any = resolved.users || resolved.members || resolved.roles || resolved.channels;
    return any ? { options, resolved } : { options };
  }

  private componentMessage(input: ComponentInput, channelId: string, guild: GuildState | undefined): APIMessage {
    if (typeof input.message === "object") return input.message;
    if (typeof input.message === "string") {
      const stored = this.messages.get(input.message);
      if (!stored || stored.deleted) throw new Error(`FakeDiscord: unknown message ${input.message}`);
      return stored.message;
    }
    const carries = (components: unknown): boolean =>
      Array.isArray(components) &&
      components.some(
        (c) => isRecord(c) && (c.custom_id === input.customId || carries(c.components) || (isRecord(c.accessory) && c.accessory.custom_id === input.customId)),
      );
    const found = [...this.messages.values()].reverse().find((m) => !m.deleted && m.message.channel_id === channelId && carries(m.message.components));
    if (found) return found.message;
    // A synthetic message by the bot carrying the component.
    const component =
      input.type === "button"
        ? { type: ComponentType.Button, style: 1, label: input.customId, custom_id: input.customId }
        : { type: ComponentType.StringSelect, custom_id: input.customId, options: (input.values ?? []).map((v) => ({ label: v, value: v })) };
    const message = this.newMessage(channelId, guild?.spec.id, { content: "", components: [{ type: ComponentType.ActionRow, components: [component] }] }, {});
    this.messages.set(message.id, { message, ...(guild ? { guildId: guild.spec.id } : {}), posted: false, deleted: false });
    return message;
  }

  // -------------------------------------------------------------------------------------------
  // Messages

  /** @internal */
  storedMessage(id: string): StoredMessage | undefined {
    return this.messages.get(id);
  }

  /** A message by id (any message the fake knows, deleted ones excluded). */
  message(id: string): APIMessage | undefined {
    const m = this.messages.get(id);
    return m && !m.deleted ? m.message : undefined;
  }

  /** Every message the fake holds (posted, interaction replies and follow-ups), edits applied, deletions removed. */
  allMessages(): APIMessage[] {
    return [...this.messages.values()].filter((m) => !m.deleted).map((m) => m.message);
  }

  /** Messages posted with POST /channels/{id}/messages to this channel (id or name), edits applied, deletions removed. */
  channelMessages(channel: string): APIMessage[] {
    const id = this.channelId(channel);
    return (this.channelLists.get(id) ?? [])
      .map((mid) => this.messages.get(mid))
      .filter((m): m is StoredMessage => m !== undefined && !m.deleted)
      .map((m) => m.message);
  }

  /** Wait until `check` returns something other than undefined/false (re-checked after every REST request or interaction). */
  waitFor<T>(check: () => T | undefined | false | null, ms = 5000, what = "condition"): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const tryIt = (): boolean => {
        const v = check();
        if (v !== undefined && v !== false && v !== null) {
          resolve(v);
          return true;
        }
        return false;
      };
      if (tryIt()) return;
      const onChange = () => {
        if (tryIt()) cleanup();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`FakeDiscord: ${what} not met within ${ms} ms`));
      }, ms);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off("change", onChange);
      };
      this.events.on("change", onChange);
    });
  }

  /** Wait for a message posted to a channel that matches (default: any new one). */
  waitForChannelMessage(channel: string, match: (m: APIMessage) => boolean = () => true, ms = 5000): Promise<APIMessage> {
    return this.waitFor(() => this.channelMessages(channel).find(match), ms, `a matching message in ${channel}`);
  }

  private newMessage(channelId: string, guildId: string | undefined, body: Json, extra: Partial<APIMessage>): APIMessage {
    const content = typeof body.content === "string" ? body.content : "";
    const mentions = mentionedUserIds(content)
      .map((id) => this.users.get(id))
      .filter((u): u is APIUser => u !== undefined);
    const message: APIMessage & { guild_id?: string } = {
      id: snowflake(),
      channel_id: channelId,
      ...(guildId ? { guild_id: guildId } : {}),
      author: this.users.get(this.botUserId)!,
      content,
      timestamp: nowIso(),
      edited_timestamp: null,
      tts: body.tts === true,
      mention_everyone: false,
      mentions,
      mention_roles: [],
      attachments: this.attachments(body),
      embeds: Array.isArray(body.embeds) ? (body.embeds as APIEmbed[]) : [],
      ...(Array.isArray(body.components) ? { components: body.components as APIMessageTopLevelComponent[] } : { components: [] }),
      pinned: false,
      type: MessageType.Default,
      flags: typeof body.flags === "number" ? body.flags : 0,
      ...extra,
    };
    if (isRecord(body.message_reference) && typeof body.message_reference.message_id === "string") {
      message.type = MessageType.Reply;
      message.message_reference = { type: 0, message_id: body.message_reference.message_id, channel_id: channelId, ...(guildId ? { guild_id: guildId } : {}) };
    }
    return message;
  }

  private attachments(body: Json): APIAttachment[] {
    // The files of the request being handled, given to the first message that takes them.
    const files = (body as { __files?: UploadedFile[] }).__files ?? this.requestFiles;
    this.requestFiles = [];
    return files.map((f) => {
      const id = snowflake();
      this.attachmentBytes.set(id, f.data);
      return {
        id,
        filename: f.filename,
        size: f.size,
        url: `https://cdn.fake.invalid/attachments/${f.filename}`,
        proxy_url: `https://media.fake.invalid/attachments/${f.filename}`,
        content_type: f.contentType,
      };
    });
  }

  /** The bytes uploaded for an attachment (multipart `files[n]`), by the attachment or its id. */
  attachmentData(attachment: APIAttachment | string): Buffer | undefined {
    return this.attachmentBytes.get(typeof attachment === "string" ? attachment : attachment.id);
  }

  private applyEdit(stored: StoredMessage, body: Json): void {
    const m = stored.message;
    if ("content" in body) m.content = typeof body.content === "string" ? body.content : "";
    if ("embeds" in body) m.embeds = Array.isArray(body.embeds) ? (body.embeds as APIEmbed[]) : [];
    if ("components" in body) m.components = Array.isArray(body.components) ? (body.components as APIMessageTopLevelComponent[]) : [];
    const files = this.attachments(body);
    if ("attachments" in body || files.length) {
      const keep = Array.isArray(body.attachments) ? (body.attachments as Json[]).map((a) => String(a.id)) : [];
      m.attachments = [...m.attachments.filter((a) => keep.includes(a.id)), ...files];
    }
    const editable = MessageFlags.SuppressEmbeds | MessageFlags.IsComponentsV2;
    let flags = (m.flags ?? 0) & ~MessageFlags.Loading;
    if (typeof body.flags === "number") flags = (flags & ~editable) | (body.flags & editable);
    m.flags = flags;
    m.mentions = mentionedUserIds(m.content)
      .map((id) => this.users.get(id))
      .filter((u): u is APIUser => u !== undefined);
    m.edited_timestamp = nowIso();
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    const query = Object.fromEntries(url.searchParams);
    const raw = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => resolve(Buffer.concat(chunks)));
      req.on("error", () => resolve(Buffer.concat(chunks)));
    });
    const record: RecordedRequest = { method, path: url.pathname.replace(/^\/api\/v10/, ""), query, body: undefined, status: 0, at: Date.now() };
    let status = 200;
    let out: unknown;
    try {
      record.body = await this.parseBody(req.headers["content-type"], raw);
      // Handlers spread bodies (which drops the hidden file list): the request's files wait here.
      this.requestFiles = isRecord(record.body) ? ((record.body as { __files?: UploadedFile[] }).__files ?? []) : [];
      if (!url.pathname.startsWith("/api/v10/")) throw new HttpError(404, 0, "404: Not Found");
      const result = this.route(method, record.path, query, record.body, req.headers.authorization);
      if (result === undefined) {
        status = 204;
      } else {
        status = result.status ?? 200;
        out = result.body;
      }
    } catch (e) {
      if (!(e instanceof HttpError)) {
        console.error("[fake-discord] internal error on", method, record.path, e);
      }
      const err = e instanceof HttpError ? e : new HttpError(400, 0, `FakeDiscord internal error: ${(e as Error).message}`);
      status = err.status;
      out = { message: err.message, code: err.code, ...(err.errors ? { errors: err.errors } : {}) };
      const rec: RecordedError = { method, path: record.path, status, code: err.code, message: err.message };
      this.errors.push(rec);
      if (err instanceof UnknownRoute) this.unhandled.push(record);
      const interaction = this.interactionOfPath(record.path);
      interaction?.recordError(rec);
    }
    this.requestFiles = [];
    record.status = status;
    this.requests.push(record);
    this.log("http", method, record.path, status);
    if (status === 204) {
      res.writeHead(204);
      res.end();
    } else {
      const text = JSON.stringify(out);
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    }
    this.events.emit("change");
  }

  private async parseBody(contentType: string | undefined, raw: Buffer): Promise<unknown> {
    if (raw.length === 0) return undefined;
    const ct = contentType ?? "";
    if (ct.startsWith("application/json")) {
      try {
        return JSON.parse(raw.toString("utf8")) as unknown;
      } catch {
        throw new HttpError(400, 50109, "The request body contains invalid JSON.");
      }
    }
    if (ct.startsWith("multipart/form-data")) {
      const form = await new Response(raw, { headers: { "content-type": ct } }).formData();
      let body: Json = {};
      const files: UploadedFile[] = [];
      for (const [key, value] of form.entries()) {
        if (key === "payload_json" && typeof value === "string") body = { ...body, ...(JSON.parse(value) as Json) };
        else if (typeof value !== "string") {
          const m = /^files\[(\d+)\]$/.exec(key);
          const data = Buffer.from(await value.arrayBuffer());
          files.push({
            index: m ? Number(m[1]) : files.length,
            filename: value.name,
            size: value.size,
            contentType: value.type || "application/octet-stream",
            data,
          });
        } else body[key] = value;
      }
      if (files.length) Object.defineProperty(body, "__files", { value: files, enumerable: false });
      return body;
    }
    return raw.toString("utf8");
  }

  private interactionOfPath(path: string): FakeInteraction | undefined {
    const cb = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path);
    if (cb) return this.interactionsById.get(cb[1]!);
    const wh = /^\/webhooks\/\d+\/([^/]+)/.exec(path);
    if (wh) return this.interactionsByToken.get(wh[1]!);
    return undefined;
  }

  private requireAuth(auth: string | undefined): void {
    if (auth !== `Bot ${this.token}`) throw new HttpError(401, 0, "401: Unauthorized");
  }

  private route(
    method: string,
    path: string,
    query: Record<string, string>,
    body: unknown,
    auth: string | undefined,
  ): { status?: number; body: unknown } | undefined {
    const b: Json = isRecord(body) ? body : {};
    const seg = path
      .split("/")
      .filter(Boolean)
      .map((x) => decodeURIComponent(x));
    const is = (m: string, pattern: string): boolean => {
      if (m !== method) return false;
      const p = pattern.split("/").filter(Boolean);
      return p.length === seg.length && p.every((x, i) => x.startsWith(":") || x === seg[i]);
    };
    const ok = (value: unknown) => ({ body: value });

    // Interactions (no bot auth: the interaction token is the credential).
    if (is("POST", "/interactions/:id/:token/callback")) return this.interactionCallback(seg[1]!, seg[2]!, b, query.with_response === "true");
    if (seg[0] === "webhooks" && seg.length >= 3) {
      const [, appId, whToken, sub, messageId] = seg;
      if (appId !== this.applicationId) throw new HttpError(404, 10015, "Unknown Webhook");
      const interaction = this.interactionsByToken.get(whToken!);
      if (!interaction) throw new HttpError(404, 10015, "Unknown Webhook");
      // The token works for 15 minutes after dispatch (and, see requireCallback, only once acknowledged).
      if (Date.now() - interaction.dispatchedAt > this.tokenTtlMs) throw new HttpError(401, 50027, "Invalid Webhook Token");
      if (seg.length === 3 && method === "POST") return ok(this.followup(interaction, b));
      if (sub === "messages" && messageId && seg.length === 5) {
        if (method === "GET") return ok(this.webhookMessage(interaction, messageId).message);
        if (method === "PATCH") return ok(this.webhookEdit(interaction, messageId, b));
        if (method === "DELETE") return void this.webhookDelete(interaction, messageId);
      }
      throw new UnknownRoute();
    }

    this.requireAuth(auth);
    if (is("GET", "/gateway/bot")) {
      const result: RESTGetAPIGatewayBotResult = {
        url: this.gatewayUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
      };
      return ok(result);
    }
    if (is("GET", "/users/@me")) return ok(this.users.get(this.botUserId));
    if (is("GET", "/users/:id")) {
      const u = this.users.get(seg[1]!);
      if (!u) throw new HttpError(404, 10013, "Unknown User");
      return ok(u);
    }
    if (is("POST", "/users/@me/channels")) {
      const recipient = typeof b.recipient_id === "string" ? this.users.get(b.recipient_id) : undefined;
      if (!recipient) throw formError(fieldError(["recipient_id"], "BASE_TYPE_REQUIRED", "This field is required"));
      return ok(this.dmChannel(recipient.id));
    }
    if (is("GET", "/applications/@me")) return ok(this.application());

    // Application commands.
    const cmd = this.commandRoute(method, seg, body, b);
    if (cmd !== null) return cmd;

    // Guilds.
    if (is("GET", "/guilds/:id")) return ok(this.restGuild(seg[1]!));
    if (is("GET", "/guilds/:id/channels")) return ok(this.guildState(seg[1]!).channels);
    if (is("GET", "/guilds/:id/roles")) return ok(this.guildState(seg[1]!).roles);
    if (is("GET", "/guilds/:id/members/:user")) {
      const g = this.guildState(seg[1]!);
      const m = g.members.get(seg[3]!);
      if (!m) throw new HttpError(404, 10007, "Unknown Member");
      return ok(this.apiMember(g, m));
    }
    if (is("GET", "/guilds/:id/members")) {
      const g = this.guildState(seg[1]!);
      return ok([...g.members.values()].map((m) => this.apiMember(g, m)));
    }

    // Channels and messages.
    if (is("GET", "/channels/:id")) return ok(this.requireChannel(seg[1]!).channel);
    if (is("POST", "/channels/:id/typing")) {
      this.requireChannel(seg[1]!, PermissionFlagsBits.SendMessages);
      return undefined;
    }
    if (is("POST", "/channels/:id/messages")) return ok(this.postChannelMessage(seg[1]!, b));
    if (is("GET", "/channels/:id/messages")) {
      this.requireChannel(seg[1]!);
      const limit = Number(query.limit ?? 50);
      return ok(this.channelMessages(seg[1]!).slice().reverse().slice(0, limit));
    }
    if (is("GET", "/channels/:id/messages/:mid")) {
      this.requireChannel(seg[1]!);
      return ok(this.channelMessage(seg[1]!, seg[3]!).message);
    }
    if (is("PATCH", "/channels/:id/messages/:mid")) {
      // New files on an edit need Attach Files too (Discord checks uploads the same way on edit).
      this.requireChannel(seg[1]!, this.requestFiles.length > 0 ? PermissionFlagsBits.AttachFiles : 0n);
      const stored = this.channelMessage(seg[1]!, seg[3]!);
      if (stored.message.author.id !== this.botUserId) throw new HttpError(403, 50005, "Cannot edit a message authored by another user");
      if ((stored.message.flags ?? 0) & MessageFlags.Ephemeral) throw unknownMessage();
      validateMessageBody(b, false);
      this.applyEdit(stored, b);
      if (stored.interactionId)
        this.interactionsById.get(stored.interactionId)?.record({ kind: "edit", messageId: stored.message.id, data: b, at: Date.now() });
      return ok(stored.message);
    }
    if (is("DELETE", "/channels/:id/messages/:mid")) {
      this.requireChannel(seg[1]!);
      const stored = this.channelMessage(seg[1]!, seg[3]!);
      if (stored.message.author.id !== this.botUserId) this.requireChannel(seg[1]!, PermissionFlagsBits.ManageMessages);
      stored.deleted = true;
      if (stored.interactionId) this.interactionsById.get(stored.interactionId)?.record({ kind: "delete", messageId: stored.message.id, at: Date.now() });
      return undefined;
    }
    throw new UnknownRoute();
  }

  private guildState(id: string): GuildState {
    const g = this.guilds.get(id);
    if (!g) throw new HttpError(404, 10004, "Unknown Guild");
    return g;
  }

  private restGuild(id: string): APIGuild {
    const {
      joined_at: _j,
      large: _l,
      unavailable: _u,
      member_count: _m,
      voice_states: _v,
      members: _ms,
      channels: _c,
      threads: _t,
      presences: _p,
      stage_instances: _s,
      guild_scheduled_events: _g,
      soundboard_sounds: _sb,
      ...guild
    } = this.guildCreate(this.guildState(id));
    return guild;
  }

  private application(): APIApplication {
    return {
      id: this.applicationId,
      name: this.users.get(this.botUserId)!.username,
      icon: null,
      description: "",
      bot_public: false,
      bot_require_code_grant: false,
      bot: this.users.get(this.botUserId)!,
      verify_key: "0".repeat(64),
      team: null,
      summary: "",
      flags: ApplicationFlags.GatewayMessageContentLimited,
      flags_new: String(ApplicationFlags.GatewayMessageContentLimited),
      owner: this.users.get(this.botUserId)!,
      approximate_guild_count: this.guilds.size,
      redirect_uris: [],
      interactions_endpoint_url: null,
      role_connections_verification_url: null,
      integration_types_config: { [ApplicationIntegrationType.GuildInstall]: {} },
      event_webhooks_status: 1,
      event_webhooks_url: null,
      approximate_user_install_count: 0,
      approximate_user_authorization_count: 0,
    };
  }

  private channelMessage(channelId: string, messageId: string): StoredMessage {
    if (!this.findChannel(channelId)) throw unknownChannel();
    const stored = this.messages.get(messageId);
    if (!stored || stored.deleted || stored.message.channel_id !== channelId) throw unknownMessage();
    return stored;
  }

  private postChannelMessage(channelId: string, body: Json): APIMessage {
    const place = this.requireChannel(channelId);
    const nonce = body.nonce;
    if (nonce !== undefined && nonce !== null) {
      if (typeof nonce === "string" && nonce.length > 25) throw formError(fieldError(["nonce"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."));
      if (typeof nonce !== "string" && !(typeof nonce === "number" && Number.isInteger(nonce)))
        throw formError(fieldError(["nonce"], "NONCE_TYPE_INVALID", "Nonce must be an integer or string."));
    }
    validateMessageBody(body, true);
    const nonceKey = nonce !== undefined && nonce !== null && body.enforce_nonce === true ? `${channelId} ${this.botUserId} ${String(nonce)}` : undefined;
    if (nonceKey) {
      // Discord: the same nonce from the same author in the same channel within a few minutes
      // returns the message created the first time, and creates nothing.
      const earlier = this.nonces.get(nonceKey);
      const stored = earlier && Date.now() - earlier.at <= this.nonceWindowMs ? this.messages.get(earlier.messageId) : undefined;
      if (stored) {
        this.requestFiles = [];
        return stored.message;
      }
    }
    if (place.guild) {
      const need = PermissionFlagsBits.SendMessages | (this.requestFiles.length > 0 ? PermissionFlagsBits.AttachFiles : 0n);
      this.requireChannel(channelId, need);
    }
    const flags =
      typeof body.flags === "number" ? body.flags & (MessageFlags.SuppressEmbeds | MessageFlags.SuppressNotifications | MessageFlags.IsComponentsV2) : 0;
    const message = this.newMessage(channelId, place.guild?.spec.id, { ...body, flags }, {});
    if (body.nonce !== undefined && (typeof body.nonce === "string" || typeof body.nonce === "number")) message.nonce = body.nonce;
    this.storeMessage(message, place.guild?.spec.id, true);
    if (nonceKey) this.nonces.set(nonceKey, { messageId: message.id, at: Date.now() });
    return message;
  }

  private storeMessage(message: APIMessage, guildId: string | undefined, posted: boolean, interactionId?: string): StoredMessage {
    const stored: StoredMessage = { message, ...(guildId ? { guildId } : {}), posted, deleted: false, ...(interactionId ? { interactionId } : {}) };
    this.messages.set(message.id, stored);
    if (posted) {
      const list = this.channelLists.get(message.channel_id) ?? [];
      list.push(message.id);
      this.channelLists.set(message.channel_id, list);
    }
    return stored;
  }

  private interactionMessageExtra(interaction: FakeInteraction): Partial<APIMessage> {
    const p = interaction.payload;
    const user = "member" in p && p.member ? p.member.user : p.user!;
    const data = p.data as Json | undefined;
    return {
      webhook_id: this.applicationId,
      application_id: this.applicationId,
      interaction_metadata: {
        id: p.id,
        type: p.type,
        user,
        authorizing_integration_owners: p.authorizing_integration_owners,
        ...(p.type === InteractionType.MessageComponent && interaction.componentMessageId ? { interacted_message_id: interaction.componentMessageId } : {}),
        ...(p.type === InteractionType.ApplicationCommand && typeof data?.name === "string"
          ? { name: data.name, command_type: ApplicationCommandType.ChatInput }
          : {}),
      } as NonNullable<APIMessage["interaction_metadata"]>,
    };
  }

  private interactionCallback(id: string, tok: string, body: Json, withResponse: boolean): { body: unknown } | undefined {
    const interaction = this.interactionsById.get(id);
    if (!interaction || interaction.token !== tok) throw new HttpError(404, 10062, "Unknown interaction");
    if (this.callbackDeadlineMs !== null && Date.now() - interaction.dispatchedAt > this.callbackDeadlineMs) {
      throw new HttpError(404, 10062, "Unknown interaction");
    }
    if (interaction.callback) throw new HttpError(400, 40060, "Interaction has already been acknowledged.");
    const type = body.type as InteractionResponseType;
    const data = isRecord(body.data) ? body.data : undefined;
    const p = interaction.payload;
    const channelId = p.channel_id!;
    const guildId = "guild_id" in p ? p.guild_id : undefined;
    const isComponent = p.type === InteractionType.MessageComponent || p.type === InteractionType.ModalSubmit;
    let message: APIMessage | undefined;

    switch (type) {
      case InteractionResponseType.ChannelMessageWithSource: {
        if (p.type === InteractionType.ApplicationCommandAutocomplete)
          throw new HttpError(400, 40043, "Interaction callback type is not valid for this interaction");
        validateMessageBody(data ?? {}, true);
        const flags =
          (data && typeof data.flags === "number" ? data.flags : 0) &
          (MessageFlags.Ephemeral | MessageFlags.SuppressEmbeds | MessageFlags.SuppressNotifications | MessageFlags.IsComponentsV2);
        message = this.newMessage(
          channelId,
          guildId,
          { ...(data ?? {}), flags },
          { ...this.interactionMessageExtra(interaction), type: MessageType.ChatInputCommand },
        );
        this.storeMessage(message, guildId, false, interaction.id);
        interaction.originalMessageId = message.id;
        break;
      }
      case InteractionResponseType.DeferredChannelMessageWithSource: {
        if (p.type === InteractionType.ApplicationCommandAutocomplete)
          throw new HttpError(400, 40043, "Interaction callback type is not valid for this interaction");
        const flags = ((data && typeof data.flags === "number" ? data.flags : 0) & MessageFlags.Ephemeral) | MessageFlags.Loading;
        message = this.newMessage(
          channelId,
          guildId,
          { content: "", flags },
          { ...this.interactionMessageExtra(interaction), type: MessageType.ChatInputCommand },
        );
        this.storeMessage(message, guildId, false, interaction.id);
        interaction.originalMessageId = message.id;
        break;
      }
      case InteractionResponseType.DeferredMessageUpdate:
      case InteractionResponseType.UpdateMessage: {
        if (!isComponent) throw new HttpError(400, 40043, "Interaction callback type is not valid for this interaction");
        const target = interaction.componentMessageId ? this.messages.get(interaction.componentMessageId) : undefined;
        if (type === InteractionResponseType.UpdateMessage) {
          validateMessageBody(data ?? {}, false);
          if (target) this.applyEdit(target, data ?? {});
        }
        interaction.originalMessageId = interaction.componentMessageId;
        message = target?.message;
        break;
      }
      case InteractionResponseType.ApplicationCommandAutocompleteResult: {
        if (p.type !== InteractionType.ApplicationCommandAutocomplete)
          throw new HttpError(400, 40043, "Interaction callback type is not valid for this interaction");
        const choices = data && Array.isArray(data.choices) ? (data.choices as unknown[]) : [];
        if (choices.length > 25) throw formError(fieldError(["data", "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."));
        // Lengths in UTF-16 code units (JavaScript's length), as Discord counts them.
        choices.forEach((c, i) => {
          const name = isRecord(c) && typeof c.name === "string" ? c.name : "";
          if (name.length < 1 || name.length > 100)
            throw formError(fieldError(["data", "choices", String(i), "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."));
          const value = isRecord(c) ? c.value : undefined;
          if (typeof value !== "string" && typeof value !== "number")
            throw formError(fieldError(["data", "choices", String(i), "value"], "BASE_TYPE_REQUIRED", "This field is required"));
          if (typeof value === "string" && value.length > 100)
            throw formError(fieldError(["data", "choices", String(i), "value"], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."));
        });
        break;
      }
      case InteractionResponseType.Modal: {
        if (p.type === InteractionType.ApplicationCommandAutocomplete || p.type === InteractionType.ModalSubmit) {
          throw new HttpError(400, 40043, "Interaction callback type is not valid for this interaction");
        }
        const title = data && typeof data.title === "string" ? data.title : "";
        if (title.length < 1 || title.length > 45)
          throw formError(fieldError(["data", "title"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length."));
        const customId = data && typeof data.custom_id === "string" ? data.custom_id : "";
        if (customId.length < 1 || customId.length > 100)
          throw formError(fieldError(["data", "custom_id"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."));
        const rows = data && Array.isArray(data.components) ? (data.components as unknown[]) : [];
        if (rows.length < 1 || rows.length > 5)
          throw formError(fieldError(["data", "components"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."));
        break;
      }
      default:
        throw formError(
          fieldError(
            ["type"],
            "BASE_TYPE_CHOICES",
            `Value must be one of ${Object.values(InteractionResponseType)
              .filter((v) => typeof v === "number")
              .join(", ")}.`,
          ),
        );
    }
    interaction.record({ kind: "callback", type, data, at: Date.now() });
    if (!withResponse) return undefined;
    const result: RESTPostAPIInteractionCallbackWithResponseResult = {
      interaction: {
        id: interaction.id,
        type: p.type,
        ...(message && type !== InteractionResponseType.DeferredMessageUpdate
          ? {
              response_message_id: message.id,
              response_message_loading: type === InteractionResponseType.DeferredChannelMessageWithSource,
              response_message_ephemeral: ((message.flags ?? 0) & MessageFlags.Ephemeral) !== 0,
            }
          : {}),
      },
      ...(type === InteractionResponseType.ApplicationCommandAutocompleteResult || type === InteractionResponseType.DeferredMessageUpdate
        ? {}
        : { resource: { type, ...(message ? { message } : {}) } }),
    };
    return { body: result };
  }

  private requireCallback(interaction: FakeInteraction): void {
    if (!interaction.callback) throw new HttpError(404, 10015, "Unknown Webhook");
  }

  private webhookMessage(interaction: FakeInteraction, messageId: string): StoredMessage {
    this.requireCallback(interaction);
    const id = messageId === "@original" ? interaction.originalMessageId : messageId;
    const stored = id ? this.messages.get(id) : undefined;
    const belongs = stored && (stored.interactionId === interaction.id || id === interaction.componentMessageId);
    if (!stored || stored.deleted || !belongs) throw unknownMessage();
    return stored;
  }

  private webhookEdit(interaction: FakeInteraction, messageId: string, body: Json): APIMessage {
    const stored = this.webhookMessage(interaction, messageId);
    validateMessageBody(body, false);
    this.applyEdit(stored, body);
    interaction.record({ kind: "edit", messageId: stored.message.id, data: body, at: Date.now() });
    return stored.message;
  }

  private webhookDelete(interaction: FakeInteraction, messageId: string): void {
    const stored = this.webhookMessage(interaction, messageId);
    stored.deleted = true;
    interaction.record({ kind: "delete", messageId: stored.message.id, at: Date.now() });
  }

  private followup(interaction: FakeInteraction, body: Json): APIMessage {
    this.requireCallback(interaction);
    validateMessageBody(body, true);
    // Discord: a follow-up to a deferred reply that is still loading resolves that reply instead
    // of creating a message, and keeps the deferral's ephemeral flag.
    const original = interaction.originalMessageId ? this.messages.get(interaction.originalMessageId) : undefined;
    if (original && !original.deleted && original.interactionId === interaction.id && ((original.message.flags ?? 0) & MessageFlags.Loading) !== 0) {
      this.applyEdit(original, body);
      original.message.edited_timestamp = null;
      interaction.record({ kind: "followup", messageId: original.message.id, data: body, at: Date.now() });
      return original.message;
    }
    const p = interaction.payload;
    const guildId = "guild_id" in p ? p.guild_id : undefined;
    const flags =
      (typeof body.flags === "number" ? body.flags : 0) &
      (MessageFlags.Ephemeral | MessageFlags.SuppressEmbeds | MessageFlags.SuppressNotifications | MessageFlags.IsComponentsV2);
    const message = this.newMessage(p.channel_id!, guildId, { ...body, flags }, this.interactionMessageExtra(interaction));
    this.storeMessage(message, guildId, false, interaction.id);
    interaction.followupIds.push(message.id);
    interaction.record({ kind: "followup", messageId: message.id, data: body, at: Date.now() });
    return message;
  }

  // -------------------------------------------------------------------------------------------
  // Application commands

  /** Registered commands: global (no argument) or of a guild. */
  registeredCommands(guildId?: string): APIApplicationCommand[] {
    return this.commands.get(guildId ?? "global") ?? [];
  }

  private commandRoute(method: string, seg: string[], rawBody: unknown, body: Json): { body: unknown } | undefined | null {
    if (seg[0] !== "applications" || (seg[2] !== "guilds" && seg[2] !== "commands")) return null;
    if (seg[1] !== this.applicationId) throw new HttpError(403, 50001, "Missing Access");
    let scope = "global";
    let rest = seg.slice(2);
    if (rest[0] === "guilds") {
      scope = rest[1]!;
      this.guildState(scope);
      rest = rest.slice(2);
    }
    if (rest[0] !== "commands" || rest.length > 2) return null;
    const id = rest[1];
    const list = this.commands.get(scope) ?? [];
    const build = (c: Json): APIApplicationCommand => {
      const type = (typeof c.type === "number" ? c.type : ApplicationCommandType.ChatInput) as ApplicationCommandType;
      const name = String(c.name);
      return {
        ...(c as Partial<APIApplicationCommand>),
        id: this.stableCommandId(scope, type, name),
        application_id: this.applicationId,
        ...(scope !== "global" ? { guild_id: scope } : {}),
        type,
        name,
        description: typeof c.description === "string" ? c.description : "",
        default_member_permissions: typeof c.default_member_permissions === "string" ? c.default_member_permissions : null,
        version: snowflake(),
        ...(scope === "global"
          ? {
              integration_types: Array.isArray(c.integration_types)
                ? (c.integration_types as ApplicationIntegrationType[])
                : [ApplicationIntegrationType.GuildInstall],
              contexts: Array.isArray(c.contexts) ? (c.contexts as InteractionContextType[]) : null,
            }
          : {}),
        nsfw: c.nsfw === true,
      };
    };
    if (!id && method === "GET") return { body: list };
    if (!id && method === "PUT") {
      if (!Array.isArray(rawBody)) throw formError(fieldError([], "BASE_TYPE_ARRAY", "Must be an array."));
      const given: unknown[] = rawBody;
      validateCommands(given);
      const commands = given.map((c) => build(c as Json));
      this.commands.set(scope, commands);
      return { body: commands };
    }
    if (!id && method === "POST") {
      validateCommands([body]);
      const c = build(body);
      const next = list.filter((x) => !(x.name === c.name && x.type === c.type));
      next.push(c);
      validateCommands(next);
      this.commands.set(scope, next);
      return { body: c };
    }
    if (id) {
      const existing = list.find((c) => c.id === id);
      if (!existing) throw new HttpError(404, 10063, "Unknown application command");
      if (method === "GET") return { body: existing };
      if (method === "DELETE") {
        this.commands.set(
          scope,
          list.filter((c) => c.id !== id),
        );
        return undefined;
      }
      if (method === "PATCH") {
        const c = build({ ...existing, ...body });
        this.commands.set(
          scope,
          list.map((x) => (x.id === id ? c : x)),
        );
        return { body: c };
      }
    }
    return null;
  }

  // -------------------------------------------------------------------------------------------

  /** Close every gateway connection and the HTTP server. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const conn of this.conns) conn.socket.terminate();
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function isComponentInput(input: InteractInput): input is ComponentInput {
  return input.type === "button" || input.type === "select";
}

class UnknownRoute extends HttpError {
  constructor() {
    super(404, 10003, "404: Not Found (no such route in FakeDiscord)");
  }
}
