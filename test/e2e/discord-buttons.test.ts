// Buttons on Discord, end to end (the real discord.js client against the local Discord server):
// a button's custom id names its command by a short key and carries its values as JSON, which
// go through the command's argument schemas when it is pressed. Buttons of older messages
// carried the command's text (`dpool:task claim 2`): a press on one still runs it. A button
// naming no command, or a value its schema refuses, is answered privately and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/app.ts";
import { fixedClock } from "../../src/clock.ts";
import type { FakeDiscord } from "../fakes/discord-server.ts";
import { dumpTables, quietDump, waitQuiet } from "../support/db-dump.ts";
import { OPTION, startDiscordWorld, type DiscordWorld } from "../support/discord-world.ts";

const { STRING, NUMBER, INTEGER } = OPTION;

let world: DiscordWorld;
let fake: FakeDiscord;
let app: App;
const clock = fixedClock("2026-11-02T09:00:00Z");

beforeAll(async () => {
  world = await startDiscordWorld({ seed: 11, clock });
  ({ fake, app } = world);
});

afterAll(() => world?.close());

// Each command is sent once the bot is quiet: the tests name tasks by number, and on PostgreSQL a
// command whose transaction overlapped the board rebuild after the one before may be refused by
// the database and run again, which leaves a gap in the ids.
async function run(user: string, name: string, subcommand: string, options: Array<{ name: string; type: number; value: string | number }> = []) {
  await waitQuiet(app.store);
  const i = fake.interact({ user, channelId: "lobby", name, subcommand, options });
  await i.settled();
  return i;
}

async function press(user: string, customId: string) {
  await waitQuiet(app.store);
  const i = fake.interact({ type: "button", user, channelId: "lobby", customId });
  await i.settled();
  return i;
}

/** The custom ids of a message's buttons. */
const idsOf = (components: unknown): string[] =>
  ((components ?? []) as Array<{ components?: Array<{ custom_id?: string }> }>).flatMap((r) =>
    (r.components ?? []).flatMap((c) => (c.custom_id === undefined ? [] : [c.custom_id])),
  );

const post = (title: string) =>
  run("alice", "task", "post", [
    { name: "project", type: STRING, value: "bakery" },
    { name: "title", type: STRING, value: title },
    { name: "hours", type: NUMBER, value: 2 },
  ]);

describe("Discord buttons: a command's key and typed values", () => {
  it("GIVEN a posted task THEN its Claim button names task claim by key; pressed, it claims, and the claim's Done reports", async () => {
    await run("alice", "pool", "create", [{ name: "name", type: STRING, value: "Riverside commons" }]);
    await run("alice", "project", "create", [
      { name: "slug", type: STRING, value: "bakery" },
      { name: "name", type: STRING, value: "The Bakery" },
    ]);
    const posted = await post("Knead the dough");
    expect(idsOf(posted.components)).toEqual(['dpool-do:tc:{"id":"1"}']);

    const claim = await press("bob", 'dpool-do:tc:{"id":"1"}');
    expect(claim.ephemeral).toBe(true);
    expect(claim.text).toContain("You took task **#1**");
    expect(idsOf(claim.components)).toEqual(['dpool-do:td:{"id":"1"}']);

    const done = await press("bob", 'dpool-do:td:{"id":"1"}');
    expect(done.ephemeral).toBe(true);
    expect(done.text).toContain("Reported 2 h on task #1");
  });

  it("GIVEN a good taken by the unit THEN its Request button takes one, the good named in the values", async () => {
    const added = await run("alice", "good", "add", [
      { name: "project", type: STRING, value: "bakery" },
      { name: "name", type: STRING, value: "bread" },
      { name: "effort", type: NUMBER, value: 0.5 },
      { name: "stock", type: INTEGER, value: 3 },
    ]);
    expect(idsOf(added.components)).toEqual(['dpool-do:gr:{"good":"bread"}']);
    const took = await press("bob", 'dpool-do:gr:{"good":"bread"}');
    expect(took.text).toContain("You took 1 x bread");
  });

  it("GIVEN a button of an older message, carrying the command's text THEN a press still runs it", async () => {
    await post("Sweep the yard");
    const claim = await press("alice", "dpool:task claim 2");
    expect(claim.ephemeral).toBe(true);
    expect(claim.text).toContain("You took task **#2**");
  });

  it("GIVEN a button naming no command of the table, or a value its schema refuses THEN the presser is told privately and nothing changes", async () => {
    const before = await quietDump(app.store);
    const unknown = await press("bob", 'dpool-do:zz:{"id":"1"}');
    expect(unknown.ephemeral).toBe(true);
    expect(unknown.text).toContain("this button runs a command the bot no longer knows, so nothing was changed");
    const garbled = await press("bob", "dpool-do:tc:{id");
    expect(garbled.text).toContain("this button runs a command the bot no longer knows");
    const refused = await press("bob", 'dpool-do:tc:{"id":"twelve"}');
    expect(refused.ephemeral).toBe(true);
    expect(refused.text).toContain("id must be a whole number");
    expect(await dumpTables(app.store)).toBe(before);
  });
});
