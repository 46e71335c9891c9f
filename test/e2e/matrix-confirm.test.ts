// pool correct on Matrix, end to end (the real adapter against the fake homeserver): the preview
// invites a ✅ reaction from the admin who asked. Anyone else's ✅ gets a short refusal and
// changes nothing; the admin's ✅ reverses the entry once, also when the reaction is handled again
// after a restart (the reaction's event id is the request id). A preview asked in a thread has
// its ✅ answered in that thread.
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/app.ts";
import type { FakeEvent, FakeHomeserver } from "../fakes/homeserver.ts";
import { dumpTables, quietDump, sqlRows, waitQuiet } from "../support/db-dump.ts";
import { MatrixWorld, text, type MatrixUser } from "../support/matrix-world.ts";
import { until } from "../support/until.ts";

let w: MatrixWorld;
let hs: FakeHomeserver;
let app: App;
let botUser: MatrixUser;
let alice: MatrixUser;
let bob: MatrixUser;
let lobby: string;

const answers = (roomId: string, eventId: string) => w.answers(roomId, eventId);
// Each command is typed once the bot is quiet: the tests name tasks and entries by number, and on
// PostgreSQL a command whose transaction overlapped the board rebuild after the one before may be
// refused by the database and run again, which leaves a gap in the ids.
const say = async (user: MatrixUser, body: string) => {
  await waitQuiet(app.store);
  return w.say(user, body, 10_000);
};
const settle = () => w.settle();

const entries = () =>
  sqlRows<{ id: number; kind: string; reverses: number | null; memo: string }>(app.store, "SELECT id, kind, reverses, memo FROM entries ORDER BY id");

/** The bot's messages in the lobby that hold `needle`. */
const botSaid = (needle: string) => hs.events(lobby).filter((e) => e.sender === botUser.userId && e.type === "m.room.message" && text(e).includes(needle));

beforeAll(async () => {
  w = await MatrixWorld.start({ seed: 15, name: "matrix-confirm", displayNames: true });
  ({ hs, app, botUser, lobby } = w);
  alice = w.user("alice");
  bob = w.user("bob");
  await say(alice, '!dpool project create bakery "Riverside Bakery"');
  await say(alice, "!dpool task post bakery Knead the dough hours:2");
  await say(bob, "!dpool task claim 1");
  await say(bob, "!dpool task done 1");
  expect(text(await say(alice, `!dpool task verify 1 ${bob.userId}`))).toContain("credited 2.00 wh");
});

afterAll(async () => {
  await w?.close();
});

describe("pool correct on Matrix: ✅ on the preview", () => {
  let preview: FakeEvent;

  it("GIVEN bob's verified work WHEN alice (the pool admin) asks pool correct THEN the preview changes nothing and invites her ✅", async () => {
    const before = await quietDump(app.store);
    preview = await say(alice, "!dpool pool correct 1 hours were reported twice");
    expect(text(preview)).toContain("would be reversed");
    expect(text(preview)).toContain(`react to this message with ✅: only ${alice.userId} can confirm it`);
    expect(await dumpTables(app.store)).toBe(before);
  });

  it("GIVEN the preview WHEN bob reacts ✅ THEN he gets a short refusal and nothing changes; other reactions do nothing", async () => {
    const before = await quietDump(app.store);
    const bobs = hs.react(lobby, bob.userId, preview.event_id, "✅");
    const refused = await hs.waitForEvent(lobby, (e) => e.sender === botUser.userId && text(e).includes("only the member who asked"), 10_000, { after: bobs });
    expect(text(refused)).toContain("bob:");
    await settle();
    const said = hs.sentBy(lobby, botUser.userId).length;
    hs.react(lobby, alice.userId, preview.event_id, "👍");
    await settle();
    expect(hs.sentBy(lobby, botUser.userId)).toHaveLength(said);
    expect(await dumpTables(app.store)).toBe(before);
    expect(await entries()).toHaveLength(1);
  });

  it("GIVEN the preview WHEN alice reacts ✅ THEN entry #1 is reversed once, also when the reaction is handled again after a restart", async () => {
    await settle();
    // The state as it was before the ✅ was handled: after a crash the same batch comes again.
    copyFileSync(w.stateFile, join(w.dir, "state-before.json"));
    const alices = hs.react(lobby, alice.userId, preview.event_id, "✅");
    const done = await hs.waitForEvent(lobby, (e) => e.sender === botUser.userId && text(e).includes("reversed by entry #2"), 10_000, { after: alices });
    expect(text(done)).toContain("Entry #1 (2.00 wh) reversed by entry #2: hours were reported twice");
    expect(await entries()).toEqual([
      expect.objectContaining({ id: 1, kind: "work" }),
      { id: 2, kind: "correction", reverses: 1, memo: "hours were reported twice" },
    ]);
    expect(text(await say(bob, "!dpool task show 1"))).toContain("reversed by @alice");

    await w.bot.stop();
    copyFileSync(join(w.dir, "state-before.json"), w.stateFile);
    await w.startBot();
    await settle();
    await settle();
    expect(await entries()).toHaveLength(2);
    expect(botSaid("reversed by entry #2")).toHaveLength(1);

    // A second ✅ later (a new reaction): refused as already reversed, nothing changes.
    const before = await quietDump(app.store);
    const again = hs.react(lobby, alice.userId, preview.event_id, "✔️");
    const refused = await hs.waitForEvent(lobby, (e) => e.sender === botUser.userId && text(e).includes("already corrected"), 10_000, { after: again });
    expect(text(refused)).toContain("entry #1 was already corrected by entry #2");
    expect(await dumpTables(app.store)).toBe(before);
  });
});

describe("pool correct on Matrix in a thread: the ✅'s answer stays in the thread", () => {
  let root: string;
  let preview: FakeEvent;
  const inThread = (e: FakeEvent) => e.content["m.relates_to"] as { rel_type?: string; event_id?: string; "m.in_reply_to"?: { event_id?: string } } | undefined;

  it("GIVEN more verified work WHEN alice asks pool correct in a thread THEN the preview is in that thread", async () => {
    await say(alice, "!dpool task post bakery Shape the loaves hours:1");
    await say(bob, "!dpool task claim 2");
    await say(bob, "!dpool task done 2");
    expect(text(await say(alice, `!dpool task verify 2 ${bob.userId}`))).toContain("credited 1.00 wh");
    expect((await entries()).map((e) => e.id)).toEqual([1, 2, 3]);
    root = hs.send(lobby, alice.userId, { msgtype: "m.text", body: "Bob's hours for the loaves look doubled" });
    const command = hs.send(lobby, alice.userId, {
      msgtype: "m.text",
      body: "!dpool pool correct 3 shaped twice",
      "m.relates_to": { rel_type: "m.thread", event_id: root, is_falling_back: true, "m.in_reply_to": { event_id: root } },
    });
    await until("the preview", () => answers(lobby, command).length > 0, 10_000);
    preview = answers(lobby, command)[0]!;
    expect(text(preview)).toContain("would be reversed");
    expect(inThread(preview)).toMatchObject({ rel_type: "m.thread", event_id: root });
  });

  it("GIVEN the preview in a thread WHEN bob reacts ✅ THEN his refusal is in the thread, replying to the preview", async () => {
    const bobs = hs.react(lobby, bob.userId, preview.event_id, "✅");
    const refused = await hs.waitForEvent(lobby, (e) => e.sender === botUser.userId && text(e).includes("only the member who asked"), 10_000, { after: bobs });
    expect(inThread(refused)).toEqual({ rel_type: "m.thread", event_id: root, is_falling_back: false, "m.in_reply_to": { event_id: preview.event_id } });
  });

  it("GIVEN the preview in a thread WHEN alice reacts ✅ THEN entry #3 is reversed and the answer is in the thread, replying to the preview", async () => {
    await waitQuiet(app.store);
    const alices = hs.react(lobby, alice.userId, preview.event_id, "✅");
    const done = await hs.waitForEvent(lobby, (e) => e.sender === botUser.userId && text(e).includes("reversed by entry #4"), 10_000, { after: alices });
    expect(text(done)).toContain("Entry #3 (1.00 wh) reversed by entry #4: shaped twice");
    expect(inThread(done)).toEqual({ rel_type: "m.thread", event_id: root, is_falling_back: false, "m.in_reply_to": { event_id: preview.event_id } });
    expect((await entries()).at(-1)).toEqual({ id: 4, kind: "correction", reverses: 3, memo: "shaped twice" });
  });
});
