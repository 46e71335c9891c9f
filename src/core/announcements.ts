// The kinds of announcement a room gets, each of which the room can switch off. An outbox
// message's kind names what it is ("task", "round"); its switch names what a room hears.
import { z } from "zod";

export const ANNOUNCEMENT_SWITCHES = {
  goals: { kinds: ["goal"], summary: "Goals a project announced or reached" },
  tasks: { kinds: ["task"], summary: "New tasks, with a Claim button" },
  rounds: { kinds: ["round"], summary: "Auction rounds that handed out goods, with their clearing weights" },
  summaries: { kinds: ["summary", "pool-summary"], summary: "Scheduled summaries (project rooms: the project's; lobby: the pool's)" },
  neglected: { kinds: ["neglected"], summary: "The daily notice of tasks whose weight crossed neglectedWeight" },
  board: { kinds: ["board"], summary: "The live task board: one message, edited in place as tasks change (taken down when switched off)" },
} as const satisfies Record<string, { kinds: readonly AnnouncementKind[]; summary: string }>;

export type AnnouncementSwitch = keyof typeof ANNOUNCEMENT_SWITCHES;
export const ANNOUNCEMENT_SWITCH_NAMES = Object.keys(ANNOUNCEMENT_SWITCHES) as [AnnouncementSwitch, ...AnnouncementSwitch[]];

/** The switch that governs an outbox kind; undefined for kinds no room may turn off. */
export function switchOf(outboxKind: AnnouncementKind): AnnouncementSwitch | undefined {
  return ANNOUNCEMENT_SWITCH_NAMES.find((s) => (ANNOUNCEMENT_SWITCHES[s].kinds as readonly AnnouncementKind[]).includes(outboxKind));
}

// ---- What rooms and members are sent: one union of every announcement and every note
//
// Services queue a message as its kind and a typed body (`Announcement`, `Note`); the row keeps
// the kind in its text column and the body as JSON. A row is read back with `readAnnouncement`
// or `readNote`, which check the body against its kind's schema once, where it is taken for
// delivery: renderers then get typed bodies and never parse. A row this version cannot read
// (a kind a newer version queued, or a body that does not fit its kind) comes back as a problem
// to log, never as raw JSON to show.

/** A whole number (ids, times in ms, milli-hours, millionths). */
const int = z.number().int();
const text = z.string();
const listOf = <T extends z.ZodType>(item: T) => z.array(item).readonly();

export const goalAnnouncement = z.object({ goal: int, project: text, projectName: text, text, by: text, done: z.boolean().optional() });
export const taskAnnouncement = z.object({
  task: int,
  title: text,
  project: text,
  kind: text,
  weight: int,
  estimate: int,
  slots: int,
  by: text,
  dueAt: int.nullable(),
});
export const roundAnnouncement = z.object({
  good: text,
  project: text,
  clearing: int,
  /** Milli-hours per unit, rounded. */
  unitCost: int,
  /**
   * Millionths of a weighted hour per unit: what to show (each winner pays their units' total,
   * rounded once); rounds announced before it was kept have only unitCost.
   */
  unitPrice: int.optional(),
  allocated: int,
  members: int,
  /** Units still asked for, waiting for the next round. */
  queued: int,
  stock: int,
});
const boardTask = z.object({ id: int, title: text, project: text, kind: text, weight: int, estimate: int, taken: int, slots: int });
const taskBoard = z.object({ pool: text, project: text.nullable(), tasks: listOf(boardTask), open: int });
/** A board to show (as of `at`: boards queued before it was kept have none), or the board message to take down. */
export const boardMessage = z.union([
  z.object({ removed: z.literal(true), messageId: text.nullable() }),
  taskBoard.extend({ at: int.optional(), removed: z.undefined().optional() }),
]);
export const neglectedNotice = z.object({ project: text.nullable(), threshold: int, tasks: listOf(boardTask.extend({ openMs: int })) });

const taskLine = z.object({ id: int, title: text, kind: text, weight: int, weightBefore: int, openMs: int });
const goodModel = z.enum(["per-unit", "flat-rate", "copyable", "durable"]);
/** A project's summary for its coordinators, as the services' ProjectSummary has it. */
export const projectSummary = z.object({
  project: z.object({ id: int, poolId: int, slug: text, name: text, createdAt: int, createdBy: int }),
  from: int,
  to: int,
  open: listOf(taskLine),
  fastestRising: taskLine.nullable(),
  stalest: taskLine.nullable(),
  // Summaries queued before these were kept have none.
  overdue: listOf(z.object({ id: int, title: text, dueAt: int, taken: int, slots: int })).default([]),
  inProgress: listOf(z.object({ task: int, title: text, member: text, since: int, until: int })).default([]),
  waiting: listOf(z.object({ task: int, title: text, member: text, hours: int })),
  contributions: z.object({ total: int, members: listOf(z.object({ member: text, credited: int })) }),
  goods: listOf(
    z.object({ name: text, stock: int, demand: int, effort: int, rounds: listOf(z.object({ closedAt: int, clearing: int.nullable(), allocated: int })) }),
  ),
  overdueLoans: listOf(z.object({ loan: int, good: text, member: text, dueAt: int, days: int, charged: int })).optional(),
  balance: int,
  deficit: int,
  deficitCap: int,
  commons: z
    .object({
      carried: int,
      goods: listOf(z.object({ name: text, carried: int, members: int })),
      otherWork: int,
      paidGoods: listOf(text),
      allCopyable: z.boolean(),
    })
    .optional(),
  goals: listOf(
    z.object({
      id: int,
      poolId: int,
      projectId: int,
      text,
      status: z.enum(["open", "done"]),
      createdAt: int,
      createdBy: int,
      doneAt: int.nullable(),
      doneBy: int.nullable(),
    }),
  ),
  warnings: listOf(text),
  // Summaries queued before charts existed draw empty panels.
  chart: z
    .object({
      kinds: listOf(z.object({ kind: text, points: listOf(z.object({ at: int, weight: int })) })),
      goods: listOf(z.object({ good: text, unit: text, model: goodModel, stockAtStart: int, produced: int, supply: int.nullable(), demand: int })),
    })
    .default({ kinds: [], goods: [] }),
});
const goodRow = z.object({
  id: int,
  poolId: int,
  projectId: int,
  name: text,
  displayName: text.nullable(),
  unit: text,
  model: goodModel,
  sector: text.nullable(),
  declaredEffort: int,
  stock: int,
  createdAt: int,
  createdBy: int,
});
const roundRow = z.object({
  id: int,
  goodId: int,
  openedAt: int,
  closesAt: int,
  closedAt: int.nullable(),
  clearingWeight: int.nullable(),
  supply: int.nullable(),
  allocated: int.nullable(),
});
const goodView = z.object({
  good: goodRow,
  project: text,
  effort: z.object({ effort: int, declared: int, measured: int.nullable(), measuredUnits: int, usesMeasured: z.boolean() }),
  demand: int,
  round: roundRow.nullable(),
  waiting: int,
  lastClearing: int.nullable(),
  subscribers: int,
  onLoan: int,
});
/** The pool's summary for its lobby, as the services' PoolDigest has it. */
export const poolDigest = z.object({
  pool: text,
  from: int,
  to: int,
  projects: listOf(
    z.object({
      slug: text,
      name: text,
      open: int,
      heaviest: z.object({ id: int, title: text, weight: int }).nullable(),
      waiting: int,
      // Digests queued before it was kept have none.
      overdue: int.optional(),
      contributed: int,
      contributors: int,
      deficit: int,
      deficitCap: int,
      goals: int,
      warnings: int,
    }),
  ),
  sectors: listOf(z.object({ sector: text, goods: listOf(goodView), projects: listOf(z.object({ slug: text, deficit: int, cap: int })) })),
});

/** The body of each kind of room message. */
const ANNOUNCEMENT_BODIES = {
  goal: goalAnnouncement,
  task: taskAnnouncement,
  round: roundAnnouncement,
  summary: projectSummary,
  "pool-summary": poolDigest,
  board: boardMessage,
  neglected: neglectedNotice,
} as const;

const taskNote = { task: int, title: text };
/** The body of each kind of note to one member. */
const NOTE_BODIES = {
  /** A round gave the member units. */
  allocated: z.object({ good: text, qty: int, cost: int, clearing: int }),
  /** The member won units but their cost would pass the credit limit: the request waits. */
  skipped: z.object({ good: text, qty: int, cost: int }),
  /** A loan is past its due date; `perDay`: what each day of use costs, in millionths of a weighted hour (effort x the day's share). */
  overdue: z.object({ loan: int, good: text, dueAt: int, perDay: int }),
  /** A claim ran out without a report at `expiresAt`. */
  released: z.object({ ...taskNote, expiresAt: int }),
  refused: z.object({ ...taskNote, project: text }),
  rejected: z.object({ ...taskNote, reason: text, by: text }),
  cancelled: z.object({ ...taskNote, project: text }),
  /** A work credit was reversed, or (restored) a reversal reversed; `state`: the task's state after it. */
  corrected: z.object({ ...taskNote, reason: text, by: text, restored: z.boolean(), state: text }),
  slot_open: z.object(taskNote),
  /** A coordinator gave the task a new due date, `expiresAt`. */
  due: z.object({ ...taskNote, expiresAt: int, by: text }),
  /** Accounts were linked to the member: told to every account, so a stranger's link shows. */
  linked: z.object({ member: text, merged: text, accounts: listOf(text) }),
  /** A project's summary, to each of its coordinators. */
  summary: projectSummary,
} as const;

type Bodies = Record<string, z.ZodType>;
/** One message per kind of the table: its kind and its body as the renderers read it. */
type MessageOf<B extends Bodies> = { [K in keyof B & string]: { readonly kind: K; readonly body: z.output<B[K]> } }[keyof B & string];

/** Every message a room can be sent (queued in the outbox). */
export type Announcement = MessageOf<typeof ANNOUNCEMENT_BODIES>;
export type AnnouncementKind = Announcement["kind"];
/** Every note a member can be sent. */
export type Note = MessageOf<typeof NOTE_BODIES>;
export type NoteKind = Note["kind"];
/** The body of one kind of announcement or note. */
export type AnnouncementBody<K extends AnnouncementKind> = Extract<Announcement, { kind: K }>["body"];
export type NoteBody<K extends NoteKind> = Extract<Note, { kind: K }>["body"];

export type GoalAnnouncement = AnnouncementBody<"goal">;
export type TaskAnnouncement = AnnouncementBody<"task">;
export type RoundAnnouncement = AnnouncementBody<"round">;
export type BoardMessage = AnnouncementBody<"board">;
export type NeglectedNotice = AnnouncementBody<"neglected">;
export type OverdueNote = NoteBody<"overdue">;

export const ANNOUNCEMENT_KINDS = Object.keys(ANNOUNCEMENT_BODIES) as AnnouncementKind[];
export const NOTE_KINDS = Object.keys(NOTE_BODIES) as NoteKind[];

/** A message as a row stores it: its kind, and its body as JSON. */
export function storedMessage<M extends Announcement | Note>(m: M): { kind: M["kind"]; body: string } {
  return { kind: m.kind, body: JSON.stringify(m.body) };
}

/** What reading a stored row gave: the message, or why this version cannot show it (never the body itself). */
export type ReadMessage<M> = { readonly ok: true; readonly message: M } | { readonly ok: false; readonly problem: string };

function readMessage<M>(bodies: Bodies, what: string, kind: string, body: string): ReadMessage<M> {
  if (!Object.hasOwn(bodies, kind)) return { ok: false, problem: `unknown ${what} kind "${kind.slice(0, 40)}" (queued by a newer version?)` };
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return { ok: false, problem: `the body of this ${kind} ${what} is not JSON` };
  }
  const parsed = bodies[kind]!.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
    return { ok: false, problem: `the body of this ${kind} ${what} does not fit its kind${at}: ${issue?.message ?? "invalid"}` };
  }
  // The schema of `kind` checked it: kind and body belong together, as the union says.
  return { ok: true, message: { kind, body: parsed.data } as M };
}

/** An outbox row's message, checked against its kind's schema. */
export function readAnnouncement(kind: string, body: string): ReadMessage<Announcement> {
  return readMessage<Announcement>(ANNOUNCEMENT_BODIES, "announcement", kind, body);
}

/** A note row's message, checked against its kind's schema. */
export function readNote(kind: string, body: string): ReadMessage<Note> {
  return readMessage<Note>(NOTE_BODIES, "note", kind, body);
}
