// A local Matrix homeserver for end-to-end tests: the client-server API (node:http on 127.0.0.1) that
// the real `@vector-im/matrix-bot-sdk` MatrixClient needs, plus a test-driving API that acts as other
// users without HTTP.
//
//   const hs = await FakeHomeserver.start();
//   const bot = hs.registerUser("dpool", { password: "secret", displayName: "d-pool" });
//   const alice = hs.registerUser("alice");
//   const roomId = hs.createRoom(alice.userId, { name: "Pool" });
//   hs.invite(roomId, alice.userId, bot.userId);              // the bot's sync sees the invite
//   const client = new MatrixClient(hs.baseUrl, bot.accessToken, new MemoryStorageProvider());
//   ...
//   const cmd = hs.send(roomId, alice.userId, { msgtype: "m.text", body: "!dpool pool info" });
//   const reply = await hs.waitForEvent(roomId, (e) => e.sender === bot.userId, 5000, { after: cmd });
//   expect(hs.unhandled).toEqual([]);
//   await hs.close();
//
// Shapes follow the Matrix client-server spec (v1.x): ClientEvent (`event_id`, `sender`,
// `origin_server_ts`, `type`, `content`, `unsigned`, `state_key` for state, `room_id` except in sync
// timelines), StrippedStateEvent in `invite_state`, errors `{ errcode, error }`. Behaviour that the spec
// leaves open follows Synapse (default power levels, idempotency keyed on access token + room + txnId,
// timeline limit 10 with `limited`/`prev_batch`, `/messages` paging, `unsigned.transaction_id` for the
// sending access token, room version 10).
// Also like Synapse, opt-in or driven by tests: the rc_message rate limiter (`messageRateLimit`), proxy
// errors (`startProxyErrors`) and a server that is down (`goOffline`/`goOnline`).
// Not modelled: federation, end-to-end encryption (an `m.room.encryption` state event is just state),
// history visibility (every member sees the whole room), typing/receipts in sync, presence events.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

// ---------------------------------------------------------------------------------------------
// Public types

export type Json = Record<string, unknown>;

/** A room event in the client-server "ClientEvent" format (as stored: with `room_id`). */
export interface FakeEvent {
  event_id: string;
  room_id: string;
  sender: string;
  type: string;
  origin_server_ts: number;
  content: Json;
  state_key?: string;
  /** Top-level `redacts` of an `m.room.redaction` (room versions up to 10). */
  redacts?: string;
  unsigned?: Json;
}

export interface FakeRequestRecord {
  method: string;
  /** Decoded path, e.g. `/_matrix/client/v3/rooms/!abc:test.local/send/m.room.message/1`. */
  path: string;
  /** Path as sent on the wire (percent-encoded). */
  rawPath: string;
  query: Record<string, string>;
  /** The authenticated user, if any. */
  user?: string;
  /** The status answered (set once the response is written; undefined while a long poll is held). */
  status?: number;
  at: number;
}

export interface FakeUnhandled {
  method: string;
  path: string;
  rawPath: string;
  status: 404 | 405;
}

export interface FakeMedia {
  mxc: string;
  data: Buffer;
  contentType: string;
  filename?: string | undefined;
  uploader: string;
}

export interface CreateRoomOptions {
  name?: string;
  topic?: string;
  /** Adds an `m.room.encryption` state event (megolm). */
  encrypted?: boolean;
  /** Extra entries in `m.room.power_levels` `users` (the creator has 100 unless given here). */
  powerLevels?: Record<string, number>;
  /** `join_rules: public` (anyone may join) instead of `invite`. */
  public?: boolean;
  /** Local part of an alias to publish, e.g. "pool" gives `#pool:test.local`. */
  alias?: string;
  /** Users to invite right away. */
  invite?: string[];
  /** Marks the invites as DM invites (`is_direct: true`). */
  isDirect?: boolean;
}

/** Synapse's `rc_message` shape: a leaky bucket of `burst` actions draining at `perSecond`. */
export interface MessageRateLimit {
  perSecond: number;
  burst: number;
}

/** Synapse's defaults for `rc_message` (per_second 0.2, burst_count 10). */
export const SYNAPSE_RC_MESSAGE: Readonly<MessageRateLimit> = Object.freeze({ perSecond: 0.2, burst: 10 });

export interface FakeHomeserverOptions {
  serverName?: string;
  /**
   * Synapse's message rate limiter (rc_message), per user, on `PUT .../send/...`, `PUT .../redact/...`
   * and non-member `PUT .../state/...`. Off unless given; `SYNAPSE_RC_MESSAGE` holds Synapse's defaults.
   * `exempt` lists users that are never limited (Synapse's ratelimit override with 0 messages/second).
   */
  messageRateLimit?: (MessageRateLimit & { exempt?: string[] }) | undefined;
  /**
   * How long a transaction id is remembered, in ms. Default 24 h: Synapse keeps the HTTP response
   * for 30-60 min and, for an event that was stored, the (room, access token, txnId) mapping for 24 h.
   */
  txnTtlMs?: number;
}

/** An error with a Matrix `errcode`, thrown by the test-driving API and answered over HTTP. */
export class FakeMatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    readonly text: string,
    readonly extra: Json = {},
  ) {
    super(`${errcode}: ${text}`);
    this.name = "FakeMatrixError";
  }
  body(): Json {
    return { errcode: this.errcode, error: this.text, ...this.extra };
  }
}

// ---------------------------------------------------------------------------------------------
// Internal model

interface Stored {
  ev: FakeEvent;
  /** Position in the server-wide stream (sync tokens are `s<pos>`). */
  pos: number;
  /** Who sent it over HTTP, for `unsigned.transaction_id`. */
  txn?: { token: string; txnId: string } | undefined;
}

interface RoomData {
  id: string;
  version: string;
  events: Stored[];
  byId: Map<string, Stored>;
  /** Current state, keyed by `type\0state_key`. */
  state: Map<string, Stored>;
  directoryVisibility: "public" | "private";
}

interface Versioned {
  content: Json;
  pos: number;
}

interface UserData {
  userId: string;
  localpart: string;
  password?: string | undefined;
  displayName?: string | undefined;
  avatarUrl?: string | undefined;
  accountData: Map<string, Versioned>;
  roomAccountData: Map<string, Map<string, Versioned>>;
  filters: Map<string, Json>;
  presence: { presence: string; status_msg?: string | undefined; since: number };
}

interface Session {
  token: string;
  userId: string;
  deviceId: string;
}

interface SyncFilter {
  timelineLimit: number;
  includeLeave: boolean;
  rooms?: string[] | undefined;
  notRooms: string[];
  timeline: EventFilter;
  state: EventFilter;
  accountData: EventFilter;
  roomAccountData: EventFilter;
}

interface EventFilter {
  types?: string[] | undefined;
  notTypes: string[];
  senders?: string[] | undefined;
  notSenders: string[];
}

interface SyncWaiter {
  session: Session;
  since: number;
  filter: SyncFilter;
  fullState: boolean;
  timer: NodeJS.Timeout;
  res: ServerResponse;
  finish: (reply: Reply) => void;
}

interface EventWatcher {
  roomId: string;
  predicate: (e: FakeEvent) => boolean;
  resolve: (e: FakeEvent) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface RateLimitRule {
  remaining: number;
  retryAfterMs: number;
  pathPrefix?: string | undefined;
}

interface TxnEntry {
  eventId: string;
  at: number;
}

interface Reply {
  status?: number;
  json?: unknown;
  raw?: { data: Buffer; contentType: string; headers?: Record<string, string> };
}

interface Ctx {
  method: string;
  params: Record<string, string>;
  query: URLSearchParams;
  path: string;
  body: Buffer;
  headers: IncomingMessage["headers"];
  session?: Session | undefined;
  res: ServerResponse;
  json(): Json;
}

type Api = "client" | "media";
interface Route {
  method: string;
  api: Api;
  versions: readonly string[];
  parts: string[];
  auth: "required" | "optional" | "none";
  handler: (ctx: Ctx) => Reply | Promise<Reply>;
}

const CLIENT_VERSIONS = ["r0", "v3"] as const;
const MEDIA_VERSIONS = ["r0", "v3"] as const;
const DEFAULT_TIMELINE_LIMIT = 10;
const DEFAULT_TXN_TTL_MS = 24 * 60 * 60 * 1000;
/** Synapse caps `/messages` `limit` at 1000. */
const MAX_MESSAGES_LIMIT = 1000;
const PROXY_TEXT: Record<number, string> = { 502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out" };
const ROOM_VERSION = "10";
const MAX_UPLOAD = 50 * 1024 * 1024;
const STRIPPED_STATE_TYPES = [
  "m.room.create",
  "m.room.join_rules",
  "m.room.name",
  "m.room.topic",
  "m.room.avatar",
  "m.room.canonical_alias",
  "m.room.encryption",
];

const skey = (type: string, stateKey: string) => `${type}\u0000${stateKey}`;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);
const letters = (n: number) => {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const bytes = randomBytes(n);
  let s = "";
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
};

function fail(status: number, errcode: string, text: string, extra?: Json): never {
  throw new FakeMatrixError(status, errcode, text, extra);
}

/** The redaction algorithm for room versions 6 to 10 (keys of `content` that survive). */
function redactContent(type: string, content: Json): Json {
  const keep: Record<string, string[]> = {
    "m.room.member": ["membership", "join_authorised_via_users_server"],
    "m.room.create": ["creator"],
    "m.room.join_rules": ["join_rule", "allow"],
    "m.room.power_levels": ["ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"],
    "m.room.history_visibility": ["history_visibility"],
  };
  const out: Json = {};
  for (const k of keep[type] ?? []) if (k in content) out[k] = content[k];
  return out;
}

function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes("*")) return pattern === value;
  const re = new RegExp(
    "^" +
      pattern
        .split("*")
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*") +
      "$",
  );
  return re.test(value);
}

function parseEventFilter(v: unknown): EventFilter {
  const f = isObject(v) ? v : {};
  const list = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === "string") : undefined);
  return {
    types: list(f.types),
    notTypes: list(f.not_types) ?? [],
    senders: list(f.senders),
    notSenders: list(f.not_senders) ?? [],
  };
}

function eventPasses(f: EventFilter, ev: { type: string; sender?: string }): boolean {
  if (f.notTypes.some((p) => globMatch(p, ev.type))) return false;
  if (f.types && !f.types.some((p) => globMatch(p, ev.type))) return false;
  if (ev.sender !== undefined) {
    if (f.notSenders.includes(ev.sender)) return false;
    if (f.senders && !f.senders.includes(ev.sender)) return false;
  }
  return true;
}

function parseSyncFilter(def: Json): SyncFilter {
  const room = isObject(def.room) ? def.room : {};
  const timeline = isObject(room.timeline) ? room.timeline : {};
  const limitRaw = timeline.limit;
  const list = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === "string") : undefined);
  return {
    timelineLimit: typeof limitRaw === "number" && limitRaw > 0 ? Math.floor(limitRaw) : DEFAULT_TIMELINE_LIMIT,
    includeLeave: room.include_leave === true,
    rooms: list(room.rooms),
    notRooms: list(room.not_rooms) ?? [],
    timeline: parseEventFilter(timeline),
    state: parseEventFilter(room.state),
    accountData: parseEventFilter(def.account_data),
    roomAccountData: parseEventFilter(room.account_data),
  };
}

// ---------------------------------------------------------------------------------------------

export class FakeHomeserver {
  readonly serverName: string;
  /** Every request, in arrival order. */
  readonly requests: FakeRequestRecord[] = [];
  /** Requests that matched no route (answered 404/405 `M_UNRECOGNIZED`). Tests should assert it stays empty. */
  readonly unhandled: FakeUnhandled[] = [];

  private server!: Server;
  private port = 0;
  private pos = 0;
  private lastTs = 0;
  private closing = false;
  private closed?: Promise<void>;
  private readonly users = new Map<string, UserData>();
  private readonly sessions = new Map<string, Session>();
  private readonly rooms = new Map<string, RoomData>();
  private readonly aliases = new Map<string, string>();
  private readonly txns = new Map<string, TxnEntry>();
  private txnTtlMs = DEFAULT_TXN_TTL_MS;
  private deduped = 0;
  private messageLimit?: MessageRateLimit | undefined;
  private readonly rateOverrides = new Map<string, MessageRateLimit>();
  private readonly buckets = new Map<string, { count: number; start: number }>();
  private offline = false;
  private proxyError?: { status: number; until?: number | undefined } | undefined;
  private readonly mediaStore = new Map<string, FakeMedia>();
  private readonly waiters = new Set<SyncWaiter>();
  private readonly watchers = new Set<EventWatcher>();
  private readonly rateLimits: RateLimitRule[] = [];
  private filterCounter = 0;
  private wakeScheduled = false;
  private readonly routes: Route[];

  private constructor(serverName: string) {
    this.serverName = serverName;
    this.routes = this.buildRoutes();
  }

  static async start(opts: FakeHomeserverOptions = {}): Promise<FakeHomeserver> {
    const hs = new FakeHomeserver(opts.serverName ?? "test.local");
    if (opts.txnTtlMs !== undefined) hs.txnTtlMs = opts.txnTtlMs;
    if (opts.messageRateLimit) {
      const { exempt = [], ...limit } = opts.messageRateLimit;
      hs.setMessageRateLimit(limit);
      for (const u of exempt) hs.exemptFromRateLimit(u);
    }
    hs.server = createServer((req, res) => {
      hs.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { "Content-Type": "application/json" });
          res.end(JSON.stringify({ errcode: "M_UNKNOWN", error: String(err) }));
        }
      });
    });
    hs.server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      hs.server.once("error", reject);
      hs.server.listen(0, "127.0.0.1", () => resolve());
    });
    hs.port = (hs.server.address() as AddressInfo).port;
    return hs;
  }

  /** `http://127.0.0.1:PORT` (the homeserver URL to give the client). */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Answers every held /sync at once (with nothing new), refuses new connections, and resolves when
   * every connection has ended. Stop the clients first (`client.stop()`), or they will retry against
   * a closed port and keep a backoff timer alive.
   */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.closing = true;
    // Let the answers to held polls reach the clients before connections are torn down (Node's
    // server.close() also drops idle keep-alive connections, which would cut a response in flight).
    const flushed = [...this.waiters].map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.res.writableFinished || w.res.destroyed) return resolve();
          w.res.once("finish", () => resolve());
          w.res.once("close", () => resolve());
        }),
    );
    for (const w of [...this.waiters]) this.finishWaiter(w);
    for (const w of [...this.watchers]) {
      clearTimeout(w.timer);
      this.watchers.delete(w);
      w.reject(new Error("FakeHomeserver closed"));
    }
    this.closed = (async () => {
      await Promise.all(flushed);
      await new Promise<void>((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => this.server.closeAllConnections(), 1_000);
        this.server.close(() => {
          clearTimeout(force);
          resolve();
        });
        this.server.closeIdleConnections();
      });
    })();
    return this.closed;
  }

  // -------------------------------------------------------------------------------------------
  // Test-driving API: users

  /** Registers `@localpart:serverName` and returns a fresh access token for it. */
  registerUser(
    localpart: string,
    opts: { password?: string; displayName?: string; avatarUrl?: string } = {},
  ): { userId: string; accessToken: string; deviceId: string } {
    if (!/^[a-z0-9._=\-/+]+$/.test(localpart)) throw new Error(`invalid localpart ${JSON.stringify(localpart)}`);
    const userId = `@${localpart}:${this.serverName}`;
    if (this.users.has(userId)) throw new FakeMatrixError(400, "M_USER_IN_USE", `${userId} is already registered`);
    this.users.set(userId, {
      userId,
      localpart,
      password: opts.password,
      displayName: opts.displayName ?? localpart,
      avatarUrl: opts.avatarUrl,
      accountData: new Map(),
      roomAccountData: new Map(),
      filters: new Map(),
      presence: { presence: "offline", since: Date.now() },
    });
    const s = this.newSession(userId);
    return { userId, accessToken: s.token, deviceId: s.deviceId };
  }

  /** Issues another access token (a new device) for a registered user. */
  login(userId: string, deviceId?: string): { accessToken: string; deviceId: string } {
    this.user(userId);
    const s = this.newSession(userId, deviceId);
    return { accessToken: s.token, deviceId: s.deviceId };
  }

  /** Invalidates an access token (later requests get 401 M_UNKNOWN_TOKEN). */
  revokeToken(accessToken: string): void {
    this.sessions.delete(accessToken);
  }

  /** Sets global account data for a user (as if another of their clients had). */
  setAccountData(userId: string, type: string, content: Json): void {
    this.user(userId).accountData.set(type, { content: clone(content), pos: ++this.pos });
    this.wake();
  }

  accountData(userId: string, type: string): Json | undefined {
    const v = this.user(userId).accountData.get(type);
    return v ? clone(v.content) : undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Test-driving API: rooms (the same authorization rules as over HTTP apply)

  createRoom(creator: string, opts: CreateRoomOptions = {}): string {
    const initialState: Json[] = [];
    if (opts.encrypted) {
      initialState.push({
        type: "m.room.encryption",
        state_key: "",
        content: { algorithm: "m.megolm.v1.aes-sha2", rotation_period_ms: 604_800_000, rotation_period_msgs: 100 },
      });
    }
    return this.doCreateRoom(creator, {
      name: opts.name,
      topic: opts.topic,
      preset: opts.public ? "public_chat" : "private_chat",
      room_alias_name: opts.alias,
      initial_state: initialState,
      invite: opts.invite ?? [],
      is_direct: opts.isDirect ?? false,
      power_level_content_override: opts.powerLevels ? { users: { [creator]: 100, ...opts.powerLevels } } : undefined,
    });
  }

  invite(roomId: string, inviter: string, invitee: string, opts: { isDirect?: boolean; reason?: string } = {}): string {
    return this.membershipChange(this.room(roomId), inviter, invitee, "invite", {
      is_direct: opts.isDirect,
      reason: opts.reason,
    });
  }

  /** Joins (allowed when invited, already joined, or the room is public). Returns the member event id. */
  join(roomIdOrAlias: string, userId: string): string {
    return this.membershipChange(this.resolveRoom(roomIdOrAlias), userId, userId, "join");
  }

  leave(roomId: string, userId: string, reason?: string): string {
    return this.membershipChange(this.room(roomId), userId, userId, "leave", { reason });
  }

  kick(roomId: string, kicker: string, target: string, reason?: string): string {
    return this.membershipChange(this.room(roomId), kicker, target, "leave", { reason });
  }

  ban(roomId: string, banner: string, target: string, reason?: string): string {
    return this.membershipChange(this.room(roomId), banner, target, "ban", { reason });
  }

  /** Sends a new `m.room.power_levels` with `users[userId] = level` (as the room's most powerful member). */
  setPowerLevel(roomId: string, userId: string, level: number): string {
    const room = this.room(roomId);
    const current = clone(room.state.get(skey("m.room.power_levels", ""))?.ev.content ?? {});
    const users = isObject(current.users) ? (current.users as Record<string, number>) : {};
    users[userId] = level;
    current.users = users;
    let sender = this.creatorOf(room);
    let best = -Infinity;
    for (const s of room.state.values()) {
      if (s.ev.type !== "m.room.member" || s.ev.content.membership !== "join" || s.ev.state_key === undefined) continue;
      const p = this.powerOf(room, s.ev.state_key);
      if (p > best) [best, sender] = [p, s.ev.state_key];
    }
    return this.append(room, { type: "m.room.power_levels", sender, state_key: "", content: current }).ev.event_id;
  }

  /** Sends a room event as `sender` (must be joined, with enough power). Returns its event id. */
  send(roomId: string, sender: string, content: Json, type = "m.room.message"): string {
    return this.sendEvent(this.room(roomId), sender, type, content).ev.event_id;
  }

  sendState(roomId: string, sender: string, type: string, stateKey: string, content: Json): string {
    return this.sendStateEvent(this.room(roomId), sender, type, stateKey, content).ev.event_id;
  }

  /** An `m.reaction` annotating `eventId` with `key` (e.g. "👍"). */
  react(roomId: string, sender: string, eventId: string, key: string): string {
    return this.send(roomId, sender, { "m.relates_to": { rel_type: "m.annotation", event_id: eventId, key } }, "m.reaction");
  }

  /** Redacts `eventId` as `sender`; returns the id of the `m.room.redaction`. */
  redact(roomId: string, sender: string, eventId: string, reason?: string): string {
    return this.redactEvent(this.room(roomId), sender, eventId, reason === undefined ? {} : { reason }).ev.event_id;
  }

  /** The room's timeline as stored (copies; redacted events show their redacted content). */
  events(roomId: string): FakeEvent[] {
    return this.room(roomId).events.map((s) => clone(s.ev));
  }

  event(roomId: string, eventId: string): FakeEvent | undefined {
    const s = this.room(roomId).byId.get(eventId);
    return s ? clone(s.ev) : undefined;
  }

  /** The current state event of that type and key, if any. */
  stateEvent(roomId: string, type: string, stateKey = ""): FakeEvent | undefined {
    const s = this.room(roomId).state.get(skey(type, stateKey));
    return s ? clone(s.ev) : undefined;
  }

  membership(roomId: string, userId: string): string | undefined {
    return this.membershipOf(this.room(roomId), userId);
  }

  roomIds(): string[] {
    return [...this.rooms.keys()];
  }

  /**
   * Resolves with the first event of the room matching `predicate`: already stored ones count
   * (only those after `opts.after`, an event id, when given), then new ones as they arrive.
   */
  waitForEvent(roomId: string, predicate: (e: FakeEvent) => boolean, ms = 5000, opts: { after?: string } = {}): Promise<FakeEvent> {
    const room = this.room(roomId);
    let start = 0;
    if (opts.after !== undefined) {
      const idx = room.events.findIndex((s) => s.ev.event_id === opts.after);
      if (idx < 0) return Promise.reject(new Error(`waitForEvent: no event ${opts.after} in ${roomId}`));
      start = idx + 1;
    }
    for (const s of room.events.slice(start)) {
      const e = clone(s.ev);
      if (predicate(e)) return Promise.resolve(e);
    }
    return new Promise<FakeEvent>((resolve, reject) => {
      const w: EventWatcher = {
        roomId,
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.watchers.delete(w);
          const recent = room.events
            .slice(-6)
            .map((s) => `${s.ev.sender} ${s.ev.type} ${JSON.stringify(s.ev.content).slice(0, 120)}`)
            .join("\n  ");
          reject(new Error(`waitForEvent(${roomId}) timed out after ${ms} ms; last events:\n  ${recent}`));
        }, ms),
      };
      this.watchers.add(w);
    });
  }

  /**
   * The next `count` authenticated requests whose path (decoded or as sent) starts with `pathPrefix`
   * (any path when omitted) get 429 `M_LIMIT_EXCEEDED` with `retry_after_ms` (and `Retry-After`).
   * Careful: matrix-bot-sdk does not retry by itself; a 429 on /sync makes its loop back off 5–15 s.
   */
  rateLimitNext(count: number, retryAfterMs: number, pathPrefix?: string): void {
    this.rateLimits.push({ remaining: count, retryAfterMs, pathPrefix });
  }

  /** An uploaded file by its `mxc://` URI (or media id). */
  media(mxcOrId: string): FakeMedia | undefined {
    const id = mxcOrId.startsWith("mxc://") ? mxcOrId.slice(`mxc://${this.serverName}/`.length) : mxcOrId;
    const m = this.mediaStore.get(id);
    return m ? { ...m, data: Buffer.from(m.data) } : undefined;
  }

  /** Every event `userId` sent in the room, oldest first (only `type` when given). */
  sentBy(roomId: string, userId: string, type?: string): FakeEvent[] {
    return this.events(roomId).filter((e) => e.sender === userId && (type === undefined || e.type === type));
  }

  /**
   * The events of the room that reply to `eventId` (`content["m.relates_to"]["m.in_reply_to"].event_id`),
   * oldest first, optionally only those of `sender`. A redacted reply has lost its relation and is not counted.
   */
  repliesTo(roomId: string, eventId: string, sender?: string): FakeEvent[] {
    return this.events(roomId).filter((e) => {
      if (sender !== undefined && e.sender !== sender) return false;
      const rel = e.content["m.relates_to"];
      const inReplyTo = isObject(rel) ? rel["m.in_reply_to"] : undefined;
      return isObject(inReplyTo) && inReplyTo.event_id === eventId;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Test-driving API: rate limits, transaction ids, outages

  /**
   * Turns Synapse's message rate limiter on (or off with `undefined`). Per user over HTTP: sends,
   * redactions and non-member state events; a txnId repeat is answered from the cache before it.
   */
  setMessageRateLimit(limit: MessageRateLimit | undefined): void {
    this.messageLimit = limit ? { ...limit } : undefined;
    this.buckets.clear();
  }

  /**
   * Synapse's per-user override (`ratelimit_override`): other `perSecond`/`burst` for this user, or
   * `null` to drop the override. `perSecond: 0` exempts the user.
   */
  setRateLimitOverride(userId: string, limit: MessageRateLimit | null): void {
    if (limit === null) this.rateOverrides.delete(userId);
    else this.rateOverrides.set(userId, { ...limit });
  }

  /** The users are never rate limited (an override of 0 messages per second, as Synapse's admin API sets). */
  exemptFromRateLimit(...userIds: string[]): void {
    for (const u of userIds) this.rateOverrides.set(u, { perSecond: 0, burst: 0 });
  }

  /** Forgets what the rate limiter counted so far (a full bucket for everyone). */
  resetRateLimits(): void {
    this.buckets.clear();
  }

  /** How many sends/redactions were answered with an earlier event id because their txnId was reused. */
  get dedupedSends(): number {
    return this.deduped;
  }

  /** Forgets every remembered transaction id (as if they had all expired). */
  forgetTransactions(): void {
    this.txns.clear();
  }

  /**
   * The server goes down: the listener closes and every open connection is destroyed (a held /sync
   * gets ECONNRESET, new requests ECONNREFUSED). All state is kept; `goOnline()` listens again on
   * the same port.
   */
  async goOffline(): Promise<void> {
    if (this.offline || this.closing) return;
    this.offline = true;
    // Held polls die with their connections (no answer is written).
    for (const w of [...this.waiters]) {
      this.waiters.delete(w);
      clearTimeout(w.timer);
    }
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Listens again on the same port after `goOffline()`. */
  async goOnline(): Promise<void> {
    if (!this.offline || this.closing) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once("error", onError);
      this.server.listen(this.port, "127.0.0.1", () => {
        this.server.off("error", onError);
        resolve();
      });
    });
    this.offline = false;
  }

  get isOffline(): boolean {
    return this.offline;
  }

  /**
   * A reverse proxy in front of a restarting Synapse: every request (and every held /sync, at once)
   * is answered `status` (502 by default) with nginx's HTML error page, for `forMs` or until
   * `stopProxyErrors()`. Requests are still recorded in `requests`, with that status.
   */
  startProxyErrors(opts: { status?: 502 | 503 | 504; forMs?: number } = {}): void {
    const status = opts.status ?? 502;
    this.proxyError = { status, until: opts.forMs === undefined ? undefined : Date.now() + opts.forMs };
    for (const w of [...this.waiters]) {
      if (!this.waiters.delete(w)) continue;
      clearTimeout(w.timer);
      w.finish(this.proxyErrorReply(status));
    }
  }

  stopProxyErrors(): void {
    this.proxyError = undefined;
  }

  /** How many /sync requests are being held (long polling), optionally for one user. */
  pendingSyncs(userId?: string): number {
    let n = 0;
    for (const w of this.waiters) if (userId === undefined || w.session.userId === userId) n++;
    return n;
  }

  // -------------------------------------------------------------------------------------------
  // Model helpers

  private proxyErrorReply(status: number): Reply {
    const title = `${status} ${PROXY_TEXT[status] ?? "Error"}`;
    const html = `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
    return { status, raw: { data: Buffer.from(html), contentType: "text/html" } };
  }

  private activeProxyError(): number | undefined {
    const p = this.proxyError;
    if (!p) return undefined;
    if (p.until !== undefined && Date.now() >= p.until) {
      this.proxyError = undefined;
      return undefined;
    }
    return p.status;
  }

  /**
   * Synapse's Ratelimiter.can_do_action for rc_message, keyed by user id: `count` actions since
   * `start`, draining at `perSecond`; an action is refused while more than `burst - 1` remain. With
   * `update` false it only checks (Synapse checks before creating the event and counts once it is stored).
   */
  private messageRate(userId: string, update: boolean): void {
    const base = this.messageLimit;
    if (!base) return;
    const override = this.rateOverrides.get(userId);
    if (override && !override.perSecond) return;
    const { perSecond, burst } = override ?? base;
    const now = Date.now() / 1000;
    let b = this.buckets.get(userId) ?? { count: 0, start: now };
    const performed = b.count - (now - b.start) * perSecond;
    if (performed < 0) b = { count: 0, start: now };
    if (Math.max(0, performed) > burst - 1) {
      const allowedAt = Math.max(now, b.start + (b.count - burst + 1) / perSecond);
      fail(429, "M_LIMIT_EXCEEDED", "Too Many Requests", { retry_after_ms: Math.floor(1000 * (allowedAt - now)) });
    }
    if (update) this.buckets.set(userId, { count: b.count + 1, start: b.start });
  }

  /** Runs `fn` under the message rate limit of `userId`: checked first, counted if `fn` succeeds. */
  private rateLimited(userId: string, fn: () => Stored): Stored {
    this.messageRate(userId, false);
    const s = fn();
    this.messageRate(userId, true);
    return s;
  }

  private newSession(userId: string, deviceId?: string): Session {
    const localpart = userId.slice(1).split(":")[0] ?? "";
    const token = `syt_${Buffer.from(localpart).toString("base64url")}_${letters(20)}`;
    const s: Session = { token, userId, deviceId: deviceId ?? letters(10).toUpperCase() };
    this.sessions.set(token, s);
    return s;
  }

  private user(userId: string): UserData {
    const u = this.users.get(userId);
    if (!u) fail(404, "M_NOT_FOUND", `Unknown user ${userId}`);
    return u;
  }

  private room(roomId: string): RoomData {
    const r = this.rooms.get(roomId);
    if (!r) fail(404, "M_NOT_FOUND", `Unknown room ${roomId}`);
    return r;
  }

  private resolveRoom(roomIdOrAlias: string): RoomData {
    if (roomIdOrAlias.startsWith("#")) {
      const id = this.aliases.get(roomIdOrAlias);
      if (!id) fail(404, "M_NOT_FOUND", `Room alias ${roomIdOrAlias} not found`);
      return this.room(id);
    }
    if (!roomIdOrAlias.startsWith("!")) fail(400, "M_INVALID_PARAM", `${roomIdOrAlias} is not a room id or alias`);
    return this.room(roomIdOrAlias);
  }

  private membershipOf(room: RoomData, userId: string): string | undefined {
    const m = room.state.get(skey("m.room.member", userId))?.ev.content.membership;
    return typeof m === "string" ? m : undefined;
  }

  private memberEventAt(room: RoomData, userId: string, pos: number): Stored | undefined {
    for (let i = room.events.length - 1; i >= 0; i--) {
      const s = room.events[i]!;
      if (s.pos > pos) continue;
      if (s.ev.type === "m.room.member" && s.ev.state_key === userId) return s;
    }
    return undefined;
  }

  private membershipAt(room: RoomData, userId: string, pos: number): string | undefined {
    const m = this.memberEventAt(room, userId, pos)?.ev.content.membership;
    return typeof m === "string" ? m : undefined;
  }

  private stateAt(room: RoomData, pos: number): Stored[] {
    const map = new Map<string, Stored>();
    for (const s of room.events) {
      if (s.pos > pos) break;
      if (s.ev.state_key !== undefined) map.set(skey(s.ev.type, s.ev.state_key), s);
    }
    return [...map.values()];
  }

  private creatorOf(room: RoomData): string {
    return room.state.get(skey("m.room.create", ""))?.ev.sender ?? "";
  }

  private powerLevels(room: RoomData): Json | undefined {
    return room.state.get(skey("m.room.power_levels", ""))?.ev.content;
  }

  private powerOf(room: RoomData, userId: string): number {
    const pl = this.powerLevels(room);
    if (!pl) return this.creatorOf(room) === userId ? 100 : 0;
    const users = isObject(pl.users) ? pl.users : {};
    const v = users[userId];
    if (typeof v === "number") return v;
    return typeof pl.users_default === "number" ? pl.users_default : 0;
  }

  private requiredFor(room: RoomData, type: string, isState: boolean): number {
    const pl = this.powerLevels(room);
    if (!pl) return 0;
    const events = isObject(pl.events) ? pl.events : {};
    const v = events[type];
    if (typeof v === "number") return v;
    const d = isState ? pl.state_default : pl.events_default;
    return typeof d === "number" ? d : isState ? 50 : 0;
  }

  private actionLevel(room: RoomData, action: "invite" | "kick" | "ban" | "redact"): number {
    const pl = this.powerLevels(room);
    const v = pl?.[action];
    if (typeof v === "number") return v;
    return action === "invite" ? 0 : 50;
  }

  private requireJoined(room: RoomData, userId: string): void {
    if (this.membershipOf(room, userId) !== "join") {
      fail(403, "M_FORBIDDEN", `User ${userId} not in room ${room.id}`);
    }
  }

  private append(room: RoomData, e: { type: string; sender: string; content: Json; state_key?: string; redacts?: string }, txn?: Stored["txn"]): Stored {
    const ts = Math.max(Date.now(), this.lastTs);
    this.lastTs = ts;
    const ev: FakeEvent = {
      event_id: `$${randomBytes(32).toString("base64url")}`,
      room_id: room.id,
      sender: e.sender,
      type: e.type,
      origin_server_ts: ts,
      content: clone(e.content),
      unsigned: {},
    };
    if (e.state_key !== undefined) ev.state_key = e.state_key;
    if (e.redacts !== undefined) ev.redacts = e.redacts;
    if (e.state_key !== undefined) {
      const prev = room.state.get(skey(e.type, e.state_key));
      if (prev) {
        ev.unsigned = { prev_content: clone(prev.ev.content), prev_sender: prev.ev.sender, replaces_state: prev.ev.event_id };
      }
    }
    const s: Stored = { ev, pos: ++this.pos, txn };
    room.events.push(s);
    room.byId.set(ev.event_id, s);
    if (e.state_key !== undefined) room.state.set(skey(e.type, e.state_key), s);
    for (const w of [...this.watchers]) {
      if (w.roomId !== room.id) continue;
      const copy = clone(ev);
      let ok = false;
      try {
        ok = w.predicate(copy);
      } catch (err) {
        clearTimeout(w.timer);
        this.watchers.delete(w);
        w.reject(err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      if (ok) {
        clearTimeout(w.timer);
        this.watchers.delete(w);
        w.resolve(copy);
      }
    }
    this.wake();
    return s;
  }

  private sendEvent(room: RoomData, sender: string, type: string, content: Json, txn?: Stored["txn"]): Stored {
    this.requireJoined(room, sender);
    if (this.powerOf(room, sender) < this.requiredFor(room, type, false)) {
      fail(403, "M_FORBIDDEN", `You don't have permission to post ${type} events`);
    }
    return this.append(room, { type, sender, content }, txn);
  }

  private sendStateEvent(room: RoomData, sender: string, type: string, stateKey: string, content: Json, txn?: Stored["txn"]): Stored {
    if (type === "m.room.member") {
      const membership = content.membership;
      if (typeof membership !== "string") fail(400, "M_BAD_JSON", "membership missing");
      const id = this.membershipChange(room, sender, stateKey, membership, content);
      return room.byId.get(id)!;
    }
    this.requireJoined(room, sender);
    const mine = this.powerOf(room, sender);
    if (mine < this.requiredFor(room, type, true)) {
      fail(403, "M_FORBIDDEN", `You don't have permission to post ${type} state events`);
    }
    if (stateKey.startsWith("@") && stateKey !== sender) {
      fail(403, "M_FORBIDDEN", "You cannot set state keyed by another user's id");
    }
    if (type === "m.room.power_levels") this.checkPowerLevelChange(room, sender, content);
    return this.append(room, { type, sender, state_key: stateKey, content }, txn);
  }

  private checkPowerLevelChange(room: RoomData, sender: string, next: Json): void {
    const mine = this.powerOf(room, sender);
    const before = this.powerLevels(room) ?? {};
    const oldUsers = isObject(before.users) ? before.users : {};
    const newUsers = isObject(next.users) ? next.users : {};
    for (const uid of new Set([...Object.keys(oldUsers), ...Object.keys(newUsers)])) {
      const o = oldUsers[uid];
      const n = newUsers[uid];
      if (o === n) continue;
      if (typeof n === "number" && n > mine) fail(403, "M_FORBIDDEN", `You cannot raise ${uid} above your own level`);
      if (uid !== sender && typeof o === "number" && o >= mine) {
        fail(403, "M_FORBIDDEN", `You cannot change the level of ${uid}, who is at or above yours`);
      }
    }
  }

  private redactEvent(room: RoomData, sender: string, eventId: string, content: Json, txn?: Stored["txn"]): Stored {
    this.requireJoined(room, sender);
    const target = room.byId.get(eventId);
    if (!target) fail(404, "M_NOT_FOUND", `Event ${eventId} not found`);
    if (target.ev.sender !== sender && this.powerOf(room, sender) < this.actionLevel(room, "redact")) {
      fail(403, "M_FORBIDDEN", "You don't have permission to redact events");
    }
    if (this.powerOf(room, sender) < this.requiredFor(room, "m.room.redaction", false)) {
      fail(403, "M_FORBIDDEN", "You don't have permission to post m.room.redaction events");
    }
    const redaction = this.append(room, { type: "m.room.redaction", sender, content, redacts: eventId }, txn);
    const because = clone(redaction.ev);
    delete because.unsigned;
    target.ev.content = redactContent(target.ev.type, target.ev.content);
    target.ev.unsigned = { redacted_because: because };
    return redaction;
  }

  /** Join, leave (self or kick), invite, ban; returns the new (or unchanged current) member event id. */
  private membershipChange(
    room: RoomData,
    actor: string,
    target: string,
    membership: string,
    extra: { reason?: unknown; is_direct?: unknown; [k: string]: unknown } = {},
  ): string {
    const current = this.membershipOf(room, target);
    const existing = room.state.get(skey("m.room.member", target));
    const profile = this.users.get(target);
    const content: Json = { membership };
    if (profile?.displayName !== undefined && membership !== "leave" && membership !== "ban") content.displayname = profile.displayName;
    if (profile?.avatarUrl !== undefined && membership !== "leave" && membership !== "ban") content.avatar_url = profile.avatarUrl;
    if (typeof extra.reason === "string") content.reason = extra.reason;
    switch (membership) {
      case "join": {
        if (actor !== target) fail(403, "M_FORBIDDEN", "Cannot force another user to join");
        if (!profile) fail(404, "M_NOT_FOUND", `Unknown user ${target}`);
        if (current === "join" && existing) return existing.ev.event_id;
        if (current === "ban") fail(403, "M_FORBIDDEN", "You are banned from this room");
        const rule = room.state.get(skey("m.room.join_rules", ""))?.ev.content.join_rule;
        if (current !== "invite" && rule !== "public") fail(403, "M_FORBIDDEN", "You are not invited to this room.");
        break;
      }
      case "invite": {
        if (!profile) fail(404, "M_NOT_FOUND", `Unknown user ${target}`);
        this.requireJoined(room, actor);
        if (this.powerOf(room, actor) < this.actionLevel(room, "invite")) {
          fail(403, "M_FORBIDDEN", "You don't have permission to invite users");
        }
        if (current === "join") fail(403, "M_FORBIDDEN", `${target} is already in the room.`);
        if (current === "ban") fail(403, "M_FORBIDDEN", `${target} is banned from the room`);
        if (current === "invite" && existing) return existing.ev.event_id;
        if (extra.is_direct === true) content.is_direct = true;
        break;
      }
      case "leave": {
        if (actor === target) {
          if (current !== "join" && current !== "invite" && current !== "knock") {
            fail(403, "M_FORBIDDEN", `User ${target} not in room ${room.id}`);
          }
        } else {
          this.requireJoined(room, actor);
          if (current === "ban") {
            if (this.powerOf(room, actor) < this.actionLevel(room, "ban")) fail(403, "M_FORBIDDEN", "You don't have permission to unban");
          } else {
            if (current !== "join" && current !== "invite") fail(403, "M_FORBIDDEN", `${target} is not in the room`);
            if (this.powerOf(room, actor) < this.actionLevel(room, "kick") || this.powerOf(room, actor) <= this.powerOf(room, target)) {
              fail(403, "M_FORBIDDEN", "You don't have permission to kick this user");
            }
          }
        }
        break;
      }
      case "ban": {
        this.requireJoined(room, actor);
        if (this.powerOf(room, actor) < this.actionLevel(room, "ban") || this.powerOf(room, actor) <= this.powerOf(room, target)) {
          fail(403, "M_FORBIDDEN", "You don't have permission to ban this user");
        }
        break;
      }
      default:
        fail(400, "M_BAD_JSON", `Unsupported membership ${membership}`);
    }
    return this.append(room, { type: "m.room.member", sender: actor, state_key: target, content }).ev.event_id;
  }

  private doCreateRoom(creator: string, body: Json): string {
    this.user(creator);
    const version = typeof body.room_version === "string" ? body.room_version : ROOM_VERSION;
    if (!/^([1-9]|1[01])$/.test(version)) fail(400, "M_UNSUPPORTED_ROOM_VERSION", `Room version ${version} not supported`);
    const visibility = body.visibility === "public" ? "public" : "private";
    const preset = typeof body.preset === "string" ? body.preset : visibility === "public" ? "public_chat" : "private_chat";
    if (!["public_chat", "private_chat", "trusted_private_chat"].includes(preset)) fail(400, "M_INVALID_PARAM", `Unknown preset ${preset}`);
    let alias: string | undefined;
    if (typeof body.room_alias_name === "string" && body.room_alias_name !== "") {
      alias = `#${body.room_alias_name}:${this.serverName}`;
      if (this.aliases.has(alias)) fail(400, "M_ROOM_IN_USE", "Room alias already taken");
    }
    const invites = Array.isArray(body.invite) ? body.invite.filter((x): x is string => typeof x === "string") : [];
    for (const uid of invites) if (!this.users.has(uid)) fail(404, "M_NOT_FOUND", `Unknown user ${uid}`);

    const room: RoomData = {
      id: `!${letters(18)}:${this.serverName}`,
      version,
      events: [],
      byId: new Map(),
      state: new Map(),
      directoryVisibility: visibility,
    };
    this.rooms.set(room.id, room);
    const creationContent = isObject(body.creation_content) ? body.creation_content : {};
    this.append(room, { type: "m.room.create", sender: creator, state_key: "", content: { ...creationContent, creator, room_version: version } });
    this.membershipChangeUnchecked(room, creator, creator, "join");

    const users: Record<string, number> = { [creator]: 100 };
    if (preset === "trusted_private_chat") for (const uid of invites) users[uid] = 100;
    const pl: Json = {
      users,
      users_default: 0,
      events: {
        "m.room.name": 50,
        "m.room.power_levels": 100,
        "m.room.history_visibility": 100,
        "m.room.canonical_alias": 50,
        "m.room.avatar": 50,
        "m.room.tombstone": 100,
        "m.room.server_acl": 100,
        "m.room.encryption": 100,
      },
      events_default: 0,
      state_default: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: preset === "public_chat" ? 50 : 0,
      historical: 100,
      notifications: { room: 50 },
    };
    const override = isObject(body.power_level_content_override) ? body.power_level_content_override : {};
    this.append(room, { type: "m.room.power_levels", sender: creator, state_key: "", content: { ...pl, ...override } });
    if (alias) {
      this.aliases.set(alias, room.id);
      this.append(room, { type: "m.room.canonical_alias", sender: creator, state_key: "", content: { alias } });
    }
    this.append(room, {
      type: "m.room.join_rules",
      sender: creator,
      state_key: "",
      content: { join_rule: preset === "public_chat" ? "public" : "invite" },
    });
    this.append(room, { type: "m.room.history_visibility", sender: creator, state_key: "", content: { history_visibility: "shared" } });
    if (preset !== "public_chat") {
      this.append(room, { type: "m.room.guest_access", sender: creator, state_key: "", content: { guest_access: "can_join" } });
    }
    if (Array.isArray(body.initial_state)) {
      for (const st of body.initial_state) {
        if (!isObject(st) || typeof st.type !== "string" || !isObject(st.content)) fail(400, "M_BAD_JSON", "Bad initial_state entry");
        this.append(room, {
          type: st.type,
          sender: creator,
          state_key: typeof st.state_key === "string" ? st.state_key : "",
          content: st.content,
        });
      }
    }
    if (typeof body.name === "string") this.append(room, { type: "m.room.name", sender: creator, state_key: "", content: { name: body.name } });
    if (typeof body.topic === "string") this.append(room, { type: "m.room.topic", sender: creator, state_key: "", content: { topic: body.topic } });
    for (const uid of invites) this.membershipChange(room, creator, uid, "invite", { is_direct: body.is_direct === true });
    return room.id;
  }

  private membershipChangeUnchecked(room: RoomData, actor: string, target: string, membership: string): void {
    const profile = this.users.get(target);
    const content: Json = { membership };
    if (profile?.displayName !== undefined) content.displayname = profile.displayName;
    if (profile?.avatarUrl !== undefined) content.avatar_url = profile.avatarUrl;
    this.append(room, { type: "m.room.member", sender: actor, state_key: target, content });
  }

  // -------------------------------------------------------------------------------------------
  // Sync

  private wake(): void {
    if (this.wakeScheduled || this.waiters.size === 0) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      for (const w of [...this.waiters]) {
        const r = this.buildSync(w.session, w.since, w.filter, w.fullState);
        if (!r.empty) this.finishWaiter(w, r.body);
      }
    });
  }

  private finishWaiter(w: SyncWaiter, body?: Json): void {
    if (!this.waiters.delete(w)) return;
    clearTimeout(w.timer);
    w.finish({ json: body ?? this.buildSync(w.session, w.since, w.filter, w.fullState).body });
  }

  /** Client format for a response: copies, `unsigned.age`, `transaction_id` for the sending token. */
  private clientEvent(s: Stored, token: string | undefined, withRoomId: boolean): Json {
    const ev = clone(s.ev) as unknown as Json;
    if (!withRoomId) delete ev.room_id;
    const unsigned: Json = isObject(ev.unsigned) ? ev.unsigned : {};
    unsigned.age = Math.max(0, Date.now() - s.ev.origin_server_ts);
    if (s.txn && token !== undefined && s.txn.token === token) unsigned.transaction_id = s.txn.txnId;
    ev.unsigned = unsigned;
    return ev;
  }

  private strippedState(room: RoomData, userId: string, token: string): Json[] {
    const out: Json[] = [];
    for (const type of STRIPPED_STATE_TYPES) {
      const s = room.state.get(skey(type, ""));
      if (s) out.push({ type: s.ev.type, state_key: s.ev.state_key, sender: s.ev.sender, content: clone(s.ev.content) });
    }
    const inviteEv = room.state.get(skey("m.room.member", userId));
    if (inviteEv) {
      const inviter = room.state.get(skey("m.room.member", inviteEv.ev.sender));
      if (inviter && inviter !== inviteEv) {
        out.push({ type: inviter.ev.type, state_key: inviter.ev.state_key, sender: inviter.ev.sender, content: clone(inviter.ev.content) });
      }
      // The invite itself as a full event (as Synapse sends it; a superset of stripped state).
      out.push(this.clientEvent(inviteEv, token, false));
    }
    return out;
  }

  private buildSync(session: Session, since: number | null, filter: SyncFilter, fullState: boolean): { body: Json; empty: boolean } {
    const u = this.user(session.userId);
    const now = this.pos;
    const token = session.token;
    const join: Record<string, Json> = {};
    const invite: Record<string, Json> = {};
    const leave: Record<string, Json> = {};

    const roomAccountData = (roomId: string): Json[] => {
      const m = u.roomAccountData.get(roomId);
      if (!m) return [];
      const out: Json[] = [];
      for (const [type, v] of m) {
        if ((since === null || v.pos > since) && eventPasses(filter.roomAccountData, { type })) out.push({ type, content: clone(v.content) });
      }
      return out;
    };
    const timelinePasses = (s: Stored) => eventPasses(filter.timeline, s.ev);
    const statePasses = (s: Stored) => eventPasses(filter.state, s.ev);
    const section = (room: RoomData, candidates: Stored[], mode: "full" | "delta", from: number) => {
      let timeline = candidates;
      let limited = false;
      if (timeline.length > filter.timelineLimit) {
        timeline = timeline.slice(-filter.timelineLimit);
        limited = true;
      }
      const startPos = timeline.length > 0 ? timeline[0]!.pos - 1 : now;
      let state: Stored[] = [];
      if (mode === "full") state = this.stateAt(room, startPos);
      else if (limited) {
        const m = new Map<string, Stored>();
        for (const s of room.events) {
          if (s.pos <= from || s.pos > startPos || s.ev.state_key === undefined) continue;
          m.set(skey(s.ev.type, s.ev.state_key), s);
        }
        state = [...m.values()];
      }
      return {
        timeline: {
          events: timeline.map((s) => this.clientEvent(s, token, false)),
          limited,
          prev_batch: `s${startPos}`,
        },
        state: { events: state.filter(statePasses).map((s) => this.clientEvent(s, token, false)) },
      };
    };

    for (const room of this.rooms.values()) {
      if (filter.rooms && !filter.rooms.includes(room.id)) continue;
      if (filter.notRooms.includes(room.id)) continue;
      const memberNow = room.state.get(skey("m.room.member", u.userId));
      const memNow = memberNow?.ev.content.membership;
      if (!memberNow) continue;
      const memThen = since === null ? undefined : this.membershipAt(room, u.userId, since);
      if (memNow === "join") {
        const newly = since === null || memThen !== "join";
        const candidates = room.events.filter((s) => (newly || s.pos > (since ?? 0)) && timelinePasses(s));
        const ad = roomAccountData(room.id);
        if (!newly && !fullState && candidates.length === 0 && ad.length === 0) continue;
        const sec = section(room, candidates, newly || fullState ? "full" : "delta", since ?? 0);
        let joined = 0;
        let invited = 0;
        for (const s of room.state.values()) {
          if (s.ev.type !== "m.room.member") continue;
          if (s.ev.content.membership === "join") joined++;
          else if (s.ev.content.membership === "invite") invited++;
        }
        join[room.id] = {
          ...sec,
          ephemeral: { events: [] },
          account_data: { events: ad },
          summary: { "m.joined_member_count": joined, "m.invited_member_count": invited },
          unread_notifications: { notification_count: 0, highlight_count: 0 },
        };
      } else if (memNow === "invite") {
        if (since !== null && memberNow.pos <= since) continue;
        invite[room.id] = { invite_state: { events: this.strippedState(room, u.userId, token) } };
      } else if (memNow === "leave" || memNow === "ban") {
        let candidates: Stored[];
        let mode: "full" | "delta" = "delta";
        if (since === null) {
          if (!filter.includeLeave) continue;
          candidates = room.events.filter((s) => s.pos <= memberNow.pos && timelinePasses(s));
          mode = "full";
        } else {
          if (memberNow.pos <= since) continue;
          if (memThen === "join") candidates = room.events.filter((s) => s.pos > since && s.pos <= memberNow.pos && timelinePasses(s));
          else if (memThen === "invite" || memThen === "knock") candidates = [memberNow];
          else continue;
        }
        leave[room.id] = { ...section(room, candidates, mode, since ?? 0), account_data: { events: roomAccountData(room.id) } };
      }
    }

    const accountData: Json[] = [];
    for (const [type, v] of u.accountData) {
      if ((since === null || v.pos > since) && eventPasses(filter.accountData, { type })) accountData.push({ type, content: clone(v.content) });
    }
    const empty = Object.keys(join).length === 0 && Object.keys(invite).length === 0 && Object.keys(leave).length === 0 && accountData.length === 0;
    return {
      empty,
      body: {
        next_batch: `s${now}`,
        rooms: { join, invite, leave, knock: {} },
        account_data: { events: accountData },
        presence: { events: [] },
        to_device: { events: [] },
        device_lists: { changed: [], left: [] },
        device_one_time_keys_count: {},
      },
    };
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const rawPath = url.pathname;
    const segments = rawPath.split("/").slice(1);
    let decoded: string[];
    try {
      decoded = segments.map((s) => decodeURIComponent(s));
    } catch {
      decoded = segments;
    }
    const path = "/" + decoded.join("/");
    const method = req.method ?? "GET";
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const record: FakeRequestRecord = { method, path, rawPath, query, at: Date.now() };
    this.requests.push(record);
    const body = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => resolve(Buffer.concat(chunks)));
      req.on("error", reject);
    });

    const send = (status: number, reply: Reply) => {
      record.status = status;
      if (res.writableEnded || res.destroyed) return;
      const headers: Record<string, string> = { "Cache-Control": "no-store" };
      if (this.closing) headers.Connection = "close";
      let payload: Buffer;
      if (reply.raw) {
        headers["Content-Type"] = reply.raw.contentType;
        Object.assign(headers, reply.raw.headers ?? {});
        payload = reply.raw.data;
      } else {
        headers["Content-Type"] = "application/json";
        payload = Buffer.from(JSON.stringify(reply.json ?? {}));
      }
      headers["Content-Length"] = String(payload.length);
      res.writeHead(status, headers);
      res.end(payload);
    };
    const sendError = (e: FakeMatrixError) => {
      const headers: Record<string, string> = {};
      if (e.errcode === "M_LIMIT_EXCEEDED" && typeof e.extra.retry_after_ms === "number") {
        headers["Retry-After"] = String(Math.ceil(e.extra.retry_after_ms / 1000));
      }
      send(e.status, { raw: { data: Buffer.from(JSON.stringify(e.body())), contentType: "application/json", headers } });
    };

    const proxyStatus = this.activeProxyError();
    if (proxyStatus !== undefined) {
      send(proxyStatus, this.proxyErrorReply(proxyStatus));
      return;
    }

    // Route lookup.
    let api: Api | undefined;
    let version = "";
    let rest: string[] = [];
    if (decoded[0] === "_matrix" && (decoded[1] === "client" || decoded[1] === "media")) {
      api = decoded[1];
      version = decoded[2] ?? "";
      rest = decoded.slice(3);
    }
    let matched: { route: Route; params: Record<string, string> } | undefined;
    let pathKnown = false;
    if (api === "client" && version === "versions" && rest.length === 0) {
      pathKnown = true;
      if (method === "GET") matched = { route: this.versionsRoute, params: {} };
    } else if (api) {
      for (const route of this.routes) {
        if (route.api !== api || !route.versions.includes(version) || route.parts.length !== rest.length) continue;
        const params: Record<string, string> = {};
        let ok = true;
        for (let i = 0; i < route.parts.length; i++) {
          const p = route.parts[i]!;
          const v = rest[i]!;
          if (p.startsWith(":")) params[p.slice(1)] = v;
          else if (p !== v) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        pathKnown = true;
        if (route.method === method) {
          matched = { route, params };
          break;
        }
      }
    }
    if (!matched) {
      const status = pathKnown ? 405 : 404;
      this.unhandled.push({ method, path, rawPath, status });
      sendError(new FakeMatrixError(status, "M_UNRECOGNIZED", "Unrecognized request"));
      return;
    }

    try {
      // Authentication.
      let session: Session | undefined;
      if (matched.route.auth !== "none") {
        const header = req.headers.authorization;
        let token: string | undefined;
        if (typeof header === "string" && /^Bearer\s+/i.test(header)) token = header.replace(/^Bearer\s+/i, "").trim();
        else token = url.searchParams.get("access_token") ?? undefined;
        if (token === undefined || token === "") {
          if (matched.route.auth === "required") fail(401, "M_MISSING_TOKEN", "Missing access token");
        } else {
          session = this.sessions.get(token);
          if (!session) fail(401, "M_UNKNOWN_TOKEN", "Unknown access token", { soft_logout: false });
          record.user = session.userId;
        }
      }
      // Rate limiting (after authentication, as Synapse does).
      if (session) {
        const rule = this.rateLimits.find(
          (r) => r.remaining > 0 && (r.pathPrefix === undefined || path.startsWith(r.pathPrefix) || rawPath.startsWith(r.pathPrefix)),
        );
        if (rule) {
          rule.remaining--;
          if (rule.remaining === 0) this.rateLimits.splice(this.rateLimits.indexOf(rule), 1);
          fail(429, "M_LIMIT_EXCEEDED", "Too Many Requests", { retry_after_ms: rule.retryAfterMs });
        }
      }
      let parsed: Json | undefined;
      const ctx: Ctx = {
        method,
        params: matched.params,
        query: url.searchParams,
        path,
        body,
        headers: req.headers,
        session,
        res,
        json: () => {
          if (parsed) return parsed;
          if (body.length === 0) return (parsed = {});
          let v: unknown;
          try {
            v = JSON.parse(body.toString("utf8"));
          } catch {
            fail(400, "M_NOT_JSON", "Content not JSON.");
          }
          if (!isObject(v)) fail(400, "M_BAD_JSON", "Body must be a JSON object");
          return (parsed = v);
        },
      };
      const reply = await matched.route.handler(ctx);
      send(reply.status ?? 200, reply);
    } catch (err) {
      if (err instanceof FakeMatrixError) sendError(err);
      else send(500, { json: { errcode: "M_UNKNOWN", error: err instanceof Error ? err.message : String(err) } });
    }
  }

  private readonly versionsRoute: Route = {
    method: "GET",
    api: "client",
    versions: [],
    parts: [],
    auth: "none",
    handler: () => ({
      json: {
        versions: ["r0.5.0", "r0.6.0", "r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10", "v1.11"],
        unstable_features: {},
      },
    }),
  };

  private buildRoutes(): Route[] {
    const routes: Route[] = [];
    const add = (method: string, spec: string, handler: Route["handler"], opts: { auth?: Route["auth"]; versions?: readonly string[] } = {}) => {
      const [apiPart, p] = spec.split(":/") as [string, string];
      const api = apiPart as Api;
      routes.push({
        method,
        api,
        versions: opts.versions ?? (api === "media" ? MEDIA_VERSIONS : CLIENT_VERSIONS),
        parts: p.split("/"),
        auth: opts.auth ?? "required",
        handler,
      });
    };
    const me = (ctx: Ctx) => ctx.session!.userId;
    const ownUser = (ctx: Ctx) => {
      if (ctx.params.userId !== me(ctx)) fail(403, "M_FORBIDDEN", "Cannot access another user's data");
      return this.user(me(ctx));
    };
    // Synapse (up to 1.8x) keys a transaction on the access token: first its HTTP response cache (token
    // + path, 30-60 min), then, for an event that was stored, (room, token, txnId) for 24 h. The second
    // covers the first, so the key here is room + token + txnId (a redact reusing a send's txnId in the
    // same room gets that send's event id back, as on Synapse). Checked before anything else; errors
    // (403, 429) are not remembered.
    const idempotent = (ctx: Ctx, run: () => Stored): Reply => {
      const key = `${ctx.session!.token}\u0000${ctx.params.roomId!}\u0000${ctx.params.txnId!}`;
      const prior = this.txns.get(key);
      if (prior && Date.now() - prior.at < this.txnTtlMs) {
        this.deduped++;
        return { json: { event_id: prior.eventId } };
      }
      if (prior) this.txns.delete(key);
      const s = run();
      this.txns.set(key, { eventId: s.ev.event_id, at: Date.now() });
      return { json: { event_id: s.ev.event_id } };
    };
    const visibleRoom = (ctx: Ctx): RoomData => {
      const room = this.room(ctx.params.roomId!);
      const m = this.membershipOf(room, me(ctx));
      if (m !== "join" && m !== "leave" && m !== "ban") fail(403, "M_FORBIDDEN", `User ${me(ctx)} not in room ${room.id}`);
      return room;
    };
    const stateNow = (room: RoomData, userId: string): Stored[] => {
      const m = this.membershipOf(room, userId);
      if (m === "join") return [...room.state.values()];
      const ev = room.state.get(skey("m.room.member", userId));
      return ev ? this.stateAt(room, ev.pos) : [];
    };
    const visibleEvents = (room: RoomData, userId: string): Stored[] => {
      const m = this.membershipOf(room, userId);
      if (m === "join") return room.events;
      const ev = room.state.get(skey("m.room.member", userId));
      return ev ? room.events.filter((s) => s.pos <= ev.pos) : [];
    };

    // --- Authentication and account.
    add("GET", "client:/login", () => ({ json: { flows: [{ type: "m.login.password" }] } }), { auth: "none" });
    add(
      "POST",
      "client:/login",
      (ctx) => {
        const b = ctx.json();
        if (b.type !== "m.login.password") fail(400, "M_UNKNOWN", `Unknown login type ${String(b.type)}`);
        let user: string | undefined;
        const ident = b.identifier;
        if (isObject(ident)) {
          if (ident.type !== "m.id.user") fail(400, "M_UNKNOWN", `Unsupported identifier type ${String(ident.type)}`);
          if (typeof ident.user === "string") user = ident.user;
        } else if (typeof b.user === "string") user = b.user;
        if (!user) fail(400, "M_MISSING_PARAM", "Missing user");
        const userId = user.startsWith("@") ? user : `@${user.toLowerCase()}:${this.serverName}`;
        const u = this.users.get(userId);
        if (!u || u.password === undefined || u.password !== b.password) fail(403, "M_FORBIDDEN", "Invalid username or password");
        const s = this.newSession(userId, typeof b.device_id === "string" ? b.device_id : undefined);
        return { json: { user_id: userId, access_token: s.token, device_id: s.deviceId, home_server: this.serverName } };
      },
      { auth: "none" },
    );
    add("POST", "client:/register", () => fail(403, "M_FORBIDDEN", "Registration has been disabled"), { auth: "none" });
    add("POST", "client:/logout", (ctx) => {
      this.sessions.delete(ctx.session!.token);
      return { json: {} };
    });
    add("POST", "client:/logout/all", (ctx) => {
      for (const [t, s] of this.sessions) if (s.userId === me(ctx)) this.sessions.delete(t);
      return { json: {} };
    });
    add("GET", "client:/account/whoami", (ctx) => ({
      json: { user_id: me(ctx), device_id: ctx.session!.deviceId, is_guest: false },
    }));
    add("GET", "client:/capabilities", () => ({
      json: {
        capabilities: {
          "m.change_password": { enabled: false },
          "m.room_versions": { default: ROOM_VERSION, available: Object.fromEntries(["6", "7", "8", "9", "10", "11"].map((v) => [v, "stable"])) },
        },
      },
    }));

    // --- Account data and filters.
    const getAD = (ctx: Ctx, room?: string) => {
      const u = ownUser(ctx);
      const m = room === undefined ? u.accountData : u.roomAccountData.get(room);
      const v = m?.get(ctx.params.type!);
      if (!v) fail(404, "M_NOT_FOUND", "Account data not found");
      return { json: clone(v.content) };
    };
    const putAD = (ctx: Ctx, room?: string) => {
      const u = ownUser(ctx);
      const content = ctx.json();
      let m = u.accountData;
      if (room !== undefined) {
        this.room(room);
        m = u.roomAccountData.get(room) ?? new Map();
        u.roomAccountData.set(room, m);
      }
      m.set(ctx.params.type!, { content: clone(content), pos: ++this.pos });
      this.wake();
      return { json: {} };
    };
    add("GET", "client:/user/:userId/account_data/:type", (ctx) => getAD(ctx));
    add("PUT", "client:/user/:userId/account_data/:type", (ctx) => putAD(ctx));
    add("GET", "client:/user/:userId/rooms/:roomId/account_data/:type", (ctx) => getAD(ctx, ctx.params.roomId));
    add("PUT", "client:/user/:userId/rooms/:roomId/account_data/:type", (ctx) => putAD(ctx, ctx.params.roomId));
    add("POST", "client:/user/:userId/filter", (ctx) => {
      const u = ownUser(ctx);
      const id = String(++this.filterCounter);
      u.filters.set(id, clone(ctx.json()));
      return { json: { filter_id: id } };
    });
    add("GET", "client:/user/:userId/filter/:filterId", (ctx) => {
      const f = ownUser(ctx).filters.get(ctx.params.filterId!);
      if (!f) fail(404, "M_NOT_FOUND", "No such filter");
      return { json: clone(f) };
    });

    // --- Sync.
    add("GET", "client:/sync", (ctx) => {
      const session = ctx.session!;
      const u = this.user(session.userId);
      const q = ctx.query;
      let filterDef: Json = {};
      const f = q.get("filter");
      if (f !== null && f !== "") {
        if (f.trim().startsWith("{")) {
          try {
            const v: unknown = JSON.parse(f);
            if (!isObject(v)) throw new Error("not an object");
            filterDef = v;
          } catch {
            fail(400, "M_INVALID_PARAM", "Invalid filter JSON");
          }
        } else {
          const stored = u.filters.get(f);
          if (!stored) fail(400, "M_INVALID_PARAM", `Unknown filter id ${f}`);
          filterDef = stored;
        }
      }
      const filter = parseSyncFilter(filterDef);
      let since: number | null = null;
      const sinceRaw = q.get("since");
      if (sinceRaw !== null && sinceRaw !== "") {
        const m = /^s(\d+)$/.exec(sinceRaw);
        if (!m) fail(400, "M_INVALID_PARAM", `Invalid since token ${sinceRaw}`);
        since = Math.min(Number(m[1]), this.pos);
      }
      const fullState = q.get("full_state") === "true";
      const timeoutMs = Math.max(0, Number(q.get("timeout") ?? "0") || 0);
      const setPresence = q.get("set_presence");
      u.presence = { presence: setPresence && setPresence !== "" ? setPresence : "online", since: Date.now() };
      const first = this.buildSync(session, since, filter, fullState);
      if (since === null || !first.empty || timeoutMs === 0 || this.closing) return { json: first.body };
      const sincePos = since;
      return new Promise<Reply>((resolve) => {
        const w: SyncWaiter = {
          session,
          since: sincePos,
          filter,
          fullState,
          timer: setTimeout(() => this.finishWaiter(w), timeoutMs),
          res: ctx.res,
          finish: resolve,
        };
        this.waiters.add(w);
        ctx.res.on("close", () => {
          if (!ctx.res.writableEnded && this.waiters.delete(w)) clearTimeout(w.timer);
        });
      });
    });

    add("GET", "client:/joined_rooms", (ctx) => ({
      json: { joined_rooms: [...this.rooms.values()].filter((r) => this.membershipOf(r, me(ctx)) === "join").map((r) => r.id) },
    }));

    // --- Sending.
    add("PUT", "client:/rooms/:roomId/send/:type/:txnId", (ctx) =>
      idempotent(ctx, () => {
        const room = this.room(ctx.params.roomId!);
        return this.rateLimited(me(ctx), () =>
          this.sendEvent(room, me(ctx), ctx.params.type!, ctx.json(), { token: ctx.session!.token, txnId: ctx.params.txnId! }),
        );
      }),
    );
    const putState = (ctx: Ctx) => {
      const room = this.room(ctx.params.roomId!);
      const put = () => this.sendStateEvent(room, me(ctx), ctx.params.type!, ctx.params.stateKey ?? "", ctx.json());
      // Synapse counts non-member state events against rc_message; membership has its own limiters.
      const s = ctx.params.type === "m.room.member" ? put() : this.rateLimited(me(ctx), put);
      return { json: { event_id: s.ev.event_id } };
    };
    add("PUT", "client:/rooms/:roomId/state/:type/:stateKey", putState);
    add("PUT", "client:/rooms/:roomId/state/:type", putState);
    add("PUT", "client:/rooms/:roomId/redact/:eventId/:txnId", (ctx) =>
      idempotent(ctx, () => {
        const room = this.room(ctx.params.roomId!);
        const b = ctx.json();
        const content: Json = typeof b.reason === "string" ? { reason: b.reason } : {};
        return this.rateLimited(me(ctx), () =>
          this.redactEvent(room, me(ctx), ctx.params.eventId!, content, { token: ctx.session!.token, txnId: ctx.params.txnId! }),
        );
      }),
    );

    // --- Reading rooms.
    add("GET", "client:/rooms/:roomId/state", (ctx) => {
      const room = visibleRoom(ctx);
      return { json: stateNow(room, me(ctx)).map((s) => this.clientEvent(s, ctx.session!.token, true)) };
    });
    const getState = (ctx: Ctx) => {
      const room = visibleRoom(ctx);
      const key = skey(ctx.params.type!, ctx.params.stateKey ?? "");
      const s = stateNow(room, me(ctx)).find((x) => x.ev.state_key !== undefined && skey(x.ev.type, x.ev.state_key) === key);
      if (!s) fail(404, "M_NOT_FOUND", "Event not found.");
      if (ctx.query.get("format") === "event") return { json: this.clientEvent(s, ctx.session!.token, true) };
      return { json: clone(s.ev.content) };
    };
    add("GET", "client:/rooms/:roomId/state/:type/:stateKey", getState);
    add("GET", "client:/rooms/:roomId/state/:type", getState);
    add("GET", "client:/rooms/:roomId/event/:eventId", (ctx) => {
      const room = this.room(ctx.params.roomId!);
      const s = visibleEvents(room, me(ctx)).find((x) => x.ev.event_id === ctx.params.eventId);
      if (!s) fail(404, "M_NOT_FOUND", "Event not found.");
      return { json: this.clientEvent(s, ctx.session!.token, true) };
    });
    add("GET", "client:/rooms/:roomId/context/:eventId", (ctx) => {
      const room = this.room(ctx.params.roomId!);
      const evs = visibleEvents(room, me(ctx));
      const idx = evs.findIndex((x) => x.ev.event_id === ctx.params.eventId);
      if (idx < 0) fail(404, "M_NOT_FOUND", "Event not found.");
      const limit = Math.max(0, Number(ctx.query.get("limit") ?? "10") || 0);
      const half = Math.floor(limit / 2);
      const before = evs.slice(Math.max(0, idx - half), idx).reverse();
      const after = evs.slice(idx + 1, idx + 1 + (limit - half));
      const t = ctx.session!.token;
      return {
        json: {
          event: this.clientEvent(evs[idx]!, t, true),
          events_before: before.map((s) => this.clientEvent(s, t, true)),
          events_after: after.map((s) => this.clientEvent(s, t, true)),
          state: this.stateAt(room, evs[idx]!.pos).map((s) => this.clientEvent(s, t, true)),
          start: `s${(before.at(-1)?.pos ?? evs[idx]!.pos) - 1}`,
          end: `s${after.at(-1)?.pos ?? evs[idx]!.pos}`,
        },
      };
    });
    // Tokens are stream positions `s<pos>` (sync's next_batch and prev_batch are valid here, as on
    // Synapse): dir=b returns events at or before `from`, newest first; dir=f events after it. As on
    // Synapse, `end` comes with every non-empty chunk (even a short last page); the page after the
    // last one is `chunk: []` without `end`. `to` bounds the walk (dir=b: events after `to` only).
    add("GET", "client:/rooms/:roomId/messages", (ctx) => {
      const room = visibleRoom(ctx);
      const token = (name: string): number | undefined => {
        const raw = ctx.query.get(name);
        if (raw === null || raw === "") return undefined;
        const m = /^s(\d+)$/.exec(raw);
        if (!m) fail(400, "M_INVALID_PARAM", `Invalid ${name} token ${raw}`);
        return Number(m[1]);
      };
      const dirRaw = ctx.query.get("dir") ?? "f"; // Synapse's default when `dir` is missing
      if (dirRaw !== "b" && dirRaw !== "f") fail(400, "M_INVALID_PARAM", "Query parameter 'dir' must be one of ['b', 'f']");
      const dir = dirRaw;
      const limitRaw = ctx.query.get("limit");
      const limitNum = limitRaw === null || limitRaw === "" ? 10 : Number(limitRaw);
      if (!Number.isInteger(limitNum)) fail(400, "M_INVALID_PARAM", "Query parameter 'limit' must be an integer");
      if (limitNum < 0) fail(400, "M_INVALID_PARAM", "Query parameter 'limit' must be 0 or above");
      const limit = Math.min(limitNum, MAX_MESSAGES_LIMIT);
      let eventFilter: EventFilter | undefined;
      const filterRaw = ctx.query.get("filter");
      if (filterRaw !== null && filterRaw !== "") {
        let v: unknown;
        try {
          v = JSON.parse(filterRaw);
        } catch {
          fail(400, "M_INVALID_PARAM", "Invalid filter JSON");
        }
        if (!isObject(v)) fail(400, "M_INVALID_PARAM", "Invalid filter JSON");
        eventFilter = parseEventFilter(v);
      }
      const from = token("from") ?? (dir === "b" ? this.pos : 0);
      const to = token("to");
      const evs = visibleEvents(room, me(ctx)).filter((s) => eventFilter === undefined || eventPasses(eventFilter, s.ev));
      const t = ctx.session!.token;
      let chunk: Stored[];
      let end: string | undefined;
      if (dir === "b") {
        const older = evs.filter((s) => s.pos <= from && (to === undefined || s.pos > to));
        chunk = limit === 0 ? [] : older.slice(-limit).reverse();
        if (chunk.length > 0) end = `s${chunk.at(-1)!.pos - 1}`;
      } else {
        const newer = evs.filter((s) => s.pos > from && (to === undefined || s.pos <= to));
        chunk = newer.slice(0, limit);
        if (chunk.length > 0) end = `s${chunk.at(-1)!.pos}`;
      }
      const out: Json = { chunk: chunk.map((s) => this.clientEvent(s, t, true)), start: `s${from}` };
      if (end !== undefined) out.end = end;
      return { json: out };
    });
    const relations = (ctx: Ctx) => {
      const room = this.room(ctx.params.roomId!);
      const evs = visibleEvents(room, me(ctx));
      if (!evs.some((s) => s.ev.event_id === ctx.params.eventId)) fail(404, "M_NOT_FOUND", "Event not found.");
      const chunk = evs
        .filter((s) => {
          const rel = s.ev.content["m.relates_to"];
          if (!isObject(rel) || rel.event_id !== ctx.params.eventId) return false;
          if (ctx.params.relType !== undefined && rel.rel_type !== ctx.params.relType) return false;
          if (ctx.params.eventType !== undefined && s.ev.type !== ctx.params.eventType) return false;
          return true;
        })
        .reverse();
      return { json: { chunk: chunk.map((s) => this.clientEvent(s, ctx.session!.token, true)) } };
    };
    add("GET", "client:/rooms/:roomId/relations/:eventId", relations, { versions: ["v1"] });
    add("GET", "client:/rooms/:roomId/relations/:eventId/:relType", relations, { versions: ["v1"] });
    add("GET", "client:/rooms/:roomId/relations/:eventId/:relType/:eventType", relations, { versions: ["v1"] });
    add("GET", "client:/rooms/:roomId/joined_members", (ctx) => {
      const room = this.room(ctx.params.roomId!);
      this.requireJoined(room, me(ctx));
      const joined: Record<string, Json> = {};
      for (const s of room.state.values()) {
        if (s.ev.type !== "m.room.member" || s.ev.content.membership !== "join" || s.ev.state_key === undefined) continue;
        const p: Json = {};
        if (typeof s.ev.content.displayname === "string") p.display_name = s.ev.content.displayname;
        if (typeof s.ev.content.avatar_url === "string") p.avatar_url = s.ev.content.avatar_url;
        joined[s.ev.state_key] = p;
      }
      return { json: { joined } };
    });
    add("GET", "client:/rooms/:roomId/members", (ctx) => {
      const room = visibleRoom(ctx);
      const membership = ctx.query.get("membership");
      const notMembership = ctx.query.get("not_membership");
      const at = ctx.query.get("at");
      const atPos = at && /^s\d+$/.test(at) ? Number(at.slice(1)) : undefined;
      const state = atPos !== undefined ? this.stateAt(room, atPos) : stateNow(room, me(ctx));
      const chunk = state
        .filter((s) => s.ev.type === "m.room.member")
        .filter((s) => membership === null || s.ev.content.membership === membership)
        .filter((s) => notMembership === null || s.ev.content.membership !== notMembership)
        .map((s) => this.clientEvent(s, ctx.session!.token, true));
      return { json: { chunk } };
    });

    // --- Membership.
    const joinReply = (ctx: Ctx, room: RoomData) => {
      this.membershipChange(room, me(ctx), me(ctx), "join");
      return { json: { room_id: room.id } };
    };
    add("POST", "client:/join/:roomIdOrAlias", (ctx) => joinReply(ctx, this.resolveRoom(ctx.params.roomIdOrAlias!)));
    add("POST", "client:/rooms/:roomId/join", (ctx) => joinReply(ctx, this.room(ctx.params.roomId!)));
    add("POST", "client:/rooms/:roomId/leave", (ctx) => {
      const b = ctx.json();
      this.membershipChange(this.room(ctx.params.roomId!), me(ctx), me(ctx), "leave", { reason: b.reason });
      return { json: {} };
    });
    add("POST", "client:/rooms/:roomId/forget", (ctx) => {
      const room = this.room(ctx.params.roomId!);
      if (this.membershipOf(room, me(ctx)) === "join") fail(400, "M_UNKNOWN", "User is still in the room");
      return { json: {} };
    });
    const targeted =
      (membership: "invite" | "leave" | "ban", unban = false) =>
      (ctx: Ctx) => {
        const b = ctx.json();
        if (typeof b.user_id !== "string") fail(400, "M_MISSING_PARAM", "Missing user_id");
        const room = this.room(ctx.params.roomId!);
        if (unban && this.membershipOf(room, b.user_id) !== "ban") fail(403, "M_FORBIDDEN", `${b.user_id} is not banned`);
        this.membershipChange(room, me(ctx), b.user_id, membership, { reason: b.reason });
        return { json: {} };
      };
    add("POST", "client:/rooms/:roomId/invite", targeted("invite"));
    add("POST", "client:/rooms/:roomId/kick", targeted("leave"));
    add("POST", "client:/rooms/:roomId/ban", targeted("ban"));
    add("POST", "client:/rooms/:roomId/unban", targeted("leave", true));
    add("POST", "client:/createRoom", (ctx) => ({ json: { room_id: this.doCreateRoom(me(ctx), ctx.json()) } }));

    // --- Receipts, typing, read markers (accepted, not reflected in sync).
    add("POST", "client:/rooms/:roomId/receipt/:receiptType/:eventId", (ctx) => {
      this.requireJoined(this.room(ctx.params.roomId!), me(ctx));
      return { json: {} };
    });
    add("POST", "client:/rooms/:roomId/read_markers", (ctx) => {
      this.requireJoined(this.room(ctx.params.roomId!), me(ctx));
      return { json: {} };
    });
    add("PUT", "client:/rooms/:roomId/typing/:userId", (ctx) => {
      if (ctx.params.userId !== me(ctx)) fail(403, "M_FORBIDDEN", "Cannot set another user's typing state");
      this.requireJoined(this.room(ctx.params.roomId!), me(ctx));
      return { json: {} };
    });

    // --- Directory.
    add("GET", "client:/directory/room/:alias", (ctx) => {
      const id = this.aliases.get(ctx.params.alias!);
      if (!id) fail(404, "M_NOT_FOUND", `Room alias ${ctx.params.alias} not found`);
      return { json: { room_id: id, servers: [this.serverName] } };
    });
    add("PUT", "client:/directory/room/:alias", (ctx) => {
      const b = ctx.json();
      if (typeof b.room_id !== "string") fail(400, "M_MISSING_PARAM", "Missing room_id");
      this.room(b.room_id);
      if (this.aliases.has(ctx.params.alias!)) fail(409, "M_UNKNOWN", "Room alias already exists");
      this.aliases.set(ctx.params.alias!, b.room_id);
      return { json: {} };
    });
    add("DELETE", "client:/directory/room/:alias", (ctx) => {
      if (!this.aliases.delete(ctx.params.alias!)) fail(404, "M_NOT_FOUND", "Room alias not found");
      return { json: {} };
    });
    add("GET", "client:/directory/list/room/:roomId", (ctx) => ({ json: { visibility: this.room(ctx.params.roomId!).directoryVisibility } }), {
      auth: "optional",
    });
    add("PUT", "client:/directory/list/room/:roomId", (ctx) => {
      const room = this.room(ctx.params.roomId!);
      const b = ctx.json();
      room.directoryVisibility = b.visibility === "public" ? "public" : "private";
      return { json: {} };
    });

    // --- Profile and presence.
    add("GET", "client:/profile/:userId", (ctx) => {
      const u = this.user(ctx.params.userId!);
      const p: Json = {};
      if (u.displayName !== undefined) p.displayname = u.displayName;
      if (u.avatarUrl !== undefined) p.avatar_url = u.avatarUrl;
      return { json: p };
    });
    for (const field of ["displayname", "avatar_url"] as const) {
      add("GET", `client:/profile/:userId/${field}`, (ctx) => {
        const u = this.user(ctx.params.userId!);
        const v = field === "displayname" ? u.displayName : u.avatarUrl;
        if (v === undefined) fail(404, "M_NOT_FOUND", "Profile field not set");
        return { json: { [field]: v } };
      });
      add("PUT", `client:/profile/:userId/${field}`, (ctx) => {
        const u = ownUser(ctx);
        const v = ctx.json()[field];
        const value = typeof v === "string" ? v : undefined;
        if (field === "displayname") u.displayName = value;
        else u.avatarUrl = value;
        for (const room of this.rooms.values()) {
          const m = room.state.get(skey("m.room.member", u.userId));
          if (m?.ev.content.membership !== "join") continue;
          const content = clone(m.ev.content);
          if (value === undefined) delete content[field];
          else content[field] = value;
          this.append(room, { type: "m.room.member", sender: u.userId, state_key: u.userId, content });
        }
        return { json: {} };
      });
    }
    add("GET", "client:/presence/:userId/status", (ctx) => {
      const u = this.user(ctx.params.userId!);
      const out: Json = { presence: u.presence.presence, last_active_ago: Date.now() - u.presence.since };
      if (u.presence.status_msg !== undefined) out.status_msg = u.presence.status_msg;
      return { json: out };
    });
    add("PUT", "client:/presence/:userId/status", (ctx) => {
      const u = ownUser(ctx);
      const b = ctx.json();
      if (typeof b.presence !== "string") fail(400, "M_MISSING_PARAM", "Missing presence");
      u.presence = { presence: b.presence, status_msg: typeof b.status_msg === "string" ? b.status_msg : undefined, since: Date.now() };
      return { json: {} };
    });

    // --- Media.
    add("POST", "media:/upload", (ctx) => {
      if (ctx.body.length > MAX_UPLOAD) fail(413, "M_TOO_LARGE", "Upload too large");
      const id = letters(24);
      const filename = ctx.query.get("filename");
      const ct = ctx.headers["content-type"];
      const mxc = `mxc://${this.serverName}/${id}`;
      this.mediaStore.set(id, {
        mxc,
        data: Buffer.from(ctx.body),
        contentType: typeof ct === "string" && ct !== "" ? ct : "application/octet-stream",
        filename: filename !== null && filename !== "" ? filename : undefined,
        uploader: me(ctx),
      });
      return { json: { content_uri: mxc } };
    });
    const config = () => ({ json: { "m.upload.size": MAX_UPLOAD } });
    add("GET", "media:/config", config);
    add("GET", "client:/media/config", config, { versions: ["v1"] });
    const download = (ctx: Ctx): Reply => {
      if (ctx.params.serverName !== this.serverName) fail(404, "M_NOT_FOUND", "Remote media is not available");
      const m = this.mediaStore.get(ctx.params.mediaId!);
      if (!m) fail(404, "M_NOT_FOUND", "Not found");
      const name = ctx.params.fileName ?? m.filename;
      const headers: Record<string, string> = {};
      if (name) headers["Content-Disposition"] = `inline; filename*=utf-8''${encodeURIComponent(name)}`;
      return { raw: { data: m.data, contentType: m.contentType, headers } };
    };
    add("GET", "media:/download/:serverName/:mediaId", download, { auth: "optional" });
    add("GET", "media:/download/:serverName/:mediaId/:fileName", download, { auth: "optional" });
    add("GET", "client:/media/download/:serverName/:mediaId", download, { versions: ["v1"] });
    add("GET", "client:/media/download/:serverName/:mediaId/:fileName", download, { versions: ["v1"] });
    return routes;
  }
}
