// The pool's tables on PostgreSQL: the same tables, columns, indexes and constraints as
// db/schema.ts (SQLite), in drizzle's pg-core. Times are integer milliseconds since the epoch,
// amounts integer milli-hours, weights millionths: all of them can pass 2^31, so they are
// bigint, read as JavaScript numbers (exact up to 2^53). Row ids and the columns that point at
// them stay integer. Ledger entries are append-only: a trigger in the second migration refuses
// UPDATE and DELETE on them. Migrations: `npm run db:generate:pg` (drizzle.pg.config.ts).
import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, integer, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";
import type {
  AccountId,
  AllocationId,
  ClaimId,
  DueChangeId,
  EntryId,
  GoalId,
  GoodId,
  GoodRequestId,
  IdentityId,
  KindChangeId,
  KindId,
  LoanId,
  MemberId,
  NoteId,
  OutboxId,
  PoolId,
  ProductionId,
  ProjectId,
  RoomId,
  RoundId,
  SettlementId,
  SubscriptionId,
  TaskId,
} from "../src/core/ids.ts";
import type { AccountKind } from "../src/core/ledger.ts";
import type { ClaimStatus } from "../src/core/tasks.ts";

// Its columns are narrowed as db/schema.ts's are (enum, $type, the kinds of ids), so both infer the same rows:
// test/unit/db/row-types.ts checks that they do.

export const pools = pgTable("pools", {
  id: integer("id").$type<PoolId>().primaryKey().generatedByDefaultAsIdentity(),
  name: text("name").notNull(),
  policy: text("policy").notNull(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
  createdBy: bigint("created_by", { mode: "number" }).$type<MemberId>().notNull(),
  /** The pool's time: the latest moment a command ran in it (or the scheduler ran); a time given by hand may not go before it. */
  clock: bigint("clock", { mode: "number" }).notNull().default(0),
  /**
   * Set (to the latest such time) by a command that may change what the pool's task boards
   * show; cleared when the boards are rebuilt at delivery time or by the boards job. A crash in
   * between leaves it set, so the next delivery rebuilds them (services/rooms.ts).
   */
  boardsDirtyAt: bigint("boards_dirty_at", { mode: "number" }),
});

export const members = pgTable(
  "members",
  {
    id: integer("id").$type<MemberId>().primaryKey().generatedByDefaultAsIdentity(),
    handle: text("handle").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    mergedInto: bigint("merged_into", { mode: "number" }).$type<MemberId>(),
  },
  (t) => [uniqueIndex("members_handle").on(t.handle)],
);

export const identities = pgTable(
  "identities",
  {
    id: integer("id").$type<IdentityId>().primaryKey().generatedByDefaultAsIdentity(),
    platform: text("platform").notNull(),
    externalId: text("external_id").notNull(),
    memberId: integer("member_id")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("identities_platform_external").on(t.platform, t.externalId), index("identities_member").on(t.memberId)],
);

export const memberships = pgTable(
  "memberships",
  {
    poolId: integer("pool_id")
      .$type<PoolId>()
      .notNull()
      .references(() => pools.id),
    memberId: integer("member_id")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
    role: text("role", { enum: ["admin", "member"] }).notNull(),
    joinedAt: bigint("joined_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("memberships_pool_member").on(t.poolId, t.memberId)],
);

export const projects = pgTable(
  "projects",
  {
    id: integer("id").$type<ProjectId>().primaryKey().generatedByDefaultAsIdentity(),
    poolId: integer("pool_id")
      .$type<PoolId>()
      .notNull()
      .references(() => pools.id),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    createdBy: integer("created_by")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
  },
  (t) => [uniqueIndex("projects_pool_slug").on(t.poolId, t.slug)],
);

export const coordinators = pgTable(
  "coordinators",
  {
    projectId: integer("project_id")
      .$type<ProjectId>()
      .notNull()
      .references(() => projects.id),
    memberId: integer("member_id")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
    addedAt: bigint("added_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("coordinators_project_member").on(t.projectId, t.memberId)],
);

export const rooms = pgTable(
  "rooms",
  {
    id: integer("id").$type<RoomId>().primaryKey().generatedByDefaultAsIdentity(),
    platform: text("platform").notNull(),
    externalId: text("external_id").notNull(),
    poolId: integer("pool_id")
      .$type<PoolId>()
      .notNull()
      .references(() => pools.id),
    projectId: integer("project_id")
      .$type<ProjectId>()
      .references(() => projects.id),
    isLobby: boolean("is_lobby").notNull(),
    boundAt: bigint("bound_at", { mode: "number" }).notNull(),
    boundBy: integer("bound_by")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
    /** Set when the platform refused the bot there (kicked, banned, access removed): no announcements go there until it hears from the room again. */
    unreachableSince: bigint("unreachable_since", { mode: "number" }),
  },
  (t) => [uniqueIndex("rooms_platform_external").on(t.platform, t.externalId), index("rooms_pool").on(t.poolId)],
);

export const goals = pgTable(
  "goals",
  {
    id: integer("id").$type<GoalId>().primaryKey().generatedByDefaultAsIdentity(),
    poolId: integer("pool_id")
      .$type<PoolId>()
      .notNull()
      .references(() => pools.id),
    projectId: integer("project_id")
      .$type<ProjectId>()
      .notNull()
      .references(() => projects.id),
    text: text("text").notNull(),
    status: text("status", { enum: ["open", "done"] }).notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    createdBy: integer("created_by")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
    doneAt: bigint("done_at", { mode: "number" }),
    doneBy: integer("done_by")
      .$type<MemberId>()
      .references(() => members.id),
  },
  (t) => [index("goals_pool").on(t.poolId)],
);

/** One-time codes: pool invitations (bind a room) and identity links (join two identities). */
export const codes = pgTable("codes", {
  code: text("code").primaryKey(),
  purpose: text("purpose", { enum: ["invite", "link"] }).notNull(),
  poolId: integer("pool_id")
    .$type<PoolId>()
    .references(() => pools.id),
  memberId: integer("member_id")
    .$type<MemberId>()
    .notNull()
    .references(() => members.id),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
  expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
  usedAt: bigint("used_at", { mode: "number" }),
  usedBy: integer("used_by")
    .$type<MemberId>()
    .references(() => members.id),
});

export const accounts = pgTable(
  "accounts",
  {
    id: integer("id").$type<AccountId>().primaryKey().generatedByDefaultAsIdentity(),
    poolId: integer("pool_id")
      .$type<PoolId>()
      .notNull()
      .references(() => pools.id),
    kind: text("kind").$type<AccountKind>().notNull(),
    ownerId: bigint("owner_id", { mode: "number" }).notNull(),
    balance: bigint("balance", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("accounts_pool_kind_owner").on(t.poolId, t.kind, t.ownerId)],
);

export const entries = pgTable(
  "entries",
  {
    id: integer("id").$type<EntryId>().primaryKey().generatedByDefaultAsIdentity(),
    poolId: integer("pool_id")
      .$type<PoolId>()
      .notNull()
      .references(() => pools.id),
    fromAccount: integer("from_account")
      .$type<AccountId>()
      .notNull()
      .references(() => accounts.id),
    toAccount: integer("to_account")
      .$type<AccountId>()
      .notNull()
      .references(() => accounts.id),
    amount: bigint("amount", { mode: "number" }).notNull(),
    kind: text("kind").notNull(),
    memo: text("memo").notNull(),
    reverses: bigint("reverses", { mode: "number" }).$type<EntryId>(),
    requestId: text("request_id").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    createdBy: integer("created_by")
      .$type<MemberId>()
      .references(() => members.id),
  },
  (t) => [
    // With the amount, so that an account's sums (the audit) read the index alone; by pool in
    // time order, so that a round closed late finds what moved after its closing time.
    index("entries_from").on(t.fromAccount, t.amount),
    index("entries_to").on(t.toAccount, t.amount),
    index("entries_pool").on(t.poolId, t.createdAt),
    check("entries_amount_positive", sql`${t.amount} > 0`),
    check("entries_two_accounts", sql`${t.fromAccount} <> ${t.toAccount}`),
  ],
);

/**
 * What every message waiting to be sent carries: which process claimed it and until when (two
 * bot processes on one database never send it both), how often it was tried, and why it was
 * given up, if it was (a room the bot was removed from, an interaction that expired).
 */
const deliveryColumns = () => ({
  claimedBy: text("claimed_by"),
  claimedUntil: bigint("claimed_until", { mode: "number" }),
  attempts: bigint("attempts", { mode: "number" }).notNull().default(0),
  failedAt: bigint("failed_at", { mode: "number" }),
  failure: text("failure"),
});

/** Answers of mutating commands by request id: a replayed id gets the first answer back. */
export const requests = pgTable(
  "requests",
  {
    requestId: text("request_id").primaryKey(),
    command: text("command").notNull(),
    memberId: bigint("member_id", { mode: "number" }).$type<MemberId>(),
    reply: text("reply").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    /** Hash of the command's name and parsed values: a replay must be the same command (null in rows from before). */
    fingerprint: text("fingerprint"),
  },
  // requests_created: the storage job finds the ids past keepDays (src/services/storage.ts).
  (t) => [index("requests_created").on(t.createdAt)],
);

/** Messages for rooms, written in the command's transaction and delivered after commit. */
export const outbox = pgTable(
  "outbox",
  {
    id: integer("id").$type<OutboxId>().primaryKey().generatedByDefaultAsIdentity(),
    roomId: integer("room_id")
      .$type<RoomId>()
      .notNull()
      .references(() => rooms.id),
    kind: text("kind").notNull(),
    body: text("body").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    deliveredAt: bigint("delivered_at", { mode: "number" }),
    ...deliveryColumns(),
  },
  (t) => [index("outbox_pending").on(t.roomId, t.deliveredAt), index("outbox_undelivered").on(t.deliveredAt, t.id)],
);

/**
 * The answer to one command, keyed by its request id and written in the command's transaction
 * (or, for refusals, right after the rollback): the adapter sends it with an idempotency key
 * derived from the request id and marks it delivered, so a crash never answers a command twice.
 */
export const replies = pgTable(
  "replies",
  {
    requestId: text("request_id").primaryKey(),
    platform: text("platform").notNull(),
    /** JSON: where the answer goes, in the platform's terms (a Matrix room and event, a Discord interaction). */
    target: text("target").notNull(),
    /** JSON: the stored reply ({ ok, command, data } or { ok: false, code, message }). */
    body: text("body").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    deliveredAt: bigint("delivered_at", { mode: "number" }),
    ...deliveryColumns(),
    /** The platform user who sent the command: only they get the stored answer again (null in rows from before). */
    userId: text("user_id"),
    /** As in `requests`: hash of the command's name and values, null for input that did not parse. */
    fingerprint: text("fingerprint"),
  },
  // replies_created: the storage job finds the answers past keepDays.
  (t) => [index("replies_undelivered").on(t.platform, t.deliveredAt), index("replies_created").on(t.createdAt)],
);

// ---- Weighted labour: kinds of work, tasks, claims (issue 3). Weights are integer
// millionths (1.000000 = 1_000_000), so that 1.1^3 = 1.331 and 0.95^3 = 0.857375 are exact.

/** A kind of work and its pool-wide market weight. */
export const kinds = pgTable(
  "kinds",
  {
    id: integer("id").$type<KindId>().primaryKey().generatedByDefaultAsIdentity(),
    poolId: integer("pool_id")
      .$type<PoolId>()
      .notNull()
      .references(() => pools.id),
    name: text("name").notNull(),
    weight: bigint("weight", { mode: "number" }).notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("kinds_pool_name").on(t.poolId, t.name)],
);

/** Every change of a kind's market weight, with its reason: the audit trail of the weights. */
export const kindChanges = pgTable(
  "kind_changes",
  {
    id: integer("id").$type<KindChangeId>().primaryKey().generatedByDefaultAsIdentity(),
    kindId: integer("kind_id")
      .$type<KindId>()
      .notNull()
      .references(() => kinds.id),
    before: bigint("before", { mode: "number" }),
    after: bigint("after", { mode: "number" }).notNull(),
    reason: text("reason", { enum: ["new", "claim", "waitlist", "verify"] }).notNull(),
    taskId: bigint("task_id", { mode: "number" }).$type<TaskId>(),
    memberId: integer("member_id")
      .$type<MemberId>()
      .references(() => members.id),
    at: bigint("at", { mode: "number" }).notNull(),
  },
  (t) => [index("kind_changes_kind").on(t.kindId, t.at)],
);

export const tasks = pgTable(
  "tasks",
  {
    id: integer("id").$type<TaskId>().primaryKey().generatedByDefaultAsIdentity(),
    poolId: integer("pool_id")
      .$type<PoolId>()
      .notNull()
      .references(() => pools.id),
    projectId: integer("project_id")
      .$type<ProjectId>()
      .notNull()
      .references(() => projects.id),
    kindId: integer("kind_id")
      .$type<KindId>()
      .notNull()
      .references(() => kinds.id),
    title: text("title").notNull(),
    estimate: bigint("estimate", { mode: "number" }).notNull(),
    slots: bigint("slots", { mode: "number" }).notNull(),
    postedWeight: bigint("posted_weight", { mode: "number" }).notNull(),
    postedAt: bigint("posted_at", { mode: "number" }).notNull(),
    postedBy: integer("posted_by")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
    dueAt: bigint("due_at", { mode: "number" }),
    /** Start of the current stretch with an open slot; null while every slot is taken. */
    openSince: bigint("open_since", { mode: "number" }),
    /** Milliseconds with an open slot before the current stretch. */
    openMs: bigint("open_ms", { mode: "number" }).notNull(),
    cancelledAt: bigint("cancelled_at", { mode: "number" }),
    cancelledBy: integer("cancelled_by")
      .$type<MemberId>()
      .references(() => members.id),
    /** A production task makes `goodQty` units of this good; its credited work measures the effort. */
    goodId: bigint("good_id", { mode: "number" }).$type<GoodId>(),
    goodQty: bigint("good_qty", { mode: "number" }),
  },
  (t) => [
    index("tasks_pool").on(t.poolId),
    index("tasks_project").on(t.projectId),
    index("tasks_good").on(t.goodId),
    // Only the tasks with an open slot (boards after every task command): a pool's years of
    // finished tasks are not read to find them.
    index("tasks_open")
      .on(t.poolId)
      .where(sql`${t.openSince} IS NOT NULL`),
    // The boards' two orders of the tasks that take claims (not cancelled, an open slot), per
    // pool and per project: by posted weight, and by how long they have been open (a task's
    // open time at `now` is now - (open_since - open_ms)). A board reads the top of each, not
    // every open task (services/rooms.ts); `task list` pages the second. due_at and kind_id let
    // the counts of open tasks (all, and per kind for kind list) read the index alone.
    index("tasks_board_weight")
      .on(t.poolId, t.postedWeight, t.dueAt, t.kindId)
      .where(sql`${t.openSince} IS NOT NULL AND ${t.cancelledAt} IS NULL`),
    index("tasks_board_age")
      .on(t.poolId, sql`(${t.openSince} - ${t.openMs})`)
      .where(sql`${t.openSince} IS NOT NULL AND ${t.cancelledAt} IS NULL`),
    index("tasks_project_board_weight")
      .on(t.projectId, t.postedWeight, t.dueAt, t.kindId)
      .where(sql`${t.openSince} IS NOT NULL AND ${t.cancelledAt} IS NULL`),
    index("tasks_project_board_age")
      .on(t.projectId, sql`(${t.openSince} - ${t.openMs})`)
      .where(sql`${t.openSince} IS NOT NULL AND ${t.cancelledAt} IS NULL`),
    // Tasks cancelled in a summary's period (their kinds were in use in it).
    index("tasks_cancelled")
      .on(t.cancelledAt)
      .where(sql`${t.cancelledAt} IS NOT NULL`),
  ],
);

export const claims = pgTable(
  "claims",
  {
    id: integer("id").$type<ClaimId>().primaryKey().generatedByDefaultAsIdentity(),
    taskId: integer("task_id")
      .$type<TaskId>()
      .notNull()
      .references(() => tasks.id),
    memberId: integer("member_id")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
    weight: bigint("weight", { mode: "number" }).notNull(),
    status: text("status").$type<ClaimStatus>().notNull(),
    claimedAt: bigint("claimed_at", { mode: "number" }).notNull(),
    expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
    reportedAt: bigint("reported_at", { mode: "number" }),
    reportedHours: bigint("reported_hours", { mode: "number" }),
    note: text("note"),
    rejectReason: text("reject_reason"),
    verifiedAt: bigint("verified_at", { mode: "number" }),
    verifiedBy: integer("verified_by")
      .$type<MemberId>()
      .references(() => members.id),
    creditedHours: bigint("credited_hours", { mode: "number" }),
    credited: bigint("credited", { mode: "number" }),
    entryId: integer("entry_id")
      .$type<EntryId>()
      .references(() => entries.id),
    endedAt: bigint("ended_at", { mode: "number" }),
    endedBy: integer("ended_by")
      .$type<MemberId>()
      .references(() => members.id),
  },
  (t) => [
    index("claims_task").on(t.taskId),
    index("claims_member").on(t.memberId),
    index("claims_open").on(t.status, t.expiresAt),
    // Summaries read the period's claims (verified in it, claimed in it), not the history.
    index("claims_verified").on(t.verifiedAt),
    index("claims_claimed").on(t.claimedAt),
    // The work credit an entry stands for (the commons' share of a project's work, corrections).
    index("claims_entry").on(t.entryId),
  ],
);

/**
 * Every change of a task's due date (`task due`): the old date, the new one, who and when. A task
 * stops rising at its due date, so the days between an old date and its change never count.
 */
export const taskDueChanges = pgTable(
  "task_due_changes",
  {
    id: integer("id").$type<DueChangeId>().primaryKey().generatedByDefaultAsIdentity(),
    taskId: integer("task_id")
      .$type<TaskId>()
      .notNull()
      .references(() => tasks.id),
    before: bigint("before", { mode: "number" }),
    after: bigint("after", { mode: "number" }).notNull(),
    at: bigint("at", { mode: "number" }).notNull(),
    by: integer("by")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
  },
  (t) => [index("task_due_changes_task").on(t.taskId)],
);

/**
 * Volunteers who found a task's slots full; each lowered the kind's weight once. The row stays
 * when they later get a slot (`leftAt`), so that nobody lowers the same task's kind twice.
 */
export const waitlist = pgTable(
  "waitlist",
  {
    taskId: integer("task_id")
      .$type<TaskId>()
      .notNull()
      .references(() => tasks.id),
    memberId: integer("member_id")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
    at: bigint("at", { mode: "number" }).notNull(),
    leftAt: bigint("left_at", { mode: "number" }),
    /**
     * Order of arrival, for places that share a time: SQLite orders them by rowid, which
     * PostgreSQL has not (a rejoining member keeps the row, and so the place).
     */
    seq: integer("seq").generatedByDefaultAsIdentity(),
  },
  (t) => [uniqueIndex("waitlist_task_member").on(t.taskId, t.memberId)],
);

/** Notes for one member (released claims, rejected work, reopened slots), delivered after commit. */
export const memberNotes = pgTable(
  "member_notes",
  {
    id: integer("id").$type<NoteId>().primaryKey().generatedByDefaultAsIdentity(),
    poolId: integer("pool_id")
      .$type<PoolId>()
      .notNull()
      .references(() => pools.id),
    memberId: integer("member_id")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
    kind: text("kind").notNull(),
    body: text("body").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    deliveredAt: bigint("delivered_at", { mode: "number" }),
    ...deliveryColumns(),
    /** For one account only (a link's confirmation): its platform and user id; null: any account of the member. */
    onlyPlatform: text("platform"),
    onlyExternalId: text("external_id"),
  },
  (t) => [index("member_notes_pending").on(t.memberId, t.deliveredAt), index("member_notes_undelivered").on(t.deliveredAt, t.id)],
);

// ---- Goods (issue 4): production effort per unit in milli-hours, preference weights and
// clearing weights in millionths.

export const goods = pgTable(
  "goods",
  {
    id: integer("id").$type<GoodId>().primaryKey().generatedByDefaultAsIdentity(),
    poolId: integer("pool_id")
      .$type<PoolId>()
      .notNull()
      .references(() => pools.id),
    projectId: integer("project_id")
      .$type<ProjectId>()
      .notNull()
      .references(() => projects.id),
    name: text("name").notNull(),
    /** How people call it, as the project wrote it ("Bread Share"); found in any case. */
    displayName: text("display_name"),
    unit: text("unit").notNull(),
    model: text("model", { enum: ["per-unit", "flat-rate", "copyable", "durable"] }).notNull(),
    sector: text("sector"),
    declaredEffort: bigint("declared_effort", { mode: "number" }).notNull(),
    stock: bigint("stock", { mode: "number" }).notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    createdBy: integer("created_by")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
  },
  (t) => [
    uniqueIndex("goods_pool_name").on(t.poolId, t.name),
    // Catching up finds the flat-rate goods (of every pool) at the start of every command.
    index("goods_model").on(t.model, t.poolId),
    check("goods_stock_non_negative", sql`${t.stock} >= 0`),
  ],
);

/** Units added by `good produce`, with the effort per unit in force then (flat rates settle on it). */
export const productions = pgTable(
  "productions",
  {
    id: integer("id").$type<ProductionId>().primaryKey().generatedByDefaultAsIdentity(),
    goodId: integer("good_id")
      .$type<GoodId>()
      .notNull()
      .references(() => goods.id),
    qty: bigint("qty", { mode: "number" }).notNull(),
    effort: bigint("effort", { mode: "number" }).notNull(),
    at: bigint("at", { mode: "number" }).notNull(),
    by: integer("by")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
    /** The production task whose last verified slot added these units (null: `good produce`); once per task. */
    taskId: integer("task_id")
      .$type<TaskId>()
      .references(() => tasks.id),
  },
  (t) => [index("productions_good").on(t.goodId, t.at), uniqueIndex("productions_task").on(t.taskId)],
);

export const goodRequests = pgTable(
  "good_requests",
  {
    id: integer("id").$type<GoodRequestId>().primaryKey().generatedByDefaultAsIdentity(),
    goodId: integer("good_id")
      .$type<GoodId>()
      .notNull()
      .references(() => goods.id),
    memberId: integer("member_id")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
    qty: bigint("qty", { mode: "number" }).notNull(),
    filled: bigint("filled", { mode: "number" }).notNull(),
    weight: bigint("weight", { mode: "number" }).notNull(),
    status: text("status", { enum: ["pending", "allocated", "cancelled", "access"] }).notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    closedAt: bigint("closed_at", { mode: "number" }),
    /** When the member last changed the bid (weight or units); null: as made. Ties go to the earlier bid. */
    bidAt: bigint("bid_at", { mode: "number" }),
  },
  (t) => [
    // With the member: who took a copyable good is read from the index alone (copyableUsers).
    index("good_requests_good").on(t.goodId, t.status, t.memberId),
    index("good_requests_made").on(t.goodId, t.createdAt),
    // A member's waiting requests (every good request, `me`, what the credit limit holds).
    index("good_requests_member").on(t.memberId, t.status),
  ],
);

export const rounds = pgTable(
  "rounds",
  {
    id: integer("id").$type<RoundId>().primaryKey().generatedByDefaultAsIdentity(),
    goodId: integer("good_id")
      .$type<GoodId>()
      .notNull()
      .references(() => goods.id),
    openedAt: bigint("opened_at", { mode: "number" }).notNull(),
    closesAt: bigint("closes_at", { mode: "number" }).notNull(),
    closedAt: bigint("closed_at", { mode: "number" }),
    clearingWeight: bigint("clearing_weight", { mode: "number" }),
    supply: bigint("supply", { mode: "number" }),
    allocated: bigint("allocated", { mode: "number" }),
  },
  // By good and closing time: a good's last clearing weight and the rounds closed in a
  // summary's period are found without reading every round it ever had.
  (t) => [index("rounds_good").on(t.goodId, t.closedAt), index("rounds_due").on(t.closedAt, t.closesAt)],
);

/** Units a member took: at once (no round) or when a round closed. */
export const allocations = pgTable(
  "allocations",
  {
    id: integer("id").$type<AllocationId>().primaryKey().generatedByDefaultAsIdentity(),
    goodId: integer("good_id")
      .$type<GoodId>()
      .notNull()
      .references(() => goods.id),
    requestId: integer("request_id")
      .$type<GoodRequestId>()
      .notNull()
      .references(() => goodRequests.id),
    roundId: integer("round_id")
      .$type<RoundId>()
      .references(() => rounds.id),
    memberId: integer("member_id")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
    qty: bigint("qty", { mode: "number" }).notNull(),
    effort: bigint("effort", { mode: "number" }).notNull(),
    weight: bigint("weight", { mode: "number" }).notNull(),
    cost: bigint("cost", { mode: "number" }).notNull(),
    at: bigint("at", { mode: "number" }).notNull(),
  },
  (t) => [index("allocations_good").on(t.goodId, t.at)],
);

export const subscriptions = pgTable(
  "subscriptions",
  {
    id: integer("id").$type<SubscriptionId>().primaryKey().generatedByDefaultAsIdentity(),
    goodId: integer("good_id")
      .$type<GoodId>()
      .notNull()
      .references(() => goods.id),
    memberId: integer("member_id")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
    since: bigint("since", { mode: "number" }).notNull(),
    until: bigint("until", { mode: "number" }),
  },
  // By good and end: a good's running subscriptions are counted without its past ones.
  (t) => [index("subscriptions_good").on(t.goodId, t.until), index("subscriptions_member").on(t.memberId, t.until)],
);

/** One row per flat-rate good and settled period: a period is never settled twice. */
export const settlements = pgTable(
  "settlements",
  {
    id: integer("id").$type<SettlementId>().primaryKey().generatedByDefaultAsIdentity(),
    goodId: integer("good_id")
      .$type<GoodId>()
      .notNull()
      .references(() => goods.id),
    periodStart: bigint("period_start", { mode: "number" }).notNull(),
    periodEnd: bigint("period_end", { mode: "number" }).notNull(),
    effort: bigint("effort", { mode: "number" }).notNull(),
    subscribers: bigint("subscribers", { mode: "number" }).notNull(),
    at: bigint("at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("settlements_good_period").on(t.goodId, t.periodStart)],
);

export const loans = pgTable(
  "loans",
  {
    id: integer("id").$type<LoanId>().primaryKey().generatedByDefaultAsIdentity(),
    goodId: integer("good_id")
      .$type<GoodId>()
      .notNull()
      .references(() => goods.id),
    memberId: integer("member_id")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
    borrowedAt: bigint("borrowed_at", { mode: "number" }).notNull(),
    dueAt: bigint("due_at", { mode: "number" }).notNull(),
    returnedAt: bigint("returned_at", { mode: "number" }),
    charged: bigint("charged", { mode: "number" }),
    /** When the loan passed its due date unreturned (its borrower was told then); null: not overdue. */
    overdueAt: bigint("overdue_at", { mode: "number" }),
  },
  // loans_due: catching up finds the first loan falling overdue at the start of every command.
  // loans_good by good and return: a good's loans still out are counted without its past ones.
  (t) => [index("loans_good").on(t.goodId, t.returnedAt), index("loans_due").on(t.returnedAt, t.overdueAt, t.dueAt)],
);

/** Slots of the scheduler's jobs that have run: a slot never runs twice, also with two processes. */
export const jobRuns = pgTable(
  "job_runs",
  {
    job: text("job").notNull(),
    slot: bigint("slot", { mode: "number" }).notNull(),
    ranAt: bigint("ran_at", { mode: "number" }).notNull(),
    outcome: text("outcome").notNull(),
  },
  (t) => [primaryKey({ columns: [t.job, t.slot] })],
);

// ---- Rooms' announcements (issue 7): switches, live task boards, neglected-work notices.

/** Kinds of announcement a room has switched off (`pool announcements <kind> off`). */
export const roomMutes = pgTable(
  "room_mutes",
  {
    roomId: integer("room_id")
      .$type<RoomId>()
      .notNull()
      .references(() => rooms.id),
    kind: text("kind").notNull(),
    mutedAt: bigint("muted_at", { mode: "number" }).notNull(),
    mutedBy: integer("muted_by")
      .$type<MemberId>()
      .notNull()
      .references(() => members.id),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.kind] })],
);

/**
 * A room's live task board: what it shows now (to tell a change from none) and, once an adapter
 * has posted it, the platform's id of the message that is edited in place.
 */
export const boards = pgTable("boards", {
  roomId: bigint("room_id", { mode: "number" })
    .$type<RoomId>()
    .primaryKey()
    .references(() => rooms.id),
  body: text("body").notNull(),
  updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
  messageId: text("message_id"),
});

/** Tasks a room has been told are neglected: each is named once per room. */
export const roomNotices = pgTable(
  "room_notices",
  {
    roomId: integer("room_id")
      .$type<RoomId>()
      .notNull()
      .references(() => rooms.id),
    taskId: integer("task_id")
      .$type<TaskId>()
      .notNull()
      .references(() => tasks.id),
    noticedAt: bigint("noticed_at", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.taskId] })],
);
