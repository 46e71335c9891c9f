// One way to show numbers and times, on every platform: a scripted week of a pool in
// Europe/Berlin (weights grown to 1.331, a credit of 1.125 h at that weight, a good of effort
// 0.333, a loan at 0.01234 wh a day, a bid of 1.255 and its round) typed on Discord (the local
// Discord server), Matrix (the local homeserver) and in the console room. In every reply,
// announcement and note, no number has more than two decimals except the exact weights of
// task show's "why this weight" line, and every time is written in Berlin with the zone's name.
import { Readable, Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConsole } from "../../adapters/console/repl.ts";
import { fixedClock } from "../../src/clock.ts";
import { FAKE_IDS } from "../fakes/discord-server.ts";
import type { FakeEvent } from "../fakes/homeserver.ts";
import { discordMessageText } from "../support/dialects.ts";
import { startEveryPlatform, type EveryPlatform, type Who } from "../support/every-platform.ts";

/** The script, day by day (each day's commands at its time): who types what in the pool's room. */
const DAYS: ReadonlyArray<{ readonly at: string; readonly lines: ReadonlyArray<readonly [Who, string]> }> = [
  {
    at: "2026-11-02T09:00:00Z",
    lines: [
      ["alice", "pool create Riverside"],
      ["alice", "pool policy timezone Europe/Berlin"],
      ["alice", "project create bakery Bakery"],
      ["alice", "task post bakery Knead hours:2 kind:baking"],
      ["alice", "task post bakery Sweep hours:1.125 kind:cleaning due:2026-11-20T17:00Z"],
      ["alice", "good add bakery bread effort:0.333 stock:1"],
      ["alice", "good add bakery drill effort:1.234 model:durable stock:1"],
    ],
  },
  {
    // Three days later: both tasks have grown to 1.331.
    at: "2026-11-05T09:30:00Z",
    lines: [
      ["bob", "task list"],
      ["bob", "task board"],
      ["bob", "task show 1"],
      ["bob", "task claim 1"],
      ["bob", "task done 1 hours:1.125"],
      ["alice", "task verify 1 @bob"],
      ["alice", "kind list"],
      ["alice", "task post bakery Shape loaves hours:1 kind:baking"],
      ["bob", "task show 3"],
      ["bob", "good request bread"],
      ["alice", "good request bread weight:1.255"],
      ["bob", "good show bread"],
      ["bob", "good list"],
      ["bob", "good borrow drill days:3"],
      ["bob", "me"],
      ["bob", "me history"],
      ["alice", "pool info"],
      ["alice", "project info bakery"],
      ["alice", "pool policy"],
    ],
  },
  {
    // Two days on: the round of bread has closed, the drill comes back.
    at: "2026-11-07T10:00:00Z",
    lines: [
      ["alice", "good produce bread 1"],
      ["alice", "me"],
      ["bob", "good return drill"],
      ["bob", "me history"],
      ["bob", "task show 2"],
      ["alice", "pool summary bakery"],
      ["alice", "sector report"],
    ],
  },
];

const ZONE = "Europe/Berlin";

/**
 * What in `text` breaks the rules: numbers with more than two decimals outside the exact
 * weights of the "why this weight" line ("1.331 exactly.", "Posted at 1.08275"), and times not
 * followed by the pool's zone. Whitespace (line breaks of wrapped lines too) counts as one space.
 */
function problems(text: string): string[] {
  const flat = text
    .replace(/<[^>]+>/g, " ")
    .replace(/[`*_]/g, "")
    .replace(/\s+/g, " ");
  const out: string[] = [];
  for (const m of flat.matchAll(/-?\d+\.\d{3,}/g)) {
    const before = flat.slice(Math.max(0, m.index - 20), m.index);
    const after = flat.slice(m.index + m[0].length, m.index + m[0].length + 20);
    if (/Posted at $/.test(before) || /^ exactly\./.test(after)) continue;
    out.push(`${m[0]} in "…${before}${m[0]}${after}…"`);
  }
  for (const m of flat.matchAll(/\d{4}-\d\d-\d\d \d\d:\d\d/g)) {
    const after = flat.slice(m.index + m[0].length, m.index + m[0].length + 1 + ZONE.length);
    if (after !== ` ${ZONE}`) out.push(`time without ${ZONE}: "${flat.slice(m.index, m.index + 40)}"`);
  }
  return out;
}

/** The texts are not vacuous: the rounded forms and Berlin's times are there, and the exact weights only in the why line. */
function expectShown(all: string): void {
  const flat = all
    .replace(/<[^>]+>/g, "")
    .replace(/[`*_]/g, "")
    .replace(/\s+/g, " ");
  expect(flat).toContain("weight 1.33"); // 1.331
  expect(flat).toContain("1.50 wh"); // 1.125 h x 1.331 = 1.497375
  expect(flat).toContain("0.33 wh"); // the bread's effort 0.333
  expect(flat).toContain("0.01 wh per day"); // the drill: 1% of 1.234 wh
  expect(flat).toContain("1.13 h"); // 1.125 hours of work
  expect(flat).toContain("1.331 exactly.");
  expect(flat).toMatch(/2026-11-05 10:30 Europe\/Berlin/);
  expect(flat).not.toMatch(/\d\d:\d\d UTC/);
}

const clock = fixedClock(DAYS[0]!.at);
let world: EveryPlatform;
beforeAll(async () => {
  world = await startEveryPlatform({ name: "numbers", seed: 5, clock });
}, 60_000);
afterAll(() => world?.close());

describe("numbers with two decimals and times in the pool's zone, on every platform", () => {
  it("GIVEN texts that break the rules THEN the scan names each (so the checks below are not vacuous)", () => {
    expect(problems("weight <strong>1.331</strong> · 23.385 wh · due 2026-11-20 17:00 UTC")).toHaveLength(3);
    expect(problems("Why this weight: 1.331\n  exactly. Posted at 1.08275 (the baking market weight then), 2026-11-02 10:00\n Europe/Berlin")).toEqual([]);
  });

  it("GIVEN the week in the console room THEN every reply, announcement and note keeps to them", { timeout: 120_000 }, async () => {
    let out = "";
    const output = new Writable({
      write(chunk, _enc, done) {
        out += String(chunk);
        done();
      },
    });
    // One console session a day, the clock set before each.
    for (const day of DAYS) {
      clock.set(day.at);
      const lines = day.lines.flatMap(([user, line]) => [`/as ${user}`, line]);
      await startConsole({
        engine: world.capp.engine,
        store: world.capp.store,
        clock,
        input: Readable.from([`${lines.join("\n")}\n`]),
        output,
        tty: false,
        room: "kitchen",
      });
    }
    expect(out).not.toContain("✗");
    expectShown(out);
    expect(problems(out)).toEqual([]);
  });

  it("GIVEN the week on Discord THEN every reply, announcement and direct message keeps to them", { timeout: 120_000 }, async () => {
    const texts: string[] = [];
    for (const day of DAYS) {
      clock.set(day.at);
      for (const [user, line] of day.lines) {
        const i = await world.discordSay(user, line);
        for (const m of i.messages) texts.push(discordMessageText(m));
      }
    }
    await world.settle();
    for (const channel of ["lobby", world.discord.dmChannel(FAKE_IDS.alice).id, world.discord.dmChannel(FAKE_IDS.bob).id])
      for (const m of world.discord.channelMessages(channel)) texts.push(discordMessageText(m));
    const all = texts.join("\n");
    expect(all).not.toContain("✗");
    expectShown(all);
    expect(texts.flatMap(problems)).toEqual([]);
  });

  it("GIVEN the week on Matrix THEN every message in every room and direct message keeps to them, in both bodies", { timeout: 120_000 }, async () => {
    const room = await world.matrixRoom();
    for (const day of DAYS) {
      clock.set(day.at);
      for (const [user, line] of day.lines) {
        await room.say(user, line);
      }
    }
    await world.settle();
    const events: FakeEvent[] = world.hs.roomIds().flatMap((r) => world.hs.sentBy(r, world.botId, "m.room.message"));
    const plain = events.map((e) => String((e.content as { body?: string }).body ?? ""));
    const html = events.map((e) => String((e.content as { formatted_body?: string }).formatted_body ?? ""));
    expect(plain.join("\n")).not.toContain("✗");
    expectShown(plain.join("\n"));
    expectShown(html.join("\n"));
    expect([...plain, ...html].flatMap(problems)).toEqual([]);
  });
});
