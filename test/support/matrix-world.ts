// A pool served by the real Matrix adapter against the fake homeserver (test/fakes/homeserver.ts),
// delivering after every commit: what the Matrix end-to-end tests start with. The first member
// makes the lobby, the others join it, the bot is invited (it joins by itself), and the first
// member creates the pool there. Members here act faster than any person types: flood control
// is off unless asked for (it has its own tests), and the bot is exempt from the homeserver's
// rate limit unless a test wants the 429s. The pool is a SQLite file, or on the "postgres" test
// project a PostgreSQL database (test/support/test-app.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { MatrixAdapter, type MatrixOptions } from "../../adapters/matrix/client.ts";
import type { App } from "../../src/app.ts";
import { systemClock } from "../../src/clock.ts";
import type { FatalError } from "../../src/lifecycle.ts";
import { memoryLogger, type LogLine } from "../../src/log.ts";
import { FakeHomeserver, type FakeEvent, type FakeHomeserverOptions } from "../fakes/homeserver.ts";
import { seededRandom } from "./app.ts";
import { openTestApp } from "./test-app.ts";
import { until } from "./until.ts";

export type MatrixUser = { userId: string; accessToken: string };

/** The plain text of an event (its `body`). */
export const text = (e: FakeEvent) => String((e.content as { body?: string }).body ?? "");

export interface MatrixWorldOptions {
  /** The app's random seed. */
  readonly seed: number;
  /** The members by localpart; the first makes the lobby and the pool (default alice and bob). */
  readonly members?: readonly string[];
  /** The members (besides the first) who join the lobby (default all of them). */
  readonly inLobby?: readonly string[];
  /** Members with display names, as Element users have ("alice" is "Alice"); the bot is "d-pool". */
  readonly displayNames?: boolean;
  readonly homeserver?: FakeHomeserverOptions;
  /** Adapter options besides the connection (a timeline limit, a lease). */
  readonly adapter?: Partial<MatrixOptions>;
  /** Flood control, off unless asked for. */
  readonly floodControl?: boolean;
  /** Whether the homeserver rate-limits the bot too (default: it is exempt). */
  readonly rateLimitBot?: boolean;
  /** The pool the first member creates in the lobby ("Bakery"), or none. */
  readonly pool?: string | null;
  /** The temporary folder's name prefix (the bot's state file is there, and the SQLite database on SQLite). */
  readonly name?: string;
}

export class MatrixWorld {
  bot!: MatrixAdapter;
  /** Fatal errors the adapter reported. */
  readonly fatal: FatalError[] = [];
  readonly users: Record<string, MatrixUser> = {};
  lobby!: string;

  private constructor(
    readonly hs: FakeHomeserver,
    readonly app: App,
    readonly dir: string,
    readonly botUser: MatrixUser,
    /** What the bot logged. */
    readonly log: ReturnType<typeof memoryLogger>,
    private readonly adapter: Partial<MatrixOptions>,
  ) {}

  static async start(o: MatrixWorldOptions): Promise<MatrixWorld> {
    const dir = mkdtempSync(join(tmpdir(), `dpool-${o.name ?? "matrix"}-`));
    const hs = await FakeHomeserver.start(o.homeserver);
    const botUser = hs.registerUser("dpool", o.displayNames ? { displayName: "d-pool" } : undefined);
    const log = memoryLogger();
    let world: MatrixWorld | undefined;
    const app = await openTestApp({
      dbFile: join(dir, "pool.sqlite"),
      random: seededRandom(o.seed),
      logger: log.logger,
      afterCommit: () => void world?.bot?.deliver(),
      floodControl: o.floodControl ?? false,
    });
    const w = (world = new MatrixWorld(hs, app, dir, botUser, log, o.adapter ?? {}));
    const [first, ...others] = o.members ?? ["alice", "bob"];
    for (const m of [first!, ...others]) w.users[m] = hs.registerUser(m, o.displayNames ? { displayName: m[0]!.toUpperCase() + m.slice(1) } : undefined);
    if (!o.rateLimitBot) hs.exemptFromRateLimit(botUser.userId);
    const creator = w.users[first!]!;
    w.lobby = hs.createRoom(creator.userId, { name: "Lobby" });
    for (const m of o.inLobby ?? others) {
      hs.invite(w.lobby, creator.userId, w.users[m]!.userId);
      hs.join(w.lobby, w.users[m]!.userId);
    }
    hs.invite(w.lobby, creator.userId, botUser.userId);
    await w.startBot();
    // The bot greets the lobby once it has joined: from then on it hears commands there.
    await hs.waitForEvent(w.lobby, (e) => e.sender === botUser.userId && e.type === "m.room.message", 10_000);
    const pool = o.pool === undefined ? "Bakery" : o.pool;
    if (pool !== null) expect(text(await w.say(creator, `!dpool pool create ${pool}`))).toContain(`Pool ${pool} created`);
    return w;
  }

  /** A member by localpart. */
  user(name: string): MatrixUser {
    const u = this.users[name];
    if (!u) throw new Error(`no member ${name} in this world`);
    return u;
  }

  /** The bot's state file (its sync token and what it remembers of rooms). */
  get stateFile(): string {
    return join(this.dir, "matrix-state.json");
  }

  /** A new adapter on this world's database and state file, not started (a restart makes one). */
  connect(): Promise<MatrixAdapter> {
    return MatrixAdapter.connect({
      homeserverUrl: this.hs.baseUrl,
      accessToken: this.botUser.accessToken,
      storageFile: this.stateFile,
      engine: this.app.engine,
      store: this.app.store,
      clock: systemClock,
      logger: this.log.logger,
      syncTimeoutMs: 200,
      onFatal: (e) => this.fatal.push(e),
      ...this.adapter,
    });
  }

  /** Connects and starts the bot (again, after a stop: a restart); deliveries after commits go through it. */
  async startBot(): Promise<MatrixAdapter> {
    this.bot = await this.connect();
    await this.bot.start();
    return this.bot;
  }

  /** The bot's answers to an event. */
  answers(roomId: string, eventId: string): FakeEvent[] {
    return this.hs.repliesTo(roomId, eventId, this.botUser.userId);
  }

  /** Sends a message (any content) to a room and waits for the bot's (first) answer to it. */
  async send(user: MatrixUser, roomId: string, content: Record<string, unknown>, ms = 15_000): Promise<FakeEvent> {
    const id = this.hs.send(roomId, user.userId, { msgtype: "m.text", ...content });
    await until(`an answer to ${JSON.stringify(content)}`, () => this.answers(roomId, id).length > 0, ms);
    return this.answers(roomId, id)[0]!;
  }

  /** Types a command in a room and waits for its (first) answer. */
  sayIn(user: MatrixUser, roomId: string, body: string, ms = 15_000): Promise<FakeEvent> {
    return this.send(user, roomId, { body }, ms);
  }

  /** Types a command in the lobby and waits for its (first) answer. */
  say(user: MatrixUser, body: string, ms = 15_000): Promise<FakeEvent> {
    return this.sayIn(user, this.lobby, body, ms);
  }

  /** Lets what is under way settle: a delivery round, then two more syncs of the bot, then another round. */
  async settle(ms = 15_000): Promise<void> {
    await this.bot.deliver();
    const syncs = () => this.hs.requests.filter((r) => r.user === this.botUser.userId && r.path.endsWith("/sync") && r.status !== undefined).length;
    const n = syncs();
    await until("two more syncs", () => syncs() >= n + 2, ms);
    await this.bot.deliver();
  }

  /** The bot's direct-message room with a user, from the bot's m.direct account data. */
  dm(user: MatrixUser): string | undefined {
    const direct = this.hs.accountData(this.botUser.userId, "m.direct") as Record<string, string[]> | undefined;
    return direct?.[user.userId]?.[0];
  }

  /** What the bot said in its direct-message room with a user. */
  said(user: MatrixUser): string[] {
    const room = this.dm(user);
    return room ? this.hs.sentBy(room, this.botUser.userId, "m.room.message").map(text) : [];
  }

  /** Every message text a user can read: the bodies of the events in the rooms they are in. */
  seenBy(user: MatrixUser): string[] {
    const bodies = (e: FakeEvent) => [e.content.body, e.content.formatted_body].filter((b): b is string => typeof b === "string");
    return this.hs
      .roomIds()
      .filter((r) => this.hs.membership(r, user.userId) === "join")
      .flatMap((r) => this.hs.events(r).flatMap(bodies));
  }

  /** The bot's log lines at warn and above. */
  warnings(): LogLine[] {
    return this.log.lines.filter((l) => l.level === "warn" || l.level === "error" || l.level === "fatal");
  }

  async close(): Promise<void> {
    await this.bot?.stop();
    await this.hs.close();
    await this.app.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
