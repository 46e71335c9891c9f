// Times are shown in the pool's time zone (policy `timezone`) with its name: in answers, in
// refusals, in answers rendered again from their stored rows, and in announcements, boards and
// notes rendered when they are delivered.
import { afterEach, describe, expect, it } from "vitest";
import { renderAnnouncement, renderNote } from "../../../commands/announcements.ts";
import { replyFromStored, runText } from "../../../commands/dispatch.ts";
import { docToText } from "../../../commands/doc.ts";
import { table } from "../../../commands/table.ts";
import { Deliverer, type Courier, type NoteItem, type OutboxItem } from "../../../src/delivery.ts";
import { memoryLogger } from "../../../src/log.ts";
import { testPool, text, type TestPool } from "../../support/app.ts";
import { sqlRows } from "../../support/db-dump.ts";

let t: TestPool;
afterEach(async () => t.close());

/** A courier that renders what it is handed the way the chat adapters do, and keeps the text. */
class Recorder implements Courier {
  readonly platform = "console";
  readonly sent: Array<{ kind: string; to: string; text: string }> = [];
  ready() {
    return true;
  }
  async reply() {}
  async announce(row: OutboxItem) {
    this.sent.push({ kind: row.kind, to: row.room.externalId, text: docToText(renderAnnouncement(row.kind, row.body, { timeZone: row.timeZone })) });
  }
  async note(row: NoteItem) {
    this.sent.push({ kind: row.kind, to: row.externalId, text: docToText(renderNote(row.kind, row.body, { timeZone: row.timeZone })) });
  }
  classify() {
    return { retry: false, reason: "test" } as const;
  }
}

async function deliver(p: TestPool): Promise<Recorder["sent"]> {
  const courier = new Recorder();
  const deliverer = new Deliverer({ store: p.store, courier, logger: memoryLogger().logger, boardDelayMs: 0 } as ConstructorParameters<typeof Deliverer>[0]);
  await deliverer.kick();
  await deliverer.stop();
  return courier.sent;
}

/** Riverside from Monday 2026-11-02 09:00 UTC (10:00 in Berlin), its time zone set to `zone`. */
async function riverside(zone: string): Promise<TestPool> {
  t = await testPool({ start: "2026-11-02T09:00:00Z" });
  await t.ok("admin", "pool create Riverside");
  await t.ok("admin", `pool policy timezone ${zone}`);
  await t.ok("alice", "project create bakery The Bakery");
  return t;
}

const say = async (user: string, line: string) => {
  const r = await t.say(user, line);
  if (!r.ok) throw new Error(`${line}: ${r.message}`);
  return text(r);
};

describe("a pool in Europe/Berlin", () => {
  it("GIVEN a task, a good with an open round and a claim THEN task show, good show and me show Berlin's wall clock with the zone's name", async () => {
    await riverside("Europe/Berlin");
    await say("alice", "task post bakery Knead dough hours:2 kind:baking due:2026-11-20T17:00Z");
    const show = await say("bob", "task show 1");
    expect(show).toContain("by @alice, 2026-11-02 10:00 Europe/Berlin");
    expect(show).toContain("Due 2026-11-20 18:00 Europe/Berlin");
    expect(show).not.toContain("UTC");

    await say("alice", "good add bakery bread effort:0.5 unit:loaf stock:0");
    await say("bob", "good request bread");
    // The round closes roundHours (24) after its first unmet request.
    expect(await say("bob", "good show bread")).toContain("closes 2026-11-03 10:00 Europe/Berlin");

    t.clock.set("2026-11-03T12:30:00Z");
    await say("carol", "task claim 1");
    const me = await say("carol", "me");
    // A claim runs claimDays (7) from the claim, and no longer than the task's due date.
    expect(me).toContain("report by 2026-11-20 18:00 Europe/Berlin");
    expect(me).not.toContain("UTC");
  });

  it("GIVEN a due date typed without a time THEN it is the end of that day in Berlin, shown as 23:59 Europe/Berlin", async () => {
    await riverside("Europe/Berlin");
    const posted = await t.ok("alice", "task post bakery Knead dough hours:2 kind:baking due:2026-11-20");
    expect(posted.task.dueAt).toBe("2026-11-20T22:59:59.999Z");
    expect(await say("bob", "task show 1")).toContain("Due 2026-11-20 23:59 Europe/Berlin");
    // In summer Berlin is two hours ahead; a time with its zone is taken as typed.
    expect(await say("alice", "task due 1 2027-07-01")).toContain("now due 2027-07-01 23:59 Europe/Berlin");
    expect((await t.ok("alice", "task due 1 2026-12-24T18:00Z")).task.dueAt).toBe("2026-12-24T18:00:00.000Z");
  });

  it("GIVEN summer time THEN the offset is two hours", async () => {
    await riverside("Europe/Berlin");
    t.clock.set("2027-07-01T09:00:00Z");
    await say("alice", "task post bakery Knead dough hours:2 kind:baking");
    expect(await say("bob", "task show 1")).toContain("2027-07-01 11:00 Europe/Berlin");
  });

  it("GIVEN a refusal with a time THEN it is written in the pool's zone too", async () => {
    await riverside("Europe/Berlin");
    await say("alice", "task post bakery Knead dough hours:2 kind:baking due:2026-11-05T17:00Z");
    t.clock.set("2026-11-06T09:00:00Z");
    const r = await t.say("bob", "task claim 1");
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.message).toContain("was due 2026-11-05 18:00 Europe/Berlin");
  });

  it("GIVEN a task announcement, the room's board and a note THEN each is rendered at delivery in Berlin time", async () => {
    await riverside("Europe/Berlin");
    await say("alice", "task post bakery Knead dough hours:2 kind:baking due:2026-11-20T17:00Z");
    await say("alice", "task post bakery Sweep the floor hours:1 kind:cleaning");
    t.clock.set("2026-11-02T10:15:00Z");
    await say("bob", "task claim 2");
    const first = await deliver(t);
    const task = first.find((m) => m.kind === "task");
    expect(task?.text).toContain("due 2026-11-20 18:00 Europe/Berlin");
    const board = first.filter((m) => m.kind === "board").at(-1);
    expect(board?.text).toContain("📋 Open tasks of Riverside");
    expect(board?.text).toMatch(/updated 2026-11-02 1[01]:\d\d Europe\/Berlin/);
    // bob's claim of the task without a due date runs out after claimDays (7) without a
    // report; the next command catches up.
    t.clock.set("2026-11-09T11:00:00Z");
    await say("alice", "task list");
    const notes = (await deliver(t)).filter((m) => m.kind === "released");
    expect(notes).toHaveLength(1);
    expect(notes[0]!.text).toContain("ran out at 2026-11-09 11:15 Europe/Berlin");
    expect(notes[0]!.text).not.toContain("UTC");
  });

  it("GIVEN a chat answer stored as a reply row THEN it renders again in the zone it was given in, even after the pool's zone changed", async () => {
    await riverside("Europe/Berlin");
    await say("alice", "task post bakery Knead dough hours:2 kind:baking");
    const inv = {
      caller: { platform: "console", userId: "bob", displayName: "bob", roomId: "lobby" },
      requestId: "console:stored-1",
      now: t.clock.now(),
      replyTo: { room: "lobby" },
    };
    const first = await runText(t.app.engine, inv, "task show 1");
    expect(text(first)).toContain("2026-11-02 10:00 Europe/Berlin");
    await say("admin", "pool policy timezone America/New_York");
    const [row] = (await sqlRows<{ body: string }>(t.store, "SELECT body FROM replies WHERE request_id = 'console:stored-1'")) as [{ body: string }];
    expect(JSON.parse(row.body)).toMatchObject({ ok: true, timeZone: "Europe/Berlin" });
    expect(text(replyFromStored(table, row.body))).toContain("2026-11-02 10:00 Europe/Berlin");
    // The same request again is answered from that row: the same text.
    expect(text(await runText(t.app.engine, inv, "task show 1"))).toBe(text(first));
    // A new command sees the new zone.
    expect(await say("bob", "task show 1")).toContain("2026-11-02 04:00 America/New_York");
  });
});

describe("a pool in UTC (the default) and commands outside a pool", () => {
  it("GIVEN the default policy THEN times read as before, with UTC", async () => {
    t = await testPool({ start: "2026-11-02T09:00:00Z" });
    await t.ok("admin", "pool create Riverside");
    await t.ok("alice", "project create bakery The Bakery");
    await say("alice", "task post bakery Knead dough hours:2 kind:baking");
    expect(await say("bob", "task show 1")).toContain("2026-11-02 09:00 UTC");
  });

  it("GIVEN a room of no pool THEN a command that shows a time uses UTC", async () => {
    t = await testPool({ start: "2026-11-02T09:00:00Z" });
    await t.ok("admin", "pool create Riverside");
    await t.ok("admin", "pool policy timezone Europe/Berlin");
    // me link works anywhere; its code's expiry is a time.
    const r = await t.say("bob", "me link", { room: "elsewhere" });
    expect(r.ok).toBe(true);
    expect(text(r)).toMatch(/before \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
  });
});
