// GIVEN any sequence of goods commands (produce, request, cancel, allocate, borrow, return,
// subscribe, unsubscribe, pool settle, good show), rounds closed by `closeDueRounds` at random
// clock times, settlements by `settlePeriod`, ledger postings through the real `postEntry` that
// put members near the credit limit, verified work, credit-limit changes, replayed request ids
// and garbage, THEN after every step:
//   - `pool audit` is balanced and all balances sum to 0;
//   - no good has more units allocated than produced, and its stock is exactly produced minus
//     allocated minus on loan, never negative;
//   - every allocation costs effort x weight (rounded like `credit`) per unit; the producing
//     project is credited exactly effort x qty, the commons the rest, the member debited both;
//   - in every round that closed, the units went to the highest bids: every winner's weight >=
//     the clearing weight >= every loser's weight, the clearing weight is the highest losing
//     one (at least 1.00), the whole supply is handed out while a bid still loses, winners can
//     pay within the credit limit and skipped members could not: each skipped unit, given back
//     alone, would leave some winner unable to pay the price that results (the bids are the
//     requests pending before the step, read with raw SQL);
//   - before `good request`, `good produce`, `good allocate` and `good cancel` act, the good's
//     rounds past their closing time are closed, each as of its closing time, exactly as the
//     model (the pure `roundOutcome` on the model's balances and stock) predicts; nothing else
//     closes a round early or late, and a request never joins an overdue round;
//   - a request is served at once exactly when, after that catch-up, nobody waits and the stock
//     covers it (a free one even for a member past the limit);
//   - no allocation or borrow takes a member below minus the credit limit (returns and flat-rate
//     settlements may: they are counted, see the report at the end); a borrow is refused
//     exactly when its planned charge, on top of those of the member's open loans, would;
//   - a refused command leaves the database as it was, a replayed request id answers the same
//     and changes nothing, and reading commands change nothing.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Reply } from "../../commands/dispatch.ts";
import { table } from "../../commands/table.ts";
import { parseCommand } from "../../commands/text.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../src/clock.ts";
import { credit, WEIGHT_ONE } from "../../src/core/weights.ts";
import { roundOutcome } from "../../src/core/auction.ts";
import { closeDueRounds, settlePeriod, type RoundClosed } from "../../src/services/goods.ts";
import { ensureAccount } from "../../src/services/context.ts";
import { postEntry } from "../../src/services/ledger.ts";
import { testPool, type TestPool } from "../support/app.ts";

const POOL_ID = 1;
const USERS = ["admin", "alice", "bob", "carol", "dave", "erin", "frank"] as const;
type User = (typeof USERS)[number];
/** Members who only take: most requests come from them. */
const TAKERS = ["carol", "dave", "erin", "frank"] as const;

const GOODS = [
  { name: "bread", coordinator: "alice", model: "per-unit" },
  { name: "cake", coordinator: "alice", model: "per-unit" },
  { name: "soup", coordinator: "alice", model: "flat-rate" },
  { name: "drill", coordinator: "bob", model: "durable" },
  { name: "manual", coordinator: "bob", model: "copyable" },
  { name: "nosuch", coordinator: "alice", model: null },
] as const;
type GoodName = (typeof GOODS)[number]["name"];
const goodOf = (name: GoodName) => GOODS.find((g) => g.name === name)!;

// ---------------------------------------------------------------------------------------------
// Actions, as plain data (so fast-check can shrink them).

/** A user by index, or the good's coordinator (-1): most production is by the right person. */
type Who = number;

type Action =
  | { readonly t: "produce"; readonly who: Who; readonly good: GoodName; readonly qty: number }
  | { readonly t: "request"; readonly who: Who; readonly good: GoodName; readonly qty: number | null; readonly weight: string | null }
  | { readonly t: "cancel"; readonly who: Who; readonly pick: number; readonly own: boolean }
  | { readonly t: "allocate"; readonly who: Who; readonly good: GoodName }
  | { readonly t: "due"; readonly ms: number }
  | { readonly t: "advance"; readonly ms: number }
  | { readonly t: "settle"; readonly who: Who; readonly direct: boolean }
  | { readonly t: "borrow"; readonly who: Who; readonly days: number }
  | { readonly t: "return"; readonly who: Who; readonly pick: number; readonly own: boolean }
  | { readonly t: "subscribe"; readonly who: Who; readonly on: boolean; readonly good: GoodName }
  | { readonly t: "post"; readonly who: Who; readonly target: Target }
  | { readonly t: "work"; readonly who: Who; readonly hours: number }
  | { readonly t: "limit"; readonly value: number }
  | { readonly t: "show"; readonly who: Who; readonly good: GoodName; readonly view: "show" | "list" | "sector" }
  | { readonly t: "replay"; readonly who: Who; readonly pick: number }
  | { readonly t: "garbage"; readonly who: Who; readonly text: string };

/** A balance to post a member to, relative to the credit limit and the per-unit goods' efforts. */
type Target = { readonly base: "limit" | "zero"; readonly units: number; readonly of: "bread" | "cake"; readonly delta: number };

const taker = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 3, max: 6 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 6 }) });
const coordinatorMostly = fc.oneof({ weight: 5, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 6 }) });
const anyone = fc.integer({ min: 0, max: 6 });
const perUnitMostly = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom<GoodName>("bread", "cake") },
  { weight: 1, arbitrary: fc.constantFrom<GoodName>("soup", "drill", "manual", "nosuch") },
);
const anyGood = fc.constantFrom<GoodName>(...GOODS.map((g) => g.name));
const pick = fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 3 }) }, { weight: 1, arbitrary: fc.nat({ max: 30 }) });
const later = fc.constantFrom(10 * MINUTE_MS, 2 * HOUR_MS, 5 * HOUR_MS, 23 * HOUR_MS, 25 * HOUR_MS, 3 * DAY_MS, 8 * DAY_MS);
const madeMostly = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<GoodName>("bread", "cake") },
  { weight: 2, arbitrary: fc.constant<GoodName>("soup") },
  { weight: 1, arbitrary: fc.constantFrom<GoodName>("drill", "manual", "nosuch") },
);

/** Always refused, whoever types them: usage errors, wrong models, unknown things. */
const GARBAGE = [
  "good request bread qty:0",
  "good request bread qty:10001",
  "good request bread weight:0.5",
  "good request bread weight:abc",
  "good request nosuch",
  "good request soup",
  "good request",
  "good produce bread 0",
  "good produce bread -1",
  "good produce bread",
  "good produce manual 1",
  "good allocate",
  "good allocate manual",
  "good cancel 0",
  "good cancel abc",
  "good cancel 999999",
  "good borrow drill",
  "good borrow drill days:0",
  "good borrow drill days:366",
  "good borrow bread days:1",
  "good return 0",
  "good return 999999",
  "good subscribe bread",
  "good unsubscribe drill",
  "good add bakery bread effort:1",
  "good add bakery thing effort:-1",
  "good add bakery thing effort:1 model:rented",
  "good show nosuch",
  "good list nosuch",
  "pool settle now",
];

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant("produce" as const), who: coordinatorMostly, good: madeMostly, qty: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 8 })) }) },
  {
    weight: 12,
    arbitrary: fc.record({
      t: fc.constant("request" as const),
      who: taker,
      good: perUnitMostly,
      qty: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
      weight: fc.option(fc.constantFrom("1", "1.1", "1.25", "1.5", "2", "3.333"), { nil: null, freq: 3 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("cancel" as const), who: taker, pick, own: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("allocate" as const), who: coordinatorMostly, good: perUnitMostly }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("due" as const), ms: later }) },
  // Time passing with nobody closing the rounds: the next command on the good catches up.
  { weight: 5, arbitrary: fc.record({ t: fc.constant("advance" as const), ms: later }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("settle" as const), who: fc.oneof(fc.constant(0), anyone), direct: fc.boolean() }) },
  // Most loans by carol, so that members borrow while their earlier loans are still open.
  { weight: 4, arbitrary: fc.record({ t: fc.constant("borrow" as const), who: fc.oneof({ weight: 3, arbitrary: fc.constant(3) }, { weight: 1, arbitrary: taker }), days: fc.constantFrom(1, 3, 10, 30, 45) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("return" as const), who: fc.oneof(taker, fc.constant(2)), pick, own: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("subscribe" as const), who: taker, on: fc.boolean(), good: fc.oneof({ weight: 6, arbitrary: fc.constant<GoodName>("soup") }, { weight: 1, arbitrary: anyGood }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("post" as const),
      who: taker,
      target: fc.record({ base: fc.constantFrom("limit" as const, "limit" as const, "zero" as const), units: fc.nat({ max: 3 }), of: fc.constantFrom("bread" as const, "cake" as const), delta: fc.constantFrom(-1, 0, 0, 1, 500) }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("work" as const), who: taker, hours: fc.constantFrom(1, 2, 5) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("limit" as const), value: fc.constantFrom(0, 1000, 5000, 10_000) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("show" as const), who: anyone, good: anyGood, view: fc.constantFrom("show" as const, "show" as const, "list" as const, "sector" as const) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("replay" as const), who: anyone, pick }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("garbage" as const), who: anyone, text: fc.constantFrom(...GARBAGE) }) },
);

const params = fc.record({
  creditLimit: fc.constantFrom(1000, 5000, 10_000),
  roundHours: fc.constantFrom(4, 24),
  period: fc.constantFrom("weekly", "monthly"),
  dayPercent: fc.constantFrom("0%", "1%", "1%", "10%"),
  breadEffort: fc.constantFrom(0, 500, 1000, 2000, 3333),
  breadStock: fc.integer({ min: 0, max: 4 }),
  cakeEffort: fc.constantFrom(1, 500, 2000, 7000),
  soupEffort: fc.constantFrom(1, 1000, 2500),
  drillEffort: fc.constantFrom(5000, 20_000, 100_000),
  drillStock: fc.integer({ min: 0, max: 4 }),
});
type Params = typeof params extends fc.Arbitrary<infer P> ? P : never;

const scenario = fc.tuple(params, fc.array(action, { minLength: 15, maxLength: 45, size: "max" }));

// ---------------------------------------------------------------------------------------------
// Raw SQL (to read what the services did, not to drive them).

interface GoodRow {
  id: number;
  project_id: number;
  name: string;
  model: string;
  declared_effort: number;
  stock: number;
  created_at: number;
}
interface RequestRow {
  id: number;
  good_id: number;
  member_id: number;
  qty: number;
  filled: number;
  weight: number;
  status: string;
  created_at: number;
  closed_at: number | null;
}
interface RoundRow {
  id: number;
  good_id: number;
  opened_at: number;
  closes_at: number;
  closed_at: number | null;
  clearing_weight: number | null;
  supply: number | null;
  allocated: number | null;
}
interface AllocationRow {
  id: number;
  good_id: number;
  request_id: number;
  round_id: number | null;
  member_id: number;
  qty: number;
  effort: number;
  weight: number;
  cost: number;
  at: number;
}
interface AccountRow {
  id: number;
  kind: "member" | "project" | "commons";
  owner_id: number;
  balance: number;
}
interface LoanRow {
  id: number;
  good_id: number;
  member_id: number;
  borrowed_at: number;
  due_at: number;
  returned_at: number | null;
  charged: number | null;
}

function sql(t: TestPool) {
  const db = t.store.db.$client;
  const all = <T>(q: string, ...p: unknown[]) => db.prepare(q).all(...p) as T[];
  const one = <T>(q: string, ...p: unknown[]) => db.prepare(q).get(...p) as T;
  return {
    all,
    one,
    goods: () => all<GoodRow>("SELECT * FROM goods ORDER BY id"),
    good: (name: string) => one<GoodRow | undefined>("SELECT * FROM goods WHERE name = ?", name),
    requests: () => all<RequestRow>("SELECT * FROM good_requests ORDER BY id"),
    rounds: () => all<RoundRow>("SELECT * FROM rounds ORDER BY id"),
    allocations: () => all<AllocationRow>("SELECT * FROM allocations ORDER BY id"),
    accounts: () => all<AccountRow>("SELECT id, kind, owner_id, balance FROM accounts WHERE pool_id = ? ORDER BY id", POOL_ID),
    loans: () => all<LoanRow>("SELECT * FROM loans ORDER BY id"),
    member: (handle: string) => one<{ id: number }>("SELECT id FROM members WHERE handle = ?", handle).id,
    handle: (id: number) => one<{ handle: string }>("SELECT handle FROM members WHERE id = ?", id).handle,
    maxId: (tableName: string) => one<{ m: number | null }>(`SELECT max(id) AS m FROM ${tableName}`).m ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------
// State of one run: the harness, what the test knows, and what it saw.

interface Done {
  readonly requestId: string;
  readonly user: User;
  readonly text: string;
  readonly data: unknown;
}

interface State {
  readonly t: TestPool;
  readonly p: Params;
  creditLimit: number;
  n: number;
  readonly done: Done[];
}

/** What the database looked like before a step. */
interface Snap {
  readonly now: number;
  readonly limit: number;
  readonly memberBalance: Map<number, number>;
  readonly goods: Map<number, GoodRow>;
  readonly pending: RequestRow[];
  readonly openRounds: Map<number, RoundRow>;
  readonly closedRounds: Set<number>;
  readonly maxNote: number;
  readonly maxProduction: number;
  readonly maxSettlement: number;
  readonly maxLoan: number;
}

function snapshot(s: State): Snap {
  const q = sql(s.t);
  const memberBalance = new Map<number, number>();
  for (const a of q.accounts()) if (a.kind === "member") memberBalance.set(a.owner_id, a.balance);
  const rounds = q.rounds();
  return {
    now: s.t.clock.now().getTime(),
    limit: s.creditLimit,
    memberBalance,
    goods: new Map(q.goods().map((g) => [g.id, g])),
    pending: q.requests().filter((r) => r.status === "pending"),
    openRounds: new Map(rounds.filter((r) => r.closed_at === null).map((r) => [r.good_id, r])),
    closedRounds: new Set(rounds.filter((r) => r.closed_at !== null).map((r) => r.id)),
    maxNote: q.maxId("member_notes"),
    maxProduction: q.maxId("productions"),
    maxSettlement: q.maxId("settlements"),
    maxLoan: q.maxId("loans"),
  };
}

/** A round the model expects the catch-up to close, as of its own closing time. */
interface CaughtRound {
  readonly closesAt: number;
  readonly supply: number;
  /** Units won, by request. */
  readonly won: ReadonlyMap<number, number>;
  /** Units skipped, by member (as their notes say). */
  readonly skipped: ReadonlyMap<number, number>;
  /** Null when nothing was handed out. */
  readonly clearing: number | null;
}

/** What a command on a good sees once the good's overdue rounds are closed (the model's catch-up). */
interface Caught {
  readonly good: number;
  readonly rounds: readonly CaughtRound[];
  /** The good's requests still waiting, with what they still want. */
  readonly waiting: ReadonlyMap<number, number>;
  readonly stock: number;
  readonly balance: ReadonlyMap<number, number>;
  /** The good's open round after the catch-up, if any: never overdue. */
  readonly open: { readonly closesAt: number } | null;
}

/**
 * The catch-up as the rule says: while the good's open round is due (closesAt <= now) it closes
 * as of its closing time: the auction over the requests waiting then, on the stock and balances
 * of then; if units still wait, the next round opens at that closing time.
 */
function caughtUp(s: State, snap: Snap, goodId: number): Caught {
  const good = snap.goods.get(goodId)!;
  const requests = snap.pending.filter((r) => r.good_id === goodId);
  const waiting = new Map(requests.map((r) => [r.id, r.qty - r.filled]));
  const balance = new Map(snap.memberBalance);
  let stock = good.stock;
  const first = snap.openRounds.get(goodId);
  let open = first ? { closesAt: first.closes_at } : null;
  const rounds: CaughtRound[] = [];
  while (open && open.closesAt <= snap.now) {
    const bids = requests.filter((r) => (waiting.get(r.id) ?? 0) > 0).map((r) => ({ request: r.id, member: r.member_id, weight: r.weight, units: waiting.get(r.id)!, at: r.created_at }));
    const o = roundOutcome({ bids, supply: stock, effort: good.declared_effort, balances: balance, creditLimit: snap.limit });
    const won = new Map<number, number>();
    for (const w of o.winners) {
      won.set(w.request, (won.get(w.request) ?? 0) + w.units);
      waiting.set(w.request, waiting.get(w.request)! - w.units);
      balance.set(w.member, (balance.get(w.member) ?? 0) - o.unitCost * w.units);
    }
    const skipped = new Map<number, number>();
    for (const x of o.skipped) skipped.set(x.member, (skipped.get(x.member) ?? 0) + x.units);
    const handed = o.winners.reduce((a, w) => a + w.units, 0);
    rounds.push({ closesAt: open.closesAt, supply: stock, won, skipped, clearing: handed > 0 ? o.clearing : null });
    stock -= handed;
    const queued = [...o.losers, ...o.skipped].reduce((a, x) => a + x.units, 0);
    open = queued > 0 ? { closesAt: open.closesAt + s.p.roundHours * HOUR_MS } : null;
  }
  for (const [id, n] of waiting) if (n === 0) waiting.delete(id);
  return { good: goodId, rounds, waiting, stock, balance, open };
}

/** How often each interesting thing happened, over all runs. */
const coverage = new Map<string, number>();
const count = (key: string, by = 1) => coverage.set(key, (coverage.get(key) ?? 0) + by);

const MUTATING = (text: string): boolean => {
  const p = parseCommand(table, text);
  if (!p.ok) return false;
  return typeof p.command.mutates === "function" ? p.command.mutates(p.values) : p.command.mutates;
};

const userOf = (who: Who, good?: GoodName): User => (who < 0 ? (good ? goodOf(good).coordinator : "alice") : USERS[who % USERS.length]!);
const hours = (milli: number) => String(milli / 1000);

/** Runs one command: a refusal must leave every table as it was; successes may be replayed. */
async function command(s: State, user: User, text: string, o: { requestId?: string; readOnly?: boolean } = {}): Promise<Reply> {
  const before = s.t.dump();
  const requestId = o.requestId ?? `console:step-${++s.n}`;
  const reply = await s.t.say(user, text, { requestId });
  if (!reply.ok) {
    expect(reply.code, `"${text}" as ${user}: ${reply.message}`).not.toBe("internal");
    expect(s.t.dump(), `refused "${text}" as ${user} (${reply.code}) changed the database`).toBe(before);
  } else if (o.readOnly) {
    expect(s.t.dump(), `"${text}" changed the database`).toBe(before);
  } else if (MUTATING(text) && !reply.replayed) {
    s.done.push({ requestId, user, text, data: reply.data });
  }
  return reply;
}

const okData = (r: Reply): any => {
  if (!r.ok) throw new Error(`refused: ${r.code} ${r.message}`);
  return r.data;
};

// ---------------------------------------------------------------------------------------------
// Invariants after every step.

async function invariants(s: State) {
  const q = sql(s.t);
  // The ledger: `pool audit` balanced, balances sum to zero, each balance is its entries' net.
  const audit = okData(await s.t.say("admin", "pool audit", { requestId: `console:audit-${++s.n}` }));
  expect(audit).toMatchObject({ balanced: true, sum: 0, mismatched: [] });
  const accounts = q.accounts();
  expect(accounts.reduce((a, x) => a + x.balance, 0)).toBe(0);
  const net = new Map(q.all<{ id: number; net: number }>("SELECT a.id, coalesce((SELECT sum(amount) FROM entries WHERE to_account = a.id), 0) - coalesce((SELECT sum(amount) FROM entries WHERE from_account = a.id), 0) AS net FROM accounts a").map((r) => [r.id, r.net]));
  for (const a of accounts) expect(a.balance, `account ${a.id}`).toBe(net.get(a.id));

  const goods = q.goods();
  const allocations = q.allocations();
  const requests = q.requests();
  const rounds = q.rounds();
  const loans = q.loans();
  const produced = new Map(q.all<{ good_id: number; n: number }>("SELECT good_id, sum(qty) AS n FROM productions GROUP BY good_id").map((r) => [r.good_id, r.n]));
  for (const g of goods) {
    // Never more units allocated than produced; stock = produced - allocated - on loan, >= 0.
    const made = produced.get(g.id) ?? 0;
    const taken = allocations.filter((a) => a.good_id === g.id).reduce((a, x) => a + x.qty, 0);
    const onLoan = loans.filter((l) => l.good_id === g.id && l.returned_at === null).length;
    expect(taken, `${g.name}: allocated <= produced`).toBeLessThanOrEqual(made);
    expect(g.stock, `${g.name}: stock`).toBe(made - taken - onLoan);
    expect(g.stock).toBeGreaterThanOrEqual(0);
    if (g.model === "copyable") expect(made + taken + g.stock).toBe(0);
    if (g.model !== "per-unit") expect(taken).toBe(0);
    if (g.model !== "durable") expect(onLoan).toBe(0);
    // A good has a round open exactly while requests for it wait, and never two.
    const open = rounds.filter((r) => r.good_id === g.id && r.closed_at === null);
    const waiting = requests.filter((r) => r.good_id === g.id && r.status === "pending");
    expect(open.length, `${g.name}: open rounds`).toBe(waiting.length > 0 ? 1 : 0);
  }

  // Every allocation is priced at effort x weight, rounded like credit; its request agrees.
  for (const a of allocations) {
    const g = goods.find((x) => x.id === a.good_id)!;
    expect(a.effort).toBe(g.declared_effort);
    expect(a.weight).toBeGreaterThanOrEqual(WEIGHT_ONE);
    expect(a.cost, `allocation ${a.id}`).toBe(credit(a.effort, a.weight) * a.qty);
    if (a.round_id === null) expect(a.weight).toBe(WEIGHT_ONE);
    else expect(a.weight).toBe(rounds.find((r) => r.id === a.round_id)!.clearing_weight);
  }
  for (const r of requests) {
    const filled = allocations.filter((a) => a.request_id === r.id).reduce((a, x) => a + x.qty, 0);
    if (r.status === "access") expect(filled).toBe(0);
    else expect(r.filled, `request ${r.id}`).toBe(filled);
    expect(r.filled).toBeLessThanOrEqual(r.qty);
    if (r.status === "pending") expect(r.filled).toBeLessThan(r.qty);
    if (r.status === "allocated") expect(r.filled).toBe(r.qty);
  }
  for (const r of rounds.filter((x) => x.closed_at !== null)) {
    const n = allocations.filter((a) => a.round_id === r.id).reduce((a, x) => a + x.qty, 0);
    expect(r.allocated).toBe(n);
    expect(n).toBeLessThanOrEqual(r.supply!);
    if (n > 0) expect(r.clearing_weight).toBeGreaterThanOrEqual(WEIGHT_ONE);
    else expect(r.clearing_weight).toBeNull();
  }

  // Producers get the effort, never the price: the project's allocation credits are effort x
  // qty exactly; the commons gets every surplus; the members paid both.
  const entrySum = (kind: string, side: "to_account" | "from_account", account: number) =>
    q.one<{ s: number | null }>(`SELECT sum(amount) AS s FROM entries WHERE kind = ? AND ${side} = ?`, kind, account).s ?? 0;
  const commons = accounts.find((a) => a.kind === "commons")!;
  for (const project of accounts.filter((a) => a.kind === "project")) {
    const effort = allocations.filter((a) => goods.find((g) => g.id === a.good_id)!.project_id === project.owner_id).reduce((a, x) => a + x.effort * x.qty, 0);
    expect(entrySum("allocation", "to_account", project.id), `project ${project.owner_id} credited`).toBe(effort);
    expect(entrySum("surplus", "to_account", project.id)).toBe(0);
  }
  expect(entrySum("surplus", "to_account", commons.id)).toBe(allocations.reduce((a, x) => a + x.cost - x.effort * x.qty, 0));
  for (const m of accounts.filter((a) => a.kind === "member")) {
    const paid = allocations.filter((a) => a.member_id === m.owner_id).reduce((a, x) => a + x.cost, 0);
    expect(entrySum("allocation", "from_account", m.id) + entrySum("surplus", "from_account", m.id), `member ${m.owner_id} paid`).toBe(paid);
    const charged = loans.filter((l) => l.member_id === m.owner_id).reduce((a, l) => a + (l.charged ?? 0), 0);
    expect(entrySum("loan", "from_account", m.id)).toBe(charged);
  }
}

// ---------------------------------------------------------------------------------------------
// What a step did: the rounds it closed, the credit limit, settlements.

type Kind = Action["t"] | "setup";
/** Steps after which a member's balance may be past the credit limit for a reason we note. */
const MAY_PASS_LIMIT = new Set<Kind>(["return", "settle", "post", "setup"]);

/** `caught`: the model's catch-up when the step was a command that did it (and succeeded). */
function checkStep(s: State, snap: Snap, kind: Kind, caught?: Caught) {
  const q = sql(s.t);
  const rounds = q.rounds();
  const allocations = q.allocations();
  const requests = q.requests();
  const accounts = q.accounts();
  const after = new Map(accounts.filter((a) => a.kind === "member").map((a) => [a.owner_id, a.balance]));

  // No allocation or borrow takes anyone past the credit limit.
  for (const [m, b] of after) {
    const was = snap.memberBalance.get(m) ?? 0;
    if (b >= was || b >= -snap.limit) continue;
    if (MAY_PASS_LIMIT.has(kind)) {
      count(`${kind}:past-the-limit`);
      continue;
    }
    expect.unreachable(`${kind} took member ${m} from ${was} to ${b}, past the credit limit ${snap.limit}`);
  }

  // Rounds closed in this step, in the order they closed. A round closed at its own closing
  // time was closed on schedule (by `closeDueRounds`, or by a command's catch-up, as of then);
  // a command closes the good's round it acts on later than its closing time never again.
  const closed = rounds.filter((r) => r.closed_at !== null && !snap.closedRounds.has(r.id)).sort((a, b) => a.closed_at! - b.closed_at! || a.id - b.id);
  const onTime = (r: RoundRow) => r.closed_at === r.closes_at;
  if (closed.length > 1) count("due:several-rounds-at-once");
  for (const r of closed) {
    expect(r.closed_at!, `round ${r.id} closed in the future`).toBeLessThanOrEqual(snap.now);
    if (!onTime(r)) expect(r.closes_at, `round ${r.id} closed by ${kind} after its closing time`).toBeGreaterThan(r.closed_at!);
  }
  // Only `closeDueRounds` and the catch-up close rounds on schedule, the catch-up only the
  // rounds the model expects, of the good the command is about, in order.
  const scheduled = closed.filter(onTime);
  if (kind !== "due") {
    expect(scheduled.map((r) => [r.good_id, r.closes_at]), `${kind} closed rounds on schedule`).toEqual(caught ? caught.rounds.map((c) => [caught.good, c.closesAt]) : []);
    if (caught && caught.rounds.length > 0) count(`${kind}:closed-an-overdue-round-first`);
    if (caught && caught.rounds.length > 1) count(`${kind}:closed-several-overdue-rounds-first`);
  }
  const predicted = (r: RoundRow) => (kind !== "due" && onTime(r) ? caught!.rounds[scheduled.indexOf(r)]! : undefined);
  // A request cancelled in this step was still a bid in the rounds caught up before the cancel.
  const cancelled = new Set(requests.filter((x) => x.status === "cancelled" && snap.pending.some((y) => y.id === x.id)).map((x) => x.id));
  const remaining = new Map(snap.pending.map((r) => [r.id, r.qty - r.filled]));
  const balance = new Map(snap.memberBalance);
  const stock = new Map([...snap.goods].map(([id, g]) => [id, g.stock]));
  // Units made in this step reach the stock after the catch-up, before the step's own round.
  let made = false;
  const addMade = () => {
    if (made) return;
    made = true;
    for (const p of q.all<{ good_id: number; qty: number }>("SELECT good_id, qty FROM productions WHERE id > ?", snap.maxProduction)) stock.set(p.good_id, (stock.get(p.good_id) ?? 0) + p.qty);
  };
  const notes = q.all<{ member_id: number; kind: string; body: string; created_at: number }>("SELECT member_id, kind, body, created_at FROM member_notes WHERE id > ? AND kind = 'skipped'", snap.maxNote);
  // Skipped units by round, from the notes (of the round's good, at its closing instant). When a
  // caught-up round's closing time is exactly now, the step's own round of the good closes at the
  // same instant: the caught-up one's share of the notes is the model's, the own one the rest.
  const skipOf = new Map<number, Map<number, number>>();
  for (const r of closed) {
    if (skipOf.has(r.id)) continue;
    const same = closed.filter((x) => x.good_id === r.good_id && x.closed_at === r.closed_at);
    const name = snap.goods.get(r.good_id)!.name;
    const total = new Map<number, number>();
    for (const n of notes) {
      const body = JSON.parse(n.body) as { good: string; qty: number };
      if (body.good === name && n.created_at === r.closed_at) total.set(n.member_id, (total.get(n.member_id) ?? 0) + body.qty);
    }
    if (same.length === 1) {
      skipOf.set(r.id, total);
      continue;
    }
    expect(same.length).toBe(2);
    const [early, own] = same as [RoundRow, RoundRow];
    expect([onTime(early), onTime(own), kind === "due"]).toEqual([true, false, false]);
    const share = new Map(predicted(early)!.skipped);
    const rest = new Map(total);
    for (const [m, n] of share) rest.set(m, (rest.get(m) ?? 0) - n);
    for (const [m, n] of rest) {
      expect(n, `skipped notes of member ${m} at ${r.closed_at}`).toBeGreaterThanOrEqual(0);
      if (n === 0) rest.delete(m);
    }
    skipOf.set(early.id, share);
    skipOf.set(own.id, rest);
    count("round:caught-up-at-the-same-instant");
  }
  for (const r of closed) {
    const good = snap.goods.get(r.good_id)!;
    if (!onTime(r)) addMade();
    // The bids: requests pending before the step (not cancelled before this round), with what they still want.
    const bids = snap.pending
      .filter((x) => x.good_id === r.good_id && (!cancelled.has(x.id) || onTime(r)) && (remaining.get(x.id) ?? 0) > 0)
      .sort((a, b) => b.weight - a.weight || a.created_at - b.created_at || a.id - b.id);
    const units = bids.flatMap((b) => Array.from({ length: remaining.get(b.id)! }, () => b));
    const won = new Map<number, number>();
    const mine = allocations.filter((a) => a.round_id === r.id);
    for (const a of mine) won.set(a.request_id, (won.get(a.request_id) ?? 0) + a.qty);
    const skip = skipOf.get(r.id)!;
    // Each unit: a winner (its request's best units), skipped (a member's best other units), or a loser.
    const left = new Map(won);
    const skipLeft = new Map(skip);
    const winners: RequestRow[] = [];
    const skipped: RequestRow[] = [];
    const losers: RequestRow[] = [];
    const skippedAt: number[] = [];
    for (const [i, u] of units.entries()) {
      if ((left.get(u.id) ?? 0) > 0) {
        winners.push(u);
        left.set(u.id, left.get(u.id)! - 1);
      } else if ((skipLeft.get(u.member_id) ?? 0) > 0) {
        skipped.push(u);
        skippedAt.push(i);
        skipLeft.set(u.member_id, skipLeft.get(u.member_id)! - 1);
      } else losers.push(u);
    }
    const context = `round ${r.id} of ${good.name}: bids ${JSON.stringify(bids.map((b) => [b.id, b.member_id, b.weight, remaining.get(b.id)]))}, won ${JSON.stringify([...won])}, skipped ${JSON.stringify([...skip])}`;
    // Allocations only to bids that were waiting, within what they asked for; skips likewise.
    expect([...left.values()].every((n) => n === 0), context).toBe(true);
    expect([...skipLeft.values()].every((n) => n === 0), context).toBe(true);
    for (const a of mine) expect(a.at).toBe(r.closed_at);

    const supply = stock.get(r.good_id)!;
    expect(r.supply, context).toBe(supply);
    expect(winners.length, context).toBeLessThanOrEqual(supply);
    // While a bid loses, the whole supply is handed out.
    if (losers.length > 0) expect(winners.length, context).toBe(supply);
    else expect(winners.length, context).toBe(Math.min(supply, units.length - skipped.length));
    const clearing = Math.max(WEIGHT_ONE, ...losers.map((u) => u.weight));
    const unitCost = credit(good.declared_effort, clearing);
    if (winners.length > 0) {
      expect(r.clearing_weight, context).toBe(clearing);
      for (const w of winners) expect(w.weight, context).toBeGreaterThanOrEqual(clearing);
      for (const a of mine) expect(a.cost).toBe(unitCost * a.qty);
    } else expect(r.clearing_weight).toBeNull();
    for (const l of losers) expect(l.weight, context).toBeLessThanOrEqual(clearing);
    // Winners could pay within the limit (as the round saw their balances); skipped members
    // could not pay one more unit even at the highest bid's price (see the auction property).
    const wonBy = new Map<number, number>();
    for (const w of winners) wonBy.set(w.member_id, (wonBy.get(w.member_id) ?? 0) + 1);
    // (A unit that costs nothing goes even to a member past the limit: nothing to pay.)
    for (const [m, n] of wonBy) if (unitCost > 0) expect(n * unitCost, `${context}: member ${m} pays`).toBeLessThanOrEqual((balance.get(m) ?? 0) + snap.limit);
    if (unitCost === 0 && [...wonBy.keys()].some((m) => (balance.get(m) ?? 0) < -snap.limit)) count("round:free-unit-past-the-limit");
    const top = Math.max(WEIGHT_ONE, ...units.map((u) => u.weight));
    for (const m of new Set(skipped.map((u) => u.member_id))) {
      expect((balance.get(m) ?? 0) + snap.limit, `${context}: member ${m} skipped`).toBeLessThan(((wonBy.get(m) ?? 0) + 1) * credit(good.declared_effort, top));
    }
    // Skipped units were given back where they could be: each one, given back alone (everything
    // else as the round left it), would leave some winner unable to pay the price that results.
    for (const i of skippedAt) {
      const eligible = units.filter((_, k) => k === i || !skippedAt.includes(k));
      const cost = credit(good.declared_effort, Math.max(WEIGHT_ONE, eligible[supply]?.weight ?? 0));
      const by = new Map<number, number>();
      for (const u of eligible.slice(0, supply)) by.set(u.member_id, (by.get(u.member_id) ?? 0) + 1);
      const short = cost > 0 && [...by].some(([m, n]) => n * cost > (balance.get(m) ?? 0) + snap.limit);
      expect(short, `${context}: unit ${i} (request ${units[i]!.id}) could be given back at ${cost} a unit`).toBe(true);
    }
    // A round the catch-up closed went as the model says.
    const model = predicted(r);
    if (model) {
      expect(r.closes_at).toBe(model.closesAt);
      expect(supply, context).toBe(model.supply);
      expect(won, context).toEqual(model.won);
      expect(new Map([...skip].filter(([, n]) => n > 0)), context).toEqual(model.skipped);
      expect(r.clearing_weight, context).toBe(model.clearing);
    }

    for (const a of mine) {
      balance.set(a.member_id, (balance.get(a.member_id) ?? 0) - a.cost);
      remaining.set(a.request_id, remaining.get(a.request_id)! - a.qty);
      // Nothing is allocated as of a time before it was asked for (a request never joins an overdue round).
      expect(a.at, `allocation ${a.id} before its request`).toBeGreaterThanOrEqual(requests.find((x) => x.id === a.request_id)!.created_at);
    }
    stock.set(r.good_id, supply - winners.length);
    count(kind !== "due" && onTime(r) ? `round:caught-up-by-${kind}` : `round:closed-by-${kind}`);
    if (winners.length > 0) count("round:allocated");
    if (winners.length === 0) count("round:nothing-handed-out");
    if (losers.length > 0 && winners.length > 0) count("round:with-losers");
    if (clearing > WEIGHT_ONE && winners.length > 0) count("round:clearing-above-1");
    if (skipped.length > 0) count("round:with-skips");
    if (skipped.length > 0 && winners.length > 0) count("round:skip-and-next-bid-wins");
    if (skipped.some((u) => (wonBy.get(u.member_id) ?? 0) > 0)) count("round:skipped-member-won-some");
    if (mine.some((a) => remaining.get(a.request_id)! > 0)) count("round:partial-fill");
    if (mine.some((a) => snap.pending.find((x) => x.id === a.request_id)!.filled > 0)) count("round:second-fill");
  }

  // Settlements made in this step: each period's effort split among those subscribed at its end.
  for (const st of q.all<{ id: number; good_id: number; period_start: number; period_end: number; effort: number; subscribers: number; at: number }>("SELECT * FROM settlements WHERE id > ?", snap.maxSettlement)) {
    const good = q.goods().find((g) => g.id === st.good_id)!;
    expect(st.period_end).toBe(nextPeriod(st.period_start, s.p.period));
    expect(st.period_end).toBeLessThanOrEqual(snap.now);
    const effort = q.one<{ s: number | null }>("SELECT sum(qty * effort) AS s FROM productions WHERE good_id = ? AND at >= ? AND at < ?", st.good_id, st.period_start, st.period_end).s ?? 0;
    expect(st.effort).toBe(effort);
    const subs = q.one<{ n: number }>("SELECT count(DISTINCT member_id) AS n FROM subscriptions WHERE good_id = ? AND since < ? AND (until IS NULL OR until >= ?)", st.good_id, st.period_end, st.period_end).n;
    expect(st.subscribers).toBe(subs);
    const paid = q.all<{ amount: number; to_account: number; kind: string }>("SELECT amount, to_account, kind FROM entries WHERE request_id = ?", `settle:${st.good_id}:${st.period_start}`);
    const project = accounts.find((a) => a.kind === "project" && a.owner_id === good.project_id);
    expect(paid.reduce((a, e) => a + e.amount, 0)).toBe(subs > 0 ? effort : 0);
    for (const e of paid) expect([e.to_account, e.kind]).toEqual([project!.id, "flat-rate"]);
    if (paid.length > 0) expect(Math.max(...paid.map((e) => e.amount)) - Math.min(...paid.map((e) => e.amount))).toBeLessThanOrEqual(1);
    count(subs > 0 && effort > 0 ? "settle:split-among-subscribers" : "settle:nothing-to-split");
  }
}

/** End of the settlement period starting at `start`: a week (Monday 00:00 UTC) or a month. */
function nextPeriod(start: number, period: string): number {
  const d = new Date(start);
  if (period === "weekly") {
    expect(d.getUTCDay()).toBe(1);
    return start + 7 * DAY_MS;
  }
  expect(d.getUTCDate()).toBe(1);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

// ---------------------------------------------------------------------------------------------
// Steps.

async function step(s: State, a: Action) {
  const q = sql(s.t);
  const snap = snapshot(s);
  const effortOf = (name: GoodName) => q.good(name)?.declared_effort ?? 0;
  const memberOf = (u: User) => q.member(u);
  const room = (u: User) => (snap.memberBalance.get(memberOf(u)) ?? 0) + snap.limit;
  /** What a member's open loans (per day x days planned, at least one) will cost. */
  const loanCharges = (u: User) => {
    const drill = q.good("drill");
    const daily = drill ? Math.round((drill.declared_effort * dayPercent(s)) / 1000) : 0;
    return q
      .loans()
      .filter((l) => l.member_id === memberOf(u) && l.returned_at === null)
      .reduce((x, l) => x + daily * Math.max(1, Math.ceil((l.due_at - l.borrowed_at) / DAY_MS)), 0);
  };
  /** What a member's waiting requests hold at the effort (those of `caught.good` as the catch-up left them). */
  const waitingCharges = (u: User, caught?: Caught) =>
    snap.pending
      .filter((r) => r.member_id === memberOf(u) && r.good_id !== caught?.good)
      .reduce((x, r) => x + (r.qty - r.filled) * (snap.goods.get(r.good_id)?.declared_effort ?? 0), 0) +
    (caught ? snap.pending.filter((r) => r.member_id === memberOf(u) && r.good_id === caught.good).reduce((x, r) => x + (caught.waiting.get(r.id) ?? 0) * (snap.goods.get(r.good_id)?.declared_effort ?? 0), 0) : 0);
  /** The model's catch-up, when the step's command did one (it is rolled back with a refusal). */
  let caught: Caught | undefined;
  /** The round the step closed itself, at its instant (not on schedule). */
  const ownClosed = (goodId: number) => q.rounds().filter((r) => r.good_id === goodId && !snap.closedRounds.has(r.id) && r.closed_at !== null && r.closed_at !== r.closes_at);
  switch (a.t) {
    case "produce": {
      const user = userOf(a.who, a.good);
      const g = q.good(a.good);
      const reply = await command(s, user, `good produce ${a.good} ${a.qty}`);
      const model = goodOf(a.good).model;
      expect(reply.ok, `produce ${a.good} as ${user}`).toBe(model !== null && model !== "copyable" && user === goodOf(a.good).coordinator);
      if (reply.ok && g) {
        // The overdue rounds close first, with the stock from before; then the units made while
        // fewer are waiting than there are now go to the waiting at once.
        caught = caughtUp(s, snap, g.id);
        const waiting = [...caught.waiting.values()].reduce((x, n) => x + n, 0);
        const closes = caught.open !== null && waiting <= caught.stock + a.qty;
        const own = ownClosed(g.id);
        expect(own.map((r) => r.closes_at)).toEqual(closes ? [caught.open!.closesAt] : []);
        expect(own.every((r) => r.closed_at === snap.now)).toBe(true);
        expect(okData(reply).allocated.length > 0).toBe(closes && q.allocations().some((x) => x.round_id === own[0]!.id));
        if (closes) count("produce:served-the-waiting");
        if (closes && caught.rounds.length > 0) count("produce:closed-an-overdue-round-then-served-the-waiting");
      }
      break;
    }
    case "request": {
      const user = userOf(a.who);
      const g = q.good(a.good);
      const qty = a.qty ?? 1;
      const text = `good request ${a.good}${a.qty === null ? "" : ` qty:${a.qty}`}${a.weight === null ? "" : ` weight:${a.weight}`}`;
      const reply = await command(s, user, text);
      const model = goodOf(a.good).model;
      if (model === null) expect(!reply.ok && reply.code).toBe("not_found");
      else if (model === "copyable") expect(okData(reply).request).toMatchObject({ status: "access", cost: 0 });
      else if (model !== "per-unit") expect(!reply.ok && reply.code).toBe("good_model");
      else {
        // After the catch-up: refused when the member could not pay it at the effort with what
        // their waiting requests and open loans hold, unless it costs nothing; else at once
        // exactly when nobody waits and the stock covers it.
        const after = caughtUp(s, snap, g!.id);
        const queue = after.waiting.size > 0;
        const cost = effortOf(a.good) * qty;
        const roomNow = (after.balance.get(memberOf(user)) ?? 0) + snap.limit;
        const held = waitingCharges(user, after) + loanCharges(user);
        if (cost > 0 && cost > roomNow - held) {
          expect(!reply.ok && reply.code).toBe("insufficient_credit");
          count(queue || after.stock < qty ? "request:refused-to-wait" : "request:refused-past-the-limit");
          if (cost <= roomNow) count("request:refused-for-what-is-held");
        } else if (!queue && after.stock >= qty) {
          {
            expect(okData(reply).request).toMatchObject({ status: "allocated", qty, cost: cost / 1000 });
            count("request:allocated-at-once");
            if (cost === 0 && roomNow < 0) count("request:free-past-the-limit");
          }
        } else {
          const r = okData(reply).request;
          expect(r).toMatchObject({ status: "pending", qty, weight: Number(a.weight ?? "1") });
          // It joins the round open after the catch-up, which is never overdue, or opens one.
          const closesAt = after.open ? after.open.closesAt : snap.now + s.p.roundHours * HOUR_MS;
          expect(r.roundClosesAt).toBe(new Date(closesAt).toISOString());
          expect(closesAt).toBeGreaterThan(snap.now);
          count(after.open ? "request:joined-a-round" : "request:opened-a-round");
          if (after.rounds.length > 0 && after.open) count("request:joined-the-reopened-round");
        }
        if (reply.ok) caught = after;
      }
      break;
    }
    case "cancel": {
      // Mostly the owner of a waiting request; else anyone, for any request or none.
      const all = q.requests();
      const waiting = all.filter((r) => r.status === "pending");
      const user = a.own && waiting.length > 0 ? (q.handle(waiting[a.pick % waiting.length]!.member_id) as User) : userOf(a.who);
      const me = memberOf(user);
      const ordered = [...all.filter((r) => r.member_id === me && r.status === "pending"), ...all.filter((r) => r.member_id !== me || r.status !== "pending")];
      const target = a.own && waiting.length > 0 ? waiting[a.pick % waiting.length]! : ordered[a.pick % (ordered.length + 2)];
      const id = target?.id ?? 900 + a.pick;
      const reply = await command(s, user, `good cancel ${id}`);
      // A waiting request the catch-up serves in full is closed by the time the cancel looks.
      const after = target && target.status === "pending" && target.member_id === me ? caughtUp(s, snap, target.good_id) : undefined;
      const served = after !== undefined && !after.waiting.has(target!.id);
      const expected = !target ? "not_found" : target.member_id !== me ? "not_yours" : target.status !== "pending" || served ? "request_closed" : "ok";
      expect(reply.ok ? "ok" : reply.code).toBe(expected);
      if (served) count("cancel:served-by-the-overdue-round");
      if (reply.ok) {
        caught = after!;
        const last = after!.waiting.size === 1;
        expect(q.rounds().some((r) => r.good_id === target!.good_id && r.closed_at === null)).toBe(!last);
        expect(ownClosed(target!.good_id).map((r) => r.closes_at)).toEqual(last ? [after!.open!.closesAt] : []);
        count(last ? "cancel:closed-the-round" : "cancel:others-still-wait");
      }
      break;
    }
    case "allocate": {
      const user = userOf(a.who, a.good);
      const g = q.good(a.good);
      const reply = await command(s, user, `good allocate ${a.good}`);
      // The round it closes is the one open after the catch-up: none if the catch-up served everyone.
      const after = g ? caughtUp(s, snap, g.id) : undefined;
      if (!g) expect(!reply.ok && reply.code).toBe("not_found");
      else if (user !== goodOf(a.good).coordinator) expect(!reply.ok && reply.code).toBe("forbidden");
      else if (!after!.open) {
        expect(!reply.ok && reply.code).toBe("no_round");
        if (snap.openRounds.has(g.id)) count("allocate:no-round-left-after-catch-up");
      } else {
        caught = after!;
        // The reply tells what the database says.
        const round = okData(reply).round;
        const own = ownClosed(g.id);
        expect(own.map((r) => [r.closes_at, r.closed_at])).toEqual([[after!.open!.closesAt, snap.now]]);
        const row = own[0]!;
        expect(round.id).toBe(row.id);
        const mine = q.allocations().filter((x) => x.round_id === row.id);
        expect(round.allocations).toEqual(mine.map((x) => ({ member: q.handle(x.member_id), qty: x.qty, cost: x.cost / 1000 })));
        if (mine.length > 0) expect(round.clearingWeight * WEIGHT_ONE).toBeCloseTo(row.clearing_weight!, 3);
        const queued = q.requests().filter((r) => r.good_id === g.id && r.status === "pending").reduce((x, r) => x + r.qty - r.filled, 0);
        expect(round.queued).toBe(queued);
        // The skipped it reports are its notes (less those of a round caught up at this instant).
        const noted = new Map<number, number>();
        for (const n of q.all<{ member_id: number; body: string }>("SELECT member_id, body FROM member_notes WHERE id > ? AND kind = 'skipped' AND created_at = ?", snap.maxNote, snap.now)) {
          const body = JSON.parse(n.body) as { good: string; qty: number };
          if (body.good === g.name) noted.set(n.member_id, (noted.get(n.member_id) ?? 0) + body.qty);
        }
        for (const c of after!.rounds.filter((x) => x.closesAt === snap.now)) for (const [m, n] of c.skipped) noted.set(m, (noted.get(m) ?? 0) - n);
        const reported = new Map<number, number>();
        for (const x of round.skipped as Array<{ member: string; qty: number }>) reported.set(memberOf(x.member as User), (reported.get(memberOf(x.member as User)) ?? 0) + x.qty);
        expect(reported).toEqual(new Map([...noted].filter(([, n]) => n !== 0)));
      }
      break;
    }
    case "due":
    case "advance": {
      s.t.clock.advance(a.ms);
      if (a.t === "advance") return checkStep(s, snapshot(s), a.t);
      const now = s.t.clock.now().getTime();
      const before = snapshot(s);
      const closed: RoundClosed[] = await s.t.store.transaction((tx) => closeDueRounds(tx, now));
      // The service's answer agrees with the database, round by round, in order.
      const rows = q.rounds().filter((r) => r.closed_at !== null && !before.closedRounds.has(r.id)).sort((x, y) => x.closed_at! - y.closed_at! || x.id - y.id);
      expect(closed.map((c) => c.round)).toEqual(rows.map((r) => r.id));
      for (const [i, c] of closed.entries()) {
        const row = rows[i]!;
        // Each round closes as of its own closing time.
        expect(row.closed_at).toBe(row.closes_at);
        expect(row.closed_at).toBeLessThanOrEqual(now);
        const mine = q.allocations().filter((x) => x.round_id === row.id);
        expect(c.allocations).toEqual(mine.map((x) => ({ member: q.handle(x.member_id), qty: x.qty, cost: x.cost })));
        if (mine.length > 0) expect(c.outcome.clearing).toBe(row.clearing_weight);
      }
      if (closed.length > 0) count("due:closed-rounds");
      // Nothing is due any more: running it again changes nothing.
      const dump = s.t.dump();
      expect(await s.t.store.transaction((tx) => closeDueRounds(tx, now))).toEqual([]);
      expect(s.t.dump()).toBe(dump);
      checkStep(s, before, "due");
      return invariants(s);
    }
    case "settle": {
      const user = userOf(a.who);
      if (a.direct) {
        const now = s.t.clock.now().getTime();
        await s.t.store.transaction((tx) => settlePeriod(tx, now));
        const dump = s.t.dump();
        expect(await s.t.store.transaction((tx) => settlePeriod(tx, now, POOL_ID))).toEqual([]);
        expect(s.t.dump()).toBe(dump);
      } else {
        const reply = await command(s, user, "pool settle");
        expect(reply.ok ? "ok" : reply.code).toBe(user === "admin" ? "ok" : "forbidden");
      }
      // Every ended period of every flat-rate good is settled now, once.
      if (a.direct || user === "admin") {
        const soup = q.good("soup")!;
        const settled = q.all<{ period_start: number }>("SELECT period_start FROM settlements WHERE good_id = ? ORDER BY period_start", soup.id).map((r) => r.period_start);
        const expected: number[] = [];
        for (let start = periodStartOf(soup.created_at, s.p.period); nextPeriod(start, s.p.period) <= snap.now; start = nextPeriod(start, s.p.period)) expected.push(start);
        expect(settled).toEqual(expected);
      }
      break;
    }
    case "borrow": {
      const user = userOf(a.who);
      const drill = q.good("drill")!;
      const daily = Math.round((drill.declared_effort * dayPercent(s)) / 1000);
      // The planned charges of the member's open loans and their waiting requests are spoken for.
      const committed = loanCharges(user) + waitingCharges(user);
      const reply = await command(s, user, `good borrow drill days:${a.days}`);
      const charge = daily * a.days;
      const expected = drill.stock < 1 ? "out_of_stock" : charge > 0 && charge > room(user) - committed ? "insufficient_credit" : "ok";
      expect(reply.ok ? "ok" : reply.code).toBe(expected);
      count(`borrow:${expected}`);
      if (expected === "insufficient_credit" && charge <= room(user)) count("borrow:refused-for-open-loans");
      if (expected !== "out_of_stock" && committed > 0) count("borrow:counted-open-loans");
      if (expected === "ok" && charge === 0 && room(user) < 0) count("borrow:free-past-the-limit");
      break;
    }
    case "return": {
      const loans = q.loans();
      // Mostly the borrower of an open loan; else anyone, for any loan or none.
      const open = loans.filter((l) => l.returned_at === null);
      const user = a.own && open.length > 0 ? (q.handle(open[a.pick % open.length]!.member_id) as User) : userOf(a.who);
      const me = memberOf(user);
      const ordered = [...loans.filter((l) => l.member_id === me && l.returned_at === null), ...loans.filter((l) => l.member_id !== me || l.returned_at !== null)];
      const loan = ordered[a.pick % (ordered.length + 2)];
      const reply = await command(s, user, `good return ${loan?.id ?? 900 + a.pick}`);
      const mayReturn = loan && (loan.member_id === me || user === "bob");
      const expected = !loan ? "not_found" : !mayReturn ? "not_yours" : loan.returned_at !== null ? "loan_returned" : "ok";
      expect(reply.ok ? "ok" : reply.code).toBe(expected);
      if (reply.ok) {
        // Charged per started day of use, at least one.
        const days = Math.max(1, Math.ceil((snap.now - loan!.borrowed_at) / DAY_MS));
        const daily = Math.round((q.good("drill")!.declared_effort * dayPercent(s)) / 1000);
        expect(okData(reply).loan).toMatchObject({ days, charged: (days * daily) / 1000 });
        if (snap.now > loan!.due_at) count("return:late");
        count("return:ok");
      }
      break;
    }
    case "subscribe": {
      const user = userOf(a.who);
      const g = q.good(a.good);
      const reply = await command(s, user, `good ${a.on ? "subscribe" : "unsubscribe"} ${a.good}`);
      const subscribed = g ? q.one<{ n: number }>("SELECT count(*) AS n FROM subscriptions WHERE good_id = ? AND member_id = ? AND until IS NULL", g.id, memberOf(user)).n : 0;
      const expected = !g ? "not_found" : goodOf(a.good).model !== "flat-rate" ? "good_model" : reply.ok ? "ok" : "subscription";
      expect(reply.ok ? "ok" : reply.code).toBe(expected);
      if (reply.ok) expect(subscribed).toBe(a.on ? 1 : 0);
      break;
    }
    case "post": {
      // A member's balance set near the credit limit, through the real postEntry.
      const user = userOf(a.who);
      const m = memberOf(user);
      const target =
        (a.target.base === "limit" ? -snap.limit : 0) + a.target.units * (effortOf(a.target.of) || 1000) + a.target.delta;
      const accounts = q.accounts();
      const account = accounts.find((x) => x.kind === "member" && x.owner_id === m)!;
      const commons = accounts.find((x) => x.kind === "commons")!;
      const amount = target - account.balance;
      if (amount === 0) return;
      await s.t.store.transaction((tx) =>
        postEntry(tx, {
          poolId: POOL_ID,
          fromAccount: amount > 0 ? commons.id : account.id,
          toAccount: amount > 0 ? account.id : commons.id,
          amount: Math.abs(amount),
          kind: "test",
          memo: "property: balance near the limit",
          requestId: `test:post-${++s.n}`,
          createdAt: snap.now,
          createdBy: null,
        }),
      );
      expect(q.accounts().find((x) => x.id === account.id)!.balance).toBe(target);
      count("post:ok");
      break;
    }
    case "work": {
      // Credit the honest way: alice posts, the member claims and reports, alice verifies.
      const user = userOf(a.who);
      const posted = await command(s, "alice", `task post bakery Bake ${s.n} hours:${a.hours}`);
      const id = okData(posted).task.id as number;
      let verified = true;
      for (const [who, text] of [
        [user, `task claim ${id}`],
        [user, `task done ${id}`],
        ["alice", `task verify ${id} @${user}`],
      ] as const) {
        const r = await command(s, who, text);
        if (!r.ok) {
          count(`work:${r.code}`);
          verified = false;
          break;
        }
      }
      if (verified) count("work:verified");
      break;
    }
    case "limit": {
      const reply = await command(s, "admin", `pool policy creditLimit ${hours(a.value)}`);
      expect(reply.ok).toBe(true);
      s.creditLimit = a.value;
      break;
    }
    case "show": {
      const user = userOf(a.who);
      if (a.view !== "show") {
        const reply = await command(s, user, a.view === "list" ? "good list" : "sector report", { readOnly: true });
        expect(reply.ok).toBe(true);
        break;
      }
      const reply = await command(s, user, `good show ${a.good}`, { readOnly: true });
      const g = q.good(a.good);
      if (!g) {
        expect(!reply.ok && reply.code).toBe("not_found");
        break;
      }
      const shown = okData(reply).good;
      const waiting = snap.pending.filter((r) => r.good_id === g.id);
      expect(shown).toMatchObject({ stock: g.stock, demand: waiting.reduce((x, r) => x + r.qty - r.filled, 0), effort: g.declared_effort / 1000 });
      expect(shown.openRound === null).toBe(!snap.openRounds.has(g.id));
      break;
    }
    case "replay": {
      // A request id that succeeded answers the same to its caller, whenever; anyone else is
      // refused (half the time the caller, else anyone). Neither changes anything.
      const earlier = s.done[a.pick % Math.max(1, s.done.length)];
      if (!earlier) return;
      const before = s.t.dump();
      const who = a.pick % 2 === 0 ? earlier.user : userOf(a.who);
      const reply = await s.t.say(who, earlier.text, { requestId: earlier.requestId });
      if (who === earlier.user) {
        expect(reply.ok && reply.replayed).toBe(true);
        expect(reply.ok && reply.data).toStrictEqual(earlier.data);
        count("replay:ok");
      } else {
        expect(reply).toMatchObject({ ok: false, code: "request_reused" });
        count("replay:refused");
      }
      expect(s.t.dump()).toBe(before);
      break;
    }
    case "garbage": {
      const reply = await command(s, userOf(a.who), a.text);
      expect(reply.ok, `garbage "${a.text}" was accepted`).toBe(false);
      count(`garbage:${reply.ok ? "ok" : reply.code}`);
      break;
    }
  }
  checkStep(s, snap, a.t, caught);
  await invariants(s);
}

const dayPercent = (s: State) => Number(s.p.dayPercent.replace("%", "")) * 10;

function periodStartOf(t: number, period: string): number {
  const d = new Date(t);
  if (period === "weekly") return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

async function setup(p: Params): Promise<State> {
  // A Thursday late in a month: weeks and a month end come soon.
  const t = await testPool({ start: "2026-11-26T09:00:00Z" });
  const s: State = { t, p, creditLimit: p.creditLimit, n: 0, done: [] };
  const run = async (user: User, text: string) => okData(await command(s, user, text));
  await run("admin", "pool create Test");
  await run("alice", "project create bakery The Bakery");
  await run("bob", "project create bikes Bike Workshop");
  for (const u of TAKERS) await run(u, "me balance");
  await run("admin", `pool policy creditLimit ${hours(p.creditLimit)}`);
  await run("admin", `pool policy roundHours ${p.roundHours}`);
  await run("admin", `pool policy settlePeriod ${p.period}`);
  await run("admin", `pool policy durableDayPercent ${p.dayPercent}`);
  await run("alice", `good add bakery bread effort:${hours(p.breadEffort)} unit:loaf sector:food stock:${p.breadStock}`);
  await run("alice", `good add bakery cake effort:${hours(p.cakeEffort)} sector:food`);
  await run("alice", `good add bakery soup effort:${hours(p.soupEffort)} model:flat-rate sector:food`);
  await run("bob", `good add bikes drill effort:${hours(p.drillEffort)} model:durable stock:${p.drillStock}`);
  await run("bob", "good add bikes manual effort:10 model:copyable");
  await invariants(s);
  return s;
}

async function runScenario(p: Params, actions: readonly Action[]) {
  const s = await setup(p);
  try {
    for (const a of actions) await step(s, a);
    // The end of the story: everything due is closed and settled, and the rules still hold.
    await step(s, { t: "due", ms: 8 * DAY_MS });
    await step(s, { t: "settle", who: 0, direct: false });
  } finally {
    await s.t.close();
  }
}

// Three stories run before the random ones, so that each way of catching up happens in every run
// (random sequences reach them too, but a command is seldom the first to touch an overdue round).
const CARER: Params = { creditLimit: 10_000, roundHours: 4, period: "weekly", dayPercent: "1%", breadEffort: 1000, breadStock: 0, cakeEffort: 500, soupEffort: 1, drillEffort: 20_000, drillStock: 2 };
// The coverage check below asks that rare outcomes (a skipped bid whose units the next bid wins)
// occurred; since requests wait only when their member can pay, some are rare enough that an
// unseeded run misses them now and then. CI runs a fixed seed; DPOOL_PROPERTY_SEED explores others.
const SEED = Number(process.env.DPOOL_PROPERTY_SEED ?? 20261130);
const EXAMPLES: Array<[[Params, Action[]]]> = [
  // The produce that first closes the overdue round with the old stock, then serves everyone
  // waiting with the new; an allocate that first closes the overdue round, then the reopened
  // one; erin's cancel after her round is overdue again, which closes it first.
  [
    [
      CARER,
      [
        { t: "request", who: 3, good: "bread", qty: 2, weight: "2" },
        { t: "request", who: 4, good: "bread", qty: 1, weight: null },
        { t: "produce", who: -1, good: "bread", qty: 1 },
        { t: "advance", ms: 5 * HOUR_MS },
        { t: "produce", who: -1, good: "bread", qty: 2 },
        { t: "request", who: 5, good: "cake", qty: null, weight: null },
        { t: "request", who: 6, good: "cake", qty: null, weight: "1.5" },
        { t: "produce", who: -1, good: "cake", qty: 1 },
        { t: "advance", ms: 5 * HOUR_MS },
        { t: "allocate", who: -1, good: "cake" },
        { t: "advance", ms: 5 * HOUR_MS },
        { t: "cancel", who: 5, pick: 0, own: true },
      ],
    ],
  ],
  // The overdue round would serve dave: his cancel is refused, so is an allocate (no round left
  // once it closed), and erin's request opens a new round after it. Then carol's second loan,
  // which fits her limit alone but not with her first one's planned charge.
  [
    [
      { ...CARER, breadStock: 1 },
      [
        { t: "request", who: 3, good: "bread", qty: 2, weight: null },
        { t: "request", who: 4, good: "bread", qty: 1, weight: null },
        { t: "cancel", who: 3, pick: 0, own: true },
        { t: "advance", ms: 5 * HOUR_MS },
        { t: "cancel", who: 4, pick: 0, own: true },
        { t: "allocate", who: -1, good: "bread" },
        { t: "request", who: 5, good: "bread", qty: null, weight: null },
        { t: "borrow", who: 3, days: 45 },
        { t: "borrow", who: 3, days: 10 },
      ],
    ],
  ],
  // Taking nothing is always allowed: carol, past the limit, gets free bread at once and a loan
  // that costs nothing.
  [
    [
      { ...CARER, breadEffort: 0, breadStock: 2, dayPercent: "0%" },
      [
        { t: "post", who: 3, target: { base: "limit", units: 0, of: "bread", delta: -1 } },
        { t: "request", who: 3, good: "bread", qty: null, weight: null },
        { t: "borrow", who: 3, days: 10 },
      ],
    ],
  ],
];

describe("goods under random sequences", () => {
  it("GIVEN any sequence of goods commands, closings, settlements and postings THEN stock, auctions, prices, the credit limit and the ledger keep their rules", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ([p, actions]) => {
        await runScenario(p, actions);
      }),
      { numRuns: 60 + EXAMPLES.length, examples: EXAMPLES, seed: SEED },
    );
    const seen = (k: string) => coverage.get(k) ?? 0;
    const report = JSON.stringify(Object.fromEntries([...coverage].sort()));
    for (const k of [
      "request:allocated-at-once",
      "request:opened-a-round",
      "request:joined-a-round",
      "request:closed-an-overdue-round-first",
      "request:refused-past-the-limit",
      "request:refused-to-wait",
      "request:refused-for-what-is-held",
      "round:closed-by-allocate",
      "round:closed-by-produce",
      "round:closed-by-due",
      "round:caught-up-by-request",
      "round:caught-up-by-produce",
      "round:caught-up-by-allocate",
      "round:caught-up-by-cancel",
      "produce:closed-an-overdue-round-first",
      "allocate:closed-an-overdue-round-first",
      "cancel:closed-an-overdue-round-first",
      "round:with-losers",
      "round:clearing-above-1",
      "round:with-skips",
      "round:skip-and-next-bid-wins",
      "round:partial-fill",
      "round:nothing-handed-out",
      "due:closed-rounds",
      "due:several-rounds-at-once",
      "cancel:closed-the-round",
      "cancel:others-still-wait",
      "cancel:served-by-the-overdue-round",
      "allocate:no-round-left-after-catch-up",
      "produce:closed-an-overdue-round-then-served-the-waiting",
      "settle:split-among-subscribers",
      "borrow:ok",
      "borrow:insufficient_credit",
      "borrow:counted-open-loans",
      "borrow:free-past-the-limit",
      "request:free-past-the-limit",
      "return:ok",
      "post:ok",
      "work:verified",
      "replay:ok",
    ]) {
      expect(seen(k), `${k} in ${report}`).toBeGreaterThan(0);
    }
    // What the issue asked us to note: which steps took someone past the limit (return:, settle:).
    console.info(`goods property coverage: ${report}`);
  });
});

// ---------------------------------------------------------------------------------------------
// Found by the properties above (and by test/unit/core/auction.property.test.ts). Each test
// states the rule as it should hold; `it.fails` pins that today it does not.

async function riverside(): Promise<TestPool> {
  const t = await testPool({ start: "2026-11-02T09:00:00Z" });
  await t.ok("admin", "pool create Riverside");
  await t.ok("alice", "project create bakery The Bakery");
  await t.ok("bob", "project create bikes Bike Workshop");
  for (const m of TAKERS) await t.ok(m, "me balance");
  return t;
}

describe("found by the property", () => {
  // A round that should have closed is closed as of its closing time before anything else
  // happens to its good: a later request joins the next round, and later units go there too.
  it("GIVEN a round past its closing time that nobody closed yet THEN it closes as of then before a later request joins", async () => {
    const t = await riverside();
    try {
      await t.ok("alice", "good add bakery cake effort:2");
      await t.ok("carol", "good request cake"); // round 1 closes 2026-11-03 09:00
      t.clock.advance(25 * HOUR_MS);
      expect((await t.ok("dave", "good request cake weight:2")).request.roundClosesAt).toBe("2026-11-04T09:00:00.000Z");
      await t.ok("alice", "good produce cake 1");
      expect(await t.store.transaction((tx) => closeDueRounds(tx, t.clock.now().getTime()))).toEqual([]);
      t.clock.advance(DAY_MS);
      const closed = await t.store.transaction((tx) => closeDueRounds(tx, t.clock.now().getTime()));
      expect(closed.map((c) => c.allocations)).toEqual([[{ member: "dave", qty: 1, cost: 2000 }]]);
      const rows = sql(t).all<{ at: number; created_at: number }>("SELECT a.at, r.created_at FROM allocations a JOIN good_requests r ON r.id = a.request_id");
      expect(rows.length).toBe(1);
      for (const r of rows) expect(r.at).toBeGreaterThanOrEqual(r.created_at);
    } finally {
      await t.close();
    }
  });

  // cancelRequest reads the good before its catch-up and closes the emptied round with that
  // stale stock as the round's supply: here the overdue round gives carol the only unit, dave
  // (who lost it) cancels, and the round reopened for him closes recording a supply of 1 while
  // the stock is 0. (Every other closing records the stock it had.)
  it("GIVEN a cancel that first closes an overdue round THEN the round it empties records the stock left after that round", async () => {
    const t = await riverside();
    try {
      await t.ok("alice", "good add bakery cake effort:1");
      await t.ok("carol", "good request cake weight:2"); // round 1 closes 2026-11-03 09:00
      await t.ok("dave", "good request cake");
      await t.ok("alice", "good produce cake 1"); // 2 waiting, 1 in stock: the round stays open
      t.clock.advance(25 * HOUR_MS);
      await t.ok("dave", "good cancel 2"); // round 1 closes first: carol gets the unit; round 2 opens for dave
      const rounds = sql(t).rounds();
      expect(rounds.map((r) => [r.id, r.allocated, r.supply])).toEqual([
        [1, 1, 1],
        [2, 0, 0],
      ]);
      expect(sql(t).good("cake")!.stock).toBe(0);
    } finally {
      await t.close();
    }
  });

  // borrowGood checks each loan alone against the balance, which does not yet carry the charges
  // of the member's other open loans (they are charged on return): two loans of 8.00 wh each
  // pass a 10.00 wh limit, and returning them on time leaves the member at -16.00.
  it("GIVEN two loans that each fit the credit limit THEN returning both on time does not take the member past it", async () => {
    const t = await riverside();
    try {
      await t.ok("bob", "good add bikes drill effort:20 model:durable stock:2"); // 0.20 wh per day
      await t.ok("carol", "good borrow drill days:40");
      const second = await t.say("carol", "good borrow drill days:40");
      t.clock.advance(40 * DAY_MS);
      await t.ok("carol", "good return 1");
      if (second.ok) await t.ok("carol", "good return 2");
      expect((await t.ok("carol", "me balance")).balance).toBeGreaterThanOrEqual(-10);
    } finally {
      await t.close();
    }
  });

  // The auction drops every winner who cannot pay at the round's first price in one pass. Here
  // carol (3.00) and dave (2.50) can each pay 1.50 and the first price is 2.00 (erin's bid):
  // both are dropped, the price falls to 1.00, and frank's 1.00 bid gets a unit. Dropping only
  // dave would have given carol hers at 1.00 (erin's and frank's bids then lose at 1.00).
  it("GIVEN two winners who cannot pay the first price THEN the one who can pay the final price is not skipped for a lower bid", async () => {
    const t = await riverside();
    try {
      await t.ok("alice", "good add bakery bread effort:0.5 stock:40");
      await t.ok("carol", "good request bread qty:17"); // carol and dave at -8.50: 1.50 left each
      await t.ok("dave", "good request bread qty:17");
      await t.ok("alice", "good add bakery cake effort:1");
      for (const [who, w] of [["carol", "3"], ["dave", "2.5"], ["erin", "2"], ["frank", "1"]] as const) await t.ok(who, `good request cake weight:${w}`);
      await t.ok("alice", "good produce cake 2");
      const round = (await t.ok("alice", "good allocate cake")).round;
      // Today: erin and frank at 1.00; carol and dave skipped.
      expect(round.allocations.map((a: { member: string }) => a.member)).toEqual(["carol", "erin"]);
      expect(round.skipped).toEqual([{ member: "dave", qty: 1 }]);
    } finally {
      await t.close();
    }
  });

  // The same flaw with one bidder: at the first price (1.60) carol can pay one unit, so her
  // 2.00 unit and four 1.60 units are dropped for good; the price falls to 1.00 and she gets 2
  // units for 2.00 of the 3.00 she has left, while 4 of the 6 units stay in stock. At 1.00 she
  // could pay for 3.
  it("GIVEN one bidder whose units were dropped at a price that then fell THEN they get all they can pay at the final price", async () => {
    const t = await riverside();
    try {
      await t.ok("alice", "good add bakery cake effort:1");
      await t.ok("carol", "good request cake weight:3");
      await t.ok("carol", "good request cake weight:2");
      await t.ok("carol", "good request cake qty:5 weight:1.6");
      // Her requests waited while she could pay them; then her balance fell to -7.00: 3.00 left.
      const carol = sql(t).member("carol");
      await t.store.transaction(async (tx) => {
        const from = await ensureAccount(tx, POOL_ID, "member", carol);
        const to = await ensureAccount(tx, POOL_ID, "commons", POOL_ID);
        await postEntry(tx, { poolId: POOL_ID, fromAccount: from, toAccount: to, amount: 7000, kind: "test", memo: "spent elsewhere", requestId: "test:spent", createdAt: t.clock.now().getTime(), createdBy: null });
      });
      await t.ok("alice", "good produce cake 6");
      const round = (await t.ok("alice", "good allocate cake")).round;
      // Today: 2 units (requests #2 and #4), clearing 1.00; 5 skipped.
      expect(round.allocations.reduce((a: number, x: { qty: number }) => a + x.qty, 0)).toBe(3);
      expect((await t.ok("carol", "me balance")).balance).toBe(-10);
    } finally {
      await t.close();
    }
  });
});
