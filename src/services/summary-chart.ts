// The figures behind a summary's chart: how the market weights of a project's kinds of work
// moved over the period, and how the supply of its goods compared with the demand for them.
// Read-only, from stored facts only; commands/chart.ts draws them.
import { taskState } from "../core/tasks.ts";
import type { GoodModel, GoodRow, ProjectRow, Tx } from "../store.ts";

/** A kind's market weight (millionths) from `at` on, until the next point. */
export interface WeightPoint {
  readonly at: number;
  readonly weight: number;
}

/**
 * A kind's weight as a step series over the period: its value at the period's start (or when
 * the kind was made, if later), each change within the period, and its value at the end.
 */
export interface KindSeries {
  readonly kind: string;
  readonly points: readonly WeightPoint[];
}

/**
 * Supply and demand of one good over the period, in its units.
 *
 * - `stockAtStart`: units in stock at the period's start, worked back from today's stock and
 *   every recorded change since: productions added, allocations and loans taken out, loans
 *   brought back. (Every change of stock is recorded, so this is exact, not an estimate.)
 * - `produced`: units produced in the period (`good produce`, or a new good's first stock).
 * - `supply`: `stockAtStart + produced`, what could have been handed out in the period;
 *   `null` for copyable goods, whose supply has no limit.
 * - `demand`: units asked for in the period: requests made in it (whether they were filled,
 *   still wait or were cancelled since), plus one unit per loan of a durable good begun in it.
 *   A flat-rate good's subscriptions are access, not units, so they are not counted.
 */
export interface GoodBalance {
  readonly good: string;
  readonly unit: string;
  readonly model: GoodModel;
  readonly stockAtStart: number;
  readonly produced: number;
  readonly supply: number | null;
  readonly demand: number;
}

export interface SummaryChart {
  readonly kinds: readonly KindSeries[];
  readonly goods: readonly GoodBalance[];
}

/** The end of time, for queries "from then on". */
const EVER = Number.MAX_SAFE_INTEGER;

/** The chart's figures for a project over [from, to). */
export async function summaryChart(tx: Tx, project: ProjectRow, from: number, to: number): Promise<SummaryChart> {
  return { kinds: await kindSeries(tx, project, from, to), goods: await goodBalances(tx, project, from, to) };
}

/**
 * Kinds the project's tasks used in the period: tasks posted before its end that were neither
 * cancelled nor done (every slot verified) before its start. Sorted by name.
 */
async function kindSeries(tx: Tx, project: ProjectRow, from: number, to: number): Promise<KindSeries[]> {
  const tasks = (await tx.tasks(project.poolId, { projectId: project.id })).filter((t) => t.postedAt < to && (t.cancelledAt === null || t.cancelledAt >= from));
  const claims = await tx.claimsOfTasks(tasks.map((t) => t.id));
  const used = new Set<number>();
  for (const t of tasks) {
    const mine = claims.filter((c) => c.taskId === t.id);
    // Done before the period: the verification that filled the last slot came before `from`.
    const verified = mine.flatMap((c) => (c.status === "verified" && c.verifiedAt !== null ? [c.verifiedAt] : [])).sort((a, b) => a - b);
    const doneAt = taskState(t, mine) === "done" ? verified[t.slots - 1] : undefined;
    if (doneAt === undefined || doneAt >= from) used.add(t.kindId);
  }
  const out: KindSeries[] = [];
  for (const id of used) {
    const kind = await tx.kindById(id);
    if (!kind) continue;
    const changes = await tx.kindChanges(id, from);
    const first = changes[0];
    // Before the first change since `from` the weight was that change's `before`; a change with
    // no `before` made the kind, which then did not exist at `from`. No change since: the
    // weight now is the weight the whole period had.
    const points: WeightPoint[] = [];
    if (!first) points.push({ at: from, weight: kind.weight });
    else if (first.before !== null) points.push({ at: from, weight: first.before });
    for (const c of changes) {
      if (c.at >= to) break;
      points.push({ at: Math.max(from, c.at), weight: c.after });
    }
    const last = points.at(-1);
    if (!last) continue; // made after the period: not part of it
    points.push({ at: to, weight: last.weight });
    out.push({ kind: kind.name, points });
  }
  return out.sort((a, b) => a.kind.localeCompare(b.kind));
}

async function goodBalances(tx: Tx, project: ProjectRow, from: number, to: number): Promise<GoodBalance[]> {
  const out: GoodBalance[] = [];
  for (const g of await tx.goods(project.poolId, { projectId: project.id })) {
    const loans = await tx.loansOf(g.id);
    const produced = sum((await tx.productions(g.id, from, to)).map((p) => p.qty));
    const requested = sum((await tx.goodRequestsMade(g.id, from, to)).map((r) => r.qty));
    const borrowed = loans.filter((l) => l.borrowedAt >= from && l.borrowedAt < to).length;
    const stockAtStart = g.model === "copyable" ? 0 : await stockAt(tx, g, from);
    out.push({ good: g.name, unit: g.unit, model: g.model, stockAtStart, produced, supply: g.model === "copyable" ? null : stockAtStart + produced, demand: requested + borrowed });
  }
  return out;
}

/** Stock at `at`: today's stock with every recorded change since `at` undone. */
async function stockAt(tx: Tx, g: GoodRow, at: number): Promise<number> {
  const producedSince = sum((await tx.productions(g.id, at, EVER)).map((p) => p.qty));
  const allocatedSince = sum((await tx.allocationsOf(g.id, at)).map((a) => a.qty));
  const loans = await tx.loansOf(g.id);
  const lentSince = loans.filter((l) => l.borrowedAt >= at).length;
  const backSince = loans.filter((l) => l.returnedAt !== null && l.returnedAt >= at).length;
  return Math.max(0, g.stock - producedSince + allocatedSince + lentSince - backSince);
}

const sum = (xs: readonly number[]) => xs.reduce((a, x) => a + x, 0);
