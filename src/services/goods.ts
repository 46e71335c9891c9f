// Goods: allocated at their production effort; auctioned at a higher cost when scarce, while
// the producers are still credited only their effort (the surplus goes to the commons). Four
// models: per unit, flat rate (split among subscribers), copyable (free; the commons carries the
// effort), durable (borrowed, charged per day of use).
import { roundOutcome, type RoundOutcome } from "../core/auction.ts";
import { withinCreditLimit } from "../core/ledger.ts";
import { DAY_MS, HOUR_MS } from "../core/time.ts";
import { WEIGHT_ONE } from "../core/weights.ts";
import { readPolicy, type Policy } from "../core/policy.ts";
import type { DomainError } from "../errors.ts";
import { err, ok, type Result } from "../result.ts";
import type { AllocationRow, GoodModel, GoodRequestRow, GoodRow, LoanRow, NoteRow, ProjectRow, RoundRow, Tx } from "../store.ts";
import { ensureAccount, findProject, requireAdmin, requireCoordinator, type PoolCtx } from "./context.ts";
import { announceTo, projectRooms } from "./rooms.ts";
import { postEntries, postEntry, type Posting } from "./ledger.ts";

type R<T> = Promise<Result<T, DomainError>>;

export interface Effort {
  /** What a unit costs at weight 1.00 now: the measured effort once enough units exist, else the declared one. */
  readonly effort: number;
  readonly declared: number;
  readonly measured: number | null;
  readonly measuredUnits: number;
  readonly usesMeasured: boolean;
}

export async function effortOf(tx: Tx, good: GoodRow, policy: Policy): Promise<Effort> {
  const m = await tx.measuredEffort(good.id);
  const measured = m.units > 0 ? Math.round(m.effort / m.units) : null;
  const usesMeasured = measured !== null && measured > 0 && m.units >= policy.measuredEffortMinUnits;
  return { effort: usesMeasured ? measured : good.declaredEffort, declared: good.declaredEffort, measured, measuredUnits: m.units, usesMeasured };
}

export interface GoodView {
  readonly good: GoodRow;
  readonly project: string;
  readonly effort: Effort;
  /** Units waiting in requests. */
  readonly demand: number;
  readonly round: RoundRow | null;
  readonly waiting: number;
  readonly lastClearing: number | null;
  readonly subscribers: number;
  readonly onLoan: number;
}

export async function viewGood(tx: Tx, good: GoodRow, policy: Policy): Promise<GoodView> {
  const pending = await tx.pendingTotals(good.id);
  const project = await tx.project(good.projectId);
  const last = await tx.lastClosedRound(good.id);
  const subs = (await tx.subscriptions(good.id)).filter((s) => s.until === null);
  const loans = (await tx.loansOf(good.id)).filter((l) => l.returnedAt === null);
  return {
    good,
    project: project?.slug ?? "?",
    effort: await effortOf(tx, good, policy),
    demand: pending.units,
    round: (await tx.openRound(good.id)) ?? null,
    waiting: pending.requests,
    lastClearing: last?.clearingWeight ?? null,
    subscribers: subs.length,
    onLoan: loans.length,
  };
}

async function findGood(c: PoolCtx, name: string): Promise<Result<GoodRow, DomainError>> {
  const g = await c.tx.goodByName(c.pool.row.id, name.toLowerCase());
  return g ? ok(g) : err({ kind: "not_found", what: "good", ref: name });
}

async function projectOfGood(tx: Tx, good: GoodRow): Promise<ProjectRow> {
  const p = await tx.project(good.projectId);
  if (!p) throw new Error(`good ${good.id} has no project`);
  return p;
}

const needModel = (good: GoodRow, need: Exclude<GoodModel, "copyable">): DomainError => ({ kind: "good_model", good: good.name, model: good.model, need });

export interface AddGood {
  readonly project: string;
  readonly name: string;
  readonly effort: number;
  readonly unit: string;
  readonly model: GoodModel;
  readonly sector: string | undefined;
  readonly stock: number;
}

/** A project offers a good to the pool, with its declared production effort per unit. */
export async function addGood(c: PoolCtx, a: AddGood): R<GoodView> {
  const found = await findProject(c, a.project);
  if (!found.ok) return found;
  const denied = await requireCoordinator(c, found.value, false);
  if (denied) return err(denied);
  if (await c.tx.goodByName(c.pool.row.id, a.name)) return err({ kind: "good_exists", name: a.name });
  const stock = a.model === "copyable" ? 0 : a.stock;
  const row = { poolId: c.pool.row.id, projectId: found.value.id, name: a.name, unit: a.unit, model: a.model, sector: a.sector ?? null, declaredEffort: a.effort, stock, createdAt: c.now, createdBy: c.member.id };
  const id = await c.tx.insertGood(row);
  if (stock > 0) await c.tx.insertProduction({ goodId: id, qty: stock, effort: a.effort, at: c.now, by: c.member.id });
  return ok(await viewGood(c.tx, { id, ...row }, c.pool.policy));
}

export interface RoundClosed {
  readonly round: number;
  readonly good: string;
  readonly outcome: RoundOutcome;
  readonly effort: number;
  readonly allocations: ReadonlyArray<{ member: string; qty: number; cost: number }>;
  readonly skipped: ReadonlyArray<{ member: string; qty: number }>;
  readonly queued: number;
}

/** Adds stock. Units made while more are waiting than produced go to the open round. */
export async function produceGood(c: PoolCtx, name: string, qty: number): R<{ good: GoodView; allocated: RoundClosed | null }> {
  const g = await findGood(c, name);
  if (!g.ok) return g;
  const good = g.value;
  const denied = await requireCoordinator(c, await projectOfGood(c.tx, good), false);
  if (denied) return err(denied);
  if (good.model === "copyable") return err({ kind: "good_model", good: good.name, model: good.model, need: "stock" });
  await catchUp(c.tx, good.id, c.now);
  const current = (await c.tx.good(good.id)) ?? good;
  const { effort } = await effortOf(c.tx, good, c.pool.policy);
  const stock = current.stock + qty;
  await c.tx.setStock(good.id, stock);
  await c.tx.insertProduction({ goodId: good.id, qty, effort, at: c.now, by: c.member.id });
  let allocated: RoundClosed | null = null;
  const round = await c.tx.openRound(good.id);
  if (round && good.model === "per-unit") {
    const waiting = (await c.tx.pendingTotals(good.id)).units;
    // Enough for everyone waiting: there is nothing to auction, so the round closes now at 1.00.
    if (waiting <= stock) allocated = await closeRound(c.tx, round, c.now, c.requestId, c.now);
  }
  const after = (await c.tx.good(good.id)) ?? good;
  return ok({ good: await viewGood(c.tx, after, c.pool.policy), allocated });
}

export interface Requested {
  readonly request: GoodRequestRow;
  readonly good: GoodView;
  readonly cost: number | null;
  readonly round: RoundRow | null;
}

/**
 * A member asks for units. With enough free stock (and nobody waiting) they are allocated at
 * once at effort x qty; otherwise the request waits for its round, with its preference weight.
 */
export async function requestGood(c: PoolCtx, name: string, qty: number, weight: number): R<Requested> {
  const g = await findGood(c, name);
  if (!g.ok) return g;
  const good = g.value;
  if (qty > c.pool.policy.maxRequestQty) return err({ kind: "too_many_units", qty, max: c.pool.policy.maxRequestQty });
  const base = { goodId: good.id, memberId: c.member.id, qty, weight, createdAt: c.now };
  if (good.model === "copyable") {
    const id = await c.tx.insertGoodRequest({ ...base, filled: qty, status: "access", closedAt: c.now });
    return ok({ request: { id, ...base, filled: qty, status: "access", closedAt: c.now }, good: await viewGood(c.tx, good, c.pool.policy), cost: 0, round: null });
  }
  if (good.model !== "per-unit") return err(needModel(good, "per-unit"));
  await catchUp(c.tx, good.id, c.now);
  const fresh = (await c.tx.good(good.id)) ?? good;
  const pending = await c.tx.pendingTotals(good.id);
  const { effort } = await effortOf(c.tx, good, c.pool.policy);
  // Taken now or waiting, a request must be payable at the effort with what the member's other
  // waiting requests and open loans already hold: a request nobody could pay never waits, so
  // no round spends work on it.
  const cost = effort * qty;
  const account = await ensureAccount(c.tx, c.pool.row.id, "member", c.member.id);
  const balance = (await c.tx.accountById(account))?.balance ?? 0;
  const committed = await committedCharges(c, c.member.id);
  if (!withinCreditLimit(balance - committed, cost, c.pool.policy.creditLimit)) {
    const available = balance - committed + c.pool.policy.creditLimit;
    return err({ kind: "insufficient_credit", needed: cost, available, committed, units: Math.max(0, Math.floor(available / effort)) });
  }
  if (pending.requests === 0 && fresh.stock >= qty) {
    const id = await c.tx.insertGoodRequest({ ...base, filled: qty, status: "allocated", closedAt: c.now });
    await allocate(c.tx, fresh, { requestId: id, roundId: null, memberId: c.member.id, qty, effort, weight: WEIGHT_ONE, unitCost: effort, at: c.now, requestKey: c.requestId });
    const after = (await c.tx.good(good.id)) ?? good;
    return ok({ request: { id, ...base, filled: qty, status: "allocated", closedAt: c.now }, good: await viewGood(c.tx, after, c.pool.policy), cost, round: null });
  }
  const id = await c.tx.insertGoodRequest({ ...base, filled: 0, status: "pending", closedAt: null });
  let round = await c.tx.openRound(good.id);
  if (!round) {
    const r = { goodId: good.id, openedAt: c.now, closesAt: c.now + c.pool.policy.roundHours * HOUR_MS, closedAt: null, clearingWeight: null, supply: null, allocated: null };
    round = { id: await c.tx.insertRound(r), ...r };
  }
  return ok({ request: { id, ...base, filled: 0, status: "pending", closedAt: null }, good: await viewGood(c.tx, fresh, c.pool.policy), cost: null, round });
}

/** An allocation to make: the row's facts, the price of one unit, and the request id for its entries. */
type Allocation = Omit<AllocationRow, "id" | "goodId" | "cost"> & { readonly unitCost: number; readonly requestKey: string };

/** The entries of an allocation: the effort to the producing project, the surplus above it to the commons. */
function allocationEntries(good: GoodRow, a: Allocation, member: number, project: number, commons: number): Posting[] {
  const poolId = good.poolId;
  const memo = `${a.qty} x ${good.name}`;
  const effortTotal = a.effort * a.qty;
  const surplus = (a.unitCost - a.effort) * a.qty;
  const out: Posting[] = [];
  if (effortTotal > 0) out.push({ poolId, fromAccount: member, toAccount: project, amount: effortTotal, kind: "allocation", memo, requestId: a.requestKey, createdAt: a.at, createdBy: a.memberId });
  if (surplus > 0) out.push({ poolId, fromAccount: member, toAccount: commons, amount: surplus, kind: "surplus", memo, requestId: a.requestKey, createdAt: a.at, createdBy: a.memberId });
  return out;
}

/**
 * Hands units to a member: stock goes down, the producing project is credited the effort, and
 * the commons the surplus above it. Producers never get more than the effort. (A round does
 * the same for all its winners at once, in `closeRound`.)
 */
async function allocate(tx: Tx, good: GoodRow, a: Allocation): Promise<AllocationRow> {
  const poolId = good.poolId;
  const member = await ensureAccount(tx, poolId, "member", a.memberId);
  const project = await ensureAccount(tx, poolId, "project", good.projectId);
  const commons = await ensureAccount(tx, poolId, "commons", poolId);
  for (const p of allocationEntries(good, a, member, project, commons)) await postEntry(tx, p);
  const current = (await tx.good(good.id))?.stock ?? good.stock;
  await tx.setStock(good.id, current - a.qty);
  const row = { goodId: good.id, requestId: a.requestId, roundId: a.roundId, memberId: a.memberId, qty: a.qty, effort: a.effort, weight: a.weight, cost: a.unitCost * a.qty, at: a.at };
  return { id: await tx.insertAllocation(row), ...row };
}

/**
 * Closes a round: the auction decides with the pure rule, then units are handed out. Losers
 * and skipped requests stay queued for the next round, which opens at `nextOpensAt`.
 */
export async function closeRound(tx: Tx, round: RoundRow, now: number, requestKey: string, nextOpensAt: number): Promise<RoundClosed> {
  const good = await tx.good(round.goodId);
  if (!good) throw new Error(`round ${round.id} has no good`);
  const pool = await tx.pool(good.poolId);
  if (!pool) throw new Error(`good ${good.id} has no pool`);
  const policy = readPolicy(pool.policy);
  const { effort } = await effortOf(tx, good, policy);
  const pending = await tx.goodRequestsOf(good.id, "pending");
  const balances = new Map<number, number>();
  const accountIds = new Map<number, number>();
  // Every waiting member's balance in one query; a member without an account has 0.
  for (const { memberId, account } of await tx.pendingMemberAccounts(good.poolId, good.id)) {
    balances.set(memberId, account.balance);
    accountIds.set(memberId, account.id);
  }
  const byId = new Map(pending.map((r) => [r.id, r]));
  const outcome = roundOutcome({
    bids: pending.map((r) => ({ request: r.id, member: r.memberId, weight: r.weight, units: r.qty - r.filled, at: r.createdAt })),
    supply: good.stock,
    effort,
    balances,
    creditLimit: policy.creditLimit,
  });
  const names = new Map<number, string>();
  const handle = async (id: number) => {
    const known = names.get(id);
    if (known !== undefined) return known;
    const name = (await tx.member(id))?.handle ?? String(id);
    names.set(id, name);
    return name;
  };
  const projectAccount = outcome.winners.length > 0 ? await ensureAccount(tx, good.poolId, "project", good.projectId) : 0;
  const commonsAccount = outcome.winners.length > 0 ? await ensureAccount(tx, good.poolId, "commons", good.poolId) : 0;
  let stock = good.stock;
  const allocations: Array<{ member: string; qty: number; cost: number }> = [];
  let total = 0;
  // What `allocate` does for one member, for every winner at once: the entries, allocations,
  // filled requests and notes are written in batches, in the winners' order, and the stock once.
  const postings: Posting[] = [];
  const rows: Array<Omit<AllocationRow, "id">> = [];
  const fills: Array<Pick<GoodRequestRow, "id" | "filled" | "status" | "closedAt">> = [];
  const notes: Array<Omit<NoteRow, "id" | "deliveredAt" | "onlyPlatform" | "onlyExternalId">> = [];
  for (const w of outcome.winners) {
    const req = byId.get(w.request)!;
    const member = accountIds.get(w.member) ?? (await ensureAccount(tx, good.poolId, "member", w.member));
    accountIds.set(w.member, member);
    postings.push(...allocationEntries(good, { requestId: w.request, roundId: round.id, memberId: w.member, qty: w.units, effort, weight: outcome.clearing, unitCost: outcome.unitCost, at: now, requestKey }, member, projectAccount, commonsAccount));
    rows.push({ goodId: good.id, requestId: w.request, roundId: round.id, memberId: w.member, qty: w.units, effort, weight: outcome.clearing, cost: outcome.unitCost * w.units, at: now });
    stock -= w.units;
    const filled = req.filled + w.units;
    fills.push(filled >= req.qty ? { id: w.request, filled, status: "allocated", closedAt: now } : { id: w.request, filled, status: req.status, closedAt: req.closedAt });
    notes.push({ poolId: good.poolId, memberId: w.member, kind: "allocated", body: JSON.stringify({ good: good.name, qty: w.units, cost: outcome.unitCost * w.units, clearing: outcome.clearing }), createdAt: now });
    allocations.push({ member: await handle(w.member), qty: w.units, cost: outcome.unitCost * w.units });
    total += w.units;
  }
  if (outcome.winners.length > 0) {
    await postEntries(tx, postings);
    await tx.setStock(good.id, stock);
    await tx.insertAllocations(rows);
    await tx.fillGoodRequests(fills);
  }
  const skipped: Array<{ member: string; qty: number }> = [];
  for (const s of outcome.skipped) {
    notes.push({ poolId: good.poolId, memberId: s.member, kind: "skipped", body: JSON.stringify({ good: good.name, qty: s.units, cost: outcome.unitCost * s.units }), createdAt: now });
    skipped.push({ member: await handle(s.member), qty: s.units });
  }
  await tx.insertNotes(notes);
  // A round that handed nothing out has no price: it does not count as a clearing weight.
  await tx.closeRound(round.id, { closedAt: now, clearingWeight: total > 0 ? outcome.clearing : null, supply: good.stock, allocated: total });
  const queued = outcome.losers.reduce((a, l) => a + l.units, 0) + outcome.skipped.reduce((a, l) => a + l.units, 0);
  if (queued > 0) {
    await tx.insertRound({ goodId: good.id, openedAt: nextOpensAt, closesAt: nextOpensAt + policy.roundHours * HOUR_MS, closedAt: null, clearingWeight: null, supply: null, allocated: null });
  }
  if (total > 0) {
    const project = await tx.project(good.projectId);
    const rooms = await projectRooms(tx, good.poolId, good.projectId);
    const body: RoundAnnouncement = { good: good.name, project: project?.slug ?? "?", clearing: outcome.clearing, unitCost: outcome.unitCost, allocated: total, members: allocations.length, queued, stock: good.stock - total };
    await announceTo(tx, good.poolId, rooms, "round", JSON.stringify(body), now);
  }
  return { round: round.id, good: good.name, outcome, effort, allocations, skipped, queued };
}

/** What the rooms hear of a round that handed out goods. */
export interface RoundAnnouncement {
  readonly good: string;
  readonly project: string;
  readonly clearing: number;
  /** Milli-hours per unit. */
  readonly unitCost: number;
  readonly allocated: number;
  readonly members: number;
  /** Units still asked for, waiting for the next round. */
  readonly queued: number;
  readonly stock: number;
}

/** A coordinator closes the good's open round now. */
export async function allocateGood(c: PoolCtx, name: string): R<RoundClosed> {
  const g = await findGood(c, name);
  if (!g.ok) return g;
  const denied = await requireCoordinator(c, await projectOfGood(c.tx, g.value), false);
  if (denied) return err(denied);
  await catchUp(c.tx, g.value.id, c.now);
  const round = await c.tx.openRound(g.value.id);
  if (!round) return err({ kind: "no_round", good: g.value.name });
  return ok(await closeRound(c.tx, round, c.now, c.requestId, c.now));
}

/**
 * Closes the good's rounds whose time has come, each as of its closing time, before anything
 * else happens to the good: a request or new units after the close never reach a round that
 * should have closed before them, whether or not the scheduler ran on time.
 */
async function catchUp(tx: Tx, goodId: number, now: number): Promise<void> {
  for (let guard = 0; guard < 10_000; guard++) {
    const round = await tx.openRound(goodId);
    if (!round || round.closesAt > now) return;
    await closeRound(tx, round, round.closesAt, `cron:round:${round.id}`, round.closesAt);
  }
}

/**
 * Closes every round whose time has come (the scheduler calls it). A bot that was down closes
 * each missed round in turn, as of its closing time, so the outcome does not depend on when
 * this runs.
 */
export async function closeDueRounds(tx: Tx, now: number): Promise<RoundClosed[]> {
  const closed: RoundClosed[] = [];
  for (let guard = 0; guard < 10_000; guard++) {
    const due = await tx.dueRounds(now);
    const next = due[0];
    if (!next) break;
    closed.push(await closeRound(tx, next, next.closesAt, `cron:round:${next.id}`, next.closesAt));
  }
  return closed;
}

/** The member's own pending request leaves the queue. */
export async function cancelRequest(c: PoolCtx, id: number): R<{ request: GoodRequestRow; good: string }> {
  const r = await c.tx.goodRequest(id);
  const good = r ? await c.tx.good(r.goodId) : undefined;
  if (!r || !good || good.poolId !== c.pool.row.id) return err({ kind: "not_found", what: "request", ref: `#${id}` });
  if (r.memberId !== c.member.id) return err({ kind: "not_yours", what: "request", id });
  if (r.status !== "pending") return err({ kind: "request_closed", id, status: r.status });
  await catchUp(c.tx, good.id, c.now);
  // The round that should have closed already may have served this request.
  const now = await c.tx.goodRequest(id);
  if (now && now.status !== "pending") return err({ kind: "request_closed", id, status: now.status });
  await c.tx.updateGoodRequest(id, { status: "cancelled", closedAt: c.now });
  // A round with nobody left waiting closes with nothing to do.
  const round = await c.tx.openRound(good.id);
  if (round && (await c.tx.pendingTotals(good.id)).requests === 0) {
    const stock = (await c.tx.good(good.id))?.stock ?? good.stock;
    await c.tx.closeRound(round.id, { closedAt: c.now, clearingWeight: null, supply: stock, allocated: 0 });
  }
  return ok({ request: { ...r, status: "cancelled", closedAt: c.now }, good: good.name });
}

export async function subscribe(c: PoolCtx, name: string, on: boolean): R<{ good: GoodView; subscribed: boolean }> {
  const g = await findGood(c, name);
  if (!g.ok) return g;
  const good = g.value;
  if (good.model !== "flat-rate") return err(needModel(good, "flat-rate"));
  const mine = (await c.tx.subscriptions(good.id)).find((s) => s.memberId === c.member.id && s.until === null);
  if (on) {
    if (mine) return err({ kind: "subscription", good: good.name, subscribed: true });
    await c.tx.insertSubscription({ goodId: good.id, memberId: c.member.id, since: c.now, until: null });
  } else {
    if (!mine) return err({ kind: "subscription", good: good.name, subscribed: false });
    await c.tx.endSubscription(mine.id, c.now);
  }
  return ok({ good: await viewGood(c.tx, good, c.pool.policy), subscribed: on });
}

/** Start of the settlement period containing `t`: Monday 00:00 UTC, or the 1st of the month. */
export function periodStart(t: number, period: string): number {
  const d = new Date(t);
  if (period === "weekly") {
    const day = (d.getUTCDay() + 6) % 7;
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day);
  }
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function periodEnd(start: number, period: string): number {
  if (period === "weekly") return start + 7 * DAY_MS;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

export interface Settled {
  readonly good: string;
  readonly pool: number;
  readonly periodStart: number;
  readonly periodEnd: number;
  readonly effort: number;
  readonly subscribers: number;
  /** Milli-hours each subscriber paid (the first ones one more when it does not divide evenly). */
  readonly share: number;
}

/**
 * Settles every ended period of every flat-rate good (of one pool, if given): the effort of the
 * units produced in the period is split evenly among the members subscribed at its end. Periods
 * follow one another from where the last settled one ended, so they never overlap whatever the
 * policy was then: each unit of effort is charged once. Each period is settled once, whenever
 * this runs. With `upTo`, the running period is settled too, up to that instant (a change of
 * settlePeriod does that first).
 */
export async function settlePeriod(tx: Tx, now: number, poolId?: number, upTo?: number): Promise<Settled[]> {
  const out: Settled[] = [];
  for (const good of await tx.flatRateGoods()) {
    if (poolId !== undefined && good.poolId !== poolId) continue;
    const pool = await tx.pool(good.poolId);
    if (!pool) continue;
    const period = readPolicy(pool.policy).settlePeriod;
    let start = (await tx.lastSettlementEnd(good.id)) ?? periodStart(good.createdAt, period);
    for (;;) {
      const natural = periodEnd(periodStart(start, period), period);
      const end = natural <= now ? natural : upTo !== undefined && start < upTo ? upTo : null;
      if (end === null) break;
      if (!(await tx.settlement(good.id, start))) out.push(await settleOne(tx, good, start, end, now));
      start = end;
    }
  }
  return out;
}

async function settleOne(tx: Tx, good: GoodRow, start: number, end: number, now: number): Promise<Settled> {
  const effort = (await tx.productions(good.id, start, end)).reduce((a, p) => a + p.qty * p.effort, 0);
  const subs = (await tx.subscriptions(good.id)).filter((s) => s.since < end && (s.until === null || s.until >= end));
  const members = [...new Set(subs.map((s) => s.memberId))];
  if (effort > 0 && members.length > 0) {
    const project = await ensureAccount(tx, good.poolId, "project", good.projectId);
    const share = Math.floor(effort / members.length);
    const extra = effort - share * members.length;
    for (const [i, m] of members.entries()) {
      const amount = share + (i < extra ? 1 : 0);
      if (amount === 0) continue;
      const from = await ensureAccount(tx, good.poolId, "member", m);
      await postEntry(tx, { poolId: good.poolId, fromAccount: from, toAccount: project, amount, kind: "flat-rate", memo: `${good.name} ${new Date(start).toISOString().slice(0, 10)}`, requestId: `settle:${good.id}:${start}`, createdAt: now, createdBy: null });
    }
  }
  await tx.insertSettlement({ goodId: good.id, periodStart: start, periodEnd: end, effort, subscribers: members.length, at: now });
  return { good: good.name, pool: good.poolId, periodStart: start, periodEnd: end, effort, subscribers: members.length, share: members.length > 0 ? Math.floor(effort / members.length) : 0 };
}

/** `pool settle`: an admin runs the settlement of this pool's flat-rate goods now. */
export async function settleNow(c: PoolCtx): R<{ settled: Settled[] }> {
  const denied = requireAdmin(c);
  if (denied) return err(denied);
  return ok({ settled: await settlePeriod(c.tx, c.now, c.pool.row.id) });
}

const perDay = (effort: number, policy: Policy) => Math.round((effort * policy.durableDayPercent) / 1000);

/**
 * What a member has already spoken for: their waiting requests at the effort of now, and the
 * charges their open loans will have by their due dates.
 */
async function committedCharges(c: PoolCtx, memberId: number): Promise<number> {
  let total = 0;
  const efforts = new Map<number, number>();
  for (const r of await c.tx.pendingRequestsOfMember(c.pool.row.id, memberId)) {
    let effort = efforts.get(r.goodId);
    if (effort === undefined) {
      const good = await c.tx.good(r.goodId);
      effort = good ? (await effortOf(c.tx, good, c.pool.policy)).effort : 0;
      efforts.set(r.goodId, effort);
    }
    total += (r.qty - r.filled) * effort;
  }
  return total + (await openLoanCharges(c, memberId));
}

/** The charges a member's open loans will have by their due dates, across the pool's durable goods. */
async function openLoanCharges(c: PoolCtx, memberId: number): Promise<number> {
  let total = 0;
  for (const g of await c.tx.goods(c.pool.row.id, {})) {
    if (g.model !== "durable") continue;
    const open = (await c.tx.loansOf(g.id)).filter((l) => l.memberId === memberId && l.returnedAt === null);
    if (open.length === 0) continue;
    const daily = perDay((await effortOf(c.tx, g, c.pool.policy)).effort, c.pool.policy);
    for (const l of open) total += daily * Math.max(1, Math.ceil((l.dueAt - l.borrowedAt) / DAY_MS));
  }
  return total;
}

/** Borrows one item of a durable good; it is charged per day of use when it comes back. */
export async function borrowGood(c: PoolCtx, name: string, days: number): R<{ loan: LoanRow; good: string; perDay: number }> {
  const g = await findGood(c, name);
  if (!g.ok) return g;
  const good = g.value;
  if (good.model !== "durable") return err(needModel(good, "durable"));
  if (good.stock < 1) return err({ kind: "out_of_stock", good: good.name });
  const { effort } = await effortOf(c.tx, good, c.pool.policy);
  const daily = perDay(effort, c.pool.policy);
  const account = await ensureAccount(c.tx, c.pool.row.id, "member", c.member.id);
  const balance = (await c.tx.accountById(account))?.balance ?? 0;
  // What the member's waiting requests and open loans will cost is already spoken for.
  const committed = await committedCharges(c, c.member.id);
  if (!withinCreditLimit(balance - committed, daily * days, c.pool.policy.creditLimit)) {
    return err({ kind: "insufficient_credit", needed: daily * days, available: balance - committed + c.pool.policy.creditLimit, committed });
  }
  await c.tx.setStock(good.id, good.stock - 1);
  const row = { goodId: good.id, memberId: c.member.id, borrowedAt: c.now, dueAt: c.now + days * DAY_MS, returnedAt: null, charged: null };
  return ok({ loan: { id: await c.tx.insertLoan(row), ...row }, good: good.name, perDay: daily });
}

/** Returns a loan: charged effort per (started) day of use, at least one, to the producing project. */
export async function returnGood(c: PoolCtx, id: number): R<{ loan: LoanRow; good: string; days: number; charged: number }> {
  const loan = await c.tx.loan(id);
  const good = loan ? await c.tx.good(loan.goodId) : undefined;
  if (!loan || !good || good.poolId !== c.pool.row.id) return err({ kind: "not_found", what: "loan", ref: `#${id}` });
  if (loan.memberId !== c.member.id) {
    const denied = await requireCoordinator(c, await projectOfGood(c.tx, good), false);
    if (denied) return err({ kind: "not_yours", what: "loan", id });
  }
  if (loan.returnedAt !== null) return err({ kind: "loan_returned", id });
  const days = Math.max(1, Math.ceil((c.now - loan.borrowedAt) / DAY_MS));
  const { effort } = await effortOf(c.tx, good, c.pool.policy);
  const charged = perDay(effort, c.pool.policy) * days;
  if (charged > 0) {
    const from = await ensureAccount(c.tx, c.pool.row.id, "member", loan.memberId);
    const to = await ensureAccount(c.tx, c.pool.row.id, "project", good.projectId);
    await postEntry(c.tx, { poolId: c.pool.row.id, fromAccount: from, toAccount: to, amount: charged, kind: "loan", memo: `${good.name}, ${days} day${days === 1 ? "" : "s"}`, requestId: c.requestId, createdAt: c.now, createdBy: c.member.id });
  }
  await c.tx.returnLoan(id, c.now, charged);
  await c.tx.setStock(good.id, good.stock + 1);
  return ok({ loan: { ...loan, returnedAt: c.now, charged }, good: good.name, days, charged });
}

export async function listGoods(c: PoolCtx, project: string | undefined, sector: string | undefined): R<{ goods: GoodView[] }> {
  let projectId: number | undefined;
  if (project !== undefined) {
    const p = await findProject(c, project);
    if (!p.ok) return p;
    projectId = p.value.id;
  }
  const rows = await c.tx.goods(c.pool.row.id, { projectId, sector });
  const views: GoodView[] = [];
  for (const g of rows) views.push(await viewGood(c.tx, g, c.pool.policy));
  return ok({ goods: views });
}

export async function showGood(c: PoolCtx, name: string): R<{ good: GoodView }> {
  const g = await findGood(c, name);
  if (!g.ok) return g;
  return ok({ good: await viewGood(c.tx, g.value, c.pool.policy) });
}

export interface SectorLine {
  readonly sector: string;
  readonly goods: readonly GoodView[];
  readonly projects: ReadonlyArray<{ slug: string; deficit: number; cap: number }>;
}

/** Supply, demand, clearing weights and deficits of every project making goods of a sector. */
export async function sectorReport(c: PoolCtx, sector: string | undefined): R<{ sectors: SectorLine[] }> {
  return ok({ sectors: await sectorLines(c, sector) });
}

/** The sector report of a pool, for a command or a scheduled summary (no caller needed). */
export async function sectorLines(c: Pick<PoolCtx, "tx" | "pool">, sector: string | undefined): Promise<SectorLine[]> {
  const all = await c.tx.goods(c.pool.row.id, sector === undefined ? {} : { sector });
  const bySector = new Map<string, GoodRow[]>();
  for (const g of all) {
    if (g.sector === null) continue;
    bySector.set(g.sector, [...(bySector.get(g.sector) ?? []), g]);
  }
  const out: SectorLine[] = [];
  for (const [name, goods] of [...bySector].sort(([a], [b]) => a.localeCompare(b))) {
    const views: GoodView[] = [];
    for (const g of goods) views.push(await viewGood(c.tx, g, c.pool.policy));
    const projects = [];
    for (const projectId of [...new Set(goods.map((g) => g.projectId))]) {
      const p = await c.tx.project(projectId);
      const balance = (await c.tx.account(c.pool.row.id, "project", projectId))?.balance ?? 0;
      projects.push({ slug: p?.slug ?? "?", deficit: Math.max(0, -balance), cap: c.pool.policy.deficitCap });
    }
    out.push({ sector: name, goods: views, projects });
  }
  return out;
}

/** A production task's good: the project's own, and the project's deficit below the cap. */
export async function productionGood(c: PoolCtx, project: ProjectRow, name: string): Promise<Result<GoodRow, DomainError>> {
  const g = await findGood(c, name);
  if (!g.ok) return g;
  if (g.value.projectId !== project.id) return err({ kind: "good_other_project", good: g.value.name, project: project.slug });
  const balance = (await c.tx.account(c.pool.row.id, "project", project.id))?.balance ?? 0;
  if (-balance > c.pool.policy.deficitCap) return err({ kind: "deficit_cap", project: project.slug, deficit: -balance, cap: c.pool.policy.deficitCap });
  return g;
}
