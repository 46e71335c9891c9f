// Smoke test of the local Matrix homeserver (test/fakes/homeserver.ts) against the REAL MatrixClient of
// @vector-im/matrix-bot-sdk, with a tiny handler written here (not the project's adapter): token and
// password login, the start() sequence, history on the first sync, commands and HTML notice replies,
// reactions, redactions, auto-join on invite (and DM bookkeeping), room state, media upload, 429
// handling, idempotent sends, restart without re-delivery, and a clean shutdown. Then, one block each,
// the Synapse behaviours the fake reproduces: timeline gaps and /messages paging, the rc_message rate
// limiter, txnId deduplication, kicked/banned users, outages (down, proxy errors), counting helpers.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AutojoinRoomsMixin,
  ConsoleLogger,
  LogLevel,
  LogService,
  MatrixAuth,
  MatrixClient,
  MatrixError,
  MemoryStorageProvider,
  SimpleFsStorageProvider,
  type ILogger,
} from "@vector-im/matrix-bot-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeHomeserver, SYNAPSE_RC_MESSAGE, type FakeEvent } from "../fakes/homeserver.ts";

type AnyEvent = Record<string, any>;
interface Delivered {
  name: string;
  roomId: string;
  event: AnyEvent;
}

const FILTER = { room: { timeline: { limit: 20 } } };
// A 1x1 transparent PNG.
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", "base64");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor<T>(probe: () => T | undefined | false, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** What a bot has to do itself: the SDK never retries a 429, it throws MatrixError with retryAfterMs. */
async function withRateLimit<T>(fn: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i < tries && e instanceof MatrixError && e.statusCode === 429) {
        await sleep(e.retryAfterMs ?? 1000);
        continue;
      }
      throw e;
    }
  }
}

function track(client: MatrixClient): Delivered[] {
  const log: Delivered[] = [];
  for (const name of ["room.message", "room.event", "room.invite", "room.join", "room.leave"]) {
    client.on(name, (roomId: string, event: AnyEvent) => log.push({ name, roomId, event }));
  }
  return log;
}

describe("FakeHomeserver with the real matrix-bot-sdk MatrixClient", () => {
  let hs: FakeHomeserver;
  let bot: { userId: string; accessToken: string; deviceId: string };
  let alice: { userId: string; accessToken: string };
  let bob: { userId: string; accessToken: string };
  let dir: string;
  let storagePath: string;
  let client: MatrixClient;
  let client2: MatrixClient | undefined;
  let delivered: Delivered[];
  let roomId: string;
  let cmdId = "";
  let replyId = "";
  const logs: { level: string; module: string; text: string }[] = [];
  const handlerErrors: unknown[] = [];
  const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP")).length;

  const capture =
    (level: string) =>
    (module: string, ...args: unknown[]) =>
      logs.push({ level, module, text: args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ") });
  const logger: ILogger = {
    trace: capture("trace"),
    debug: capture("debug"),
    info: capture("info"),
    warn: capture("warn"),
    error: capture("error"),
  };

  function newClient(token: string, storage: SimpleFsStorageProvider): MatrixClient {
    const c = new MatrixClient(hs.baseUrl, token, storage);
    c.syncingTimeout = 250;
    return c;
  }
  const botRequests = () => hs.requests.filter((r) => r.user === bot.userId);

  beforeAll(async () => {
    expect(tcpHandles()).toBe(0); // so that the check at the end is not vacuous
    LogService.setLogger(logger); // the SDK logs expected 404s (m.direct) and every 429 at error level
    LogService.setLevel(LogLevel.WARN);
    hs = await FakeHomeserver.start();
    bot = hs.registerUser("dpool", { password: "hunter2", displayName: "d-pool" });
    alice = hs.registerUser("alice", { displayName: "Alice" });
    bob = hs.registerUser("bob");
    dir = mkdtempSync(join(tmpdir(), "dpool-matrix-"));
    storagePath = join(dir, "bot.json");
  });

  afterAll(async () => {
    client?.stop();
    client2?.stop();
    await hs?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    LogService.setLogger(new (await import("@vector-im/matrix-bot-sdk")).ConsoleLogger());
    LogService.setLevel(LogLevel.INFO);
    await waitFor(() => tcpHandles() === 0, "all TCP handles to close", 3000);
  });

  it("answers auth errors and unknown routes the way the spec says", async () => {
    const whoami = `${hs.baseUrl}/_matrix/client/v3/account/whoami`;
    let res = await fetch(whoami);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ errcode: "M_MISSING_TOKEN" });
    res = await fetch(whoami, { headers: { Authorization: "Bearer nope" } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ errcode: "M_UNKNOWN_TOKEN", soft_logout: false });
    res = await fetch(`${whoami}?access_token=${encodeURIComponent(alice.accessToken)}`);
    expect(await res.json()).toMatchObject({ user_id: alice.userId, is_guest: false });
    res = await fetch(`${hs.baseUrl}/_matrix/client/v3/no/such/thing`, { headers: { Authorization: `Bearer ${alice.accessToken}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ errcode: "M_UNRECOGNIZED" });
    expect(hs.unhandled).toEqual([expect.objectContaining({ method: "GET", path: "/_matrix/client/v3/no/such/thing", status: 404 })]);
    hs.unhandled.length = 0;
  });

  it("starts with an access token: whoami, m.direct, joined_rooms, filter, then /sync; history comes on the first sync", async () => {
    roomId = hs.createRoom(alice.userId, { name: "Pool" });
    hs.invite(roomId, alice.userId, bot.userId);
    hs.join(roomId, bot.userId);
    const oldId = hs.send(roomId, alice.userId, { msgtype: "m.text", body: "said before the bot started" });

    client = newClient(bot.accessToken, new SimpleFsStorageProvider(storagePath));
    delivered = track(client);
    AutojoinRoomsMixin.setupOnClient(client);
    client.on("room.message", (rid: string, ev: AnyEvent) => {
      if (ev.sender === bot.userId || typeof ev.content?.body !== "string" || !ev.content.body.startsWith("!dpool")) return;
      client.replyNotice(rid, ev, "Pool: 3 members, 12 hours", "<b>Pool</b>: 3 members, 12 hours").catch((e: unknown) => handlerErrors.push(e));
    });
    await client.start(FILTER);
    // start() resolves once the loop is launched, before the first /sync has even been sent.
    await waitFor(() => botRequests().some((r) => r.path === "/_matrix/client/v3/sync"), "first sync");

    expect(
      botRequests()
        .slice(0, 5)
        .map((r) => `${r.method} ${r.path}`),
    ).toEqual([
      "GET /_matrix/client/v3/account/whoami",
      `GET /_matrix/client/v3/user/${bot.userId}/account_data/m.direct`,
      "GET /_matrix/client/v3/joined_rooms",
      `POST /_matrix/client/v3/user/${bot.userId}/filter`,
      "GET /_matrix/client/v3/sync",
    ]);
    const firstSync = botRequests()[4]!;
    expect(firstSync.query).toMatchObject({ full_state: "false", timeout: "250", filter: "1" });
    expect(firstSync.query.since).toBeUndefined();
    expect(await client.getUserId()).toBe(bot.userId);

    // The SDK hands the initial sync's timeline to "room.message" like live events.
    const old = await waitFor(() => delivered.find((d) => d.name === "room.message" && d.event.event_id === oldId), "old message");
    expect(old.roomId).toBe(roomId);
    expect(old.event).toMatchObject({ sender: alice.userId, type: "m.room.message", content: { body: "said before the bot started" } });
    expect(old.event.room_id).toBeUndefined(); // sync timelines omit room_id
    expect(typeof old.event.origin_server_ts).toBe("number");
    expect(typeof old.event.unsigned?.age).toBe("number");
    // No room.join for a room it was already in (start() seeds the list from /joined_rooms).
    expect(delivered.some((d) => d.name === "room.join" && d.roomId === roomId)).toBe(false);
  });

  it("receives a command from another user and replies with an HTML m.notice", async () => {
    cmdId = hs.send(roomId, alice.userId, { msgtype: "m.text", body: "!dpool pool info" });
    const reply = await hs.waitForEvent(roomId, (e) => e.sender === bot.userId && e.type === "m.room.message", 5000, { after: cmdId });
    replyId = reply.event_id;
    expect(reply.content).toMatchObject({
      msgtype: "m.notice",
      format: "org.matrix.custom.html",
      "m.relates_to": { "m.in_reply_to": { event_id: cmdId } },
    });
    expect(reply.content.body).toMatch(/^> <@alice:test\.local> !dpool pool info\n\nPool: 3 members, 12 hours$/);
    expect(reply.content.formatted_body).toContain("<mx-reply>");
    expect(reply.content.formatted_body).toMatch(/<b>Pool<\/b>: 3 members, 12 hours$/);

    // Its own reply comes back through sync, marked with the transaction id of its access token.
    const echo = await waitFor(() => delivered.find((d) => d.name === "room.message" && d.event.event_id === replyId), "echo");
    expect(echo.event.sender).toBe(bot.userId);
    expect(typeof echo.event.unsigned.transaction_id).toBe("string");

    const noticeId = await client.sendMessage(roomId, {
      msgtype: "m.notice",
      body: "Pool: 3 members",
      format: "org.matrix.custom.html",
      formatted_body: "<b>Pool</b>: 3 members",
    });
    expect(hs.event(roomId, noticeId)).toMatchObject({
      sender: bot.userId,
      room_id: roomId,
      content: { msgtype: "m.notice", format: "org.matrix.custom.html", formatted_body: "<b>Pool</b>: 3 members" },
    });
    expect(handlerErrors).toEqual([]);
  });

  it("delivers a reaction as room.event and redactions both ways", async () => {
    const reactionId = hs.react(roomId, alice.userId, replyId, "👍");
    const reaction = await waitFor(() => delivered.find((d) => d.name === "room.event" && d.event.event_id === reactionId), "reaction");
    expect(reaction.event).toMatchObject({
      type: "m.reaction",
      sender: alice.userId,
      content: { "m.relates_to": { rel_type: "m.annotation", event_id: replyId, key: "👍" } },
    });
    expect(delivered.some((d) => d.name === "room.message" && d.event.event_id === reactionId)).toBe(false);

    const redactionId = hs.redact(roomId, alice.userId, cmdId, "typo");
    const redaction = await waitFor(() => delivered.find((d) => d.event.event_id === redactionId), "redaction");
    expect(redaction.event).toMatchObject({ type: "m.room.redaction", redacts: cmdId, content: { reason: "typo" } });
    const gone = await client.getEvent(roomId, cmdId);
    expect(gone.content).toEqual({});
    expect(gone.unsigned.redacted_because.event_id).toBe(redactionId);

    const ownRedaction = await client.redactEvent(roomId, replyId, "outdated");
    expect(hs.event(roomId, replyId)?.content).toEqual({});
    expect(hs.event(roomId, ownRedaction)).toMatchObject({ type: "m.room.redaction", redacts: replyId, sender: bot.userId });
  });

  it("auto-joins on invite, keeps DM bookkeeping, and reads power levels and encryption", async () => {
    const secret = hs.createRoom(bob.userId, { name: "Secret", encrypted: true, powerLevels: { [alice.userId]: 50 } });
    hs.invite(secret, bob.userId, bot.userId);
    await waitFor(() => delivered.find((d) => d.name === "room.invite" && d.roomId === secret), "invite");
    await waitFor(() => delivered.find((d) => d.name === "room.join" && d.roomId === secret), "join");
    expect(hs.membership(secret, bot.userId)).toBe("join");

    const pl = await client.getRoomStateEvent(secret, "m.room.power_levels", "");
    expect(pl.users).toEqual({ [bob.userId]: 100, [alice.userId]: 50 });
    expect(pl.events["m.room.encryption"]).toBe(100);
    const enc = await client.getRoomStateEvent(secret, "m.room.encryption", "");
    expect(enc.algorithm).toBe("m.megolm.v1.aes-sha2");
    const missing = await client.getRoomStateEvent(secret, "m.room.topic", "").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MatrixError);
    expect(missing).toMatchObject({ statusCode: 404, errcode: "M_NOT_FOUND" });

    expect(await client.userHasPowerLevelFor(bot.userId, secret, "m.room.name", true)).toBe(false);
    hs.setPowerLevel(secret, bot.userId, 50);
    expect(await client.userHasPowerLevelFor(bot.userId, secret, "m.room.name", true)).toBe(true);
    expect((await client.getJoinedRoomMembers(secret)).sort()).toEqual([bob.userId, bot.userId].sort());
    const state = await client.getRoomState(secret);
    expect(state.map((e: AnyEvent) => e.type)).toContain("m.room.encryption");
    expect(state.every((e: AnyEvent) => e.room_id === secret && typeof e.state_key === "string")).toBe(true);

    // A DM invite (is_direct): the SDK records the room in m.direct account data by itself.
    const dm = hs.createRoom(alice.userId, { invite: [bot.userId], isDirect: true });
    await waitFor(() => hs.membership(dm, bot.userId) === "join", "DM join");
    const direct = await waitFor(() => hs.accountData(bot.userId, "m.direct"), "m.direct");
    expect(direct).toEqual({ [alice.userId]: [dm] });
    expect(client.dms.isDm(dm)).toBe(true);
  });

  it("uploads a PNG and gets it back", async () => {
    const mxc = await client.uploadContent(PNG, "image/png", "dot.png");
    expect(mxc).toMatch(/^mxc:\/\/test\.local\/[A-Za-z]+$/);
    const stored = hs.media(mxc);
    expect(stored).toMatchObject({ contentType: "image/png", filename: "dot.png", uploader: bot.userId });
    expect(stored?.data.equals(PNG)).toBe(true);
    const down = await client.downloadContent(mxc);
    expect(Buffer.from(down.data).equals(PNG)).toBe(true);
    expect(down.contentType).toBe("image/png");
    const imageId = await client.sendMessage(roomId, { msgtype: "m.image", body: "dot.png", url: mxc, info: { mimetype: "image/png", size: PNG.length } });
    expect(hs.event(roomId, imageId)?.content.url).toBe(mxc);
  });

  it("answers 429 M_LIMIT_EXCEEDED with retry_after_ms; the SDK throws it, the caller waits it out", async () => {
    const prefix = `/_matrix/client/v3/rooms/${roomId}/send/`;
    hs.rateLimitNext(1, 300, prefix);
    const before = hs.requests.length;
    const err = await client.sendText(roomId, "too fast").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MatrixError);
    expect(err).toMatchObject({ statusCode: 429, errcode: "M_LIMIT_EXCEEDED", retryAfterMs: 300 });
    const sends = () => hs.requests.slice(before).filter((r) => r.path.startsWith(prefix));
    expect(sends().map((r) => r.status)).toEqual([429]); // no retry by the SDK

    hs.rateLimitNext(2, 150, prefix);
    const t0 = Date.now();
    const id = await withRateLimit(() => client.sendText(roomId, "patient"));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(sends().map((r) => r.status)).toEqual([429, 429, 429, 200]);
    expect(hs.event(roomId, id)?.content.body).toBe("patient");
  });

  it("treats a repeated transaction id on the same access token as the same event", async () => {
    const url = `${hs.baseUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/txn-1`;
    const put = (token: string) =>
      fetch(url, {
        method: "PUT",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ msgtype: "m.text", body: "once" }),
      }).then((r) => r.json() as Promise<{ event_id: string }>);
    const a = await put(alice.accessToken);
    const b = await put(alice.accessToken);
    expect(b.event_id).toBe(a.event_id);
    expect(hs.events(roomId).filter((e: FakeEvent) => e.content.body === "once")).toHaveLength(1);
    // Another access token (another device) with the same txnId is a new event.
    const other = hs.login(alice.userId);
    expect((await put(other.accessToken)).event_id).not.toBe(a.event_id);
  });

  it("logs in with MatrixAuth.passwordLogin (user id or localpart) and refuses a wrong password", async () => {
    const auth = new MatrixAuth(hs.baseUrl);
    const viaPassword = await auth.passwordLogin("dpool", "hunter2", "e2e device");
    const who = await viaPassword.getWhoAmI();
    expect(who.user_id).toBe(bot.userId);
    expect(who.device_id).not.toBe(bot.deviceId);
    expect(viaPassword.accessToken).not.toBe(bot.accessToken);
    const sentId = await viaPassword.sendText(roomId, "hello from a password login");
    expect(hs.event(roomId, sentId)?.sender).toBe(bot.userId);
    expect((await (await auth.passwordLogin(bot.userId, "hunter2")).getWhoAmI()).user_id).toBe(bot.userId);

    const wrong = await auth.passwordLogin("dpool", "nope").catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(MatrixError);
    expect(wrong).toMatchObject({ statusCode: 403, errcode: "M_FORBIDDEN" });
    // Legacy `user` field.
    const legacy = await fetch(`${hs.baseUrl}/_matrix/client/v3/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ type: "m.login.password", user: "dpool", password: "hunter2" }),
    }).then((r) => r.json());
    expect(legacy).toMatchObject({ user_id: bot.userId, access_token: expect.any(String), device_id: expect.any(String) });
  });

  it("after stop() and a new client on the same storage, resumes from the stored token without re-delivery", async () => {
    const seen = new Set(delivered.map((d) => d.event.event_id as string));
    client.stop();
    // stop() does not abort the held /sync: wait for it to come back (at most syncingTimeout).
    await waitFor(() => hs.pendingSyncs(bot.userId) === 0 && botRequests().every((r) => r.status !== undefined), "last sync to end");
    await sleep(50);
    const stored = JSON.parse(readFileSync(storagePath, "utf8")) as { syncToken: string; filter: { id: string } };
    expect(stored.syncToken).toMatch(/^s\d+$/);
    expect(stored.filter).toEqual({ id: "1", filter: FILTER });

    const offlineId = hs.send(roomId, alice.userId, { msgtype: "m.text", body: "sent while the bot was offline" });
    const before = botRequests().length;
    client2 = newClient(bot.accessToken, new SimpleFsStorageProvider(storagePath));
    const delivered2 = track(client2);
    await client2.start(FILTER);
    await waitFor(() => delivered2.find((d) => d.event.event_id === offlineId), "offline message");
    const markerId = hs.send(roomId, alice.userId, { msgtype: "m.text", body: "marker" });
    await waitFor(() => delivered2.find((d) => d.event.event_id === markerId), "marker");

    const again = delivered2.filter((d) => seen.has(d.event.event_id as string));
    expect(again).toEqual([]);
    const restartRequests = botRequests().slice(before);
    expect(restartRequests.some((r) => r.path.endsWith("/filter"))).toBe(false); // same filter: id reused from storage
    const firstSync = restartRequests.find((r) => r.path === "/_matrix/client/v3/sync")!;
    expect(firstSync.query).toMatchObject({ since: stored.syncToken, filter: "1" });
  });

  it("saw no unknown route and no sync-loop error", async () => {
    expect(hs.unhandled).toEqual([]);
    const errors = logs.filter((l) => l.level === "error");
    // Everything logged at error level came from the HTTP layer (the expected m.direct 404 and the 429s).
    expect(errors.every((l) => l.module === "MatrixHttpClient")).toBe(true);
    expect(errors.some((l) => l.text.includes("M_NOT_FOUND"))).toBe(true);
    expect(logs.some((l) => l.module === "MatrixClientLite" && l.level === "error")).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Synapse behaviours, one block each (plain fetch for the wire format, the real client for its reaction)

interface Call {
  status: number;
  headers: Headers;
  text: string;
  json: AnyEvent;
}
type Api = (method: string, path: string, body?: unknown) => Promise<Call>;

function api(hs: FakeHomeserver, token: string): Api {
  return async (method, path, body) => {
    const res = await fetch(`${hs.baseUrl}/_matrix/client/v3${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: AnyEvent = {};
    try {
      json = JSON.parse(text) as AnyEvent;
    } catch {
      // not JSON (a proxy's HTML page)
    }
    return { status: res.status, headers: res.headers, text, json };
  };
}
const enc = encodeURIComponent;
let txnCounter = 0;
const sendPath = (roomId: string, txnId = `t${++txnCounter}`) => `/rooms/${enc(roomId)}/send/m.room.message/${txnId}`;

/** Pages `/messages` backwards from `from` until an empty chunk or no `end`; every event once, newest first. */
async function pageBack(call: Api, roomId: string, from: string, limit: number, to?: string): Promise<{ events: AnyEvent[]; calls: Call[] }> {
  const events: AnyEvent[] = [];
  const calls: Call[] = [];
  let token = from;
  for (let i = 0; i < 200; i++) {
    const q = new URLSearchParams({ dir: "b", from: token, limit: String(limit) });
    if (to !== undefined) q.set("to", to);
    const r = await call("GET", `/rooms/${enc(roomId)}/messages?${q}`);
    expect(r.status).toBe(200);
    calls.push(r);
    events.push(...(r.json.chunk as AnyEvent[]));
    if (r.json.chunk.length === 0 || typeof r.json.end !== "string") return { events, calls };
    token = r.json.end;
  }
  throw new Error("pageBack: no end after 200 pages");
}

function quietSdk(): () => void {
  const noop = () => undefined;
  LogService.setLogger({ trace: noop, debug: noop, info: noop, warn: noop, error: noop });
  LogService.setLevel(LogLevel.ERROR);
  return () => {
    LogService.setLogger(new ConsoleLogger());
    LogService.setLevel(LogLevel.INFO);
  };
}

/** Keeps every raw /sync answer and the token each was asked with (the SDK itself drops `limited`/`prev_batch`). */
class RawSyncClient extends MatrixClient {
  readonly syncs: { since: string | null; body: AnyEvent }[] = [];
  protected override async doSync(token: string): Promise<any> {
    const body = (await super.doSync(token)) as AnyEvent;
    this.syncs.push({ since: token ?? null, body });
    return body;
  }
}

describe("FakeHomeserver like Synapse: timeline limit, limited/prev_batch and /messages paging", () => {
  let hs: FakeHomeserver;
  let restoreLog: () => void;
  let bot: { userId: string; accessToken: string };
  let alice: { userId: string; accessToken: string };
  let botApi: Api;
  const clients: MatrixClient[] = [];

  beforeAll(async () => {
    restoreLog = quietSdk();
    hs = await FakeHomeserver.start();
    bot = hs.registerUser("bot");
    alice = hs.registerUser("alice");
    botApi = api(hs, bot.accessToken);
  });
  afterAll(async () => {
    for (const c of clients) c.stop();
    await hs.close();
    restoreLog();
  });

  function roomWithBot(name: string): string {
    const id = hs.createRoom(alice.userId, { name, invite: [bot.userId] });
    hs.join(id, bot.userId);
    return id;
  }

  it("35 messages while away: /sync shows the last 10 (limited, prev_batch); paging back returns the other 25 once, in every room", async () => {
    const rooms = [roomWithBot("one"), roomWithBot("two"), roomWithBot("three")];
    const first = await botApi("GET", "/sync");
    const since = first.json.next_batch as string;
    // Interleaved, so that stream positions of the rooms mix.
    for (let i = 0; i < 35; i++) for (const [r, id] of rooms.entries()) hs.send(id, alice.userId, { msgtype: "m.text", body: `r${r} m${i}` });

    const sync = await botApi("GET", `/sync?since=${since}&timeout=0`);
    expect(sync.status).toBe(200);
    for (const [r, id] of rooms.entries()) {
      const tl = sync.json.rooms.join[id].timeline;
      expect(tl.limited).toBe(true);
      expect(typeof tl.prev_batch).toBe("string");
      expect(tl.events.map((e: AnyEvent) => e.content.body)).toEqual(Array.from({ length: 10 }, (_, i) => `r${r} m${25 + i}`));

      // Bounded by the old since token: exactly the missed events.
      const gap = await pageBack(botApi, id, tl.prev_batch as string, 7, since);
      expect(gap.events.map((e) => e.content.body)).toEqual(Array.from({ length: 25 }, (_, i) => `r${r} m${24 - i}`));
      expect(gap.events.every((e) => e.room_id === id)).toBe(true);
      // 7+7+7+4, then (like Synapse) an empty page without `end`; the short last page still has `end`.
      expect(gap.calls.map((c) => c.json.chunk.length)).toEqual([7, 7, 7, 4, 0]);
      expect(gap.calls.map((c) => typeof c.json.end)).toEqual(["string", "string", "string", "string", "undefined"]);

      // Unbounded: back to the room's creation; the 25 are there exactly once and nothing repeats.
      const all = await pageBack(botApi, id, tl.prev_batch as string, 10);
      const ids = [...tl.events.map((e: AnyEvent) => e.event_id), ...all.events.map((e) => e.event_id)];
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(ids)).toEqual(new Set(hs.events(id).map((e) => e.event_id)));
      expect(all.events.at(-1)!.type).toBe("m.room.create");
    }
  });

  it("honours a filter's room.timeline.limit (inline or stored): a larger limit reduces gaps, never removes them", async () => {
    const id = roomWithBot("filtered");
    const since = (await botApi("GET", "/sync")).json.next_batch as string;
    for (let i = 0; i < 35; i++) hs.send(id, alice.userId, { msgtype: "m.text", body: `m${i}` });
    const inline = (limit: number) => `/sync?since=${since}&filter=${enc(JSON.stringify({ room: { timeline: { limit } } }))}`;
    const big = (await botApi("GET", inline(50))).json.rooms.join[id].timeline;
    expect(big.events).toHaveLength(35);
    expect(big.limited).toBe(false);
    const stored = await botApi("POST", `/user/${enc(bot.userId)}/filter`, { room: { timeline: { limit: 20 } } });
    const mid = (await botApi("GET", `/sync?since=${since}&filter=${stored.json.filter_id}`)).json.rooms.join[id].timeline;
    expect(mid.events).toHaveLength(20);
    expect(mid.limited).toBe(true);
    expect((await pageBack(botApi, id, mid.prev_batch, 50, since)).events).toHaveLength(15);
    expect((await botApi("GET", inline(20))).json.rooms.join[id].timeline.events[0].content.body).toBe("m15");
  });

  it("pages forwards with dir=f and stops at a `to` token; validates dir and limit like Synapse", async () => {
    const id = roomWithBot("forward");
    const since = (await botApi("GET", "/sync")).json.next_batch as string;
    for (let i = 0; i < 12; i++) hs.send(id, alice.userId, { msgtype: "m.text", body: `f${i}` });
    const upTo = (await botApi("GET", `/sync?since=${since}&timeout=0`)).json.next_batch as string;
    hs.send(id, alice.userId, { msgtype: "m.text", body: "after the to token" });

    const seen: string[] = [];
    let from = since;
    for (;;) {
      const r = await botApi("GET", `/rooms/${enc(id)}/messages?dir=f&from=${from}&to=${upTo}&limit=5`);
      seen.push(...r.json.chunk.map((e: AnyEvent) => e.content.body as string));
      if (r.json.chunk.length === 0 || !r.json.end) break;
      from = r.json.end;
    }
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `f${i}`));

    const filtered = await botApi("GET", `/rooms/${enc(id)}/messages?dir=b&limit=3&filter=${enc(JSON.stringify({ types: ["m.room.member"] }))}`);
    // alice's join, the invite and the bot's join: three m.room.member events, newest first.
    expect(filtered.json.chunk.map((e: AnyEvent) => e.type)).toEqual(["m.room.member", "m.room.member", "m.room.member"]);
    expect(filtered.json.chunk.map((e: AnyEvent) => e.content.membership)).toEqual(["join", "invite", "join"]);
    expect((await botApi("GET", `/rooms/${enc(id)}/messages?dir=x`)).json).toMatchObject({ errcode: "M_INVALID_PARAM" });
    expect((await botApi("GET", `/rooms/${enc(id)}/messages?dir=b&limit=-1`)).status).toBe(400);
    // Without `dir` Synapse pages forwards from the start of the room.
    expect((await botApi("GET", `/rooms/${enc(id)}/messages?limit=1`)).json.chunk[0].type).toBe("m.room.create");
  });

  it("the real MatrixClient: restarted after 35 messages it emits only the last 10 and never looks at `limited`; a subclass can fill the gap", async () => {
    const id = roomWithBot("sdk");
    const storage = new MemoryStorageProvider();
    const c1 = new RawSyncClient(hs.baseUrl, bot.accessToken, storage);
    c1.syncingTimeout = 200;
    clients.push(c1);
    await c1.start();
    await waitFor(() => c1.syncs.length > 0, "first sync");
    c1.stop();
    // stop() does not abort a /sync in flight, and one may start just after it: let every one end.
    await sleep(250);
    await waitFor(() => hs.requests.every((r) => r.user !== bot.userId || r.status !== undefined), "last sync of the stopped client to end");

    for (let i = 0; i < 35; i++) hs.send(id, alice.userId, { msgtype: "m.text", body: `s${i}` });
    const c2 = new RawSyncClient(hs.baseUrl, bot.accessToken, storage);
    c2.syncingTimeout = 200;
    clients.push(c2);
    const got: string[] = [];
    c2.on("room.message", (rid: string, ev: AnyEvent) => {
      if (rid === id) got.push(ev.content.body as string);
    });
    await c2.start();
    const withRoom = await waitFor(() => c2.syncs.find((s) => s.body.rooms?.join?.[id]), "sync with the room");
    await sleep(100);
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => `s${25 + i}`));
    const tl = withRoom.body.rooms.join[id].timeline;
    expect(tl.limited).toBe(true);
    // What an adapter has to do itself: page back from prev_batch to the token it synced from.
    const missed: AnyEvent[] = [];
    let from: string | undefined = tl.prev_batch as string;
    while (from) {
      const page: AnyEvent = await c2.doRequest("GET", `/_matrix/client/v3/rooms/${enc(id)}/messages`, { dir: "b", from, to: withRoom.since, limit: 10 });
      missed.push(...(page.chunk as AnyEvent[]));
      from = page.chunk.length > 0 ? (page.end as string | undefined) : undefined;
    }
    expect(missed.reverse().map((e) => e.content.body)).toEqual(Array.from({ length: 25 }, (_, i) => `s${i}`));
    c2.stop();
  });
});

describe("FakeHomeserver like Synapse: the rc_message rate limiter", () => {
  let hs: FakeHomeserver;
  let restoreLog: () => void;
  let bot: { userId: string; accessToken: string };
  let alice: { userId: string; accessToken: string };
  let roomId: string;

  beforeAll(async () => {
    restoreLog = quietSdk();
    hs = await FakeHomeserver.start({ messageRateLimit: { ...SYNAPSE_RC_MESSAGE, exempt: ["@alice:test.local"] } });
    bot = hs.registerUser("bot");
    alice = hs.registerUser("alice");
    roomId = hs.createRoom(alice.userId, { invite: [bot.userId] });
    hs.join(roomId, bot.userId);
    hs.setPowerLevel(roomId, bot.userId, 50);
  });
  afterAll(async () => {
    await hs.close();
    restoreLog();
  });

  it("with Synapse's defaults: 10 quick sends pass, the 11th gets 429 with retry_after_ms and Retry-After; exempt users are never limited", async () => {
    const call = api(hs, bot.accessToken);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await call("PUT", sendPath(roomId, `burst-${i}`), { msgtype: "m.text", body: `b${i}` });
      expect(r.status).toBe(200);
      ids.push(r.json.event_id as string);
    }
    const limited = await call("PUT", sendPath(roomId), { msgtype: "m.text", body: "too many" });
    expect(limited.status).toBe(429);
    expect(Object.keys(limited.json)).toEqual(["errcode", "error", "retry_after_ms"]);
    expect(limited.json).toMatchObject({ errcode: "M_LIMIT_EXCEEDED", error: "Too Many Requests" });
    expect(limited.json.retry_after_ms).toBeGreaterThan(4000); // one message per 5 s, less the time spent
    expect(limited.json.retry_after_ms).toBeLessThanOrEqual(5000);
    expect(limited.headers.get("retry-after")).toBe("5");
    // Redactions and state count too; a repeated txnId is answered from the cache before the limiter.
    expect((await call("PUT", `/rooms/${enc(roomId)}/redact/${enc(ids[0]!)}/r1`, {})).status).toBe(429);
    expect((await call("PUT", `/rooms/${enc(roomId)}/state/m.room.topic/`, { topic: "x" })).status).toBe(429);
    const again = await call("PUT", sendPath(roomId, "burst-3"), { msgtype: "m.text", body: "b3" });
    expect(again).toMatchObject({ status: 200, json: { event_id: ids[3] } });
    expect(hs.sentBy(roomId, bot.userId, "m.room.message")).toHaveLength(10);

    const aliceCall = api(hs, alice.accessToken);
    for (let i = 0; i < 25; i++) expect((await aliceCall("PUT", sendPath(roomId), { msgtype: "m.text", body: `a${i}` })).status).toBe(200);
    // The test-driving API is not HTTP and never limited.
    hs.send(roomId, bot.userId, { msgtype: "m.text", body: "driven" });
  });

  it("refills at perSecond (a per-user override), and the real client throws MatrixError with retryAfterMs", async () => {
    hs.setRateLimitOverride(bot.userId, { perSecond: 2, burst: 2 });
    hs.resetRateLimits();
    const client = new MatrixClient(hs.baseUrl, bot.accessToken, new MemoryStorageProvider());
    await client.sendText(roomId, "one");
    await client.sendText(roomId, "two");
    const err = await client.sendText(roomId, "three").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MatrixError);
    expect(err).toMatchObject({ statusCode: 429, errcode: "M_LIMIT_EXCEEDED" });
    const wait = (err as MatrixError).retryAfterMs!;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(500); // 1 / perSecond, less the time spent
    await sleep(wait + 5);
    await client.sendText(roomId, "three, later");
    expect(await client.sendText(roomId, "four").catch((e: unknown) => (e as MatrixError).statusCode)).toBe(429);

    hs.setMessageRateLimit(undefined);
    for (let i = 0; i < 5; i++) await client.sendText(roomId, `free ${i}`);
    hs.setRateLimitOverride(bot.userId, null);
  });
});

describe("FakeHomeserver like Synapse: transaction ids", () => {
  let hs: FakeHomeserver;
  let restoreLog: () => void;
  let alice: { userId: string; accessToken: string };
  let roomId: string;

  beforeAll(async () => {
    restoreLog = quietSdk();
    hs = await FakeHomeserver.start({ txnTtlMs: 300 });
    alice = hs.registerUser("alice");
    roomId = hs.createRoom(alice.userId);
  });
  afterAll(async () => {
    await hs.close();
    restoreLog();
  });

  it("a reused txnId on the same access token returns the first event id and sends nothing; another login does not share it", async () => {
    const call = api(hs, alice.accessToken);
    const a = await call("PUT", sendPath(roomId, "same"), { msgtype: "m.text", body: "once" });
    const b = await call("PUT", sendPath(roomId, "same"), { msgtype: "m.text", body: "once (retry)" });
    expect(b.json.event_id).toBe(a.json.event_id);
    expect(hs.dedupedSends).toBe(1);
    expect(hs.sentBy(roomId, alice.userId, "m.room.message").map((e) => e.content.body)).toEqual(["once"]);

    const other = api(hs, hs.login(alice.userId).accessToken);
    expect((await other("PUT", sendPath(roomId, "same"), { msgtype: "m.text", body: "other device" })).json.event_id).not.toBe(a.json.event_id);

    // Redactions too.
    const r1 = await call("PUT", `/rooms/${enc(roomId)}/redact/${enc(a.json.event_id as string)}/red-1`, { reason: "x" });
    const r2 = await call("PUT", `/rooms/${enc(roomId)}/redact/${enc(a.json.event_id as string)}/red-1`, { reason: "x" });
    expect(r2.json.event_id).toBe(r1.json.event_id);
    expect(hs.events(roomId).filter((e) => e.type === "m.room.redaction")).toHaveLength(1);
    expect(hs.dedupedSends).toBe(2);

    // Through the real client (its own txnIds are unique, so a retry must reuse the path).
    const client = new MatrixClient(hs.baseUrl, alice.accessToken, new MemoryStorageProvider());
    const path = `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/sdk-1`;
    const x = await client.doRequest("PUT", path, null, { msgtype: "m.text", body: "sdk" });
    const y = await client.doRequest("PUT", path, null, { msgtype: "m.text", body: "sdk" });
    expect(y.event_id).toBe(x.event_id);
    expect(hs.dedupedSends).toBe(3);
  });

  it("errors are not remembered, and a txnId is forgotten after txnTtlMs", async () => {
    const call = api(hs, alice.accessToken);
    hs.rateLimitNext(1, 10, `/_matrix/client/v3/rooms/${roomId}/send/`);
    expect((await call("PUT", sendPath(roomId, "after-429"), { msgtype: "m.text", body: "x" })).status).toBe(429);
    const ok = await call("PUT", sendPath(roomId, "after-429"), { msgtype: "m.text", body: "x" });
    expect(ok.status).toBe(200);
    expect(hs.event(roomId, ok.json.event_id as string)?.content.body).toBe("x");

    const first = await call("PUT", sendPath(roomId, "short-lived"), { msgtype: "m.text", body: "first" });
    await sleep(350);
    const later = await call("PUT", sendPath(roomId, "short-lived"), { msgtype: "m.text", body: "first" });
    expect(later.json.event_id).not.toBe(first.json.event_id);
  });
});

describe("FakeHomeserver like Synapse: kicked and banned users", () => {
  let hs: FakeHomeserver;
  let restoreLog: () => void;
  let bot: { userId: string; accessToken: string };
  let alice: { userId: string; accessToken: string };
  let client: MatrixClient | undefined;

  beforeAll(async () => {
    restoreLog = quietSdk();
    hs = await FakeHomeserver.start();
    bot = hs.registerUser("bot");
    alice = hs.registerUser("alice");
  });
  afterAll(async () => {
    client?.stop();
    await hs.close();
    restoreLog();
  });

  for (const how of ["kick", "ban"] as const) {
    it(`after a ${how}: 403 M_FORBIDDEN on send, state and redact; the next /sync lists the room under rooms.leave`, async () => {
      const roomId = hs.createRoom(alice.userId, { invite: [bot.userId] });
      hs.join(roomId, bot.userId);
      hs.setPowerLevel(roomId, bot.userId, 50); // so that state would be allowed while joined
      const call = api(hs, bot.accessToken);
      const mine = (await call("PUT", sendPath(roomId), { msgtype: "m.text", body: "hi" })).json.event_id as string;
      expect((await call("PUT", `/rooms/${enc(roomId)}/state/m.room.topic/`, { topic: "ok" })).status).toBe(200);
      const since = (await call("GET", "/sync")).json.next_batch as string;

      const memberId = how === "kick" ? hs.kick(roomId, alice.userId, bot.userId, "bye") : hs.ban(roomId, alice.userId, bot.userId, "spam");
      for (const r of [
        await call("PUT", sendPath(roomId), { msgtype: "m.text", body: "still here?" }),
        await call("PUT", `/rooms/${enc(roomId)}/state/m.room.topic/`, { topic: "mine" }),
        await call("PUT", `/rooms/${enc(roomId)}/redact/${enc(mine)}/${how}-red`, {}),
      ]) {
        expect(r.status).toBe(403);
        expect(r.json.errcode).toBe("M_FORBIDDEN");
      }
      const rejoin = await call("POST", `/rooms/${enc(roomId)}/join`, {});
      expect(rejoin.status).toBe(403); // banned, or kicked from an invite-only room (no invite any more)

      const sync = (await call("GET", `/sync?since=${since}`)).json;
      expect(sync.rooms.join[roomId]).toBeUndefined();
      const left = sync.rooms.leave[roomId].timeline.events as AnyEvent[];
      expect(left.at(-1)).toMatchObject({
        event_id: memberId,
        type: "m.room.member",
        sender: alice.userId,
        state_key: bot.userId,
        content: { membership: how === "kick" ? "leave" : "ban", reason: how === "kick" ? "bye" : "spam" },
      });
      expect(Object.keys((await call("GET", `/sync?since=${sync.next_batch}`)).json.rooms.leave)).toEqual([]);
    });
  }

  it("the real client emits room.leave for a kick and throws MatrixError 403 on send", async () => {
    const roomId = hs.createRoom(alice.userId, { invite: [bot.userId] });
    hs.join(roomId, bot.userId);
    client = new MatrixClient(hs.baseUrl, bot.accessToken, new MemoryStorageProvider());
    client.syncingTimeout = 200;
    const delivered = track(client);
    await client.start();
    await waitFor(() => hs.pendingSyncs(bot.userId) > 0, "sync loop");
    const kickId = hs.kick(roomId, alice.userId, bot.userId);
    const leave = await waitFor(() => delivered.find((d) => d.name === "room.leave" && d.roomId === roomId), "room.leave");
    expect(leave.event.event_id).toBe(kickId);
    const err = await client.sendText(roomId, "hello?").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MatrixError);
    expect(err).toMatchObject({ statusCode: 403, errcode: "M_FORBIDDEN" });
    client.stop();
  });
});

describe("FakeHomeserver outages: down (connection refused/reset) and proxy errors", () => {
  let hs: FakeHomeserver;
  let restoreLog: () => void;
  let bot: { userId: string; accessToken: string };
  let alice: { userId: string; accessToken: string };
  let roomId: string;
  let client: MatrixClient | undefined;

  beforeAll(async () => {
    restoreLog = quietSdk();
    hs = await FakeHomeserver.start();
    bot = hs.registerUser("bot");
    alice = hs.registerUser("alice");
    roomId = hs.createRoom(alice.userId, { invite: [bot.userId] });
    hs.join(roomId, bot.userId);
  });
  afterAll(async () => {
    client?.stop();
    await hs.close();
    restoreLog();
  });

  it("goOffline: new requests get ECONNREFUSED, a held /sync is reset; goOnline: same port, same state", async () => {
    const call = api(hs, bot.accessToken);
    const baseUrl = hs.baseUrl;
    const since = (await call("GET", "/sync")).json.next_batch as string;
    const held = call("GET", `/sync?since=${since}&timeout=5000`).catch((e: unknown) => e);
    await waitFor(() => hs.pendingSyncs(bot.userId) === 1, "held sync");

    await hs.goOffline();
    expect(hs.isOffline).toBe(true);
    const reset = await held;
    expect(reset).toBeInstanceOf(TypeError); // undici: "fetch failed", cause "other side closed"
    expect(hs.pendingSyncs()).toBe(0);
    const refused = await call("GET", "/account/whoami").catch((e: unknown) => e);
    expect((refused as { cause?: { code?: string } }).cause?.code).toBe("ECONNREFUSED");
    const sdk = new MatrixClient(hs.baseUrl, bot.accessToken, new MemoryStorageProvider());
    const sdkErr = await sdk.sendText(roomId, "while down").catch((e: unknown) => e);
    expect(sdkErr).not.toBeInstanceOf(MatrixError);
    expect((sdkErr as { code?: string }).code).toBe("ECONNREFUSED");
    // The test-driving API keeps working while the server is down.
    const during = hs.send(roomId, alice.userId, { msgtype: "m.text", body: "sent while the server was down" });

    await hs.goOnline();
    expect(hs.baseUrl).toBe(baseUrl);
    expect((await call("GET", "/account/whoami")).json.user_id).toBe(bot.userId);
    const after = (await call("GET", `/sync?since=${since}`)).json;
    expect(after.rooms.join[roomId].timeline.events.map((e: AnyEvent) => e.event_id)).toContain(during);
  });

  it("startProxyErrors: every request and every held /sync gets nginx's 502 page; forMs ends it by itself", async () => {
    const call = api(hs, bot.accessToken);
    const since = (await call("GET", "/sync")).json.next_batch as string;
    const held = call("GET", `/sync?since=${since}&timeout=5000`);
    await waitFor(() => hs.pendingSyncs(bot.userId) === 1, "held sync");
    hs.startProxyErrors();
    const r = await held;
    expect(r.status).toBe(502);
    expect(r.headers.get("content-type")).toBe("text/html");
    expect(r.text).toContain("<title>502 Bad Gateway</title>");
    expect((await call("PUT", sendPath(roomId), { msgtype: "m.text", body: "x" })).status).toBe(502);
    expect((await fetch(`${hs.baseUrl}/_matrix/client/versions`)).status).toBe(502);
    // The SDK does not throw a MatrixError (no errcode): it throws the raw response object.
    const sdk = new MatrixClient(hs.baseUrl, bot.accessToken, new MemoryStorageProvider());
    const err = await sdk.sendText(roomId, "x").catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(Error);
    expect((err as { statusCode?: number }).statusCode).toBe(502);
    hs.stopProxyErrors();
    expect((await call("GET", "/account/whoami")).status).toBe(200);

    hs.startProxyErrors({ status: 503, forMs: 150 });
    expect((await call("GET", "/account/whoami")).status).toBe(503);
    await sleep(200);
    expect((await call("GET", "/account/whoami")).status).toBe(200);
    expect(hs.sentBy(roomId, bot.userId)).toHaveLength(1); // only its join; nothing got through
    expect(hs.unhandled).toEqual([]);
  });

  it("the real client's sync loop survives a down server: after its 5-15 s back-off it resumes and delivers what was missed", async () => {
    client = new MatrixClient(hs.baseUrl, bot.accessToken, new MemoryStorageProvider());
    client.syncingTimeout = 200;
    const delivered = track(client);
    await client.start();
    await waitFor(() => hs.pendingSyncs(bot.userId) > 0, "sync loop");
    await hs.goOffline();
    const missed = hs.send(roomId, alice.userId, { msgtype: "m.text", body: "missed while down" });
    await sleep(300);
    await hs.goOnline();
    const t0 = Date.now();
    await waitFor(() => delivered.find((d) => d.event.event_id === missed), "delivery after the outage", 20_000);
    expect(Date.now() - t0).toBeGreaterThan(3000); // it waited out its back-off, not the server
    client.stop();
  }, 30_000);
});

describe("FakeHomeserver outages: closing", () => {
  it("close() resolves while the server is offline", async () => {
    const hs = await FakeHomeserver.start();
    await hs.goOffline();
    await hs.close();
    await hs.goOnline(); // a no-op once closed
    expect(hs.isOffline).toBe(true);
  });
});

describe("FakeHomeserver counting helpers", () => {
  let hs: FakeHomeserver;
  let restoreLog: () => void;

  beforeAll(async () => {
    restoreLog = quietSdk();
    hs = await FakeHomeserver.start();
  });
  afterAll(async () => {
    await hs.close();
    restoreLog();
  });

  it("sentBy and repliesTo count what a bot said and how often it answered a message", async () => {
    const bot = hs.registerUser("bot");
    const alice = hs.registerUser("alice");
    const roomId = hs.createRoom(alice.userId, { invite: [bot.userId] });
    hs.join(roomId, bot.userId);
    const client = new MatrixClient(hs.baseUrl, bot.accessToken, new MemoryStorageProvider());
    const cmd = hs.send(roomId, alice.userId, { msgtype: "m.text", body: "!dpool help" });
    const other = hs.send(roomId, alice.userId, { msgtype: "m.text", body: "!dpool info" });
    const cmdEvent = await client.getEvent(roomId, cmd);
    expect(hs.repliesTo(roomId, cmd)).toEqual([]);
    await client.replyNotice(roomId, cmdEvent, "help text");
    expect(hs.repliesTo(roomId, cmd)).toHaveLength(1);
    await client.replyNotice(roomId, cmdEvent, "help text again");
    await client.replyNotice(roomId, await client.getEvent(roomId, other), "info");
    expect(hs.repliesTo(roomId, cmd).map((e) => e.content.body)).toEqual([expect.stringMatching(/help text$/), expect.stringMatching(/help text again$/)]);
    expect(hs.repliesTo(roomId, cmd, alice.userId)).toEqual([]);
    expect(hs.repliesTo(roomId, other, bot.userId)).toHaveLength(1);
    hs.react(roomId, bot.userId, cmd, "👍");
    expect(hs.sentBy(roomId, bot.userId, "m.room.message")).toHaveLength(3);
    expect(hs.sentBy(roomId, bot.userId).map((e) => e.type)).toEqual(["m.room.member", "m.room.message", "m.room.message", "m.room.message", "m.reaction"]);
  });
});
