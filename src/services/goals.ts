// Goals: a project announces what it wants to achieve, in every room of the pool.
import type { GoalAnnouncement } from "../core/announcements.ts";
import type { DomainError } from "../errors.ts";
import { err, ok, type Result } from "../result.ts";
import type { GoalRow, ProjectRow } from "../store.ts";
import { announce } from "./announce.ts";
import { findProject, requireCoordinator, type PoolCtx } from "./context.ts";
import type { GoalId, ProjectId } from "../core/ids.ts";

type R<T> = Promise<Result<T, DomainError>>;

/** Stores a goal and queues its announcement for every room of the pool. Coordinators only. */
export async function announceGoal(c: PoolCtx, slug: string, text: string): R<{ goal: GoalRow; project: ProjectRow; rooms: number }> {
  const found = await findProject(c, slug);
  if (!found.ok) return found;
  const denied = await requireCoordinator(c, found.value, false);
  if (denied) return err(denied);
  const row = {
    poolId: c.pool.row.id,
    projectId: found.value.id,
    text,
    status: "open" as const,
    createdAt: c.now,
    createdBy: c.member.id,
    doneAt: null,
    doneBy: null,
  };
  const id = await c.tx.insertGoal(row);
  const rooms = await c.tx.rooms(c.pool.row.id);
  const body: GoalAnnouncement = { goal: id, project: found.value.slug, projectName: found.value.name, text, by: c.member.handle };
  const heard = await announce(
    c,
    rooms.map((r) => r.id),
    { kind: "goal", body },
  );
  return ok({ goal: { id, ...row }, project: found.value, rooms: heard.length });
}

export async function listGoals(c: PoolCtx, slug: string | undefined, status: "open" | "done" | "all"): R<{ goals: Array<GoalRow & { project: string }> }> {
  let projectId: ProjectId | undefined;
  if (slug !== undefined) {
    const found = await findProject(c, slug);
    if (!found.ok) return found;
    projectId = found.value.id;
  }
  const rows = await c.tx.goals(c.pool.row.id, { projectId, status: status === "all" ? undefined : status });
  const slugs = new Map((await c.tx.projects(c.pool.row.id)).map((x) => [x.id, x.slug]));
  return ok({ goals: rows.map((g) => ({ ...g, project: slugs.get(g.projectId) ?? "?" })) });
}

/** Marks a goal reached (a coordinator of its project) and tells every room. */
export async function finishGoal(c: PoolCtx, id: GoalId): R<{ goal: GoalRow; project: ProjectRow }> {
  const goal = await c.tx.goal(id);
  if (!goal || goal.poolId !== c.pool.row.id) return err({ kind: "not_found", what: "goal", ref: `#${id}` });
  const project = await c.tx.project(goal.projectId);
  if (!project) throw new Error(`goal ${id} has no project`);
  const denied = await requireCoordinator(c, project, false);
  if (denied) return err(denied);
  if (goal.status === "done") return err({ kind: "goal_done", id });
  await c.tx.finishGoal(id, c.now, c.member.id);
  const rooms = await c.tx.rooms(c.pool.row.id);
  const body: GoalAnnouncement = { goal: id, project: project.slug, projectName: project.name, text: goal.text, by: c.member.handle, done: true };
  await announce(
    c,
    rooms.map((r) => r.id),
    { kind: "goal", body },
  );
  return ok({ goal: { ...goal, status: "done", doneAt: c.now, doneBy: c.member.id }, project });
}
