// Announcements and notes as one union: every kind goes from the queue to a row, is read back
// against its kind's schema where it is taken for delivery, and renders; a row this version
// cannot read (a newer version's kind, a broken body) is logged once and given up, never shown
// as its JSON; and a queue site with a wrong kind or body does not compile.
import { afterEach, describe, expect, it } from "vitest";
import { renderAnnouncement, renderAnnouncementMessage, renderNote, renderNoteMessage } from "../../commands/announcements.ts";
import { runText, type Engine } from "../../commands/dispatch.ts";
import { docToText } from "../../commands/doc.ts";
import { UTC_VIEW } from "../../commands/present.ts";
import { table } from "../../commands/table.ts";
import { SqliteStore } from "../../db/sqlite-store.ts";
import {
  ANNOUNCEMENT_KINDS,
  NOTE_KINDS,
  readAnnouncement,
  readNote,
  storedMessage,
  type Announcement,
  type AnnouncementBody,
  type AnnouncementKind,
  type Note,
  type NoteBody,
  type NoteKind,
} from "../../src/core/announcements.ts";
import { Deliverer, type Courier, type NoteItem, type OutboxItem } from "../../src/delivery.ts";
import { memoryLogger } from "../../src/log.ts";
import { announceTo, noteRow } from "../../src/services/announce.ts";
import type { Tx } from "../../src/store.ts";
import { seededRandom } from "../support/app.ts";

const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

const AT = Date.parse("2026-11-02T09:00:00Z");
const task = { id: 7, title: "Knead the dough", project: "bakery", kind: "baking", weight: 1_250_000, estimate: 2000, taken: 0, slots: 1 };
const summary: AnnouncementBody<"summary"> = {
  project: { id: 1, poolId: 1, slug: "bakery", name: "The Bakery", createdAt: AT, createdBy: 1 },
  from: AT - 7 * 86_400_000,
  to: AT,
  open: [{ id: 7, title: "Knead the dough", kind: "baking", weight: 1_250_000, weightBefore: 1_000_000, openMs: 86_400_000 }],
  fastestRising: null,
  stalest: null,
  overdue: [],
  inProgress: [{ task: 8, title: "Sweep", member: "bob", since: AT - 3_600_000, until: AT + 3_600_000 }],
  waiting: [{ task: 9, title: "Bake rolls", member: "cy", hours: 1500 }],
  contributions: { total: 4000, members: [{ member: "cy", credited: 4000 }] },
  goods: [{ name: "bread", stock: 3, demand: 5, effort: 500, rounds: [{ closedAt: AT - 86_400_000, clearing: 1_100_000, allocated: 2 }] }],
  overdueLoans: [{ loan: 2, good: "mixer", member: "bob", dueAt: AT - 86_400_000, days: 9, charged: 300 }],
  balance: -4000,
  deficit: 4000,
  deficitCap: 100_000,
  commons: { carried: 0, goods: [], otherWork: 0, paidGoods: ["bread"], allCopyable: false },
  goals: [{ id: 3, poolId: 1, projectId: 1, text: "Bread for 40", status: "open", createdAt: AT, createdBy: 1, doneAt: null, doneBy: null }],
  warnings: ["@cy took 3 tasks only after their weight had risen"],
  chart: {
    kinds: [{ kind: "baking", points: [{ at: AT, weight: 1_000_000 }] }],
    goods: [{ good: "bread", unit: "loaf", model: "per-unit", stockAtStart: 1, produced: 2, supply: 3, demand: 5 }],
  },
};

/**
 * One message of every kind, and a piece of its text: typed by kind, so a kind added to the
 * union without a sample here does not compile.
 */
const ANNOUNCEMENTS: { [K in AnnouncementKind]: { body: AnnouncementBody<K>; shows: string } } = {
  goal: { body: { goal: 3, project: "bakery", projectName: "The Bakery", text: "Bread for 40", by: "ann" }, shows: "has a new goal #3: Bread for 40" },
  task: {
    body: { task: 7, title: "Knead the dough", project: "bakery", kind: "baking", weight: 1_250_000, estimate: 2000, slots: 1, by: "ann", dueAt: null },
    shows: "New task #7 for bakery: Knead the dough",
  },
  round: {
    body: { good: "bread", project: "bakery", clearing: 1_100_000, unitCost: 500, unitPrice: 550_000, allocated: 2, members: 2, queued: 1, stock: 1 },
    shows: "The round of bread (bakery) closed: 2 units to 2 members",
  },
  summary: { body: summary, shows: "The Bakery (bakery)" },
  "pool-summary": {
    body: {
      pool: "Riverside",
      from: AT - 7 * 86_400_000,
      to: AT,
      projects: [
        {
          slug: "bakery",
          name: "The Bakery",
          open: 1,
          heaviest: { id: 7, title: "Knead the dough", weight: 1_250_000 },
          waiting: 1,
          overdue: 0,
          contributed: 4000,
          contributors: 1,
          deficit: 4000,
          deficitCap: 100_000,
          goals: 1,
          warnings: 0,
        },
      ],
      sectors: [],
    },
    shows: "Pool Riverside",
  },
  board: { body: { pool: "Riverside", project: null, tasks: [task], open: 1, at: AT }, shows: "Open tasks of Riverside" },
  neglected: { body: { project: "bakery", threshold: 1_200_000, tasks: [{ ...task, openMs: 3 * 86_400_000 }] }, shows: "1 task waited long enough" },
};

const NOTES: { [K in NoteKind]: { body: NoteBody<K>; shows: string } } = {
  allocated: { body: { good: "bread", qty: 2, cost: 1100, clearing: 1_100_000 }, shows: "The round of bread closed: you got 2" },
  skipped: { body: { good: "bread", qty: 2, cost: 1100 }, shows: "You won 2 of bread in its round" },
  overdue: { body: { loan: 2, good: "mixer", dueAt: AT, perDay: 50_000 }, shows: "Your loan #2 (mixer) was due back" },
  released: { body: { task: 7, title: "Knead the dough", expiresAt: AT }, shows: "Your claim on task #7 (Knead the dough) ran out" },
  refused: { body: { task: 7, title: "Knead the dough", project: "bakery" }, shows: "bakery turned you down for task #7" },
  rejected: {
    body: { task: 7, title: "Knead the dough", reason: "too lumpy", by: "ann" },
    shows: "@ann sent your work on task #7 (Knead the dough) back: too lumpy",
  },
  cancelled: { body: { task: 7, title: "Knead the dough", project: "bakery" }, shows: "Task #7 (Knead the dough) was cancelled by bakery" },
  corrected: {
    body: { task: 7, title: "Knead the dough", reason: "counted twice", by: "ann", restored: false, state: "open" },
    shows: "@ann reversed the credit for your work on task #7",
  },
  slot_open: { body: { task: 7, title: "Knead the dough" }, shows: "A slot of task #7 (Knead the dough) is open again" },
  due: { body: { task: 7, title: "Knead the dough", expiresAt: AT, by: "ann" }, shows: "@ann gave task #7 (Knead the dough) a new due date" },
  linked: { body: { member: "ann", merged: "ann2", accounts: ["matrix:@ann:x"] }, shows: "Accounts linked: matrix:@ann:x now acts as @ann" },
  summary: { body: summary, shows: "The Bakery (bakery)" },
};

const announcements = () => ANNOUNCEMENT_KINDS.map((kind) => ({ kind, body: ANNOUNCEMENTS[kind].body }) as Announcement);
const notes = () => NOTE_KINDS.map((kind) => ({ kind, body: NOTES[kind].body }) as Note);

/** A pool with its lobby on the "chat" platform and its admin ann there; returns the ids the rows need. */
async function world() {
  const store = new SqliteStore(":memory:");
  stores.push(store);
  const engine: Engine = { store, table, random: seededRandom(7), logger: memoryLogger().logger };
  const made = await runText(
    engine,
    { caller: { platform: "chat", userId: "ann", displayName: "ann", roomId: "lobby" }, requestId: "chat:1", now: new Date(AT) },
    "pool create Riverside",
  );
  expect(made.ok).toBe(true);
  const one = (sql: string) => (store.db.$client.prepare(sql).get() as { id: number }).id;
  return { store, poolId: one("SELECT id FROM pools"), roomId: one("SELECT id FROM rooms"), memberId: one("SELECT id FROM members") };
}

/** A courier that keeps what it was handed. */
function keepingCourier(): Courier & { rooms: OutboxItem[]; notes: NoteItem[] } {
  const rooms: OutboxItem[] = [];
  const kept: NoteItem[] = [];
  return {
    platform: "chat",
    rooms,
    notes: kept,
    ready: () => true,
    reply: async () => {},
    announce: async (item) => void rooms.push(item),
    note: async (n) => void kept.push(n),
    classify: () => ({ retry: false, reason: "not expected" }),
  };
}

const undelivered = (store: SqliteStore, table: "outbox" | "member_notes") =>
  store.db.$client.prepare(`SELECT id, kind, failed_at AS failedAt, failure FROM ${table} WHERE delivered_at IS NULL ORDER BY id`).all() as Array<{
    id: number;
    kind: string;
    failedAt: number | null;
    failure: string | null;
  }>;

describe("every announcement and note", () => {
  it("GIVEN a message of every kind queued as the services queue it THEN the courier gets it back read against its kind, equal to what was queued, and it renders as text", async () => {
    const { store, poolId, roomId, memberId } = await world();
    const { logger, lines } = memoryLogger();
    const courier = keepingCourier();
    const d = new Deliverer({ store, courier, logger });
    await d.kick();
    courier.rooms.length = 0;
    courier.notes.length = 0;

    await store.transaction(async (tx: Tx) => {
      for (const m of announcements()) expect(await announceTo(tx, poolId, [roomId], m, AT)).toEqual([roomId]);
      for (const n of notes()) await tx.insertNote(noteRow({ poolId, memberId, createdAt: AT }, n));
    });
    await d.kick();

    expect(courier.rooms.map((i) => i.message)).toEqual(announcements());
    expect(courier.notes.map((n) => n.message)).toEqual(notes());
    for (const item of courier.rooms) {
      const shown = docToText(renderAnnouncementMessage(item.message, UTC_VIEW));
      expect(shown).toContain(ANNOUNCEMENTS[item.message.kind].shows);
      expect(shown).not.toContain('{"');
      // The stored form reads the same.
      expect(docToText(renderAnnouncement(item.kind, item.body, UTC_VIEW))).toBe(shown);
    }
    for (const item of courier.notes) {
      const shown = docToText(renderNoteMessage(item.message, UTC_VIEW));
      expect(shown).toContain(NOTES[item.message.kind].shows);
      expect(shown).not.toContain('{"');
      expect(docToText(renderNote(item.kind, item.body, UTC_VIEW))).toBe(shown);
    }
    expect(undelivered(store, "outbox")).toEqual([]);
    expect(undelivered(store, "member_notes")).toEqual([]);
    expect(lines).toEqual([]);
  });

  it("GIVEN the kinds the rows hold THEN each is a kind of the union exactly once", () => {
    expect(new Set(ANNOUNCEMENT_KINDS).size).toBe(7);
    expect(new Set(NOTE_KINDS).size).toBe(12);
    for (const m of [...announcements()]) expect(readAnnouncement(m.kind, storedMessage(m).body)).toEqual({ ok: true, message: m });
    for (const n of [...notes()]) expect(readNote(n.kind, storedMessage(n).body)).toEqual({ ok: true, message: n });
  });

  it("GIVEN a summary queued before its overdue tasks, claims in progress and chart were kept THEN it reads with them empty", () => {
    const { overdue: _o, inProgress: _i, chart: _c, ...old } = summary;
    const read = readAnnouncement("summary", JSON.stringify(old));
    expect(read.ok && read.message.kind === "summary" && read.message.body).toMatchObject({ overdue: [], inProgress: [], chart: { kinds: [], goods: [] } });
  });
});

describe("a row this version cannot read", () => {
  const broken = [
    { kind: "poll", body: JSON.stringify({ question: "Bread or cake?" }), problem: 'unknown announcement kind "poll" (queued by a newer version?)' },
    { kind: "task", body: '{"task": 7, "title": "Knead', problem: "the body of this task announcement is not JSON" },
    {
      kind: "goal",
      body: JSON.stringify({ goal: 3, project: "bakery", projectName: "The Bakery", by: "ann" }),
      problem: "the body of this goal announcement does not fit its kind at text",
    },
  ];

  it("GIVEN rows of an unknown kind, with a body that is no JSON, or one missing a field THEN each is logged once and given up, the courier never sees them, and the message queued beside them still goes", async () => {
    const { store, poolId, roomId, memberId } = await world();
    const { logger, lines } = memoryLogger();
    const courier = keepingCourier();
    let clock = AT;
    const d = new Deliverer({ store, courier, logger, now: () => clock });
    await d.kick();
    courier.rooms.length = 0;
    await store.transaction(async (tx: Tx) => {
      // As a newer version (or a broken row) would have left them: the kind column is only text.
      for (const b of broken) await tx.insertOutbox({ roomId, kind: b.kind as AnnouncementKind, body: b.body, createdAt: AT });
      await tx.insertNote({ poolId, memberId, kind: "badge" as NoteKind, body: "{}", createdAt: AT });
      await tx.insertNote({ poolId, memberId, kind: "refused", body: JSON.stringify({ task: 7, project: "bakery" }), createdAt: AT });
      await announceTo(tx, poolId, [roomId], { kind: "goal", body: ANNOUNCEMENTS.goal.body }, AT);
    });
    await d.kick();
    clock += 3_600_000;
    await d.kick();

    expect(courier.rooms.map((i) => i.message.kind)).toEqual(["goal"]);
    expect(courier.notes).toEqual([]);
    const rooms = undelivered(store, "outbox");
    expect(rooms.map((r) => [r.kind, r.failure])).toEqual(broken.map((b) => [b.kind, expect.stringContaining(b.problem)]));
    expect(rooms.every((r) => r.failedAt === AT)).toBe(true);
    expect(undelivered(store, "member_notes").map((r) => [r.kind, r.failure])).toEqual([
      ["badge", 'unknown note kind "badge" (queued by a newer version?)'],
      ["refused", expect.stringContaining("the body of this refused note does not fit its kind at title")],
    ]);
    // One line each, at the first try only; none carries the body.
    expect(lines.map((l) => l.level)).toEqual(["warn", "warn", "warn", "warn", "warn"]);
    expect(lines.map((l) => l.msg).join("\n")).not.toMatch(/Bread or cake|Knead/);
  });

  it("GIVEN such a row rendered from its stored form (the console does) THEN it shows a plain line, not its JSON", () => {
    for (const b of broken) {
      const shown = docToText(renderAnnouncement(b.kind, b.body, UTC_VIEW));
      expect(shown).toBe("(A message this version of d-pool cannot show: it may come from a newer version.)");
    }
    expect(docToText(renderNote("refused", JSON.stringify({ task: 7 }), UTC_VIEW))).not.toContain("{");
  });
});

describe("queue sites", () => {
  it("GIVEN a wrong kind or body at a queue site THEN it does not compile (checked by tsc; the calls are never made)", () => {
    const queue = (m: Announcement) => storedMessage(m);
    const note = (n: Note) => storedMessage(n);
    const never = false as boolean;
    if (never) {
      // @ts-expect-error: "tsk" is no kind of announcement
      queue({ kind: "tsk", body: ANNOUNCEMENTS.task.body });
      // @ts-expect-error: a task announcement needs its weight
      queue({ kind: "task", body: { task: 7, title: "Knead the dough", project: "bakery", kind: "baking", estimate: 2000, slots: 1, by: "ann", dueAt: null } });
      // @ts-expect-error: a goal's body is no task's
      queue({ kind: "goal", body: ANNOUNCEMENTS.task.body });
      // @ts-expect-error: a refusal names the project as a slug (a string), not an id
      note({ kind: "refused", body: { task: 7, title: "Knead the dough", project: 1 } });
    }
    expect(queue({ kind: "task", body: ANNOUNCEMENTS.task.body }).kind).toBe("task");
    expect(note({ kind: "slot_open", body: NOTES.slot_open.body }).kind).toBe("slot_open");
  });
});
