// Burst and crash: the real bot process (the compiled bot that `npm start` runs) against the fake
// homeserver, SIGKILLed and restarted at seeded random moments while members type bursts of
// commands, some of them while it is down. Then every command must have exactly one answer,
// no task announced twice, and the books balanced. The homeserver rate-limits the bot (as
// Synapse does), so 429 waits happen along the way and must not end the process.
//
// Environment given to the bot, to keep the test short: MATRIX_SYNC_TIMEOUT_MS (long poll),
// MATRIX_TIMELINE_LIMIT (10, Synapse's default, so gaps happen), DPOOL_DELIVERY_LEASE_MS (a
// killed process's claims free up quickly), DPOOL_DELIVERY_POLL_MS. On the "postgres" test project
// the bot keeps the pool in a PostgreSQL database (DPOOL_DATABASE_URL) instead of the file.
import { mulberry32 } from "../support/random.ts";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeHomeserver, type FakeEvent } from "../fakes/homeserver.ts";
import { until } from "../support/until.ts";
import { buildOnce, MAIN } from "../support/built.ts";
import { randomRuns } from "../support/pg.ts";
import { testDatabaseSpot, type TestDatabaseSpot } from "../support/test-app.ts";

const root = resolve(import.meta.dirname, "..", "..");
type User = { userId: string; accessToken: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const text = (e: FakeEvent) => String((e.content as { body?: string }).body ?? "");

let hs: FakeHomeserver;
let dir: string;
let spot: TestDatabaseSpot | undefined;
let bot: User;
let alice: User;
let bob: User;
let carol: User;
let lobby: string;
/** Everything the bot processes wrote (JSON log lines), for a failure's message. */
const output: string[] = [];
/** How each bot process ended: only our SIGKILLs and the final SIGTERM are allowed. */
const exits: Array<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }> = [];
let child: { proc: ChildProcess; killedByUs: boolean; done: Promise<void> } | undefined;

function startBot(): void {
  const proc = spawn(process.execPath, [MAIN], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MATRIX_HOMESERVER_URL: hs.baseUrl,
      MATRIX_ACCESS_TOKEN: bot.accessToken,
      DPOOL_DB: join(dir, "pool.sqlite"),
      ...spot?.env,
      MATRIX_SYNC_TIMEOUT_MS: "300",
      MATRIX_TIMELINE_LIMIT: "10",
      DPOOL_DELIVERY_LEASE_MS: "1500",
      DPOOL_DELIVERY_POLL_MS: "300",
      DPOOL_LOG_FORMAT: "json",
      DPOOL_LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const c = { proc, killedByUs: false, done: Promise.resolve() };
  for (const s of [proc.stdout, proc.stderr]) s.on("data", (b: Buffer) => output.push(...b.toString("utf8").split("\n").filter(Boolean)));
  c.done = new Promise<void>((resolveDone) =>
    proc.once("exit", (code, signal) => {
      exits.push({ code, signal, killed: c.killedByUs });
      resolveDone();
    }),
  );
  child = c;
}

async function killBot(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (!child) return;
  const c = child;
  child = undefined;
  c.killedByUs = true;
  c.proc.kill(signal);
  await c.done;
}

const answers = (eventId: string) => hs.repliesTo(lobby, eventId, bot.userId);

async function say(user: User, body: string, ms = 30_000): Promise<FakeEvent> {
  const id = hs.send(lobby, user.userId, { msgtype: "m.text", body });
  await until(`an answer to "${body}"`, () => answers(id).length > 0, ms);
  return answers(id)[0]!;
}

beforeAll(buildOnce, 180_000);
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dpool-matrix-crash-"));
  spot = await testDatabaseSpot(join(dir, "pool.sqlite"));
  // Synapse's limiter, but faster than its defaults (0.2/s would make this test take minutes).
  hs = await FakeHomeserver.start({ messageRateLimit: { perSecond: 20, burst: 10 } });
  bot = hs.registerUser("dpool");
  alice = hs.registerUser("alice");
  bob = hs.registerUser("bob");
  carol = hs.registerUser("carol");
  lobby = hs.createRoom(alice.userId, { name: "Lobby" });
  for (const u of [bob, carol]) {
    hs.invite(lobby, alice.userId, u.userId);
    hs.join(lobby, u.userId);
  }
  startBot();
  hs.invite(lobby, alice.userId, bot.userId);
  await hs.waitForEvent(lobby, (e) => e.sender === bot.userId && e.type === "m.room.message", 30_000);
  expect(text(await say(alice, "!dpool pool create Bakery"))).toContain("Pool Bakery created");
  // Bursts faster than any person types: flood control would (rightly) hold them back.
  expect(text(await say(alice, "!dpool pool policy floodCommands 0"))).toContain("floodCommands");
  expect(text(await say(alice, "!dpool project create bakery The Bakery"))).toContain("you coordinate it");
  for (let i = 1; i <= 4; i++) await say(alice, `!dpool task post bakery Setup task ${i} hours:1 slots:3`);
});

afterAll(async () => {
  await killBot("SIGKILL");
  await hs?.close();
  await spot?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Matrix: burst and crash, the real bot process", () => {
  it("GIVEN bursts of commands while the bot is SIGKILLed and restarted at random moments THEN each is answered exactly once, none lost, no announcement doubled, books balanced", async () => {
    const random = mulberry32(20261130);
    const sent: Array<{ id: string; body: string }> = [];
    let posted = 4;
    const send = (user: User, body: string) => sent.push({ id: hs.send(lobby, user.userId, { msgtype: "m.text", body }), body });
    const command = (): [User, string] => {
      const r = random();
      if (r < 0.2) return [alice, `!dpool task post bakery Burst task ${++posted} hours:1 slots:2`];
      if (r < 0.45) return [random() < 0.5 ? bob : carol, `!dpool task claim ${1 + Math.floor(random() * posted)}`];
      if (r < 0.7) return [random() < 0.5 ? bob : carol, "!dpool me balance"];
      if (r < 0.85) return [bob, "!dpool task list"];
      return [carol, "!dpool pool info"];
    };
    // Fewer on PostgreSQL (randomRuns): each start there connects and migrates a database.
    const rounds = randomRuns({ sqlite: 10, postgres: 5 });
    for (let round = 0; round < rounds; round++) {
      if (!child) startBot();
      // A burst while it runs (or starts), and a kill at a random moment in it.
      const killAt = Date.now() + 400 + random() * 2000;
      while (Date.now() < killAt) {
        const n = 1 + Math.floor(random() * 3);
        for (let i = 0; i < n; i++) send(...command());
        await sleep(100 + random() * 300);
      }
      await killBot("SIGKILL");
      // Some commands while it is down.
      const whileDown = Math.floor(random() * 5);
      for (let i = 0; i < whileDown; i++) send(...command());
      await sleep(random() * 300);
    }
    startBot();
    const finalStart = Date.now();
    await until("an answer to every command", () => sent.every((s) => answers(s.id).length > 0), 90_000).catch((e: unknown) => {
      const lost = sent.filter((s) => answers(s.id).length === 0).map((s) => s.body);
      throw new Error(`${String(e)}\nunanswered: ${JSON.stringify(lost)}\nbot log (last 40 lines):\n${output.slice(-40).join("\n")}`);
    });
    // Let what is under way settle: two more syncs of the bot after its last delivery poll.
    const syncs = () => hs.requests.filter((r) => r.user === bot.userId && r.path.endsWith("/sync") && r.status !== undefined).length;
    const n = syncs();
    await until("two more syncs", () => syncs() >= n + 2, 15_000);
    await sleep(600);

    const counts = sent.map((s) => answers(s.id).length);
    const once = counts.filter((c) => c === 1).length;
    const twice = counts.filter((c) => c > 1).length;
    const lost = counts.filter((c) => c === 0).length;
    const announcements = hs.sentBy(lobby, bot.userId).filter((e) => /New task #\d+/.test(text(e)));
    const tasks = announcements.map((e) => /New task #(\d+)/.exec(text(e))![1]);
    const kills = exits.filter((x) => x.killed).length;
    console.log(
      `matrix crash test: sent ${sent.length} / answered once ${once} / answered twice ${twice} / lost ${lost} ` +
        `(${kills} kills, last start answered the rest in ${Date.now() - finalStart} ms, ${hs.requests.filter((r) => r.status === 429).length} rate-limited requests, ${hs.requests.filter((r) => r.path.endsWith("/messages")).length} /messages pages, ${hs.dedupedSends} sends deduplicated by txnId)`,
    );
    expect({ twice, lost }).toEqual({ twice: 0, lost: 0 });
    expect(once).toBe(sent.length);
    expect(new Set(tasks).size).toBe(tasks.length);
    // Every task posted (setup and bursts) that the pool accepted was announced once.
    const postedOk = sent.filter((s) => s.body.includes("task post") && text(answers(s.id)[0]!).startsWith("Posted")).length;
    expect(tasks.length).toBe(4 + postedOk);
    const boards = hs.sentBy(lobby, bot.userId).filter((e) => text(e).includes("Open tasks of") && !(e.content as Record<string, unknown>)["m.relates_to"]);
    expect(boards.length).toBeLessThanOrEqual(1);
    expect(text(await say(alice, "!dpool pool audit"))).toContain("Balanced.");
    // Only our kills ended the bot: a 429 wait never let it exit by itself.
    expect(exits.filter((x) => !x.killed)).toEqual([]);
    await killBot("SIGTERM");
    expect(exits.at(-1)).toMatchObject({ code: 0, killed: true });
    expect(hs.unhandled).toEqual([]);
  }, 150_000);

  it("GIVEN a long retry_after_ms on the bot's sends THEN the process stays alive through the wait and the answer comes after it", async () => {
    startBot();
    await until("the bot to be connected", () => output.some((l) => l.includes("d-pool is connected")), 30_000);
    hs.rateLimitNext(2, 2500, "/_matrix/client/v3/rooms/");
    const started = Date.now();
    const answer = await say(bob, "!dpool me balance", 30_000);
    // A personal answer: the room hears that it went to bob's direct messages.
    expect(text(answer)).toContain("I sent you the answer in a direct message");
    expect(Date.now() - started).toBeGreaterThanOrEqual(2400);
    expect(child?.proc.exitCode).toBeNull();
    expect(exits.filter((x) => !x.killed)).toEqual([]);
  }, 60_000);
});
