// Weighted labour: posting tasks, claiming them at their current weight, reporting and
// verifying work. Weights are never set by a coordinator: a task is posted at its kind's
// market weight and rises while it has an open slot, until its due date. The kind's market
// weight moves only on evidence: each verified claim pulls it part of the way (marketSmoothing)
// toward that claim's weight; volunteers who find a task full lower it. Claims that end without
// verified work move nothing, so nobody can push a kind's weight by claiming and dropping.
import { claimDeadline, creditHours, holdsSlot, isOverdue, openTimeAfter, openTimeOnNewDue, slotsTaken, taskState, type TaskState } from "../core/tasks.ts";
import { nearestNamed } from "../core/suggest.ts";
import { DAY_MS } from "../core/time.ts";
import { credit, marketWeight, nextRiseAt, openMsAt, taskWeight, waitlistWeight, weightRules } from "../core/weights.ts";
import type { TaskAnnouncement } from "../core/announcements.ts";
import type { DomainError } from "../errors.ts";
import { err, ok, type Result } from "../result.ts";
import type { ClaimRow, ClaimStatus, EntryRow, KindRow, MemberRow, ProjectRow, TaskAggregate, TaskRow, Tx } from "../store.ts";
import { announce, noteRow } from "./announce.ts";
import { ensureAccount, findPoolMember, findProject, isCoordinator, requireCoordinator, type MemberRef, type PoolCtx } from "./context.ts";
import { produceFromTask, productionGood } from "./goods.ts";
import { workAccount } from "./projects.ts";
import { projectRooms } from "./rooms.ts";
import { postEntry } from "./posting.ts";
import type { ClaimId, EntryId, GoodId, KindId, MemberId, PoolId, ProjectId, TaskId } from "../core/ids.ts";

type R<T> = Promise<Result<T, DomainError>>;

export interface ClaimView {
  readonly id: ClaimId;
  readonly member: string;
  readonly weight: number;
  readonly status: ClaimStatus;
  readonly claimedAt: number;
  readonly expiresAt: number;
  readonly reportedHours: number | null;
  readonly note: string | null;
  readonly credited: number | null;
  readonly verifiedBy: string | null;
  /** For a corrected claim: the entry that reversed its credit, who made it, when and why. */
  readonly correction: { readonly entry: EntryId; readonly by: string; readonly at: number; readonly reason: string } | null;
}

export interface TaskView {
  readonly id: TaskId;
  readonly title: string;
  readonly project: string;
  readonly kind: string;
  readonly estimate: number;
  readonly slots: number;
  readonly state: TaskState;
  /** Past its due date (and neither done nor cancelled): it takes no claims and stopped rising. */
  readonly overdue: boolean;
  /** The weight a claim would get now (the posted weight once nothing is open). */
  readonly weight: number;
  readonly postedWeight: number;
  readonly postedAt: number;
  readonly postedBy: string;
  readonly dueAt: number | null;
  readonly openMs: number;
  readonly nextRiseAt: number | null;
  readonly growth: number;
  readonly cap: number;
  readonly claims: readonly ClaimView[];
  readonly waitlist: readonly string[];
  readonly good: { readonly name: string; readonly qty: number } | null;
}

/**
 * What task views look up: projects, kinds, goods, handles and waitlists, each read once. A
 * list preloads them for all its tasks; a single view reads what it needs.
 */
class Lookups {
  private readonly projects = new Map<ProjectId, string>();
  private readonly kinds = new Map<KindId, string>();
  private readonly goods = new Map<GoodId, string>();
  private readonly handles = new Map<MemberId, string>();
  private readonly waitlists = new Map<TaskId, MemberId[]>();

  constructor(private readonly tx: Tx) {}

  /**
   * What the command read already (the task's project and kind, the caller, the waitlist), so
   * that its view does not read them again.
   */
  know(o: {
    project?: ProjectRow;
    kind?: KindRow;
    member?: MemberRow;
    handles?: ReadonlyMap<MemberId, string>;
    waitlist?: { taskId: TaskId; memberIds: MemberId[] };
  }): this {
    if (o.project) this.projects.set(o.project.id, o.project.slug);
    if (o.kind) this.kinds.set(o.kind.id, o.kind.name);
    if (o.member) this.handles.set(o.member.id, o.member.handle);
    for (const [id, handle] of o.handles ?? []) this.handles.set(id, handle);
    if (o.waitlist) this.waitlists.set(o.waitlist.taskId, o.waitlist.memberIds);
    return this;
  }

  /**
   * Reads what the views of a page of tasks need in a few queries: the pool's projects and
   * kinds and the tasks' waitlists. Members and goods are looked up as met (a page names a few;
   * a pool may have thousands).
   */
  async preload(poolId: PoolId, taskIds: readonly TaskId[]): Promise<void> {
    for (const p of await this.tx.projects(poolId)) this.projects.set(p.id, p.slug);
    for (const k of await this.tx.kinds(poolId)) this.kinds.set(k.id, k.name);
    for (const id of taskIds) this.waitlists.set(id, []);
    for (const w of await this.tx.waitlistsOfTasks(taskIds)) this.waitlists.get(w.taskId)?.push(w.memberId);
  }

  project(id: ProjectId): Promise<string> {
    return cached(this.projects, id, async () => (await this.tx.project(id))?.slug ?? "?");
  }

  kind(id: KindId): Promise<string> {
    return cached(this.kinds, id, async () => (await this.tx.kindById(id))?.name ?? "?");
  }

  good(id: GoodId): Promise<string> {
    return cached(this.goods, id, async () => (await this.tx.good(id))?.name ?? "?");
  }

  async handle(memberId: MemberId | null): Promise<string> {
    return memberId === null ? "?" : cached(this.handles, memberId, async () => (await this.tx.member(memberId))?.handle ?? String(memberId));
  }

  waitlist(taskId: TaskId): Promise<MemberId[]> {
    return cached(this.waitlists, taskId, async () => (await this.tx.waitlistOf(taskId)).map((w) => w.memberId));
  }
}

async function cached<I extends number, T>(map: Map<I, T>, id: I, load: () => Promise<T>): Promise<T> {
  if (!map.has(id)) map.set(id, await load());
  return map.get(id)!;
}

/**
 * The correction that undoes an entry now: along the chain of reversals (a correction, its own
 * correction, ...), the last one an odd number of steps away (undefined when the entry stands).
 */
async function reversalInForce(tx: Tx, entryId: EntryId): Promise<EntryRow | undefined> {
  let inForce: EntryRow | undefined;
  let at = entryId;
  for (let depth = 1; depth < 1000; depth++) {
    const next = await tx.reversalOf(at);
    if (!next) break;
    if (depth % 2 === 1) inForce = next;
    else inForce = undefined;
    at = next.id;
  }
  return inForce;
}

export async function viewTask(c: PoolCtx, task: TaskRow, claims?: readonly ClaimRow[], lookups = new Lookups(c.tx)): Promise<TaskView> {
  const rules = weightRules(c.pool.policy);
  const all = claims ?? (await c.tx.claimsOf(task.id));
  const openMs = openMsAt(task, c.now);
  const state = taskState(task, all);
  const claimViews: ClaimView[] = [];
  for (const cl of all) {
    const reversal = cl.status === "corrected" && cl.entryId !== null ? await reversalInForce(c.tx, cl.entryId) : undefined;
    claimViews.push({
      id: cl.id,
      member: await lookups.handle(cl.memberId),
      weight: cl.weight,
      status: cl.status,
      claimedAt: cl.claimedAt,
      expiresAt: cl.expiresAt,
      reportedHours: cl.reportedHours,
      note: cl.note,
      // A corrected claim's credit was reversed: it shows (and counts) nothing.
      credited: cl.status === "corrected" ? null : cl.credited,
      verifiedBy: cl.verifiedBy === null ? null : await lookups.handle(cl.verifiedBy),
      correction: reversal ? { entry: reversal.id, by: await lookups.handle(reversal.createdBy), at: reversal.createdAt, reason: reversal.memo } : null,
    });
  }
  const waitlist: string[] = [];
  for (const id of await lookups.waitlist(task.id)) waitlist.push(await lookups.handle(id));
  return {
    id: task.id,
    title: task.title,
    project: await lookups.project(task.projectId),
    kind: await lookups.kind(task.kindId),
    estimate: task.estimate,
    slots: task.slots,
    state,
    overdue: (state === "open" || state === "claimed") && isOverdue(task, c.now),
    weight: taskWeight(task.postedWeight, openMs, rules),
    postedWeight: task.postedWeight,
    postedAt: task.postedAt,
    postedBy: await lookups.handle(task.postedBy),
    dueAt: task.dueAt,
    openMs,
    nextRiseAt: state === "open" ? nextRiseAt(task.postedWeight, task, c.now, rules) : null,
    growth: rules.growth,
    cap: rules.cap,
    claims: claimViews,
    waitlist,
    good: task.goodId === null ? null : { name: await lookups.good(task.goodId), qty: task.goodQty ?? 0 },
  };
}

/**
 * The task with what deciding on it reads (Tx.taskAggregate: one query), its claims that ran
 * out released first (see catchUp).
 */
async function findTask(c: PoolCtx, id: TaskId): Promise<Result<TaskAggregate, DomainError>> {
  const a = await c.tx.taskAggregate(id);
  return a && a.task.poolId === c.pool.row.id ? ok(await catchUp(c.tx, a, c.now)) : err(await taskNotFound(c, id));
}

/**
 * What a task's view shows that its aggregate holds already (project, kind, members' names, the
 * waitlist), and the caller's name. A command that changes the waitlist says so again after.
 */
function lookupsOf(c: PoolCtx, a: TaskAggregate): Lookups {
  const waitlist = { taskId: a.task.id, memberIds: a.waitlist.map((w) => w.memberId) };
  return new Lookups(c.tx).know({ project: a.project, kind: a.kind, handles: a.handles, member: c.member, waitlist });
}

/** The refusal for a task number the pool does not have, with the nearest number it has. */
async function taskNotFound(c: PoolCtx, id: TaskId): Promise<DomainError> {
  const nearest = nearestNamed(
    String(id),
    (await c.tx.tasks(c.pool.row.id, {})).map((t) => ({ names: [String(t.id)], say: `#${t.id}` })),
  );
  return { kind: "not_found", what: "task", ref: `#${id}`, near: nearest ? [nearest] : [] };
}

/** The kind of work by name, created at the policy's weight for new kinds on first use. */
async function kindFor(c: PoolCtx, name: string): Promise<KindRow> {
  const existing = await c.tx.kind(c.pool.row.id, name);
  if (existing) return existing;
  const rules = weightRules(c.pool.policy);
  const weight = Math.min(rules.cap, Math.max(rules.floor, rules.newKind));
  const row = { poolId: c.pool.row.id, name, weight, createdAt: c.now };
  const id = await c.tx.insertKind(row);
  await c.tx.insertKindChange({ kindId: id, before: null, after: weight, reason: "new", taskId: null, memberId: c.member.id, at: c.now });
  return { id, ...row };
}

async function setKindWeight(c: PoolCtx, kind: KindRow, after: number, reason: "verify" | "waitlist", taskId: TaskId, memberId: MemberId): Promise<void> {
  await c.tx.setKindWeight(kind.id, after);
  await c.tx.insertKindChange({ kindId: kind.id, before: kind.weight, after, reason, taskId, memberId, at: c.now });
}

export interface PostTask {
  readonly project: string;
  readonly title: string;
  readonly estimate: number;
  readonly kind: string;
  readonly slots: number;
  readonly dueAt: number | undefined;
  /** A production task: it makes `qty` units of this good of the project. */
  readonly good?: { readonly name: string; readonly qty: number } | undefined;
}

/** Posts a task at its kind's current market weight (coordinators of the project). */
export async function postTask(c: PoolCtx, a: PostTask): R<{ task: TaskView; rooms: number; newKind: { name: string; near: string | null } | null }> {
  const found = await findProject(c, a.project);
  if (!found.ok) return found;
  const denied = await requireCoordinator(c, found.value, false);
  if (denied) return err(denied);
  if (a.dueAt !== undefined && a.dueAt <= c.now) return err({ kind: "due_past", due: c.now });
  let good: { id: GoodId; qty: number } | null = null;
  if (a.good) {
    const g = await productionGood(c, found.value, a.good.name);
    if (!g.ok) return g;
    good = { id: g.value.id, qty: a.good.qty };
  }
  // A kind the pool does not have yet is made here; if it is close to one it has, it was perhaps a typo.
  const isNew = !(await c.tx.kind(c.pool.row.id, a.kind));
  const near = isNew
    ? nearestNamed(
        a.kind,
        (await c.tx.kinds(c.pool.row.id)).map((k) => ({ names: [k.name], say: k.name })),
      )
    : null;
  const kind = await kindFor(c, a.kind);
  const row = {
    poolId: c.pool.row.id,
    projectId: found.value.id,
    kindId: kind.id,
    title: a.title,
    estimate: a.estimate,
    slots: a.slots,
    postedWeight: kind.weight,
    postedAt: c.now,
    postedBy: c.member.id,
    dueAt: a.dueAt ?? null,
    openSince: c.now,
    openMs: 0,
    cancelledAt: null,
    cancelledBy: null,
    goodId: good?.id ?? null,
    goodQty: good?.qty ?? null,
  };
  const id = await c.tx.insertTask(row);
  const rooms = await projectRooms(c.tx, c.pool.row.id, found.value.id);
  const body: TaskAnnouncement = {
    task: id,
    title: a.title,
    project: found.value.slug,
    kind: kind.name,
    weight: kind.weight,
    estimate: a.estimate,
    slots: a.slots,
    by: c.member.handle,
    dueAt: row.dueAt,
  };
  const heard = await announce(c, rooms, { kind: "task", body });
  return ok({ task: await viewTask(c, { id, ...row }, []), rooms: heard.length, newKind: isNew ? { name: kind.name, near } : null });
}

/** `open`: tasks that take claims now; `overdue`: open or claimed ones past their due date. */
export type TaskListFilter = { readonly project?: string | undefined; readonly kind?: string | undefined; readonly state: TaskState | "overdue" | "all" };

/** Tasks on a page of `task list`: a list that long is cut for chat (Discord's embed holds 4096 characters). */
export const TASK_PAGE = 20;

export interface TaskList {
  /** The page's tasks. */
  readonly tasks: TaskView[];
  /** How many tasks the filter lists on all pages. */
  readonly total: number;
  readonly page: number;
  readonly pageSize: number;
}

/**
 * The pool's to-do list with current weights, the most neglected work (longest open) first,
 * a page at a time (`page` from 1). The tasks one can claim now (the default) are read a page
 * at a time from the index of how long tasks have been open, and counted in it: as fast with
 * 10,000 open tasks as with ten. Other filters (claimed, done, ...) read the pool's tasks and
 * their claims (joined, never a list of ids) to know each task's state.
 */
export async function listTasks(c: PoolCtx, f: TaskListFilter & { readonly page?: number | undefined }): R<TaskList> {
  let projectId: ProjectId | undefined;
  if (f.project !== undefined) {
    const found = await findProject(c, f.project);
    if (!found.ok) return found;
    projectId = found.value.id;
  }
  let kindId: KindId | undefined;
  if (f.kind !== undefined) {
    const k = await c.tx.kind(c.pool.row.id, f.kind);
    if (!k) {
      const nearest = nearestNamed(
        f.kind,
        (await c.tx.kinds(c.pool.row.id)).map((x) => ({ names: [x.name], say: x.name })),
      );
      return err({ kind: "not_found", what: "kind", ref: f.kind, near: nearest ? [nearest] : [] });
    }
    kindId = k.id;
  }
  const page = f.page ?? 1;
  const skip = (page - 1) * TASK_PAGE;
  let total: number;
  let rows: TaskRow[];
  let claimsOf: (taskId: TaskId) => readonly ClaimRow[];
  if (f.state === "open") {
    // Longest open first is the index's order (open time at now is now - (openSince - openMs)).
    const scope = { poolId: c.pool.row.id, ...(projectId === undefined ? {} : { projectId }), ...(kindId === undefined ? {} : { kindId }), now: c.now };
    total = await c.tx.countOpenTasks(scope);
    rows = [];
    for (const line of await c.tx.openTasksBy(scope, "age", TASK_PAGE, skip)) {
      const row = await c.tx.task(line.id);
      if (row) rows.push(row);
    }
    const claims = await c.tx.claimsOfTasks(rows.map((r) => r.id));
    claimsOf = (id) => claims.filter((cl) => cl.taskId === id);
  } else {
    // The page is picked in SQL (each task's state from its claims there); only its tasks are read.
    const found = await c.tx.taskPage(
      { poolId: c.pool.row.id, ...(projectId === undefined ? {} : { projectId }), ...(kindId === undefined ? {} : { kindId }), now: c.now },
      f.state,
      TASK_PAGE,
      skip,
    );
    total = found.total;
    rows = [];
    for (const id of found.ids) {
      const row = await c.tx.task(id);
      if (row) rows.push(row);
    }
    const claims = await c.tx.claimsOfTasks(rows.map((r) => r.id));
    claimsOf = (id) => claims.filter((cl) => cl.taskId === id);
  }
  const lookups = new Lookups(c.tx);
  await lookups.preload(
    c.pool.row.id,
    rows.map((r) => r.id),
  );
  const views: TaskView[] = [];
  for (const row of rows) views.push(await viewTask(c, row, claimsOf(row.id), lookups));
  return ok({ tasks: views, total, page, pageSize: TASK_PAGE });
}

export async function showTask(c: PoolCtx, id: TaskId): R<{ task: TaskView }> {
  // A read: it shows the stored facts and does not release claims that ran out.
  const a = await c.tx.taskAggregate(id);
  if (!a || a.task.poolId !== c.pool.row.id) return err(await taskNotFound(c, id));
  return ok({ task: await viewTask(c, a.task, a.claims, lookupsOf(c, a)) });
}

/** Moves a task's open-time clock after its taken slots changed; returns the task as it is now. */
async function retime(c: PoolCtx, task: TaskRow, takenBefore: number, takenAfter: number, at: number): Promise<TaskRow> {
  const next = openTimeAfter(task, task.slots, takenBefore, takenAfter, at);
  if (next === task) return task;
  await c.tx.setTaskOpen(task.id, next.openSince, next.openMs);
  return { ...task, openSince: next.openSince, openMs: next.openMs };
}

/** Tells the waitlist that a slot of the task is open again. */
async function noteWaitlist(tx: Tx, task: TaskRow, now: number): Promise<void> {
  for (const w of await tx.waitlistOf(task.id)) {
    await tx.insertNote(
      noteRow({ poolId: task.poolId, memberId: w.memberId, createdAt: now }, { kind: "slot_open", body: { task: task.id, title: task.title } }),
    );
  }
}

export type ClaimOutcome =
  | {
      readonly outcome: "claimed";
      readonly task: TaskView;
      readonly weight: number;
      readonly expiresAt: number;
      readonly kind: string;
      readonly market: number;
      readonly smoothing: number;
    }
  | {
      readonly outcome: "waitlisted";
      readonly task: TaskView;
      readonly position: number;
      readonly kind: string;
      readonly kindBefore: number;
      readonly kindAfter: number;
      readonly lowered: boolean;
    };

/**
 * Takes a slot at the current weight, locked from then on; the kind's market weight does not
 * move until the work is verified. A volunteer who finds every slot taken goes on the waitlist
 * and, once per task, lowers the kind's weight. A task past its due date takes no claims; once
 * its project turned a volunteer down, its coordinators may not claim it themselves.
 */
export async function claimTask(c: PoolCtx, id: TaskId): R<ClaimOutcome> {
  const t = await findTask(c, id);
  if (!t.ok) return t;
  const { task, claims, project, kind } = t.value;
  const state = taskState(task, claims);
  if (state === "done" || state === "cancelled") return err({ kind: "task_closed", id, state });
  if (isOverdue(task, c.now)) return err({ kind: "task_overdue", id, dueAt: task.dueAt!, action: "claim" });
  const mine = claims.filter((cl) => cl.memberId === c.member.id);
  const holding = mine.map((cl) => cl.status).find(holdsSlot);
  if (holding) return err({ kind: "already_claimed", id, state: holding });
  if (mine.some((cl) => cl.status === "refused")) return err({ kind: "turned_down", id, project: project.slug });
  // Turning a volunteer down keeps the weight rising: it must not be a way to raise it for oneself.
  if (claims.some((cl) => cl.status === "refused") && (await isCoordinator(c, project))) return err({ kind: "coordinator_claim", id, project: project.slug });
  const rules = weightRules(c.pool.policy);
  const taken = slotsTaken(claims);
  // The view below shows what this command read and wrote, without reading it again.
  const lookups = lookupsOf(c, t.value);
  if (taken < task.slots) {
    const weight = taskWeight(task.postedWeight, openMsAt(task, c.now), rules);
    const expiresAt = claimDeadline(task.dueAt, c.now, c.pool.policy.claimDays);
    const row: Omit<ClaimRow, "id"> = {
      taskId: task.id,
      memberId: c.member.id,
      weight,
      status: "active",
      claimedAt: c.now,
      expiresAt,
      reportedAt: null,
      reportedHours: null,
      note: null,
      rejectReason: null,
      verifiedAt: null,
      verifiedBy: null,
      creditedHours: null,
      credited: null,
      entryId: null,
      endedAt: null,
      endedBy: null,
    };
    const claimId = await c.tx.insertClaim(row);
    const after = await retime(c, task, taken, taken + 1, c.now);
    // A claim takes the member off the task's waitlist (if they were on it).
    const waiting = t.value.waitlist.map((w) => w.memberId);
    if (waiting.includes(c.member.id)) await c.tx.leaveWaitlist(task.id, c.member.id, c.now);
    lookups.know({ waitlist: { taskId: task.id, memberIds: waiting.filter((m) => m !== c.member.id) } });
    // Claims in the order of their ids, as the store reads them: the new one is the last.
    const view = await viewTask(c, after, [...claims, { id: claimId, ...row }], lookups);
    return ok({ outcome: "claimed", task: view, weight, expiresAt, kind: kind.name, market: kind.weight, smoothing: rules.smoothing });
  }
  // Each volunteer lowers the kind's weight once per task, even if they come back to wait again.
  const lowersWeight = !(await c.tx.waitedBefore(task.id, c.member.id));
  await c.tx.joinWaitlist(task.id, c.member.id, c.now);
  const waiting = (await c.tx.waitlistOf(task.id)).map((w) => w.memberId);
  const position = waiting.indexOf(c.member.id) + 1;
  const after = lowersWeight ? waitlistWeight(kind.weight, rules) : kind.weight;
  if (after !== kind.weight) await setKindWeight(c, kind, after, "waitlist", task.id, c.member.id);
  lookups.know({ waitlist: { taskId: task.id, memberIds: waiting } });
  return ok({
    outcome: "waitlisted",
    task: await viewTask(c, task, claims, lookups),
    position,
    kind: kind.name,
    kindBefore: kind.weight,
    kindAfter: after,
    lowered: after !== kind.weight,
  });
}

/**
 * Ends a claim that holds a slot at `at`; unless the task is being cancelled, the slot reopens
 * then, the weight goes on rising from where it was, and the waitlist hears of it.
 */
export async function endClaim(
  tx: Tx,
  task: TaskRow,
  claim: ClaimRow,
  status: "dropped" | "refused" | "released" | "cancelled",
  at: number,
  by: number | null,
  now: number,
): Promise<void> {
  const before = slotsTaken(await tx.claimsOf(task.id));
  await tx.updateClaim(claim.id, { status, endedAt: at, endedBy: by });
  if (status === "cancelled") return;
  const next = openTimeAfter(task, task.slots, before, before - 1, at);
  if (next !== task) await tx.setTaskOpen(task.id, next.openSince, next.openMs);
  if (before >= task.slots) await noteWaitlist(tx, task, now);
}

/** The caller gives their slot back (before verification). */
export async function dropTask(c: PoolCtx, id: TaskId): R<{ task: TaskView }> {
  const t = await findTask(c, id);
  if (!t.ok) return t;
  const claim = t.value.claims.find((cl) => cl.memberId === c.member.id && (cl.status === "active" || cl.status === "reported"));
  if (!claim) return err({ kind: "no_claim", id, member: null });
  await endClaim(c.tx, t.value.task, claim, "dropped", c.now, c.member.id, c.now);
  return ok({ task: await viewTask(c, (await c.tx.task(id)) ?? t.value.task) });
}

/** The member's claim among the task's claims (read with the task), in one of `statuses`. */
async function claimOfMember(c: PoolCtx, claims: readonly ClaimRow[], who: MemberRef, statuses: readonly ClaimStatus[]) {
  const target = await findPoolMember(c, who);
  if (!target.ok) return target;
  const claim = claims.find((cl) => cl.memberId === target.value.id && statuses.includes(cl.status));
  return ok({ member: target.value, claim });
}

/** A coordinator turns a volunteer down: the slot reopens and the weight keeps rising. */
export async function refuseVolunteer(c: PoolCtx, id: TaskId, who: MemberRef): R<{ task: TaskView; member: string }> {
  const t = await findTask(c, id);
  if (!t.ok) return t;
  const { task, claims, project } = t.value;
  const denied = await requireCoordinator(c, project, false);
  if (denied) return err(denied);
  const found = await claimOfMember(c, claims, who, ["active", "reported"]);
  if (!found.ok) return found;
  const { member, claim } = found.value;
  if (!claim) return err({ kind: "no_claim", id, member: member.handle });
  await endClaim(c.tx, task, claim, "refused", c.now, c.member.id, c.now);
  await c.tx.insertNote(
    noteRow(
      { poolId: c.pool.row.id, memberId: member.id, createdAt: c.now },
      { kind: "refused", body: { task: id, title: task.title, project: project.slug } },
    ),
  );
  return ok({ task: await viewTask(c, (await c.tx.task(id)) ?? task), member: member.handle });
}

/** The worker reports their work done, with the hours spent (the estimate if not given). */
export async function reportDone(c: PoolCtx, id: TaskId, hours: number | undefined, note: string | undefined): R<{ task: TaskView; hours: number }> {
  const t = await findTask(c, id);
  if (!t.ok) return t;
  const { task, claims } = t.value;
  const mine = claims.filter((cl) => cl.memberId === c.member.id);
  if (mine.some((cl) => cl.status === "reported")) return err({ kind: "already_reported", id });
  const claim = mine.find((cl) => cl.status === "active");
  if (!claim) return err({ kind: "no_claim", id, member: null });
  const reported = hours ?? task.estimate;
  const patch = { status: "reported", reportedAt: c.now, reportedHours: reported, note: note ?? null } as const;
  await c.tx.updateClaim(claim.id, patch);
  // The view shows the claims as they are now, without reading them again.
  const now = claims.map((cl) => (cl.id === claim.id ? { ...cl, ...patch } : cl));
  return ok({ task: await viewTask(c, task, now, lookupsOf(c, t.value)), hours: reported });
}

export interface Verified {
  readonly task: TaskView;
  readonly member: string;
  readonly hours: number;
  readonly weight: number;
  readonly credited: number;
  readonly entry: EntryId;
  /** The kind's market weight before and after this verified claim moved it. */
  readonly market: { readonly kind: string; readonly before: number; readonly after: number };
  /** The last slot of a production task: the units its verification added to the good's stock. */
  readonly produced: { readonly good: string; readonly qty: number } | null;
}

/**
 * Credits reported work: hours x the claim's locked weight, from the project's account to the
 * worker's. A coordinator of the project or a pool admin verifies, never the worker. Verified
 * work is the evidence that moves the kind's market weight: marketSmoothing (25%) of the way
 * toward the claim's weight.
 */
export async function verifyWork(c: PoolCtx, id: TaskId, who: MemberRef, explicitHours: number | undefined): R<Verified> {
  const t = await findTask(c, id);
  if (!t.ok) return t;
  const { task, claims, project } = t.value;
  const denied = await requireCoordinator(c, project, true);
  if (denied) return err(denied);
  const found = await claimOfMember(c, claims, who, ["active", "reported"]);
  if (!found.ok) return found;
  const { member, claim } = found.value;
  if (member.id === c.member.id) return err({ kind: "self_verify", id });
  if (!claim) return err({ kind: "no_claim", id, member: member.handle });
  if (claim.status !== "reported" || claim.reportedHours === null) return err({ kind: "not_reported", id, member: member.handle });
  const hours = creditHours(task.estimate, claim.reportedHours, explicitHours, c.pool.policy.creditCapFactor);
  if (!hours.ok) return err({ kind: "needs_hours", id, member: member.handle, reported: hours.reported, cap: hours.cap });
  const amount = credit(hours.hours, claim.weight);
  const poolId = c.pool.row.id;
  let entryId: EntryId | null = null;
  if (amount > 0) {
    // Work no good can ever recover (on a copyable good, or of a project whose goods are all
    // copyable) is carried by the commons: nobody is charged for taking a copyable good.
    const from = await workAccount(c.tx, poolId, task);
    const to = await ensureAccount(c.tx, poolId, "member", member.id);
    const entry = await postEntry(c.tx, {
      poolId,
      fromAccount: from,
      toAccount: to,
      amount,
      kind: "work",
      memo: `task #${task.id} ${task.title}`,
      requestId: c.requestId,
      createdAt: c.now,
      createdBy: c.member.id,
    });
    entryId = entry.id;
  }
  const patch = { status: "verified", verifiedAt: c.now, verifiedBy: c.member.id, creditedHours: hours.hours, credited: amount, entryId } as const;
  await c.tx.updateClaim(claim.id, patch);
  // The last slot of a production task verified: its units join the good's stock (once).
  const made = task.goodId === null ? null : await produceFromTask(c, task.id);
  const kind = t.value.kind;
  const market = marketWeight(kind.weight, claim.weight, weightRules(c.pool.policy).smoothing);
  if (market !== kind.weight) await setKindWeight(c, kind, market, "verify", task.id, member.id);
  // The view shows the claims as they are now, and the names read above, without reading them again.
  const now = claims.map((cl) => (cl.id === claim.id ? { ...cl, ...patch } : cl));
  return ok({
    task: await viewTask(c, task, now, lookupsOf(c, t.value).know({ member })),
    member: member.handle,
    hours: hours.hours,
    weight: claim.weight,
    credited: amount,
    entry: entryId ?? 0,
    market: { kind: kind.name, before: kind.weight, after: market },
    produced: made && { good: made.good, qty: made.qty },
  });
}

/** Sends reported work back to the worker to redo (or drop), with a reason and a fresh deadline. */
export async function rejectWork(c: PoolCtx, id: TaskId, who: MemberRef, reason: string): R<{ task: TaskView; member: string; expiresAt: number }> {
  const t = await findTask(c, id);
  if (!t.ok) return t;
  const { task, claims, project } = t.value;
  const denied = await requireCoordinator(c, project, true);
  if (denied) return err(denied);
  const found = await claimOfMember(c, claims, who, ["active", "reported"]);
  if (!found.ok) return found;
  const { member, claim } = found.value;
  if (member.id === c.member.id) return err({ kind: "self_verify", id });
  if (!claim) return err({ kind: "no_claim", id, member: member.handle });
  if (claim.status !== "reported") return err({ kind: "not_reported", id, member: member.handle });
  // Work sent back gets until the due date at most: past it, it could not be redone in time.
  if (isOverdue(task, c.now)) return err({ kind: "task_overdue", id, dueAt: task.dueAt!, action: "reject", member: member.handle });
  const expiresAt = claimDeadline(task.dueAt, c.now, c.pool.policy.claimDays);
  await c.tx.updateClaim(claim.id, { status: "active", rejectReason: reason, reportedAt: null, reportedHours: null, expiresAt });
  await c.tx.insertNote(
    noteRow(
      { poolId: c.pool.row.id, memberId: member.id, createdAt: c.now },
      { kind: "rejected", body: { task: id, title: task.title, reason, by: c.member.handle } },
    ),
  );
  return ok({ task: await viewTask(c, task), member: member.handle, expiresAt });
}

/** A task that is neither done nor cancelled, with its claims, for one of its coordinators (or a pool admin, if `admins`). */
async function unfinishedTaskFor(c: PoolCtx, id: TaskId, admins: boolean): R<{ task: TaskRow; project: ProjectRow; claims: ClaimRow[] }> {
  const t = await findTask(c, id);
  if (!t.ok) return t;
  const { task, claims, project } = t.value;
  const denied = await requireCoordinator(c, project, admins);
  if (denied) return err(denied);
  const state = taskState(task, claims);
  if (state === "done" || state === "cancelled") return err({ kind: "task_closed", id, state });
  return ok({ task, project, claims });
}

/**
 * Gives a task a new due date (its coordinators or a pool admin), ahead of now. A task past its
 * old date takes claims again and rises from where it stopped (the days it was overdue never
 * count); the new date becomes the report deadline of every active claim, and each worker is told.
 */
export async function setDue(c: PoolCtx, id: TaskId, dueAt: number): R<{ task: TaskView; before: number | null; workers: string[] }> {
  const found = await unfinishedTaskFor(c, id, true);
  if (!found.ok) return found;
  const { task, claims } = found.value;
  if (dueAt <= c.now) return err({ kind: "due_past", due: c.now, id });
  const clock = openTimeOnNewDue(task, c.now);
  if (clock !== task) await c.tx.setTaskOpen(id, clock.openSince, clock.openMs);
  await c.tx.setTaskDue({ taskId: id, before: task.dueAt, after: dueAt, at: c.now, by: c.member.id });
  const workers: string[] = [];
  for (const cl of claims.filter((x) => x.status === "active")) {
    if (cl.expiresAt !== dueAt) await c.tx.updateClaim(cl.id, { expiresAt: dueAt });
    await c.tx.insertNote(
      noteRow(
        { poolId: c.pool.row.id, memberId: cl.memberId, createdAt: c.now },
        { kind: "due", body: { task: id, title: task.title, expiresAt: dueAt, by: c.member.handle } },
      ),
    );
    workers.push((await c.tx.member(cl.memberId))?.handle ?? "?");
  }
  return ok({ task: await viewTask(c, (await c.tx.task(id)) ?? task), before: task.dueAt, workers });
}

/** Cancels a task (its coordinators): open claims end, nothing is credited. */
export async function cancelTask(c: PoolCtx, id: TaskId): R<{ task: TaskView; ended: string[] }> {
  const found = await unfinishedTaskFor(c, id, false);
  if (!found.ok) return found;
  const { task, project, claims } = found.value;
  const ended: string[] = [];
  for (const cl of claims.filter((x) => x.status === "active" || x.status === "reported")) {
    await endClaim(c.tx, task, cl, "cancelled", c.now, c.member.id, c.now);
    await c.tx.insertNote(
      noteRow(
        { poolId: c.pool.row.id, memberId: cl.memberId, createdAt: c.now },
        { kind: "cancelled", body: { task: id, title: task.title, project: project.slug } },
      ),
    );
    ended.push((await c.tx.member(cl.memberId))?.handle ?? "?");
  }
  // A cancelled task's weight stops where it is.
  const stopped = (await c.tx.task(id)) ?? task;
  await c.tx.setTaskOpen(id, null, openMsAt(stopped, c.now));
  await c.tx.cancelTask(id, c.now, c.member.id);
  return ok({ task: await viewTask(c, (await c.tx.task(id)) ?? task), ended });
}

export interface CreditChange {
  readonly task: TaskId;
  readonly title: string;
  readonly member: string;
  /** `corrected`: the credit was reversed; `verified`: a reversal was itself reversed. */
  readonly status: "corrected" | "verified";
  readonly taskState: TaskState;
}

/**
 * Follows a correction of a work credit to its claim: a reversed credit marks the claim
 * corrected, which frees its slot (the task is open again, its weight rising from where it
 * stopped, the waitlist told) and tells the worker; a reversed reversal makes it verified again.
 */
export async function followCredit(c: PoolCtx, claim: ClaimRow, stands: boolean, reason: string): Promise<CreditChange | null> {
  if (stands ? claim.status !== "corrected" : claim.status !== "verified") return null;
  const task = await c.tx.task(claim.taskId);
  if (!task) throw new Error(`claim ${claim.id} has no task`);
  const before = slotsTaken(await c.tx.claimsOf(task.id));
  if (stands) await c.tx.updateClaim(claim.id, { status: "verified", endedAt: null, endedBy: null });
  else await c.tx.updateClaim(claim.id, { status: "corrected", endedAt: c.now, endedBy: c.member.id });
  const after = stands ? before + 1 : before - 1;
  if (task.cancelledAt === null) {
    await retime(c, task, before, after, c.now);
    if (!stands && before >= task.slots) await noteWaitlist(c.tx, task, c.now);
  }
  const state = taskState(task, await c.tx.claimsOf(task.id));
  await c.tx.insertNote(
    noteRow(
      { poolId: task.poolId, memberId: claim.memberId, createdAt: c.now },
      { kind: "corrected", body: { task: task.id, title: task.title, reason, by: c.member.handle, restored: stands, state } },
    ),
  );
  return {
    task: task.id,
    title: task.title,
    member: (await c.tx.member(claim.memberId))?.handle ?? "?",
    status: stands ? "verified" : "corrected",
    taskState: state,
  };
}

export interface KindView {
  readonly kind: string;
  readonly weight: number;
  readonly open: number;
  /** Weight a week ago (or at creation, if newer), to show the trend. */
  readonly weekAgo: number;
  readonly changes: number;
}

/** Every kind's market weight, open tasks of it, and how the weight moved over the last week. */
export async function listKinds(c: PoolCtx): R<{ kinds: KindView[] }> {
  const kinds = await c.tx.kinds(c.pool.row.id);
  // Counted in the index of the tasks that take claims, not by reading every task and claim.
  const openOf = new Map((await c.tx.openTasksPerKind(c.pool.row.id, c.now)).map((r) => [r.kindId, r.open]));
  const out: KindView[] = [];
  for (const k of kinds) {
    const open = openOf.get(k.id) ?? 0;
    const recent = await c.tx.kindChanges(k.id, c.now - 7 * DAY_MS);
    const weekAgo = recent.length > 0 ? (recent[0]!.before ?? recent[0]!.after) : k.weight;
    out.push({ kind: k.name, weight: k.weight, open, weekAgo, changes: recent.length });
  }
  return ok({ kinds: out });
}

export interface Released {
  readonly claim: ClaimId;
  readonly task: TaskId;
  readonly member: MemberId;
  readonly pool: PoolId;
}

/**
 * Releases claims not reported within their time (claimDays, or the due date); the scheduler
 * calls it. Each slot reopens at the moment the claim ran out, not when this runs, so the
 * weights come out the same however late it runs. The worker gets a note.
 */
export async function releaseExpiredClaims(tx: Tx, now: number): Promise<Released[]> {
  const released: Released[] = [];
  for (const claim of await tx.expiredClaims(now)) released.push(await releaseClaim(tx, claim, now));
  return released;
}

async function releaseClaim(tx: Tx, claim: ClaimRow, now: number): Promise<Released> {
  const task = await tx.task(claim.taskId);
  if (!task) throw new Error(`claim ${claim.id} has no task`);
  await endClaim(tx, task, claim, "released", claim.expiresAt, null, now);
  await tx.insertNote(
    noteRow(
      { poolId: task.poolId, memberId: claim.memberId, createdAt: now },
      { kind: "released", body: { task: task.id, title: task.title, expiresAt: claim.expiresAt } },
    ),
  );
  return { claim: claim.id, task: task.id, member: claim.memberId, pool: task.poolId };
}

/**
 * Releases the task's claims that ran out, as of their deadlines, before anything else happens
 * to it: no slot change after a deadline comes before that deadline's release, so the open time
 * (and so the weight) does not depend on when the scheduler last ran.
 */
async function catchUp(tx: Tx, a: TaskAggregate, now: number): Promise<TaskAggregate> {
  const expired = a.claims.filter((cl) => cl.status === "active" && cl.expiresAt <= now).sort((x, y) => x.expiresAt - y.expiresAt || x.id - y.id);
  if (expired.length === 0) return a;
  for (const claim of expired) await releaseClaim(tx, claim, now);
  return (await tx.taskAggregate(a.task.id)) ?? a;
}
