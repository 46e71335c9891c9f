// Issue 14 on Matrix, end to end (the real adapter against the fake homeserver): commands as
// Element and phones send them. Pills and m.mentions name members; the prefix is any case and a
// mention of the bot is one too; a direct message with the bot takes the member's own commands
// for their one pool; answers and announcements say whom they mention; binding a room needs the
// room's own level for changing its settings.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/app.ts";
import type { FakeEvent, FakeHomeserver } from "../fakes/homeserver.ts";
import { MatrixWorld, text, type MatrixUser } from "../support/matrix-world.ts";
import { until } from "../support/until.ts";

let w: MatrixWorld;
let hs: FakeHomeserver;
let app: App;
let botUser: MatrixUser;
let alice: MatrixUser;
let bob: MatrixUser;
let carol: MatrixUser;
let lobby: string;

const pill = (u: MatrixUser, name: string) => `<a href="https://matrix.to/#/${u.userId}">${name}</a>`;

const answers = (roomId: string, eventId: string) => w.answers(roomId, eventId);
/** Sends a message (any content) and waits for the bot's answer to it. */
const send = (user: MatrixUser, roomId: string, content: Record<string, unknown>): Promise<FakeEvent> => w.send(user, roomId, content, 10_000);
const say = (user: MatrixUser, roomId: string, body: string) => send(user, roomId, { body });
const settle = () => w.settle();

beforeAll(async () => {
  // Carol is in the homeserver but not in the lobby.
  w = await MatrixWorld.start({ seed: 14, name: "matrix-habits", members: ["alice", "bob", "carol"], inLobby: ["bob"], displayNames: true });
  ({ hs, app, botUser, lobby } = w);
  [alice, bob, carol] = [w.user("alice"), w.user("bob"), w.user("carol")];
});

afterAll(async () => {
  await w?.close();
});

describe("Matrix habits", () => {
  it("GIVEN the prefix capitalised by a phone, or a mention of the bot (pill or m.mentions) THEN the command is answered, and the answer mentions the asker only", async () => {
    const capital = await say(bob, lobby, "!Dpool pool info");
    expect(text(capital)).toContain("Bakery");
    expect(capital.content["m.mentions"]).toEqual({ user_ids: [bob.userId] });
    expect(text(await say(bob, lobby, "!DP help"))).toContain("pool create");

    // Element: the body has the display name, the pill and m.mentions the user id.
    const pilled = await send(bob, lobby, {
      body: "d-pool: pool info",
      format: "org.matrix.custom.html",
      formatted_body: `${pill(botUser, "d-pool")}: pool info`,
      "m.mentions": { user_ids: [botUser.userId] },
    });
    expect(text(pilled)).toContain("Bakery");
    // A client without pills: only the body and m.mentions.
    expect(text(await send(bob, lobby, { body: "d-pool: pool info", "m.mentions": { user_ids: [botUser.userId] } }))).toContain("Bakery");
    // A reply from a client that quotes the message it replies to in the plain body.
    expect(
      text(
        await send(bob, lobby, {
          body: `> <${alice.userId}> which pool is this?\n\n!dpool pool info`,
          "m.relates_to": { "m.in_reply_to": { event_id: capital.event_id } },
        }),
      ),
    ).toContain("Bakery");
    // The full user id typed works as well.
    expect(text(await say(bob, lobby, `${botUser.userId} pool info`))).toContain("Bakery");

    // Talk that only starts like the bot's name is not a command.
    const chat = hs.send(lobby, bob.userId, { msgtype: "m.text", body: "dpool is great" });
    await settle();
    expect(answers(lobby, chat)).toHaveLength(0);
  });

  it("GIVEN a member named with a pill, or only in m.mentions THEN the command takes them as that member", async () => {
    const added = await send(alice, lobby, {
      body: "!dpool pool admin add Bob",
      format: "org.matrix.custom.html",
      formatted_body: `!dpool pool admin add ${pill(bob, "Bob")}`,
      "m.mentions": { user_ids: [bob.userId] },
    });
    expect(text(added)).toContain("@bob is now a pool admin");
    const removed = await send(alice, lobby, { body: "!dpool pool admin remove Bob", "m.mentions": { user_ids: [bob.userId] } });
    expect(text(removed)).toContain("@bob is no longer a pool admin");
    // A pill inside the quoted fallback of a reply counts for nothing.
    const quoted = await send(alice, lobby, {
      body: "> <@bob:test.local> hi\n\n!dpool pool admin add Bob",
      format: "org.matrix.custom.html",
      formatted_body: `<mx-reply><blockquote>${pill(carol, "Carol")} hi</blockquote></mx-reply>!dpool pool admin add ${pill(bob, "Bob")}`,
      "m.relates_to": { "m.in_reply_to": { event_id: added.event_id } },
    });
    expect(text(quoted)).toContain("@bob is now a pool admin");
  });

  it("GIVEN an announcement THEN it mentions nobody (m.mentions is empty), though it names people", async () => {
    await say(alice, lobby, '!dpool project create bakery "Riverside Bakery"');
    const posted = await say(alice, lobby, "!dpool task post bakery Knead the dough hours:2");
    expect(text(posted)).toMatch(/^Posted: #1 Knead the dough/);
    await until("the task's announcement", () =>
      hs.sentBy(lobby, botUser.userId, "m.room.message").some((e) => text(e).includes("Knead the dough") && e.content["m.relates_to"] === undefined),
    );
    const announcement = hs
      .sentBy(lobby, botUser.userId, "m.room.message")
      .find((e) => text(e).includes("Knead the dough") && e.content["m.relates_to"] === undefined)!;
    expect(announcement.content["m.mentions"]).toEqual({});
  });

  it("GIVEN a summary asked in a thread THEN its text and its chart both stay in the thread", async () => {
    const root = hs.send(lobby, alice.userId, { msgtype: "m.text", body: "How is the bakery doing?" });
    const command = hs.send(lobby, alice.userId, {
      msgtype: "m.text",
      body: "!dpool pool summary bakery",
      "m.relates_to": { rel_type: "m.thread", event_id: root, is_falling_back: true, "m.in_reply_to": { event_id: root } },
    });
    await until("the summary", () => answers(lobby, command).length > 0);
    expect(answers(lobby, command)[0]!.content["m.relates_to"]).toEqual({
      rel_type: "m.thread",
      event_id: root,
      is_falling_back: false,
      "m.in_reply_to": { event_id: command },
    });
    await until("the summary's chart", () => hs.sentBy(lobby, botUser.userId, "m.room.message").some((e) => e.content.msgtype === "m.image"));
    const chart = hs.sentBy(lobby, botUser.userId, "m.room.message").find((e) => e.content.msgtype === "m.image")!;
    expect(chart.content["m.relates_to"]).toEqual({ rel_type: "m.thread", event_id: root, is_falling_back: true, "m.in_reply_to": { event_id: command } });
  });

  it("GIVEN a room whose power levels ask 100 for room settings THEN a moderator (50) cannot bind it, and is told the room's level; at the room's own lower level anyone may", async () => {
    const workshop = hs.createRoom(alice.userId, { name: "Workshop", powerLevels: { [bob.userId]: 50 }, invite: [bob.userId] });
    hs.join(workshop, bob.userId);
    hs.invite(workshop, alice.userId, botUser.userId);
    await hs.waitForEvent(workshop, (e) => e.sender === botUser.userId && e.type === "m.room.message", 10_000);
    const pl = structuredClone(hs.stateEvent(workshop, "m.room.power_levels")!.content) as Record<string, any>;
    hs.sendState(workshop, alice.userId, "m.room.power_levels", "", { ...pl, events: { ...pl.events, "m.room.name": 100 } });
    const code = /[A-Z2-9]{4}-[A-Z2-9]{4}/.exec(text(await say(alice, lobby, "!dpool pool invite")))![0];
    const refused = await say(bob, workshop, `!dpool pool join ${code}`);
    expect(text(refused)).toBe(
      `✗ binding a room needs the power to change its settings (power level 100 in this room, yours is 50): ask a room admin or moderator to type !dpool pool join ${code}`,
    );
    expect(await app.store.read((tx) => tx.room("matrix", workshop))).toBeUndefined();

    // The room lets everybody change its name: bob, at level 0 now, binds it.
    hs.sendState(workshop, alice.userId, "m.room.power_levels", "", {
      ...pl,
      events: { ...pl.events, "m.room.name": 0 },
      users: { ...pl.users, [bob.userId]: 0 },
    });
    expect(text(await say(bob, workshop, `!dpool pool join ${code}`))).toContain("This room is now part of the pool Bakery");
  });

  it("GIVEN a direct message with the bot THEN the member's own commands work there without the prefix, for their one pool; a pool-wide command says where to type it", async () => {
    const dm = hs.createRoom(bob.userId, { name: "", invite: [botUser.userId], isDirect: true });
    const hello = await hs.waitForEvent(dm, (e) => e.sender === botUser.userId && e.type === "m.room.message", 10_000);
    expect(text(hello)).toMatch(/^Hello! Here you can type your own commands for your pool, and the prefix is optional: `!dpool me balance`/);
    const balance = await say(bob, dm, "me balance");
    expect(text(balance)).toMatch(/balance/i);
    expect(text(balance)).not.toContain("direct message");
    expect(text(await say(bob, dm, "!dpool task list"))).toContain("Knead the dough");
    const claimed = await say(bob, dm, "task claim 1");
    expect(text(claimed)).toMatch(/^You took task #1 Knead the dough/);
    expect(text(await say(bob, dm, "task drop 1"))).toMatch(/^You gave your slot of task #1 back/);
    // A second direct-message room with the bot: personal answers asked in the first still come there.
    const dm2 = hs.createRoom(bob.userId, { name: "", invite: [botUser.userId], isDirect: true });
    await hs.waitForEvent(dm2, (e) => e.sender === botUser.userId && e.type === "m.room.message", 10_000);
    const again = await say(bob, dm, "me balance");
    expect(text(again)).toMatch(/balance/i);
    expect(text(again)).not.toContain("direct message");
    const admin = await say(bob, dm, "pool admin add @alice");
    expect(text(admin)).toBe("✗ !dpool pool admin add @alice works only in a room of the pool, not in a direct message: type it in one of its rooms");

    // In a second pool, the direct message cannot tell which one is meant: it names both pools' rooms.
    const hill = hs.createRoom(carol.userId, { name: "Hill" });
    hs.invite(hill, carol.userId, bob.userId);
    hs.join(hill, bob.userId);
    hs.invite(hill, carol.userId, botUser.userId);
    await hs.waitForEvent(hill, (e) => e.sender === botUser.userId && e.type === "m.room.message", 10_000);
    expect(text(await say(carol, hill, "!dpool pool create Hillside"))).toContain("Pool Hillside created");
    expect(text(await say(bob, hill, "!dpool pool info"))).toContain("Hillside");
    const which = await say(bob, dm, "me balance");
    expect(text(which)).toContain("you are in 2 pools");
    expect(text(which)).toContain(`Bakery: https://matrix.to/#/${lobby}`);
    expect(text(which)).toContain(`Hillside: https://matrix.to/#/${hill}`);

    // Carol, in a room the bot does not share as a DM, still needs the prefix: chat stays chat.
    const chat = hs.send(hill, carol.userId, { msgtype: "m.text", body: "me balance" });
    await settle();
    expect(answers(hill, chat)).toHaveLength(0);
  });
});
