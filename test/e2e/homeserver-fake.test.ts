// Smoke test of the local Matrix homeserver (test/fakes/homeserver.ts) against the REAL MatrixClient of
// @vector-im/matrix-bot-sdk, with a tiny handler written here (not the project's adapter): token and
// password login, the start() sequence, history on the first sync, commands and HTML notice replies,
// reactions, redactions, auto-join on invite (and DM bookkeeping), room state, media upload, 429
// handling, idempotent sends, restart without re-delivery, and a clean shutdown.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AutojoinRoomsMixin,
  LogLevel,
  LogService,
  MatrixAuth,
  MatrixClient,
  MatrixError,
  SimpleFsStorageProvider,
  type ILogger,
} from "@vector-im/matrix-bot-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeHomeserver, type FakeEvent } from "../fakes/homeserver.ts";

type AnyEvent = Record<string, any>;
interface Delivered {
  name: string;
  roomId: string;
  event: AnyEvent;
}

const FILTER = { room: { timeline: { limit: 20 } } };
// A 1x1 transparent PNG.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

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
      client
        .replyNotice(rid, ev, "Pool: 3 members, 12 hours", "<b>Pool</b>: 3 members, 12 hours")
        .catch((e: unknown) => handlerErrors.push(e));
    });
    await client.start(FILTER);
    // start() resolves once the loop is launched, before the first /sync has even been sent.
    await waitFor(() => botRequests().some((r) => r.path === "/_matrix/client/v3/sync"), "first sync");

    expect(botRequests().slice(0, 5).map((r) => `${r.method} ${r.path}`)).toEqual([
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
