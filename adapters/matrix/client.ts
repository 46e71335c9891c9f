// The Matrix adapter: `!dpool` (or `!dp`) text commands in rooms, ✋ reactions on task
// announcements, replies as HTML notices, all through the same engine as Discord and the
// console. Platform code only: the event id is the request id, the room is the room, the
// Matrix user id is the identity.
//
// Element reserves a leading "/" for its own commands, hence the "!dpool" prefix.
import { randomBytes } from "node:crypto";
import { LogLevel, LogService, MatrixAuth, MatrixClient, MatrixError, SimpleFsStorageProvider, type IStorageProvider } from "@vector-im/matrix-bot-sdk";
import { newestBoards, renderAnnouncement, renderNote } from "../../commands/announcements.ts";
import type { BoardMessage } from "../../src/services/rooms.ts";
import { CHART_FILE, CHART_HEIGHT, CHART_WIDTH, chartOfStoredSummary, replyCharts } from "../../commands/chart.ts";
import { runText, type Engine, type Reply } from "../../commands/dispatch.ts";
import { doc } from "../../commands/doc.ts";
import { parseCommand } from "../../commands/text.ts";
import type { Clock } from "../../src/clock.ts";
import { createLogger, type Logger } from "../../src/log.ts";
import type { Store } from "../../src/store.ts";
import { cards, notice } from "./render.ts";

export const PREFIXES = ["!dpool", "!dp"] as const;
/** Reactions that claim a task when put on its announcement. */
export const CLAIM_KEYS = new Set(["✋", "✋️", "🙋", "🙋‍♀️", "🙋‍♂️"]);
/** Commands that bind a room to a pool or project: only room moderators may run them. */
const BINDING = new Set(["pool create", "pool join", "project room"]);
const MODERATOR = 50;

type Event = { event_id: string; sender: string; type: string; origin_server_ts: number; content: Record<string, unknown>; state_key?: string };

export interface MatrixOptions {
  readonly homeserverUrl: string;
  readonly accessToken?: string;
  readonly user?: string;
  readonly password?: string;
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
}

/**
 * A MatrixClient whose sync loop waits for d-pool to handle each event before the next one,
 * so that the sync token is stored only after the commands of a batch are committed: a restart
 * neither loses a command nor (thanks to request ids) answers one twice.
 */
class DpoolMatrixClient extends MatrixClient {
  handle: ((name: string, ...args: unknown[]) => Promise<void>) | undefined;

  constructor(homeserverUrl: string, accessToken: string, storage: IStorageProvider) {
    super(homeserverUrl, accessToken, storage);
    // The sync token is stored only after a batch was handled (see startSyncInternal).
    this.persistTokenAfterSync = true;
  }

  protected override startSyncInternal(): Promise<unknown> {
    return this.startSync(async (name: string, ...args: unknown[]) => {
      await Promise.resolve(this.emit(name, ...args));
      await this.handle?.(name, ...args);
    });
  }
}

const localpart = (userId: string) => userId.replace(/^@/, "").split(":")[0] ?? userId;
const serverOf = (userId: string) => userId.slice(userId.indexOf(":") + 1);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Runs a homeserver call, waiting out rate limits (429 with retry_after_ms) instead of failing. */
export async function withRateLimit<T>(call: () => Promise<T>, tries = 6): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      const limited = e instanceof MatrixError ? e.errcode === "M_LIMIT_EXCEEDED" : (e as { statusCode?: number })?.statusCode === 429;
      if (!limited || attempt >= tries) throw e;
      const wait = (e as MatrixError).retryAfterMs ?? 1000 * attempt;
      await sleep(Math.min(wait, 60_000));
    }
  }
}

export class MatrixAdapter {
  private constructor(
    readonly client: DpoolMatrixClient,
    private readonly storage: IStorageProvider,
    private readonly o: MatrixOptions,
    readonly userId: string,
  ) {}
  private delivering: Promise<void> = Promise.resolve();
  private stopped = false;
  private busy: Promise<void> = Promise.resolve();
  private readonly warnedEncrypted = new Set<string>();

  private loggerCache: Logger | undefined;
  private get logger(): Logger {
    return (this.loggerCache ??= (this.o.logger ?? createLogger()).child({ platform: "matrix" }));
  }

  private log(msg: string, err?: unknown): void {
    if (err === undefined) this.logger.warn(msg);
    else this.logger.error({ err }, msg);
  }

  /** Logs in (with the stored or given token, or once with user and password) and prepares the client. */
  static async connect(o: MatrixOptions): Promise<MatrixAdapter> {
    // The SDK logs expected 404s (m.direct, unset account data) as errors: keep only real trouble.
    LogService.setLevel(LogLevel.WARN);
    LogService.muteModule("MatrixHttpClient");
    LogService.muteModule("MatrixClientLite");
    const storage = new SimpleFsStorageProvider(o.storageFile);
    let token = o.accessToken ?? (storage.readValue("dpool.accessToken") as string | null | undefined) ?? undefined;
    if (!token) {
      if (!o.user || !o.password) throw new Error("no MATRIX_ACCESS_TOKEN, and no MATRIX_USER and MATRIX_PASSWORD to log in with");
      const login = await new MatrixAuth(o.homeserverUrl).passwordLogin(o.user, o.password, "d-pool");
      token = login.accessToken;
      // Logged in once: the token is kept, so the password is not needed at the next start.
      storage.storeValue("dpool.accessToken", token);
    }
    const client = new DpoolMatrixClient(o.homeserverUrl, token, storage);
    client.syncingTimeout = o.syncTimeoutMs ?? 30_000;
    const userId = await client.getUserId();
    const adapter = new MatrixAdapter(client, storage, o, userId);
    client.handle = (name, ...args) => adapter.onSync(name, ...args);
    return adapter;
  }

  async start(): Promise<void> {
    // Rooms the bot is already in count as joined from now on: their history stays unanswered.
    for (const roomId of await withRateLimit(() => this.client.getJoinedRooms())) {
      if (this.joinedAt(roomId) === undefined) this.storage.storeValue(`dpool.joined.${roomId}`, String(this.o.clock.now().getTime()));
    }
    await this.client.start();
    await this.deliver();
  }

  /** Stops syncing and waits for the event being handled, so nothing is left half done. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.client.stop();
    await this.busy;
    await this.delivering;
  }

  private joinedAt(roomId: string): number | undefined {
    const v = this.storage.readValue(`dpool.joined.${roomId}`);
    return typeof v === "string" ? Number(v) : undefined;
  }

  private async onSync(name: string, ...args: unknown[]): Promise<void> {
    // stop() does not abort a /sync the server holds. Its batch must not be handled now, and
    // its token must not be stored (throwing keeps it), so the next start gets those events.
    if (this.stopped) throw new Error("d-pool's Matrix adapter has stopped");
    const work = this.dispatch(name, ...args);
    this.busy = work;
    await work;
  }

  private async dispatch(name: string, ...args: unknown[]): Promise<void> {
    try {
      if (name === "room.invite") await this.onInvite(args[0] as string, args[1] as Event);
      else if (name === "room.join") this.onJoin(args[0] as string, args[1] as Event);
      else if (name === "room.event") await this.onEvent(args[0] as string, args[1] as Event);
    } catch (e) {
      this.log(`matrix: could not handle ${name}`, e);
    }
  }

  private async onInvite(roomId: string, invite: Event): Promise<void> {
    const servers = this.o.inviteServers ?? [];
    if (servers.length > 0 && !servers.includes(serverOf(invite.sender))) {
      this.log(`matrix: ignoring an invite to ${roomId} from ${invite.sender} (server not in MATRIX_INVITE_SERVERS)`);
      return;
    }
    await withRateLimit(() => this.client.joinRoom(roomId));
    const encrypted = await this.isEncrypted(roomId);
    await this.send(
      roomId,
      notice(
        encrypted
          ? [doc.line(ENCRYPTED)]
          : [
              doc.line("Hello! I keep a distribution pool: shared tasks, goods and weighted hours for peer-production projects."),
              doc.line("Start with ", doc.code("!dpool pool create <name>"), " (this room becomes the lobby) or ", doc.code("!dpool pool join <code>"), " with an invite from a pool admin. ", doc.code("!dpool help"), " lists every command."),
            ],
      ),
    );
  }

  private onJoin(roomId: string, membership: Event): void {
    this.storage.storeValue(`dpool.joined.${roomId}`, String(membership.origin_server_ts));
  }

  private async isEncrypted(roomId: string): Promise<boolean> {
    try {
      await this.client.getRoomStateEvent(roomId, "m.room.encryption", "");
      return true;
    } catch {
      return false;
    }
  }

  private async onEvent(roomId: string, event: Event): Promise<void> {
    if (event.sender === this.userId) return;
    // The first sync of a new bot hands over history; after that only events since the stored
    // sync token come. In a room just joined, events before the bot's own join are history too.
    if (!(await Promise.resolve(this.storage.getSyncToken()))) return;
    const joined = this.joinedAt(roomId);
    if (joined === undefined || event.origin_server_ts < joined) return;
    if (event.type === "m.room.encrypted") {
      if (!this.warnedEncrypted.has(roomId)) {
        this.warnedEncrypted.add(roomId);
        await this.send(roomId, notice([doc.line(ENCRYPTED)]));
      }
      return;
    }
    if (event.type === "m.room.message") await this.onMessage(roomId, event);
    else if (event.type === "m.reaction") await this.onReaction(roomId, event);
  }

  /**
   * Events answered lately. A batch interrupted by a stop is delivered again at the next start
   * (its sync token was not stored); its commands are not answered twice. (Replays would credit
   * nothing twice anyway: the event id is the request id.)
   */
  private answered(eventId: string): boolean {
    return this.recent().includes(eventId);
  }

  private markAnswered(eventId: string): void {
    this.storage.storeValue("dpool.answered", JSON.stringify([...this.recent(), eventId].slice(-1000)));
  }

  private recent(): string[] {
    const raw = this.storage.readValue("dpool.answered");
    return typeof raw === "string" ? (JSON.parse(raw) as string[]) : [];
  }

  private invocation(roomId: string, event: Event) {
    return {
      caller: { platform: "matrix", userId: event.sender, displayName: localpart(event.sender), roomId },
      requestId: `matrix:${event.event_id}`,
      now: this.o.clock.now(),
    };
  }

  private async onMessage(roomId: string, event: Event): Promise<void> {
    const body = typeof event.content.body === "string" ? event.content.body.trim() : "";
    const prefix = PREFIXES.find((p) => body === p || body.startsWith(`${p} `));
    if (!prefix) return;
    if (this.answered(event.event_id)) return;
    const text = body.slice(prefix.length).trim() || "help";
    const parsed = parseCommand(this.o.engine.table, text);
    if (parsed.ok) {
      if (parsed.command.where === "pool" && !(await this.roomIsBound(roomId))) return; // rooms of no pool: only starting commands
      if (BINDING.has(parsed.command.path.join(" ")) && (await this.powerLevel(roomId, event.sender)) < MODERATOR) {
        await this.send(roomId, notice([doc.line(`✗ only a room moderator (power level ${MODERATOR} or more) can bind this room: ask one to type `, doc.code(`!dpool ${text}`))], event.event_id));
        this.markAnswered(event.event_id);
        return;
      }
    }
    const reply = await this.run(() => runText(this.o.engine, this.invocation(roomId, event), text));
    // Lists of tasks and goods read best as compact tables in Matrix clients.
    const table = reply.ok && (reply.command === "task list" || reply.command === "good list") ? cards(reply.data) : null;
    const hint = reply.command === "task list" ? doc.line(doc.muted("Take one with "), doc.code("!dpool task claim <id>"), doc.muted(", or ✋ on its announcement.")) : doc.line(doc.muted("Take some with "), doc.code("!dpool good request <good> qty:<n>"), doc.muted("."));
    await this.send(roomId, notice(table ? [...table, hint] : reply.doc, event.event_id));
    if (reply.ok) await this.sendCharts(roomId, () => replyCharts(reply.command, reply.data));
    this.markAnswered(event.event_id);
    await this.deliver();
  }

  /** ✋ on a task announcement claims the task, as the Claim button does on Discord. */
  private async onReaction(roomId: string, event: Event): Promise<void> {
    const rel = event.content["m.relates_to"] as { rel_type?: string; event_id?: string; key?: string } | undefined;
    if (rel?.rel_type !== "m.annotation" || !rel.event_id || !rel.key || !CLAIM_KEYS.has(rel.key)) return;
    const task = this.storage.readValue(`dpool.announce.${rel.event_id}`);
    if (typeof task !== "string" || this.answered(event.event_id)) return;
    const reply = await this.run(() => runText(this.o.engine, this.invocation(roomId, event), `task claim ${task}`));
    await this.send(roomId, notice([doc.line(`${localpart(event.sender)}: `), ...reply.doc], rel.event_id));
    this.markAnswered(event.event_id);
    await this.deliver();
  }

  /** A bug in this adapter: logged once with an incident id; the member is told the id. */
  private async run(work: () => Promise<Reply>): Promise<Reply> {
    try {
      return await work();
    } catch (e) {
      const incident = randomBytes(4).toString("hex");
      this.log(`matrix: incident ${incident}`, e);
      const message = `something went wrong on our side (incident ${incident}); nothing was changed.`;
      return { ok: false, code: "internal", message, doc: [doc.line(doc.bad("✗ "), message)] };
    }
  }

  private async roomIsBound(roomId: string): Promise<boolean> {
    return this.o.store.transaction(async (tx) => (await tx.room("matrix", roomId)) !== undefined);
  }

  private async powerLevel(roomId: string, userId: string): Promise<number> {
    try {
      const pl = (await this.client.getRoomStateEvent(roomId, "m.room.power_levels", "")) as { users?: Record<string, number>; users_default?: number };
      return pl.users?.[userId] ?? pl.users_default ?? 0;
    } catch {
      return 0;
    }
  }

  private send(roomId: string, content: object): Promise<string> {
    return withRateLimit(() => this.client.sendMessage(roomId, content));
  }

  /**
   * Summary charts after the summary's notice: each PNG uploaded to the media repository and
   * posted as an m.image. A chart that fails to draw or upload is logged; the text has gone.
   */
  private async sendCharts(roomId: string, draw: () => Array<{ name: string; png: Buffer }>): Promise<void> {
    try {
      for (const { name, png } of draw()) {
        const url = await withRateLimit(() => this.client.uploadContent(png, "image/png", name));
        await this.send(roomId, { msgtype: "m.image", body: name, url, info: { w: CHART_WIDTH, h: CHART_HEIGHT, mimetype: "image/png", size: png.length } });
      }
    } catch (e) {
      this.log(`matrix: could not send a summary chart to ${roomId}`, e);
    }
  }

  /**
   * The room's live task board: posted once, then replaced in place with an `m.replace` edit
   * of that first event (clients show the newest content where the board was).
   */
  private async showBoard(roomId: number, matrixRoom: string, body: string): Promise<void> {
    try {
      const board = JSON.parse(body) as BoardMessage;
      if (board.removed) {
        if (board.messageId !== null) await withRateLimit(() => this.client.redactEvent(matrixRoom, board.messageId!, "The task board was switched off"));
        return;
      }
      const content = notice(renderAnnouncement("board", body));
      const existing = await this.o.store.boardMessage(roomId);
      if (existing !== null) {
        await this.send(matrixRoom, {
          msgtype: content.msgtype,
          body: `* ${content.body}`,
          format: content.format,
          formatted_body: `* ${content.formatted_body}`,
          "m.new_content": content,
          "m.relates_to": { rel_type: "m.replace", event_id: existing },
        });
        return;
      }
      await this.o.store.setBoardMessage(roomId, await this.send(matrixRoom, content));
    } catch (e) {
      this.log(`matrix: could not update the task board in ${matrixRoom}`, e);
    }
  }

  /** Sends queued announcements to their rooms and notes to their members, in order, once. */
  deliver(): Promise<void> {
    this.delivering = this.delivering.then(() => this.deliverNow()).catch((e: unknown) => this.log("matrix: delivery failed", e));
    return this.delivering;
  }

  private async deliverNow(): Promise<void> {
    const now = () => this.o.clock.now().getTime();
    const pending = await this.o.store.pendingOutbox("matrix", 100);
    const newestBoard = newestBoards(pending);
    for (const item of pending) {
      if (item.kind === "board") {
        if (newestBoard.get(item.roomId) === item.id) await this.showBoard(item.roomId, item.room.externalId, item.body);
        await this.o.store.markDelivered([item.id], now());
        continue;
      }
      try {
        const d = renderAnnouncement(item.kind, item.body);
        const hint = item.kind === "task" ? [doc.line(doc.muted("React with ✋ to claim it."))] : [];
        const eventId = await this.send(item.room.externalId, notice([...d, ...hint]));
        if (item.kind === "summary") await this.sendCharts(item.room.externalId, () => [{ name: CHART_FILE, png: chartOfStoredSummary(item.body) }]);
        if (item.kind === "task") this.storage.storeValue(`dpool.announce.${eventId}`, String((JSON.parse(item.body) as { task: number }).task));
      } catch (e) {
        this.log(`matrix: could not announce in ${item.room.externalId}`, e);
      }
      await this.o.store.markDelivered([item.id], now());
    }
    const seen = new Set<number>();
    for (const n of await this.o.store.pendingNotes("matrix", 100)) {
      if (seen.has(n.id)) continue;
      seen.add(n.id);
      try {
        const dm = await withRateLimit(() => this.client.dms.getOrCreateDm(n.externalId));
        await this.send(dm, notice(renderNote(n.kind, n.body)));
        if (n.kind === "summary") await this.sendCharts(dm, () => [{ name: CHART_FILE, png: chartOfStoredSummary(n.body) }]);
      } catch (e) {
        this.log(`matrix: could not send a note to ${n.externalId}`, e);
      }
      await this.o.store.markNotesDelivered([n.id], now());
    }
  }
}

const ENCRYPTED =
  "This room is encrypted, and this build of d-pool cannot read or send encrypted messages (the Matrix crypto library does not install here). Please use an unencrypted room for !dpool commands.";
