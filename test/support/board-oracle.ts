// The task board of a room worked out from scratch, the slow and obvious way: every task of the
// pool with an open slot (Tx.openTasks: its claims counted), minus the cancelled and those past
// their due date, each weighed at `now`, sorted heaviest, then longest open, then lowest number.
// Tests compare the boards the bot keeps (rebuilt lazily, from the top of two indexes) with it.
import { readPolicy } from "../../src/core/policy.ts";
import { openMsAt, taskWeight, weightRules } from "../../src/core/weights.ts";
import { BOARD_SIZE, type TaskBoard } from "../../src/services/rooms.ts";
import type { Store } from "../../src/store.ts";
import { sqlRows } from "./db-dump.ts";

export async function boardFromScratch(store: Store, poolId: number, projectId: number | null, now: number): Promise<TaskBoard> {
  return store.transaction(async (tx) => {
    const pool = (await tx.pool(poolId))!;
    const rules = weightRules(readPolicy(pool.policy));
    const at = Math.max(now, pool.clock ?? 0);
    const projects = new Map((await tx.projects(poolId)).map((p) => [p.id, p.slug]));
    const kinds = new Map((await tx.kinds(poolId)).map((k) => [k.id, k.name]));
    const open = (await tx.openTasks(poolId))
      .filter((t) => (projectId === null || t.projectId === projectId) && (t.dueAt === null || t.dueAt > at))
      .map((t) => ({ t, openMs: openMsAt(t, at), weight: taskWeight(t.postedWeight, openMsAt(t, at), rules) }))
      .sort((a, b) => b.weight - a.weight || b.openMs - a.openMs || a.t.id - b.t.id);
    return {
      pool: pool.name,
      project: projectId === null ? null : projects.get(projectId)!,
      tasks: open.slice(0, BOARD_SIZE).map(({ t, weight }) => ({
        id: t.id,
        title: t.title,
        project: projects.get(t.projectId)!,
        kind: kinds.get(t.kindId)!,
        weight,
        estimate: t.estimate,
        taken: t.taken,
        slots: t.slots,
      })),
      open: open.length,
    };
  });
}

/** What the bot keeps as each room's board now (rooms by external id), from its boards table. */
export async function storedBoards(store: Store): Promise<Map<string, { projectId: number | null; board: TaskBoard }>> {
  const rows = await sqlRows<{ room: string; projectId: number | null; body: string }>(
    store,
    'SELECT r.external_id AS room, r.project_id AS "projectId", b.body FROM boards b JOIN rooms r ON r.id = b.room_id ORDER BY r.id',
  );
  return new Map(rows.map((r) => [r.room, { projectId: r.projectId, board: JSON.parse(r.body) as TaskBoard }]));
}
