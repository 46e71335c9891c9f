// A large pool with years of history, generated from a seed with bulk inserts, for the bench
// (`npm run bench`, test/bench/). It fills in a pool created by `pool create` (its admin, its
// lobby and its commons): members with their identities, memberships and accounts, projects
// with coordinators, goals and rooms, kinds with the trail of their weights, tasks (most done
// and verified, some cancelled, the open ones posted in the last weeks, some claimed or reported
// now), goods (per-unit, copyable, durable) with productions, requests, rounds, allocations and
// loans, the ledger entries all of that made, and what the bot keeps for keepDays (answers,
// request ids, sent messages and notes). Not generated: flat-rate goods and subscriptions,
// waitlists, due dates, corrections and merged members.
// Every balance is the sum of its entries, so `pool audit` balances. All SQL stays here.
import type Database from "better-sqlite3";
import pg from "pg";
import { mulberry32 } from "../src/core/random.ts";

const WEIGHT_ONE = 1_000_000;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** How much of everything a pool of this scale has (1 = the pool: 1,000,000 entries). */
export interface FixtureShape {
  readonly projects: number;
  readonly members: number;
  readonly tasks: number;
  readonly openTasks: number;
  /** Tasks claimed now: half not reported yet, half reported and waiting for verification. */
  readonly claimedTasks: number;
  readonly cancelledTasks: number;
  readonly entries: number;
  readonly goods: number;
  readonly kinds: number;
  /** Per-unit goods with a round open now and requests waiting in it. */
  readonly openRounds: number;
  /** Days of history. */
  readonly days: number;
}

export function fixtureShape(scale: number): FixtureShape {
  if (!(scale > 0 && scale <= 10)) throw new Error(`scale must be above 0 and at most 10, not ${scale}`);
  const n = (full: number, min: number) => Math.max(min, Math.round(full * scale));
  const tasks = n(100_000, 60);
  const openTasks = n(10_000, 10);
  const claimedTasks = n(2_000, 6);
  const cancelledTasks = n(5_000, 2);
  return {
    projects: n(50, 3),
    members: n(10_000, 20),
    tasks,
    openTasks,
    claimedTasks,
    cancelledTasks,
    // Every verified task credits one entry; the ledger has at least those and some goods taken.
    entries: Math.max(n(1_000_000, 100), 2 * (tasks - openTasks - claimedTasks - cancelledTasks)),
    goods: n(2_000, 10),
    kinds: n(100, 5),
    openRounds: n(100, 2),
    days: 3 * 365,
  };
}

/** What the bench needs to know to type commands on the generated pool. */
export interface Fixture {
  readonly shape: FixtureShape;
  /** Rows written, per table. */
  readonly rows: Readonly<Record<string, number>>;
  /** Platform user ids of the members, by member index (handle `m<index>`). */
  readonly memberUsers: readonly string[];
  readonly projects: ReadonlyArray<{
    readonly id: number;
    readonly slug: string;
    readonly coordinators: readonly string[];
    readonly room: string;
    readonly openTasks: number;
  }>;
  /** Tasks with an open slot and no claim. */
  readonly openTasks: readonly number[];
  /** Claims not reported yet: the member's user id and the task. */
  readonly activeClaims: ReadonlyArray<{ readonly task: number; readonly user: string }>;
  /** Reported work waiting for verification: the worker's handle, the task and a coordinator's user id. */
  readonly reportedClaims: ReadonlyArray<{ readonly task: number; readonly handle: string; readonly coordinator: string }>;
  /** Per-unit goods with stock and nobody waiting, and goods with a round open. */
  readonly goodsInStock: readonly string[];
  readonly goodsWaiting: readonly string[];
  /** Members whose balance is well above zero (they can take goods), by user id. */
  readonly solventUsers: readonly string[];
}

export interface FixtureInput {
  readonly poolId: number;
  /** The pool's admin (from `pool create`). */
  readonly adminId: number;
  /** The platform of the rooms and identities, and the domain of the user ids. */
  readonly platform: string;
  readonly domain: string;
  /** The moment the history ends (the bench's commands start just after it). */
  readonly now: number;
  readonly seed: number;
  readonly shape: FixtureShape;
  /** Also a console room of this name bound to the pool, where console user `user` is the admin (for `dpool exec`). */
  readonly console?: { readonly user: string; readonly room: string };
}

const rng = mulberry32;

const KIND_WORDS = [
  "baking",
  "cleaning",
  "repair",
  "sewing",
  "writing",
  "coding",
  "delivery",
  "gardening",
  "cooking",
  "teaching",
  "translation",
  "design",
  "accounting",
  "carpentry",
  "painting",
  "harvest",
  "brewing",
  "printing",
  "welding",
  "childcare",
];
const GOOD_WORDS = [
  "bread",
  "jam",
  "soap",
  "cheese",
  "honey",
  "beer",
  "chair",
  "shirt",
  "bike",
  "drill",
  "ladder",
  "book",
  "apples",
  "candles",
  "cider",
  "tea",
  "pasta",
  "sauce",
  "yarn",
  "tent",
];
const TITLE_WORDS = ["Fix", "Bake", "Sort", "Paint", "Deliver", "Write", "Clean", "Plan", "Repair", "Harvest", "Translate", "Review", "Build", "Teach", "Pack"];
const OBJECT_WORDS = [
  "the oven",
  "shelves",
  "the bikes",
  "the flyer",
  "the roof",
  "orders",
  "the garden",
  "the website",
  "crates",
  "the guide",
  "the stall",
  "the fence",
  "the cellar",
  "the van",
  "the library",
];

/**
 * Fills the pool in one transaction. The pool, its admin (with an account), its lobby room and
 * its commons account exist already (`pool create`); everything else is written here.
 */
export function generatePool(sqlite: Database.Database, f: FixtureInput): Fixture {
  const { shape, poolId, now } = f;
  const rand = rng(f.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const start = now - shape.days * DAY_MS;
  const rows: Record<string, number> = {};
  const count = (table: string, n = 1) => (rows[table] = (rows[table] ?? 0) + n);
  const nextId = (table: string) => Number((sqlite.prepare(`SELECT coalesce(max(id), 0) + 1 AS n FROM "${table}"`).get() as { n: number }).n);
  const user = (i: number) => `@m${i}:${f.domain}`;

  const q = {
    member: sqlite.prepare("INSERT INTO members (id, handle, created_at, merged_into) VALUES (?, ?, ?, NULL)"),
    identity: sqlite.prepare("INSERT INTO identities (platform, external_id, member_id, created_at) VALUES (?, ?, ?, ?)"),
    membership: sqlite.prepare("INSERT INTO memberships (pool_id, member_id, role, joined_at) VALUES (?, ?, 'member', ?)"),
    account: sqlite.prepare("INSERT INTO accounts (id, pool_id, kind, owner_id, balance) VALUES (?, ?, ?, ?, 0)"),
    setBalance: sqlite.prepare("UPDATE accounts SET balance = ? WHERE id = ?"),
    project: sqlite.prepare("INSERT INTO projects (id, pool_id, slug, name, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)"),
    coordinator: sqlite.prepare("INSERT INTO coordinators (project_id, member_id, added_at) VALUES (?, ?, ?)"),
    room: sqlite.prepare(
      "INSERT INTO rooms (id, platform, external_id, pool_id, project_id, is_lobby, bound_at, bound_by, unreachable_since) VALUES (?, ?, ?, ?, ?, 0, ?, ?, NULL)",
    ),
    board: sqlite.prepare("INSERT OR REPLACE INTO boards (room_id, body, updated_at, message_id) VALUES (?, ?, ?, ?)"),
    kind: sqlite.prepare("INSERT INTO kinds (id, pool_id, name, weight, created_at) VALUES (?, ?, ?, ?, ?)"),
    kindChange: sqlite.prepare("INSERT INTO kind_changes (kind_id, before, after, reason, task_id, member_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)"),
    task: sqlite.prepare(
      "INSERT INTO tasks (id, pool_id, project_id, kind_id, title, estimate, slots, posted_weight, posted_at, posted_by, due_at, open_since, open_ms, cancelled_at, cancelled_by, good_id, good_qty) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)",
    ),
    claim: sqlite.prepare(
      "INSERT INTO claims (task_id, member_id, weight, status, claimed_at, expires_at, reported_at, reported_hours, note, reject_reason, verified_at, verified_by, credited_hours, credited, entry_id, ended_at, ended_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?, ?)",
    ),
    entry: sqlite.prepare(
      "INSERT INTO entries (id, pool_id, from_account, to_account, amount, kind, memo, reverses, request_id, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
    ),
    good: sqlite.prepare(
      "INSERT INTO goods (id, pool_id, project_id, name, display_name, unit, model, sector, declared_effort, stock, created_at, created_by) VALUES (?, ?, ?, ?, ?, 'unit', ?, NULL, ?, ?, ?, ?)",
    ),
    loan: sqlite.prepare("INSERT INTO loans (good_id, member_id, borrowed_at, due_at, returned_at, charged, overdue_at) VALUES (?, ?, ?, ?, ?, ?, ?)"),
    goal: sqlite.prepare("INSERT INTO goals (pool_id, project_id, text, status, created_at, created_by, done_at, done_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
    production: sqlite.prepare("INSERT INTO productions (good_id, qty, effort, at, by, task_id) VALUES (?, ?, ?, ?, ?, ?)"),
    request: sqlite.prepare(
      "INSERT INTO good_requests (id, good_id, member_id, qty, filled, weight, status, created_at, closed_at, bid_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
    ),
    round: sqlite.prepare(
      "INSERT INTO rounds (id, good_id, opened_at, closes_at, closed_at, clearing_weight, supply, allocated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    allocation: sqlite.prepare(
      "INSERT INTO allocations (good_id, request_id, round_id, member_id, qty, effort, weight, cost, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    reply: sqlite.prepare(
      "INSERT INTO replies (request_id, platform, target, body, created_at, delivered_at, claimed_by, claimed_until, attempts, failed_at, failure, user_id, fingerprint) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, 1, NULL, NULL, ?, ?)",
    ),
    requestRow: sqlite.prepare("INSERT INTO requests (request_id, command, member_id, reply, created_at, fingerprint) VALUES (?, ?, ?, ?, ?, ?)"),
    outbox: sqlite.prepare(
      "INSERT INTO outbox (room_id, kind, body, created_at, delivered_at, claimed_by, claimed_until, attempts, failed_at, failure) VALUES (?, ?, ?, ?, ?, NULL, NULL, 1, NULL, NULL)",
    ),
    note: sqlite.prepare(
      "INSERT INTO member_notes (pool_id, member_id, kind, body, created_at, delivered_at, claimed_by, claimed_until, attempts, failed_at, failure, platform, external_id) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, 1, NULL, NULL, NULL, NULL)",
    ),
  };

  const generate = () => {
    const lobby = sqlite.prepare("SELECT id FROM rooms WHERE pool_id = ? AND is_lobby = 1").get(poolId) as { id: number } | undefined;
    if (!lobby) throw new Error(`pool ${poolId} has no lobby`);
    const commons = sqlite.prepare("SELECT id FROM accounts WHERE pool_id = ? AND kind = 'commons'").get(poolId) as { id: number } | undefined;
    if (!commons) throw new Error(`pool ${poolId} has no commons account`);
    const balances = new Map<number, number>();
    const move = (from: number, to: number, amount: number) => {
      balances.set(from, (balances.get(from) ?? 0) - amount);
      balances.set(to, (balances.get(to) ?? 0) + amount);
    };

    // ---- Members: ids follow the admin's; each has a platform identity, a membership, an account.
    let accountId = nextId("accounts");
    const memberBase = nextId("members");
    const memberIds: number[] = [];
    const memberAccounts: number[] = [];
    for (let i = 0; i < shape.members; i++) {
      const id = memberBase + i;
      const joined = start + Math.floor((i / shape.members) * (shape.days - 30) * DAY_MS);
      q.member.run(id, `m${i}`, joined);
      q.identity.run(f.platform, user(i), id, joined);
      q.membership.run(poolId, id, joined);
      q.account.run(accountId, poolId, "member", id);
      memberIds.push(id);
      memberAccounts.push(accountId++);
    }
    count("members", shape.members);
    count("identities", shape.members);
    count("memberships", shape.members);
    count("accounts", shape.members);
    const memberIndexOf = new Map(memberIds.map((id, i) => [id, i]));
    /** A member who had joined by `t` (members join in index order over the history). */
    const memberAt = (t: number) => {
      const joinedBy = Math.max(1, Math.min(shape.members, Math.floor(((t - start) / ((shape.days - 30) * DAY_MS)) * shape.members) + 1));
      return int(0, joinedBy - 1);
    };

    // ---- Projects: two coordinators each, an account, a room with its board.
    const projectBase = nextId("projects");
    let roomId = nextId("rooms");
    const projects: Array<{ id: number; slug: string; account: number; coordinators: number[]; room: number; roomUser: string; open: number }> = [];
    for (let p = 0; p < shape.projects; p++) {
      const id = projectBase + p;
      const created = start + p * HOUR_MS;
      const coordinators = [memberIds[(p * 2) % shape.members]!, memberIds[(p * 2 + 1) % shape.members]!];
      q.project.run(id, poolId, `p${p}`, `Project ${p}`, created, f.adminId);
      for (const c of new Set(coordinators)) q.coordinator.run(id, c, created);
      q.account.run(accountId, poolId, "project", id);
      const room = `!p${p}:${f.domain}`;
      q.room.run(roomId, f.platform, room, poolId, id, created, f.adminId);
      projects.push({ id, slug: `p${p}`, account: accountId++, coordinators, room: roomId++, roomUser: room, open: 0 });
    }
    count("projects", shape.projects);
    for (const p of projects) {
      // Three goals each: two reached, one open.
      for (let k = 0; k < 3; k++) {
        const at = start + int(0, shape.days - 10) * DAY_MS;
        q.goal.run(
          poolId,
          p.id,
          `Goal ${k + 1} of ${p.slug}`,
          k < 2 ? "done" : "open",
          at,
          p.coordinators[0]!,
          k < 2 ? at + 7 * DAY_MS : null,
          k < 2 ? p.coordinators[0]! : null,
        );
        count("goals");
      }
    }
    count("coordinators", shape.projects * 2);
    count("accounts", shape.projects);
    count("rooms", shape.projects);

    // ---- Kinds.
    const kindBase = nextId("kinds");
    const kindWeights: number[] = [];
    for (let k = 0; k < shape.kinds; k++) {
      const w = int(800, 1600) * 1000;
      kindWeights.push(w);
      const name = k < KIND_WORDS.length ? KIND_WORDS[k]! : `${KIND_WORDS[k % KIND_WORDS.length]}-${Math.floor(k / KIND_WORDS.length)}`;
      q.kind.run(kindBase + k, poolId, name, w, start);
      q.kindChange.run(kindBase + k, null, w, "new", null, f.adminId, start);
    }
    count("kinds", shape.kinds);
    count("kind_changes", shape.kinds);

    const projectById = new Map(projects.map((p) => [p.id, p]));
    // ---- Goods: most per-unit, some copyable. Stock and productions follow from what was taken.
    const goodBase = nextId("goods");
    const goods: Array<{
      id: number;
      name: string;
      project: number;
      model: "per-unit" | "copyable" | "durable";
      effort: number;
      allocated: number;
      taskUnits: number;
      round: { id: number; opened: number; clearing: number; allocated: number; supply: number } | null;
      waiting: boolean;
    }> = [];
    for (let g = 0; g < shape.goods; g++) {
      const project = projects[g % shape.projects]!;
      const model = g % 10 === 9 ? "copyable" : g % 20 === 8 ? "durable" : "per-unit";
      const name = `${GOOD_WORDS[g % GOOD_WORDS.length]}-${g}`;
      goods.push({
        id: goodBase + g,
        name,
        project: project.id,
        model,
        effort: model === "durable" ? int(20, 200) * 100 : int(5, 30) * 10,
        allocated: 0,
        taskUnits: 0,
        round: null,
        waiting: false,
      });
    }
    for (const g of goods)
      q.good.run(g.id, poolId, g.project, g.name, null, g.model, g.effort, 0, start + HOUR_MS, projectById.get(g.project)!.coordinators[0]!);
    count("goods", goods.length);
    const perUnit = goods.filter((g) => g.model === "per-unit");
    const copyable = goods.filter((g) => g.model === "copyable");
    const durable = goods.filter((g) => g.model === "durable");
    // The last openRounds per-unit goods have a round open now (and no production tasks).
    for (const g of perUnit.slice(-shape.openRounds)) g.waiting = true;
    const producible = perUnit.filter((g) => !g.waiting);

    // ---- The history: entries in order of time. Each verified task is one work entry; the
    // rest are goods taken (at once, or in a round with a surplus to the commons).
    const historic = shape.tasks - shape.openTasks - shape.claimedTasks;
    const verified = historic - shape.cancelledTasks;
    let taskId = nextId("tasks");
    let entryId = nextId("entries");
    let requestId = nextId("good_requests");
    let roundId = nextId("rounds");
    const taskProductions: Array<{ good: number; qty: number; effort: number; at: number; by: number; task: number }> = [];
    const closedRounds: Array<{
      id: number;
      good: number;
      opened: number;
      closes: number;
      closed: number;
      clearing: number;
      supply: number;
      allocated: number;
    }> = [];
    let workLeft = verified;
    let slotsLeft = shape.entries;
    let cancelledLeft = shape.cancelledTasks;
    let command = 0;
    let lastWorker = 0;
    const requestKey = () => `${f.platform}:$h${++command}`;
    const span = now - DAY_MS - start;
    while (slotsLeft > 0) {
      const t = start + Math.floor(((shape.entries - slotsLeft) / shape.entries) * span);
      if (workLeft > 0 && rand() * slotsLeft < workLeft) {
        // A task posted, claimed, reported and verified; sometimes one cancelled beside it.
        if (cancelledLeft > 0 && rand() * workLeft < cancelledLeft) {
          const project = pick(projects);
          const kind = int(0, shape.kinds - 1);
          const posted = t - int(2, 20) * DAY_MS;
          q.task.run(
            taskId++,
            poolId,
            project.id,
            kindBase + kind,
            taskTitle(rand),
            int(2, 8) * 500,
            kindWeights[kind]!,
            posted,
            project.coordinators[0]!,
            null,
            t - posted,
            t,
            project.coordinators[0]!,
            null,
            null,
          );
          cancelledLeft--;
          count("tasks");
        }
        const project = pick(projects);
        const kind = int(0, shape.kinds - 1);
        const estimate = int(2, 8) * 500;
        const posted = t - int(3, 10) * DAY_MS - int(0, 23) * HOUR_MS;
        const claimed = posted + int(1, 48) * HOUR_MS;
        const reported = Math.min(t - HOUR_MS, claimed + int(1, 72) * HOUR_MS);
        const kindWeight = kindWeights[kind]!;
        const weight = Math.max(250_000, Math.min(4 * WEIGHT_ONE, Math.round(kindWeight * (0.9 + rand() * 0.2))));
        const hours = rand() < 0.8 ? estimate : int(1, (2 * estimate) / 250) * 250;
        const amount = Math.round((hours * weight) / WEIGHT_ONE);
        const worker = memberAt(claimed);
        const verifier = project.coordinators[0] === memberIds[worker] ? project.coordinators[1]! : project.coordinators[0]!;
        let good: (typeof goods)[number] | null = null;
        let goodQty: number | null = null;
        if (rand() < 0.15) {
          good = producible[Math.floor(rand() * producible.length)] ?? null;
          if (good) goodQty = int(1, 10);
        }
        const id = taskId++;
        const title = taskTitle(rand);
        q.task.run(
          id,
          poolId,
          project.id,
          kindBase + kind,
          title,
          estimate,
          kindWeight,
          posted,
          project.coordinators[0]!,
          null,
          claimed - posted,
          null,
          null,
          good?.id ?? null,
          goodQty,
        );
        count("tasks");
        if (rand() < 0.1) {
          // Someone claimed it before and let it run out.
          q.claim.run(
            id,
            memberIds[memberAt(posted)]!,
            weight,
            "released",
            posted + HOUR_MS,
            posted + HOUR_MS + 7 * DAY_MS,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            posted + HOUR_MS + 7 * DAY_MS,
            null,
          );
          count("claims");
        }
        const key = requestKey();
        q.entry.run(entryId, poolId, project.account, memberAccounts[worker]!, amount, "work", `task #${id} ${title}`, key, t, verifier);
        move(project.account, memberAccounts[worker]!, amount);
        q.claim.run(
          id,
          memberIds[worker]!,
          weight,
          "verified",
          claimed,
          claimed + 7 * DAY_MS,
          reported,
          hours,
          t,
          verifier,
          hours,
          amount,
          entryId,
          null,
          null,
        );
        count("claims");
        count("entries");
        entryId++;
        const after = Math.round(kindWeight + (weight - kindWeight) / 4);
        if (after !== kindWeight) {
          q.kindChange.run(kindBase + kind, kindWeight, after, "verify", id, memberIds[worker]!, t);
          count("kind_changes");
          kindWeights[kind] = after;
        }
        if (good && goodQty) {
          good.taskUnits += goodQty;
          taskProductions.push({ good: good.id, qty: goodQty, effort: good.effort, at: t, by: verifier, task: id });
        }
        lastWorker = worker;
        workLeft--;
        slotsLeft--;
        continue;
      }
      // A good taken: copyable now and then (no entry), else per-unit at once or in a round.
      if (rand() < 0.05 && copyable.length > 0) {
        const g = pick(copyable);
        q.request.run(requestId++, g.id, memberIds[memberAt(t)]!, 1, 1, WEIGHT_ONE, "access", t, t);
        count("good_requests");
      }
      if (durable.length > 0 && rand() < 0.01) {
        // A loan of a durable good, returned and charged per day (durableDayPercent 1% a day).
        const d = pick(durable);
        const days = int(1, 14);
        const charged = Math.max(1, Math.round((days * d.effort * 10) / 1000));
        const borrower = memberAt(t);
        const key = requestKey();
        q.loan.run(d.id, memberIds[borrower]!, t - days * DAY_MS, t - days * DAY_MS + 14 * DAY_MS, t, charged, null);
        q.entry.run(
          entryId++,
          poolId,
          memberAccounts[borrower]!,
          projectById.get(d.project)!.account,
          charged,
          "loan",
          `${d.name}, ${days} day${days === 1 ? "" : "s"}`,
          key,
          t,
          memberIds[borrower]!,
        );
        move(memberAccounts[borrower]!, projectById.get(d.project)!.account, charged);
        count("loans");
        count("entries");
        slotsLeft--;
        continue;
      }
      const g = pick(perUnit);
      const project = projectById.get(g.project)!;
      const qty = rand() < 0.8 ? 1 : int(2, 3);
      let taker = memberAt(t);
      for (let tries = 0; tries < 20 && (balances.get(memberAccounts[taker]!) ?? 0) < g.effort * qty * 2; tries++) taker = memberAt(t);
      // Nobody found who has it: the member last credited for work takes it.
      if ((balances.get(memberAccounts[taker]!) ?? 0) < g.effort * qty * 2) taker = lastWorker;
      const account = memberAccounts[taker]!;
      const key = requestKey();
      const inRound = slotsLeft - 2 >= workLeft && rand() < 0.1;
      if (!inRound) {
        const cost = g.effort * qty;
        q.request.run(requestId, g.id, memberIds[taker]!, qty, qty, WEIGHT_ONE, "allocated", t, t);
        q.allocation.run(g.id, requestId, null, memberIds[taker]!, qty, g.effort, WEIGHT_ONE, cost, t);
        q.entry.run(entryId++, poolId, account, project.account, cost, "allocation", `${qty} x ${g.name}`, key, t, memberIds[taker]!);
        move(account, project.account, cost);
        requestId++;
        g.allocated += qty;
        count("good_requests");
        count("allocations");
        count("entries");
        slotsLeft--;
        continue;
      }
      // A round of this good: a new one a day after the last (each hands out a few units).
      if (!g.round || t - g.round.opened > DAY_MS) {
        if (g.round)
          closedRounds.push({
            id: g.round.id,
            good: g.id,
            opened: g.round.opened,
            closes: g.round.opened + 24 * HOUR_MS,
            closed: Math.max(t - HOUR_MS, g.round.opened + HOUR_MS),
            clearing: g.round.clearing,
            supply: g.round.supply,
            allocated: g.round.allocated,
          });
        g.round = { id: roundId++, opened: t - 2 * HOUR_MS, clearing: int(100, 150) * 10_000, allocated: 0, supply: 0 };
        // Written now (its allocations refer to it), its outcome when it closes.
        q.round.run(g.round.id, g.id, g.round.opened, g.round.opened + 24 * HOUR_MS, null, null, null, null);
      }
      const r = g.round;
      const effortTotal = g.effort * qty;
      const cost = Math.round((effortTotal * r.clearing) / WEIGHT_ONE);
      q.request.run(requestId, g.id, memberIds[taker]!, qty, qty, r.clearing + int(0, 50) * 10_000, "allocated", r.opened, t);
      q.allocation.run(g.id, requestId, r.id, memberIds[taker]!, qty, g.effort, r.clearing, cost, t);
      q.entry.run(entryId++, poolId, account, project.account, effortTotal, "allocation", `${qty} x ${g.name}`, key, t, memberIds[taker]!);
      move(account, project.account, effortTotal);
      count("entries");
      slotsLeft--;
      if (cost > effortTotal) {
        q.entry.run(entryId++, poolId, account, commons.id, cost - effortTotal, "surplus", `${qty} x ${g.name}`, key, t, memberIds[taker]!);
        move(account, commons.id, cost - effortTotal);
        count("entries");
        slotsLeft--;
      }
      requestId++;
      r.allocated += qty;
      r.supply += qty;
      g.allocated += qty;
      count("good_requests");
      count("allocations");
    }
    for (; cancelledLeft > 0; cancelledLeft--) {
      const project = pick(projects);
      const kind = int(0, shape.kinds - 1);
      const posted = now - int(20, 40) * DAY_MS;
      q.task.run(
        taskId++,
        poolId,
        project.id,
        kindBase + kind,
        taskTitle(rand),
        int(2, 8) * 500,
        kindWeights[kind]!,
        posted,
        project.coordinators[0]!,
        null,
        10 * DAY_MS,
        posted + 10 * DAY_MS,
        project.coordinators[0]!,
        null,
        null,
      );
      count("tasks");
    }
    for (const g of perUnit) {
      if (g.round)
        closedRounds.push({
          id: g.round.id,
          good: g.id,
          opened: g.round.opened,
          closes: g.round.opened + 24 * HOUR_MS,
          closed: g.round.opened + 24 * HOUR_MS,
          clearing: g.round.clearing,
          supply: g.round.supply,
          allocated: g.round.allocated,
        });
    }
    const closeRound = sqlite.prepare("UPDATE rounds SET closed_at = ?, clearing_weight = ?, supply = ?, allocated = ? WHERE id = ?");
    for (const r of closedRounds) closeRound.run(r.closed, r.clearing, r.supply, r.allocated, r.id);
    count("rounds", closedRounds.length);

    // Goods: stock left, the units made by `good produce` (what taken plus stock leaves over
    // what tasks made), the production tasks' units.
    const goodsInStock: string[] = [];
    const goodsWaiting: string[] = [];
    const setStock = sqlite.prepare("UPDATE goods SET stock = ? WHERE id = ?");
    for (const g of goods) {
      const creator = projectById.get(g.project)!.coordinators[0]!;
      let stock = 0;
      if (g.model === "per-unit" && !g.waiting) {
        stock = Math.max(int(5, 60), g.taskUnits - g.allocated);
        goodsInStock.push(g.name);
      }
      if (g.model === "durable") {
        // One item out now (due in twelve days), one or two on the shelf.
        stock = int(1, 2);
        q.loan.run(g.id, memberIds[int(0, shape.members - 1)]!, now - 2 * DAY_MS, now + 12 * DAY_MS, null, null, null);
        count("loans");
      }
      setStock.run(stock, g.id);
      const produce = g.model === "per-unit" ? stock + g.allocated - g.taskUnits : g.model === "durable" ? stock + 1 : 0;
      for (let left = produce, k = 0; left > 0; k++) {
        const qty = Math.min(left, 200);
        q.production.run(g.id, qty, g.effort, start + HOUR_MS + Math.floor((k * 30 * DAY_MS) % (span - HOUR_MS)), creator, null);
        count("productions");
        left -= qty;
      }
    }
    for (const p of taskProductions) q.production.run(p.good, p.qty, p.effort, p.at, p.by, p.task);
    count("productions", taskProductions.length);

    // Rounds open now with requests waiting: each waiting member can pay at the declared effort.
    const waitingGoods = goods.filter((g) => g.waiting);
    for (const g of waitingGoods) {
      const opened = now - 2 * HOUR_MS;
      q.round.run(roundId++, g.id, opened, opened + 24 * HOUR_MS, null, null, null, null);
      count("rounds");
      const bidders = new Set<number>();
      for (let k = int(5, 30); k > 0; k--) bidders.add(int(0, shape.members - 1));
      for (const m of bidders) {
        q.request.run(requestId++, g.id, memberIds[m]!, 1, 0, int(100, 200) * 10_000, "pending", opened + int(0, 60) * 60_000, null);
        count("good_requests");
      }
      goodsWaiting.push(g.name);
    }

    // ---- Tasks now: claimed (half reported), then open (posted in the last weeks).
    const activeClaims: Array<{ task: number; user: string }> = [];
    const reportedClaims: Array<{ task: number; handle: string; coordinator: string }> = [];
    for (let i = 0; i < shape.claimedTasks; i++) {
      const project = projects[i % shape.projects]!;
      const kind = int(0, shape.kinds - 1);
      const estimate = int(2, 8) * 500;
      const claimed = now - int(2, 100) * HOUR_MS;
      const posted = claimed - int(1, 72) * HOUR_MS;
      let worker = int(0, shape.members - 1);
      while (project.coordinators.includes(memberIds[worker]!)) worker = int(0, shape.members - 1);
      const id = taskId++;
      q.task.run(
        id,
        poolId,
        project.id,
        kindBase + kind,
        taskTitle(rand),
        estimate,
        kindWeights[kind]!,
        posted,
        project.coordinators[0]!,
        null,
        claimed - posted,
        null,
        null,
        null,
        null,
      );
      const reported = i % 2 === 1;
      q.claim.run(
        id,
        memberIds[worker]!,
        kindWeights[kind]!,
        reported ? "reported" : "active",
        claimed,
        claimed + 7 * DAY_MS,
        reported ? claimed + HOUR_MS : null,
        reported ? estimate : null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
      );
      if (reported) reportedClaims.push({ task: id, handle: `m${worker}`, coordinator: user(memberIndexOf.get(project.coordinators[0]!)!) });
      else activeClaims.push({ task: id, user: user(worker) });
      count("tasks");
      count("claims");
    }
    const openTasks: number[] = [];
    for (let i = 0; i < shape.openTasks; i++) {
      const project = pick(projects);
      const kind = int(0, shape.kinds - 1);
      const posted = now - int(1, 60 * 24) * HOUR_MS;
      const good = rand() < 0.1 ? pick(producible) : null;
      const id = taskId++;
      q.task.run(
        id,
        poolId,
        project.id,
        kindBase + kind,
        taskTitle(rand),
        int(2, 8) * 500,
        kindWeights[kind]!,
        posted,
        project.coordinators[0]!,
        posted,
        0,
        null,
        null,
        good?.id ?? null,
        good ? int(1, 10) : null,
      );
      openTasks.push(id);
      project.open++;
      count("tasks");
    }
    for (let k = 0; k < shape.kinds; k++) sqlite.prepare("UPDATE kinds SET weight = ? WHERE id = ?").run(kindWeights[k]!, kindBase + k);

    // ---- Balances: each account's is the sum of its entries.
    for (const [account, balance] of balances) q.setBalance.run(balance, account);

    // ---- What the bot keeps for keepDays: the last week's answers (about as many commands as
    // a week of this history had), the request ids of those that changed something, the
    // messages sent to the rooms and the notes sent to members.
    const weekly = Math.max(20, Math.round(((shape.entries + 4 * shape.tasks) * 7) / shape.days));
    const since = now - 7 * DAY_MS;
    for (let i = 0; i < weekly; i++) {
      const at = since + Math.floor((i / weekly) * 7 * DAY_MS);
      const m = int(0, shape.members - 1);
      const id = `${f.platform}:$w${i}`;
      const data = replyData(rand, i, projects[i % shape.projects]!.slug);
      const fingerprint = fingerprintOf(rand);
      q.reply.run(
        id,
        f.platform,
        JSON.stringify({ room: `!lobby:${f.domain}`, event: `$w${i}` }),
        JSON.stringify({ ok: true, command: data.command, data: data.data }),
        at,
        at + 400,
        user(m),
        fingerprint,
      );
      count("replies");
      if (data.mutates) {
        q.requestRow.run(id, data.command, memberIds[m]!, JSON.stringify(data.data), at, fingerprint);
        count("requests");
      }
    }
    for (let i = 0; i < Math.round(weekly / 3); i++) {
      const at = since + Math.floor((i / (weekly / 3)) * 7 * DAY_MS);
      const project = projects[i % shape.projects]!;
      const body = JSON.stringify({
        task: openTasks[i % openTasks.length],
        title: "Sort the crates",
        project: project.slug,
        kind: "cleaning",
        weight: 1_100_000,
        estimate: 2000,
        slots: 1,
        by: `m${i % shape.members}`,
        dueAt: null,
      });
      for (const room of [lobby.id, project.room]) q.outbox.run(room, "task", body, at, at + 300);
      count("outbox", 2);
    }
    for (let i = 0; i < Math.round(weekly / 10); i++) {
      const at = since + Math.floor((i / (weekly / 10)) * 7 * DAY_MS);
      q.note.run(
        poolId,
        memberIds[i % shape.members]!,
        "allocated",
        JSON.stringify({ good: goods[i % goods.length]!.name, qty: 1, cost: 240, clearing: 1_200_000 }),
        at,
        at + 500,
      );
      count("member_notes");
    }
    for (const room of [{ id: lobby.id, project: null as string | null }, ...projects.map((p) => ({ id: p.room, project: p.slug }))]) {
      const tasks = openTasks
        .slice(0, 10)
        .map((id) => ({ id, title: "Sort the crates", project: "p0", kind: "cleaning", weight: 1_100_000, estimate: 2000, taken: 0, slots: 1 }));
      q.board.run(room.id, JSON.stringify({ pool: "Bench", project: room.project, tasks, open: openTasks.length }), now - HOUR_MS, `$board-${room.id}`);
      count("boards");
    }
    sqlite.prepare("UPDATE pools SET clock = ? WHERE id = ?").run(now, poolId);
    if (f.console) {
      q.identity.run("console", f.console.user, f.adminId, start);
      sqlite
        .prepare(
          "INSERT INTO rooms (platform, external_id, pool_id, project_id, is_lobby, bound_at, bound_by, unreachable_since) VALUES ('console', ?, ?, NULL, 0, ?, ?, NULL)",
        )
        .run(f.console.room, poolId, start, f.adminId);
      count("identities");
      count("rooms");
    }

    const solventUsers = memberAccounts
      .map((a, i) => ({ i, balance: balances.get(a) ?? 0 }))
      .filter((x) => x.balance >= 5000)
      .map((x) => user(x.i));
    return {
      shape,
      rows,
      memberUsers: memberIds.map((_, i) => user(i)),
      projects: projects.map((p) => ({
        id: p.id,
        slug: p.slug,
        coordinators: p.coordinators.map((c) => user(memberIndexOf.get(c)!)),
        room: p.roomUser,
        openTasks: p.open,
      })),
      openTasks,
      activeClaims,
      reportedClaims,
      goodsInStock,
      goodsWaiting,
      solventUsers,
    };
  };
  return sqlite.transaction(generate).immediate();
}

function taskTitle(rand: () => number): string {
  return `${TITLE_WORDS[Math.floor(rand() * TITLE_WORDS.length)]} ${OBJECT_WORDS[Math.floor(rand() * OBJECT_WORDS.length)]}`;
}

function fingerprintOf(rand: () => number): string {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  let s = "";
  for (let i = 0; i < 32; i++) s += abc[Math.floor(rand() * 64)];
  return s;
}

/** An answer as the bot stores it, of the size and shape of a real one (a task, a balance, a good). */
function replyData(rand: () => number, i: number, project: string): { command: string; mutates: boolean; data: unknown } {
  const task = {
    id: 1000 + i,
    title: taskTitle(rand),
    project,
    kind: "cleaning",
    estimate: 2000,
    slots: 1,
    state: "claimed",
    overdue: false,
    weight: 1_100_000,
    postedWeight: 1_000_000,
    postedAt: 1_795_770_180_000,
    postedBy: "m1",
    dueAt: null,
    openMs: 120_000,
    nextRiseAt: null,
    growth: 1_100_000,
    cap: 4_000_000,
  };
  switch (i % 5) {
    case 0:
      return { command: "me balance", mutates: false, data: { balance: 12_500, creditLimit: 10_000, available: 22_500, overdue: [] } };
    case 1:
      return {
        command: "task claim",
        mutates: true,
        data: { outcome: "claimed", task, claim: { id: 5000 + i, weight: 1_100_000, expiresAt: 1_796_375_100_000 } },
      };
    case 2:
      return { command: "task done", mutates: true, data: { task, hours: 2000, note: null } };
    case 3:
      return {
        command: "task show",
        mutates: false,
        data: { task, claims: [{ member: "m2", status: "active", weight: 1_100_000 }], why: { kind: 1_000_000, days: 1, growth: 1_100_000 } },
      };
    default:
      return {
        command: "good request",
        mutates: true,
        data: {
          request: { id: 9000 + i, goodId: 3, memberId: 7, qty: 1, weight: 1_000_000, filled: 1, status: "allocated" },
          good: { name: "bread-3", project, stock: 12, effort: 300 },
          cost: 300,
          round: null,
          was: null,
          allocated: null,
        },
      };
  }
}

/**
 * A good's round with `requests` bids waiting, one per member: the pool's members bid first,
 * then new members (with an identity, a membership and an empty account) until there are
 * enough. Each bid is one unit at a weight between 1 and 2, payable within the credit limit.
 */
export function addRoundBids(
  sqlite: Database.Database,
  o: { poolId: number; goodId: number; requests: number; platform: string; domain: string; now: number; seed: number },
): { members: number; requests: number } {
  const rand = rng(o.seed);
  return sqlite
    .transaction(() => {
      const members = sqlite.prepare("SELECT member_id AS id FROM memberships WHERE pool_id = ? ORDER BY member_id").all(o.poolId) as Array<{ id: number }>;
      const ids = members.map((m) => m.id).slice(0, o.requests);
      let next = Number((sqlite.prepare("SELECT coalesce(max(id), 0) + 1 AS n FROM members").get() as { n: number }).n);
      const member = sqlite.prepare("INSERT INTO members (id, handle, created_at, merged_into) VALUES (?, ?, ?, NULL)");
      const identity = sqlite.prepare("INSERT INTO identities (platform, external_id, member_id, created_at) VALUES (?, ?, ?, ?)");
      const membership = sqlite.prepare("INSERT INTO memberships (pool_id, member_id, role, joined_at) VALUES (?, ?, 'member', ?)");
      const account = sqlite.prepare("INSERT INTO accounts (pool_id, kind, owner_id, balance) VALUES (?, 'member', ?, 0)");
      let added = 0;
      while (ids.length < o.requests) {
        const id = next++;
        member.run(id, `bidder${id}`, o.now - DAY_MS);
        identity.run(o.platform, `@bidder${id}:${o.domain}`, id, o.now - DAY_MS);
        membership.run(o.poolId, id, o.now - DAY_MS);
        account.run(o.poolId, id);
        ids.push(id);
        added++;
      }
      const opened = o.now - HOUR_MS;
      sqlite
        .prepare("INSERT INTO rounds (good_id, opened_at, closes_at, closed_at, clearing_weight, supply, allocated) VALUES (?, ?, ?, NULL, NULL, NULL, NULL)")
        .run(o.goodId, opened, opened + 24 * HOUR_MS);
      const request = sqlite.prepare(
        "INSERT INTO good_requests (good_id, member_id, qty, filled, weight, status, created_at, closed_at, bid_at) VALUES (?, ?, 1, 0, ?, 'pending', ?, NULL, NULL)",
      );
      ids.forEach((id, i) => request.run(o.goodId, id, (100 + Math.floor(rand() * 101)) * 10_000, opened + Math.floor((i / ids.length) * 50 * 60_000)));
      return { members: added, requests: ids.length };
    })
    .immediate();
}

/**
 * addRoundBids on PostgreSQL: the same members, bidders and weights from the same seed, in one
 * transaction; the new members' ids are taken from their sequence, so the store numbers the next
 * ones after them.
 */
async function addRoundBidsPg(
  client: pg.Client,
  o: { poolId: number; goodId: number; requests: number; platform: string; domain: string; now: number; seed: number },
): Promise<{ members: number; requests: number }> {
  const rand = rng(o.seed);
  await client.query("BEGIN");
  try {
    const members = await client.query<{ id: number }>("SELECT member_id AS id FROM memberships WHERE pool_id = $1 ORDER BY member_id", [o.poolId]);
    const ids = members.rows.map((m) => m.id).slice(0, o.requests);
    const missing = Math.max(0, o.requests - ids.length);
    const fresh = (
      await client.query<{ id: number }>("SELECT nextval(pg_get_serial_sequence('members', 'id'))::int AS id FROM generate_series(1, $1::int)", [missing])
    ).rows.map((r) => r.id);
    const joined = o.now - DAY_MS;
    if (fresh.length > 0) {
      await client.query(
        "INSERT INTO members (id, handle, created_at, merged_into) OVERRIDING SYSTEM VALUE SELECT id, 'bidder' || id, $2::bigint, NULL FROM unnest($1::int[]) AS id ORDER BY id",
        [fresh, joined],
      );
      await client.query(
        "INSERT INTO identities (platform, external_id, member_id, created_at) SELECT $2, '@bidder' || id || ':' || $3, id, $4::bigint FROM unnest($1::int[]) AS id ORDER BY id",
        [fresh, o.platform, o.domain, joined],
      );
      await client.query(
        "INSERT INTO memberships (pool_id, member_id, role, joined_at) SELECT $2, id, 'member', $3::bigint FROM unnest($1::int[]) AS id ORDER BY id",
        [fresh, o.poolId, joined],
      );
      await client.query("INSERT INTO accounts (pool_id, kind, owner_id, balance) SELECT $2, 'member', id, 0 FROM unnest($1::int[]) AS id ORDER BY id", [
        fresh,
        o.poolId,
      ]);
      ids.push(...fresh);
    }
    const opened = o.now - HOUR_MS;
    await client.query(
      "INSERT INTO rounds (good_id, opened_at, closes_at, closed_at, clearing_weight, supply, allocated) VALUES ($1, $2, $3, NULL, NULL, NULL, NULL)",
      [o.goodId, opened, opened + 24 * HOUR_MS],
    );
    const weights = ids.map(() => (100 + Math.floor(rand() * 101)) * 10_000);
    const created = ids.map((_, i) => opened + Math.floor((i / ids.length) * 50 * 60_000));
    await client.query(
      `INSERT INTO good_requests (good_id, member_id, qty, filled, weight, status, created_at, closed_at, bid_at)
       SELECT $1, m, 1, 0, w, 'pending', c, NULL, NULL FROM unnest($2::int[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS r(m, w, c, n) ORDER BY n`,
      [o.goodId, ids, weights, created],
    );
    await client.query("COMMIT");
    return { members: fresh.length, requests: ids.length };
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

/**
 * What the bench reads and writes beside the store, on the store's own database: the cheapest
 * write and read (the floor a command is measured against), a few facts to type the next
 * command, the round's bids, and the database's size. `kind` says which database it is: on
 * SQLite every call but close is synchronous underneath (the promises resolve at once).
 */
export interface BenchDb {
  readonly kind: "sqlite" | "postgres";
  /** One row in its own transaction, in a table of its own (made by the first call). */
  cheapestWrite(): Promise<() => unknown>;
  /** A member's account by its primary key, prepared once (on SQLite the read is synchronous). */
  cheapestRead(): (id: number) => unknown;
  maxAccountId(): Promise<number>;
  /** The slug of a task's project. */
  taskProject(task: number): Promise<string>;
  goodId(poolId: number, name: string): Promise<number>;
  addRoundBids(o: Parameters<typeof addRoundBids>[1]): Promise<{ members: number; requests: number }>;
  allocations(goodId: number): Promise<number>;
  /** The database's size in bytes (SQLite: the file's pages; PostgreSQL: pg_database_size). */
  bytes(): Promise<number>;
  close(): Promise<void>;
}

/** The bench's own statements on a SQLite connection (the store's). */
export function sqliteBenchDb(sqlite: Database.Database): BenchDb {
  const taskProject = sqlite.prepare("SELECT p.slug AS slug FROM tasks t JOIN projects p ON p.id = t.project_id WHERE t.id = ?");
  return {
    kind: "sqlite",
    cheapestWrite: () => Promise.resolve(cheapestWrite(sqlite)),
    cheapestRead: () => cheapestRead(sqlite),
    maxAccountId: () => Promise.resolve(Number((sqlite.prepare("SELECT max(id) AS n FROM accounts").get() as { n: number }).n)),
    taskProject: (task) => Promise.resolve((taskProject.get(task) as { slug: string }).slug),
    goodId: (poolId, name) => Promise.resolve((sqlite.prepare("SELECT id FROM goods WHERE pool_id = ? AND name = ?").get(poolId, name) as { id: number }).id),
    addRoundBids: (o) => Promise.resolve(addRoundBids(sqlite, o)),
    allocations: (goodId) =>
      Promise.resolve(Number((sqlite.prepare("SELECT count(*) AS n FROM allocations WHERE good_id = ?").get(goodId) as { n: number }).n)),
    bytes: () => Promise.resolve(databaseBytes(sqlite)),
    close: () => Promise.resolve(),
  };
}

/**
 * The bench's own statements on PostgreSQL, on a connection of their own beside the store's
 * pool. The cheapest write is BEGIN, a prepared insert and COMMIT: three round trips, as the
 * store's shortest transaction makes at least.
 */
export async function pgBenchDb(url: string): Promise<BenchDb> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const one = async (text: string, values: unknown[] = []) => Number((await client.query<{ n: number | string }>(text, values)).rows[0]?.n ?? 0);
  return {
    kind: "postgres",
    async cheapestWrite() {
      await client.query("CREATE TABLE IF NOT EXISTS bench_probe (id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, v integer NOT NULL)");
      let n = 0;
      return async () => {
        await client.query("BEGIN");
        await client.query({ name: "bench_probe", text: "INSERT INTO bench_probe (v) VALUES ($1)", values: [++n] });
        await client.query("COMMIT");
      };
    },
    cheapestRead: () => (id) => client.query({ name: "bench_account", text: "SELECT * FROM accounts WHERE id = $1", values: [id] }),
    maxAccountId: () => one("SELECT max(id) AS n FROM accounts"),
    taskProject: async (task) =>
      (await client.query<{ slug: string }>("SELECT p.slug FROM tasks t JOIN projects p ON p.id = t.project_id WHERE t.id = $1", [task])).rows[0]!.slug,
    goodId: (poolId, name) => one("SELECT id AS n FROM goods WHERE pool_id = $1 AND name = $2", [poolId, name]),
    addRoundBids: (o) => addRoundBidsPg(client, o),
    allocations: (goodId) => one("SELECT count(*)::int AS n FROM allocations WHERE good_id = $1", [goodId]),
    bytes: () => one("SELECT pg_database_size(current_database()) AS n"),
    close: () => client.end(),
  };
}

/** The database's size in bytes (pages in use and free), after the write-ahead log is folded in. */
export function databaseBytes(sqlite: Database.Database): number {
  sqlite.pragma("wal_checkpoint(TRUNCATE)");
  const pages = Number(sqlite.pragma("page_count", { simple: true }));
  const size = Number(sqlite.pragma("page_size", { simple: true }));
  return pages * size;
}

/** The cheapest write: one row in its own IMMEDIATE transaction, in a table of its own. */
export function cheapestWrite(sqlite: Database.Database): () => void {
  sqlite.exec("CREATE TABLE IF NOT EXISTS bench_probe (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
  const insert = sqlite.prepare("INSERT INTO bench_probe (v) VALUES (?)");
  const begin = sqlite.prepare("BEGIN IMMEDIATE");
  const commit = sqlite.prepare("COMMIT");
  let n = 0;
  return () => {
    begin.run();
    insert.run(++n);
    commit.run();
  };
}

/** The cheapest read: a member's account by its primary key (prepared once). */
export function cheapestRead(sqlite: Database.Database): (id: number) => unknown {
  const select = sqlite.prepare("SELECT * FROM accounts WHERE id = ?");
  return (id) => select.get(id);
}
