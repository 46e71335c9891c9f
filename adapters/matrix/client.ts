// The Matrix adapter: `!dpool` (or `!dp`) text commands in rooms, ✋ reactions on task
// announcements, replies as HTML notices, all through the same engine as Discord and the
// console. Platform code only: the event id is the request id, the room is the room, the
// Matrix user id is the identity.
//
// Element reserves a leading "/" for its own commands, hence the "!dpool" prefix.
//
// What it guarantees, and how:
// - Nothing lost on the way in. The adapter runs its own sync loop. A room whose timeline came
//   `limited` (Synapse sends at most `timeline.limit` events per room and sync) is paged back
//   with /messages down to the last event handled there (or the bot's join), and the missed
//   events are handled first, in order. Each room's last handled event and the sync token are
//   stored together, atomically, only after the batch was handled: after a crash the batch
//   comes again, and what was handled already is skipped (or, at worst, replayed: the event id
//   is the request id, so a replay changes nothing and gets the stored answer).
// - Nothing doubled on the way out. Every answer is a reply row written in the command's own
//   transaction; announcements, boards and notes are outbox and note rows. A Deliverer claims
//   each row and this adapter sends it with a transaction id derived from the row
//   (`PUT /rooms/{room}/send/{type}/{txnId}`): a repeat after a crash, or by a second process,
//   is answered by the homeserver with the first event and sends nothing.
// - Never a silent exit. Rate limits (429) are waited out with timers that hold the process;
//   an unreachable homeserver is retried with back-off, logged once when it starts and once when
//   it ends, and given up after `giveUpAfterMs` (onFatal with EXIT.unreachable); a refused access
//   token ends at once (EXIT.credentials).
import { randomBytes } from "node:crypto";
import { MatrixAuth, MatrixClient, type IStorageProvider } from "@vector-im/matrix-bot-sdk";
import { renderAnnouncementMessage, renderBoard, renderNoteMessage } from "../../commands/announcements.ts";
import { CHART_FILE, CHART_HEIGHT, CHART_WIDTH, renderSummaryChart } from "../../commands/chart.ts";
import { runConfirmation } from "../../commands/confirm.ts";
import { attachmentsOf, compactOf, previewOf } from "../../commands/define.ts";
import { refuse, replyFromStored, runText, type Engine, type Invocation, type Reply } from "../../commands/dispatch.ts";
import { doc, type Doc } from "../../commands/doc.ts";
import { parseCommand } from "../../commands/text.ts";
import type { Clock } from "../../src/clock.ts";
import { Deliverer, type Courier, type Failure, type NoteItem, type OutboxItem } from "../../src/delivery.ts";
import { EXIT, FatalError, type ExitCode, type OnFatal } from "../../src/lifecycle.ts";
import { createLogger, type Logger } from "../../src/log.ts";
import type { BoardMessage } from "../../src/core/announcements.ts";
import type { ReplyRow, Store } from "../../src/store.ts";
import { routeSdkLogs, troubleOf, txnIdOf } from "./http.ts";
import { COMMAND_PREFIX, htmlToCommandText, notice } from "./render.ts";
import { StateFile } from "./state.ts";

export const PREFIXES = [COMMAND_PREFIX, "!dp"] as const;
/** Reactions that claim a task when put on its announcement. */
export const CLAIM_KEYS = new Set(["✋", "✋️", "🙋", "🙋‍♀️", "🙋‍♂️"]);
/** Reactions that confirm a preview (pool correct) when its asker puts them on it. */
export const CONFIRM_KEYS = new Set(["✅", "✅️", "✔️", "✔", "☑️"]);
/** What the Matrix spec takes for `state_default` when a power-levels event leaves it out. */
const STATE_DEFAULT = 50;
/** Timeline events per room and sync asked of the homeserver (Synapse's default is 10). */
export const DEFAULT_TIMELINE_LIMIT = 50;
export const DEFAULT_GIVE_UP_AFTER_MS = 15 * 60_000;
/** Events asked per /messages page when a gap is filled, and how many pages at most. */
const PAGE = 100;
const MAX_PAGES = 50;

type Event = {
  event_id: string;
  sender: string;
  type: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  state_key?: string;
  unsigned?: Record<string, unknown>;
};
type SyncRoom = { timeline?: { events?: Event[]; limited?: boolean; prev_batch?: string } };
type SyncResponse = { next_batch: string; rooms?: { join?: Record<string, SyncRoom>; leave?: Record<string, SyncRoom> } };

/** Where an answer goes (a reply row's `target`): the room, the event answered, its thread. */
export interface MatrixTarget {
  readonly roomId: string;
  /** The event the answer replies to (the command, or the announcement a reaction was put on). */
  readonly eventId: string;
  /** The thread root, when the command was typed in a thread. */
  readonly thread?: string;
  /** Whose reaction this answers: the answer starts with their name. */
  readonly who?: string | undefined;
  /** Who asked (or reacted): the answer mentions them (`m.mentions`), as a reply to them should. */
  readonly sender?: string;
  /**
   * A personal answer (balance, history, link codes): it goes to this user's direct-message room,
   * and the room where it was asked only hears that it was sent there.
   */
  readonly dm?: string;
}

export interface MatrixOptions {
  readonly homeserverUrl: string;
  readonly accessToken?: string | undefined;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  /** Where the sync token, the access token from a password login and room facts are kept. */
  readonly storageFile: string;
  readonly engine: Engine;
  readonly store: Store;
  readonly clock: Clock;
  /** Servers whose users may invite the bot; empty: any server. */
  readonly inviteServers?: readonly string[];
  readonly logger?: Logger;
  /** Long-poll timeout of /sync (ms); short in tests. */
  readonly syncTimeoutMs?: number;
  /** Called once when the bot cannot go on (token refused, homeserver unreachable too long). */
  readonly onFatal?: OnFatal;
  /** How long the homeserver may stay unreachable before onFatal(EXIT.unreachable) (ms, default 15 min). */
  readonly giveUpAfterMs?: number;
  /** Longest wait between two attempts to reach the homeserver (ms, default 30 s). */
  readonly maxRetryMs?: number;
  /** Timeline events per room and sync asked of the homeserver (default 50; gaps are paged either way). */
  readonly timelineLimit?: number;
  /** Delivery: how long a claim on a message holds (ms), and how often waiting messages are looked at (ms). */
  readonly leaseMs?: number;
  readonly pollMs?: number;
}

class Stopped extends Error {
  constructor() {
    super("d-pool's Matrix adapter has stopped");
  }
}

/**
 * A MatrixClient whose sync loop is the adapter's (see MatrixAdapter.syncLoop): the SDK's own
 * loop advances its token even when handling a batch failed, and swallows every error.
 */
class DpoolMatrixClient extends MatrixClient {
  loop: (() => Promise<void>) | undefined;
  /** Called with each batch before its events are handed out (fills the gaps of limited timelines). */
  beforeBatch: ((raw: SyncResponse) => Promise<void>) | undefined;

  constructor(homeserverUrl: string, accessToken: string, storage: IStorageProvider) {
    super(homeserverUrl, accessToken, storage);
    // The token is stored by the adapter, after the batch was handled.
    this.persistTokenAfterSync = true;
  }

  protected override startSyncInternal(): Promise<unknown> {
    void this.loop?.();
    return Promise.resolve();
  }

  syncOnce(token: string | null): Promise<SyncResponse> {
    return this.doSync(token as string) as Promise<SyncResponse>;
  }

  async handleBatch(raw: SyncResponse, emit: (name: string, ...args: unknown[]) => Promise<void>): Promise<void> {
    await this.beforeBatch?.(raw);
    await this.processSync(raw, emit);
  }
}

const localpart = (userId: string) => userId.replace(/^@/, "").split(":")[0] ?? userId;
const serverOf = (userId: string) => userId.slice(userId.indexOf(":") + 1);
const enc = encodeURIComponent;

export class MatrixAdapter implements Courier {
  readonly platform = "matrix";
  private readonly logger: Logger;
  private readonly deliverer: Deliverer;
  private stopped = false;
  private syncing = false;
  /** Whether a first batch came since the start: nothing is sent before (it may tell of kicks). */
  private synced = false;
  /** The batch being handled (stop waits for it). */
  private handling: Promise<unknown> = Promise.resolve();
  /** Per room, the last timeline event handled (stored with the sync token). */
  private readonly handled = new Map<string, string>();
  /** Since when the homeserver has been failing, and why (logged once at start and once at end). */
  private failing: { since: number; reason: string; attempts: number } | undefined;
  private fatalSent = false;
  /** Timers that must hold the process (rate-limit waits, back-off): cleared by stop. */
  private readonly waits = new Set<{ timer: NodeJS.Timeout; done: () => void }>();

  private constructor(
    readonly client: DpoolMatrixClient,
    private readonly state: StateFile,
    private readonly o: MatrixOptions,
    readonly userId: string,
  ) {
    this.logger = (o.logger ?? createLogger()).child({ platform: "matrix" });
    // (Undefined options must be left out: the Deliverer spreads them over its defaults.)
    this.deliverer = new Deliverer({
      store: o.store,
      courier: this,
      logger: o.logger ?? createLogger(),
      pollMs: o.pollMs ?? 2_000,
      ...(o.leaseMs === undefined ? {} : { leaseMs: o.leaseMs }),
    });
    client.loop = () => this.syncLoop();
    client.beforeBatch = (raw) => this.fillGaps(raw);
  }

  /** Logs in (with the stored or given token, or once with user and password) and prepares the client. */
  static async connect(o: MatrixOptions): Promise<MatrixAdapter> {
    routeSdkLogs(o.logger ?? createLogger());
    const state = new StateFile(o.storageFile, { logger: (o.logger ?? createLogger()).child({ platform: "matrix" }) });
    let token = o.accessToken ?? state.readValue("dpool.accessToken");
    if (!token) {
      if (!o.user || !o.password) throw new Error("no MATRIX_ACCESS_TOKEN, and no MATRIX_USER and MATRIX_PASSWORD to log in with");
      let login: { accessToken: string };
      try {
        login = await new MatrixAuth(o.homeserverUrl).passwordLogin(o.user, o.password, "d-pool");
      } catch (e) {
        const t = troubleOf(e);
        if (t.kind === "token" || t.kind === "forbidden")
          throw new FatalError(`the homeserver at ${o.homeserverUrl} refused MATRIX_USER and MATRIX_PASSWORD (${t.reason})`, EXIT.credentials);
        throw e;
      }
      token = login.accessToken;
      // Logged in once: the token is kept, so the password is not needed at the next start.
      state.storeValue("dpool.accessToken", token);
    }
    const client = new DpoolMatrixClient(o.homeserverUrl, token, state);
    client.syncingTimeout = o.syncTimeoutMs ?? 30_000;
    let userId: string;
    try {
      userId = await client.getUserId();
    } catch (e) {
      const t = troubleOf(e);
      if (t.kind === "token")
        throw new FatalError(`the homeserver at ${o.homeserverUrl} refused the access token (${t.reason}): set a valid MATRIX_ACCESS_TOKEN`, EXIT.credentials);
      throw e;
    }
    return new MatrixAdapter(client, state, o, userId);
  }

  async start(): Promise<void> {
    this.stopped = false;
    // First start (no sync token yet): the rooms the bot is in count as joined from now on, their
    // history stays unanswered. Later, a room's join event sets when the bot joined it.
    if (!this.state.getSyncToken()) {
      for (const roomId of await this.call(() => this.client.getJoinedRooms())) {
        if (this.joinedAt(roomId) === undefined) this.state.storeValue(`dpool.joined.${roomId}`, String(Date.now()));
      }
    }
    const filter = { room: { timeline: { limit: this.o.timelineLimit ?? DEFAULT_TIMELINE_LIMIT } } };
    // Registered here rather than by client.start(): the SDK forgets the sync token when it makes
    // a new filter, which would drop what was said while the bot was away.
    const known = this.state.getFilter();
    if (!known || JSON.stringify(known.filter) !== JSON.stringify(filter)) {
      const made = (await this.call(() => this.client.doRequest("POST", `/_matrix/client/v3/user/${enc(this.userId)}/filter`, null, filter))) as {
        filter_id: string;
      };
      this.state.setFilter({ id: made.filter_id as unknown as number, filter });
    }
    this.syncing = true;
    this.synced = false;
    await this.call(() => this.client.start(filter));
    this.deliverer.start();
  }

  /** Stops syncing and delivering, and waits for the batch being handled, so nothing is left half done. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.syncing = false;
    this.client.stop();
    for (const w of [...this.waits]) w.done();
    await this.handling.catch(() => undefined);
    await this.deliverer.stop();
    for (const w of [...this.waits]) w.done();
  }

  /** Delivers waiting answers, announcements and notes now (called after each commit). */
  deliver(): Promise<void> {
    return this.deliverer.kick();
  }

  // ---------------------------------------------------------------------------------------
  // The sync loop

  private async syncLoop(): Promise<void> {
    let token = this.state.getSyncToken();
    while (!this.stopped && this.syncing) {
      let raw: SyncResponse;
      try {
        raw = await this.client.syncOnce(token);
      } catch (e) {
        if (this.stopped || !(await this.syncFailed(e))) return;
        continue;
      }
      if (this.stopped) return; // the batch is not handled and its token not stored: the next start gets it
      const initial = token === null;
      const work = this.client.handleBatch(raw, (name, ...args) => this.emit(initial, name, ...args));
      this.handling = work;
      try {
        await work;
      } catch (e) {
        if (this.stopped || e instanceof Stopped) return;
        // Trouble reaching the homeserver while handling (paging, a join): the batch comes again.
        if (!(await this.syncFailed(e))) return;
        continue;
      }
      token = raw.next_batch;
      // The rooms' handled positions and the token, in one write.
      this.state.batch(() => {
        for (const [roomId, eventId] of this.handled)
          if (this.state.readValue(`dpool.handled.${roomId}`) !== eventId) this.state.storeValue(`dpool.handled.${roomId}`, eventId);
        this.state.setSyncToken(token);
      });
      this.reachable();
    }
  }

  /** One event of a batch: handled, and the room's position moves past it. */
  private async emit(initial: boolean, name: string, ...args: unknown[]): Promise<void> {
    if (this.stopped) throw new Stopped();
    this.client.emit(name, ...args);
    if (name === "room.event") {
      const [roomId, event] = args as [string, Event];
      // The first sync of a new bot hands over history: nothing of it is answered.
      if (!initial) await this.dispatch(name, roomId, event);
      this.handled.set(roomId, event.event_id);
    } else if (name === "room.invite" || name === "room.leave") {
      await this.dispatch(name, args[0] as string, args[1] as Event);
    }
  }

  /** A failed sync (or batch): false when the loop must end. Waits out the trouble otherwise. */
  private async syncFailed(e: unknown): Promise<boolean> {
    const t = troubleOf(e);
    if (t.kind === "token") {
      this.fatal(`the homeserver at ${this.o.homeserverUrl} refused the access token (${t.reason}): set a valid MATRIX_ACCESS_TOKEN`, EXIT.credentials);
      return false;
    }
    if (t.kind === "rate") {
      await this.sleep(Math.min(t.afterMs, 5 * 60_000));
      return !this.stopped;
    }
    const now = Date.now();
    const giveUp = this.o.giveUpAfterMs ?? DEFAULT_GIVE_UP_AFTER_MS;
    if (!this.failing) {
      this.failing = { since: now, reason: t.reason, attempts: 0 };
      this.logger.warn(
        `the homeserver at ${this.o.homeserverUrl} cannot be reached (${t.reason}); retrying with back-off, giving up after ${formatMs(giveUp)}`,
      );
    }
    this.failing.attempts++;
    const down = now - this.failing.since;
    if (down >= giveUp) {
      this.fatal(`the homeserver at ${this.o.homeserverUrl} stayed unreachable for ${formatMs(down)} (${t.reason}): giving up`, EXIT.unreachable);
      return false;
    }
    const backoff = Math.min(this.o.maxRetryMs ?? 30_000, 250 * 2 ** Math.min(this.failing.attempts, 10));
    await this.sleep(Math.max(50, Math.min(backoff * (0.75 + Math.random() * 0.5), giveUp - down)));
    return !this.stopped;
  }

  private reachable(): void {
    if (!this.failing) return;
    const f = this.failing;
    this.failing = undefined;
    this.logger.info(
      `the homeserver at ${this.o.homeserverUrl} is reachable again (it failed for ${formatMs(Date.now() - f.since)}, ${f.attempts} attempt${f.attempts === 1 ? "" : "s"}: ${f.reason})`,
    );
    void this.deliverer.kick();
  }

  private fatal(message: string, code: ExitCode): void {
    this.syncing = false;
    if (this.fatalSent) return;
    this.fatalSent = true;
    const e = new FatalError(message, code);
    if (this.o.onFatal) this.o.onFatal(e);
    else {
      // Nobody to tell: say it here, and make sure the process does not end with 0.
      this.logger.fatal({ exitCode: code }, message);
      process.exitCode = code;
    }
  }

  /** A wait that holds the process (a rate limit, a back-off); stop() ends it early. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const w = {
        timer: setTimeout(() => w.done(), ms),
        done: () => {
          clearTimeout(w.timer);
          this.waits.delete(w);
          resolve();
        },
      };
      this.waits.add(w);
    });
  }

  /** Runs a homeserver call, waiting out rate limits; other trouble is thrown. */
  private async call<T>(fn: () => Promise<T>, tries = 8): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const t = troubleOf(e);
        if (t.kind !== "rate" || attempt >= tries || this.stopped) throw e;
        await this.sleep(Math.min(t.afterMs, 60_000));
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Nothing lost on the way in: gaps of limited timelines

  /**
   * Rooms whose timeline came `limited`: the events the homeserver left out are fetched with
   * /messages (newest first, page by page) down to the last event handled in the room, the
   * bot's own join, or the previous sync token, and put in front of the timeline. Events already
   * handled (a batch that comes again after a crash or a failure) are taken out.
   */
  private async fillGaps(raw: SyncResponse): Promise<void> {
    const since = this.state.getSyncToken();
    // Rooms the bot was thrown out of go quiet before anything is sent (the SDK hands leaves
    // over first too; doing it here also comes before the first delivery after a start).
    for (const [roomId, room] of Object.entries(raw.rooms?.leave ?? {})) {
      const mine = (room.timeline?.events ?? []).filter(
        (e) => e.type === "m.room.member" && e.state_key === this.userId && (e.content?.membership === "leave" || e.content?.membership === "ban"),
      );
      if (mine.length > 0) await this.onLeave(roomId, mine.at(-1)!);
    }
    if (!this.synced) {
      this.synced = true;
      void this.deliverer.kick();
    }
    for (const [roomId, room] of Object.entries(raw.rooms?.join ?? {})) {
      const tl = room.timeline;
      if (!tl?.events) continue;
      const last = this.lastHandled(roomId);
      if (last !== undefined) {
        const i = tl.events.findIndex((e) => e.event_id === last);
        if (i >= 0) {
          tl.events = tl.events.slice(i + 1);
          continue;
        }
      }
      if (!since || !tl.limited || !tl.prev_batch) continue;
      const missed = await this.pageBack(roomId, tl.prev_batch, since, last);
      if (missed.length > 0) this.logger.debug({ room: roomId, events: missed.length }, "filled a gap in a limited timeline");
      tl.events = [...missed, ...tl.events];
      tl.limited = false;
    }
  }

  private async pageBack(roomId: string, from: string, to: string, last: string | undefined): Promise<Event[]> {
    const out: Event[] = [];
    let token = from;
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = (await this.call(() =>
        this.client.doRequest("GET", `/_matrix/client/v3/rooms/${enc(roomId)}/messages`, { dir: "b", from: token, to, limit: PAGE }),
      )) as {
        chunk?: Event[];
        end?: string;
      };
      const chunk = res.chunk ?? [];
      for (const ev of chunk) {
        if (last !== undefined && ev.event_id === last) return out.reverse();
        out.push(ev);
        if (ev.type === "m.room.member" && ev.state_key === this.userId && ev.content?.membership === "join") return out.reverse();
      }
      if (chunk.length === 0 || !res.end || res.end === token) return out.reverse();
      token = res.end;
    }
    this.logger.warn({ room: roomId }, `a gap in ${roomId} is longer than ${MAX_PAGES * PAGE} events: older ones are left unanswered`);
    return out.reverse();
  }

  private lastHandled(roomId: string): string | undefined {
    return this.handled.get(roomId) ?? this.state.readValue(`dpool.handled.${roomId}`);
  }

  // ---------------------------------------------------------------------------------------
  // Events

  private joinedAt(roomId: string): number | undefined {
    const v = this.state.readValue(`dpool.joined.${roomId}`);
    return typeof v === "string" ? Number(v) : undefined;
  }

  private async dispatch(name: string, roomId: string, event: Event): Promise<void> {
    try {
      if (name === "room.invite") await this.onInvite(roomId, event);
      else if (name === "room.leave") await this.onLeave(roomId, event);
      else await this.onEvent(roomId, event);
    } catch (e) {
      if (e instanceof Stopped) throw e;
      const t = troubleOf(e);
      // The homeserver's trouble, not the event's: the batch is handled again once it is over.
      if (t.kind === "down" || t.kind === "rate" || t.kind === "token") throw e;
      const incident = randomBytes(4).toString("hex");
      this.logger.error(
        { err: e, incident, room: roomId, event: event.event_id },
        `could not handle ${name} ${event.event_id} in ${roomId} (incident ${incident})`,
      );
    }
  }

  private async onInvite(roomId: string, invite: Event): Promise<void> {
    const servers = this.o.inviteServers ?? [];
    if (servers.length > 0 && !servers.includes(serverOf(invite.sender))) {
      this.logger.warn(`ignoring an invite to ${roomId} from ${invite.sender} (server not in MATRIX_INVITE_SERVERS)`);
      return;
    }
    try {
      await this.call(() => this.client.joinRoom(roomId));
    } catch (e) {
      const t = troubleOf(e);
      if (t.kind !== "forbidden" && t.kind !== "refused") throw e;
      this.logger.warn(`could not join ${roomId} on ${invite.sender}'s invite: ${t.reason}`);
      return;
    }
    if (await this.isEncrypted(roomId)) {
      await this.warnEncrypted(roomId);
      return;
    }
    const hello =
      invite.content?.is_direct === true
        ? notice([
            doc.line(
              "Hello! Here you can type your own commands for your pool, and the prefix is optional: ",
              doc.cmd("me balance"),
              ", ",
              doc.cmd("task list"),
              ", ",
              doc.cmd("task claim <id>"),
              ", ",
              doc.cmd("task done <id>"),
              ", ",
              doc.cmd("good request <good>"),
              ".",
            ),
            doc.line(
              "Commands for the whole pool (posting tasks, admin ones, binding rooms) go in the pool's rooms. ",
              doc.cmd("help"),
              " lists every command.",
            ),
          ])
        : notice([
            doc.line("Hello! I keep a distribution pool: shared tasks, goods and weighted hours for peer-production projects."),
            doc.line(
              "Start with ",
              doc.cmd("pool create <name>"),
              " (this room becomes the lobby) or ",
              doc.cmd("pool join <code>"),
              " with an invite from a pool admin. ",
              doc.cmd("help"),
              " lists every command.",
            ),
          ]);
    await this.call(() => this.put(roomId, "m.room.message", hello, txnIdOf(`hello:${roomId}:${invite.event_id}`)));
  }

  /** The bot left, was kicked or banned: announcements stop going to the room. */
  private async onLeave(roomId: string, event: Event): Promise<void> {
    const row = await this.o.store.read((tx) => tx.room("matrix", roomId));
    if (!row || row.unreachableSince !== null) return;
    await this.o.store.markRoomUnreachable(row.id, Date.now());
    const how = event.content?.membership === "ban" ? "banned" : event.sender === this.userId ? "left" : "kicked";
    const reason = typeof event.content?.reason === "string" && event.content.reason ? ` (${event.content.reason.slice(0, 100)})` : "";
    this.logger.warn(
      { room: roomId },
      `the bot was ${how} from ${roomId}${how === "left" ? "" : ` by ${event.sender}`}${reason}: no more announcements go there until it is back`,
    );
  }

  private async isEncrypted(roomId: string): Promise<boolean> {
    try {
      await this.call(() => this.client.getRoomStateEvent(roomId, "m.room.encryption", ""));
      return true;
    } catch (e) {
      const t = troubleOf(e);
      if (t.kind === "refused" || t.kind === "forbidden") return false;
      throw e;
    }
  }

  /** Said once per room (the transaction id is the room's: a restart does not repeat it either). */
  private async warnEncrypted(roomId: string): Promise<void> {
    const key = `dpool.encrypted.${roomId}`;
    if (this.state.readValue(key)) return;
    await this.call(() => this.put(roomId, "m.room.message", notice([doc.line(ENCRYPTED)]), txnIdOf(`encrypted:${roomId}`)));
    this.state.storeValue(key, String(Date.now()));
  }

  private async onEvent(roomId: string, event: Event): Promise<void> {
    if (event.type === "m.room.member" && event.state_key === this.userId) {
      // The bot's own join: what was said in the room before it stays unanswered.
      if (event.content?.membership === "join")
        this.state.storeValue(`dpool.joined.${roomId}`, String(Math.max(event.origin_server_ts, this.joinedAt(roomId) ?? 0)));
      return;
    }
    if (event.sender === this.userId) return;
    const joined = this.joinedAt(roomId);
    if (joined === undefined || event.origin_server_ts < joined) return;
    if (event.type === "m.room.encrypted") return this.warnEncrypted(roomId);
    if (event.type === "m.room.message") await this.onMessage(roomId, event);
    else if (event.type === "m.reaction") await this.onReaction(roomId, event);
  }

  private invocation(roomId: string, event: Event, replyTo: MatrixTarget): Invocation {
    return {
      caller: { platform: "matrix", userId: event.sender, displayName: localpart(event.sender), roomId },
      requestId: `matrix:${event.event_id}`,
      now: this.o.clock.now(),
      replyTo,
    };
  }

  private async onMessage(roomId: string, event: Event): Promise<void> {
    const direct = this.client.dms.isDm(roomId) && !(await this.roomIsBound(roomId));
    const text = await this.commandText(roomId, event, direct);
    if (text === undefined) return;
    const rel = event.content["m.relates_to"] as { rel_type?: string; event_id?: string } | undefined;
    const thread = rel?.rel_type === "m.thread" && typeof rel.event_id === "string" ? rel.event_id : undefined;
    const parsed = parseCommand(this.o.engine.table, text);
    const dm = parsed.ok && parsed.command.personal === true ? { dm: event.sender } : {};
    const target: MatrixTarget = { roomId, eventId: event.event_id, sender: event.sender, ...(thread ? { thread } : {}), ...dm };
    let inv = this.invocation(roomId, event, target);
    if (parsed.ok) {
      const path = parsed.command.path.join(" ");
      if (parsed.command.where === "pool" && direct) {
        // A direct message with the bot: the member's own commands, for their one pool.
        const pool =
          parsed.command.direct === true || parsed.command.personal === true
            ? await this.onlyPool(event.sender)
            : { refusal: `!dpool ${text} works only in a room of the pool, not in a direct message: type it in one of its rooms` };
        if ("refusal" in pool) {
          const message = pool.refusal;
          return this.answer(
            inv,
            await this.run(inv, () =>
              refuse(this.o.engine, inv, { ok: false, code: "room_unbound", command: path, message, doc: [doc.line(doc.bad("✗ "), message)] }),
            ),
          );
        }
        inv = { ...inv, caller: { ...inv.caller, roomId: pool.roomId } };
      } else if (parsed.command.where === "pool" && !(await this.roomIsBound(roomId))) return; // rooms of no pool: only starting commands
      if (parsed.command.bindsRoom === true) {
        const power = await this.power(roomId, event.sender);
        if (power.level < power.needed) {
          const message = `binding a room needs the power to change its settings (power level ${power.needed} in this room, yours is ${power.level}): ask a room admin or moderator to type !dpool ${text}`;
          const reply = await this.run(inv, () =>
            refuse(this.o.engine, inv, { ok: false, code: "forbidden", command: path, message, doc: [doc.line(doc.bad("✗ "), message)] }),
          );
          return this.answer(inv, reply);
        }
      }
    }
    const run = inv;
    await this.answer(run, await this.run(run, () => runText(this.o.engine, run, text)));
  }

  /**
   * The command in a message, or undefined when it holds none: after `!dpool` or `!dp` (any
   * case), or after a mention of the bot; in a direct message with the bot, any text. Pills
   * (links to users in the HTML body) and users named in `m.mentions` become their user ids, so
   * the text can be retyped as it is.
   */
  private async commandText(roomId: string, event: Event, direct: boolean): Promise<string | undefined> {
    const c = event.content;
    const html = c.format === "org.matrix.custom.html" && typeof c.formatted_body === "string" ? c.formatted_body : undefined;
    // The plain body of a reply may start with the quoted message ("> <@bob:example.org> ..." lines, then a blank one).
    const plain = typeof c.body === "string" ? c.body.replace(/^(>[^\n]*\n)+\n?/, "").trim() : "";
    let body = html !== undefined && /matrix\.to\/#\/(@|%40)/i.test(html) ? htmlToCommandText(html) : plain;
    const mentioned = (c["m.mentions"] as { user_ids?: unknown } | undefined)?.user_ids;
    const lowered = body.toLowerCase();
    const maybe =
      direct ||
      PREFIXES.some((p) => lowered.startsWith(p)) ||
      lowered.startsWith(this.userId.toLowerCase()) ||
      (Array.isArray(mentioned) && mentioned.includes(this.userId));
    if (!maybe) return undefined; // chat: nothing is looked up for it
    // Clients without pills name the user in the body and list them in m.mentions.
    if (Array.isArray(mentioned)) {
      for (const id of mentioned.slice(0, 10)) {
        if (typeof id !== "string" || body.includes(id)) continue;
        const name = await this.displayName(roomId, id);
        const at = name ? body.search(new RegExp(`(^|\\s)@?${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?=$|[\\s:,])`, "i")) : -1;
        if (at < 0) continue;
        const start = at + (/\s/.test(body[at]!) ? 1 : 0);
        const end = start + (body[start] === "@" ? 1 : 0) + name!.length;
        body = body.slice(0, start) + id + body.slice(end);
      }
    }
    const lower = body.toLowerCase();
    let rest: string | undefined;
    const prefix = PREFIXES.find((p) => lower === p || lower.startsWith(`${p} `));
    if (prefix) rest = body.slice(prefix.length);
    else if (lower.startsWith(this.userId.toLowerCase()) && /^($|[\s:,])/.test(body.slice(this.userId.length)))
      rest = body.slice(this.userId.length).replace(/^[:,]/, "");
    else if (direct && body !== "" && !body.startsWith(">")) rest = body;
    if (rest === undefined) return undefined;
    return rest.trim() || "help";
  }

  /** A member's display name in a room (for mentions without pills); undefined when unknown. */
  private async displayName(roomId: string, userId: string): Promise<string | undefined> {
    try {
      const m = (await this.call(() => this.client.getRoomStateEvent(roomId, "m.room.member", userId))) as { displayname?: unknown };
      return typeof m.displayname === "string" && m.displayname.trim() !== "" ? m.displayname.trim() : localpart(userId);
    } catch (e) {
      const t = troubleOf(e);
      if (t.kind === "refused" || t.kind === "forbidden") return localpart(userId);
      throw e;
    }
  }

  /**
   * For a command typed in a direct message: a Matrix room of the member's one pool (its lobby
   * first), or what to do instead when they are in no pool, in several, or their pool has no
   * Matrix room the bot can reach.
   */
  private async onlyPool(userId: string): Promise<{ roomId: string } | { refusal: string }> {
    return this.o.store.read(async (tx) => {
      const identity = await tx.identity("matrix", userId);
      let member = identity ? await tx.member(identity.memberId) : undefined;
      while (member && member.mergedInto !== null) member = await tx.member(member.mergedInto);
      const memberships = member ? await tx.membershipsOf(member.id) : [];
      const pools: Array<{ name: string; rooms: string[] }> = [];
      for (const m of memberships) {
        const pool = await tx.pool(m.poolId);
        if (!pool) continue;
        const rooms = (await tx.rooms(pool.id))
          .filter((r) => r.platform === "matrix" && r.unreachableSince === null)
          .sort((a, b) => Number(b.isLobby) - Number(a.isLobby));
        pools.push({ name: pool.name, rooms: rooms.map((r) => r.externalId) });
      }
      if (pools.length === 0)
        return {
          refusal:
            "you are in no pool yet: type !dpool pool join <code> in a room of a pool (ask a pool admin for the code), or start one with !dpool pool create <name> in a room",
        };
      const where = pools
        .map((p) => `${p.name}: ${p.rooms.length > 0 ? p.rooms.map((r) => `https://matrix.to/#/${r}`).join(" ") : "no Matrix room"}`)
        .join("; ");
      if (pools.length > 1)
        return { refusal: `you are in ${pools.length} pools, so I cannot tell which one you mean here: type it in a room of the pool (${where})` };
      const room = pools[0]!.rooms[0];
      if (room === undefined) return { refusal: `your pool ${pools[0]!.name} has no Matrix room I can reach: type it in one of its rooms on another platform` };
      return { roomId: room };
    });
  }

  /**
   * ✋ on a task announcement claims the task, as the Claim button does on Discord; ✅ on a
   * preview (pool correct) confirms it, as Discord's confirm button does, for the member who
   * asked only (anyone else's ✅ gets a short refusal and changes nothing). The reaction's event
   * id is the request id: a reaction handled again after a restart changes nothing twice.
   */
  private async onReaction(roomId: string, event: Event): Promise<void> {
    const rel = event.content["m.relates_to"] as { rel_type?: string; event_id?: string; key?: string } | undefined;
    if (rel?.rel_type !== "m.annotation" || !rel.event_id || !rel.key) return;
    if (CONFIRM_KEYS.has(rel.key)) {
      const preview = this.state.readValue(`dpool.preview.${rel.event_id}`);
      if (typeof preview !== "string") return;
      // A preview asked in a thread is answered there: so is the ✅ on it.
      const thread = await this.threadOfAnswer(preview);
      const inv = this.invocation(roomId, event, {
        roomId,
        eventId: rel.event_id,
        who: localpart(event.sender),
        sender: event.sender,
        ...(thread ? { thread } : {}),
      });
      await this.answer(inv, await this.run(inv, () => runConfirmation(this.o.engine, inv, preview)));
      return;
    }
    if (!CLAIM_KEYS.has(rel.key)) return;
    const task = this.state.readValue(`dpool.announce.${rel.event_id}`);
    if (typeof task !== "string") return;
    const inv = this.invocation(roomId, event, { roomId, eventId: rel.event_id, who: localpart(event.sender), sender: event.sender });
    await this.answer(inv, await this.run(inv, () => runText(this.o.engine, inv, `task claim ${task}`)));
  }

  /** The thread the answer to a request was posted in (its reply row's target), if it was in one. */
  private async threadOfAnswer(requestId: string): Promise<string | undefined> {
    const row = await this.o.store.read((tx) => tx.reply(requestId));
    const thread = row ? (JSON.parse(row.target) as Partial<MatrixTarget>).thread : undefined;
    return typeof thread === "string" ? thread : undefined;
  }

  /**
   * Sends the answer: from its reply row, through the Deliverer (claimed, keyed, settled). An
   * answer that could not be stored (the database was busy, a bug) is sent as it is.
   */
  private async answer(inv: Invocation, reply: Reply): Promise<void> {
    if (!reply.ok && (reply.code === "busy" || reply.code === "internal")) {
      const stored = await this.o.store.read((tx) => tx.reply(inv.requestId)).catch(() => undefined);
      if (!stored) {
        const target = inv.replyTo as MatrixTarget;
        await this.call(() =>
          this.put(target.roomId, "m.room.message", this.answerContent(reply, target), txnIdOf(`unstored:${inv.requestId}:${randomBytes(6).toString("hex")}`)),
        );
        return;
      }
    }
    await this.deliverer.deliverReply(inv.requestId);
  }

  /** A bug in this adapter: logged once with an incident id; the member is told the id. */
  private async run(inv: Invocation, work: () => Promise<Reply>): Promise<Reply> {
    try {
      return await work();
    } catch (e) {
      const incident = randomBytes(4).toString("hex");
      this.logger.error({ err: e, incident, requestId: inv.requestId }, `incident ${incident}`);
      const message = `something went wrong on our side (incident ${incident}); nothing was changed.`;
      return { ok: false, code: "internal", message, doc: [doc.line(doc.bad("✗ "), message)] };
    }
  }

  private async roomIsBound(roomId: string): Promise<boolean> {
    return this.o.store.read(async (tx) => (await tx.room("matrix", roomId)) !== undefined);
  }

  /**
   * A member's power level in a room, and the level the room asks for changing its settings:
   * the `events` entry for the room's name, else `state_default` (50 when the power-levels event
   * leaves it out; a room without one lets everybody, as the Matrix spec says).
   */
  private async power(roomId: string, userId: string): Promise<{ level: number; needed: number }> {
    let pl: { users?: Record<string, unknown>; users_default?: unknown; state_default?: unknown; events?: Record<string, unknown> };
    try {
      pl = (await this.call(() => this.client.getRoomStateEvent(roomId, "m.room.power_levels", ""))) as typeof pl;
    } catch (e) {
      const t = troubleOf(e);
      if (t.kind === "refused" || t.kind === "forbidden") return { level: 0, needed: 0 };
      throw e;
    }
    const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : undefined);
    const level = num(pl.users?.[userId]) ?? num(pl.users_default) ?? 0;
    const needed = num(pl.events?.["m.room.name"]) ?? num(pl.state_default) ?? STATE_DEFAULT;
    return { level, needed };
  }

  // ---------------------------------------------------------------------------------------
  // Nothing doubled on the way out: the Courier

  ready(): boolean {
    return this.syncing && this.synced && !this.stopped && this.failing === undefined;
  }

  /** The answer to a command, from its reply row; summary charts follow, each with its own key. */
  async reply(row: ReplyRow, key: string): Promise<void> {
    await this.sending(row.attempts, async () => {
      const target = JSON.parse(row.target) as MatrixTarget;
      const reply = replyFromStored(this.o.engine.table, row.body);
      if (target.dm !== undefined && reply.ok) return this.replyPrivately(target, target.dm, reply, key);
      // A preview (pool correct) is confirmed by its asker's ✅ on it: which request it answers is noted by its event.
      const preview = reply.ok && previewOf(reply) !== undefined;
      const sent = await this.put(target.roomId, "m.room.message", this.answerContent(reply, target, preview), txnIdOf(key));
      if (preview) this.state.storeValue(`dpool.preview.${sent}`, row.requestId);
      // Charts of an answer in a thread stay in the thread (not replies themselves: the fallback points at the command).
      const inThread =
        target.thread === undefined
          ? {}
          : { "m.relates_to": { rel_type: "m.thread", event_id: target.thread, is_falling_back: true, "m.in_reply_to": { event_id: target.eventId } } };
      if (reply.ok) await this.sendCharts(target.roomId, key, undefined, () => [...attachmentsOf(reply)], inThread);
    });
  }

  async announce(item: OutboxItem, key: string): Promise<void> {
    await this.sending(item.attempts, async () => {
      const roomId = item.room.externalId;
      const m = item.message;
      if (m.kind === "board") return this.showBoard(item, m.body, key);
      const hint = m.kind === "task" ? [doc.line(doc.muted("React with ✋ to claim it."))] : [];
      const eventId = await this.put(
        roomId,
        "m.room.message",
        notice([...renderAnnouncementMessage(m, { timeZone: item.timeZone }), ...hint]),
        txnIdOf(key, item.createdAt),
      );
      if (m.kind === "task") this.state.storeValue(`dpool.announce.${eventId}`, String(m.body.task));
      if (m.kind === "summary")
        await this.sendCharts(roomId, key, item.createdAt, () => [{ name: CHART_FILE, png: renderSummaryChart(m.body, { timeZone: item.timeZone }) }]);
    });
  }

  /**
   * A personal answer goes to the member's direct-message room (made on first use); the room
   * where it was asked gets a short notice. Both sends are keyed by the reply row, so a repeat
   * sends neither twice. Asked in the direct-message room itself, it is an ordinary reply.
   */
  private async replyPrivately(target: MatrixTarget, userId: string, reply: Reply, key: string): Promise<void> {
    const dm = await this.dmRoom(userId);
    // Asked in a direct message of theirs with the bot (not always the one the bot would pick): answered there.
    if (
      dm === target.roomId ||
      (this.client.dms.isDm(target.roomId) && (await this.client.getJoinedRoomMembers(target.roomId)).every((u) => u === userId || u === this.userId))
    ) {
      await this.put(target.roomId, "m.room.message", this.answerContent(reply, target), txnIdOf(key));
      return;
    }
    await this.put(dm, "m.room.message", notice(reply.doc), txnIdOf(key));
    const sent = this.forTarget([doc.line(`@${localpart(userId)}: I sent you the answer in a direct message.`)], { ...target, who: undefined });
    await this.put(target.roomId, "m.room.message", { ...sent, "m.mentions": { user_ids: [userId] } }, txnIdOf(`${key}:sent-privately`));
  }

  /** The bot's direct-message room with a user; one at a time per user, so two sends never make two rooms. */
  private dmRoom(userId: string): Promise<string> {
    const pending = this.dmPending.get(userId);
    if (pending) return pending;
    const made = this.client.dms.getOrCreateDm(userId).finally(() => this.dmPending.delete(userId));
    this.dmPending.set(userId, made);
    return made;
  }
  private readonly dmPending = new Map<string, Promise<string>>();

  async note(n: NoteItem, key: string): Promise<void> {
    await this.sending(n.attempts, async () => {
      const dm = await this.dmRoom(n.externalId);
      const m = n.message;
      await this.put(dm, "m.room.message", notice(renderNoteMessage(m, { timeZone: n.timeZone })), txnIdOf(key, n.createdAt));
      if (m.kind === "summary")
        await this.sendCharts(dm, key, n.createdAt, () => [{ name: CHART_FILE, png: renderSummaryChart(m.body, { timeZone: n.timeZone }) }]);
    });
  }

  classify(e: unknown): Failure {
    const t = troubleOf(e);
    switch (t.kind) {
      case "rate":
        return { retry: true, afterMs: t.afterMs, reason: `rate limited by the homeserver (${t.reason}, retry after ${t.afterMs} ms)` };
      case "down":
        return { retry: true, reason: t.reason };
      case "token":
        this.fatal(`the homeserver at ${this.o.homeserverUrl} refused the access token (${t.reason}): set a valid MATRIX_ACCESS_TOKEN`, EXIT.credentials);
        return { retry: true, reason: t.reason };
      case "forbidden":
        return { retry: false, roomGone: true, reason: `the bot may not post there any more, kicked or banned (${t.reason})` };
      case "refused":
        return { retry: false, reason: t.reason };
    }
  }

  /**
   * Runs one send for the Deliverer. After a rate limit, a timer that holds the process kicks
   * the Deliverer again when the retry is due (its own poll timer does not hold the process).
   */
  private async sending(attempts: number, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (e) {
      const t = troubleOf(e);
      if (t.kind === "rate" && !this.stopped) {
        // The Deliverer retries after the longer of the homeserver's wait and its own back-off.
        const due = Math.max(t.afterMs, Math.min(5 * 60_000, 1000 * 2 ** Math.min(attempts, 16)));
        void this.sleep(due + 25).then(() => {
          if (!this.stopped) void this.deliverer.kick();
        });
      }
      throw e;
    }
  }

  /** The answer as a notice replying to its event (in its thread), in its compact form where the command has one (lists as tables). */
  private answerContent(reply: Reply, target: MatrixTarget, preview = false): object {
    let body: Doc = reply.doc;
    if (preview)
      body = [...body, doc.line(doc.muted(`Or react to this message with ✅: only ${target.sender ?? "the member who asked"} can confirm it that way.`))];
    const compact = reply.ok ? compactOf(reply) : null;
    if (compact) body = compact;
    return this.forTarget(body, target);
  }

  /** A notice replying to the target's event, in its thread, starting with whose reaction it answers. */
  private forTarget(body: Doc, target: MatrixTarget): object {
    if (target.who !== undefined) body = [doc.line(`${target.who}: `), ...body];
    const content = { ...notice(body, target.eventId), "m.mentions": target.sender === undefined ? {} : { user_ids: [target.sender] } };
    if (target.thread === undefined) return content;
    return {
      ...content,
      "m.relates_to": { rel_type: "m.thread", event_id: target.thread, is_falling_back: false, "m.in_reply_to": { event_id: target.eventId } },
    };
  }

  /** `PUT /rooms/{roomId}/send/{type}/{txnId}`: the homeserver sends a txnId once. */
  private async put(roomId: string, type: string, content: object, txnId: string): Promise<string> {
    const res = (await this.client.doRequest("PUT", `/_matrix/client/v3/rooms/${enc(roomId)}/send/${enc(type)}/${enc(txnId)}`, null, content)) as {
      event_id: string;
    };
    return res.event_id;
  }

  /**
   * Summary charts after the summary's text: each PNG uploaded, then posted as an m.image with a
   * key derived from the summary's. A chart that cannot be drawn is logged and left out.
   */
  private async sendCharts(
    roomId: string,
    key: string,
    salt: number | undefined,
    draw: () => Array<{ name: string; png: Buffer }>,
    extra: object = {},
  ): Promise<void> {
    let charts: Array<{ name: string; png: Buffer }>;
    try {
      charts = draw();
    } catch (e) {
      this.logger.error({ err: e, room: roomId }, `could not draw a summary chart for ${roomId}; the text went without it`);
      return;
    }
    for (const [i, { name, png }] of charts.entries()) {
      const url = await this.client.uploadContent(png, "image/png", name);
      const content = {
        msgtype: "m.image",
        "m.mentions": {},
        body: name,
        url,
        info: { w: CHART_WIDTH, h: CHART_HEIGHT, mimetype: "image/png", size: png.length },
        ...extra,
      };
      await this.put(roomId, "m.room.message", content, txnIdOf(`${key}:chart:${i}`, salt));
    }
  }

  /**
   * The room's live task board: posted once, then replaced in place with an `m.replace` edit
   * of that first event (clients show the newest content where the board was).
   */
  private async showBoard(item: OutboxItem, board: BoardMessage, key: string): Promise<void> {
    const matrixRoom = item.room.externalId;
    const txnId = txnIdOf(key, item.createdAt);
    if (board.removed) {
      if (board.messageId !== null) {
        await this.client.doRequest("PUT", `/_matrix/client/v3/rooms/${enc(matrixRoom)}/redact/${enc(board.messageId)}/${enc(txnId)}`, null, {
          reason: "The task board was switched off",
        });
      }
      return;
    }
    const content = notice(renderBoard(board, { timeZone: item.timeZone }));
    const existing = await this.o.store.boardMessage(item.roomId);
    if (existing !== null) {
      const edit = {
        msgtype: content.msgtype,
        body: `* ${content.body}`,
        format: content.format,
        formatted_body: `* ${content.formatted_body}`,
        "m.mentions": {},
        "m.new_content": content,
        "m.relates_to": { rel_type: "m.replace", event_id: existing },
      };
      await this.put(matrixRoom, "m.room.message", edit, txnId);
      return;
    }
    await this.o.store.setBoardMessage(item.roomId, await this.put(matrixRoom, "m.room.message", content, txnId));
  }
}

function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 6_000) / 10} min`;
}

const ENCRYPTED =
  "This room is encrypted, and this build of d-pool cannot read or send encrypted messages (the Matrix crypto library does not install here). Please use an unencrypted room for !dpool commands.";
