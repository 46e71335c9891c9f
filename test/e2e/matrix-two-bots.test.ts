// Two bot processes on one database (the README allows it: failover, or a second host): both
// sync the same rooms and see every command, yet each command is answered once and each
// announcement posted once, because a message is claimed in a transaction before it is sent.
// The two bots log in as two devices of one account, so the homeserver's transaction ids do not
// hide a double: only the claims do.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MatrixAdapter } from "../../adapters/matrix/client.ts";
import { runText } from "../../commands/dispatch.ts";
import type { App } from "../../src/app.ts";
import { systemClock } from "../../src/clock.ts";
import { memoryLogger } from "../../src/log.ts";
import { FakeHomeserver, type FakeEvent } from "../fakes/homeserver.ts";
import { seededRandom } from "../support/app.ts";
import { sqlRows } from "../support/db-dump.ts";
import { openTestApp } from "../support/test-app.ts";
import { until } from "../support/until.ts";

type User = { userId: string; accessToken: string };

const body = (e: FakeEvent) => String((e.content as { body?: string }).body ?? "");

let hs: FakeHomeserver;
let dir: string;
const apps: App[] = [];
const bots: MatrixAdapter[] = [];
const log = memoryLogger();
let bot: User;
let alice: User;
let bob: User;
let lobby: string;
let kitchen: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dpool-two-bots-"));
  hs = await FakeHomeserver.start();
  bot = hs.registerUser("dpool");
  alice = hs.registerUser("alice");
  bob = hs.registerUser("bob");
  lobby = hs.createRoom(alice.userId, { name: "Lobby" });
  kitchen = hs.createRoom(alice.userId, { name: "Kitchen" });
  for (const room of [lobby, kitchen]) {
    hs.invite(room, alice.userId, bob.userId);
    hs.join(room, bob.userId);
    hs.invite(room, alice.userId, bot.userId);
    hs.join(room, bot.userId);
  }
  // Two processes: each its own connection to the database file, its own device and sync state.
  const second = hs.login(bot.userId);
  for (const [n, token] of [bot.accessToken, second.accessToken].entries()) {
    // Bursts faster than any person types: flood control has its own tests.
    // One SQLite file, or on the "postgres" test project one PostgreSQL database.
    const app = await openTestApp({
      dbFile: join(dir, "pool.sqlite"),
      shared: true,
      random: seededRandom(11 + n),
      logger: log.logger,
      afterCommit: () => bots.forEach((b) => void b.deliver()),
      floodControl: false,
    });
    apps.push(app);
    const b = await MatrixAdapter.connect({
      homeserverUrl: hs.baseUrl,
      accessToken: token,
      storageFile: join(dir, `matrix-state-${n}.json`),
      engine: app.engine,
      store: app.store,
      clock: systemClock,
      logger: log.logger,
      syncTimeoutMs: 200,
    });
    await b.start();
    bots.push(b);
  }
});

afterAll(async () => {
  for (const b of bots) await b.stop();
  await hs.close();
  for (const a of apps) await a.close();
  rmSync(dir, { recursive: true, force: true });
});

const answers = (room: string, id: string) => hs.repliesTo(room, id, bot.userId);

async function say(user: User, room: string, text: string): Promise<FakeEvent> {
  const id = hs.send(room, user.userId, { msgtype: "m.text", body: text });
  await until(`an answer to "${text}"`, () => answers(room, id).length > 0, 30_000);
  return answers(room, id)[0]!;
}

describe("two bot processes on one database", () => {
  it("GIVEN both bots seeing every command THEN each is answered once and each task announced once per room, and the books balance", async () => {
    expect(body(await say(alice, lobby, "!dpool pool create Riverside"))).toContain("Pool Riverside created");
    const code = /[A-Z2-9]{4}-[A-Z2-9]{4}/.exec(body(await say(alice, lobby, "!dpool pool invite")))![0];
    expect(body(await say(alice, kitchen, `!dpool pool join ${code}`))).toContain("now part of the pool Riverside");
    expect(body(await say(alice, lobby, "!dpool project create bakery The Bakery"))).toContain("created");

    const sent: Array<[string, string]> = [];
    for (let i = 1; i <= 8; i++)
      sent.push([lobby, hs.send(lobby, alice.userId, { msgtype: "m.text", body: `!dpool task post bakery Knead batch ${i} hours:1` })]);
    for (let i = 1; i <= 4; i++) sent.push([kitchen, hs.send(kitchen, bob.userId, { msgtype: "m.text", body: `!dpool task claim ${i}` })]);
    sent.push([lobby, hs.send(lobby, bob.userId, { msgtype: "m.text", body: "!dpool me balance" })]);
    sent.push([lobby, hs.send(lobby, alice.userId, { msgtype: "m.text", body: "!dpool goal announce bakery Bread for forty households" })]);
    await until("an answer to each command", () => sent.every(([room, id]) => answers(room, id).length > 0), 30_000);
    // Both bots deliver what is left, then look again: nothing more may come.
    for (let round = 0; round < 2; round++) for (const b of bots) await b.deliver();
    await new Promise((r) => setTimeout(r, 500));
    for (const b of bots) await b.deliver();

    const counts = sent.map(([room, id]) => answers(room, id).length);
    const once = counts.filter((c) => c === 1).length;
    const twice = counts.filter((c) => c > 1).length;
    process.stdout.write(
      `matrix two bots: sent ${sent.length} / answered once ${once} / answered twice ${twice} / lost ${counts.filter((c) => c === 0).length}\n`,
    );
    expect(counts).toEqual(sent.map(() => 1));
    // Tasks are announced in the lobby (the kitchen is no project's room); goals in every room.
    const tasks = hs
      .sentBy(lobby, bot.userId)
      .map(body)
      .filter((b) => b.startsWith("🛠 New task"))
      .map((b) => Number(/#(\d+)/.exec(b)![1]));
    // Each of the 8 tasks posted, once. Their numbers are the pool's: 1 to 8 on SQLite; on
    // PostgreSQL a transaction the database refused and ran again leaves the ids it took unused.
    const posted = (await sqlRows<{ id: number }>(apps[0]!.store, "SELECT id FROM tasks ORDER BY id")).map((r) => r.id);
    expect(posted).toHaveLength(8);
    expect(tasks.sort((a, b) => a - b)).toEqual(posted);
    for (const room of [lobby, kitchen]) {
      expect(hs.sentBy(room, bot.userId).filter((e) => body(e).includes("has a new goal"))).toHaveLength(1);
    }
    const audit = await runText(
      apps[0]!.engine,
      { caller: { platform: "matrix", userId: alice.userId, displayName: "alice", roomId: lobby }, requestId: "audit", now: new Date() },
      "pool audit",
    );
    expect(audit.ok && (audit.data as { balanced: boolean }).balanced).toBe(true);
    expect(log.lines.filter((l) => l.level === "error" || l.level === "fatal")).toEqual([]);
  });
});
