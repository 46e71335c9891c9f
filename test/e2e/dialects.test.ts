// One scenario typed on every platform (Discord slash commands against the local Discord server,
// Matrix messages against the local homeserver, the console room, dpool exec): every reply,
// announcement and note the members get names commands only in that platform's syntax.
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConsole } from "../../adapters/console/repl.ts";
import { exec } from "../../src/cli.ts";
import { fixedClock } from "../../src/clock.ts";
import { FAKE_IDS } from "../fakes/discord-server.ts";
import type { FakeEvent } from "../fakes/homeserver.ts";
import { dialectProblems, discordMessageText } from "../support/dialects.ts";
import { startEveryPlatform, type EveryPlatform } from "../support/every-platform.ts";
import { testDatabaseSpot } from "../support/test-app.ts";

/** Who types what, in the pool's one room; refusals and help pages included. */
const SCRIPT: ReadonlyArray<readonly ["alice" | "bob", string]> = [
  ["alice", "help"],
  ["alice", "pool create Riverside"],
  ["alice", "project create bakery Bakery"],
  ["alice", "task post bakery Knead hours:2 kind:baking"],
  ["bob", "task list"],
  ["bob", "task board"],
  ["bob", "task claim 1"],
  ["bob", "task done 1"],
  ["alice", "task verify 1 @bob"],
  ["alice", "task post bakery Sweep hours:1"],
  ["bob", "task claim 2"],
  ["bob", "task done 2"],
  ["alice", "task reject 2 @bob dusty"],
  ["alice", "good add bakery bread effort:0.5 stock:10"],
  ["bob", "good list"],
  ["bob", "good show bread"],
  ["bob", "good request bread qty:2"],
  ["bob", "me status"],
  ["bob", "me balance"],
  ["alice", "pool info"],
  ["alice", "pool policy"],
  ["alice", "pool announcements"],
  ["alice", "pool invite"],
  ["alice", "project list"],
  ["alice", "project info bakery"],
  ["alice", "goal announce bakery Bread"],
  ["alice", "goal list"],
  ["alice", "kind list"],
  ["alice", "task show 1"],
  ["alice", "pool correct 1 mistake"],
  ["alice", "help task"],
  ["alice", "help task claim"],
  ["alice", "help nonsense"],
  ["bob", "task claim 99"],
  ["bob", "goal announce bakery Mine"],
  ["bob", "task drop 2"],
];

const clock = fixedClock("2026-11-02T09:00:00Z");
let world: EveryPlatform;
beforeAll(async () => {
  world = await startEveryPlatform({ name: "dialects", seed: 9, clock });
}, 60_000);
afterAll(() => world?.close());

describe("every platform writes commands its own way", () => {
  it(
    "GIVEN the scenario on Discord THEN every reply, announcement and DM names slash commands with real options, never !dpool or text commands",
    { timeout: 120_000 },
    async () => {
      const texts: string[] = [];
      for (const [user, line] of SCRIPT) {
        const i = await world.discordSay(user, line);
        for (const m of i.messages) texts.push(discordMessageText(m));
      }
      await world.settle();
      for (const channel of ["lobby", world.discord.dmChannel(FAKE_IDS.alice).id, world.discord.dmChannel(FAKE_IDS.bob).id])
        for (const m of world.discord.channelMessages(channel)) texts.push(discordMessageText(m));
      const all = texts.join("\n");
      // Not vacuous: the hints are there, in slash form.
      expect(all).toContain("`/task claim id:1`");
      expect(all).toContain("`/help command:task claim`");
      expect(all).toMatch(/`\/task (done|drop) id:2`/);
      // A refusal's hint too: "task list status:all" shows them.
      expect(all).toContain("`/task list status:all` shows them");
      expect(texts.length).toBeGreaterThan(SCRIPT.length);
      expect(texts.flatMap((t) => dialectProblems("discord", t))).toEqual([]);
    },
  );

  it("GIVEN the scenario on Matrix THEN every message in every room and DM names commands with the prefix, in both bodies", { timeout: 120_000 }, async () => {
    const room = await world.matrixRoom();
    for (const [user, line] of SCRIPT) {
      await room.say(user, line);
    }
    await world.settle();
    const events: FakeEvent[] = world.hs.roomIds().flatMap((r) => world.hs.sentBy(r, world.botId, "m.room.message"));
    const bodies = events.flatMap((e) => [
      String((e.content as { body?: string }).body ?? ""),
      String((e.content as { formatted_body?: string }).formatted_body ?? ""),
    ]);
    const all = bodies.join("\n");
    expect(all).toContain("`!dpool task claim 1`");
    expect(all).toContain("<code>!dpool task claim 1</code>");
    expect(all).toContain("!dpool help task claim");
    expect(all).toContain("`!dpool task list status:all` shows them");
    expect(all).toContain("<code>!dpool task list status:all</code> shows them");
    expect(events.length).toBeGreaterThan(SCRIPT.length);
    expect(bodies.flatMap((t) => dialectProblems("matrix", t))).toEqual([]);
  });

  it(
    "GIVEN the scenario in the console room THEN replies and announcements are plain, within 80 columns, refusals on one line",
    { timeout: 120_000 },
    async () => {
      let out = "";
      const output = new Writable({
        write(chunk, _enc, done) {
          out += String(chunk);
          done();
        },
      });
      const lines = SCRIPT.flatMap(([user, line]) => [`/as ${user}`, line]);
      await startConsole({
        engine: world.capp.engine,
        store: world.capp.store,
        clock,
        input: Readable.from([`${lines.join("\n")}\n`]),
        output,
        tty: false,
        room: "kitchen",
      });
      expect(out).toContain("task claim 1");
      expect(out).toContain("help task claim");
      expect(dialectProblems("console", out)).toEqual([]);
      // Replies wrap to 80 columns; a refusal (✗ ...) stays on one line however long.
      const wide = out.split("\n").filter((l) => [...l].length > 80);
      expect(wide.length).toBeGreaterThan(0);
      for (const line of wide) expect(line).toMatch(/^✗ /);
    },
  );

  it(
    "GIVEN the scenario through dpool exec THEN its text has no backticks, no prefix and no slash commands; replies within 80 columns, refusals on one line",
    { timeout: 120_000 },
    async () => {
      // A pool of its own: a SQLite file, or a PostgreSQL database on the "postgres" test project.
      const db = join(world.dir, "exec.sqlite");
      const spot = await testDatabaseSpot(db);
      const texts: string[] = [];
      const refusals: string[] = [];
      for (const [user, line] of SCRIPT) {
        let text = "";
        await exec(
          ["--db", db, "--as", user, line],
          { NO_COLOR: "1", ...spot.env },
          (s) => (text += `${s}\n`),
          (s) => refusals.push(s),
        );
        texts.push(text);
      }
      await spot.drop();
      // Replies wrap to 80 columns; a refusal stays on one line however long.
      expect(texts.flatMap((t) => t.split("\n")).filter((l) => [...l].length > 80)).toEqual([]);
      expect(refusals.some((r) => r.length > 80)).toBe(true);
      for (const r of refusals) expect(r).not.toContain("\n");
      const all = [...texts, ...refusals].join("\n");
      expect(all).toContain("task claim 1");
      expect(all).toContain("help task claim");
      expect(all).toContain('"task list status:all" shows them');
      expect([...texts, ...refusals].flatMap((t) => dialectProblems("exec", t))).toEqual([]);
    },
  );
});
