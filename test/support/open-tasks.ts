// A pool with many tasks, written fast: `projects` projects with a coordinator each, `kinds`
// kinds, then `open` tasks with an open slot, `claimed` ones with every slot taken and `done`
// finished ones (each with its verified claim), written in bulk (insertRows: on PostgreSQL one
// statement a table, not a round trip a row). Open tasks vary in everything the boards order by: posted weight, open
// time (so their weights have risen or reached the cap), slots taken, due dates (a few already
// past), cancelled ones among them. Deterministic from `seed`. Used by the tests of long lists
// and boards, and by test/bench/h5-lists.ts.
import { DAY_MS, HOUR_MS } from "../../src/core/time.ts";
import type { TestPool } from "./app.ts";
import { insertRows, sqlRows } from "./db-dump.ts";

export interface ManyTasks {
  readonly projects: readonly string[];
  readonly kinds: readonly string[];
  /** Ids of the tasks inserted with an open slot (overdue and cancelled ones included). */
  readonly openIds: readonly number[];
}

/** A small xorshift so that every run writes the same pool. */
function numbers(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/**
 * Fills the pool of `t` (it must have been created by `admin`: `pool create ...`) with the
 * tasks. Projects are p0, p1...; coordinators c0, c1...; kinds k0, k1...
 */
export async function manyTasks(
  t: TestPool,
  o: { open: number; claimed?: number; done?: number; projects?: number; kinds?: number; seed?: number },
): Promise<ManyTasks> {
  const nProjects = o.projects ?? 20;
  const nKinds = o.kinds ?? 12;
  const pick = numbers(o.seed ?? 7);
  const projects: string[] = [];
  for (let p = 0; p < nProjects; p++) {
    await t.ok(`c${p}`, `project create p${p} "Project ${p}"`);
    projects.push(`p${p}`);
  }
  // One task per kind through the command, so that each kind exists as the pool makes them.
  const kinds: string[] = [];
  for (let k = 0; k < nKinds; k++) {
    await t.ok(`c${k % nProjects}`, `task post p${k % nProjects} "First of k${k}" hours:1 kind:k${k}`);
    kinds.push(`k${k}`);
  }
  const now = t.clock.now().getTime();
  const openIds: number[] = [];
  // Rows written in bulk at the end (the store's insertTask writes one at a time, too slow for
  // 40,000 rows). Tasks get their ids here (the next ones after the pool's), for their claims.
  const taskRows: Array<Record<string, unknown>> = [];
  const claimRows: Array<Record<string, unknown>> = [];
  const [{ last }] = (await sqlRows<{ last: number | null }>(t.store, "SELECT max(id) AS last FROM tasks")) as [{ last: number | null }];
  const insertTask = (row: TaskFields) => {
    const id = (last ?? 0) + taskRows.length + 1;
    taskRows.push({
      id,
      pool_id: row.poolId,
      project_id: row.projectId,
      kind_id: row.kindId,
      title: row.title,
      estimate: row.estimate,
      slots: row.slots,
      posted_weight: row.postedWeight,
      posted_at: row.postedAt,
      posted_by: row.postedBy,
      due_at: row.dueAt,
      open_since: row.openSince,
      open_ms: row.openMs,
      cancelled_at: row.cancelledAt,
      cancelled_by: row.cancelledBy,
    });
    return id;
  };
  const insertClaim = (row: ClaimFields) =>
    claimRows.push({
      task_id: row.taskId,
      member_id: row.memberId,
      weight: row.weight,
      status: row.status,
      claimed_at: row.claimedAt,
      expires_at: row.expiresAt,
      reported_at: row.reportedAt,
      reported_hours: row.reportedHours,
      verified_at: row.verifiedAt,
      verified_by: row.verifiedBy,
      credited_hours: row.creditedHours,
      credited: row.credited,
    });
  await t.store.transaction(async (tx) => {
    const pool = (await tx.pools())[0]!;
    const projectRows = await tx.projects(pool.id);
    const kindRows = await tx.kinds(pool.id);
    const coordinators: number[] = [];
    for (let p = 0; p < nProjects; p++) coordinators.push((await tx.memberByHandle(`c${p}`))!.id);
    const weights = [1_000_000, 1_000_000, 1_000_000, 1_100_000, 1_250_000, 900_000, 1_500_000, 2_000_000, 750_000, 3_999_999];
    for (let i = 0; i < o.open; i++) {
      const p = pick(nProjects);
      const project = projectRows.find((r) => r.slug === `p${p}`)!;
      const kind = kindRows[pick(kindRows.length)]!;
      const age = pick(40 * 24) * HOUR_MS + pick(HOUR_MS);
      const slots = 1 + pick(3);
      const taken = pick(slots);
      const before = pick(5) === 0 ? pick(10 * 24) * HOUR_MS : 0;
      const due = pick(10) === 0 ? now + (pick(20) - 3) * DAY_MS : null;
      const cancelled = pick(50) === 0;
      const id = insertTask({
        poolId: pool.id,
        projectId: project.id,
        kindId: kind.id,
        title: `Open task ${i}`,
        estimate: 1000 + pick(8) * 500,
        slots,
        postedWeight: weights[pick(weights.length)]!,
        postedAt: now - age - before,
        postedBy: coordinators[p]!,
        dueAt: due !== null && due <= now - age ? now + DAY_MS : due,
        openSince: now - age,
        openMs: before,
        cancelledAt: cancelled ? now - pick(age + 1) : null,
        cancelledBy: cancelled ? coordinators[p]! : null,
      });
      openIds.push(id);
      for (let c = 0; c < taken; c++) {
        const member = coordinators[(p + 1 + c) % nProjects]!;
        insertClaim({ ...claimOf(id, member, now - pick(age + 1)), status: "active", expiresAt: now + 7 * DAY_MS });
      }
    }
    // Every slot taken: no open slot (openSince unset), the open time kept in openMs.
    for (let i = 0; i < (o.claimed ?? 0); i++) {
      const p = pick(nProjects);
      const project = projectRows.find((r) => r.slug === `p${p}`)!;
      const kind = kindRows[pick(kindRows.length)]!;
      const at = now - (1 + pick(20)) * DAY_MS;
      const slots = 1 + pick(2);
      const id = insertTask({
        poolId: pool.id,
        projectId: project.id,
        kindId: kind.id,
        title: `Claimed task ${i}`,
        estimate: 1000,
        slots,
        postedWeight: 1_000_000,
        postedAt: at,
        postedBy: coordinators[p]!,
        dueAt: pick(4) === 0 ? now - pick(3) * DAY_MS : null,
        openSince: null,
        openMs: pick(3 * 24) * HOUR_MS,
        cancelledAt: null,
        cancelledBy: null,
      });
      for (let c = 0; c < slots; c++) insertClaim({ ...claimOf(id, coordinators[(p + 1 + c) % nProjects]!, at + HOUR_MS), expiresAt: now + 7 * DAY_MS });
    }
    for (let i = 0; i < (o.done ?? 0); i++) {
      const p = pick(nProjects);
      const project = projectRows.find((r) => r.slug === `p${p}`)!;
      const kind = kindRows[pick(kindRows.length)]!;
      const at = now - (1 + pick(300)) * DAY_MS;
      const id = insertTask({
        poolId: pool.id,
        projectId: project.id,
        kindId: kind.id,
        title: `Done task ${i}`,
        estimate: 1000,
        slots: 1,
        postedWeight: 1_000_000,
        postedAt: at,
        postedBy: coordinators[p]!,
        dueAt: null,
        openSince: null,
        openMs: HOUR_MS,
        cancelledAt: null,
        cancelledBy: null,
      });
      const member = coordinators[(p + 1) % nProjects]!;
      insertClaim({
        ...claimOf(id, member, at + HOUR_MS),
        status: "verified",
        reportedAt: at + 2 * HOUR_MS,
        reportedHours: 1000,
        verifiedAt: at + 3 * HOUR_MS,
        verifiedBy: coordinators[p]!,
        creditedHours: 1000,
        credited: 1000,
      });
    }
  });
  await insertRows(t.store, "tasks", taskRows);
  await insertRows(t.store, "claims", claimRows);
  return { projects, kinds, openIds };
}

interface TaskFields {
  poolId: number;
  projectId: number;
  kindId: number;
  title: string;
  estimate: number;
  slots: number;
  postedWeight: number;
  postedAt: number;
  postedBy: number;
  dueAt: number | null;
  openSince: number | null;
  openMs: number;
  cancelledAt: number | null;
  cancelledBy: number | null;
}

interface ClaimFields {
  taskId: number;
  memberId: number;
  weight: number;
  status: string;
  claimedAt: number;
  expiresAt: number;
  reportedAt: number | null;
  reportedHours: number | null;
  verifiedAt: number | null;
  verifiedBy: number | null;
  creditedHours: number | null;
  credited: number | null;
}

function claimOf(taskId: number, memberId: number, at: number) {
  return {
    taskId,
    memberId,
    weight: 1_000_000,
    status: "active" as const,
    claimedAt: at,
    expiresAt: at + 7 * DAY_MS,
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
}
