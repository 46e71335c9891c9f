// GIVEN any sequence of task commands (posts of a few kinds, claims, drops, refusals, reports,
// verifications, rejections, cancellations, by the right and the wrong people), clock advances
// from minutes to days, late or early runs of releaseExpiredClaims, policy changes of the weight
// rules, replays of old request ids and garbage, THEN after every step:
//   - the pool's audit is balanced with sum 0, a refused command left the database byte for byte
//     as it was, and replaying a mutating request id answers the same and changes nothing;
//   - every task weight, claim weight and kind weight stays within what the policies in force
//     allow (a task never below its posted weight, never above max(cap, posted) ...);
//   - a deliberately small model predicts which commands succeed (or which refusal), every task
//     as `task list`/`task show` show it: the weight is taskWeight(posted, open time, rules), with
//     the open time computed from the claims' slot-holding intervals (not from the service's
//     running clock) and stopped when the task is cancelled or past its due date (the days
//     between a due date and its change by `task due` never count), each credit is hours x the
//     locked weight, each balance is the sum of the member's credits, each kind's weight follows
//     verified claims (marketSmoothing of the way toward the claim's weight) and waitlists (once
//     per member per task, never raised by the floor), and nothing else: a kind's weight changes
//     only on a verification or a waitlisted volunteer (never on a claim, drop, refusal, release,
//     rejection, report, cancellation or due date change), the waitlist shows who
//     waits now in order of arrival, releaseExpiredClaims releases exactly the active claims whose
//     deadline has come, and the notes to members (released, slot_open, refused, rejected,
//     cancelled, due) are exactly the ones the model expects; past its due date a task takes no
//     claims and its reported work is not sent back, and a claim's deadline is never past it;
//   - every command (claim, drop, refuse, done, verify, reject, cancel, due, post, policy, and
//     the reads `task show`, `task list`, `kind list`) first releases the pool's claims that ran
//     out, as of their deadlines (the model does the same, and takes it back when the command is
//     refused: the transaction rolls back), so a late `task done` is refused, a volunteer after a
//     deadline finds the slot free, and a read shows the task as the next command will find it;
// and weights are the same whether the clock moves in one step or tick by tick (with the
// scheduler running at every tick), or the scheduler never runs and only the commands catch up.
//
// The bugs these properties found are pinned at the end, fixed (they were `it.fails`).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Reply } from "../../commands/dispatch.ts";
import { table } from "../../commands/table.ts";
import { parseCommand } from "../../commands/text.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../src/clock.ts";
import { defaultPolicy, policyValueJson, type Policy, type PolicyKey } from "../../src/core/policy.ts";
import { openMsBy, type ClaimStatus, type TaskState } from "../../src/core/tasks.ts";
import { nextRiseAt, openMsAt, taskWeight, weightJson, weightRules, type WeightRules } from "../../src/core/weights.ts";
import { releaseExpiredClaims } from "../../src/services/tasks.ts";
import { testPool, type TestPool } from "../support/app.ts";
import { sqlRows } from "../support/db-dump.ts";
import { fullRandomRuns, randomRuns } from "../support/pg.ts";

const POOL_ID = 1;
// The coverage checks ask that rare outcomes occurred (a coordinator refused a task their project
// turned a volunteer down for, a due date moved after it passed); an unseeded run misses one now
// and then. The runs use a fixed seed; DPOOL_PROPERTY_SEED explores others.
const SEED = Number(process.env.DPOOL_PROPERTY_SEED ?? 20261213);
const WEEK_MS = 7 * DAY_MS;
const USERS = ["admin", "cora", "cody", "bob", "carol", "dave", "erin"] as const;
type User = (typeof USERS)[number];
/** bakery: cora and cody; bikes: cody. "nowhere" never exists. The admin coordinates nothing. */
const COORDINATORS: Record<string, readonly User[]> = { bakery: ["cora", "cody"], bikes: ["cody"] };
const PROJECTS = ["bakery", "bikes", "nowhere"] as const;
const KINDS = ["cleaning", "baking", "repair", "fun"] as const;
const ESTIMATES = ["0.25", "1", "2", "3.5", "8"] as const;
const DONE_HOURS = ["0.001", "0.5", "1", "3", "9", "20", "40"] as const;
const VERIFY_HOURS = ["0.001", "1", "4.5", "30"] as const;
const milli = (s: string) => Math.round(Number(s) * 1000);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const toM = (w: number) => Math.round(w * 1_000_000); // JSON weight -> millionths

/** Policy changes: the key, what the admin types, and the stored value (null: refused). */
const POLICY_CHANGES: ReadonlyArray<readonly [PolicyKey, string, number | null]> = [
  ["weightGrowthPerDay", "0%", 0],
  ["weightGrowthPerDay", "5%", 50],
  ["weightGrowthPerDay", "10%", 100],
  ["weightGrowthPerDay", "50%", 500],
  ["weightGrowthPerDay", "100%", 1000],
  ["weightGrowthPerDay", "12.25%", null],
  ["weightGrowthPerDay", "101%", null],
  ["weightCap", "0.8", 800],
  ["weightCap", "1.5", 1500],
  ["weightCap", "2", 2000],
  ["weightCap", "4", 4000],
  ["weightCap", "10", 10_000],
  ["weightCap", "0.001", null],
  ["weightFloor", "0.1", 100],
  ["weightFloor", "0.25", 250],
  ["weightFloor", "0.5", 500],
  ["weightFloor", "0.9", 900],
  ["weightFloor", "1.2", 1200],
  ["weightFloor", "abc", null],
  ["waitlistPenalty", "0%", 0],
  ["waitlistPenalty", "5%", 50],
  ["waitlistPenalty", "20%", 200],
  ["waitlistPenalty", "50%", 500],
  ["waitlistPenalty", "100%", 1000],
  ["waitlistPenalty", "-5%", null],
  ["marketSmoothing", "10%", 100],
  ["marketSmoothing", "25%", 250],
  ["marketSmoothing", "100%", 1000],
  ["marketSmoothing", "0%", null],
  ["claimDays", "1", 1],
  ["claimDays", "3", 3],
  ["claimDays", "7", 7],
  ["claimDays", "0", null],
];

/** Always refused, whoever types them. */
const GARBAGE = [
  "task claim abc",
  "task claim 0",
  "task claim -1",
  "task claim 1000000001",
  "task post bakery",
  "task post bakery Title hours:0.1",
  "task post bakery Title hours:2 slots:0",
  "task post bakery Title hours:2 slots:101",
  "task post bakery Title hours:2 kind:Bad!",
  "task post bakery Title hours:2 due:2026-02-30",
  "task post bakery Title hours:1.0001",
  "task post nowhere Title hours:1",
  "task verify 1",
  "task verify 1 bob",
  "task done 1 hours:0",
  "task done 1 hours:-2",
  "task reject 1 @bob",
  "task refuse 1",
  "task cancel",
  "task frobnicate 1",
  "task show 0",
  "task show 99999",
  "task drop 99999",
  "task due 1",
  "task due 1 2026-02-30",
  "task due 1 tomorrow",
  "task due abc 2026-12-01",
  "task list status:sleeping",
  "pool policy weightCap 0",
  "pool policy weightFloor -1",
  "pool policy waitlistPenalty 12.25%",
  "pool policy claimDays 1.5",
  "pool policy weightCap 1e3",
];

const MUTATING = (text: string): boolean => {
  const p = parseCommand(table, text);
  if (!p.ok) return false;
  return typeof p.command.mutates === "function" ? p.command.mutates(p.values) : p.command.mutates;
};

// ---------------------------------------------------------------------------------------------
// Actions, as plain data. `sense` resolves the picks against the state to something likely to
// succeed (a reported claim for verify, a coordinator of the project ...); without it the
// actor and the task are taken at random (the wrong people, tasks that do not exist ...).

type Due = { readonly t: "none" } | { readonly t: "at"; readonly ms: number } | { readonly t: "day"; readonly days: number };
type Action =
  | {
      readonly t: "post";
      readonly who: number;
      readonly pick: number;
      readonly sense: boolean;
      readonly kind: number;
      readonly est: number;
      readonly slots: number;
      readonly due: Due;
    }
  | { readonly t: "claim" | "drop" | "cancel" | "show"; readonly who: number; readonly pick: number; readonly sense: boolean }
  | { readonly t: "due"; readonly who: number; readonly pick: number; readonly sense: boolean; readonly due: Due }
  | { readonly t: "refuse"; readonly who: number; readonly pick: number; readonly other: number; readonly sense: boolean }
  | { readonly t: "reject"; readonly who: number; readonly pick: number; readonly other: number; readonly sense: boolean }
  | { readonly t: "done"; readonly who: number; readonly pick: number; readonly sense: boolean; readonly hours: number | null; readonly note: boolean }
  | { readonly t: "verify"; readonly who: number; readonly pick: number; readonly other: number; readonly sense: boolean; readonly hours: number | null }
  | { readonly t: "advance"; readonly ms: number }
  | { readonly t: "to-expiry"; readonly delta: number; readonly release: boolean }
  | { readonly t: "to-due"; readonly delta: number }
  | { readonly t: "release" }
  | { readonly t: "policy"; readonly who: number; readonly sense: boolean; readonly change: number }
  | { readonly t: "replay"; readonly who: number; readonly pick: number }
  | { readonly t: "garbage"; readonly who: number; readonly text: string };

const who = fc.nat({ max: USERS.length - 1 });
const pick = fc.nat({ max: 40 });
const sense = fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });
const due: fc.Arbitrary<Due> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Due>({ t: "none" }) },
  { weight: 2, arbitrary: fc.integer({ min: -DAY_MS, max: 12 * DAY_MS }).map((ms): Due => ({ t: "at", ms })) },
  { weight: 1, arbitrary: fc.integer({ min: -1, max: 9 }).map((days): Due => ({ t: "day", days })) },
);
/** An index into a list of hours, or null (no hours: given) a third of the time. */
const maybe = (n: number) => fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: fc.nat({ max: n - 1 }) });
const clockStep = fc.oneof(
  fc.integer({ min: MINUTE_MS, max: HOUR_MS }),
  fc.integer({ min: HOUR_MS, max: DAY_MS }),
  fc.integer({ min: DAY_MS, max: 5 * DAY_MS }),
  fc.integer({ min: 1, max: 4 }).map((d) => d * DAY_MS),
);
const postAction = fc.record({
  t: fc.constant("post" as const),
  who,
  pick,
  sense,
  kind: fc.nat({ max: KINDS.length - 1 }),
  est: fc.nat({ max: ESTIMATES.length - 1 }),
  slots: fc.oneof({ weight: 3, arbitrary: fc.constant(1) }, { weight: 2, arbitrary: fc.integer({ min: 2, max: 3 }) }),
  due,
});
const policyAction = fc.record({ t: fc.constant("policy" as const), who, sense, change: fc.nat({ max: POLICY_CHANGES.length - 1 }) });
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: postAction },
  { weight: 9, arbitrary: fc.record({ t: fc.constant("claim" as const), who, pick, sense }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("drop" as const), who, pick, sense }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("refuse" as const), who, pick, other: who, sense }) },
  {
    // Reports came by less often once a late report was refused: a little more of them.
    weight: 7,
    arbitrary: fc.record({ t: fc.constant("done" as const), who, pick, sense, hours: maybe(DONE_HOURS.length), note: fc.boolean() }),
  },
  {
    weight: 7,
    arbitrary: fc.record({
      t: fc.constant("verify" as const),
      who,
      pick,
      other: who,
      sense,
      hours: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat({ max: VERIFY_HOURS.length - 1 }) }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("reject" as const), who, pick, other: who, sense }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("cancel" as const), who, pick, sense }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("show" as const), who, pick, sense }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("due" as const), who, pick, sense, due: due.filter((d) => d.t !== "none") }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("to-due" as const), delta: fc.constantFrom(-1, 0, 0, 1) }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant("advance" as const), ms: clockStep }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("to-expiry" as const), delta: fc.constantFrom(-1, 0, 0, 1), release: fc.boolean() }) },
  { weight: 5, arbitrary: fc.constant<Action>({ t: "release" }) },
  { weight: 3, arbitrary: policyAction },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("replay" as const), who, pick }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("garbage" as const), who, text: fc.constantFrom(...GARBAGE) }) },
);
/** A policy change or two by the admin and a few tasks first, so that later steps find something to act on. */
const prelude = fc.tuple(
  fc.array(
    fc.record({
      t: fc.constant("policy" as const),
      who,
      sense: fc.constant(true),
      change: fc.constantFrom(
        ...["waitlistPenalty 50%", "waitlistPenalty 100%", "weightFloor 0.9", "weightGrowthPerDay 50%", "weightCap 1.5"].map((x) =>
          POLICY_CHANGES.findIndex(([k, v]) => `${k} ${v}` === x),
        ),
      ),
    }),
    { minLength: 1, maxLength: 2 },
  ),
  fc.array(
    postAction.map((a) => ({ ...a, sense: true })),
    { minLength: 1, maxLength: 4 },
  ),
);
const scenario = fc.tuple(prelude, fc.array(action, { minLength: 15, maxLength: 40 })).map(([[p, q], b]): Action[] => [...p, ...q, ...b]);

/**
 * The same model on a narrower stage: one or two tasks of one or two slots, short claims, and
 * mostly claims, drops and reports, so that volunteers crowd onto waitlists, get a slot, lose it
 * (dropped, or run out) and find the task full again, and commands come after deadlines.
 */
const policyNamed = (...xs: string[]) => xs.map((x) => POLICY_CHANGES.findIndex(([k, v]) => `${k} ${v}` === x));
const focusedScenario = fc
  .tuple(
    fc.record({ t: fc.constant("policy" as const), who, sense: fc.constant(true), change: fc.constantFrom(...policyNamed("claimDays 1", "claimDays 3")) }),
    fc.record({
      t: fc.constant("policy" as const),
      who,
      sense: fc.constant(true),
      change: fc.constantFrom(...policyNamed("waitlistPenalty 20%", "waitlistPenalty 100%")),
    }),
    fc.array(
      postAction.map((a): Action => ({ ...a, sense: true, slots: a.slots === 1 ? 1 : 2, due: { t: "none" } })),
      { minLength: 1, maxLength: 2 },
    ),
    fc.array(
      fc.oneof(
        { weight: 12, arbitrary: fc.record({ t: fc.constant("claim" as const), who, pick, sense: fc.constant(true) }) },
        { weight: 3, arbitrary: fc.record({ t: fc.constant("drop" as const), who, pick, sense: fc.constant(true) }) },
        {
          weight: 3,
          arbitrary: fc.record({ t: fc.constant("done" as const), who, pick, sense: fc.constant(true), hours: fc.constant(null), note: fc.constant(false) }),
        },
        { weight: 1, arbitrary: fc.record({ t: fc.constant("verify" as const), who, pick, other: who, sense: fc.constant(true), hours: fc.constant(null) }) },
        { weight: 1, arbitrary: fc.record({ t: fc.constant("refuse" as const), who, pick, other: who, sense: fc.constant(true) }) },
        { weight: 1, arbitrary: fc.record({ t: fc.constant("due" as const), who, pick, sense: fc.constant(true), due: due.filter((d) => d.t !== "none") }) },
        { weight: 1, arbitrary: fc.record({ t: fc.constant("to-due" as const), delta: fc.constantFrom(-1, 0, 1) }) },
        { weight: 4, arbitrary: fc.record({ t: fc.constant("advance" as const), ms: fc.integer({ min: HOUR_MS, max: 2 * DAY_MS }) }) },
        {
          weight: 4,
          arbitrary: fc.record({ t: fc.constant("to-expiry" as const), delta: fc.constantFrom(-1, 0, 0, 1), release: fc.constantFrom(false, false, true) }),
        },
        { weight: 1, arbitrary: fc.constant<Action>({ t: "release" }) },
        {
          weight: 2,
          arbitrary: fc.record({
            t: fc.constant("policy" as const),
            who,
            sense: fc.constant(true),
            change: fc.constantFrom(...policyNamed("waitlistPenalty 5%", "waitlistPenalty 50%", "weightFloor 0.9", "weightFloor 1.2", "weightFloor 0.25")),
          }),
        },
        { weight: 1, arbitrary: fc.record({ t: fc.constant("show" as const), who, pick, sense }) },
      ),
      { minLength: 25, maxLength: 50 },
    ),
  )
  .map(([p1, p2, q, b]): Action[] => [p1, p2, ...q, ...b]);

// ---------------------------------------------------------------------------------------------
// The model.

interface ClaimM {
  readonly id: number;
  readonly task: number;
  readonly user: User;
  readonly weight: number;
  status: ClaimStatus;
  readonly claimedAt: number;
  expiresAt: number;
  reportedHours: number | null;
  credited: number | null;
  verifiedBy: User | null;
  /** When the claim stopped holding its slot (a release: its deadline); null while it holds one. */
  end: number | null;
}

interface TaskM {
  readonly id: number;
  readonly title: string;
  readonly project: string;
  readonly kind: string;
  readonly estimate: number;
  readonly slots: number;
  readonly postedWeight: number;
  readonly postedAt: number;
  readonly postedBy: User;
  dueAt: number | null;
  /** Changes of the due date (task due): the old date and when it was changed. */
  readonly dueMoves: Array<{ readonly before: number | null; readonly at: number }>;
  cancelledAt: number | null;
  readonly claims: ClaimM[];
  /**
   * Everyone who ever waited for the task: when they first came (kept when they come back),
   * the order of insertion (the row's), and when they left for a slot (null: waiting now).
   */
  readonly waitlist: Array<{ readonly user: User; readonly at: number; readonly seq: number; left: number | null }>;
  /** Who lowered the kind's weight on this task, how often (at most once each). */
  readonly lowered: Map<User, number>;
}

/** A note to a member, as the member_notes table holds it. */
interface NoteM {
  readonly member: User;
  readonly kind: "released" | "slot_open" | "refused" | "rejected" | "cancelled" | "due";
  readonly task: number;
  readonly at: number;
}

interface KindM {
  weight: number;
  readonly changes: Array<{ at: number; before: number | null; after: number }>;
}

const HOLDS: ReadonlySet<ClaimStatus> = new Set(["active", "reported", "verified"]);

class Model {
  policy: Policy = defaultPolicy();
  readonly floorsEver = new Set<number>([this.policy.weightFloor * 1000]);
  readonly capsEver = new Set<number>([this.policy.weightCap * 1000]);
  readonly tasks: TaskM[] = [];
  readonly claims: ClaimM[] = [];
  readonly kinds = new Map<string, KindM>();
  readonly credits = new Map<User, number>(USERS.map((u) => [u, 0]));
  readonly projectBalance = new Map<string, number>([
    ["bakery", 0],
    ["bikes", 0],
  ]);
  entries = 0;
  readonly notes: NoteM[] = [];
  /** Insertion order of waitlist rows (their rowid order). */
  waitSeq = 0;
  readonly done: Array<{ requestId: string; user: string; text: string; data: unknown }> = [];
  constructor(
    public now: number,
    readonly memberIds: ReadonlyMap<User, number>,
  ) {}

  rules(): WeightRules {
    return weightRules(this.policy);
  }
  task(id: number): TaskM | undefined {
    return this.tasks[id - 1];
  }
  holding(t: TaskM): number {
    return t.claims.filter((c) => HOLDS.has(c.status)).length;
  }
  state(t: TaskM): TaskState {
    if (t.cancelledAt !== null) return "cancelled";
    if (t.claims.filter((c) => c.status === "verified").length >= t.slots) return "done";
    return this.holding(t) >= t.slots ? "claimed" : "open";
  }
  /** Past its due date (from that moment on), neither done nor cancelled. */
  overdue(t: TaskM): boolean {
    const state = this.state(t);
    return (state === "open" || state === "claimed") && t.dueAt !== null && t.dueAt <= this.now;
  }
  /**
   * Milliseconds with an open slot from posting until `now`, from the claims' holding intervals;
   * a cancelled task's clock stopped when it was cancelled, and time past a due date (until the
   * date was moved, or from the present one on) never counts.
   */
  openMs(t: TaskM, now = this.now): number {
    const at = t.cancelledAt === null ? now : Math.min(now, t.cancelledAt);
    const points = new Set<number>([t.postedAt, at]);
    for (const c of t.claims) {
      points.add(c.claimedAt);
      if (c.end !== null) points.add(c.end);
    }
    const frozen: Array<readonly [number, number]> = t.dueMoves.filter((d) => d.before !== null && d.before < d.at).map((d) => [d.before!, d.at] as const);
    if (t.dueAt !== null) frozen.push([t.dueAt, Number.POSITIVE_INFINITY]);
    for (const [x, y] of frozen) points.add(x).add(y);
    const xs = [...points].filter((x) => x >= t.postedAt && x <= at).sort((a, b) => a - b);
    let open = 0;
    for (let i = 0; i + 1 < xs.length; i++) {
      const x = xs[i]!;
      const held = t.claims.filter((c) => c.claimedAt <= x && (c.end === null || c.end > x)).length;
      const pastDue = frozen.some(([from, to]) => from <= x && x < to);
      if (held < t.slots && !pastDue) open += xs[i + 1]! - x;
    }
    return open;
  }
  weight(t: TaskM): number {
    return taskWeight(t.postedWeight, this.openMs(t), this.rules());
  }
  isCoordinator(u: User, project: string): boolean {
    return COORDINATORS[project]?.includes(u) ?? false;
  }
  kind(name: string): KindM {
    let k = this.kinds.get(name);
    if (!k) {
      // A new kind starts at the policy's weight for new kinds, within the floor and the cap.
      const r = this.rules();
      const weight = Math.min(r.cap, Math.max(r.floor, r.newKind));
      if (weight !== r.newKind) count(weight === r.cap ? "new-kind-at-cap" : "new-kind-at-floor");
      k = { weight, changes: [{ at: this.now, before: null, after: weight }] };
      this.kinds.set(name, k);
    }
    return k;
  }
  setKind(name: string, after: number) {
    const k = this.kinds.get(name)!;
    k.changes.push({ at: this.now, before: k.weight, after });
    k.weight = after;
  }
  /** Who waits for a slot now, in the order shown: by the time they first came, then insertion. */
  waitlist(t: TaskM): User[] {
    return t.waitlist
      .filter((w) => w.left === null)
      .sort((a, b) => a.at - b.at || a.seq - b.seq)
      .map((w) => w.user);
  }
  note(member: User, kind: NoteM["kind"], task: number) {
    this.notes.push({ member, kind, task, at: this.now });
  }
  /**
   * Lowest weight a kind or a task can have: a new kind starts at max(floor, newKind), or at the
   * cap if that is lower (no cap here is below the default floor, 0.25, which is in floorsEver).
   */
  minWeight(): number {
    return Math.min(this.policy.newKindWeight * 1000, ...this.floorsEver);
  }
  maxWeight(): number {
    return Math.max(this.policy.newKindWeight * 1000, ...this.capsEver);
  }
}

/** Counts of what happened over all runs, to check the generator reaches interesting states. */
const coverage = new Map<string, number>();
const count = (key: string, n = 1) => coverage.set(key, (coverage.get(key) ?? 0) + n);
const seen = (key: string) => coverage.get(key) ?? 0;

type Prediction = { readonly ok: true } | { readonly ok: false; readonly code: string };
const OK: Prediction = { ok: true };
const no = (code: string): Prediction => ({ ok: false, code });

// ---------------------------------------------------------------------------------------------
// Checking what the app shows against the model.

/** Property 2: the bounds that hold whatever the policy did meanwhile. */
function checkTaskBounds(m: Model, json: any) {
  const w = toM(json.weight);
  const posted = toM(json.postedWeight);
  const cap = m.rules().cap;
  const label = `task #${json.id} weight ${json.weight} posted ${json.postedWeight} cap ${cap}`;
  expect(w, label).toBeGreaterThanOrEqual(posted);
  expect(w, label).toBeLessThanOrEqual(Math.max(cap, posted));
  expect(posted, label).toBeGreaterThanOrEqual(m.minWeight());
  expect(posted, label).toBeLessThanOrEqual(m.maxWeight());
  for (const c of json.claims) {
    expect(toM(c.weight), label).toBeGreaterThanOrEqual(posted);
    expect(toM(c.weight), label).toBeLessThanOrEqual(Math.max(m.maxWeight(), posted));
  }
  if (w === cap) count("task-at-cap");
}

/** Properties 2 and 4: a task as `task show`/`task list` shows it. */
function checkTask(m: Model, t: TaskM, json: any) {
  checkTaskBounds(m, json);
  const state = m.state(t);
  const open = m.openMs(t);
  const rules = m.rules();
  const expected = {
    id: t.id,
    title: t.title,
    project: t.project,
    kind: t.kind,
    weight: weightJson(taskWeight(t.postedWeight, open, rules)),
    status: state,
    overdue: m.overdue(t),
    slots: t.slots,
    estimate: t.estimate / 1000,
    postedWeight: weightJson(t.postedWeight),
    postedAt: iso(t.postedAt),
    dueAt: iso(t.dueAt),
    openHours: Math.floor(open / HOUR_MS),
    nextRiseAt: state !== "open" ? null : iso(nextRiseAt(t.postedWeight, { openMs: open, openSince: m.now, dueAt: t.dueAt }, m.now, rules)),
    claims: t.claims.map((c) => ({
      member: c.user,
      weight: weightJson(c.weight),
      status: c.status,
      claimedAt: iso(c.claimedAt),
      reportedHours: c.reportedHours === null ? null : c.reportedHours / 1000,
      credited: c.credited === null ? null : c.credited / 1000,
      verifiedBy: c.verifiedBy,
    })),
    waitlist: m.waitlist(t),
  };
  expect(json, `task #${t.id} at +${(m.now - t.postedAt) / HOUR_MS} h`).toMatchObject(expected);
  // A cancelled task has an open slot from then on (its claims ended): the clock would have run on.
  if (t.cancelledAt !== null && taskWeight(t.postedWeight, open + (m.now - t.cancelledAt), rules) > taskWeight(t.postedWeight, open, rules))
    count("cancelled-weight-stopped");
  // Likewise a task past its due date: without the due date it would have risen meanwhile.
  if (m.overdue(t) && state === "open" && taskWeight(t.postedWeight, open + (m.now - t.dueAt!), rules) > taskWeight(t.postedWeight, open, rules))
    count("overdue-weight-stopped");
}

function checkKinds(m: Model, json: any) {
  const names = [...m.kinds.keys()].sort();
  expect(json.kinds.map((k: { kind: string }) => k.kind)).toEqual(names);
  for (const k of json.kinds) {
    const km = m.kinds.get(k.kind)!;
    const recent = km.changes.filter((c) => c.at >= m.now - WEEK_MS);
    const weekAgo = recent.length > 0 ? (recent[0]!.before ?? recent[0]!.after) : km.weight;
    const open = m.tasks.filter((t) => t.kind === k.kind && m.state(t) === "open" && !m.overdue(t)).length;
    expect(k).toEqual({
      kind: k.kind,
      weight: weightJson(km.weight),
      open,
      weekAgo: weightJson(weekAgo),
      trend: km.weight > weekAgo ? "rising" : km.weight < weekAgo ? "falling" : "steady",
    });
    // Property 2 for kinds: whatever the policy did, a kind's weight comes from new kinds,
    // verified claims (a step toward a weight never below a posted one) and waitlists (never
    // below the floor then).
    expect(km.weight).toBeGreaterThanOrEqual(m.minWeight());
    expect(km.weight).toBeLessThanOrEqual(m.maxWeight());
  }
}

/** A read-only command that must succeed (checkAll compares the database around all of them). */
async function read(t: TestPool, user: User, text: string): Promise<any> {
  const reply = await t.say(user, text, { room: "lobby" });
  expect(reply.ok, `${user}: ${text} -> ${reply.ok ? "ok" : reply.message}`).toBe(true);
  return (reply as { data: unknown }).data;
}

/** Checks everything after a step; returns each kind's weight as `kind list` shows it. */
async function checkAll(t: TestPool, m: Model): Promise<Map<string, number>> {
  // Reads see the pool as of now too: the first one releases the claims that ran out.
  catchUp(m);
  await read(t, "erin", "me balance");
  const before = await t.dump();
  const kinds = await checkReads(t, m);
  expect(await t.dump(), "reading changed the database").toBe(before);
  await checkNotes(t, m);
  await checkOpenHistory(t);
  return kinds;
}

/** The open time worked out from the claims' history (what summaries use) is the stored clock's. */
async function checkOpenHistory(t: TestPool) {
  const now = t.clock.now().getTime();
  // Quoted: PostgreSQL folds names it is not told to keep to lower case.
  const tasks = await sqlRows<{
    id: number;
    postedAt: number;
    slots: number;
    cancelledAt: number | null;
    openMs: number;
    openSince: number | null;
    dueAt: number | null;
  }>(
    t.store,
    'SELECT id, posted_at AS "postedAt", slots, cancelled_at AS "cancelledAt", open_ms AS "openMs", open_since AS "openSince", due_at AS "dueAt" FROM tasks WHERE cancelled_at IS NULL',
  );
  for (const task of tasks) {
    const claims = await sqlRows<{ claimedAt: number; endedAt: number | null }>(
      t.store,
      'SELECT claimed_at AS "claimedAt", ended_at AS "endedAt" FROM claims WHERE task_id = ?',
      [task.id],
    );
    const moves = await sqlRows<{ before: number | null; at: number }>(t.store, "SELECT before, at FROM task_due_changes WHERE task_id = ? ORDER BY id", [
      task.id,
    ]);
    expect(openMsBy(task, claims, now, moves), `open time of task ${task.id} from its claims and due dates`).toBe(openMsAt(task, now));
  }
}

/** The notes to members, in the order they were written, are the ones the model expects. */
async function checkNotes(t: TestPool, m: Model) {
  const handles = new Map([...m.memberIds].map(([u, id]) => [id, u]));
  const rows = await sqlRows<{ member: number; kind: string; body: string; at: number }>(
    t.store,
    "SELECT member_id AS member, kind, body, created_at AS at FROM member_notes WHERE pool_id = ? ORDER BY id",
    [POOL_ID],
  );
  const got = rows.map((r) => ({ member: handles.get(r.member), kind: r.kind, task: (JSON.parse(r.body) as { task: number }).task, at: r.at }));
  expect(got, "notes to members").toEqual(m.notes);
}

async function checkReads(t: TestPool, m: Model): Promise<Map<string, number>> {
  // Property 1: the ledger balances.
  const audit = await read(t, "admin", "pool audit");
  expect(audit).toMatchObject({ balanced: true, sum: 0, entries: m.entries, mismatched: [] });
  // Every task, as the full list shows it, in its order.
  const all = (await read(t, "bob", "task list status:all")).tasks as any[];
  expect(all.map((x) => x.id).sort((a, b) => a - b)).toEqual(m.tasks.map((x) => x.id));
  const rank: Record<string, number> = { open: 0, claimed: 1, done: 2, cancelled: 3 };
  for (let i = 0; i + 1 < all.length; i++) {
    const [a, b] = [all[i], all[i + 1]];
    expect(rank[a.status]! < rank[b.status]! || (a.status === b.status && a.openHours >= b.openHours)).toBe(true);
  }
  for (const x of all) checkTask(m, m.task(x.id)!, x);
  // The default list: exactly the open tasks that take claims (not past their due date); the overdue ones apart.
  const open = (await read(t, "carol", "task list")).tasks as any[];
  expect(open.map((x) => x.id).sort((a, b) => a - b)).toEqual(m.tasks.filter((x) => m.state(x) === "open" && !m.overdue(x)).map((x) => x.id));
  const overdue = (await read(t, "carol", "task list status:overdue")).tasks as any[];
  expect(overdue.map((x) => x.id).sort((a, b) => a - b)).toEqual(m.tasks.filter((x) => m.overdue(x)).map((x) => x.id));
  if (overdue.length > 0) count("overdue-listed");
  const kinds = await read(t, "dave", "kind list");
  checkKinds(m, kinds);
  // Property 4: every member's balance is the sum of their credits.
  for (const u of USERS) {
    const b = await read(t, u, "me balance");
    expect(b.balance, `${u}'s balance`).toBe(m.credits.get(u)! / 1000);
  }
  return new Map((kinds.kinds as Array<{ kind: string; weight: number }>).map((k) => [k.kind, toM(k.weight)]));
}

// ---------------------------------------------------------------------------------------------
// One command: predicted outcome, database unchanged on refusal, replay answers the same.

interface Step {
  readonly user: User;
  readonly text: string;
  readonly predicted: Prediction;
  readonly apply?: (data: any) => void;
  /** Takes back what the model did before predicting (the catch-up) when the command is refused. */
  readonly undo?: () => void;
}

async function runStep(t: TestPool, m: Model, step: Step, requestId: string, key: string): Promise<Reply> {
  const before = await t.dump();
  const reply = await t.say(step.user, step.text, { room: "lobby", requestId });
  const label = `${step.user}: ${JSON.stringify(step.text)} at +${((m.now - Date.parse("2026-11-27T09:00:00Z")) / HOUR_MS).toFixed(2)} h -> ${reply.ok ? "ok" : `${reply.code} (${reply.message})`}`;
  count(`${key}:${reply.ok ? "ok" : reply.code}`);
  expect(reply.ok ? OK : no(reply.code), label).toEqual(step.predicted);
  const after = await t.dump();
  if (!reply.ok) {
    expect(after, `a refused command changed the database: ${label}`).toBe(before);
    step.undo?.();
  } else step.apply?.(reply.data);
  if (MUTATING(step.text)) {
    const again = await t.say(step.user, step.text, { room: "lobby", requestId });
    expect(await t.dump(), `replay changed the database: ${label}`).toBe(after);
    if (reply.ok) {
      expect(again.ok && again.replayed, label).toBe(true);
      expect(again.ok && again.data, label).toStrictEqual(reply.data);
      m.done.push({ requestId, user: step.user, text: step.text, data: reply.data });
    } else {
      expect(again.ok ? "ok" : again.code, label).toBe(reply.code);
    }
  }
  return reply;
}

const nth = <T>(xs: readonly T[], i: number): T | undefined => (xs.length === 0 ? undefined : xs[i % xs.length]);
/**
 * Without `sense`: a claim of any status, its task and its worker (so: reports twice, drops of
 * verified work ...), or now and then a random task; the actor is random where one acts on others.
 */
function nearMiss(m: Model, pick: number, who: number): { id: number; user: User; target: User | "nobody" } {
  const reported = m.claims.filter((x) => x.status === "reported");
  const c = pick % 4 === 3 ? undefined : pick % 4 === 1 && reported.length > 0 ? nth(reported, pick) : nth(m.claims, pick);
  const user = USERS[who]!;
  if (!c) return { id: anyTaskId(m, pick), user, target: pick % 8 === 7 ? "nobody" : USERS[(who + pick) % USERS.length]! };
  return { id: c.task, user: c.user, target: c.user };
}
/** A task id: mostly an existing one, sometimes one past the end. */
const anyTaskId = (m: Model, i: number) => 1 + (i % (m.tasks.length + 1));

/**
 * What every command on a task does first (findTask): it releases the task's active claims whose
 * deadline has come, each as of its deadline, in deadline order, as releaseExpiredClaims would.
 * Returns how to take that back if the command is then refused (its transaction rolls back).
 */
function catchUp(m: Model): { released: ClaimM[]; undo: () => void } {
  const due = m.claims.filter((c) => c.status === "active" && c.expiresAt <= m.now).sort(byDeadline);
  const notes = m.notes.length;
  for (const c of due) endClaim(m, m.task(c.task)!, c, "released");
  return {
    released: due,
    undo: () => {
      for (const c of due) {
        c.status = "active";
        c.end = null;
      }
      m.notes.length = notes;
    },
  };
}
const byDeadline = (a: ClaimM, b: ClaimM) => a.expiresAt - b.expiresAt || a.id - b.id;
/** Counts what the catch-up did once the command went through. */
function caughtUp(m: Model, released: readonly ClaimM[], key: string) {
  count("caught-up-claims", released.length);
  if (released.length > 0) count(`${key}-after-catch-up`);
  if (released.some((c) => c.expiresAt === m.now)) count("caught-up-at-deadline");
}

/**
 * Claims in these states for a sensible command: mostly ones still within their time, but one
 * pick in four from all of them (so also claims that ran out, which the command releases first).
 */
function senseClaims(m: Model, pick: number, states: readonly ClaimStatus[]): ClaimM[] {
  const all = m.claims.filter((x) => states.includes(x.status));
  const live = all.filter((x) => x.status !== "active" || x.expiresAt > m.now);
  return pick % 4 === 0 || live.length === 0 ? all : live;
}

/** The text and the moment of a due date as typed: an ISO time, or a day (meaning the end of it). */
function dueOf(m: Model, due: Due): { text: string; at: number | null } {
  if (due.t === "at") return { text: iso(m.now + due.ms)!, at: m.now + due.ms };
  if (due.t === "day") {
    const day = iso(m.now + due.days * DAY_MS)!.slice(0, 10);
    return { text: day, at: Date.parse(`${day}T00:00:00Z`) + DAY_MS - 1 };
  }
  return { text: "", at: null };
}

function stepOf(m: Model, a: Exclude<Action, { t: "advance" | "to-expiry" | "to-due" | "release" | "replay" | "garbage" }>): Step {
  const randomUser = USERS[a.who]!;
  switch (a.t) {
    case "post": {
      const project = a.sense ? PROJECTS[a.pick % 2]! : PROJECTS[a.pick % 3]!;
      const user = a.sense ? nth(COORDINATORS[project]!, a.who)! : randomUser;
      const kind = KINDS[a.kind]!;
      const estimate = milli(ESTIMATES[a.est]!);
      const typed = dueOf(m, a.due);
      const dueAt = typed.at;
      const dueText = dueAt === null ? "" : ` due:${typed.text}`;
      const title = `Job ${m.tasks.length + 1} ${a.pick}`;
      const predicted = !COORDINATORS[project]
        ? no("not_found")
        : !m.isCoordinator(user, project)
          ? no("forbidden")
          : dueAt !== null && dueAt <= m.now
            ? no("due_past")
            : OK;
      // Every command catches up first, also one on no task of those.
      const cu = catchUp(m);
      return {
        user,
        text: `task post ${project} ${title} hours:${ESTIMATES[a.est]} kind:${kind} slots:${a.slots}${dueText}`,
        predicted,
        undo: cu.undo,
        apply: (data) => {
          caughtUp(m, cu.released, "post");
          const k = m.kind(kind);
          const task: TaskM = {
            id: m.tasks.length + 1,
            title,
            project,
            kind,
            estimate,
            slots: a.slots,
            postedWeight: k.weight,
            postedAt: m.now,
            postedBy: user,
            dueAt,
            dueMoves: [],
            cancelledAt: null,
            claims: [],
            waitlist: [],
            lowered: new Map(),
          };
          m.tasks.push(task);
          checkTask(m, task, data.task);
        },
      };
    }
    case "claim": {
      // Without sense: a worker claims their task again (already claimed, turned down, or anew),
      // or, every other time, anyone claims a task that is done or cancelled.
      let { id, user } = nearMiss(m, a.pick, a.who);
      const closed = m.tasks.filter((x) => m.state(x) === "done" || m.state(x) === "cancelled");
      if (!a.sense && a.pick % 2 === 0 && closed.length > 0) id = nth(closed, a.who)!.id;
      if (a.sense) {
        // Open tasks first, then full ones (a waitlist); someone who may still claim it.
        const live = m.tasks.filter((x) => m.state(x) === "open" || m.state(x) === "claimed");
        const open = live.filter((x) => m.state(x) === "open");
        const full = live.filter((x) => m.state(x) === "claimed");
        const task = a.pick % 5 < 2 ? (open[0] ?? full[0]) : a.pick % 5 === 2 ? (nth(full, a.who) ?? open[0]) : nth(live, a.pick);
        if (task) {
          id = task.id;
          // A claim that ran out holds its slot no more: the claim command releases it first.
          const ranOut = (c: ClaimM) => c.status === "active" && c.expiresAt <= m.now;
          const holds = task.claims.filter((c) => HOLDS.has(c.status) && !ranOut(c));
          const can = USERS.filter((u) => !holds.some((c) => c.user === u) && !task.claims.some((c) => c.user === u && c.status === "refused"));
          // Mostly someone waiting now, someone who waited, got a slot and lost it (to find the task
          // full again, or to claim it again), or someone whose claim of it ran out; else anyone.
          const waiting = m.waitlist(task);
          const waited = task.waitlist.filter((w) => w.left !== null && can.includes(w.user)).map((w) => w.user);
          const again = task.claims.filter(ranOut).map((c) => c.user);
          const taken = holds.length >= task.slots;
          const preferred = taken ? [waited, waited, waiting][a.who % 4] : [waiting, again, waiting][a.who % 4];
          // An open slot goes to someone else than those who waited before, if anyone else may take it.
          const others = can.filter((u) => !waited.includes(u));
          user = nth(preferred ?? [], a.pick) ?? nth(taken || others.length === 0 ? can : others, a.who) ?? user;
        }
      }
      return claimStep(m, user, id);
    }
    case "drop": {
      let { id, user } = nearMiss(m, a.pick, a.who);
      if (a.sense) {
        // Every other time, the claim of someone who came from the task's waitlist, if any.
        const claims = senseClaims(m, a.pick, ["active", "reported"]);
        const fromWaitlist = claims.filter((c) => m.task(c.task)!.waitlist.some((w) => w.user === c.user && w.left !== null));
        const c = (a.who % 2 === 0 ? nth(fromWaitlist, a.pick) : undefined) ?? nth(claims, a.pick);
        if (c) [id, user] = [c.task, c.user];
      }
      const task = m.task(id);
      const cu = catchUp(m);
      const claim = task?.claims.find((c) => c.user === user && (c.status === "active" || c.status === "reported"));
      if (task && !claim && cu.released.some((c) => c.user === user)) count("drop-refused-after-deadline");
      return {
        user,
        text: `task drop ${id}`,
        predicted: !task ? no("not_found") : !claim ? no("no_claim") : OK,
        undo: cu.undo,
        apply: (data) => {
          caughtUp(m, cu.released, "drop");
          endClaim(m, task!, claim!, "dropped");
          checkTask(m, task!, data.task);
        },
      };
    }
    case "refuse": {
      let { id, target } = nearMiss(m, a.pick, a.other);
      let user = randomUser;
      if (a.sense) {
        const c = nth(senseClaims(m, a.pick, ["active", "reported"]), a.pick);
        if (c) {
          [id, target] = [c.task, c.user];
          user = nth(COORDINATORS[m.task(id)!.project]!, a.who)!;
        }
      }
      const task = m.task(id);
      const cu = catchUp(m);
      const claim = task?.claims.find((c) => c.user === target && (c.status === "active" || c.status === "reported"));
      return {
        user,
        text: `task refuse ${id} @${target}`,
        predicted: !task
          ? no("not_found")
          : !m.isCoordinator(user, task.project)
            ? no("forbidden")
            : target === "nobody"
              ? no("not_found")
              : !claim
                ? no("no_claim")
                : OK,
        undo: cu.undo,
        apply: (data) => {
          caughtUp(m, cu.released, "refuse");
          endClaim(m, task!, claim!, "refused");
          m.note(target as User, "refused", task!.id);
          expect(data.member).toBe(target);
          checkTask(m, task!, data.task);
        },
      };
    }
    case "done": {
      let { id, user } = nearMiss(m, a.pick, a.who);
      if (a.sense) {
        const c = nth(senseClaims(m, a.pick, ["active"]), a.pick);
        if (c) [id, user] = [c.task, c.user];
      }
      const task = m.task(id);
      const cu = catchUp(m);
      const mine = task?.claims.filter((c) => c.user === user) ?? [];
      const active = mine.find((c) => c.status === "active");
      const hoursText = a.hours === null ? "" : ` hours:${DONE_HOURS[a.hours]}`;
      const predicted = !task ? no("not_found") : mine.some((c) => c.status === "reported") ? no("already_reported") : !active ? no("no_claim") : OK;
      // A late report: the claim ran out (at its deadline or before) and the command released it first.
      if (!predicted.ok && predicted.code === "no_claim" && cu.released.some((c) => c.user === user)) {
        count("done-refused-after-deadline");
        if (cu.released.some((c) => c.user === user && c.expiresAt === m.now)) count("done-refused-at-deadline");
      }
      return {
        user,
        text: `task done ${id}${hoursText}${a.note ? " the oven was cold" : ""}`,
        predicted,
        undo: cu.undo,
        apply: (data) => {
          caughtUp(m, cu.released, "done");
          expect(m.now, "a report after the deadline").toBeLessThan(active!.expiresAt);
          if (active!.expiresAt - m.now <= 1) count("reported-just-before-deadline");
          active!.status = "reported";
          active!.reportedHours = a.hours === null ? task!.estimate : milli(DONE_HOURS[a.hours]!);
          expect(data.hours).toBe(active!.reportedHours / 1000);
          checkTask(m, task!, data.task);
        },
      };
    }
    case "verify":
    case "reject": {
      let { id, target } = nearMiss(m, a.pick, a.other);
      let user = randomUser;
      if (a.sense) {
        // Now and then reported hours above the cap (estimate x creditCapFactor), to need explicit hours.
        const reported = m.claims.filter((x) => x.status === "reported");
        const overCap = reported.filter((x) => x.reportedHours! > Math.floor((m.task(x.task)!.estimate * m.policy.creditCapFactor) / 1000));
        // And now and then work on a task past its due date (which is not sent back).
        const overdue = reported.filter((x) => m.overdue(m.task(x.task)!));
        const c = (a.who % 3 === 0 ? nth(overCap, a.pick) : a.who % 3 === 1 ? nth(overdue, a.pick) : undefined) ?? nth(reported, a.pick);
        if (c) {
          [id, target] = [c.task, c.user];
          const verifiers = USERS.filter((u) => u !== c.user && (u === "admin" || m.isCoordinator(u, m.task(id)!.project)));
          user = nth(verifiers, a.who)!;
        }
      }
      const task = m.task(id);
      const cu = catchUp(m);
      const claim = task?.claims.find((c) => c.user === target && (c.status === "active" || c.status === "reported"));
      let predicted: Prediction;
      if (!task) predicted = no("not_found");
      else if (user !== "admin" && !m.isCoordinator(user, task.project)) predicted = no("forbidden");
      else if (target === "nobody") predicted = no("not_found");
      else if (target === user) predicted = no("self_verify");
      else if (!claim) predicted = no("no_claim");
      else if (claim.status !== "reported") predicted = no("not_reported");
      else predicted = OK;
      if (a.t === "reject") {
        // Past the due date, work sent back could not be redone in time.
        if (predicted.ok && task!.dueAt !== null && task!.dueAt <= m.now) predicted = no("task_overdue");
        return {
          user,
          text: `task reject ${id} @${target} the floor is still wet`,
          predicted,
          undo: cu.undo,
          apply: (data) => {
            caughtUp(m, cu.released, "reject");
            claim!.status = "active";
            claim!.reportedHours = null;
            // Never past the due date.
            claim!.expiresAt = task!.dueAt ?? m.now + m.policy.claimDays * DAY_MS;
            m.note(target as User, "rejected", task!.id);
            expect(data).toMatchObject({ member: target, expiresAt: iso(claim!.expiresAt) });
            checkTask(m, task!, data.task);
          },
        };
      }
      const explicit = a.hours === null ? undefined : milli(VERIFY_HOURS[a.hours]!);
      const cap = task ? Math.floor((task.estimate * m.policy.creditCapFactor) / 1000) : 0;
      if (predicted.ok && explicit === undefined && claim!.reportedHours! > cap) predicted = no("needs_hours");
      return {
        user,
        text: `task verify ${id} @${target}${a.hours === null ? "" : ` hours:${VERIFY_HOURS[a.hours]}`}`,
        predicted,
        undo: cu.undo,
        apply: (data) => {
          caughtUp(m, cu.released, "verify");
          const hours = explicit ?? claim!.reportedHours!;
          // Property 4: hours x the weight locked at the claim, rounded half up to milli-hours.
          const amount = Math.round((hours * claim!.weight) / 1_000_000);
          claim!.status = "verified";
          claim!.credited = amount;
          claim!.verifiedBy = user;
          m.credits.set(target as User, m.credits.get(target as User)! + amount);
          m.projectBalance.set(task!.project, m.projectBalance.get(task!.project)! - amount);
          // Property 5: verified work moves the kind marketSmoothing of the way toward the claim's weight, rounded half up.
          const kind = m.kinds.get(task!.kind)!;
          const before = kind.weight;
          const after = before + Math.round(((claim!.weight - before) * m.policy.marketSmoothing) / 1000);
          if (after !== before) {
            m.setKind(task!.kind, after);
            count(after > before ? "market-raised-by-verify" : "market-lowered-by-verify");
          }
          expect(data.market).toEqual({ kind: task!.kind, before: weightJson(before), after: weightJson(after) });
          if (amount > 0) m.entries++;
          else count("verify-zero-credit");
          count(explicit === undefined ? "verify-reported-hours" : "verify-explicit-hours");
          expect(data).toMatchObject({
            member: target,
            hours: hours / 1000,
            weight: weightJson(claim!.weight),
            credited: amount / 1000,
            entry: amount > 0 ? m.entries : 0,
          });
          checkTask(m, task!, data.task);
        },
      };
    }
    case "cancel": {
      let id = anyTaskId(m, a.pick);
      let user = randomUser;
      if (a.sense) {
        const task = nth(
          m.tasks.filter((x) => m.state(x) === "open" || m.state(x) === "claimed"),
          a.pick,
        );
        if (task) [id, user] = [task.id, nth(COORDINATORS[task.project]!, a.who)!];
      }
      const task = m.task(id);
      const cu = catchUp(m);
      const state = task && m.state(task);
      const ending = task?.claims.filter((c) => c.status === "active" || c.status === "reported") ?? [];
      return {
        user,
        text: `task cancel ${id}`,
        predicted: !task
          ? no("not_found")
          : !m.isCoordinator(user, task.project)
            ? no("forbidden")
            : state === "done" || state === "cancelled"
              ? no("task_closed")
              : OK,
        undo: cu.undo,
        apply: (data) => {
          caughtUp(m, cu.released, "cancel");
          // Claims that ran out were released (as of their deadlines) before; they are not "ended".
          expect(data.ended).toEqual(ending.map((c) => c.user));
          for (const c of ending) {
            endClaim(m, task!, c, "cancelled");
            m.note(c.user, "cancelled", task!.id);
          }
          task!.cancelledAt = m.now;
          checkTask(m, task!, data.task);
        },
      };
    }
    case "due": {
      let id = anyTaskId(m, a.pick);
      let user = randomUser;
      if (a.sense) {
        // Mostly a task past its due date, else any live one; its coordinator, or the admin.
        const live = m.tasks.filter((x) => m.state(x) === "open" || m.state(x) === "claimed");
        const task =
          (a.pick % 3 !== 0
            ? nth(
                live.filter((x) => m.overdue(x)),
                a.pick,
              )
            : undefined) ?? nth(live, a.pick);
        if (task) [id, user] = [task.id, a.who % 4 === 0 ? "admin" : nth(COORDINATORS[task.project]!, a.who)!];
      } else if (a.pick % 3 !== 0) {
        // A task that is done or cancelled, by its coordinator.
        const closed = nth(
          m.tasks.filter((x) => m.state(x) === "done" || m.state(x) === "cancelled"),
          a.who,
        );
        if (closed) [id, user] = [closed.id, nth(COORDINATORS[closed.project]!, a.who)!];
      }
      const task = m.task(id);
      const cu = catchUp(m);
      const typed = dueOf(m, a.due);
      const state = task && m.state(task);
      let predicted: Prediction = OK;
      if (!task) predicted = no("not_found");
      else if (user !== "admin" && !m.isCoordinator(user, task.project)) predicted = no("forbidden");
      else if (state === "done" || state === "cancelled") predicted = no("task_closed");
      else if (typed.at! <= m.now) predicted = no("due_past");
      return {
        user,
        text: `task due ${id} ${typed.text}`,
        predicted,
        undo: cu.undo,
        apply: (data) => {
          caughtUp(m, cu.released, "due");
          if (m.overdue(task!)) count("due-moved-when-overdue");
          expect(data.before).toBe(iso(task!.dueAt));
          task!.dueMoves.push({ before: task!.dueAt, at: m.now });
          task!.dueAt = typed.at;
          // The active claims must be reported by the new date; each worker is told.
          const active = task!.claims.filter((c) => c.status === "active");
          for (const c of active) {
            c.expiresAt = typed.at!;
            m.note(c.user, "due", task!.id);
          }
          expect(data.workers).toEqual(active.map((c) => c.user));
          checkTask(m, task!, data.task);
        },
      };
    }
    case "show": {
      const id = anyTaskId(m, a.pick);
      const task = m.task(id);
      const cu = catchUp(m);
      return {
        user: randomUser,
        text: `task show ${id}`,
        predicted: task ? OK : no("not_found"),
        undo: cu.undo,
        apply: (data) => {
          caughtUp(m, cu.released, "show");
          checkTask(m, task!, data.task);
        },
      };
    }
    case "policy": {
      const [key, value, stored] = POLICY_CHANGES[a.change]!;
      const user = a.sense ? "admin" : randomUser;
      const cu = catchUp(m);
      return {
        user,
        text: `pool policy ${key} ${value}`,
        predicted: user !== "admin" ? no("forbidden") : stored === null ? no("policy_value") : OK,
        undo: cu.undo,
        apply: (data) => {
          caughtUp(m, cu.released, "policy");
          m.policy = { ...m.policy, [key]: stored };
          if (key === "weightFloor") m.floorsEver.add(stored! * 1000);
          if (key === "weightCap") m.capsEver.add(stored! * 1000);
          expect(data.value).toBe(policyValueJson(key, stored!));
        },
      };
    }
  }
}

function claimStep(m: Model, user: User, id: number): Step {
  const task = m.task(id);
  const text = `task claim ${id}`;
  if (!task) return { user, text, predicted: no("not_found") };
  const fullBefore = m.holding(task) >= task.slots;
  const cu = catchUp(m);
  const state = m.state(task);
  const mine = task.claims.filter((c) => c.user === user);
  let predicted: Prediction = OK;
  if (state === "done" || state === "cancelled") predicted = no("task_closed");
  else if (task.dueAt !== null && task.dueAt <= m.now) predicted = no("task_overdue");
  else if (mine.some((c) => HOLDS.has(c.status))) predicted = no("already_claimed");
  else if (mine.some((c) => c.status === "refused")) predicted = no("turned_down");
  // Once the project turned a volunteer down for the task, its coordinators may not claim it.
  else if (task.claims.some((c) => c.status === "refused") && m.isCoordinator(user, task.project)) predicted = no("coordinator_claim");
  const full = m.holding(task) >= task.slots;
  const kind = m.kinds.get(task.kind)!;
  const kindBefore = kind.weight;
  return {
    user,
    text,
    predicted,
    undo: cu.undo,
    apply: (data) => {
      caughtUp(m, cu.released, "claim");
      if (!full) {
        expect(data.outcome).toBe("claimed");
        // A volunteer after a deadline finds the slot that ran out free, not a waitlist.
        if (fullBefore) count("claim-freed-by-catch-up");
        if (cu.released.some((c) => c.user === user)) count("claim-again-after-own-release");
        const weight = toM(data.weight);
        // Property 4: the claim gets the weight the model computes from the open time.
        expect(weight, `claim of task #${id}`).toBe(m.weight(task));
        const expiresAt = task.dueAt ?? m.now + m.policy.claimDays * DAY_MS;
        if (expiresAt === task.dueAt) count("claim-until-due");
        expect(data.expiresAt).toBe(iso(expiresAt));
        const c: ClaimM = {
          id: m.claims.length + 1,
          task: id,
          user,
          weight,
          status: "active",
          claimedAt: m.now,
          expiresAt,
          reportedHours: null,
          credited: null,
          verifiedBy: null,
          end: null,
        };
        m.claims.push(c);
        task.claims.push(c);
        // The member leaves the waitlist, but it remembers that they waited.
        const waited = task.waitlist.find((w) => w.user === user && w.left === null);
        if (waited) {
          waited.left = m.now;
          count("claim-from-waitlist");
        }
        // Property 5: a claim moves no market weight (only its verification will).
        if (weight > task.postedWeight) count("claim-above-posted");
        if (weight !== kindBefore) count("claim-away-from-market");
      } else {
        expect(data.outcome).toBe("waitlisted");
        const r = m.rules();
        const entry = task.waitlist.find((w) => w.user === user);
        let after = kindBefore;
        if (entry?.left === null) count("waitlist-again");
        else if (entry) {
          // Back on the waitlist after a slot: at their first place in time, and no second lowering.
          entry.left = null;
          count("waitlist-rejoined");
        } else {
          task.waitlist.push({ user, at: m.now, seq: ++m.waitSeq, left: null });
          // Property 5: min(w, max(floor, round(w x (1 - penalty)))), once per member per task.
          after = Math.min(kindBefore, Math.max(r.floor, Math.round((kindBefore * (1000 - m.policy.waitlistPenalty)) / 1000)));
          task.lowered.set(user, (task.lowered.get(user) ?? 0) + 1);
          expect(task.lowered.get(user), `${user} lowered ${task.kind} twice on task #${id}`).toBe(1);
          if (after !== kindBefore) m.setKind(task.kind, after);
          count(after < kindBefore ? "waitlist-lowered" : "waitlist-not-lowered");
          if (after === r.floor && after < kindBefore) count("waitlist-hit-floor");
          if (kindBefore < r.floor) count("waitlist-below-floor-kept");
        }
        expect(data.kind).toEqual({ name: task.kind, before: weightJson(kindBefore), after: weightJson(after) });
        expect(toM(data.kind.after), "a waitlist never raises a kind").toBeLessThanOrEqual(toM(data.kind.before));
        // The place told is the place the list shows.
        expect(data.position).toBe(m.waitlist(task).indexOf(user) + 1);
        if (data.position < m.waitlist(task).length) count("waitlist-position-not-last");
      }
      checkTask(m, task, data.task);
    },
  };
}

/**
 * Ends a claim that holds a slot: a release as of its deadline, anything else now. Unless the task
 * is being cancelled, the waitlist hears of it when the task was full; the worker hears of a release.
 */
function endClaim(m: Model, task: TaskM, c: ClaimM, status: "dropped" | "refused" | "cancelled" | "released") {
  const before = m.holding(task);
  c.status = status;
  c.end = status === "released" ? c.expiresAt : m.now;
  if (status !== "cancelled" && before >= task.slots) {
    for (const u of m.waitlist(task)) m.note(u, "slot_open", task.id);
    if (m.waitlist(task).length > 0) count("slot-open-notes");
  }
  if (status === "released") m.note(c.user, "released", task.id);
}

/** releaseExpiredClaims at the model's time: exactly the active claims whose deadline has come. */
async function release(t: TestPool, m: Model) {
  const expected = m.claims.filter((c) => c.status === "active" && c.expiresAt <= m.now).sort((a, b) => a.expiresAt - b.expiresAt || a.id - b.id);
  const got = await t.store.transaction((tx) => releaseExpiredClaims(tx, m.now));
  expect(got).toEqual(expected.map((c) => ({ claim: c.id, task: c.task, member: m.memberIds.get(c.user), pool: POOL_ID })));
  for (const c of expected) {
    endClaim(m, m.task(c.task)!, c, "released");
    if (c.expiresAt === m.now) count("released-at-deadline");
  }
  count(got.length > 0 ? "release:some" : "release:none");
  count("released-claims", got.length);
  // Running it again at once finds nothing and changes nothing.
  const before = await t.dump();
  expect(await t.store.transaction((tx) => releaseExpiredClaims(tx, m.now))).toEqual([]);
  expect(await t.dump()).toBe(before);
}

async function setup(t: TestPool): Promise<Map<User, number>> {
  await t.ok("admin", "pool create Test", { requestId: "setup:1" });
  await t.ok("cody", "project create bikes Bike Workshop", { requestId: "setup:2" });
  await t.ok("cora", "project create bakery Riverside Bakery", { requestId: "setup:3" });
  await t.ok("cora", "project coordinator add bakery @cody", { requestId: "setup:4" });
  for (const u of ["bob", "carol", "dave", "erin"]) await t.ok(u, "me balance", { requestId: `setup:${u}` });
  const ids = new Map<User, number>();
  for (const u of USERS) {
    ids.set(u, (await sqlRows<{ m: number }>(t.store, "SELECT member_id AS m FROM identities WHERE platform = 'console' AND external_id = ?", [u]))[0]!.m);
  }
  return ids;
}

async function runScenario(actions: readonly Action[]): Promise<void> {
  const t = await testPool();
  try {
    const m = new Model(t.clock.now().getTime(), await setup(t));
    let kinds = await checkAll(t, m);
    for (const [i, a] of actions.entries()) {
      const requestId = `console:step-${i}`;
      let reply: Reply | undefined;
      switch (a.t) {
        case "advance":
          t.clock.advance(a.ms);
          m.now += a.ms;
          break;
        case "to-expiry": {
          // To a claim's deadline (or just before or after it), to catch the boundary.
          const next = m.claims.filter((c) => c.status === "active" && c.expiresAt + a.delta > m.now).sort((x, y) => x.expiresAt - y.expiresAt)[0];
          if (!next) break;
          const ms = next.expiresAt + a.delta - m.now;
          t.clock.advance(ms);
          m.now += ms;
          if (a.release) await release(t, m);
          break;
        }
        case "to-due": {
          // To a live task's due date (or just before or after it), to catch the boundary.
          const next = m.tasks
            .filter((x) => (m.state(x) === "open" || m.state(x) === "claimed") && x.dueAt !== null && x.dueAt + a.delta > m.now)
            .sort((x, y) => x.dueAt! - y.dueAt!)[0];
          if (!next) break;
          const ms = next.dueAt! + a.delta - m.now;
          t.clock.advance(ms);
          m.now += ms;
          count("to-due");
          break;
        }
        case "release":
          await release(t, m);
          break;
        case "replay": {
          const earlier = nth(m.done, a.pick);
          if (!earlier) break;
          const before = await t.dump();
          // Half the time its own caller, else anyone: the stored answer is its caller's, anyone
          // else is refused; neither changes anything.
          const who = a.who % 2 === 0 ? earlier.user : USERS[a.who]!;
          const reply = await t.say(who, earlier.text, { room: "lobby", requestId: earlier.requestId });
          if (who === earlier.user) {
            expect(reply.ok && reply.replayed).toBe(true);
            expect(reply.ok && reply.data).toStrictEqual(earlier.data);
            count("replay-later");
          } else {
            expect(reply).toMatchObject({ ok: false, code: "request_reused" });
            count("replay-later:refused");
          }
          expect(await t.dump()).toBe(before);
          break;
        }
        case "garbage": {
          const before = await t.dump();
          const reply = await t.say(USERS[a.who]!, a.text, { room: "lobby", requestId });
          expect(reply.ok, `garbage ${JSON.stringify(a.text)} was accepted`).toBe(false);
          expect(!reply.ok && reply.code).not.toBe("internal");
          expect(await t.dump()).toBe(before);
          count("garbage");
          break;
        }
        default:
          reply = await runStep(t, m, stepOf(m, a), requestId, a.t);
      }
      // A clock step changes nothing by itself: the next command catches up what came due (reads
      // do too), so it is checked after that command, which then meets claims that ran out.
      if (a.t === "advance" || a.t === "to-expiry" || a.t === "to-due") continue;
      // The market weight moves only on verification (toward the claim's weight) or when a
      // volunteer finds a task full (down): never on a claim, drop, refusal, release, report,
      // rejection, cancellation, due date change or the clock.
      const after = await checkAll(t, m);
      for (const [name, weight] of after) {
        const before = kinds.get(name);
        if (before === undefined || before === weight) continue;
        const waitlisted = a.t === "claim" && reply?.ok === true && (reply.data as { outcome: string }).outcome === "waitlisted" && weight < before;
        const verified = a.t === "verify" && reply?.ok === true;
        expect(waitlisted || verified, `the ${name} market moved from ${before} to ${weight} on ${a.t}`).toBe(true);
      }
      if ((a.t === "drop" || a.t === "refuse" || a.t === "reject") && reply?.ok) count(`${a.t}-market-unmoved`);
      kinds = after;
    }
    // The projects carry what their members were credited.
    for (const [slug, balance] of m.projectBalance) expect((await read(t, "admin", `project info ${slug}`)).balance).toBe(balance / 1000);
  } finally {
    await t.close();
  }
}

describe("tasks and weights under random sequences", () => {
  it("GIVEN any sequence of task commands, clock steps, releases, policy changes and replays THEN the ledger balances, refusals and replays change nothing, weights stay in bounds and the model agrees", async () => {
    coverage.clear();
    await fc.assert(
      fc.asyncProperty(scenario, async (actions) => {
        await runScenario(actions);
      }),
      { numRuns: randomRuns({ sqlite: 50, postgres: 4 }), seed: SEED },
    );
    // The runs must reach the interesting states, not just pile up refusals.
    const wanted = [
      "post:ok",
      "post:forbidden",
      "post:due_past",
      "claim:ok",
      "claim:already_claimed",
      "claim:task_closed",
      "claim-above-posted",
      "claim-until-due",
      "waitlist-lowered",
      "drop:ok",
      "refuse:ok",
      "refuse:forbidden",
      "done:ok",
      "done:already_reported",
      "verify:ok",
      "verify:forbidden",
      "verify:self_verify",
      "verify:not_reported",
      "verify:needs_hours",
      "verify-reported-hours",
      "verify-explicit-hours",
      "reject:ok",
      "cancel:ok",
      "policy:ok",
      "policy:forbidden",
      "policy:policy_value",
      "release:some",
      "released-at-deadline",
      "replay-later",
      "replay-later:refused",
      "garbage",
      "task-at-cap",
      "cancelled-weight-stopped",
      "slot-open-notes",
      // Due dates: claims refused past them, weights stopped there, dates moved (also after they passed).
      "claim:task_overdue",
      "overdue-weight-stopped",
      "overdue-listed",
      "to-due",
      "due:ok",
      "due:forbidden",
      "due:due_past",
      "due:task_closed",
      "due-moved-when-overdue",
      // The market: claims away from it moved nothing; verified ones moved it.
      "claim-away-from-market",
      "drop-market-unmoved",
      "refuse-market-unmoved",
      "reject-market-unmoved",
      "market-raised-by-verify",
      "claim:coordinator_claim",
    ];
    const summary = JSON.stringify(Object.fromEntries([...coverage].sort()));
    // The generator's reach: checked where the full count of cases runs (SQLite).
    if (fullRandomRuns()) {
      for (const key of wanted) expect(seen(key), `${key} in ${summary}`).toBeGreaterThan(0);
      expect(seen("released-claims"), summary).toBeGreaterThan(5);
    }
  }, 1_800_000); // about 40 s alone; minutes on a busy machine, more on PostgreSQL: a hang guard

  it("GIVEN crowded one- and two-slot tasks with short claims THEN waitlists (once per member per task, in order of arrival) and claims that ran out (released before the next command on the task) follow the model", async () => {
    coverage.clear();
    await fc.assert(
      fc.asyncProperty(focusedScenario, async (actions) => {
        await runScenario(actions);
      }),
      { numRuns: randomRuns({ sqlite: 22, postgres: 2 }), seed: SEED },
    );
    // Here the waitlists fill up and the deadlines pass (the wider runs above reach these rarely).
    const wanted = [
      "claim:ok",
      "claim-from-waitlist",
      "claim-freed-by-catch-up",
      "claim-again-after-own-release",
      "caught-up-claims",
      "caught-up-at-deadline",
      "done-refused-after-deadline",
      "waitlist-lowered",
      "waitlist-again",
      "waitlist-rejoined",
      "waitlist-hit-floor",
      "waitlist-below-floor-kept",
      "waitlist-position-not-last",
      "slot-open-notes",
      "released-at-deadline",
      "claim:task_overdue",
      "due:ok",
      "refuse-market-unmoved",
      "claim-away-from-market",
    ];
    const summary = JSON.stringify(Object.fromEntries([...coverage].sort()));
    if (fullRandomRuns()) for (const key of wanted) expect(seen(key), `${key} in ${summary}`).toBeGreaterThan(0);
  }, 1_800_000); // a hang guard, sized for PostgreSQL on a busy machine
});

// ---------------------------------------------------------------------------------------------
// Property 3: one step or tick by tick. Three pools get the same commands at the same times; pool
// A's clock jumps to each command (the scheduler runs once, just before it), pool B's clock
// gets there in random pieces, with the scheduler running and the to-do list read after each,
// and pool L's scheduler never runs: only the commands release the claims that ran out of the
// task they touch. All three answer every command the same, and once L's scheduler finally
// runs, it shows the same tasks and kinds.

type Op = "post" | "claim" | "drop" | "refuse" | "done" | "verify" | "cancel" | "due" | "policy";
type Timed = { readonly d: number; readonly cuts: readonly number[]; readonly op: Op; readonly pick: number; readonly who: number };
const WORKERS: readonly User[] = ["bob", "carol", "dave", "erin"];
const TIMED_POLICY = [...POLICY_CHANGES.filter(([k, , v]) => v !== null && k !== "claimDays"), ["claimDays", "2", 2] as const];

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.constant("post" as const) },
  { weight: 6, arbitrary: fc.constant("claim" as const) },
  { weight: 2, arbitrary: fc.constant("drop" as const) },
  { weight: 2, arbitrary: fc.constant("refuse" as const) },
  { weight: 3, arbitrary: fc.constant("done" as const) },
  { weight: 3, arbitrary: fc.constant("verify" as const) },
  { weight: 1, arbitrary: fc.constant("cancel" as const) },
  { weight: 1, arbitrary: fc.constant("due" as const) },
  { weight: 2, arbitrary: fc.constant("policy" as const) },
);
const timed: fc.Arbitrary<Timed> = fc
  .tuple(
    // Now and then past a claim's whole time (claimDays 7, or 2), for the scheduler or a command to release.
    fc.oneof(
      fc.constant(0),
      fc.integer({ min: MINUTE_MS, max: DAY_MS }),
      fc.integer({ min: DAY_MS, max: 4 * DAY_MS }),
      fc.integer({ min: 5 * DAY_MS, max: 9 * DAY_MS }),
    ),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
    op,
    fc.nat({ max: 40 }),
    fc.nat({ max: 40 }),
  )
  .map(([d, fractions, o, p, w]) => ({ d, cuts: fractions.map((f) => Math.floor(f * d)).sort((a, b) => a - b), op: o, pick: p, who: w }));
const schedule = fc
  .tuple(
    timed.map((x): Timed => ({ ...x, d: 0, cuts: [], op: "post" })),
    fc.array(timed, { minLength: 5, maxLength: 25 }),
  )
  .map(([first, rest]) => [first, ...rest]);

type ListedTask = { id: number; status: string; claims: Array<{ member: string; status: string }> };

/** The command a timed step stands for, picked from what the (jumping) pool shows now. */
function timedText(s: Timed, tasks: readonly ListedTask[]): { user: User; text: string } {
  const claims = tasks.flatMap((t) => t.claims.map((c) => ({ task: t.id, ...c })));
  const claimOf = (statuses: string[]) =>
    nth(
      claims.filter((c) => statuses.includes(c.status)),
      s.pick,
    );
  const fallback = { user: WORKERS[s.who % 4]!, text: `task claim ${1 + (s.pick % (tasks.length + 1))}` };
  switch (s.op) {
    case "post":
      return {
        user: "cora",
        text: `task post bakery Chore hours:2 kind:${KINDS[s.pick % 2]} slots:${1 + (s.who % 2)}${s.pick % 3 === 0 ? ` due:2026-12-${String(1 + (s.who % 9)).padStart(2, "0")}` : ""}`,
      };
    case "claim": {
      const live = tasks.filter((t) => t.status === "open" || t.status === "claimed");
      const t = nth(live, s.pick);
      return t ? { user: WORKERS[s.who % 4]!, text: `task claim ${t.id}` } : fallback;
    }
    case "drop":
    case "refuse": {
      const c = claimOf(["active", "reported"]);
      if (!c) return fallback;
      return s.op === "drop" ? { user: c.member as User, text: `task drop ${c.task}` } : { user: "cora", text: `task refuse ${c.task} @${c.member}` };
    }
    case "done": {
      const c = claimOf(["active"]);
      return c ? { user: c.member as User, text: `task done ${c.task}${s.who % 2 ? " hours:1.5" : ""}` } : fallback;
    }
    case "verify": {
      const c = claimOf(["reported"]);
      return c ? { user: "cora", text: `task verify ${c.task} @${c.member}` } : fallback;
    }
    case "cancel": {
      const t = nth(
        tasks.filter((x) => x.status === "open" || x.status === "claimed"),
        s.pick,
      );
      return t ? { user: "cora", text: `task cancel ${t.id}` } : fallback;
    }
    case "due": {
      const t = nth(
        tasks.filter((x) => x.status === "open" || x.status === "claimed"),
        s.pick,
      );
      return t ? { user: "cora", text: `task due ${t.id} 2026-12-${String(5 + (s.who % 20)).padStart(2, "0")}` } : fallback;
    }
    case "policy": {
      const [k, v] = TIMED_POLICY[s.pick % TIMED_POLICY.length]!;
      return { user: "admin", text: `pool policy ${k} ${v}` };
    }
  }
}

const releaseNow = (t: TestPool) => t.store.transaction((tx) => releaseExpiredClaims(tx, t.clock.now().getTime()));
const stepCoverage = new Map<string, number>();
const stepCount = (k: string, n = 1) => stepCoverage.set(k, (stepCoverage.get(k) ?? 0) + n);

describe("weights are the same in one step or tick by tick", () => {
  it("GIVEN the same commands at the same times THEN a pool whose clock jumps, one whose clock ticks (scheduler at every tick) and one without a scheduler show the same tasks, kinds and answers", async () => {
    await fc.assert(
      fc.asyncProperty(schedule, async (steps) => {
        const a = await testPool();
        const b = await testPool();
        const l = await testPool();
        try {
          await setup(a);
          await setup(b);
          await setup(l);
          let releasedInA = 0;
          for (const [i, s] of steps.entries()) {
            // A: one jump, then the scheduler.
            a.clock.advance(s.d);
            const releasedA = (await releaseNow(a)).map((r) => r.claim);
            // B: the same time in pieces, the scheduler and the list after each piece.
            const releasedB: number[] = [];
            let previous = new Map<number, number>();
            let at = 0;
            for (const cut of [...s.cuts, s.d]) {
              b.clock.advance(cut - at);
              at = cut;
              releasedB.push(...(await releaseNow(b)).map((r) => r.claim));
              const list = (await read(b, "bob", "task list status:all")).tasks as Array<{ id: number; weight: number }>;
              // Between two commands, time only adds weight.
              for (const x of list) expect(x.weight, `task #${x.id}`).toBeGreaterThanOrEqual(previous.get(x.id) ?? 0);
              previous = new Map(list.map((x) => [x.id, x.weight]));
              stepCount("ticks");
            }
            // L: one jump, no scheduler.
            l.clock.advance(s.d);
            expect(b.clock.now().getTime()).toBe(a.clock.now().getTime());
            expect(l.clock.now().getTime()).toBe(a.clock.now().getTime());
            expect(releasedB).toEqual(releasedA);
            stepCount("released", releasedA.length);
            releasedInA += releasedA.length;
            const c = timedText(s, (await read(a, "bob", "task list status:all")).tasks);
            const ra = await a.say(c.user, c.text, { requestId: `console:t-${i}` });
            const rb = await b.say(c.user, c.text, { requestId: `console:t-${i}` });
            const rl = await l.say(c.user, c.text, { requestId: `console:t-${i}` });
            const answer = (r: Reply) => (r.ok ? { ok: true, data: r.data } : { ok: false, code: r.code });
            expect(answer(rb), `${c.user}: ${c.text}`).toStrictEqual(answer(ra));
            expect(answer(rl), `${c.user}: ${c.text} without a scheduler`).toStrictEqual(answer(ra));
            stepCount(`${c.text.split(" ").slice(0, 2).join(" ")}:${ra.ok ? ((ra.data as { outcome?: string }).outcome ?? "ok") : ra.code}`);
            expect(await read(b, "bob", "task list status:all")).toStrictEqual(await read(a, "bob", "task list status:all"));
            expect(await read(b, "bob", "kind list")).toStrictEqual(await read(a, "bob", "kind list"));
          }
          const tasks = (await read(a, "bob", "task list status:all")).tasks as Array<{ weight: number; postedWeight: number }>;
          stepCount("risen", tasks.filter((x) => x.weight > x.postedWeight).length);
          // L's claims that ran out and that no command touched since are still there to release;
          // once released (as of their deadlines), L is where A is.
          expect(await releaseNow(a)).toEqual([]);
          const lateInL = (await releaseNow(l)).length;
          stepCount("released-by-catch-up", releasedInA - lateInL);
          expect(await read(l, "bob", "task list status:all")).toStrictEqual(await read(a, "bob", "task list status:all"));
          expect(await read(l, "bob", "kind list")).toStrictEqual(await read(a, "bob", "kind list"));
        } finally {
          await a.close();
          await b.close();
          await l.close();
        }
      }),
      { numRuns: randomRuns({ sqlite: 30, postgres: 2 }) },
    );
    const summary = JSON.stringify(Object.fromEntries([...stepCoverage].sort()));
    for (const key of [
      "task claim:claimed",
      "task claim:waitlisted",
      "task drop:ok",
      "task refuse:ok",
      "task verify:ok",
      "pool policy:ok",
      "released",
      "released-by-catch-up",
      "risen",
    ]) {
      if (fullRandomRuns()) expect(stepCoverage.get(key) ?? 0, `${key} in ${summary}`).toBeGreaterThan(0);
    }
    if (fullRandomRuns()) expect(stepCoverage.get("ticks") ?? 0).toBeGreaterThan(200);
  }, 1_800_000); // a hang guard: three pools a run, on PostgreSQL beside other runs several minutes
});

// ---------------------------------------------------------------------------------------------
// Bugs found by the properties above, fixed; these tests were pinned with `it.fails` while the
// bugs were there and now check the fixed behaviour.

async function bakeryPool(): Promise<TestPool> {
  const t = await testPool({ start: "2026-11-02T09:00:00Z" });
  await setup(t);
  return t;
}
const shown = async (t: TestPool, id: number) => (await t.ok("bob", `task show ${id}`)).task;

describe("found by the properties", () => {
  // Bug 1 (fixed). releaseExpiredClaims reopened a slot "as of its deadline" only by setting the
  // task's openSince to the deadline: slot changes of the task between the deadline and a late run
  // were not redone, so open time was counted twice (or not at all), and the weight depended on
  // when the scheduler ran. Now every command on a task first releases its claims that ran out, as
  // of their deadlines, so no slot change comes before the release of an earlier deadline.
  it("GIVEN a claim that ran out while the scheduler was down, then another volunteer took the second slot THEN the weight is the same as with the scheduler on time (open time counted once)", async () => {
    const onTime = await bakeryPool();
    const late = await bakeryPool();
    try {
      for (const t of [onTime, late]) {
        await t.ok("cora", "task post bakery Two hands hours:1 slots:2");
        await t.ok("bob", "task claim 1"); // until day 7
      }
      onTime.clock.advance(7 * DAY_MS);
      expect(await releaseNow(onTime)).toHaveLength(1);
      onTime.clock.advance(DAY_MS);
      late.clock.advance(8 * DAY_MS);
      // Day 8: one of two slots taken either way; in `late`, carol's claim first releases bob's (as of day 7).
      for (const t of [onTime, late]) await t.ok("carol", "task claim 1");
      expect((await shown(late, 1)).claims.map((c: { member: string; status: string }) => [c.member, c.status])).toEqual([
        ["bob", "released"],
        ["carol", "active"],
      ]);
      onTime.clock.advance(2 * DAY_MS);
      late.clock.advance(2 * DAY_MS);
      expect(await releaseNow(late), "nothing left for the late scheduler").toEqual([]);
      // The task had an open slot all 10 days: +10% ten times, 2.593743.
      const tenDays = weightJson(taskWeight(1_000_000, 10 * DAY_MS, weightRules(defaultPolicy())));
      expect(await shown(onTime, 1), "on time").toMatchObject({ openHours: 240, weight: tenDays });
      expect(await shown(late, 1), "late").toMatchObject({ openHours: 240, weight: tenDays }); // was 264 h (days 7-8 twice), 2.853117
      // Bob hears of the release either way.
      for (const t of [onTime, late]) expect(await notesOf(t, "bob")).toEqual([{ kind: "released", task: 1 }]);
    } finally {
      await onTime.close();
      await late.close();
    }
  });

  it("GIVEN a claim that ran out while the scheduler was down, then the other worker dropped THEN the open time since the deadline counts (not only since the drop)", async () => {
    const onTime = await bakeryPool();
    const late = await bakeryPool();
    try {
      for (const t of [onTime, late]) {
        await t.ok("cora", "task post bakery Two hands hours:1 slots:2");
        await t.ok("bob", "task claim 1"); // until day 7
        t.clock.advance(DAY_MS);
        await t.ok("carol", "task claim 1"); // day 1, until day 8: full
      }
      onTime.clock.advance(6 * DAY_MS);
      expect(await releaseNow(onTime)).toHaveLength(1); // day 7: bob's slot reopens
      onTime.clock.advance(12 * HOUR_MS);
      late.clock.advance(6 * DAY_MS + 12 * HOUR_MS);
      for (const t of [onTime, late]) await t.ok("carol", "task drop 1"); // day 7.5; in `late`, bob's claim is released first, as of day 7
      for (const t of [onTime, late]) t.clock.advance(12 * HOUR_MS);
      expect(await releaseNow(late), "nothing left for the late scheduler").toEqual([]);
      // Open on day 0 (one of two slots taken) and since day 7.
      expect((await shown(onTime, 1)).openHours, "on time").toBe(48);
      expect((await shown(late, 1)).openHours, "late").toBe(48); // was 36: open only since carol's drop
    } finally {
      await onTime.close();
      await late.close();
    }
  });

  it("GIVEN a claim that ran out THEN a late report is refused, and a volunteer after the deadline gets the slot instead of the waitlist", async () => {
    const t = await bakeryPool();
    try {
      await t.ok("cora", "task post bakery Alone hours:1 kind:fun");
      await t.ok("bob", "task claim 1"); // until day 7
      t.clock.advance(7 * DAY_MS); // exactly the deadline, and the scheduler has not run
      expect((await shown(t, 1)).status, "task show shows the task as of now: the claim ran out").toBe("open");
      const before = await t.dump();
      const late = await t.say("bob", "task done 1");
      expect(!late.ok && late.code).toBe("no_claim");
      expect(await t.dump(), "the refused report changed nothing").toBe(before);
      const carol = await t.ok("carol", "task claim 1");
      expect(carol.outcome).toBe("claimed");
      expect(carol.task.claims.map((c: { member: string; status: string }) => [c.member, c.status])).toEqual([
        ["bob", "released"],
        ["carol", "active"],
      ]);
      expect(await notesOf(t, "bob")).toEqual([{ kind: "released", task: 1 }]);
      expect(await releaseNow(t)).toEqual([]);
    } finally {
      await t.close();
    }
  });

  // Bug 2 (fixed). The README and `help task claim`: a volunteer who finds a task full lowers its
  // kind's weight "once per member per task". The waitlist row was deleted when the member
  // claimed, so after claim, drop and a full task again the same member lowered the kind again.
  it("GIVEN a member who was on a task's waitlist, claimed and dropped it THEN finding it full again does not lower the kind a second time", async () => {
    const t = await bakeryPool();
    try {
      await t.ok("cora", "task post bakery Popular hours:1 kind:fun");
      await t.ok("bob", "task claim 1");
      expect((await t.ok("carol", "task claim 1")).kind).toEqual({ name: "fun", before: 1, after: 0.95 });
      await t.ok("bob", "task drop 1");
      await t.ok("carol", "task claim 1"); // a claim moves no market weight: fun stays at 0.95
      await t.ok("carol", "task drop 1");
      await t.ok("bob", "task claim 1");
      const again = await t.ok("carol", "task claim 1");
      expect(again.outcome).toBe("waitlisted");
      expect(again.kind).toEqual({ name: "fun", before: 0.95, after: 0.95 }); // was after: 0.9025
    } finally {
      await t.close();
    }
  });

  // Bug 3 (fixed). cancelTask ended the claims without stopping the task's open-time clock: a
  // cancelled task's weight (task show, task list status:all/cancelled) kept rising, up to the cap.
  it("GIVEN a cancelled task THEN its weight no longer rises", async () => {
    const t = await bakeryPool();
    try {
      await t.ok("cora", "task post bakery Never mind hours:1");
      const cancelled = (await t.ok("cora", "task cancel 1")).task;
      expect(cancelled, "when cancelled").toMatchObject({ status: "cancelled", weight: 1 });
      t.clock.advance(5 * DAY_MS);
      expect(await shown(t, 1), "five days later").toMatchObject({ status: "cancelled", weight: 1, openHours: 0 }); // was 1.61051, 120 h
    } finally {
      await t.close();
    }
  });

  // Bug 4 (minor, fixed). The waitlist was shown ordered by (time, member id), but a new entry was
  // told "you are number <length + 1>": two volunteers in the same millisecond could be told
  // positions that disagreed with the list (and with what they were told when they tried again).
  it("GIVEN two volunteers waitlisted in the same instant THEN each is told the position the list shows", async () => {
    const t = await bakeryPool();
    try {
      await t.ok("cora", "task post bakery Popular hours:1");
      await t.ok("bob", "task claim 1");
      const erin = await t.ok("erin", "task claim 1"); // erin joined the pool after dave
      const dave = await t.ok("dave", "task claim 1");
      const list = (await shown(t, 1)).waitlist as string[];
      expect(list).toEqual(["erin", "dave"]); // in order of arrival
      expect(list.indexOf("erin") + 1).toBe(erin.position); // was: list [dave, erin]; erin told 1
      expect(list.indexOf("dave") + 1).toBe(dave.position);
      expect((await t.ok("erin", "task claim 1")).position, "trying again").toBe(erin.position);
    } finally {
      await t.close();
    }
  });

  // Bug 5 (fixed; the properties counted it as waitlist-raised-to-floor). The floor was applied
  // after the penalty, so a kind below a floor raised since was raised by a volunteer who found a
  // task full; and a new kind started at newKindWeight whatever the floor and the cap.
  it("GIVEN a floor raised above a kind's weight THEN a volunteer who finds a task full does not raise the kind; a new kind starts within the floor and the cap", async () => {
    const t = await bakeryPool();
    try {
      await t.ok("admin", "pool policy waitlistPenalty 100%");
      await t.ok("cora", "task post bakery Popular hours:1 kind:fun");
      await t.ok("bob", "task claim 1");
      expect((await t.ok("carol", "task claim 1")).kind).toEqual({ name: "fun", before: 1, after: 0.25 }); // down to the floor
      await t.ok("admin", "pool policy weightFloor 0.9");
      expect((await t.ok("dave", "task claim 1")).kind).toEqual({ name: "fun", before: 0.25, after: 0.25 }); // was after: 0.9
      expect((await t.ok("cora", "task post bakery Fresh hours:1 kind:brandnew")).task.weight, "newKindWeight above the floor").toBe(1);
      await t.ok("admin", "pool policy weightFloor 1.2");
      expect((await t.ok("cora", "task post bakery Fresher hours:1 kind:newer")).task.weight, "floor above newKindWeight").toBe(1.2);
      await t.ok("admin", "pool policy weightCap 0.8");
      expect((await t.ok("cora", "task post bakery Capped hours:1 kind:newest")).task.weight, "cap below the floor").toBe(0.8);
    } finally {
      await t.close();
    }
  });
});

/** The task notes a member got, in order. */
async function notesOf(t: TestPool, user: User): Promise<Array<{ kind: string; task: number }>> {
  const rows = await sqlRows<{ kind: string; body: string }>(
    t.store,
    "SELECT n.kind, n.body FROM member_notes n JOIN identities i ON i.member_id = n.member_id WHERE i.platform = 'console' AND i.external_id = ? ORDER BY n.id",
    [user],
  );
  return rows.map((r) => ({ kind: r.kind, task: (JSON.parse(r.body) as { task: number }).task }));
}
