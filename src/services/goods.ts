// Goods: allocated at their production effort; auctioned at a higher cost when scarce, while
// the producers are still credited only their effort (the surplus goes to the commons). Four
// models: per unit, flat rate (split among subscribers), copyable (free; the commons carries the
// effort), durable (borrowed, charged per day of use).
import { daysCharge, MILLI, unitsCharge, type MilliHours, type WeightPpm } from "../core/amounts.ts";
import type { OverdueNote, RoundAnnouncement } from "../core/announcements.ts";
import { roundOutcome, type RoundOutcome } from "../core/auction.ts";
import { checkEntry, withinCreditLimit } from "../core/ledger.ts";
import { taskState } from "../core/tasks.ts";
import { DAY_MS, HOUR_MS } from "../core/time.ts";
import { credit, WEIGHT_ONE } from "../core/weights.ts";
import { readPolicy, type Policy } from "../core/policy.ts";
import type { DomainError } from "../errors.ts";
import { err, ok, type Result } from "../result.ts";
import type { AllocationRow, GoodModel, GoodRequestRow, GoodRow, LoanRow, NewEntry, ProjectRow, RoundRow, Tx } from "../store.ts";
import { nameKey, nearestNamed } from "../core/suggest.ts";
import { ensureAccount, findProject, requireAdmin, requireCoordinator, typedNumber, type PoolCtx } from "./context.ts";
import { announceTo, noteRow, type NewNote } from "./announce.ts";
import { projectRooms } from "./rooms.ts";
import { postEntry } from "./posting.ts";
import type { AccountId, GoodId, GoodRequestId, LoanId, MemberId, PoolId, ProjectId, RoundId, TaskId } from "../core/ids.ts";

type R<T> = Promise<Result<T, DomainError>>;

export interface Effort {
  /** What a unit costs at weight 1.00 now: the measured effort once enough units exist, else the declared one. */
  readonly effort: number;
  readonly declared: number;
  readonly measured: number | null;
  readonly measuredUnits: number;
  readonly usesMeasured: boolean;
}

/** The good's effort now, or (with `asOf`) as it stood then: a round closed late charges the effort of its time. */
export async function effortOf(tx: Tx, good: GoodRow, policy: Policy, asOf?: number): Promise<Effort> {
  const m = await tx.measuredEffort(good.id, asOf);
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

/** `effort`: the good's effort now, when the caller has it already (effortOf). */
export async function viewGood(tx: Tx, good: GoodRow, policy: Policy, effort?: Effort): Promise<GoodView> {
  const pending = await tx.pendingTotals(good.id);
  const project = await tx.project(good.projectId);
  const last = await tx.lastClosedRound(good.id);
  const inUse = await tx.goodInUse(good.id);
  return {
    good,
    project: project?.slug ?? "?",
    effort: effort ?? (await effortOf(tx, good, policy)),
    demand: pending.units,
    round: (await tx.openRound(good.id)) ?? null,
    waiting: pending.requests,
    lastClearing: last?.clearingWeight ?? null,
    subscribers: inUse.subscribers,
    onLoan: inUse.onLoan,
  };
}

/**
 * Finds a good of the pool by its short name (bread), its number (1 or #1) or its display name in
 * any case (bread share). Otherwise the refusal names the nearest good.
 */
async function findGood(c: PoolCtx, ref: string): Promise<Result<GoodRow, DomainError>> {
  const poolId = c.pool.row.id;
  const n = typedNumber(ref);
  const direct = n !== undefined ? await c.tx.good(n) : await c.tx.goodByName(poolId, ref.trim().toLowerCase());
  if (direct && direct.poolId === poolId) return ok(direct);
  const all = await c.tx.goods(poolId, {});
  const named = n === undefined ? all.filter((g) => g.displayName !== null && nameKey(g.displayName) === nameKey(ref)) : [];
  if (named.length === 1) return ok(named[0]!);
  const nearest = nearestNamed(
    ref,
    all.map((g) => ({ names: g.displayName === null ? [g.name] : [g.name, g.displayName], say: g.name })),
  );
  const near = named.length > 1 ? named.map((g) => g.name) : nearest ? [nearest] : [];
  return err({ kind: "not_found", what: "good", ref, near });
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
  /** How people call it besides its short name ("Bread Share"), if the project gives one. */
  readonly displayName?: string | undefined;
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
  const row = {
    poolId: c.pool.row.id,
    projectId: found.value.id,
    name: a.name,
    displayName: a.displayName ?? null,
    unit: a.unit,
    model: a.model,
    sector: a.sector ?? null,
    declaredEffort: a.effort,
    stock,
    createdAt: c.now,
    createdBy: c.member.id,
  };
  const id = await c.tx.insertGood(row);
  if (stock > 0) await c.tx.insertProduction({ goodId: id, qty: stock, effort: a.effort, at: c.now, by: c.member.id });
  return ok(await viewGood(c.tx, { id, ...row }, c.pool.policy));
}

/**
 * How many winners (and skipped members) the answer to a round's close names. The answer is
 * stored with the command (a reply row, a request id's record) and a chat reply shows only a
 * few lines: a round of 50,000 winners named every one (6.5 MB of JSON). It carries the counts
 * and the first ones; every winner and skipped member still gets a note of their own, and the
 * allocations are all in the database (`dpool export`).
 */
export const ROUND_LINES = 20;

/** Winners whose rows a round writes at a time: bounded memory however large the round. */
const ROUND_CHUNK = 500;

export interface RoundClosed {
  readonly round: RoundId;
  readonly good: string;
  /** The clearing weight; `unitCost` is effort x clearing weight rounded to the milli-hour: winners pay their units' total, rounded once. */
  readonly outcome: Pick<RoundOutcome, "clearing" | "unitCost">;
  readonly effort: number;
  /** What a unit costs, exactly enough to show: effort x clearing weight, in millionths of a weighted hour. */
  readonly unitPrice: number;
  /** Units handed out, and how many members got them. */
  readonly units: number;
  readonly winners: number;
  /** The first `ROUND_LINES` winners, in the auction's order (`winners` counts them all). */
  readonly allocations: ReadonlyArray<{ member: string; qty: number; cost: number }>;
  /** Members skipped (past the credit limit), and the first `ROUND_LINES` of them. */
  readonly skippedMembers: number;
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
  const allocated = await addUnits(c, good, qty, null);
  const after = (await c.tx.good(good.id)) ?? good;
  return ok({ good: await viewGood(c.tx, after, c.pool.policy), allocated });
}

/**
 * Units join the stock (after the pool's goods have caught up): recorded as a production at the
 * effort of now, and when they cover every unit waiting in the open round, it closes at once.
 */
async function addUnits(c: PoolCtx, good: GoodRow, qty: number, taskId: TaskId | null): Promise<RoundClosed | null> {
  await catchUp(c.tx, good.poolId, c.now);
  const current = (await c.tx.good(good.id)) ?? good;
  const { effort } = await effortOf(c.tx, good, c.pool.policy);
  await c.tx.setStock(good.id, current.stock + qty);
  await c.tx.insertProduction({ goodId: good.id, qty, effort, at: c.now, by: c.member.id, taskId });
  return serveIfCovered(c, good);
}

/** Enough stock for everyone waiting: there is nothing to auction, so the open round closes now at 1.00. */
async function serveIfCovered(c: PoolCtx, good: GoodRow): Promise<RoundClosed | null> {
  if (good.model !== "per-unit") return null;
  const round = await c.tx.openRound(good.id);
  if (!round) return null;
  const stock = (await c.tx.good(good.id))?.stock ?? 0;
  const waiting = (await c.tx.pendingTotals(good.id)).units;
  return waiting <= stock ? closeRound(c.tx, round, c.now, c.requestId, c.now) : null;
}

/**
 * A production task makes its units: when the last open slot of a task posted with `good:` and
 * `qty:` is verified (the task is done), its units join the good's stock as `good produce`
 * would add them, once per task (a verification undone and restored adds nothing again).
 * Copyable goods have no stock: their tasks only measure the effort. The task-verify code calls
 * this after every verification.
 */
export async function produceFromTask(c: PoolCtx, taskId: TaskId): Promise<{ good: string; qty: number; allocated: RoundClosed | null } | null> {
  const task = await c.tx.task(taskId);
  if (!task || task.goodId === null || task.goodQty === null || task.goodQty <= 0) return null;
  if (taskState(task, await c.tx.claimsOf(taskId)) !== "done") return null;
  if (await c.tx.productionOfTask(taskId)) return null;
  const good = await c.tx.good(task.goodId);
  if (!good || good.model === "copyable") return null;
  return { good: good.name, qty: task.goodQty, allocated: await addUnits(c, good, task.goodQty, taskId) };
}

export interface Requested {
  readonly request: GoodRequestRow;
  readonly good: GoodView;
  readonly cost: number | null;
  readonly round: RoundRow | null;
  /** The member's waiting bid as it was before this request changed it (units still wanted, weight); null for a new request. */
  readonly was: { readonly qty: number; readonly weight: number } | null;
  /** A changed bid left stock for everyone waiting: the round closed at once. */
  readonly allocated: RoundClosed | null;
}

/**
 * A member asks for units. With enough free stock (and nobody waiting) they are allocated at
 * once at effort x qty; otherwise the request waits for its round, with its preference weight.
 * One bid per member per good: while the member waits for the good, asking again changes the
 * waiting request's weight (and units, if `qty` is given) instead of adding another.
 */
export async function requestGood(c: PoolCtx, name: string, qtyGiven: number | undefined, weightGiven: number | undefined): R<Requested> {
  const g = await findGood(c, name);
  if (!g.ok) return g;
  const good = g.value;
  const qty = qtyGiven ?? 1;
  const weight = weightGiven ?? WEIGHT_ONE;
  if (qty > c.pool.policy.maxRequestQty) return err({ kind: "too_many_units", qty, max: c.pool.policy.maxRequestQty });
  const base = { goodId: good.id, memberId: c.member.id, qty, weight, createdAt: c.now };
  if (good.model === "copyable") {
    const id = await c.tx.insertGoodRequest({ ...base, filled: qty, status: "access", closedAt: c.now });
    return ok({
      request: { id, ...base, filled: qty, status: "access", closedAt: c.now },
      good: await viewGood(c.tx, good, c.pool.policy),
      cost: 0,
      round: null,
      was: null,
      allocated: null,
    });
  }
  if (good.model !== "per-unit") return err(needModel(good, "per-unit"));
  // Under the dispatcher everything due was done before the command (c.caughtUp), and the good
  // is as read; called on its own, the goods catch up first.
  let fresh = good;
  if (!c.caughtUp) {
    await catchUp(c.tx, good.poolId, c.now);
    fresh = (await c.tx.good(good.id)) ?? good;
  }
  const effortNow = await effortOf(c.tx, good, c.pool.policy);
  const { effort } = effortNow;
  const waiting = await c.tx.pendingRequestsOfMember(c.pool.row.id, c.member.id);
  const mine = waiting.find((r) => r.goodId === good.id);
  if (mine) return changeBid(c, fresh, mine, qtyGiven, weightGiven, effort);
  const pending = await c.tx.pendingTotals(good.id);
  // Taken now or waiting, a request must be payable at the effort with what the member's other
  // waiting requests and open loans already hold: a request nobody could pay never waits, so
  // no round spends work on it.
  const cost = effort * qty;
  const accountRow = await c.tx.account(c.pool.row.id, "member", c.member.id);
  const accountId = accountRow?.id ?? (await ensureAccount(c.tx, c.pool.row.id, "member", c.member.id));
  const balance = accountRow?.balance ?? 0;
  const committed = await committedCharges(c, c.member.id, waiting);
  if (!withinCreditLimit(balance - committed, cost, c.pool.policy.creditLimit)) {
    const available = balance - committed + c.pool.policy.creditLimit;
    return err({
      kind: "insufficient_credit",
      needed: cost,
      available,
      limit: c.pool.policy.creditLimit,
      committed,
      units: Math.max(0, Math.floor(available / effort)),
    });
  }
  if (pending.requests === 0 && fresh.stock >= qty) {
    const id = await c.tx.insertGoodRequest({ ...base, filled: qty, status: "allocated", closedAt: c.now });
    // The member's account and the good's stock as read above: nothing in this command changed them since.
    await allocate(
      c.tx,
      fresh,
      { requestId: id, roundId: null, memberId: c.member.id, qty, effort, weight: WEIGHT_ONE, total: cost, at: c.now, requestKey: c.requestId },
      { memberAccount: accountId, stock: fresh.stock },
    );
    const after = { ...fresh, stock: fresh.stock - qty };
    return ok({
      request: { id, ...base, filled: qty, status: "allocated", closedAt: c.now },
      good: await viewGood(c.tx, after, c.pool.policy, effortNow),
      cost,
      round: null,
      was: null,
      allocated: null,
    });
  }
  const id = await c.tx.insertGoodRequest({ ...base, filled: 0, status: "pending", closedAt: null });
  let round = await c.tx.openRound(good.id);
  if (!round) {
    const r = {
      goodId: good.id,
      openedAt: c.now,
      closesAt: c.now + c.pool.policy.roundHours * HOUR_MS,
      closedAt: null,
      clearingWeight: null,
      supply: null,
      allocated: null,
    };
    round = { id: await c.tx.insertRound(r), ...r };
  }
  return ok({
    request: { id, ...base, filled: 0, status: "pending", closedAt: null },
    good: await viewGood(c.tx, fresh, c.pool.policy, effortNow),
    cost: null,
    round,
    was: null,
    allocated: null,
  });
}

/**
 * The member's waiting request gets the new weight (and units, if given: how many it still
 * waits for), as a bid made now: ties go to the earlier bid. The changed request must be
 * payable at the effort like a new one, with what the member's other requests, loans and
 * subscriptions hold. When fewer units now wait than are in stock, the round closes at once.
 */
async function changeBid(c: PoolCtx, good: GoodRow, mine: GoodRequestRow, qty: number | undefined, weight: number | undefined, effort: number): R<Requested> {
  const was = { qty: mine.qty - mine.filled, weight: mine.weight };
  const units = qty ?? was.qty;
  const next = { qty: mine.filled + units, weight: weight ?? mine.weight };
  const round = (await c.tx.openRound(good.id)) ?? null;
  if (units === was.qty && next.weight === mine.weight) {
    return ok({ request: mine, good: await viewGood(c.tx, good, c.pool.policy), cost: null, round, was, allocated: null });
  }
  const cost = effort * units;
  const balance = (await c.tx.accountById(await ensureAccount(c.tx, c.pool.row.id, "member", c.member.id)))?.balance ?? 0;
  // What this request held before the change is the member's to spend again.
  const committed = (await committedCharges(c, c.member.id)) - was.qty * effort;
  if (!withinCreditLimit(balance - committed, cost, c.pool.policy.creditLimit)) {
    const available = balance - committed + c.pool.policy.creditLimit;
    return err({
      kind: "insufficient_credit",
      needed: cost,
      available,
      limit: c.pool.policy.creditLimit,
      committed,
      units: Math.max(0, Math.floor(available / effort)),
    });
  }
  await c.tx.updateGoodRequest(mine.id, { qty: next.qty, weight: next.weight, bidAt: c.now });
  const allocated = await serveIfCovered(c, good);
  const request = (await c.tx.goodRequest(mine.id)) ?? { ...mine, ...next };
  const after = (await c.tx.good(good.id)) ?? good;
  return ok({ request, good: await viewGood(c.tx, after, c.pool.policy), cost: null, round: allocated ? null : round, was, allocated });
}

/** An allocation to make: the row's facts, what it costs in all, and the request id for its entries. */
type Allocation = Omit<AllocationRow, "id" | "goodId" | "cost"> & { readonly total: number; readonly requestKey: string };

/** The entries of an allocation: the effort to the producing project, the surplus above it to the commons. */
function allocationEntries(
  good: GoodRow,
  a: Pick<Allocation, "memberId" | "qty" | "effort" | "total" | "at" | "requestKey">,
  member: number,
  project: number,
  commons: number,
): NewEntry[] {
  const poolId = good.poolId;
  const memo = `${a.qty} x ${good.name}`;
  const effortTotal = a.effort * a.qty;
  const surplus = a.total - effortTotal;
  const out: NewEntry[] = [];
  if (effortTotal > 0)
    out.push({
      poolId,
      fromAccount: member,
      toAccount: project,
      amount: effortTotal,
      kind: "allocation",
      memo,
      reverses: null,
      requestId: a.requestKey,
      createdAt: a.at,
      createdBy: a.memberId,
    });
  if (surplus > 0)
    out.push({
      poolId,
      fromAccount: member,
      toAccount: commons,
      amount: surplus,
      kind: "surplus",
      memo,
      reverses: null,
      requestId: a.requestKey,
      createdAt: a.at,
      createdBy: a.memberId,
    });
  return out;
}

/**
 * A round's entries, each checked with the pure rules as `postEntries` checks them, without
 * reading every account back to see that it is of this pool: each one is, by construction (the
 * waiting members' accounts are read by pool, the others found or made in it), and reading
 * 50,000 of them cost more than writing the entries.
 */
async function postRoundEntries(tx: Tx, es: readonly NewEntry[]): Promise<void> {
  for (const e of es) {
    const problem = checkEntry(e);
    if (problem) throw new Error(`refusing ledger entry (${problem}): ${JSON.stringify(e)}`);
  }
  await tx.insertEntries(es);
}

/**
 * Hands units to a member: stock goes down, the producing project is credited the effort, and
 * the commons the surplus above it. Producers never get more than the effort. (A round does
 * the same for all its winners at once, in `closeRound`.) `known`: the member's account and the
 * good's stock, when the caller read them in this transaction and nothing changed them since.
 */
async function allocate(tx: Tx, good: GoodRow, a: Allocation, known?: { readonly memberAccount: number; readonly stock: number }): Promise<AllocationRow> {
  const poolId = good.poolId;
  const member = known?.memberAccount ?? (await ensureAccount(tx, poolId, "member", a.memberId));
  const project = await ensureAccount(tx, poolId, "project", good.projectId);
  const commons = await ensureAccount(tx, poolId, "commons", poolId);
  for (const p of allocationEntries(good, a, member, project, commons)) await postEntry(tx, p);
  const current = known?.stock ?? (await tx.good(good.id))?.stock ?? good.stock;
  await tx.setStock(good.id, current - a.qty);
  const row = {
    goodId: good.id,
    requestId: a.requestId,
    roundId: a.roundId,
    memberId: a.memberId,
    qty: a.qty,
    effort: a.effort,
    weight: a.weight,
    cost: a.total,
    at: a.at,
  };
  return { id: await tx.insertAllocation(row), ...row };
}

/**
 * The auction decides in exact amounts: it gets the effort in millionths of a milli-hour, so
 * that its price of a unit is effort x weight with nothing rounded off, and each member's room
 * (balance plus credit limit) likewise, plus just under half a milli-hour. Then "n units at that
 * price fit the room" is exactly "n x effort x weight, rounded once to the milli-hour, fits the
 * balance and limit", which is what the winner is charged.
 */
const EXACT = WEIGHT_ONE;
const exactRoom = (milliHours: number) => milliHours * EXACT + (EXACT / 2 - 1);

/** The price of one unit, in millionths of an hour: effort (milli-hours) x clearing weight (millionths), to the millionth. */
const unitPriceOf = (effort: MilliHours, clearing: WeightPpm): number => Math.round((effort * clearing) / MILLI);

/**
 * Closes a round as of `now`: the auction decides with the pure rule on the waiting members'
 * balances as of that time (entries dated later do not count, so a round closed late decides as
 * it would have on time), then units are handed out, each winner charged units x effort x
 * clearing weight rounded once. Losers and skipped requests stay queued for the next round,
 * which opens at `nextOpensAt`.
 */
export async function closeRound(tx: Tx, round: RoundRow, now: number, requestKey: string, nextOpensAt: number): Promise<RoundClosed> {
  const good = await tx.good(round.goodId);
  if (!good) throw new Error(`round ${round.id} has no good`);
  const pool = await tx.pool(good.poolId);
  if (!pool) throw new Error(`good ${good.id} has no pool`);
  const policy = readPolicy(pool.policy);
  const { effort } = await effortOf(tx, good, policy, now);
  // In the order of their ids, to find a winner's request by a binary search (a round of
  // 100,000 requests holds no map of them beside the list).
  const pending = (await tx.goodRequestsOf(good.id, "pending")).sort((a, b) => a.id - b.id);
  const requestOf = (id: GoodRequestId): GoodRequestRow => {
    let lo = 0;
    let hi = pending.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pending[mid]!.id < id) lo = mid + 1;
      else hi = mid;
    }
    return pending[lo]!;
  };
  const accountIds = new Map<MemberId, AccountId>();
  const exact = roundOutcome({
    bids: pending.map((r) => ({ request: r.id, member: r.memberId, weight: r.weight, units: r.qty - r.filled, at: r.bidAt ?? r.createdAt })),
    supply: good.stock,
    effort: effort * EXACT,
    balances: await (async () => {
      // Every waiting member's balance as of the closing time in one query; without an account, 0.
      const balances = new Map<MemberId, number>();
      for (const r of pending) balances.set(r.memberId, exactRoom(0));
      for (const { memberId, account } of await tx.pendingMemberAccounts(good.poolId, good.id, now)) {
        balances.set(memberId, exactRoom(account.balance));
        accountIds.set(memberId, account.id);
      }
      return balances;
    })(),
    creditLimit: policy.creditLimit * EXACT,
  });
  // What a unit costs, for people to read; each winner pays their units' total, rounded once.
  const outcome: RoundOutcome = { ...exact, unitCost: credit(effort, exact.clearing) };
  const totalOf = (units: number) => unitsCharge(units, effort, outcome.clearing);
  // Only the few members the answer names are looked up by name.
  const handle = async (id: MemberId) => (await tx.member(id))?.handle ?? String(id);
  const projectAccount = outcome.winners.length > 0 ? await ensureAccount(tx, good.poolId, "project", good.projectId) : 0;
  const commonsAccount = outcome.winners.length > 0 ? await ensureAccount(tx, good.poolId, "commons", good.poolId) : 0;
  // The answer names the first winners and skipped members in the auction's order.
  const allocations: Array<{ member: string; qty: number; cost: number }> = [];
  for (const w of outcome.winners.slice(0, ROUND_LINES)) allocations.push({ member: await handle(w.member), qty: w.units, cost: totalOf(w.units) });
  const skipped: Array<{ member: string; qty: number }> = [];
  for (const s of outcome.skipped.slice(0, ROUND_LINES)) skipped.push({ member: await handle(s.member), qty: s.units });
  const total = outcome.winners.reduce((a, w) => a + w.units, 0);
  // What `allocate` does for one member, for every winner: written member by member, a chunk of
  // winners at a time (a round's rows are never all in memory at once), in the order of the
  // members' ids, which is nearly the order of their accounts, requests and notes in the indexes
  // the writes go through, so each index page is visited once rather than once per winner. A
  // member pays their requests' charges (each rounded once) in one entry to the project and one
  // to the commons, and gets one note; the allocations and filled requests stay one per request.
  const winners = [...outcome.winners].sort((a, b) => a.member - b.member || a.request - b.request);
  for (let at = 0; at < winners.length;) {
    const postings: NewEntry[] = [];
    const rows: Array<Omit<AllocationRow, "id">> = [];
    const fills: Array<Pick<GoodRequestRow, "id" | "filled" | "status" | "closedAt">> = [];
    const notes: NewNote[] = [];
    for (const end = Math.min(winners.length, at + ROUND_CHUNK); at < end;) {
      const memberId = winners[at]!.member;
      const member = accountIds.get(memberId) ?? (await ensureAccount(tx, good.poolId, "member", memberId));
      let qty = 0;
      let cost = 0;
      for (; at < winners.length && winners[at]!.member === memberId; at++) {
        const w = winners[at]!;
        const req = requestOf(w.request);
        const charge = totalOf(w.units);
        rows.push({
          goodId: good.id,
          requestId: w.request,
          roundId: round.id,
          memberId,
          qty: w.units,
          effort,
          weight: outcome.clearing,
          cost: charge,
          at: now,
        });
        const filled = req.filled + w.units;
        fills.push(
          filled >= req.qty
            ? { id: w.request, filled, status: "allocated", closedAt: now }
            : { id: w.request, filled, status: req.status, closedAt: req.closedAt },
        );
        qty += w.units;
        cost += charge;
      }
      postings.push(...allocationEntries(good, { memberId, qty, effort, total: cost, at: now, requestKey }, member, projectAccount, commonsAccount));
      notes.push(
        noteRow({ poolId: good.poolId, memberId, createdAt: now }, { kind: "allocated", body: { good: good.name, qty, cost, clearing: outcome.clearing } }),
      );
    }
    await postRoundEntries(tx, postings);
    await tx.insertAllocations(rows);
    await tx.fillGoodRequests(fills);
    await tx.insertNotes(notes);
  }
  if (total > 0) await tx.setStock(good.id, good.stock - total);
  // Skipped members are told too, one note each.
  const passed = [...outcome.skipped].sort((a, b) => a.member - b.member);
  for (let at = 0; at < passed.length;) {
    const notes: NewNote[] = [];
    for (const end = Math.min(passed.length, at + ROUND_CHUNK); at < end;) {
      const memberId = passed[at]!.member;
      let qty = 0;
      let cost = 0;
      for (; at < passed.length && passed[at]!.member === memberId; at++) {
        qty += passed[at]!.units;
        cost += totalOf(passed[at]!.units);
      }
      notes.push(noteRow({ poolId: good.poolId, memberId, createdAt: now }, { kind: "skipped", body: { good: good.name, qty, cost } }));
    }
    await tx.insertNotes(notes);
  }
  // A round that handed nothing out has no price: it does not count as a clearing weight.
  await tx.closeRound(round.id, { closedAt: now, clearingWeight: total > 0 ? outcome.clearing : null, supply: good.stock, allocated: total });
  const queued = outcome.losers.reduce((a, l) => a + l.units, 0) + outcome.skipped.reduce((a, l) => a + l.units, 0);
  if (queued > 0) {
    await tx.insertRound({
      goodId: good.id,
      openedAt: nextOpensAt,
      closesAt: nextOpensAt + policy.roundHours * HOUR_MS,
      closedAt: null,
      clearingWeight: null,
      supply: null,
      allocated: null,
    });
  }
  if (total > 0) {
    const project = await tx.project(good.projectId);
    const rooms = await projectRooms(tx, good.poolId, good.projectId);
    const body: RoundAnnouncement = {
      good: good.name,
      project: project?.slug ?? "?",
      clearing: outcome.clearing,
      unitCost: outcome.unitCost,
      unitPrice: unitPriceOf(effort, outcome.clearing),
      allocated: total,
      members: outcome.winners.length,
      queued,
      stock: good.stock - total,
    };
    await announceTo(tx, good.poolId, rooms, { kind: "round", body }, now);
  }
  return {
    round: round.id,
    good: good.name,
    outcome: { clearing: outcome.clearing, unitCost: outcome.unitCost },
    effort,
    unitPrice: unitPriceOf(effort, outcome.clearing),
    units: total,
    winners: outcome.winners.length,
    allocations,
    skippedMembers: outcome.skipped.length,
    skipped,
    queued,
  };
}

/** A coordinator closes the good's open round now. */
export async function allocateGood(c: PoolCtx, name: string): R<RoundClosed> {
  const g = await findGood(c, name);
  if (!g.ok) return g;
  const denied = await requireCoordinator(c, await projectOfGood(c.tx, g.value), false);
  if (denied) return err(denied);
  await catchUp(c.tx, g.value.poolId, c.now);
  const round = await c.tx.openRound(g.value.id);
  if (!round) return err({ kind: "no_round", good: g.value.name });
  return ok(await closeRound(c.tx, round, c.now, c.requestId, c.now));
}

/**
 * Before anything happens to a pool's goods, what should have happened before now happens
 * first, each as of its own time (see `catchUpGoods`): a request or new units never reach a
 * round that should have closed before them, whether or not the scheduler ran on time.
 */
async function catchUp(tx: Tx, poolId: PoolId, now: number): Promise<void> {
  await catchUpGoods(tx, now, poolId);
}

/** A loan that passed its due date unreturned: marked, and its borrower told. */
export interface OverdueLoan {
  readonly loan: LoanId;
  readonly pool: PoolId;
  readonly good: string;
  readonly member: MemberId;
  readonly dueAt: number;
}

export interface GoodsCaughtUp {
  readonly rounds: RoundClosed[];
  readonly settled: Settled[];
  readonly overdue: OverdueLoan[];
}

/**
 * Everything of the goods that was due by `now` and has not happened yet, in every pool (or
 * one), in the order of its time and each exactly as of that time: loans falling overdue, flat-
 * rate periods ending (settled), auction rounds closing (balances and entries' dates as of the
 * closing time). So it does not matter when this runs: a bot that was down, a scheduler that was
 * late, or a command that comes first all end with the same ledger as if each had happened on
 * time. The scheduler's jobs and every goods command run it; it is safe to run at any moment.
 */
export async function catchUpGoods(tx: Tx, now: number, poolId?: PoolId): Promise<GoodsCaughtUp> {
  const out = { rounds: [] as RoundClosed[], settled: [] as Settled[], overdue: [] as OverdueLoan[] };
  const poolOfGood = new Map<GoodId, PoolId>();
  const poolOf = async (goodId: GoodId) => {
    let p = poolOfGood.get(goodId);
    if (p === undefined) poolOfGood.set(goodId, (p = (await tx.good(goodId))?.poolId ?? -1));
    return p;
  };
  for (let guard = 0; guard < 100_000; guard++) {
    const loan = (await tx.loansFallingOverdue(now, poolId))[0];
    const period = await nextPeriodEnd(tx, now, poolId);
    let round: RoundRow | undefined;
    for (const r of await tx.dueRounds(now)) {
      if (poolId === undefined || (await poolOf(r.goodId)) === poolId) {
        round = r;
        break;
      }
    }
    // At the same moment: a loan falls overdue, then a period ends, then a round closes.
    const times = [loan?.dueAt ?? Infinity, period?.end ?? Infinity, round?.closesAt ?? Infinity];
    const first = Math.min(...times);
    if (first === Infinity) break;
    if (loan && loan.dueAt === first) out.overdue.push(await markOverdue(tx, loan));
    else if (period && period.end === first) out.settled.push(await settleOne(tx, period.good, period.start, period.end, now));
    else if (round) out.rounds.push(await closeRound(tx, round, round.closesAt, `cron:round:${round.id}`, round.closesAt));
  }
  return out;
}

/**
 * Closes every round whose time has come (the scheduler calls it), after and before whatever
 * else of the goods was due first (see `catchUpGoods`). A bot that was down closes each missed
 * round in turn, as of its closing time, so the outcome does not depend on when this runs.
 */
export async function closeDueRounds(tx: Tx, now: number): Promise<RoundClosed[]> {
  return (await catchUpGoods(tx, now)).rounds;
}

/** The loan is overdue as of its due date: marked, and its borrower gets a note dated then. */
async function markOverdue(tx: Tx, loan: LoanRow): Promise<OverdueLoan> {
  const good = await tx.good(loan.goodId);
  if (!good) throw new Error(`loan ${loan.id} has no good`);
  await tx.markLoanOverdue(loan.id, loan.dueAt);
  const pool = await tx.pool(good.poolId);
  const policy = readPolicy(pool?.policy ?? "{}");
  const { effort } = await effortOf(tx, good, policy);
  const body: OverdueNote = { loan: loan.id, good: good.name, dueAt: loan.dueAt, perDay: effort * policy.durableDayPercent };
  await tx.insertNote(noteRow({ poolId: good.poolId, memberId: loan.memberId, createdAt: loan.dueAt }, { kind: "overdue", body }));
  return { loan: loan.id, pool: good.poolId, good: good.name, member: loan.memberId, dueAt: loan.dueAt };
}

/** The member's own pending request leaves the queue. */
export async function cancelRequest(c: PoolCtx, id: GoodRequestId): R<{ request: GoodRequestRow; good: string }> {
  const r = await c.tx.goodRequest(id);
  const good = r ? await c.tx.good(r.goodId) : undefined;
  if (!r || !good || good.poolId !== c.pool.row.id) return err({ kind: "not_found", what: "request", ref: `#${id}` });
  if (r.memberId !== c.member.id) return err({ kind: "not_yours", what: "request", id });
  if (r.status !== "pending") return err({ kind: "request_closed", id, status: r.status });
  await catchUp(c.tx, good.poolId, c.now);
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

/**
 * Subscribes to a flat-rate good, or ends the subscription. A new subscription must fit the
 * credit limit with its expected share of the running period (see `expectedShare`), on top of
 * what the member's waiting requests, loans and other subscriptions hold; ending one is free.
 */
export async function subscribe(c: PoolCtx, name: string, on: boolean): R<{ good: GoodView; subscribed: boolean; share: number }> {
  const g = await findGood(c, name);
  if (!g.ok) return g;
  const good = g.value;
  if (good.model !== "flat-rate") return err(needModel(good, "flat-rate"));
  await catchUp(c.tx, good.poolId, c.now);
  const open = (await c.tx.subscriptions(good.id)).filter((s) => s.until === null);
  const mine = open.find((s) => s.memberId === c.member.id);
  let share = 0;
  if (on) {
    if (mine) return err({ kind: "subscription", good: good.name, subscribed: true });
    share = await expectedShare(c.tx, good, c.pool.policy, c.now, new Set(open.map((s) => s.memberId)).size + 1);
    const balance = (await c.tx.accountById(await ensureAccount(c.tx, c.pool.row.id, "member", c.member.id)))?.balance ?? 0;
    const committed = await committedCharges(c, c.member.id);
    if (!withinCreditLimit(balance - committed, share, c.pool.policy.creditLimit)) {
      return err({
        kind: "insufficient_credit",
        needed: share,
        available: balance - committed + c.pool.policy.creditLimit,
        limit: c.pool.policy.creditLimit,
        committed,
        share: { good: good.name },
      });
    }
    await c.tx.insertSubscription({ goodId: good.id, memberId: c.member.id, since: c.now, until: null });
  } else {
    if (!mine) return err({ kind: "subscription", good: good.name, subscribed: false });
    await c.tx.endSubscription(mine.id, c.now);
  }
  return ok({ good: await viewGood(c.tx, good, c.pool.policy), subscribed: on, share });
}

/**
 * A subscriber's expected share of the running period: the effort expected in it, split among
 * `subscribers`, rounded up. Expected is what was made in the period before it, or what was made
 * in it so far if that is more (our choice: the only forecast the pool has is its past).
 */
export async function expectedShare(tx: Tx, good: GoodRow, policy: Policy, now: number, subscribers: number): Promise<number> {
  const start = await runningPeriodStart(tx, good, policy);
  const made = async (from: number, to: number) => (await tx.productions(good.id, from, to)).reduce((a, p) => a + p.qty * p.effort, 0);
  const before = start > good.createdAt ? await made(periodStart(start - 1, policy.settlePeriod), start) : 0;
  const expected = Math.max(before, await made(start, now + 1));
  return Math.ceil(expected / Math.max(1, subscribers));
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
  readonly pool: PoolId;
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
 * this runs, as of its end (with whatever else of the goods was due before: `catchUpGoods`).
 * With `upTo`, the running period is settled too, up to that instant (a change of
 * settlePeriod does that first).
 */
export async function settlePeriod(tx: Tx, now: number, poolId?: PoolId, upTo?: number): Promise<Settled[]> {
  const out = [...(await catchUpGoods(tx, now, poolId)).settled];
  if (upTo === undefined) return out;
  for (const good of await tx.flatRateGoods()) {
    if (poolId !== undefined && good.poolId !== poolId) continue;
    const start = await runningPeriodStart(tx, good);
    if (start < upTo && !(await tx.settlement(good.id, start))) out.push(await settleOne(tx, good, start, upTo, now));
  }
  return out;
}

async function policyOfPool(tx: Tx, poolId: PoolId): Promise<Policy> {
  return readPolicy((await tx.pool(poolId))?.policy ?? "{}");
}

/** Where the good's running (not yet settled) period starts: where the last settled one ended. */
async function runningPeriodStart(tx: Tx, good: GoodRow, policy?: Policy): Promise<number> {
  const period = (policy ?? (await policyOfPool(tx, good.poolId))).settlePeriod;
  return (await tx.lastSettlementEnd(good.id)) ?? periodStart(good.createdAt, period);
}

/** The flat-rate period (of one pool, if given) that ended first by `now` and is not settled yet. */
async function nextPeriodEnd(tx: Tx, now: number, poolId: PoolId | undefined): Promise<{ good: GoodRow; start: number; end: number } | null> {
  let next: { good: GoodRow; start: number; end: number } | null = null;
  for (const good of await tx.flatRateGoods()) {
    if (poolId !== undefined && good.poolId !== poolId) continue;
    const period = (await policyOfPool(tx, good.poolId)).settlePeriod;
    const start = await runningPeriodStart(tx, good);
    const end = periodEnd(periodStart(start, period), period);
    if (end > now || (next && next.end <= end)) continue;
    if (await tx.settlement(good.id, start)) continue;
    next = { good, start, end };
  }
  return next;
}

/**
 * Settles one period as of its end: its entries are dated then. The shares add up to the
 * effort exactly: effort / subscribers rounded down, and the milli-hours left over one each to
 * the earliest subscribers. A share is never 0 while the period had effort (nothing with an
 * effort is free): when there are fewer milli-hours than subscribers, each of the others pays
 * 0.001 wh too, to the commons, as a surplus above the effort.
 */
async function settleOne(tx: Tx, good: GoodRow, start: number, end: number, now: number): Promise<Settled> {
  const effort = (await tx.productions(good.id, start, end)).reduce((a, p) => a + p.qty * p.effort, 0);
  const subs = (await tx.subscriptions(good.id)).filter((s) => s.since < end && (s.until === null || s.until >= end));
  const members = [...new Set(subs.map((s) => s.memberId))];
  if (effort > 0 && members.length > 0) {
    const project = await ensureAccount(tx, good.poolId, "project", good.projectId);
    const share = Math.floor(effort / members.length);
    const extra = effort - share * members.length;
    const memo = `${good.name} ${new Date(start).toISOString().slice(0, 10)}`;
    for (const [i, m] of members.entries()) {
      const amount = share + (i < extra ? 1 : 0);
      const from = await ensureAccount(tx, good.poolId, "member", m);
      const base = { poolId: good.poolId, fromAccount: from, memo, requestId: `settle:${good.id}:${start}`, createdAt: end, createdBy: null };
      if (amount > 0) await postEntry(tx, { ...base, toAccount: project, amount, kind: "flat-rate" });
      else await postEntry(tx, { ...base, toAccount: await ensureAccount(tx, good.poolId, "commons", good.poolId), amount: 1, kind: "surplus" });
    }
  }
  await tx.insertSettlement({ goodId: good.id, periodStart: start, periodEnd: end, effort, subscribers: members.length, at: now });
  return {
    good: good.name,
    pool: good.poolId,
    periodStart: start,
    periodEnd: end,
    effort,
    subscribers: members.length,
    share: members.length > 0 ? Math.max(effort > 0 ? 1 : 0, Math.floor(effort / members.length)) : 0,
  };
}

/** `pool settle`: an admin runs the settlement of this pool's flat-rate goods now. */
export async function settleNow(c: PoolCtx): R<{ settled: Settled[] }> {
  const denied = requireAdmin(c);
  if (denied) return err(denied);
  return ok({ settled: await settlePeriod(c.tx, c.now, c.pool.row.id) });
}

/** Days of use a loan is charged for by `at`: every started day, at least one. */
export const loanDays = (loan: Pick<LoanRow, "borrowedAt">, at: number): number => Math.max(1, Math.ceil((at - loan.borrowedAt) / DAY_MS));

/**
 * What a member has already spoken for: their waiting requests at the effort of now, the
 * charges their open loans will have by their due dates (or by now, for days past them), and
 * their subscriptions' expected shares of the running periods. `waiting`: the member's waiting
 * requests, when the caller has read them already.
 */
async function committedCharges(c: PoolCtx, memberId: MemberId, waiting?: readonly GoodRequestRow[]): Promise<number> {
  let total = 0;
  const efforts = new Map<GoodId, number>();
  const effortFor = async (goodId: GoodId): Promise<number> => {
    let effort = efforts.get(goodId);
    if (effort === undefined) {
      const good = await c.tx.good(goodId);
      effort = good ? (await effortOf(c.tx, good, c.pool.policy)).effort : 0;
      efforts.set(goodId, effort);
    }
    return effort;
  };
  for (const r of waiting ?? (await c.tx.pendingRequestsOfMember(c.pool.row.id, memberId))) total += (r.qty - r.filled) * (await effortFor(r.goodId));
  for (const l of await c.tx.openLoans(c.pool.row.id, memberId)) {
    const effort = await effortFor(l.goodId);
    total += daysCharge(Math.max(loanDays(l, l.dueAt), loanDays(l, c.now)), effort, c.pool.policy.durableDayPercent);
  }
  // Only the goods the member subscribes to, not every good of the pool.
  const goodIds = new Set((await c.tx.runningSubscriptionsOf(memberId)).map((s) => s.goodId));
  for (const goodId of goodIds) {
    const g = await c.tx.good(goodId);
    if (!g || g.poolId !== c.pool.row.id || g.model !== "flat-rate") continue;
    const open = (await c.tx.subscriptions(g.id)).filter((s) => s.until === null);
    total += await expectedShare(c.tx, g, c.pool.policy, c.now, new Set(open.map((s) => s.memberId)).size);
  }
  return total;
}

export interface Borrowed {
  readonly loan: LoanRow;
  readonly good: string;
  /** What a day of use costs, in millionths of a weighted hour (exact: effort x the day's share). */
  readonly perDay: number;
  /** What the planned days cost, rounded once. */
  readonly planned: number;
}

/**
 * Borrows one item of a durable good; it is charged per day of use when it comes back. The
 * planned days must fit the credit limit, with what the member's requests, loans and
 * subscriptions hold; days past the due date are charged too, also past the limit.
 */
export async function borrowGood(c: PoolCtx, name: string, days: number): R<Borrowed> {
  const g = await findGood(c, name);
  if (!g.ok) return g;
  const good = g.value;
  if (good.model !== "durable") return err(needModel(good, "durable"));
  await catchUp(c.tx, good.poolId, c.now);
  const current = (await c.tx.good(good.id)) ?? good;
  if (current.stock < 1) return err({ kind: "out_of_stock", good: good.name });
  const { effort } = await effortOf(c.tx, good, c.pool.policy);
  const planned = daysCharge(days, effort, c.pool.policy.durableDayPercent);
  const account = await ensureAccount(c.tx, c.pool.row.id, "member", c.member.id);
  const balance = (await c.tx.accountById(account))?.balance ?? 0;
  // What the member's waiting requests, open loans and subscriptions will cost is already spoken for.
  const committed = await committedCharges(c, c.member.id);
  if (!withinCreditLimit(balance - committed, planned, c.pool.policy.creditLimit)) {
    return err({
      kind: "insufficient_credit",
      needed: planned,
      available: balance - committed + c.pool.policy.creditLimit,
      limit: c.pool.policy.creditLimit,
      committed,
    });
  }
  await c.tx.setStock(good.id, current.stock - 1);
  const row = { goodId: good.id, memberId: c.member.id, borrowedAt: c.now, dueAt: c.now + days * DAY_MS, returnedAt: null, charged: null };
  return ok({ loan: { id: await c.tx.insertLoan(row), ...row }, good: good.name, perDay: effort * c.pool.policy.durableDayPercent, planned });
}

/**
 * Returns a loan: charged days x effort x durableDayPercent, every started day of use counted
 * (at least one) and rounded once, to the producing project; days past the due date too, also
 * past the credit limit (they follow from the borrower's choice).
 */
export async function returnGood(c: PoolCtx, id: LoanId): R<{ loan: LoanRow; good: string; days: number; charged: number }> {
  const loan = await c.tx.loan(id);
  const good = loan ? await c.tx.good(loan.goodId) : undefined;
  if (!loan || !good || good.poolId !== c.pool.row.id) return err({ kind: "not_found", what: "loan", ref: `#${id}` });
  if (loan.memberId !== c.member.id) {
    const denied = await requireCoordinator(c, await projectOfGood(c.tx, good), false);
    if (denied) return err({ kind: "not_yours", what: "loan", id });
  }
  if (loan.returnedAt !== null) return err({ kind: "loan_returned", id });
  await catchUp(c.tx, good.poolId, c.now);
  const days = loanDays(loan, c.now);
  const { effort } = await effortOf(c.tx, good, c.pool.policy);
  const charged = daysCharge(days, effort, c.pool.policy.durableDayPercent);
  if (charged > 0) {
    const from = await ensureAccount(c.tx, c.pool.row.id, "member", loan.memberId);
    const to = await ensureAccount(c.tx, c.pool.row.id, "project", good.projectId);
    await postEntry(c.tx, {
      poolId: c.pool.row.id,
      fromAccount: from,
      toAccount: to,
      amount: charged,
      kind: "loan",
      memo: `${good.name}, ${days} day${days === 1 ? "" : "s"}`,
      requestId: c.requestId,
      createdAt: c.now,
      createdBy: c.member.id,
    });
  }
  await c.tx.returnLoan(id, c.now, charged);
  await c.tx.setStock(good.id, ((await c.tx.good(good.id))?.stock ?? good.stock) + 1);
  return ok({ loan: { ...loan, returnedAt: c.now, charged }, good: good.name, days, charged });
}

/**
 * `good return <loan or good>`: a number is the loan's; a good's name returns the member's one
 * loan of it (with several, the refusal lists their numbers).
 */
export async function returnLoanOf(c: PoolCtx, ref: string): R<{ loan: LoanRow; good: string; days: number; charged: number }> {
  const n = typedNumber(ref);
  if (n !== undefined) return returnGood(c, n);
  const good = await findGood(c, ref);
  if (!good.ok) return good;
  const mine = (await c.tx.openLoans(c.pool.row.id, c.member.id)).filter((l) => l.goodId === good.value.id);
  if (mine.length === 0) return err({ kind: "not_found", what: "loan", ref: `of ${good.value.name} out to you` });
  if (mine.length > 1) return err({ kind: "which_loan", good: good.value.name, loans: mine.map((l) => l.id) });
  return returnGood(c, mine[0]!.id);
}

export interface OverdueView {
  readonly loan: LoanId;
  readonly good: string;
  readonly member: string;
  readonly dueAt: number;
  /** Days of use so far, all charged when it comes back. */
  readonly days: number;
  /** What those days cost if it came back now. */
  readonly charged: number;
}

/** The pool's loans past their due date and still out, as of `now` (of one member or one project's goods, if given). */
export async function overdueLoans(c: Pick<PoolCtx, "tx" | "pool" | "now">, filter: { memberId?: MemberId; projectId?: ProjectId }): Promise<OverdueView[]> {
  const out: OverdueView[] = [];
  for (const l of await c.tx.openLoans(c.pool.row.id, filter.memberId)) {
    if (l.dueAt > c.now) continue;
    const good = await c.tx.good(l.goodId);
    if (!good || (filter.projectId !== undefined && good.projectId !== filter.projectId)) continue;
    const days = loanDays(l, c.now);
    const { effort } = await effortOf(c.tx, good, c.pool.policy);
    const member = (await c.tx.member(l.memberId))?.handle ?? "?";
    out.push({ loan: l.id, good: good.name, member, dueAt: l.dueAt, days, charged: daysCharge(days, effort, c.pool.policy.durableDayPercent) });
  }
  return out;
}

export async function listGoods(c: PoolCtx, project: string | undefined, sector: string | undefined): R<{ goods: GoodView[] }> {
  let projectId: ProjectId | undefined;
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
  // The work on a copyable good is the commons' (see workAccount): it never adds to the deficit,
  // so the cap binds only the goods members pay for, and the refusal names them.
  if (g.value.model === "copyable") return g;
  const balance = (await c.tx.account(c.pool.row.id, "project", project.id))?.balance ?? 0;
  if (-balance > c.pool.policy.deficitCap) {
    const goods = (await c.tx.goods(c.pool.row.id, { projectId: project.id })).filter((x) => x.model !== "copyable").map((x) => x.name);
    return err({ kind: "deficit_cap", project: project.slug, deficit: -balance, cap: c.pool.policy.deficitCap, goods });
  }
  return g;
}
