// What rooms hear without asking: announcement switches, the live task board, round results,
// the neglected-work notice and the pool's summary in the lobby.
import { afterEach, describe, expect, it, vi } from "vitest";
import { announcementPayload, LIMITS } from "../../../adapters/discord/render.ts";
import { notice } from "../../../adapters/matrix/render.ts";
import { renderAnnouncement } from "../../../commands/announcements.ts";
import { UTC_VIEW } from "../../../commands/present.ts";
import { docToText } from "../../../commands/doc.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../../src/core/time.ts";
import { runDueJobs } from "../../../src/schedules.ts";
import { testPool, text, type TestPool } from "../../support/app.ts";
import { sqlRows } from "../../support/db-dump.ts";

let t: TestPool;
afterEach(async () => t.close());

// A hang guard only: the tests that run the scheduler catch up days of per-minute slots, a few
// thousand job runs each in a transaction of its own, which take minutes on PostgreSQL on a loaded machine.
vi.setConfig({ testTimeout: 300_000 });

/** A pool with a lobby ("lobby") and the bakery's own room ("bakery"); alice coordinates the bakery. */
async function bakery(start?: string): Promise<TestPool> {
  t = await testPool(start ? { start } : {});
  await t.ok("admin", "pool create Riverside");
  await t.ok("alice", "project create bakery Bakery");
  const { code } = await t.ok("admin", "pool invite");
  await t.ok("alice", `pool join ${code}`, { room: "bakery" });
  await t.ok("alice", "project room bakery", { room: "bakery" });
  return t;
}

interface Sent {
  room: string;
  kind: string;
  body: string;
  at: number;
}

/** Every queued room message since the last call (or all), oldest first. */
async function outbox(p: TestPool, kind?: string): Promise<Sent[]> {
  const rows = await sqlRows<Sent>(
    p.store,
    "SELECT r.external_id AS room, o.kind, o.body, o.created_at AS at FROM outbox o JOIN rooms r ON r.id = o.room_id ORDER BY o.id",
  );
  return kind === undefined ? rows : rows.filter((r) => r.kind === kind);
}

const show = (s: Sent) => docToText(renderAnnouncement(s.kind, s.body, UTC_VIEW));

describe("announcement switches", () => {
  it("GIVEN a new room THEN every kind is on; an admin switches one off and that room alone stops hearing it", async () => {
    await bakery();
    const all = await t.ok("bob", "pool announcements", { room: "bakery" });
    expect(all.switches).toEqual({ goals: true, tasks: true, rounds: true, summaries: true, neglected: true, board: true });
    const off = await t.ok("admin", "pool announcements tasks off", { room: "bakery" });
    expect(off.changed).toEqual({ kind: "tasks", on: false, already: false });
    expect(off.switches.tasks).toBe(false);
    const posted = await t.ok("alice", "task post bakery Knead dough hours:2 kind:baking");
    expect(posted.rooms).toBe(1);
    expect((await outbox(t, "task")).map((s) => s.room)).toEqual(["lobby"]);
    // Goals still reach both rooms.
    await t.ok("alice", "goal announce bakery Bread for the whole street");
    expect((await outbox(t, "goal")).map((s) => s.room)).toEqual(["lobby", "bakery"]);
    const again = await t.ok("alice", "pool announcements tasks off", { room: "bakery" });
    expect(again.changed).toEqual({ kind: "tasks", on: false, already: true });
    await t.ok("alice", "pool announcements tasks on", { room: "bakery" });
    await t.ok("alice", "task post bakery Shape loaves hours:1");
    expect((await outbox(t, "task")).map((s) => s.room)).toEqual(["lobby", "lobby", "bakery"]);
  });

  it("GIVEN a member who neither administers the pool nor coordinates the room's project THEN the switch is refused and nothing changes", async () => {
    await bakery();
    const before = await t.dump();
    const r = await t.say("bob", "pool announcements tasks off", { room: "bakery" });
    expect(r.ok).toBe(false);
    expect(text(r)).toContain("only a coordinator of bakery or a pool admin can do that");
    const lobby = await t.say("alice", "pool announcements board off");
    expect(text(lobby)).toContain("only a pool admin can do that");
    expect(await t.dump()).toBe(before);
    const typo = await t.say("admin", "pool announcements task off");
    expect(typo.ok).toBe(false);
    expect(text(typo)).toMatch(/goals, tasks, rounds, summaries, neglected, board/);
    expect(await t.dump()).toBe(before);
  });
});

describe("the live task board", () => {
  it("GIVEN tasks posted, claimed and done THEN each room's board is queued only when what it shows changes, heaviest first", async () => {
    await bakery();
    await t.ok("alice", "project create garden Garden");
    expect(await outbox(t, "board")).toEqual([]); // nothing open yet: no board to show
    await t.ok("alice", "task post bakery Knead dough hours:2 kind:baking");
    let boards = await outbox(t, "board");
    expect(boards.map((b) => b.room)).toEqual(["lobby", "bakery"]);
    expect(show(boards[0]!)).toContain("#1 Knead dough (bakery, baking) weight 1.00");
    await t.ok("alice", "task post garden Weed beds hours:1 kind:gardening");
    boards = await outbox(t, "board");
    // The bakery's room shows only bakery work, so only the lobby's board changed.
    expect(boards.map((b) => b.room)).toEqual(["lobby", "bakery", "lobby"]);
    await t.ok("admin", "pool policy creditLimit 20");
    expect(await outbox(t, "board")).toHaveLength(3);
    // Two days later the dough has risen; a claim on the beds changes both boards.
    t.clock.advance(2 * DAY_MS);
    await t.ok("bob", "task claim 2");
    boards = await outbox(t, "board");
    expect(boards.map((b) => b.room)).toEqual(["lobby", "bakery", "lobby", "lobby", "bakery"]);
    const lobby = show(boards[3]!);
    expect(lobby).toContain("#1 Knead dough (bakery, baking) weight 1.21");
    expect(lobby).not.toContain("Weed beds");
    const board = await t.ok("carol", "task board", { room: "bakery" });
    expect(board).toMatchObject({ project: "bakery", open: 1, tasks: [{ id: 1, weight: 1.21, taken: 0, slots: 1 }] });
  });

  it("GIVEN the board switched off in a room THEN that room gets no board; on again, it gets the current one at once", async () => {
    await bakery();
    await t.ok("alice", "pool announcements board off", { room: "bakery" });
    await t.ok("alice", "task post bakery Knead dough hours:2 kind:baking");
    expect((await outbox(t, "board")).map((b) => b.room)).toEqual(["lobby"]);
    await t.ok("alice", "pool announcements board on", { room: "bakery" });
    expect((await outbox(t, "board")).map((b) => b.room)).toEqual(["lobby", "bakery"]);
    // Once an adapter posted it, switching the board off takes that message down.
    const bakeryRoom = (await sqlRows<{ id: number }>(t.store, "SELECT id FROM rooms WHERE external_id = 'bakery'"))[0]!.id;
    await t.store.setBoardMessage(bakeryRoom, "msg-17");
    await t.ok("alice", "pool announcements board off", { room: "bakery" });
    expect(JSON.parse((await outbox(t, "board")).at(-1)!.body)).toEqual({ removed: true, messageId: "msg-17" });
    expect(await t.store.boardMessage(bakeryRoom)).toBeNull();
    await t.ok("alice", "task post bakery Shape loaves hours:1");
    expect((await outbox(t, "board")).map((b) => b.room)).toEqual(["lobby", "bakery", "bakery", "lobby"]);
  });

  it("GIVEN weights that rise by the day THEN the boards job edits the boards once a day, not at every tick", async () => {
    await bakery();
    await t.ok("alice", "task post bakery Knead dough hours:2 kind:baking");
    const start = t.clock.now().getTime();
    await runDueJobs(t.store, start);
    for (let at = start; at <= start + 2 * DAY_MS; at += HOUR_MS) await runDueJobs(t.store, at);
    const boards = (await outbox(t, "board")).filter((b) => b.room === "lobby");
    expect(boards.map((b) => (b.at - start) / HOUR_MS)).toEqual([0, 24, 48]);
    expect(show(boards[2]!)).toContain("weight 1.21");
  });
});

describe("round results", () => {
  it("GIVEN a round that hands out goods THEN the good's project rooms and the lobby hear its clearing weight; an empty round says nothing", async () => {
    await bakery();
    await t.ok("alice", "good add bakery cake effort:2");
    await t.ok("bob", "good request cake weight:1.5");
    await t.ok("carol", "good request cake");
    t.clock.advance(25 * HOUR_MS);
    await runDueJobs(t.store, t.clock.now().getTime());
    expect(await outbox(t, "round")).toEqual([]); // nothing in stock: nothing handed out, nothing to say
    await t.ok("alice", "good produce cake 1");
    await t.ok("alice", "good allocate cake");
    const rounds = await outbox(t, "round");
    expect(rounds.map((r) => r.room)).toEqual(["lobby", "bakery"]);
    expect(show(rounds[0]!)).toBe(
      "🏁 The round of cake (bakery) closed: 1 unit to 1 member at clearing weight 1.00, 2.00 wh each. 0 left in stock, 1 still asked for (next round).",
    );
  });
});

describe("the neglected-work notice", () => {
  it("GIVEN tasks crossing neglectedWeight at different hours THEN a room hears at most once a day, and of each task once", async () => {
    await bakery("2026-11-02T08:00:00Z");
    await t.ok("admin", "pool policy neglectedWeight 1.5");
    await t.ok("admin", "pool policy noticeSchedule 0 * * * *");
    await t.ok("alice", "task post bakery Knead dough hours:2 kind:baking");
    t.clock.advance(6 * HOUR_MS);
    await t.ok("alice", "task post bakery Clean oven hours:1 kind:cleaning");
    const start = Date.parse("2026-11-02T08:00:00Z");
    await runDueJobs(t.store, start);
    // 1.1^5 = 1.61: the dough crosses 1.5 after five days (Nov 7, 08:00), the oven six hours later.
    for (let at = start; at <= start + 8 * DAY_MS; at += HOUR_MS) await runDueJobs(t.store, at);
    const notices = await outbox(t, "neglected");
    expect(notices.map((n) => [n.room, new Date(n.at).toISOString()])).toEqual([
      ["lobby", "2026-11-07T08:00:00.000Z"],
      ["bakery", "2026-11-07T08:00:00.000Z"],
      ["lobby", "2026-11-08T08:00:00.000Z"],
      ["bakery", "2026-11-08T08:00:00.000Z"],
    ]);
    expect(show(notices[0]!)).toContain("#1 Knead dough (bakery, baking) weight 1.61");
    expect(show(notices[0]!)).not.toContain("Clean oven");
    expect(show(notices[2]!)).toContain("#2 Clean oven (bakery, cleaning) weight 1.61");
    expect(show(notices[2]!)).not.toContain("Knead dough");
  });

  it("GIVEN neglectedWeight 0 or the notice switched off in a room THEN no notice goes there", async () => {
    await bakery("2026-11-02T08:00:00Z");
    await t.ok("admin", "pool policy neglectedWeight 1.1");
    await t.ok("alice", "pool announcements neglected off", { room: "bakery" });
    await t.ok("alice", "task post bakery Knead dough hours:2 kind:baking");
    const start = Date.parse("2026-11-02T08:00:00Z");
    await runDueJobs(t.store, start);
    await runDueJobs(t.store, start + 3 * DAY_MS);
    expect((await outbox(t, "neglected")).map((n) => n.room)).toEqual(["lobby"]);
    await t.ok("admin", "pool policy neglectedWeight 0");
    await t.ok("alice", "task post bakery Shape loaves hours:2");
    await runDueJobs(t.store, start + 6 * DAY_MS);
    expect(await outbox(t, "neglected")).toHaveLength(1);
  });
});

describe("the pool's summary in the lobby", () => {
  it("GIVEN the summary schedule THEN the lobby gets every project in a line and the sector report; the project room its own summary", async () => {
    await bakery("2026-11-02T08:00:00Z");
    await t.ok("alice", "good add bakery bread effort:1 sector:food");
    await t.ok("alice", "task post bakery Knead dough hours:2 kind:baking");
    await runDueJobs(t.store, Date.parse("2026-11-02T08:00:00Z"));
    await runDueJobs(t.store, Date.parse("2026-11-09T09:00:00Z"));
    const pool = await outbox(t, "pool-summary");
    const project = await outbox(t, "summary");
    // The bot started before Monday 09:00 and was down until the next Monday: both slots ran.
    expect(pool.map((s) => [s.room, new Date(s.at).toISOString()])).toEqual([
      ["lobby", "2026-11-02T09:00:00.000Z"],
      ["lobby", "2026-11-09T09:00:00.000Z"],
    ]);
    expect(project.map((s) => s.room)).toEqual(["bakery", "bakery"]);
    const lobby = show(pool[1]!);
    expect(lobby).toContain("Pool Riverside");
    expect(lobby).toMatch(/bakery\s+1\s+#1 1\.95\s/);
    expect(lobby).toContain("Sector food");
    const onDemand = await t.ok("bob", "pool summary");
    expect(onDemand.sectors.map((s: { sector: string }) => s.sector)).toEqual(["food"]);
  });
});

describe("the pool's summary on a large pool", () => {
  it("GIVEN forty projects with goods in sectors THEN the lobby's summary fits a Discord embed, and Matrix gets it as HTML", async () => {
    t = await testPool({ start: "2026-11-09T08:00:00Z" });
    await t.ok("admin", "pool create Big");
    for (let i = 0; i < 40; i++) {
      await t.ok(`c${i}`, `project create project-number-${i} "Project ${i}"`);
      await t.ok(`c${i}`, `good add project-number-${i} good-with-a-long-name-${i} effort:1 sector:sector-${i % 5}`);
      await t.ok(`c${i}`, `task post project-number-${i} "A task of project ${i}" hours:1`);
    }
    const start = Date.parse("2026-11-09T08:00:00Z");
    await runDueJobs(t.store, start);
    await runDueJobs(t.store, start + HOUR_MS);
    const [lobby] = await outbox(t, "pool-summary");
    const d = renderAnnouncement(lobby!.kind, lobby!.body, UTC_VIEW);
    const embed = announcementPayload(d).embeds![0]!;
    expect(embed.description!.length).toBeLessThanOrEqual(LIMITS.description);
    expect(JSON.stringify(embed).length).toBeLessThan(LIMITS.embedTotal);
    expect((embed.description!.match(/```/g) ?? []).length % 2).toBe(0);
    const html = notice(d).formatted_body;
    expect(html).toContain("<table>");
    expect(html).toContain("project-number-39");
    expect((html.match(/<table>/g) ?? []).length).toBe((html.match(/<\/table>/g) ?? []).length);
  });
});

describe("a simulated week", () => {
  it("GIVEN a week of a pool's life with the scheduler ticking THEN rooms and coordinators get exactly the expected messages, once each", async () => {
    const start = Date.parse("2026-11-02T08:00:00Z"); // a Monday
    await bakery("2026-11-02T08:00:00Z");
    await t.ok("admin", "pool policy neglectedWeight 1.5");
    await t.ok("admin", "pool policy settlePeriod weekly");
    await t.ok("alice", "task post bakery Knead dough hours:2 kind:baking");
    await t.ok("alice", "task post bakery Sweep hours:1 kind:cleaning");
    await t.ok("bob", "task claim 2");
    await t.ok("alice", "good add bakery cake effort:2");
    await t.ok("alice", "good add bakery soup effort:1 model:flat-rate");
    await t.ok("carol", "good subscribe soup");
    await t.ok("alice", "good produce soup 4");
    const at = (h: number) => start + h * HOUR_MS;
    const script: Array<[number, () => Promise<unknown>]> = [
      [at(2), () => t.ok("carol", "good request cake")],
      [at(3), () => t.ok("dave", "good request cake")],
      [at(4), () => t.ok("alice", "good produce cake 1")],
    ];
    const runs = [];
    for (let now = start; now <= start + 7 * DAY_MS + 2 * HOUR_MS; now += 30 * MINUTE_MS) {
      t.clock.set(new Date(now));
      while (script.length > 0 && script[0]![0] <= now) await script.shift()![1]();
      runs.push(...(await runDueJobs(t.store, now)));
    }
    expect(runs.every((r) => r.ok)).toBe(true);
    const iso = (ms: number) => new Date(ms).toISOString().slice(5, 16);
    const of = async (kind: string) => (await outbox(t, kind)).map((s) => `${s.room} ${iso(s.at)}`);
    // Summaries on Mondays at 09:00: the project's room gets the bakery's, the lobby the pool's.
    expect(await of("summary")).toEqual(["bakery 11-02T09:00", "bakery 11-09T09:00"]);
    expect(await of("pool-summary")).toEqual(["lobby 11-02T09:00", "lobby 11-09T09:00"]);
    const notes = await sqlRows<{ handle: string; at: number }>(
      t.store,
      "SELECT m.handle, n.created_at AS at FROM member_notes n JOIN members m ON m.id = n.member_id WHERE n.kind = 'summary' ORDER BY n.id",
    );
    expect(notes.map((n) => `${n.handle} ${iso(n.at)}`)).toEqual(["alice 11-02T09:00", "alice 11-09T09:00"]);
    // The cake's round closed a day after carol asked, with the one cake for her; dave waits
    // in rounds that hand out nothing and so are not announced.
    expect(await of("round")).toEqual(["lobby 11-03T10:00", "bakery 11-03T10:00"]);
    // The dough reached 1.5 after five open days; the notice came at the next 09:00, once.
    expect(await of("neglected")).toEqual(["lobby 11-07T09:00", "bakery 11-07T09:00"]);
    // Sweep's claim ran out after claimDays (7) and the soup's week was settled on Monday, once,
    // by the first job of the goods that ran then (each catches up whatever of them came due).
    expect(runs.filter((r) => r.job === "release-claims" && r.outcome !== "0").map((r) => iso(r.slot))).toEqual(["11-09T08:00"]);
    const settled = await sqlRows<{ end: number; at: number }>(t.store, "SELECT period_end AS end, at FROM settlements");
    expect(settled.map((x) => `${iso(x.end)} at ${iso(x.at)}`)).toEqual(["11-09T00:00 at 11-09T00:00"]);
    // The boards: set up at the first post, edited for the second and when a claim took Sweep
    // off, then once a day as the dough rose; Sweep came back at the same time as a rise.
    expect((await of("board")).filter((b) => b.startsWith("lobby"))).toEqual([
      "lobby 11-02T08:00",
      "lobby 11-02T08:00",
      "lobby 11-02T08:00",
      "lobby 11-03T08:00",
      "lobby 11-04T08:00",
      "lobby 11-05T08:00",
      "lobby 11-06T08:00",
      "lobby 11-07T08:00",
      "lobby 11-08T08:00",
      "lobby 11-09T08:00",
    ]);
    const last = (await outbox(t, "board")).at(-1)!;
    expect(show(last)).toContain("#1 Knead dough (baking) weight 1.95 ");
    expect(show(last)).toContain("#2 Sweep (cleaning) weight 1.00");
    expect((await t.ok("carol", "me balance")).balance).toBe(-6);
    expect((await t.ok("admin", "pool audit")).balanced).toBe(true);
  });
});
