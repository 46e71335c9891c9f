// What rooms hear without asking: announcements (each kind switchable per room), the live task
// board (one message per room, edited in place by the adapter) and the daily neglected-work
// notice. Everything here queues outbox messages inside the caller's transaction (announcing
// itself, and which rooms are muted, is in announce.ts).
import { ppmOfThousandths } from "../core/amounts.ts";
import { ANNOUNCEMENT_SWITCH_NAMES, type AnnouncementSwitch } from "../core/announcements.ts";
import { parseCron, slotsBetween } from "../core/cron.ts";
import { readPolicy, type Policy } from "../core/policy.ts";
import { DAY_MS } from "../core/time.ts";
import { openMsAt, taskWeight, weightRules, type WeightRules } from "../core/weights.ts";
import type { DomainError } from "../errors.ts";
import { err, ok, type Result } from "../result.ts";
import type { OpenTaskRow, OpenTaskScope, PoolRow, RoomRow, Store, Tx } from "../store.ts";
import { mutedRooms, queueInRoom, silentRooms } from "./announce.ts";
import { isCoordinator, type PoolCtx } from "./context.ts";
import type { PoolId, ProjectId, RoomId, TaskId } from "../core/ids.ts";

type R<T> = Promise<Result<T, DomainError>>;

/** The rooms that hear about a project's tasks and goods: its own rooms and the pool's lobby. */
export async function projectRooms(tx: Tx, poolId: PoolId, projectId: ProjectId): Promise<RoomId[]> {
  return (await tx.rooms(poolId)).filter((r) => r.isLobby || r.projectId === projectId).map((r) => r.id);
}

// ---- switches

export interface RoomAnnouncements {
  readonly room: RoomRow;
  readonly project: string | null;
  readonly switches: ReadonlyArray<{ readonly name: AnnouncementSwitch; readonly on: boolean }>;
  /** The switch just changed, if any, and whether it was already so. */
  readonly changed?: { readonly name: AnnouncementSwitch; readonly on: boolean; readonly already: boolean };
}

/**
 * Shows which announcements this room gets, or switches one kind on or off. Pool admins may
 * change any room; a project's coordinators may change the project's rooms.
 */
export async function roomAnnouncements(c: PoolCtx, name: AnnouncementSwitch | undefined, on: boolean | undefined): R<RoomAnnouncements> {
  const project = c.room.projectId === null ? undefined : await c.tx.project(c.room.projectId);
  let changed: RoomAnnouncements["changed"];
  if (name !== undefined && on !== undefined) {
    if (c.pool.role !== "admin" && !(project && (await isCoordinator(c, project)))) {
      return err(project ? { kind: "forbidden", need: "coordinator", project: project.slug, orAdmin: true } : { kind: "forbidden", need: "admin" });
    }
    const was = !(await mutedRooms(c.tx, c.pool.row.id, name)).has(c.room.id);
    await c.tx.setRoomMute(c.room.id, name, on ? null : { at: c.now, by: c.member.id });
    changed = { name, on, already: was === on };
    // A board switched on shows up at once; switched off, its message is taken down.
    if (name === "board" && !changed.already) {
      if (on) await refreshBoards(c.tx, c.pool.row.id, c.now, { room: c.room.id });
      else await removeBoard(c.tx, c.room.id, c.now);
    }
  }
  const muted = new Set((await c.tx.roomMutes(c.pool.row.id)).filter((m) => m.roomId === c.room.id).map((m) => m.kind));
  return ok({
    room: c.room,
    project: project?.slug ?? null,
    switches: ANNOUNCEMENT_SWITCH_NAMES.map((n) => ({ name: n, on: !muted.has(n) })),
    ...(changed ? { changed } : {}),
  });
}

// ---- the live task board

/** Open tasks shown on a board. */
export const BOARD_SIZE = 10;

export interface BoardTask {
  readonly id: TaskId;
  readonly title: string;
  readonly project: string;
  readonly kind: string;
  readonly weight: number;
  readonly estimate: number;
  readonly taken: number;
  readonly slots: number;
}

export interface TaskBoard {
  readonly pool: string;
  /** The project of a project room; null for the lobby and other pool rooms (all projects). */
  readonly project: string | null;
  /** The heaviest open tasks, heaviest first. */
  readonly tasks: readonly BoardTask[];
  /** How many tasks are open in all. */
  readonly open: number;
}

type OpenLine = BoardTask & { readonly openMs: number; readonly projectId: ProjectId };

/** The boards' order: heaviest first, then longest open, then lowest number. */
const boardOrder = (a: { weight: number; openMs: number; id: number }, b: { weight: number; openMs: number; id: number }) =>
  b.weight - a.weight || b.openMs - a.openMs || a.id - b.id;

function lineOf(t: OpenTaskRow, project: string, kind: string, now: number, rules: WeightRules): OpenLine {
  const openMs = openMsAt(t, now);
  return {
    id: t.id,
    title: t.title,
    project,
    projectId: t.projectId,
    kind,
    weight: taskWeight(t.postedWeight, openMs, rules),
    estimate: t.estimate,
    taken: t.taken,
    slots: t.slots,
    openMs,
  };
}

/**
 * Every open task of the pool with its weight at `now`, heaviest (then longest open) first: for
 * the daily neglected-work notice, which names every task past a weight. Boards read only
 * their top (topOpenTasks).
 */
async function openLines(tx: Tx, pool: PoolRow, policy: Policy, now: number): Promise<OpenLine[]> {
  const rules = weightRules(policy);
  // A task past its due date takes no claims: it is no open work for the boards and notices.
  const rows = (await tx.openTasks(pool.id)).filter((t) => t.dueAt === null || t.dueAt > now);
  const projects = new Map((await tx.projects(pool.id)).map((p) => [p.id, p.slug]));
  const kinds = new Map((await tx.kinds(pool.id)).map((k) => [k.id, k.name]));
  return rows.map((t) => lineOf(t, projects.get(t.projectId) ?? "?", kinds.get(t.kindId) ?? "?", now, rules)).sort(boardOrder);
}

/**
 * The `size` first open tasks of the scope in the boards' order at scope.now, read from the
 * top of two indexed orders (highest posted weight; longest open) instead of every open task.
 * A task's weight grows with its posted weight and with its open time, so a task in neither
 * top is at most as heavy as the weight the lightest of the first top would have after the
 * open time of the youngest of the second, and open no longer than that one: once the
 * size-th task read ranks before that bound, no task left unread can be on the board. Else
 * both tops are read twice as deep, until one of them holds every open task of the scope.
 * Needs scope.now at or after every open task's openSince (refreshBoards takes the pool's clock).
 */
export async function topOpenTasks(tx: Tx, scope: OpenTaskScope, rules: WeightRules, size: number): Promise<OpenLine[]> {
  if (size <= 0) return [];
  for (let depth = size; ; depth *= 2) {
    const byWeight = await tx.openTasksBy(scope, "weight", depth);
    const byAge = await tx.openTasksBy(scope, "age", depth);
    const read = new Map<TaskId, OpenLine>();
    for (const t of [...byWeight, ...byAge]) if (!read.has(t.id)) read.set(t.id, lineOf(t, t.project, t.kind, scope.now, rules));
    const ranked = [...read.values()].sort(boardOrder);
    const lightest = byWeight.at(-1);
    const youngest = byAge.at(-1);
    // One of the two orders ended before its depth: every open task of the scope was read.
    if (byWeight.length < depth || byAge.length < depth || !lightest || !youngest) return ranked.slice(0, size);
    const openMs = openMsAt(youngest, scope.now);
    const bound = { weight: taskWeight(lightest.postedWeight, openMs, rules), openMs, id: youngest.id };
    const last = ranked[size - 1];
    if (last && boardOrder(last, bound) <= 0) return ranked.slice(0, size);
  }
}

/** The board of the pool's tasks (projectId null) or of one project's, at `now`. */
async function boardOf(tx: Tx, pool: PoolRow, rules: WeightRules, projectId: ProjectId | null, now: number): Promise<TaskBoard> {
  const scope: OpenTaskScope = projectId === null ? { poolId: pool.id, now } : { poolId: pool.id, projectId, now };
  const top = await topOpenTasks(tx, scope, rules, BOARD_SIZE);
  return {
    pool: pool.name,
    project: projectId === null ? null : ((await tx.project(projectId))?.slug ?? null),
    tasks: top.map((t) => ({
      id: t.id,
      title: t.title,
      project: t.project,
      kind: t.kind,
      weight: t.weight,
      estimate: t.estimate,
      taken: t.taken,
      slots: t.slots,
    })),
    open: await tx.countOpenTasks(scope),
  };
}

/**
 * A board's time: `now`, but never before the pool's clock (the latest time recorded in it),
 * so that no open task of the pool opened after it.
 */
const boardTime = (pool: PoolRow, now: number) => Math.max(now, pool.clock ?? 0);

/** The board of a room now: its project's open tasks (all projects' in other rooms), heaviest first. */
export async function taskBoard(tx: Tx, pool: PoolRow, policy: Policy, room: RoomRow, now: number): Promise<TaskBoard> {
  return boardOf(tx, pool, weightRules(policy), room.projectId, boardTime(pool, now));
}

/**
 * Brings the boards of the pool's rooms up to date: a room whose board would now read
 * differently gets a "board" message, which its adapter turns into an edit of the board
 * message. A room gets its first board once it has open work to show. Each board is read once
 * (the lobby's and other pool rooms' once, each project's once), whatever the number of rooms.
 * Returns the rooms queued.
 */
export async function refreshBoards(tx: Tx, poolId: PoolId, now: number, only?: { room: RoomId }): Promise<number> {
  const pool = await tx.pool(poolId);
  if (!pool) return 0;
  const at = boardTime(pool, now);
  const rules = weightRules(readPolicy(pool.policy));
  const muted = await silentRooms(tx, poolId, "board");
  const rooms = (await tx.rooms(poolId)).filter((r) => !muted.has(r.id) && (!only || only.room === r.id));
  const boards = new Map<ProjectId | null, TaskBoard>();
  let queued = 0;
  for (const room of rooms) {
    let board = boards.get(room.projectId);
    if (!board) boards.set(room.projectId, (board = await boardOf(tx, pool, rules, room.projectId, at)));
    const body = JSON.stringify(board);
    const before = await tx.board(room.id);
    if (before ? before.body === body : board.tasks.length === 0) continue;
    await tx.putBoard(room.id, body, at);
    await queueInRoom(tx, room.id, { kind: "board", body: { ...board, at } }, at);
    queued++;
  }
  return queued;
}

/**
 * Marks the pool's boards for a rebuild: a command that may have changed what they show calls
 * it in its own transaction, and the boards are rebuilt after it committed, at delivery time
 * (rebuildMarkedBoards), once for a whole burst of such commands. The mark is in the database,
 * so a process that stops before the rebuild leaves it for the next delivery or boards job.
 */
export function markBoards(tx: Tx, poolId: PoolId, at: number): Promise<void> {
  return tx.markBoards(poolId, at);
}

/**
 * Rebuilds the boards of every pool marked for it, each as of its latest mark (or its clock,
 * if later), and clears the marks, in one transaction. Costs one read when nothing is marked.
 * Returns the pools rebuilt and the rooms that got a new board.
 */
export async function rebuildMarkedBoards(store: Store): Promise<{ pools: number; rooms: number }> {
  if ((await store.read((tx) => tx.markedBoards())).length === 0) return { pools: 0, rooms: 0 };
  return store.transaction(async (tx) => {
    // Read again under the write lock: another process may have rebuilt them meanwhile.
    const marked = await tx.markedBoards();
    let rooms = 0;
    for (const m of marked) {
      rooms += await refreshBoards(tx, m.poolId, m.at);
      await tx.clearBoardsMark(m.poolId);
    }
    return { pools: marked.length, rooms };
  });
}

/**
 * What a "board" message carries: the board to show, or (switched off) the platform's id of
 * the board message to take down, if one was posted.
 */
export type BoardMessage = (TaskBoard & { readonly at: number; readonly removed?: undefined }) | { readonly removed: true; readonly messageId: string | null };

/** Queues the removal of the room's board message and forgets the board. */
async function removeBoard(tx: Tx, roomId: RoomId, now: number): Promise<void> {
  const before = await tx.board(roomId);
  if (!before) return;
  await tx.deleteBoard(roomId);
  const body: BoardMessage = { removed: true, messageId: before.messageId };
  await queueInRoom(tx, roomId, { kind: "board", body }, now);
}

/** The boards of every pool, for the scheduler: weights rise by the day, claims run out. Clears the marks. */
export async function refreshAllBoards(tx: Tx, now: number): Promise<number> {
  let n = 0;
  for (const pool of await tx.pools()) n += await refreshBoards(tx, pool.id, now);
  for (const m of await tx.markedBoards()) await tx.clearBoardsMark(m.poolId);
  return n;
}

// ---- neglected work

export interface NeglectedNotice {
  readonly project: string | null;
  readonly threshold: number;
  readonly tasks: ReadonlyArray<BoardTask & { readonly openMs: number }>;
}

/**
 * At each pool's noticeSchedule slot: every room hears of the open tasks whose weight reached
 * neglectedWeight and that it was not told of before, in one message, and never more than one
 * such message in a day. Tasks held back by that limit come in the next day's notice.
 */
export async function sendNeglectedNotices(tx: Tx, slot: number, windowMs: number): Promise<number> {
  let sent = 0;
  for (const pool of await tx.pools()) {
    const policy = readPolicy(pool.policy);
    const threshold = ppmOfThousandths(policy.neglectedWeight);
    const cron = parseCron(policy.noticeSchedule);
    const due = cron ? slotsBetween(cron, slot - windowMs, slot, policy.timezone).at(-1) : undefined;
    if (threshold <= 0 || due === undefined) continue;
    const muted = await silentRooms(tx, pool.id, "neglected");
    const heavy = (await openLines(tx, pool, policy, due)).filter((t) => t.weight >= threshold);
    if (heavy.length === 0) continue;
    for (const room of await tx.rooms(pool.id)) {
      if (muted.has(room.id)) continue;
      const last = await tx.lastOutboxAt(room.id, "neglected");
      if (last !== undefined && due - last < DAY_MS) continue;
      const told = new Set(await tx.noticedTasks(room.id));
      const news = heavy.filter((h) => !told.has(h.id) && (room.projectId === null || h.projectId === room.projectId));
      if (news.length === 0) continue;
      const body: NeglectedNotice = {
        project: room.projectId === null ? null : (news[0]?.project ?? null),
        threshold,
        tasks: news.map((h) => ({
          id: h.id,
          title: h.title,
          project: h.project,
          kind: h.kind,
          weight: h.weight,
          estimate: h.estimate,
          taken: h.taken,
          slots: h.slots,
          openMs: h.openMs,
        })),
      };
      await queueInRoom(tx, room.id, { kind: "neglected", body }, due);
      for (const h of news) await tx.insertNotice({ roomId: room.id, taskId: h.id, noticedAt: due });
      sent++;
    }
  }
  return sent;
}
