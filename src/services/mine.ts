// `me`: what is mine in this pool, in one view: claims and their deadlines, reported work waiting
// for verification, waiting requests for goods, loans (overdue marked), subscriptions, balance.
import type { DomainError } from "../errors.ts";
import { ok, type Result } from "../result.ts";
import { myBalance, type BalanceView } from "./ledger.ts";
import type { PoolCtx } from "./context.ts";
import { overdueLoans } from "./goods.ts";
import type { GoodId, ProjectId, TaskId } from "../core/ids.ts";

export interface MyClaim {
  readonly task: TaskId;
  readonly title: string;
  readonly project: string;
  /** When the claim runs out (the work must be reported by then). */
  readonly expiresAt: number;
  /** The task's own due date, if it has one. */
  readonly dueAt: number | null;
}

export interface MyReport {
  readonly task: TaskId;
  readonly title: string;
  readonly project: string;
  readonly reportedAt: number;
  /** Hours reported, milli-hours (null: the estimate). */
  readonly hours: number;
}

export interface MyRequest {
  readonly request: number;
  readonly good: string;
  /** Units still wanted. */
  readonly qty: number;
  /** Preference weight, thousandths. */
  readonly weight: number;
  readonly createdAt: number;
}

export interface MyLoan {
  readonly loan: number;
  readonly good: string;
  readonly borrowedAt: number;
  readonly dueAt: number;
  readonly overdue: boolean;
  /** What its days of use cost if it came back now (overdue loans only). */
  readonly charged: number | null;
}

export interface MySubscription {
  readonly good: string;
  readonly since: number;
}

export interface MyStatus {
  readonly claims: readonly MyClaim[];
  readonly reported: readonly MyReport[];
  readonly requests: readonly MyRequest[];
  readonly loans: readonly MyLoan[];
  readonly subscriptions: readonly MySubscription[];
  readonly balance: BalanceView;
}

export async function myStatus(c: PoolCtx): Promise<Result<MyStatus, DomainError>> {
  const poolId = c.pool.row.id;
  const balance = await myBalance(c);
  if (!balance.ok) return balance;

  const projects = new Map<ProjectId, string>();
  const projectSlug = async (id: ProjectId) => {
    if (!projects.has(id)) projects.set(id, (await c.tx.project(id))?.slug ?? "?");
    return projects.get(id)!;
  };
  const claims: MyClaim[] = [];
  const reported: MyReport[] = [];
  for (const cl of await c.tx.claimsOfMember(c.member.id)) {
    if (cl.status !== "active" && cl.status !== "reported") continue;
    const task = await c.tx.task(cl.taskId);
    if (!task || task.poolId !== poolId || task.cancelledAt !== null) continue;
    const project = await projectSlug(task.projectId);
    if (cl.status === "active") claims.push({ task: task.id, title: task.title, project, expiresAt: cl.expiresAt, dueAt: task.dueAt });
    else reported.push({ task: task.id, title: task.title, project, reportedAt: cl.reportedAt ?? cl.claimedAt, hours: cl.reportedHours ?? task.estimate });
  }

  const goodName = new Map<GoodId, string>();
  const nameOf = async (id: GoodId) => {
    if (!goodName.has(id)) goodName.set(id, (await c.tx.good(id))?.name ?? "?");
    return goodName.get(id)!;
  };
  const requests: MyRequest[] = [];
  for (const r of await c.tx.pendingRequestsOfMember(poolId, c.member.id)) {
    requests.push({ request: r.id, good: await nameOf(r.goodId), qty: r.qty - r.filled, weight: r.weight, createdAt: r.createdAt });
  }

  const overdue = new Map((await overdueLoans(c, { memberId: c.member.id })).map((o) => [o.loan, o]));
  const loans: MyLoan[] = [];
  for (const l of await c.tx.openLoans(poolId, c.member.id)) {
    const o = overdue.get(l.id);
    loans.push({ loan: l.id, good: await nameOf(l.goodId), borrowedAt: l.borrowedAt, dueAt: l.dueAt, overdue: o !== undefined, charged: o?.charged ?? null });
  }

  const subscriptions: MySubscription[] = [];
  for (const g of await c.tx.goods(poolId, {})) {
    if (g.model !== "flat-rate") continue;
    const s = (await c.tx.subscriptions(g.id)).find((x) => x.memberId === c.member.id && (x.until === null || x.until > c.now));
    if (s) subscriptions.push({ good: g.name, since: s.since });
  }

  return ok({ claims, reported, requests, loans, subscriptions, balance: balance.value });
}
