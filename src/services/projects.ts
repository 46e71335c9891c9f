// Projects: each sets its own goals and runs itself; the pool shares tasks, goods and accounts.
import { timesThousandths } from "../core/amounts.ts";
import type { DomainError } from "../errors.ts";
import { err, ok, type Result } from "../result.ts";
import type { GoalRow, ProjectRow, RoomRow, TaskRow, Tx } from "../store.ts";
import { ensureAccount, findPoolMember, findProject, requireCoordinator, type PoolCtx, type MemberRef } from "./context.ts";
import type { AccountId, GoodId, PoolId, ProjectId } from "../core/ids.ts";

type R<T> = Promise<Result<T, DomainError>>;

/** Any member may start a project in the pool and becomes its first coordinator. */
export async function createProject(c: PoolCtx, slug: string, name: string): R<{ project: ProjectRow }> {
  const poolId = c.pool.row.id;
  if (await c.tx.projectBySlug(poolId, slug)) return err({ kind: "project_exists", slug });
  const row = { poolId, slug, name, createdAt: c.now, createdBy: c.member.id };
  const id = await c.tx.insertProject(row);
  await ensureAccount(c.tx, poolId, "project", id);
  await c.tx.insertCoordinator(id, c.member.id, c.now);
  return ok({ project: { id, ...row } });
}

export interface ProjectLine {
  readonly project: ProjectRow;
  readonly balance: number;
  readonly coordinators: readonly string[];
  readonly openGoals: number;
}

export async function listProjects(c: PoolCtx): R<{ projects: ProjectLine[] }> {
  const out: ProjectLine[] = [];
  for (const project of await c.tx.projects(c.pool.row.id)) {
    out.push(await projectLine(c, project));
  }
  return ok({ projects: out });
}

async function projectLine(c: PoolCtx, project: ProjectRow): Promise<ProjectLine> {
  const account = await c.tx.account(c.pool.row.id, "project", project.id);
  const coordinators = (await c.tx.coordinators(project.id)).map((x) => x.handle);
  const openGoals = (await c.tx.goals(c.pool.row.id, { projectId: project.id, status: "open" })).length;
  return { project, balance: account?.balance ?? 0, coordinators, openGoals };
}

/**
 * Whether the verified work of this task is carried by the pool's commons rather than its
 * project (our choice): work no good can ever recover, that is work on a copyable good, and all
 * work of a project that has goods and only copyable ones. Nobody pays for taking a copyable
 * good, so such work would stay in the project's deficit for ever. A project with no goods yet
 * carries its own work: a good it adds may still recover it.
 */
export async function carriedByCommons(tx: Tx, poolId: PoolId, task: Pick<TaskRow, "projectId" | "goodId">): Promise<boolean> {
  if (task.goodId !== null) return (await tx.good(task.goodId))?.model === "copyable";
  return tx.onlyCopyableGoods(poolId, task.projectId);
}

/** The account that pays for the task's verified work: the commons or the task's project (see carriedByCommons). */
export async function workAccount(tx: Tx, poolId: PoolId, task: Pick<TaskRow, "projectId" | "goodId">): Promise<AccountId> {
  return (await carriedByCommons(tx, poolId, task)) ? ensureAccount(tx, poolId, "commons", poolId) : ensureAccount(tx, poolId, "project", task.projectId);
}

/** What the commons carries of a project's work, and who uses its copyable goods. */
export interface CommonsShare {
  /** All of the project's verified work credited from the commons. */
  readonly carried: number;
  /** Each copyable good of the project: the work on it the commons carries, and how many members ever took it. */
  readonly goods: ReadonlyArray<{ readonly name: string; readonly carried: number; readonly members: number }>;
  /** Work of its tasks without a good that the commons carries (its goods are all copyable). */
  readonly otherWork: number;
  /** Its goods that members pay for (not copyable): what a deficit past the cap waits for. */
  readonly paidGoods: readonly string[];
  /** Whether the project has goods and all are copyable: no good recovers its work, and no cap binds it. */
  readonly allCopyable: boolean;
}

/**
 * What the commons carries and who took each copyable good, over the whole pool: two pool-wide
 * queries, read once for a whole pool's summaries rather than once per project.
 */
export interface CommonsFacts {
  /** The pool's verified work credited by the commons, per project and good. */
  readonly work: ReadonlyArray<{ readonly projectId: ProjectId; readonly goodId: GoodId | null; readonly amount: number }>;
  /** How many members ever took each of the pool's copyable goods, by good id. */
  readonly users: ReadonlyMap<GoodId, number>;
}

/** The pool's commons facts; given a project, `users` holds only its goods (all commonsShare needs of it). */
export async function commonsFacts(tx: Tx, poolId: PoolId, projectId?: ProjectId): Promise<CommonsFacts> {
  const work = await tx.commonsWork(poolId);
  const users = new Map((await tx.copyableUsers(poolId, projectId)).map((u) => [u.goodId, u.members]));
  return { work, users };
}

/** The project's share of the commons; `facts` when the caller already read the pool's (see commonsFacts). */
export async function commonsShare(tx: Tx, poolId: PoolId, projectId: ProjectId, facts?: CommonsFacts): Promise<CommonsShare> {
  const goods = await tx.goods(poolId, { projectId });
  const pool = facts ?? (await commonsFacts(tx, poolId, projectId));
  const work = pool.work.filter((w) => w.projectId === projectId);
  const users = pool.users;
  const carriedOn = (goodId: GoodId | null) => work.filter((w) => w.goodId === goodId).reduce((a, w) => a + w.amount, 0);
  // A good that is not copyable has no share of the commons' (unless work was posted before its rules).
  const shown = goods.filter((g) => g.model === "copyable" || carriedOn(g.id) > 0);
  return {
    carried: work.reduce((a, w) => a + w.amount, 0),
    goods: shown.map((g) => ({ name: g.name, carried: carriedOn(g.id), members: users.get(g.id) ?? 0 })),
    otherWork: carriedOn(null),
    paidGoods: goods.filter((g) => g.model !== "copyable").map((g) => g.name),
    allCopyable: goods.length > 0 && goods.every((g) => g.model === "copyable"),
  };
}

export interface ProjectInfo extends ProjectLine {
  readonly goals: readonly GoalRow[];
  readonly rooms: readonly RoomRow[];
  /** Effort spent minus effort recovered: the negative of the project's balance, never below 0. */
  readonly deficit: number;
  readonly deficitCap: number;
  readonly deficitWarnAt: number;
  /** What the pool's commons carries of the project's work. */
  readonly commons: CommonsShare;
}

export async function projectInfo(c: PoolCtx, slug: string): R<ProjectInfo> {
  const found = await findProject(c, slug);
  if (!found.ok) return found;
  const line = await projectLine(c, found.value);
  const goals = await c.tx.goals(c.pool.row.id, { projectId: found.value.id, status: "open" });
  const rooms = (await c.tx.rooms(c.pool.row.id)).filter((r) => r.projectId === found.value.id);
  const policy = c.pool.policy;
  return ok({
    ...line,
    goals,
    rooms,
    deficit: Math.max(0, -line.balance),
    deficitCap: policy.deficitCap,
    deficitWarnAt: Math.floor(timesThousandths(policy.deficitCap, policy.deficitWarnPercent)),
    commons: await commonsShare(c.tx, c.pool.row.id, found.value.id),
  });
}

/** Binds this room of the pool to a project (its coordinators or a pool admin). */
export async function bindProjectRoom(c: PoolCtx, slug: string): R<{ project: ProjectRow; room: RoomRow; previous: string | null }> {
  const found = await findProject(c, slug);
  if (!found.ok) return found;
  const denied = await requireCoordinator(c, found.value, true);
  if (denied) return err(denied);
  if (c.room.projectId === found.value.id) return err({ kind: "room_is_project_room", project: found.value.slug });
  const previous = c.room.projectId === null ? null : ((await c.tx.project(c.room.projectId))?.slug ?? null);
  await c.tx.setRoomProject(c.room.id, found.value.id);
  return ok({ project: found.value, room: { ...c.room, projectId: found.value.id }, previous });
}

export interface CoordinatorChange {
  readonly project: ProjectRow;
  readonly member: string;
  readonly coordinators: readonly string[];
}

/** Adds or removes a coordinator (the project's coordinators or a pool admin). */
export async function changeCoordinator(c: PoolCtx, op: "add" | "remove", slug: string, who: MemberRef): R<CoordinatorChange> {
  const found = await findProject(c, slug);
  if (!found.ok) return found;
  const project = found.value;
  const denied = await requireCoordinator(c, project, true);
  if (denied) return err(denied);
  const target = await findPoolMember(c, who);
  if (!target.ok) return target;
  const current = await c.tx.coordinators(project.id);
  const isOne = current.some((x) => x.memberId === target.value.id);
  if (op === "add") {
    if (isOne) return err({ kind: "already_coordinator", member: target.value.handle, project: project.slug });
    await c.tx.insertCoordinator(project.id, target.value.id, c.now);
  } else {
    if (!isOne) return err({ kind: "not_coordinator", member: target.value.handle, project: project.slug });
    if (current.length === 1) return err({ kind: "last_coordinator", project: project.slug });
    await c.tx.deleteCoordinator(project.id, target.value.id);
  }
  const after = (await c.tx.coordinators(project.id)).map((x) => x.handle);
  return ok({ project, member: target.value.handle, coordinators: after });
}
