// Projects: each sets its own goals and runs itself; the pool shares tasks, goods and accounts.
import type { DomainError } from "../errors.ts";
import { err, ok, type Result } from "../result.ts";
import type { GoalRow, ProjectRow, RoomRow } from "../store.ts";
import {
  ensureAccount,
  findPoolMember,
  findProject,
  requireCoordinator,
  type PoolCtx,
  type MemberRef,
} from "./context.ts";

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

export interface ProjectInfo extends ProjectLine {
  readonly goals: readonly GoalRow[];
  readonly rooms: readonly RoomRow[];
  /** Effort spent minus effort recovered: the negative of the project's balance, never below 0. */
  readonly deficit: number;
  readonly deficitCap: number;
  readonly deficitWarnAt: number;
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
    deficitWarnAt: Math.floor((policy.deficitCap * policy.deficitWarnPercent) / 1000),
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
