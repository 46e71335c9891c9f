// GIVEN any sequence of goods commands (produce, request and raised or changed bids, cancel,
// allocate, borrow, return, subscribe, unsubscribe, pool settle, good show), catch-ups by
// `closeDueRounds` at random clock times, settlements by `settlePeriod`, ledger postings through
// the real `postEntry` that put members near the credit limit (dated now, also while a round is
// past its closing time and nobody caught up yet: a late close), verified work, credit-limit
// changes, replayed request ids and garbage, THEN after every step:
//   - all balances sum to 0 and each is the net of its entries (what `pool audit` checks);
//   - no good has more units allocated than produced, and its stock is exactly produced minus
//     allocated minus on loan, never negative;
//   - every allocation costs qty x effort x weight rounded once (never a rounded unit price
//     times the units, never 0 for an effort above 0); the producing project is credited
//     exactly effort x qty, the commons the rest, the member debited both;
//   - in every round that closed, the units went to the highest bids (ties to the earlier bid):
//     every winner's weight >= the clearing weight >= every loser's weight, the clearing weight
//     is the highest losing one (at least 1.00), the whole supply is handed out while a bid
//     still loses, winners can pay their total within the credit limit and skipped members
//     could not: each skipped unit, given back alone, would leave some winner unable to pay;
//   - before any command of the pool acts (reads too), and in `closeDueRounds` and
//     `settlePeriod`, whatever of the goods came due is done first, in the order of its time and
//     exactly as the model says: loans falling overdue (marked, their borrowers told, dated then),
//     flat-rate periods settled (entries dated at the period's end), rounds closed as of their
//     closing time on the balances of then (entries dated later do not count: the pure
//     `roundOutcome` on the model's balances and stock); nothing else closes a round early or
//     late, and a request never joins an overdue round;
//   - one bid per member and good: a request while the member waits changes that request (its
//     weight, its units if qty: is given), refused when the change is not payable at the effort;
//   - a request is served at once exactly when, after the catch-up, nobody waits and the stock
//     covers it (a free one even for a member past the limit);
//   - no allocation, borrow or subscription takes a member below minus the credit limit with
//     what their requests, loans (planned days, or the days so far) and subscriptions (the
//     expected share) hold; returns and settlements may (counted in the report at the end);
//   - a refused command leaves the database as it was, a replayed request id answers the same
//     and changes nothing, and a read changes nothing but what was due and the pool's clock.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Reply } from "../../commands/dispatch.ts";
import { table } from "../../commands/table.ts";
import { parseCommand } from "../../commands/text.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../src/clock.ts";
import { daysCharge, unitsCharge } from "../../src/core/amounts.ts";
import { credit, WEIGHT_ONE } from "../../src/core/weights.ts";
import { roundOutcome } from "../../src/core/auction.ts";
import { closeDueRounds, ROUND_LINES, settlePeriod, type RoundClosed } from "../../src/services/goods.ts";
import { ensureAccount } from "../../src/services/context.ts";
import { postEntry } from "../../src/services/posting.ts";
import { testPool, type TestPool } from "../support/app.ts";
import { sqlRows } from "../support/db-dump.ts";
import { fullRandomRuns, randomRuns } from "../support/pg.ts";

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
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant("produce" as const),
      who: coordinatorMostly,
      good: madeMostly,
      qty: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 8 })),
    }),
  },
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
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("borrow" as const),
      who: fc.oneof({ weight: 3, arbitrary: fc.constant(3) }, { weight: 1, arbitrary: taker }),
      days: fc.constantFrom(1, 3, 10, 30, 45),
    }),
  },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("return" as const), who: fc.oneof(taker, fc.constant(2)), pick, own: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("subscribe" as const),
      who: taker,
      on: fc.boolean(),
      good: fc.oneof({ weight: 6, arbitrary: fc.constant<GoodName>("soup") }, { weight: 1, arbitrary: anyGood }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("post" as const),
      who: taker,
      target: fc.record({
        base: fc.constantFrom("limit" as const, "limit" as const, "zero" as const),
        units: fc.nat({ max: 3 }),
        of: fc.constantFrom("bread" as const, "cake" as const),
        delta: fc.constantFrom(-1, 0, 0, 1, 500),
      }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("work" as const), who: taker, hours: fc.constantFrom(1, 2, 5) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("limit" as const), value: fc.constantFrom(0, 1000, 5000, 10_000) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("show" as const),
      who: anyone,
      good: anyGood,
      view: fc.constantFrom("show" as const, "show" as const, "list" as const, "sector" as const),
    }),
  },
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
  drillEffort: fc.constantFrom(150, 5000, 20_000, 100_000),
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
  bid_at: number | null;
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
  overdue_at: number | null;
}

function sql(t: TestPool) {
  const all = <T>(q: string, ...p: unknown[]) => sqlRows<T>(t.store, q, p);
  const one = async <T>(q: string, ...p: unknown[]) => (await all<T>(q, ...p))[0] as T;
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
    member: async (handle: string) => (await one<{ id: number }>("SELECT id FROM members WHERE handle = ?", handle)).id,
    handle: async (id: number) => (await one<{ handle: string }>("SELECT handle FROM members WHERE id = ?", id)).handle,
    maxId: async (tableName: string) => (await one<{ m: number | null }>(`SELECT max(id) AS m FROM ${tableName}`)).m ?? 0,
    /** Every member's balance as of `at`: the sum of their entries dated at or before it. */
    balancesAt: async (at: number) =>
      new Map(
        (
          await all<{ owner_id: number; b: number }>(
            `SELECT a.owner_id, coalesce((SELECT sum(amount) FROM entries WHERE to_account = a.id AND created_at <= ?), 0)
                              - coalesce((SELECT sum(amount) FROM entries WHERE from_account = a.id AND created_at <= ?), 0) AS b
             FROM accounts a WHERE a.pool_id = ? AND a.kind = 'member'`,
            at,
            at,
            POOL_ID,
          )
        ).map((r) => [r.owner_id, r.b]),
      ),
    /** Effort of the good's units made in [from, to). */
    made: async (goodId: number, from: number, to: number) =>
      (await one<{ s: number | null }>("SELECT sum(qty * effort) AS s FROM productions WHERE good_id = ? AND at >= ? AND at < ?", goodId, from, to)).s ?? 0,
    /** Members subscribed to the good at `end`, in the order they first subscribed. */
    subscribersAt: async (goodId: number, end: number) =>
      (
        await all<{ member_id: number }>(
          "SELECT member_id FROM subscriptions WHERE good_id = ? AND since < ? AND (until IS NULL OR until >= ?) GROUP BY member_id ORDER BY min(id)",
          goodId,
          end,
          end,
        )
      ).map((r) => r.member_id),
    /** Members subscribed now, with how many there are. */
    subscribedNow: async (goodId: number) =>
      (await all<{ member_id: number }>("SELECT DISTINCT member_id FROM subscriptions WHERE good_id = ? AND until IS NULL", goodId)).map((r) => r.member_id),
    lastSettledEnd: async (goodId: number) => (await one<{ e: number | null }>("SELECT max(period_end) AS e FROM settlements WHERE good_id = ?", goodId)).e,
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
  /** Loans already marked overdue. */
  readonly overdue: ReadonlySet<number>;
}

async function snapshot(s: State): Promise<Snap> {
  const q = sql(s.t);
  const memberBalance = new Map<number, number>();
  for (const a of await q.accounts()) if (a.kind === "member") memberBalance.set(a.owner_id, a.balance);
  const rounds = await q.rounds();
  return {
    now: s.t.clock.now().getTime(),
    limit: s.creditLimit,
    memberBalance,
    goods: new Map((await q.goods()).map((g) => [g.id, g])),
    pending: (await q.requests()).filter((r) => r.status === "pending"),
    openRounds: new Map(rounds.filter((r) => r.closed_at === null).map((r) => [r.good_id, r])),
    closedRounds: new Set(rounds.filter((r) => r.closed_at !== null).map((r) => r.id)),
    maxNote: await q.maxId("member_notes"),
    maxProduction: await q.maxId("productions"),
    maxSettlement: await q.maxId("settlements"),
    maxLoan: await q.maxId("loans"),
    overdue: new Set((await q.loans()).filter((l) => l.overdue_at !== null).map((l) => l.id)),
  };
}

/** A round the model expects the catch-up to close, as of its own closing time. */
interface CaughtRound {
  readonly good: number;
  readonly closesAt: number;
  readonly supply: number;
  /** Units won, by request. */
  readonly won: ReadonlyMap<number, number>;
  /** Units skipped, by member (as their notes say). */
  readonly skipped: ReadonlyMap<number, number>;
  /** Null when nothing was handed out. */
  readonly clearing: number | null;
  /** The balances it decided on: the members' as of its closing time. */
  readonly balance: ReadonlyMap<number, number>;
}

/** A per-unit good as the catch-up leaves it. */
interface GoodAfter {
  /** Its requests still waiting, with what they still want. */
  readonly waiting: ReadonlyMap<number, number>;
  readonly stock: number;
  /** Its open round after the catch-up, if any: never overdue. */
  readonly open: { readonly closesAt: number } | null;
}

/** What every command of the pool does first (and `closeDueRounds`, `settlePeriod`): the model's catch-up. */
interface Caught {
  /** Rounds closed, of every good, in the order they close. */
  readonly rounds: readonly CaughtRound[];
  /** Flat-rate periods settled. */
  readonly settled: number;
  /** Members a settlement charged (it may take them past the limit). */
  readonly settledMembers: ReadonlySet<number>;
  /** Loans marked overdue, in order. */
  readonly overdue: readonly number[];
  readonly goods: ReadonlyMap<number, GoodAfter>;
  /** The members' balances once everything is caught up. */
  readonly balance: ReadonlyMap<number, number>;
  /** Where the flat-rate good's running period starts once caught up. */
  readonly soupStart: number | null;
  /** Whether anything was due at all. */
  readonly any: boolean;
}

/** The auction's rule with the charge rounded once: n units payable iff n x effort x price, rounded, fits the room. */
function exactOutcome(bids: Parameters<typeof roundOutcome>[0]["bids"], supply: number, effort: number, balance: ReadonlyMap<number, number>, limit: number) {
  const rooms = new Map<number, number>();
  for (const b of bids) rooms.set(b.member, (balance.get(b.member) ?? 0) * WEIGHT_ONE + (WEIGHT_ONE / 2 - 1));
  return roundOutcome({ bids, supply, effort: effort * WEIGHT_ONE, balances: rooms, creditLimit: limit * WEIGHT_ONE });
}

/**
 * The catch-up as the rule says: everything of the goods due by now happens in the order of its
 * time, each as of that time. A loan past its due date is marked overdue; a flat-rate period that
 * ended is settled (its effort split among those subscribed at its end, dated at its end); a
 * round past its closing time closes as of then: the auction over the requests waiting then, on
 * the stock of then and the balances of then (the entries dated at or before it, later ones not
 * counted); if units still wait, the next round opens at that closing time.
 */
async function caughtUpAll(s: State, snap: Snap): Promise<Caught> {
  const q = sql(s.t);
  const goods = new Map<
    number,
    { good: GoodRow; requests: RequestRow[]; waiting: Map<number, number>; stock: number; open: { id: number; closesAt: number } | null }
  >();
  for (const g of snap.goods.values()) {
    if (g.model !== "per-unit") continue;
    const requests = snap.pending.filter((r) => r.good_id === g.id);
    const open = snap.openRounds.get(g.id);
    goods.set(g.id, {
      good: g,
      requests,
      waiting: new Map(requests.map((r) => [r.id, r.qty - r.filled])),
      stock: g.stock,
      open: open ? { id: open.id, closesAt: open.closes_at } : null,
    });
  }
  // Ids for the rounds the catch-up opens: only their order counts (ties at one closing time go
  // to the older round), and a new round's id is above every existing one's on either store,
  // whatever PostgreSQL's sequence skipped.
  let nextRound = (await q.maxId("rounds")) + 1;
  // What the caught-up events moved, on top of the entries already there (all dated at or before their times).
  const moved = new Map<number, number>();
  const move = (m: number, by: number) => moved.set(m, (moved.get(m) ?? 0) + by);
  const balancesAt = async (at: number) => {
    const b = await q.balancesAt(at);
    for (const [m, d] of moved) b.set(m, (b.get(m) ?? 0) + d);
    return b;
  };
  const soup = [...snap.goods.values()].find((g) => g.model === "flat-rate");
  let soupStart = soup ? ((await q.lastSettledEnd(soup.id)) ?? periodStartOf(soup.created_at, s.p.period)) : null;
  const loans = (await q.loans())
    .filter((l) => l.returned_at === null && l.overdue_at === null && l.due_at <= snap.now)
    .sort((a, b) => a.due_at - b.due_at || a.id - b.id);
  const rounds: CaughtRound[] = [];
  const overdue: number[] = [];
  const settledMembers = new Set<number>();
  let settled = 0;
  for (let li = 0; ;) {
    const loanAt = loans[li]?.due_at ?? Infinity;
    const periodAt = soup && soupStart !== null && nextPeriod(soupStart, s.p.period) <= snap.now ? nextPeriod(soupStart, s.p.period) : Infinity;
    let round: [number, typeof goods extends Map<number, infer G> ? G : never] | null = null;
    for (const [id, g] of goods) {
      if (!g.open || g.open.closesAt > snap.now) continue;
      if (!round || g.open.closesAt < round[1].open!.closesAt || (g.open.closesAt === round[1].open!.closesAt && g.open.id < round[1].open!.id))
        round = [id, g];
    }
    const roundAt = round ? round[1].open!.closesAt : Infinity;
    const first = Math.min(loanAt, periodAt, roundAt);
    if (first === Infinity) break;
    if (loanAt === first) {
      overdue.push(loans[li++]!.id);
      continue;
    }
    if (periodAt === first) {
      const effort = await q.made(soup!.id, soupStart!, periodAt);
      const members = await q.subscribersAt(soup!.id, periodAt);
      if (effort > 0 && members.length > 0) {
        const share = Math.floor(effort / members.length);
        const extra = effort - share * members.length;
        for (const [i, m] of members.entries()) {
          move(m, -Math.max(1, share + (i < extra ? 1 : 0)));
          settledMembers.add(m);
        }
      }
      settled++;
      soupStart = periodAt;
      continue;
    }
    const [goodId, g] = round!;
    const closesAt = g.open!.closesAt;
    const balance = await balancesAt(closesAt);
    const bids = g.requests
      .filter((r) => (g.waiting.get(r.id) ?? 0) > 0)
      .map((r) => ({ request: r.id, member: r.member_id, weight: r.weight, units: g.waiting.get(r.id)!, at: r.bid_at ?? r.created_at }));
    // Decided on balances that later entries changed: a round closed late that must not see them.
    const now = await balancesAt(snap.now);
    if (bids.some((b) => (balance.get(b.member) ?? 0) !== (now.get(b.member) ?? 0))) count("round:decided-on-earlier-balances");
    const effort = g.good.declared_effort;
    const o = exactOutcome(bids, g.stock, effort, balance, snap.limit);
    const won = new Map<number, number>();
    for (const w of o.winners) {
      won.set(w.request, (won.get(w.request) ?? 0) + w.units);
      g.waiting.set(w.request, g.waiting.get(w.request)! - w.units);
      move(w.member, -unitsCharge(w.units, effort, o.clearing));
    }
    const skipped = new Map<number, number>();
    for (const x of o.skipped) skipped.set(x.member, (skipped.get(x.member) ?? 0) + x.units);
    const handed = o.winners.reduce((a, w) => a + w.units, 0);
    rounds.push({ good: goodId, closesAt, supply: g.stock, won, skipped, clearing: handed > 0 ? o.clearing : null, balance });
    g.stock -= handed;
    const queued = [...o.losers, ...o.skipped].reduce((a, x) => a + x.units, 0);
    g.open = queued > 0 ? { id: nextRound++, closesAt: closesAt + s.p.roundHours * HOUR_MS } : null;
  }
  const after = new Map<number, GoodAfter>();
  for (const [id, g] of goods) {
    for (const [r, n] of g.waiting) if (n === 0) g.waiting.delete(r);
    after.set(id, { waiting: g.waiting, stock: g.stock, open: g.open ? { closesAt: g.open.closesAt } : null });
  }
  const balance = new Map(snap.memberBalance);
  for (const [m, d] of moved) balance.set(m, (balance.get(m) ?? 0) + d);
  return { rounds, settled, settledMembers, overdue, goods: after, balance, soupStart, any: rounds.length + settled + overdue.length > 0 };
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

/** The database without the pool's clock, which every command moves to its time (reads too). */
async function dumpSansClock(t: TestPool): Promise<string> {
  const tables = JSON.parse(await t.dump()) as Array<[string, Array<Record<string, unknown>>]>;
  for (const [name, rows] of tables) if (name === "pools") for (const r of rows) delete r.clock;
  return JSON.stringify(tables);
}

/**
 * Runs one command: a refusal must leave every table as it was; successes may be replayed.
 * `readOnly`: a read when nothing is due, which changes nothing but the pool's clock.
 */
async function command(s: State, user: User, text: string, o: { requestId?: string; readOnly?: boolean } = {}): Promise<Reply> {
  const before = await s.t.dump();
  const quiet = o.readOnly ? await dumpSansClock(s.t) : "";
  const requestId = o.requestId ?? `console:step-${++s.n}`;
  const reply = await s.t.say(user, text, { requestId });
  if (!reply.ok) {
    expect(reply.code, `"${text}" as ${user}: ${reply.message}`).not.toBe("internal");
    expect(await s.t.dump(), `refused "${text}" as ${user} (${reply.code}) changed the database`).toBe(before);
  } else if (o.readOnly) {
    expect(await dumpSansClock(s.t), `"${text}" changed the database`).toBe(quiet);
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
  // The ledger: balances sum to zero, each balance is its entries' net (what `pool audit`
  // checks; read directly, since a command would first catch up what is due).
  const accounts = await q.accounts();
  expect(accounts.reduce((a, x) => a + x.balance, 0)).toBe(0);
  const net = new Map(
    (
      await q.all<{ id: number; net: number }>(
        "SELECT a.id, coalesce((SELECT sum(amount) FROM entries WHERE to_account = a.id), 0) - coalesce((SELECT sum(amount) FROM entries WHERE from_account = a.id), 0) AS net FROM accounts a",
      )
    ).map((r) => [r.id, r.net]),
  );
  for (const a of accounts) expect(a.balance, `account ${a.id}`).toBe(net.get(a.id));

  const goods = await q.goods();
  const allocations = await q.allocations();
  const requests = await q.requests();
  const rounds = await q.rounds();
  const loans = await q.loans();
  const produced = new Map(
    (await q.all<{ good_id: number; n: number }>("SELECT good_id, sum(qty) AS n FROM productions GROUP BY good_id")).map((r) => [r.good_id, r.n]),
  );
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

  // Every allocation is priced at qty x effort x weight, rounded once; its request agrees.
  for (const a of allocations) {
    const g = goods.find((x) => x.id === a.good_id)!;
    expect(a.effort).toBe(g.declared_effort);
    expect(a.weight).toBeGreaterThanOrEqual(WEIGHT_ONE);
    expect(a.cost, `allocation ${a.id}`).toBe(unitsCharge(a.qty, a.effort, a.weight));
    if (a.effort > 0) expect(a.cost).toBeGreaterThan(0);
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
  // (Settlements' own surpluses, the 0.001 wh a share below it pays, are not allocations'.)
  const entrySum = async (kind: string, side: "to_account" | "from_account", account: number) =>
    (await q.one<{ s: number | null }>(`SELECT sum(amount) AS s FROM entries WHERE kind = ? AND ${side} = ? AND request_id NOT LIKE 'settle:%'`, kind, account))
      .s ?? 0;
  const commons = accounts.find((a) => a.kind === "commons")!;
  for (const project of accounts.filter((a) => a.kind === "project")) {
    const effort = allocations.filter((a) => goods.find((g) => g.id === a.good_id)!.project_id === project.owner_id).reduce((a, x) => a + x.effort * x.qty, 0);
    expect(await entrySum("allocation", "to_account", project.id), `project ${project.owner_id} credited`).toBe(effort);
    expect(await entrySum("surplus", "to_account", project.id)).toBe(0);
  }
  expect(await entrySum("surplus", "to_account", commons.id)).toBe(allocations.reduce((a, x) => a + x.cost - x.effort * x.qty, 0));
  for (const m of accounts.filter((a) => a.kind === "member")) {
    const paid = allocations.filter((a) => a.member_id === m.owner_id).reduce((a, x) => a + x.cost, 0);
    expect((await entrySum("allocation", "from_account", m.id)) + (await entrySum("surplus", "from_account", m.id)), `member ${m.owner_id} paid`).toBe(paid);
    const charged = loans.filter((l) => l.member_id === m.owner_id).reduce((a, l) => a + (l.charged ?? 0), 0);
    expect(await entrySum("loan", "from_account", m.id)).toBe(charged);
  }
}

// ---------------------------------------------------------------------------------------------
// What a step did: the rounds it closed, the credit limit, settlements.

type Kind = Action["t"] | "setup";
/** Steps after which a member's balance may be past the credit limit for a reason we note. */
const MAY_PASS_LIMIT = new Set<Kind>(["return", "settle", "post", "setup"]);

/** `caught`: the model's catch-up when the step was a command that did it (and succeeded). */
async function checkStep(s: State, snap: Snap, kind: Kind, caught?: Caught) {
  const q = sql(s.t);
  const rounds = await q.rounds();
  const allocations = await q.allocations();
  const requests = await q.requests();
  const accounts = await q.accounts();
  const after = new Map(accounts.filter((a) => a.kind === "member").map((a) => [a.owner_id, a.balance]));

  // No allocation or borrow takes anyone past the credit limit (a settlement caught up first may).
  for (const [m, b] of after) {
    const was = snap.memberBalance.get(m) ?? 0;
    if (b >= was || b >= -snap.limit) continue;
    if (MAY_PASS_LIMIT.has(kind) || caught?.settledMembers.has(m)) {
      count(`${kind}:past-the-limit`);
      continue;
    }
    expect.unreachable(`${kind} took member ${m} from ${was} to ${b}, past the credit limit ${snap.limit}`);
  }

  // Rounds closed in this step, in the order they closed. A round closed at its own closing
  // time was closed on schedule (by `closeDueRounds`, or by the catch-up every command of the
  // pool does first, as of then); a command closes the good's round it acts on later than its
  // closing time never again.
  const closed = rounds.filter((r) => r.closed_at !== null && !snap.closedRounds.has(r.id)).sort((a, b) => a.closed_at! - b.closed_at! || a.id - b.id);
  const onTime = (r: RoundRow) => r.closed_at === r.closes_at;
  if (closed.length > 1) count("due:several-rounds-at-once");
  for (const r of closed) {
    expect(r.closed_at!, `round ${r.id} closed in the future`).toBeLessThanOrEqual(snap.now);
    if (!onTime(r)) expect(r.closes_at, `round ${r.id} closed by ${kind} after its closing time`).toBeGreaterThan(r.closed_at!);
  }
  // Only the catch-up closes rounds on schedule: the rounds the model expects, of every good, in order.
  const scheduled = closed.filter(onTime);
  expect(
    scheduled.map((r) => [r.good_id, r.closes_at]),
    `${kind} closed rounds on schedule`,
  ).toEqual(caught ? caught.rounds.map((c) => [c.good, c.closesAt]) : []);
  if (kind !== "due" && caught && caught.rounds.length > 0) count(`${kind}:closed-an-overdue-round-first`);
  if (kind !== "due" && caught && caught.rounds.length > 1) count(`${kind}:closed-several-overdue-rounds-first`);
  const predicted = (r: RoundRow) => (onTime(r) ? caught!.rounds[scheduled.indexOf(r)]! : undefined);
  // The balances a round decided on: as of its closing time (the model's); the step's own round
  // closes now, after the catch-up.
  const balanceFor = (r: RoundRow): ReadonlyMap<number, number> => predicted(r)?.balance ?? caught?.balance ?? snap.memberBalance;
  // A request cancelled in this step was still a bid in the rounds caught up before the cancel.
  const cancelled = new Set(requests.filter((x) => x.status === "cancelled" && snap.pending.some((y) => y.id === x.id)).map((x) => x.id));
  const remaining = new Map(snap.pending.map((r) => [r.id, r.qty - r.filled]));
  // A bid changed in this step (one bid per member) counts as changed for the step's own round.
  const current = new Map(requests.map((r) => [r.id, r]));
  const stock = new Map([...snap.goods].map(([id, g]) => [id, g.stock]));
  // Units made in this step reach the stock after the catch-up, before the step's own round.
  let made = false;
  const addMade = async () => {
    if (made) return;
    made = true;
    for (const p of await q.all<{ good_id: number; qty: number }>("SELECT good_id, qty FROM productions WHERE id > ?", snap.maxProduction))
      stock.set(p.good_id, (stock.get(p.good_id) ?? 0) + p.qty);
    // The step's own change of a bid (its units) came before its own round too.
    for (const x of snap.pending) remaining.set(x.id, (remaining.get(x.id) ?? 0) + current.get(x.id)!.qty - x.qty);
  };
  const notes = await q.all<{ member_id: number; kind: string; body: string; created_at: number }>(
    "SELECT member_id, kind, body, created_at FROM member_notes WHERE id > ? AND kind = 'skipped'",
    snap.maxNote,
  );
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
    const balance = balanceFor(r);
    if (!onTime(r)) await addMade();
    const bidOf = (x: RequestRow) => (onTime(r) ? x : { ...x, weight: current.get(x.id)!.weight, bid_at: current.get(x.id)!.bid_at });
    // The bids: requests pending before the step (not cancelled before this round), with what they still want.
    const bids = snap.pending
      .filter((x) => x.good_id === r.good_id && (!cancelled.has(x.id) || onTime(r)) && (remaining.get(x.id) ?? 0) > 0)
      .map(bidOf)
      .sort((a, b) => b.weight - a.weight || (a.bid_at ?? a.created_at) - (b.bid_at ?? b.created_at) || a.id - b.id);
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
    expect(
      [...left.values()].every((n) => n === 0),
      context,
    ).toBe(true);
    expect(
      [...skipLeft.values()].every((n) => n === 0),
      context,
    ).toBe(true);
    for (const a of mine) expect(a.at).toBe(r.closed_at);

    const supply = stock.get(r.good_id)!;
    expect(r.supply, context).toBe(supply);
    expect(winners.length, context).toBeLessThanOrEqual(supply);
    // While a bid loses, the whole supply is handed out.
    if (losers.length > 0) expect(winners.length, context).toBe(supply);
    else expect(winners.length, context).toBe(Math.min(supply, units.length - skipped.length));
    const clearing = Math.max(WEIGHT_ONE, ...losers.map((u) => u.weight));
    const effort = good.declared_effort;
    // Each winner pays their units' total, rounded once: never a rounded unit price times the units.
    const charge = (n: number, weight = clearing) => unitsCharge(n, effort, weight);
    if (winners.length > 0) {
      expect(r.clearing_weight, context).toBe(clearing);
      for (const w of winners) expect(w.weight, context).toBeGreaterThanOrEqual(clearing);
      for (const a of mine) expect(a.cost).toBe(charge(a.qty));
      if (mine.some((a) => a.cost !== credit(effort, clearing) * a.qty)) count("round:rounded-once-not-per-unit");
    } else expect(r.clearing_weight).toBeNull();
    for (const l of losers) expect(l.weight, context).toBeLessThanOrEqual(clearing);
    // Winners could pay within the limit (as the round saw their balances); skipped members
    // could not pay one more unit even at the highest bid's price (see the auction property).
    const wonBy = new Map<number, number>();
    for (const w of winners) wonBy.set(w.member_id, (wonBy.get(w.member_id) ?? 0) + 1);
    // (A unit that costs nothing goes even to a member past the limit: nothing to pay.)
    for (const [m, n] of wonBy) if (effort > 0) expect(charge(n), `${context}: member ${m} pays`).toBeLessThanOrEqual((balance.get(m) ?? 0) + snap.limit);
    if (effort === 0 && [...wonBy.keys()].some((m) => (balance.get(m) ?? 0) < -snap.limit)) count("round:free-unit-past-the-limit");
    const top = Math.max(WEIGHT_ONE, ...units.map((u) => u.weight));
    for (const m of new Set(skipped.map((u) => u.member_id))) {
      expect((balance.get(m) ?? 0) + snap.limit, `${context}: member ${m} skipped`).toBeLessThan(charge((wonBy.get(m) ?? 0) + 1, top));
    }
    // Skipped units were given back where they could be: each one, given back alone (everything
    // else as the round left it), would leave some winner unable to pay the price that results.
    for (const i of skippedAt) {
      const eligible = units.filter((_, k) => k === i || !skippedAt.includes(k));
      const price = Math.max(WEIGHT_ONE, eligible[supply]?.weight ?? 0);
      const by = new Map<number, number>();
      for (const u of eligible.slice(0, supply)) by.set(u.member_id, (by.get(u.member_id) ?? 0) + 1);
      const short = effort > 0 && [...by].some(([m, n]) => charge(n, price) > (balance.get(m) ?? 0) + snap.limit);
      expect(short, `${context}: unit ${i} (request ${units[i]!.id}) could be given back at weight ${price}`).toBe(true);
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
  for (const st of await q.all<{ id: number; good_id: number; period_start: number; period_end: number; effort: number; subscribers: number; at: number }>(
    "SELECT * FROM settlements WHERE id > ?",
    snap.maxSettlement,
  )) {
    const good = (await q.goods()).find((g) => g.id === st.good_id)!;
    expect(st.period_end).toBe(nextPeriod(st.period_start, s.p.period));
    expect(st.period_end).toBeLessThanOrEqual(snap.now);
    const effort =
      (
        await q.one<{ s: number | null }>(
          "SELECT sum(qty * effort) AS s FROM productions WHERE good_id = ? AND at >= ? AND at < ?",
          st.good_id,
          st.period_start,
          st.period_end,
        )
      ).s ?? 0;
    expect(st.effort).toBe(effort);
    const subs = (
      await q.one<{ n: number }>(
        "SELECT count(DISTINCT member_id) AS n FROM subscriptions WHERE good_id = ? AND since < ? AND (until IS NULL OR until >= ?)",
        st.good_id,
        st.period_end,
        st.period_end,
      )
    ).n;
    expect(st.subscribers).toBe(subs);
    const entries = await q.all<{ amount: number; to_account: number; kind: string; created_at: number }>(
      "SELECT amount, to_account, kind, created_at FROM entries WHERE request_id = ?",
      `settle:${st.good_id}:${st.period_start}`,
    );
    const project = accounts.find((a) => a.kind === "project" && a.owner_id === good.project_id);
    const commons = accounts.find((a) => a.kind === "commons");
    // Dated at the period's end, whenever it was settled.
    for (const e of entries) expect(e.created_at).toBe(st.period_end);
    // The shares add up to the effort; a share below 0.001 wh pays 0.001 wh to the commons.
    const paid = entries.filter((e) => e.kind === "flat-rate");
    for (const e of paid) expect(e.to_account).toBe(project!.id);
    for (const e of entries.filter((x) => x.kind !== "flat-rate")) expect([e.to_account, e.kind, e.amount]).toEqual([commons!.id, "surplus", 1]);
    expect(paid.reduce((a, e) => a + e.amount, 0)).toBe(subs > 0 ? effort : 0);
    expect(entries.length).toBe(subs > 0 && effort > 0 ? subs : 0);
    if (paid.length > 0) expect(Math.max(...paid.map((e) => e.amount)) - Math.min(...paid.map((e) => e.amount))).toBeLessThanOrEqual(1);
    if (entries.length > paid.length) count("settle:share-below-a-milli-hour");
    if (st.at > st.period_end) count(`settle:late-by-${kind}`);
    count(subs > 0 && effort > 0 ? "settle:split-among-subscribers" : "settle:nothing-to-split");
  }

  // Loans past their due date in this step: marked as of it, their borrowers told then.
  const marked = (await q.loans()).filter((l) => l.overdue_at !== null && !snap.overdue.has(l.id));
  expect(
    marked.map((l) => l.id),
    `${kind} marked loans overdue`,
  ).toEqual(caught ? caught.overdue : []);
  const overdueNotes = await q.all<{ member_id: number; body: string; created_at: number }>(
    "SELECT member_id, body, created_at FROM member_notes WHERE id > ? AND kind = 'overdue'",
    snap.maxNote,
  );
  expect(overdueNotes.length).toBe(marked.length);
  for (const l of marked) {
    expect(l.overdue_at).toBe(l.due_at);
    expect(l.due_at).toBeLessThanOrEqual(snap.now);
    expect(overdueNotes.some((n) => n.member_id === l.member_id && n.created_at === l.due_at && (JSON.parse(n.body) as { loan: number }).loan === l.id)).toBe(
      true,
    );
    count(`overdue:marked-by-${kind}`);
    count("overdue:marked");
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
  const snap = await snapshot(s);
  /** What every command of the pool does first, and `closeDueRounds`: the model's catch-up. */
  const model = await caughtUpAll(s, snap);
  const effortOf = async (name: GoodName) => (await q.good(name))?.declared_effort ?? 0;
  const memberOf = (u: User) => q.member(u);
  /** Balance plus the credit limit, once caught up. */
  const room = async (u: User) => (model.balance.get(await memberOf(u)) ?? 0) + snap.limit;
  /** What a member's open loans will cost: their planned days, or the days so far if more. */
  const loanCharges = async (u: User) => {
    const drill = await q.good("drill");
    const me = await memberOf(u);
    return (await q.loans())
      .filter((l) => l.member_id === me && l.returned_at === null)
      .reduce((x, l) => x + daysCharge(Math.max(days(l.borrowed_at, l.due_at), days(l.borrowed_at, snap.now)), drill?.declared_effort ?? 0, dayPercent(s)), 0);
  };
  /** What a member's waiting requests hold at the effort, once caught up (but `except` one). */
  const waitingCharges = async (u: User, except?: number) => {
    const me = await memberOf(u);
    return snap.pending
      .filter((r) => r.member_id === me && r.id !== except)
      .reduce((x, r) => x + (model.goods.get(r.good_id)?.waiting.get(r.id) ?? 0) * (snap.goods.get(r.good_id)?.declared_effort ?? 0), 0);
  };
  /** A subscriber's expected share of the running period: what the period before made, or this one so far if more, split among `n`. */
  const expectedShare = async (n: number) => {
    const soup = (await q.good("soup"))!;
    const start = model.soupStart!;
    const before = start > soup.created_at ? await q.made(soup.id, periodStartOf(start - 1, s.p.period), start) : 0;
    return Math.ceil(Math.max(before, await q.made(soup.id, start, snap.now + 1)) / Math.max(1, n));
  };
  const subscribedNow = async () => q.subscribedNow((await q.good("soup"))!.id);
  const subscribed = async (u: User) => (await subscribedNow()).includes(await memberOf(u));
  const subscriptionCharges = async (u: User) => ((await subscribed(u)) ? expectedShare((await subscribedNow()).length) : 0);
  /** Everything a member's choices already hold of their room. */
  const held = async (u: User, except?: number) => (await waitingCharges(u, except)) + (await loanCharges(u)) + (await subscriptionCharges(u));
  /** The model's catch-up, when the step's command did one (it is rolled back with a refusal). */
  let caught: Caught | undefined;
  const ran = (reply: Reply) => {
    if (reply.ok) caught = model;
  };
  /** The round the step closed itself, at its instant (not on schedule). */
  const ownClosed = async (goodId: number) =>
    (await q.rounds()).filter((r) => r.good_id === goodId && !snap.closedRounds.has(r.id) && r.closed_at !== null && r.closed_at !== r.closes_at);
  switch (a.t) {
    case "produce": {
      const user = userOf(a.who, a.good);
      const g = await q.good(a.good);
      const reply = await command(s, user, `good produce ${a.good} ${a.qty}`);
      ran(reply);
      const kind = goodOf(a.good).model;
      expect(reply.ok, `produce ${a.good} as ${user}`).toBe(kind !== null && kind !== "copyable" && user === goodOf(a.good).coordinator);
      const after = g ? model.goods.get(g.id) : undefined;
      if (reply.ok && after) {
        // What was due is caught up first, with the stock from before; then the units made while
        // fewer are waiting than there are now go to the waiting at once.
        const waiting = [...after.waiting.values()].reduce((x, n) => x + n, 0);
        const closes = after.open !== null && waiting <= after.stock + a.qty;
        const own = await ownClosed(g!.id);
        expect(own.map((r) => r.closes_at)).toEqual(closes ? [after.open.closesAt] : []);
        expect(own.every((r) => r.closed_at === snap.now)).toBe(true);
        expect(okData(reply).allocated.length > 0).toBe(closes && (await q.allocations()).some((x) => x.round_id === own[0]!.id));
        if (closes) count("produce:served-the-waiting");
        if (closes && model.rounds.length > 0) count("produce:closed-an-overdue-round-then-served-the-waiting");
      }
      break;
    }
    case "request": {
      const user = userOf(a.who);
      const g = await q.good(a.good);
      const qty = a.qty ?? 1;
      const text = `good request ${a.good}${a.qty === null ? "" : ` qty:${a.qty}`}${a.weight === null ? "" : ` weight:${a.weight}`}`;
      const reply = await command(s, user, text);
      ran(reply);
      const kind = goodOf(a.good).model;
      if (kind === null) expect(!reply.ok && reply.code).toBe("not_found");
      else if (kind === "copyable") expect(okData(reply).request).toMatchObject({ status: "access", cost: 0 });
      else if (kind !== "per-unit") expect(!reply.ok && reply.code).toBe("good_model");
      else {
        const after = model.goods.get(g!.id)!;
        const me = await memberOf(user);
        const mine = snap.pending.find((r) => r.good_id === g!.id && r.member_id === me && after.waiting.has(r.id));
        const roomNow = await room(user);
        const effort = await effortOf(a.good);
        if (mine) {
          // One bid per member: the waiting request changes (its weight, and its units if qty: is
          // given), payable at the effort with what the member's other choices hold.
          const was = { units: after.waiting.get(mine.id)!, weight: mine.weight };
          const units = a.qty ?? was.units;
          const weight = a.weight === null ? was.weight : Math.round(Number(a.weight) * WEIGHT_ONE);
          const cost = effort * units;
          const others = await held(user, mine.id);
          const row = async () => (await q.requests()).find((r) => r.id === mine.id)!;
          if (units === was.units && weight === was.weight) {
            expect(okData(reply).request).toMatchObject({ id: mine.id, status: "pending", weight: weight / WEIGHT_ONE });
            expect((await row()).bid_at).toBe(mine.bid_at);
            count("request:bid-unchanged");
          } else if (cost > 0 && cost > roomNow - others) {
            expect(!reply.ok && reply.code).toBe("insufficient_credit");
            count("request:bid-change-refused");
          } else {
            const r = okData(reply).request;
            expect(r).toMatchObject({ id: mine.id, weight: weight / WEIGHT_ONE, was: { qty: was.units, weight: was.weight / WEIGHT_ONE } });
            expect(await row()).toMatchObject({ weight, bid_at: snap.now });
            expect((await row()).qty).toBe(mine.qty + units - was.units);
            // Fewer units waiting than in stock now: the round closes at once.
            const waiting = [...after.waiting.values()].reduce((x, n) => x + n, 0) - was.units + units;
            const closes = waiting <= after.stock;
            expect((await ownClosed(g!.id)).map((r) => r.closes_at)).toEqual(closes ? [after.open!.closesAt] : []);
            count(weight > was.weight ? "request:raised-a-bid" : "request:changed-a-bid");
            if (units !== was.units) count("request:changed-the-units");
            if (closes) count("request:changed-bid-served-everyone");
          }
          break;
        }
        // Refused when the member could not pay it at the effort with what their waiting
        // requests, open loans and subscriptions hold, unless it costs nothing; else at once
        // exactly when nobody waits and the stock covers it.
        const queue = after.waiting.size > 0;
        const cost = effort * qty;
        const holding = await held(user);
        if (cost > 0 && cost > roomNow - holding) {
          expect(!reply.ok && reply.code).toBe("insufficient_credit");
          count(queue || after.stock < qty ? "request:refused-to-wait" : "request:refused-past-the-limit");
          if (cost <= roomNow) count("request:refused-for-what-is-held");
          if (cost <= roomNow - (await waitingCharges(user)) - (await loanCharges(user))) count("request:refused-for-a-subscription");
        } else if (!queue && after.stock >= qty) {
          expect(okData(reply).request).toMatchObject({ status: "allocated", qty, cost: cost / 1000 });
          count("request:allocated-at-once");
          if (cost === 0 && roomNow < 0) count("request:free-past-the-limit");
        } else {
          const r = okData(reply).request;
          expect(r).toMatchObject({ status: "pending", qty, weight: Number(a.weight ?? "1") });
          // It joins the round open after the catch-up, which is never overdue, or opens one.
          const closesAt = after.open ? after.open.closesAt : snap.now + s.p.roundHours * HOUR_MS;
          expect(r.roundClosesAt).toBe(new Date(closesAt).toISOString());
          expect(closesAt).toBeGreaterThan(snap.now);
          count(after.open ? "request:joined-a-round" : "request:opened-a-round");
          if (model.rounds.some((x) => x.good === g!.id) && after.open) count("request:joined-the-reopened-round");
        }
      }
      break;
    }
    case "cancel": {
      // Mostly the owner of a waiting request; else anyone, for any request or none.
      const all = await q.requests();
      const waiting = all.filter((r) => r.status === "pending");
      const user = a.own && waiting.length > 0 ? ((await q.handle(waiting[a.pick % waiting.length]!.member_id)) as User) : userOf(a.who);
      const me = await memberOf(user);
      const ordered = [...all.filter((r) => r.member_id === me && r.status === "pending"), ...all.filter((r) => r.member_id !== me || r.status !== "pending")];
      const target = a.own && waiting.length > 0 ? waiting[a.pick % waiting.length]! : ordered[a.pick % (ordered.length + 2)];
      const id = target?.id ?? 900 + a.pick;
      const reply = await command(s, user, `good cancel ${id}`);
      ran(reply);
      // A waiting request the catch-up serves in full is closed by the time the cancel looks.
      const after = target && target.status === "pending" && target.member_id === me ? model.goods.get(target.good_id) : undefined;
      const served = after !== undefined && !after.waiting.has(target!.id);
      const expected = !target ? "not_found" : target.member_id !== me ? "not_yours" : target.status !== "pending" || served ? "request_closed" : "ok";
      expect(reply.ok ? "ok" : reply.code).toBe(expected);
      if (served) count("cancel:served-by-the-overdue-round");
      if (reply.ok) {
        const last = after!.waiting.size === 1;
        expect((await q.rounds()).some((r) => r.good_id === target!.good_id && r.closed_at === null)).toBe(!last);
        expect((await ownClosed(target!.good_id)).map((r) => r.closes_at)).toEqual(last ? [after!.open!.closesAt] : []);
        count(last ? "cancel:closed-the-round" : "cancel:others-still-wait");
      }
      break;
    }
    case "allocate": {
      const user = userOf(a.who, a.good);
      const g = await q.good(a.good);
      const reply = await command(s, user, `good allocate ${a.good}`);
      ran(reply);
      // The round it closes is the one open after the catch-up: none if the catch-up served everyone.
      const after = g ? model.goods.get(g.id) : undefined;
      if (!g) expect(!reply.ok && reply.code).toBe("not_found");
      else if (user !== goodOf(a.good).coordinator) expect(!reply.ok && reply.code).toBe("forbidden");
      else if (!after || !after.open) {
        expect(!reply.ok && reply.code).toBe("no_round");
        if (snap.openRounds.has(g.id)) count("allocate:no-round-left-after-catch-up");
      } else {
        // The reply tells what the database says.
        const round = okData(reply).round;
        const own = await ownClosed(g.id);
        expect(own.map((r) => [r.closes_at, r.closed_at])).toEqual([[after.open.closesAt, snap.now]]);
        const row = own[0]!;
        expect(round.id).toBe(row.id);
        const mine = (await q.allocations()).filter((x) => x.round_id === row.id);
        const handles = new Map<number, string>();
        for (const x of mine) handles.set(x.member_id, await q.handle(x.member_id));
        expect(round.allocations).toEqual(mine.map((x) => ({ member: handles.get(x.member_id), qty: x.qty, cost: x.cost / 1000 })));
        if (mine.length > 0) expect(round.clearingWeight * WEIGHT_ONE).toBeCloseTo(row.clearing_weight!, 3);
        const queued = (await q.requests()).filter((r) => r.good_id === g.id && r.status === "pending").reduce((x, r) => x + r.qty - r.filled, 0);
        expect(round.queued).toBe(queued);
        // The skipped it reports are its notes (less those of a round caught up at this instant).
        const noted = new Map<number, number>();
        for (const n of await q.all<{ member_id: number; body: string }>(
          "SELECT member_id, body FROM member_notes WHERE id > ? AND kind = 'skipped' AND created_at = ?",
          snap.maxNote,
          snap.now,
        )) {
          const body = JSON.parse(n.body) as { good: string; qty: number };
          if (body.good === g.name) noted.set(n.member_id, (noted.get(n.member_id) ?? 0) + body.qty);
        }
        for (const c of model.rounds.filter((x) => x.good === g.id && x.closesAt === snap.now))
          for (const [m, n] of c.skipped) noted.set(m, (noted.get(m) ?? 0) - n);
        const reported = new Map<number, number>();
        for (const x of round.skipped as Array<{ member: string; qty: number }>) {
          const m = await memberOf(x.member as User);
          reported.set(m, (reported.get(m) ?? 0) + x.qty);
        }
        expect(reported).toEqual(new Map([...noted].filter(([, n]) => n !== 0)));
      }
      break;
    }
    case "due":
    case "advance": {
      s.t.clock.advance(a.ms);
      if (a.t === "advance") return checkStep(s, await snapshot(s), a.t);
      const now = s.t.clock.now().getTime();
      const before = await snapshot(s);
      const expected = await caughtUpAll(s, before);
      const closed: RoundClosed[] = await s.t.store.transaction((tx) => closeDueRounds(tx, now));
      // The service's answer agrees with the database, round by round, in order.
      const rows = (await q.rounds())
        .filter((r) => r.closed_at !== null && !before.closedRounds.has(r.id))
        .sort((x, y) => x.closed_at! - y.closed_at! || x.id - y.id);
      expect(closed.map((c) => c.round)).toEqual(rows.map((r) => r.id));
      for (const [i, c] of closed.entries()) {
        const row = rows[i]!;
        // Each round closes as of its own closing time.
        expect(row.closed_at).toBe(row.closes_at);
        expect(row.closed_at).toBeLessThanOrEqual(now);
        const mine = (await q.allocations()).filter((x) => x.round_id === row.id);
        // It names the first ROUND_LINES winners and counts them all.
        const handles = new Map<number, string>();
        for (const x of mine.slice(0, ROUND_LINES)) handles.set(x.member_id, await q.handle(x.member_id));
        expect(c.allocations).toEqual(mine.slice(0, ROUND_LINES).map((x) => ({ member: handles.get(x.member_id), qty: x.qty, cost: x.cost })));
        expect([c.winners, c.units]).toEqual([mine.length, mine.reduce((a, x) => a + x.qty, 0)]);
        if (mine.length > 0) expect(c.outcome.clearing).toBe(row.clearing_weight);
      }
      if (closed.length > 0) count("due:closed-rounds");
      // Nothing is due any more: running it again changes nothing.
      const dump = await s.t.dump();
      expect(await s.t.store.transaction((tx) => closeDueRounds(tx, now))).toEqual([]);
      expect(await s.t.dump()).toBe(dump);
      await checkStep(s, before, "due", expected);
      return invariants(s);
    }
    case "settle": {
      const user = userOf(a.who);
      if (a.direct) {
        const now = s.t.clock.now().getTime();
        await s.t.store.transaction((tx) => settlePeriod(tx, now));
        caught = model;
        const dump = await s.t.dump();
        expect(await s.t.store.transaction((tx) => settlePeriod(tx, now, POOL_ID))).toEqual([]);
        expect(await s.t.dump()).toBe(dump);
      } else {
        const reply = await command(s, user, "pool settle");
        ran(reply);
        expect(reply.ok ? "ok" : reply.code).toBe(user === "admin" ? "ok" : "forbidden");
      }
      // Every ended period of every flat-rate good is settled now, once.
      if (a.direct || user === "admin") {
        const soup = (await q.good("soup"))!;
        const settled = (await q.all<{ period_start: number }>("SELECT period_start FROM settlements WHERE good_id = ? ORDER BY period_start", soup.id)).map(
          (r) => r.period_start,
        );
        const expected: number[] = [];
        for (let start = periodStartOf(soup.created_at, s.p.period); nextPeriod(start, s.p.period) <= snap.now; start = nextPeriod(start, s.p.period))
          expected.push(start);
        expect(settled).toEqual(expected);
      }
      break;
    }
    case "borrow": {
      const user = userOf(a.who);
      const drill = (await q.good("drill"))!;
      // The planned charges of the member's open loans, their waiting requests and their
      // subscriptions' expected shares are spoken for.
      const committed = await held(user);
      const reply = await command(s, user, `good borrow drill days:${a.days}`);
      ran(reply);
      const charge = daysCharge(a.days, drill.declared_effort, dayPercent(s));
      const roomNow = await room(user);
      const expected = drill.stock < 1 ? "out_of_stock" : charge > 0 && charge > roomNow - committed ? "insufficient_credit" : "ok";
      expect(reply.ok ? "ok" : reply.code).toBe(expected);
      if (reply.ok) expect(okData(reply).loan).toMatchObject({ planned: charge / 1000, perDay: (drill.declared_effort * dayPercent(s)) / WEIGHT_ONE });
      count(`borrow:${expected}`);
      if (expected === "insufficient_credit" && charge <= roomNow) count("borrow:refused-for-open-loans");
      if (expected !== "out_of_stock" && committed > 0) count("borrow:counted-open-loans");
      if (expected === "ok" && charge === 0 && roomNow < 0) count("borrow:free-past-the-limit");
      break;
    }
    case "return": {
      const loans = await q.loans();
      // Mostly the borrower of an open loan; else anyone, for any loan or none.
      const open = loans.filter((l) => l.returned_at === null);
      const user = a.own && open.length > 0 ? ((await q.handle(open[a.pick % open.length]!.member_id)) as User) : userOf(a.who);
      const me = await memberOf(user);
      const ordered = [
        ...loans.filter((l) => l.member_id === me && l.returned_at === null),
        ...loans.filter((l) => l.member_id !== me || l.returned_at !== null),
      ];
      const loan = ordered[a.pick % (ordered.length + 2)];
      const reply = await command(s, user, `good return ${loan?.id ?? 900 + a.pick}`);
      ran(reply);
      const mayReturn = loan && (loan.member_id === me || user === "bob");
      const expected = !loan ? "not_found" : !mayReturn ? "not_yours" : loan.returned_at !== null ? "loan_returned" : "ok";
      expect(reply.ok ? "ok" : reply.code).toBe(expected);
      if (reply.ok) {
        // Every started day of use, at least one, x effort x the day's share, rounded once.
        const n = days(loan!.borrowed_at, snap.now);
        const drill = (await q.good("drill"))!;
        const charged = daysCharge(n, drill.declared_effort, dayPercent(s));
        expect(okData(reply).loan).toMatchObject({ days: n, charged: charged / 1000 });
        if (charged !== n * Math.round((drill.declared_effort * dayPercent(s)) / 1000)) count("return:rounded-once-not-per-day");
        if (snap.now > loan!.due_at) count("return:late");
        count("return:ok");
      }
      break;
    }
    case "subscribe": {
      const user = userOf(a.who);
      const g = await q.good(a.good);
      const was = g && goodOf(a.good).model === "flat-rate" ? await subscribed(user) : false;
      // A new subscription must fit with its expected share (among the subscribers with it), on
      // top of what the member's choices hold.
      const share = g && goodOf(a.good).model === "flat-rate" && !was ? await expectedShare((await q.subscribedNow(g.id)).length + 1) : 0;
      const committed = a.on && !was && g ? await held(user) : 0;
      const reply = await command(s, user, `good ${a.on ? "subscribe" : "unsubscribe"} ${a.good}`);
      ran(reply);
      const roomNow = await room(user);
      const expected = !g
        ? "not_found"
        : goodOf(a.good).model !== "flat-rate"
          ? "good_model"
          : a.on === was
            ? "subscription"
            : a.on && share > 0 && share > roomNow - committed
              ? "insufficient_credit"
              : "ok";
      expect(reply.ok ? "ok" : reply.code).toBe(expected);
      if (reply.ok) expect(await subscribed(user)).toBe(a.on);
      if (reply.ok && a.on) expect(okData(reply).expectedShare).toBe(share / 1000);
      count(`subscribe:${a.on ? "on" : "off"}:${expected}`);
      break;
    }
    case "post": {
      // A member's balance set near the credit limit, through the real postEntry (dated now:
      // nothing due is caught up before it, as a bot that was down would find it).
      const user = userOf(a.who);
      const m = await memberOf(user);
      const target = (a.target.base === "limit" ? -snap.limit : 0) + a.target.units * ((await effortOf(a.target.of)) || 1000) + a.target.delta;
      const accounts = await q.accounts();
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
      expect((await q.accounts()).find((x) => x.id === account.id)!.balance).toBe(target);
      if (model.any) count("post:before-a-catch-up");
      count("post:ok");
      break;
    }
    case "work": {
      // Credit the honest way: alice posts, the member claims and reports, alice verifies.
      const user = userOf(a.who);
      const posted = await command(s, "alice", `task post bakery Bake ${s.n} hours:${a.hours}`);
      ran(posted);
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
      // The catch-up first, with the limit of before; then the new limit.
      const reply = await command(s, "admin", `pool policy creditLimit ${hours(a.value)}`);
      ran(reply);
      expect(reply.ok).toBe(true);
      s.creditLimit = a.value;
      break;
    }
    case "show": {
      const user = userOf(a.who);
      // A read changes nothing but what was due (caught up first) and the pool's clock.
      const readOnly = !model.any;
      if (a.view !== "show") {
        const reply = await command(s, user, a.view === "list" ? "good list" : "sector report", { readOnly });
        ran(reply);
        expect(reply.ok).toBe(true);
        break;
      }
      const reply = await command(s, user, `good show ${a.good}`, { readOnly });
      ran(reply);
      const g = await q.good(a.good);
      if (!g) {
        expect(!reply.ok && reply.code).toBe("not_found");
        break;
      }
      // It shows the good as of now: what was due already done.
      const shown = okData(reply).good;
      const waiting = (await q.requests()).filter((r) => r.good_id === g.id && r.status === "pending");
      expect(shown).toMatchObject({ stock: g.stock, demand: waiting.reduce((x, r) => x + r.qty - r.filled, 0), effort: g.declared_effort / 1000 });
      const after = model.goods.get(g.id);
      if (after) expect(shown.openRound === null).toBe(after.open === null);
      if (!readOnly) count("show:caught-up-first");
      break;
    }
    case "replay": {
      // A request id that succeeded answers the same to its caller, whenever; anyone else is
      // refused (half the time the caller, else anyone). Neither changes anything.
      const earlier = s.done[a.pick % Math.max(1, s.done.length)];
      if (!earlier) return;
      const before = await s.t.dump();
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
      expect(await s.t.dump()).toBe(before);
      break;
    }
    case "garbage": {
      const reply = await command(s, userOf(a.who), a.text);
      expect(reply.ok, `garbage "${a.text}" was accepted`).toBe(false);
      count(`garbage:${reply.ok ? "ok" : reply.code}`);
      break;
    }
  }
  await checkStep(s, snap, a.t, caught);
  await invariants(s);
}

/** Days of use from `from` to `to`: every started day, at least one. */
const days = (from: number, to: number) => Math.max(1, Math.ceil((to - from) / DAY_MS));

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
const CARER: Params = {
  creditLimit: 10_000,
  roundHours: 4,
  period: "weekly",
  dayPercent: "1%",
  breadEffort: 1000,
  breadStock: 0,
  cakeEffort: 500,
  soupEffort: 1,
  drillEffort: 20_000,
  drillStock: 2,
};
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
  // A drill whose day of use costs 0.0015 wh: three days cost 0.005 (rounded once), not 3 x
  // 0.002; a loan kept past its day falls overdue (marked, its borrower told) before a read.
  [
    [
      { ...CARER, drillEffort: 150 },
      [
        { t: "borrow", who: 3, days: 3 },
        { t: "advance", ms: 3 * DAY_MS },
        { t: "return", who: 3, pick: 0, own: true },
        { t: "borrow", who: 4, days: 1 },
        { t: "advance", ms: 3 * DAY_MS },
        { t: "show", who: 0, good: "drill", view: "show" },
        { t: "return", who: 4, pick: 0, own: true },
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
      { numRuns: randomRuns({ sqlite: 60, postgres: 6 }) + EXAMPLES.length, examples: EXAMPLES, seed: SEED },
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
      "request:raised-a-bid",
      "request:changed-the-units",
      "request:bid-change-refused",
      "round:rounded-once-not-per-unit",
      "return:rounded-once-not-per-day",
      "round:decided-on-earlier-balances",
      "subscribe:on:ok",
      "subscribe:on:insufficient_credit",
      "overdue:marked",
      "show:caught-up-first",
    ]) {
      // The generator's reach: checked where the full count of cases runs (SQLite).
      if (fullRandomRuns()) expect(seen(k), `${k} in ${report}`).toBeGreaterThan(0);
    }
    // What the issue asked us to note: which steps took someone past the limit (return:, settle:).
    console.info(`goods property coverage: ${report}`);
    // A hang guard only: some 3 minutes on SQLite beside other runs on two cores, several times that on PostgreSQL.
  }, 3_600_000);
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
      const rows = await sql(t).all<{ at: number; created_at: number }>(
        "SELECT a.at, r.created_at FROM allocations a JOIN good_requests r ON r.id = a.request_id",
      );
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
      const rounds = await sql(t).rounds();
      expect(rounds.map((r) => [r.id, r.allocated, r.supply])).toEqual([
        [1, 1, 1],
        [2, 0, 0],
      ]);
      expect((await sql(t).good("cake"))!.stock).toBe(0);
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
      for (const [who, w] of [
        ["carol", "3"],
        ["dave", "2.5"],
        ["erin", "2"],
        ["frank", "1"],
      ] as const)
        await t.ok(who, `good request cake weight:${w}`);
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
      await t.ok("carol", "good request cake qty:7 weight:2");
      // Her requests waited while she could pay them; then her balance fell to -7.00: 3.00 left.
      const carol = await sql(t).member("carol");
      await t.store.transaction(async (tx) => {
        const from = await ensureAccount(tx, POOL_ID, "member", carol);
        const to = await ensureAccount(tx, POOL_ID, "commons", POOL_ID);
        await postEntry(tx, {
          poolId: POOL_ID,
          fromAccount: from,
          toAccount: to,
          amount: 7000,
          kind: "test",
          memo: "spent elsewhere",
          requestId: "test:spent",
          createdAt: t.clock.now().getTime(),
          createdBy: null,
        });
      });
      await t.ok("alice", "good produce cake 6");
      const round = (await t.ok("alice", "good allocate cake")).round;
      // At 2.00 a unit she could pay one; once the price fell to 1.00, three: all she can pay.
      expect(round.allocations.reduce((a: number, x: { qty: number }) => a + x.qty, 0)).toBe(3);
      expect((await t.ok("carol", "me balance")).balance).toBe(-10);
    } finally {
      await t.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Closing on time or a week late decides the same (issue 13, item 12). The same random history
// runs twice: once with the goods caught up on time (right after every clock advance, before
// anything else happens), once without (only commands catch up, when they come; entries posted
// directly meanwhile are dated later than what came due). Then both wait a week and close what
// is still due. Every table must end the same: allocations, entries with their dates, requests,
// rounds, notes, loans, settlements (but for when each settlement ran).

type LateAction =
  | { readonly t: "request"; readonly who: number; readonly good: "bread" | "cake"; readonly qty: number | null; readonly weight: string | null }
  | { readonly t: "produce"; readonly good: "bread" | "cake" | "soup"; readonly qty: number }
  | { readonly t: "post"; readonly who: number; readonly amount: number }
  | { readonly t: "advance"; readonly ms: number }
  | { readonly t: "borrow"; readonly who: number; readonly days: number }
  | { readonly t: "return"; readonly who: number }
  | { readonly t: "subscribe"; readonly who: number };

const lateAction: fc.Arbitrary<LateAction> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant("request" as const),
      who: fc.nat({ max: 3 }),
      good: fc.constantFrom("bread" as const, "cake" as const),
      qty: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
      weight: fc.option(fc.constantFrom("1.2", "1.5", "2", "3"), { nil: null, freq: 3 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("produce" as const),
      good: fc.constantFrom("bread" as const, "cake" as const, "soup" as const),
      qty: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant("post" as const),
      who: fc.nat({ max: 3 }),
      amount: fc.constantFrom(-9000, -6000, -3000, -1500, 1500, 3000, 6000, 9000),
    }),
  },
  // Never a whole number of hours: no advance lands exactly on a closing time or a due date.
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant("advance" as const),
      ms: fc.constantFrom(2 * HOUR_MS, 5 * HOUR_MS, 23 * HOUR_MS, 25 * HOUR_MS, 3 * DAY_MS).map((ms) => ms + 17_000),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("borrow" as const), who: fc.nat({ max: 3 }), days: fc.constantFrom(1, 2, 5) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("return" as const), who: fc.nat({ max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("subscribe" as const), who: fc.nat({ max: 3 }) }) },
);

/** Runs the history, catching up on time or leaving it to the commands; the database at the end, normalised. */
async function lateHistory(
  p: { roundHours: number; creditLimit: number },
  actions: readonly LateAction[],
  onTime: boolean,
): Promise<{ dump: string; late: number }> {
  const t = await testPool({ start: "2026-11-26T09:00:00Z" });
  try {
    await t.ok("admin", "pool create Test");
    await t.ok("alice", "project create bakery The Bakery");
    for (const u of TAKERS) await t.ok(u, "me balance");
    await t.ok("admin", `pool policy creditLimit ${p.creditLimit / 1000}`);
    await t.ok("admin", `pool policy roundHours ${p.roundHours}`);
    await t.ok("admin", "pool policy settlePeriod weekly");
    await t.ok("alice", "good add bakery bread effort:1 stock:1");
    await t.ok("alice", "good add bakery cake effort:2.5");
    await t.ok("alice", "good add bakery soup effort:1.5 model:flat-rate");
    await t.ok("alice", "good add bakery drill effort:40 model:durable stock:1");
    const catchUp = () => t.store.transaction((tx) => closeDueRounds(tx, t.clock.now().getTime()));
    // How many things were due while entries were posted after them (in the late run): what this tests.
    let late = 0;
    let due = false;
    for (const a of actions) {
      const who = TAKERS[a.t === "produce" || a.t === "advance" ? 0 : a.who]!;
      switch (a.t) {
        case "request":
          await t.say(who, `good request ${a.good}${a.qty === null ? "" : ` qty:${a.qty}`}${a.weight === null ? "" : ` weight:${a.weight}`}`);
          due = false;
          break;
        case "produce":
          await t.say("alice", `good produce ${a.good} ${a.qty}`);
          due = false;
          break;
        case "post": {
          if (due) late++;
          const now = t.clock.now().getTime();
          await t.store.transaction(async (tx) => {
            const member = await ensureAccount(tx, POOL_ID, "member", (await tx.memberByHandle(who))!.id);
            const commons = await ensureAccount(tx, POOL_ID, "commons", POOL_ID);
            const [fromAccount, toAccount] = a.amount > 0 ? [commons, member] : [member, commons];
            await postEntry(tx, {
              poolId: POOL_ID,
              fromAccount,
              toAccount,
              amount: Math.abs(a.amount),
              kind: "test",
              memo: "posted directly",
              requestId: `test:late-${now}-${fromAccount}`,
              createdAt: now,
              createdBy: null,
            });
          });
          break;
        }
        case "advance":
          t.clock.advance(a.ms);
          if (onTime) await catchUp();
          due = true;
          break;
        case "borrow":
          await t.say(who, `good borrow drill days:${a.days}`);
          due = false;
          break;
        case "return": {
          const me = await sql(t).member(who);
          const open = (await sql(t).loans()).find((l) => l.returned_at === null && l.member_id === me);
          if (open) await t.say(who, `good return ${open.id}`);
          due = false;
          break;
        }
        case "subscribe":
          await t.say(who, "good subscribe soup");
          due = false;
          break;
      }
    }
    t.clock.advance(7 * DAY_MS + 17_000);
    await catchUp();
    // Rows written by a catch-up come in another order when it runs later: compared without
    // their ids (rounds by their good and opening time). So are the rounds named in stored
    // answers: PostgreSQL's sequence skips the ids rolled-back transactions took, so the same
    // round may have another number in the late pool there.
    const tables = JSON.parse(await t.dump()) as Array<[string, Array<Record<string, unknown>>]>;
    const roundKey = new Map<unknown, string>();
    for (const [name, rows] of tables) if (name === "rounds") for (const r of rows) roundKey.set(r.id, `${r.good_id}@${r.opened_at}`);
    const sorted = (rows: Array<Record<string, unknown>>) => rows.map((r) => JSON.stringify(r)).sort();
    const roundsByKey = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(roundsByKey);
      if (!v || typeof v !== "object") return v;
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => {
          if ((k === "round" || k === "roundId") && typeof x === "number") return [k, roundKey.get(x) ?? x];
          if (k === "round" && x && typeof x === "object" && "id" in x) return [k, { ...(roundsByKey(x) as object), id: roundKey.get(x.id) ?? x.id }];
          return [k, roundsByKey(x)];
        }),
      );
    };
    const normal = tables.map(([name, rows]) => {
      if (name === "requests") return [name, rows.map((r) => (typeof r.reply === "string" ? { ...r, reply: roundsByKey(JSON.parse(r.reply)) } : r))];
      // Settlements by their good and period, without their ids either (PostgreSQL's may skip).
      if (name === "settlements") return [name, sorted(rows.map(({ at: _, id: _id, ...r }) => r))];
      if (name === "rounds") return [name, sorted(rows.map(({ id, ...r }) => ({ ...r, key: roundKey.get(id) })))];
      if (name === "allocations") return [name, sorted(rows.map(({ id: _, round_id, ...r }) => ({ ...r, round: roundKey.get(round_id) ?? null })))];
      if (name === "entries" || name === "member_notes" || name === "outbox") return [name, sorted(rows.map(({ id: _, ...r }) => r))];
      return [name, rows];
    });
    return { dump: JSON.stringify(normal), late };
  } finally {
    await t.close();
  }
}

// Found by the property when rounds decided on the balances of the time they were caught up:
// dave waits for two loaves with one in stock; his round comes due at 13:00, then he and carol
// are posted to -9.00 before anything catches up. The loaf was his to pay at 13:00, so it is
// his however late the round is closed.
const LATE_EXAMPLES: Array<[{ roundHours: number; creditLimit: number }, LateAction[]]> = [
  [
    { roundHours: 4, creditLimit: 5000 },
    [
      { t: "request", who: 1, good: "bread", qty: 2, weight: null },
      { t: "post", who: 0, amount: -9000 },
      { t: "advance", ms: 2 * HOUR_MS + 17_000 },
      { t: "advance", ms: 2 * HOUR_MS + 17_000 },
      { t: "post", who: 0, amount: -9000 },
      { t: "post", who: 1, amount: -9000 },
      { t: "advance", ms: 2 * HOUR_MS + 17_000 },
      { t: "request", who: 0, good: "bread", qty: null, weight: null },
      { t: "produce", good: "bread", qty: 1 },
    ],
  ],
];

describe("goods caught up late", () => {
  it("GIVEN any history of bids, raised bids, production, loans, subscriptions and entries posted meanwhile THEN catching up a week late ends exactly as catching up on time", async () => {
    let late = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({ roundHours: fc.constantFrom(4, 24), creditLimit: fc.constantFrom(5000, 10_000) }),
        fc.array(lateAction, { minLength: 10, maxLength: 40 }),
        async (p, actions) => {
          const onTime = await lateHistory(p, actions, true);
          const later = await lateHistory(p, actions, false);
          late += later.late;
          if (later.dump !== onTime.dump) {
            const a = new Map(JSON.parse(onTime.dump) as Array<[string, unknown]>);
            const b = new Map(JSON.parse(later.dump) as Array<[string, unknown]>);
            for (const [name, rows] of a) expect(b.get(name), `table ${name}`).toEqual(rows);
          }
          expect(later.dump).toBe(onTime.dump);
        },
      ),
      { numRuns: Number(process.env.LATE_RUNS ?? randomRuns({ sqlite: 25, postgres: 3 })) + LATE_EXAMPLES.length, examples: LATE_EXAMPLES, seed: SEED },
    );
    // Entries were posted after something came due and before anything caught it up.
    expect(late).toBeGreaterThan(fullRandomRuns() ? 10 : 0);
    // A hang guard only, sized for PostgreSQL beside other runs.
  }, 1_200_000);
});
