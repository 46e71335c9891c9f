// The figures behind a summary's chart: how the market weights of a project's kinds of work
// moved over the period, and how the supply of its goods compared with the demand for them.
// Read-only, from stored facts only; commands/chart.ts draws them.
import type { GoodModel, ProjectRow, Tx } from "../store.ts";

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

/** The chart's figures for a project over [from, to). */
export async function summaryChart(tx: Tx, project: ProjectRow, from: number, to: number, kindsInUse?: readonly number[]): Promise<SummaryChart> {
  return { kinds: await kindSeries(tx, project, from, to, kindsInUse), goods: await goodBalances(tx, project, from, to) };
}

/**
 * Kinds the project's tasks used in the period: tasks posted before its end that were neither
 * cancelled nor done (every slot verified) before its start. Sorted by name.
 */
async function kindSeries(tx: Tx, project: ProjectRow, from: number, to: number, kindsInUse?: readonly number[]): Promise<KindSeries[]> {
  // Decided in SQL over the tasks that can have been in use (unfinished, verified or cancelled
  // since `from`), not over the project's every task and claim (given when already read).
  const used = kindsInUse ?? (await tx.kindsInUse({ poolId: project.poolId, projectId: project.id }, from, to)).map((k) => k.kindId);
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
  // One query for every good of the project: the period's flows and those since its start.
  for (const f of await tx.goodFlows(project.poolId, project.id, from, to)) {
    const g = f.good;
    // Stock at `from`: today's stock with every recorded change since undone.
    const stockAtStart = g.model === "copyable" ? 0 : Math.max(0, g.stock - f.producedSince + f.allocatedSince + f.lentSince - f.backSince);
    out.push({
      good: g.name,
      unit: g.unit,
      model: g.model,
      stockAtStart,
      produced: f.produced,
      supply: g.model === "copyable" ? null : stockAtStart + f.produced,
      demand: f.requested + f.borrowed,
    });
  }
  return out;
}
