// A project's summary for its coordinators: what is open and how its weights moved, what is past
// its due date, who is working on what, what waits for verification, who contributed, how its
// goods went, how close its deficit is to the cap, and patterns worth a human look. Read-only:
// it decides nothing, it shows stored facts.
import { isOverdue, openMsBy, slotsTaken, taskState } from "../core/tasks.ts";
import { openMsAt, taskWeight, weightRules } from "../core/weights.ts";
import type { DomainError } from "../errors.ts";
import { err, ok, type Result } from "../result.ts";
import type { ClaimRow, GoalRow, ProjectRow, TaskDueChangeRow, TaskRow } from "../store.ts";
import { lastSlot, parseCron, slotsBetween } from "../core/cron.ts";
import { readPolicy } from "../core/policy.ts";
import { DAY_MS, MINUTE_MS } from "../core/time.ts";
import type { Tx } from "../store.ts";
import { findProject, type PoolCtx } from "./context.ts";
import { effortOf, overdueLoans, sectorLines, type OverdueView, type SectorLine } from "./goods.ts";
import { commonsFacts, commonsShare, type CommonsFacts, type CommonsShare } from "./projects.ts";
import { announceTo, noteRow } from "./announce.ts";
import { summaryChart, type SummaryChart } from "./summary-chart.ts";
import type { MemberId, PoolId, ProjectId, TaskId } from "../core/ids.ts";

type R<T> = Promise<Result<T, DomainError>>;

/** Claims at or above this share over the posted weight count as taking an escalated task. */
const ESCALATED = 1.2;

export interface TaskLine {
  readonly id: TaskId;
  readonly title: string;
  readonly kind: string;
  readonly weight: number;
  /** The weight at the start of the period (or when posted, if later). */
  readonly weightBefore: number;
  readonly openMs: number;
}

export interface ProjectSummary {
  readonly project: ProjectRow;
  readonly from: number;
  readonly to: number;
  readonly open: readonly TaskLine[];
  readonly fastestRising: TaskLine | null;
  readonly stalest: TaskLine | null;
  /** Open or claimed tasks past their due date: they take no claims until given a new date or cancelled. */
  readonly overdue: ReadonlyArray<{ id: TaskId; title: string; dueAt: number; taken: number; slots: number }>;
  /** Claims being worked on (not reported yet), with their report deadlines. */
  readonly inProgress: ReadonlyArray<{ task: number; title: string; member: string; since: number; until: number }>;
  readonly waiting: ReadonlyArray<{ task: number; title: string; member: string; hours: number }>;
  readonly contributions: { readonly total: number; readonly members: ReadonlyArray<{ member: string; credited: number }> };
  readonly goods: ReadonlyArray<{
    name: string;
    stock: number;
    demand: number;
    effort: number;
    rounds: ReadonlyArray<{ closedAt: number; clearing: number | null; allocated: number }>;
  }>;
  /** Loans of the project's goods past their due date and still out at the end of the period. */
  readonly overdueLoans?: readonly OverdueView[] | undefined;
  readonly balance: number;
  readonly deficit: number;
  readonly deficitCap: number;
  /** What the pool's commons carries of the project's work (summaries sent before it was kept have none). */
  readonly commons?: CommonsShare | undefined;
  readonly goals: readonly GoalRow[];
  readonly warnings: readonly string[];
  /** The figures of the summary's chart: kinds' weights over the period, goods' supply and demand. */
  readonly chart: SummaryChart;
}

/** The summary of one project over [from, to). */
export async function projectSummary(c: PoolCtx, slug: string, from: number, to: number): R<ProjectSummary> {
  const found = await findProject(c, slug);
  if (!found.ok) return found;
  return ok(await summarize(c, found.value, from, to));
}

/** What a summary needs of the pool: its transaction, row and policy (no caller, no room). */
type PoolView = Pick<PoolCtx, "tx" | "pool">;

/** What a summary reads of a project's tasks: its unfinished tasks (with their claims and due date changes), and its kinds in use. */
interface ProjectFacts {
  readonly tasks: TaskRow[];
  readonly claims: ClaimRow[];
  readonly dueChanges: TaskDueChangeRow[];
  readonly kinds: number[];
  /** The pool's commons facts, when read once for every project (otherwise each summary reads them). */
  readonly commons?: CommonsFacts;
}

/** The facts of every project of the pool at once (a whole pool's summaries: one query each, not one per project). */
async function poolFacts(tx: Tx, poolId: PoolId, from: number, to: number): Promise<(projectId: ProjectId) => ProjectFacts> {
  const { tasks, claims, dueChanges } = await tx.unfinishedTasks({ poolId });
  const kinds = await tx.kindsInUse({ poolId }, from, to);
  const commons = await commonsFacts(tx, poolId);
  const of = new Map<ProjectId, ProjectFacts>();
  const get = (projectId: ProjectId) => {
    let f = of.get(projectId);
    if (!f) of.set(projectId, (f = { tasks: [], claims: [], dueChanges: [], kinds: [], commons }));
    return f;
  };
  const projectOf = new Map<TaskId, ProjectId>();
  for (const t of tasks) {
    projectOf.set(t.id, t.projectId);
    get(t.projectId).tasks.push(t);
  }
  for (const cl of claims) get(projectOf.get(cl.taskId)!).claims.push(cl);
  for (const d of dueChanges) get(projectOf.get(d.taskId)!).dueChanges.push(d);
  for (const k of kinds) get(k.projectId).kinds.push(k.kindId);
  return get;
}

async function projectFacts(tx: Tx, project: ProjectRow, from: number, to: number): Promise<ProjectFacts> {
  const scope = { poolId: project.poolId, projectId: project.id };
  return { ...(await tx.unfinishedTasks(scope)), kinds: (await tx.kindsInUse(scope, from, to)).map((k) => k.kindId) };
}

async function summarize(c: PoolView, project: ProjectRow, from: number, to: number, facts?: ProjectFacts): Promise<ProjectSummary> {
  const { tx } = c;
  const rules = weightRules(c.pool.policy);
  const names = new Map<MemberId, string>();
  const handle = async (id: MemberId) => {
    if (!names.has(id)) names.set(id, (await tx.member(id))?.handle ?? String(id));
    return names.get(id)!;
  };
  // Only what the summary shows is read: the unfinished tasks with their claims, and the
  // period's verified and escalated claims summed in SQL; never the project's whole history.
  const f = facts ?? (await projectFacts(tx, project, from, to));
  const { tasks, claims, dueChanges } = f;
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const byTask = new Map<TaskId, ClaimRow[]>();
  for (const cl of claims) {
    const list = byTask.get(cl.taskId);
    if (list) list.push(cl);
    else byTask.set(cl.taskId, [cl]);
  }
  const claimsOf = (t: TaskRow) => byTask.get(t.id) ?? [];
  const dueOf = new Map<TaskId, TaskDueChangeRow[]>();
  for (const d of dueChanges) dueOf.set(d.taskId, [...(dueOf.get(d.taskId) ?? []), d]);
  const kinds = new Map((await tx.kinds(c.pool.row.id)).map((k) => [k.id, k.name]));

  const open: TaskLine[] = [];
  const overdue = [];
  for (const t of tasks) {
    const state = taskState(t, claimsOf(t));
    if ((state === "open" || state === "claimed") && isOverdue(t, to)) {
      overdue.push({ id: t.id, title: t.title, dueAt: t.dueAt!, taken: slotsTaken(claimsOf(t)), slots: t.slots });
      continue;
    }
    if (state !== "open") continue;
    const openNow = openMsAt(t, to);
    // Open time at the start of the period, from the claims that held its slots since (and the due dates it had).
    const openThen = Math.min(openNow, openMsBy(t, claimsOf(t), from, dueOf.get(t.id) ?? []));
    open.push({
      id: t.id,
      title: t.title,
      kind: kinds.get(t.kindId) ?? "?",
      weight: taskWeight(t.postedWeight, openNow, rules),
      weightBefore: taskWeight(t.postedWeight, openThen, rules),
      openMs: openNow,
    });
  }
  open.sort((a, b) => b.openMs - a.openMs || a.id - b.id);
  const rising = [...open].sort((a, b) => b.weight / b.weightBefore - a.weight / a.weightBefore || a.id - b.id)[0] ?? null;

  const inProgress = [];
  // Claims that ran out by the end of the period are released (when next touched): not in progress.
  for (const cl of claims.filter((x) => x.status === "active" && x.expiresAt > to)) {
    const t = byId.get(cl.taskId)!;
    inProgress.push({ task: t.id, title: t.title, member: await handle(cl.memberId), since: cl.claimedAt, until: cl.expiresAt });
  }

  const waiting = [];
  for (const cl of claims.filter((x) => x.status === "reported")) {
    const t = byId.get(cl.taskId)!;
    waiting.push({ task: t.id, title: t.title, member: await handle(cl.memberId), hours: cl.reportedHours ?? 0 });
  }

  // The period's verified claims per member and verifier, in the order of each pair's first claim.
  const verified = await tx.verifiedIn(project.id, from, to);
  const perMember = new Map<MemberId, number>();
  for (const v of verified) perMember.set(v.memberId, (perMember.get(v.memberId) ?? 0) + v.credited);
  const members = [];
  for (const [id, credited] of [...perMember].sort((a, b) => b[1] - a[1])) members.push({ member: await handle(id), credited });

  const goods = [];
  for (const g of await tx.goods(c.pool.row.id, { projectId: project.id })) {
    const pending = await tx.pendingTotals(g.id);
    const rounds = (await tx.roundsClosed(g.id, from, to)).map((r) => ({ closedAt: r.closedAt ?? 0, clearing: r.clearingWeight, allocated: r.allocated ?? 0 }));
    goods.push({ name: g.name, stock: g.stock, demand: pending.units, effort: (await effortOf(tx, g, c.pool.policy)).effort, rounds });
  }

  const balance = (await tx.account(c.pool.row.id, "project", project.id))?.balance ?? 0;
  const warnings = await patterns(tx, project, verified, from, to, handle);
  return {
    project,
    from,
    to,
    open,
    fastestRising: rising && rising.weight > rising.weightBefore ? rising : null,
    stalest: open[0] ?? null,
    overdue,
    inProgress,
    waiting,
    contributions: { total: verified.reduce((a, v) => a + v.credited, 0), members },
    goods,
    overdueLoans: await overdueLoans({ tx, pool: c.pool, now: to }, { projectId: project.id }),
    balance,
    deficit: Math.max(0, -balance),
    deficitCap: c.pool.policy.deficitCap,
    commons: await commonsShare(tx, c.pool.row.id, project.id, f.commons),
    goals: await tx.goals(c.pool.row.id, { projectId: project.id, status: "open" }),
    warnings,
    chart: await summaryChart(tx, project, from, to, f.kinds),
  };
}

/**
 * The scheduled coordinator summaries of every pool whose `summarySchedule` (in its time zone)
 * has a slot at `slot`: each project's summary since the schedule's previous slot goes to the
 * project's rooms and, as a note, to each coordinator.
 */
export async function sendSummaries(tx: Tx, slot: number, windowMs: number): Promise<number> {
  let sent = 0;
  for (const pool of await tx.pools()) {
    const policy = readPolicy(pool.policy);
    const cron = parseCron(policy.summarySchedule);
    // The summary slot that fell in this job slot's window (the job runs every few minutes).
    const due = cron ? slotsBetween(cron, slot - windowMs, slot, policy.timezone).at(-1) : undefined;
    if (!cron || due === undefined) continue;
    const from = lastSlot(cron, due - MINUTE_MS, policy.timezone, 40 * DAY_MS) ?? due - 7 * DAY_MS;
    const rooms = await tx.rooms(pool.id);
    const view = { tx, pool: { row: pool, policy, role: "member" as const } };
    const digests: ProjectDigest[] = [];
    const facts = await poolFacts(tx, pool.id, from, due);
    for (const project of await tx.projects(pool.id)) {
      const s = await summarize(view, project, from, due, facts(project.id));
      await announceTo(
        tx,
        pool.id,
        rooms.filter((x) => x.projectId === project.id).map((r) => r.id),
        { kind: "summary", body: s },
        due,
      );
      for (const co of await tx.coordinators(project.id))
        await tx.insertNote(noteRow({ poolId: pool.id, memberId: co.memberId, createdAt: due }, { kind: "summary", body: s }));
      digests.push(digest(s));
      sent++;
    }
    const lobby: PoolDigest = { pool: pool.name, from, to: due, projects: digests, sectors: await sectorLines(view, undefined) };
    await announceTo(
      tx,
      pool.id,
      rooms.filter((r) => r.isLobby).map((r) => r.id),
      { kind: "pool-summary", body: lobby },
      due,
    );
  }
  return sent;
}

/** One project's line in the pool's summary. */
export interface ProjectDigest {
  readonly slug: string;
  readonly name: string;
  readonly open: number;
  readonly heaviest: { readonly id: TaskId; readonly title: string; readonly weight: number } | null;
  readonly waiting: number;
  /** Tasks past their due date (absent in digests sent before it was kept). */
  readonly overdue?: number | undefined;
  readonly contributed: number;
  readonly contributors: number;
  readonly deficit: number;
  readonly deficitCap: number;
  readonly goals: number;
  readonly warnings: number;
}

/** The pool's summary for its lobby: every project in a line, and the sector report. */
export interface PoolDigest {
  readonly pool: string;
  readonly from: number;
  readonly to: number;
  readonly projects: readonly ProjectDigest[];
  readonly sectors: readonly SectorLine[];
}

function digest(s: ProjectSummary): ProjectDigest {
  const heaviest = [...s.open].sort((a, b) => b.weight - a.weight || a.id - b.id)[0];
  return {
    slug: s.project.slug,
    name: s.project.name,
    open: s.open.length,
    heaviest: heaviest ? { id: heaviest.id, title: heaviest.title, weight: heaviest.weight } : null,
    waiting: s.waiting.length,
    overdue: s.overdue.length,
    contributed: s.contributions.total,
    contributors: s.contributions.members.length,
    deficit: s.deficit,
    deficitCap: s.deficitCap,
    goals: s.goals.length,
    warnings: s.warnings.length,
  };
}

/**
 * The Twin Oaks lesson, made visible: one member taking escalated tasks again and again (who
 * may be waiting for weights to rise), and pairs of members who verify each other's work.
 */
async function patterns(
  tx: Tx,
  project: ProjectRow,
  verified: ReadonlyArray<{ memberId: MemberId; verifiedBy: number | null; claims: number }>,
  from: number,
  to: number,
  handle: (id: MemberId) => Promise<string>,
): Promise<string[]> {
  const out: string[] = [];
  for (const e of await tx.escalatedIn(project.id, from, to, ESCALATED))
    if (e.claims >= 3) out.push(`@${await handle(e.memberId)} took ${e.claims} tasks only after their weight had risen`);
  const pairs = new Map<string, number>();
  for (const v of verified) if (v.verifiedBy !== null) pairs.set(`${v.verifiedBy}>${v.memberId}`, v.claims);
  for (const [key, n] of pairs) {
    const [a, b] = key.split(">").map(Number) as [number, number];
    if (a < b && n >= 2 && (pairs.get(`${b}>${a}`) ?? 0) >= 2)
      out.push(`@${await handle(a)} and @${await handle(b)} verified each other's work ${n + (pairs.get(`${b}>${a}`) ?? 0)} times`);
  }
  return out;
}

/** Summaries of one project or all; for all, the sector report too (as the lobby gets it). */
export async function poolSummary(c: PoolCtx, slug: string | undefined, days: number): R<{ projects: ProjectSummary[]; sectors: SectorLine[] }> {
  const to = c.now;
  const from = to - days * DAY_MS;
  if (slug !== undefined) {
    const r = await projectSummary(c, slug, from, to);
    return r.ok ? ok({ projects: [r.value], sectors: [] }) : err(r.error);
  }
  // Every project: the pool's unfinished tasks and kinds in use read once, not once per project.
  const facts = await poolFacts(c.tx, c.pool.row.id, from, to);
  const projects: ProjectSummary[] = [];
  for (const project of await c.tx.projects(c.pool.row.id)) projects.push(await summarize(c, project, from, to, facts(project.id)));
  return ok({ projects, sectors: await sectorLines(c, undefined) });
}
