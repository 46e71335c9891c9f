// What the services need from storage. `db/` implements it (SQLite now, PostgreSQL later),
// so nothing here knows about better-sqlite3 or SQL. Every call is async so that a
// networked database fits the same shape; the SQLite store answers them synchronously under
// the hood, inside one serialised transaction.
//
// The rows are the schema's (db/schema.ts), as drizzle infers them: a type-only import, erased
// when compiled, so the kernel still loads nothing of db/ (.dependency-cruiser.mjs allows this
// one import, types only). A column that holds fewer values than its SQL type says (a status,
// a kind of account) is narrowed there, with drizzle's enum or $type.
import type * as schema from "../db/schema.ts";
import type { AnnouncementKind, NoteKind } from "./core/announcements.ts";
import type {
  AccountId,
  AllocationId,
  ClaimId,
  EntryId,
  GoalId,
  GoodId,
  GoodRequestId,
  KindId,
  LoanId,
  MemberId,
  NoteId,
  OutboxId,
  PoolId,
  ProjectId,
  RoomId,
  RoundId,
  SettlementId,
  SubscriptionId,
  TaskId,
} from "./core/ids.ts";
import type { AccountKind } from "./core/ledger.ts";
import type { ClaimStatus } from "./core/tasks.ts";

/** A table's row as drizzle infers it from the schema. */
type Select<T extends { $inferSelect: object }> = T["$inferSelect"];
/**
 * A row as the services see it: read-only. `Later`: columns added after rows were first
 * written, optional here so that code that builds a row (an insert, a test's fixture) may
 * leave them out; read back they are always there (null where unset).
 */
type Row<R extends object, Later extends keyof R = never> = Readonly<Omit<R, Later> & Partial<Pick<R, Later>>>;

/** A pool; the pool's time `clock` is the latest moment a command ran in it or the scheduler ran (0 before any). Its boards' mark is the store's own (markBoards). */
export type PoolRow = Row<Omit<Select<typeof schema.pools>, "boardsDirtyAt">, "clock">;

export type MemberRow = Row<Select<typeof schema.members>>;

export type IdentityRow = Row<Pick<Select<typeof schema.identities>, "platform" | "externalId" | "memberId">>;

export type PoolRole = MembershipRow["role"];

export type MembershipRow = Row<Select<typeof schema.memberships>>;

export type ProjectRow = Row<Select<typeof schema.projects>>;

/** `unreachableSince`: when the platform refused the bot there (kicked, banned, access removed); null while reachable. */
export type RoomRow = Row<Select<typeof schema.rooms>>;

export type GoalRow = Row<Select<typeof schema.goals>>;

export type CodeRow = Row<Select<typeof schema.codes>>;

export type AccountRow = Row<Select<typeof schema.accounts>>;

export type EntryRow = Row<Select<typeof schema.entries>>;

export type NewEntry = Omit<EntryRow, "id">;

/** `fingerprint`: hash of the command's name and parsed values (null in rows from before it was kept). */
export type RequestRow = Row<Select<typeof schema.requests>, "fingerprint">;

/** A task that has an open slot, as boards and notices need it. */
export type OpenTaskRow = Pick<TaskRow, "id" | "projectId" | "kindId" | "title" | "postedWeight" | "estimate" | "slots" | "openMs" | "openSince" | "dueAt"> & {
  /** Claims holding a slot: active, reported or verified. */
  readonly taken: number;
};

/** A task that takes claims, as boards and the open task list read it: with its project's and kind's names. */
export type OpenTaskLine = OpenTaskRow & {
  /** The project's short name. */
  readonly project: string;
  /** The kind's name. */
  readonly kind: string;
};

/** The tasks task list shows: those in one state, the overdue ones (open or claimed), or all. */
export type TaskListState = "open" | "claimed" | "done" | "cancelled" | "overdue" | "all";

/**
 * Which tasks that take claims at `now` (an open slot, not cancelled, not past their due date):
 * the pool's, or one project's; of one kind only if given.
 */
export interface OpenTaskScope {
  readonly poolId: PoolId;
  readonly projectId?: ProjectId;
  readonly kindId?: KindId;
  readonly now: number;
}

export type BoardRow = Row<Select<typeof schema.boards>>;

/**
 * A message for a room. `kind` is an AnnouncementKind when this version queued it; read back it
 * stays a string, since a newer version may have queued a kind this one does not know
 * (readAnnouncement says so). `body` is JSON: the announcement's body (src/core/announcements.ts).
 */
export type OutboxRow = Row<Omit<Select<typeof schema.outbox>, schema.DeliveryColumn>>;

/**
 * The answer to one command, waiting to be sent (or sent): see `replies` in db/schema.ts. Its
 * idempotency key is `reply:<requestId>`.
 */
/**
 * The answer to one command, waiting to be sent (or sent): see `replies` in db/schema.ts. Its
 * idempotency key is `reply:<requestId>`. `target` is JSON, where the answer goes in the
 * platform's terms; `body` JSON, a StoredReply (commands/dispatch.ts).
 */
export type ReplyRow = Row<Omit<Select<typeof schema.replies>, "claimedBy" | "claimedUntil">, "userId" | "fingerprint">;

/** What became of one attempt to send a message. */
export type DeliveryOutcome =
  /** The platform has it (or had it already: a repeated idempotency key). */
  | { readonly delivered: number }
  /** A transient failure (network, 5xx, rate limit): try again from `retryAt`. */
  | { readonly retryAt: number; readonly error: string }
  /** It can never be sent (the bot was removed from the room, the interaction expired): given up. */
  | { readonly failedAt: number; readonly reason: string };

/** One message to send: which table it is in, and its row id there. */
export type DeliveryRef =
  { readonly kind: "reply"; readonly id: string } | { readonly kind: "outbox"; readonly id: OutboxId } | { readonly kind: "note"; readonly id: NoteId };

/**
 * The idempotency key of a message: stable across crashes and processes, derived from its row.
 * Adapters turn it into the platform's own key (Matrix txnId, Discord nonce).
 */
export function deliveryKey(ref: DeliveryRef): string {
  return ref.kind === "reply" ? `reply:${ref.id}` : `${ref.kind}:${ref.id}`;
}

/** How a process claims messages before it sends them, so that two processes never send one twice. */
export interface ClaimOptions {
  /** This process's name for its claims (unique per process). */
  readonly owner: string;
  readonly now: number;
  /** How long the claim holds: a process that died holding it is replaced after this. */
  readonly leaseMs: number;
  readonly limit: number;
}

/** A kind of work; `weight`, its market weight, in millionths. */
export type KindRow = Row<Select<typeof schema.kinds>>;

export type KindChangeRow = Row<Select<typeof schema.kindChanges>>;

/** A change of a task's due date (`task due`). */
export type TaskDueChangeRow = Row<Select<typeof schema.taskDueChanges>>;

/** A task; `estimate` in milli-hours. */
export type TaskRow = Row<Select<typeof schema.tasks>>;

/** Where a claim stands: the core's type (src/core/tasks.ts), which the column holds. */
export type { ClaimStatus };

export type ClaimRow = Row<Select<typeof schema.claims>>;

export type GoodModel = GoodRow["model"];

/** A good; `declaredEffort`, the effort per unit the project declared, in milli-hours. */
export type GoodRow = Row<Select<typeof schema.goods>>;

/** Units produced; `taskId`, the production task whose last verified slot added them (null for `good produce`). */
export type ProductionRow = Row<Select<typeof schema.productions>, "taskId">;

export type RequestStatus = GoodRequestRow["status"];

/** A request for a good; `bidAt`: when the member last changed the bid (null: as made); ties go to the earlier bid. */
export type GoodRequestRow = Row<Select<typeof schema.goodRequests>, "bidAt">;

export type RoundRow = Row<Select<typeof schema.rounds>>;

export type AllocationRow = Row<Select<typeof schema.allocations>>;

export type SubscriptionRow = Row<Select<typeof schema.subscriptions>>;

/** A loan; `overdueAt`: when it passed its due date unreturned (and its borrower was told); null: not overdue. */
export type LoanRow = Row<Select<typeof schema.loans>, "overdueAt">;

/** Verified work on production tasks of a good: what measures its effort per unit. */
export interface MeasuredEffort {
  readonly units: number;
  readonly effort: number;
}

/**
 * A note to one member. `kind` is a NoteKind when this version queued it; read back a string,
 * as OutboxRow's kind (readNote checks it). `body` is JSON (src/core/announcements.ts).
 * `onlyPlatform` and `onlyExternalId`: for one account of the member only; null: any of them.
 */
export type NoteRow = Row<Omit<Select<typeof schema.memberNotes>, schema.DeliveryColumn>, "onlyPlatform" | "onlyExternalId">;

/** Rows the storage job deleted, by kind. */
export interface PruneCounts {
  readonly replies: number;
  readonly requests: number;
  readonly outbox: number;
  readonly notes: number;
}

export interface AccountNet {
  readonly account: AccountRow;
  readonly net: number;
}

/**
 * What has come due, in every pool (services/catch-up.ts): the earliest deadline of an active
 * claim, closing time of an open round and due date of a loan out and not marked overdue yet
 * (null: none); and per pool with flat-rate goods, its policy (JSON) and the earliest moment not
 * settled yet of any of them (where its last settled period ended, or its creation).
 */
export interface Deadlines {
  readonly claim: number | null;
  readonly round: number | null;
  readonly loan: number | null;
  readonly unsettled: ReadonlyArray<{ readonly poolId: PoolId; readonly policy: string; readonly since: number }>;
}

/** Whose command, where, under which request id (Tx.opening). */
export interface OpeningQuery {
  readonly requestId: string;
  /** Whether to read the answer stored under the request id too (a chat command's). */
  readonly withReply: boolean;
  readonly platform: string;
  readonly userId: string;
  readonly roomId: string;
}

/**
 * What a command reads before it decides anything: a network database answers it in one round
 * trip instead of nine (commands/dispatch.ts, services/context.ts).
 */
export interface Opening {
  /** The answer stored under the request id (undefined when not asked for). */
  readonly reply: ReplyRow | undefined;
  /** The command recorded under the request id. */
  readonly request: RequestRow | undefined;
  /** The member the caller's platform identity points at (which may have been merged into another). */
  readonly member: MemberRow | undefined;
  /** The room, if it is bound to a pool. */
  readonly room: RoomRow | undefined;
  /** The room's pool. */
  readonly pool: PoolRow | undefined;
  /** That member's membership of the room's pool. */
  readonly membership: MembershipRow | undefined;
  readonly deadlines: Deadlines;
}

/**
 * A task and what deciding on it reads, loaded together: its claims (by id), who waits for it
 * (in the order they came), its project and kind, and the handles of every member these name
 * (who posted it, claimed it, verified a claim, waits).
 */
export interface TaskAggregate {
  readonly task: TaskRow;
  readonly claims: ClaimRow[];
  readonly waitlist: Array<{ memberId: MemberId; at: number }>;
  readonly project: ProjectRow;
  readonly kind: KindRow;
  readonly handles: ReadonlyMap<MemberId, string>;
}

/** One unit of work: everything a command reads and writes, committed or rolled back together. */
export interface Tx {
  // pools
  insertPool(p: Omit<PoolRow, "id">): Promise<PoolId>;
  pool(id: PoolId): Promise<PoolRow | undefined>;
  pools(): Promise<PoolRow[]>;
  setPoolPolicy(id: PoolId, policy: string): Promise<void>;
  /** Moves the pool's clock (every pool's, without `poolId`) forward to `at`; it never goes back. */
  advanceClock(at: number, poolId?: PoolId): Promise<void>;
  /**
   * What a command that changed the pool records in it, in one statement: its clock moves forward
   * to `at` (never back) and, with `boards`, its boards are marked for a rebuild (as markBoards).
   */
  touchPool(poolId: PoolId, at: number, o: { readonly boards: boolean }): Promise<void>;
  /**
   * What every command reads first, in one query: what is stored under its request id, who the
   * caller is, where they speak, and what has come due (see Opening).
   */
  opening(q: OpeningQuery): Promise<Opening>;

  // members and identities
  identity(platform: string, externalId: string): Promise<IdentityRow | undefined>;
  identitiesOf(memberId: MemberId): Promise<IdentityRow[]>;
  insertMember(handle: string, createdAt: number): Promise<MemberId>;
  insertIdentity(i: IdentityRow & { createdAt: number }): Promise<void>;
  moveIdentities(fromMember: MemberId, toMember: MemberId): Promise<void>;
  markMerged(memberId: MemberId, into: MemberId): Promise<void>;
  /**
   * Linking: moves every row the member holds to `toMember`, in one go (which columns, and why
   * the others stay: MEMBER_COLUMNS in src/services/members.ts). Where both hold one: pool
   * memberships merge (the higher role, the earlier joining), so do coordinator seats (the
   * earlier) and waitlist places (the earlier arrival, still waiting if either was), and of two
   * running subscriptions to one good the later one ends at `at`. Claims, requests, loans,
   * allocations, notes and request ids simply move (the services settle two slots on one task
   * first). Balances are not touched: they move by ledger entries.
   */
  mergeMemberRows(fromMember: MemberId, toMember: MemberId, at: number): Promise<void>;
  member(id: MemberId): Promise<MemberRow | undefined>;
  memberByHandle(handle: string): Promise<MemberRow | undefined>;

  // memberships
  membership(poolId: PoolId, memberId: MemberId): Promise<MembershipRow | undefined>;
  membershipsOf(memberId: MemberId): Promise<MembershipRow[]>;
  insertMembership(m: MembershipRow): Promise<void>;
  setRole(poolId: PoolId, memberId: MemberId, role: PoolRole): Promise<void>;
  members(poolId: PoolId): Promise<Array<MembershipRow & { handle: string }>>;

  // projects and coordinators
  insertProject(p: Omit<ProjectRow, "id">): Promise<ProjectId>;
  project(id: ProjectId): Promise<ProjectRow | undefined>;
  projectBySlug(poolId: PoolId, slug: string): Promise<ProjectRow | undefined>;
  projects(poolId: PoolId): Promise<ProjectRow[]>;
  coordinators(projectId: ProjectId): Promise<Array<{ memberId: MemberId; handle: string; addedAt: number }>>;
  coordinatorProjects(poolId: PoolId, memberId: MemberId): Promise<ProjectRow[]>;
  insertCoordinator(projectId: ProjectId, memberId: MemberId, addedAt: number): Promise<void>;
  deleteCoordinator(projectId: ProjectId, memberId: MemberId): Promise<void>;

  // rooms
  room(platform: string, externalId: string): Promise<RoomRow | undefined>;
  rooms(poolId: PoolId): Promise<RoomRow[]>;
  insertRoom(r: Omit<RoomRow, "id" | "unreachableSince">): Promise<RoomId>;
  /** Marks a room reachable again (null) or refused by its platform since `at`. */
  setRoomUnreachable(roomId: RoomId, at: number | null): Promise<void>;
  setRoomProject(roomId: RoomId, projectId: ProjectId | null): Promise<void>;

  // goals
  insertGoal(g: Omit<GoalRow, "id">): Promise<GoalId>;
  goal(id: GoalId): Promise<GoalRow | undefined>;
  goals(poolId: PoolId, filter: { projectId?: ProjectId | undefined; status?: "open" | "done" | undefined }): Promise<GoalRow[]>;
  finishGoal(id: GoalId, doneAt: number, doneBy: MemberId): Promise<void>;

  // one-time codes
  insertCode(c: CodeRow): Promise<void>;
  code(code: string): Promise<CodeRow | undefined>;
  useCode(code: string, usedAt: number, usedBy: MemberId): Promise<void>;

  // ledger
  account(poolId: PoolId, kind: AccountKind, ownerId: number): Promise<AccountRow | undefined>;
  accountById(id: AccountId): Promise<AccountRow | undefined>;
  insertAccount(a: Omit<AccountRow, "id" | "balance">): Promise<AccountId>;
  /** Appends an entry and moves the two balances, in the same transaction. */
  insertEntry(e: NewEntry): Promise<EntryId>;
  /** Appends entries in order (one prepared statement each), moving the balances; their ids in order. */
  insertEntries(es: readonly NewEntry[]): Promise<EntryId[]>;
  /**
   * The member accounts (with balances) of the members who have a waiting request for the good, in one query.
   * With `asOf`, each balance is as of that time: the sum of the entries dated at or before it
   * (the running balance less what moved after it, read from the entries dated later only).
   */
  pendingMemberAccounts(poolId: PoolId, goodId: GoodId, asOf?: number): Promise<Array<{ memberId: MemberId; handle: string; account: AccountRow }>>;
  entry(id: EntryId): Promise<EntryRow | undefined>;
  reversalOf(entryId: EntryId): Promise<EntryRow | undefined>;
  entriesOf(accountId: AccountId, limit: number): Promise<EntryRow[]>;
  /** Every account of the pool with the net of its entries, and how many entries the pool has. */
  auditFacts(poolId: PoolId): Promise<{ accounts: AccountNet[]; entries: number }>;

  // kinds of work and their market weights
  kind(poolId: PoolId, name: string): Promise<KindRow | undefined>;
  kindById(id: KindId): Promise<KindRow | undefined>;
  kinds(poolId: PoolId): Promise<KindRow[]>;
  insertKind(k: Omit<KindRow, "id">): Promise<KindId>;
  setKindWeight(kindId: KindId, weight: number): Promise<void>;
  insertKindChange(c: Omit<KindChangeRow, "id">): Promise<void>;
  /** Changes of a kind's weight, oldest first, from `since` on. */
  kindChanges(kindId: KindId, since: number): Promise<KindChangeRow[]>;

  // tasks, claims and waitlists
  insertTask(t: Omit<TaskRow, "id">): Promise<TaskId>;
  task(id: TaskId): Promise<TaskRow | undefined>;
  /** With `open`, only tasks that have an open slot now (openSince set). */
  tasks(poolId: PoolId, filter: { projectId?: ProjectId; kindId?: KindId; open?: boolean }): Promise<TaskRow[]>;
  setTaskOpen(taskId: TaskId, openSince: number | null, openMs: number): Promise<void>;
  cancelTask(taskId: TaskId, at: number, by: MemberId): Promise<void>;
  /** Sets a task's due date and records the change. */
  setTaskDue(c: Omit<TaskDueChangeRow, "id">): Promise<void>;
  /** The due date changes of the listed tasks, oldest first. */
  dueChangesOf(taskIds: readonly TaskId[]): Promise<TaskDueChangeRow[]>;
  claimsOf(taskId: TaskId): Promise<ClaimRow[]>;
  /** Every claim the member made, in every pool, oldest first. */
  claimsOfMember(memberId: MemberId): Promise<ClaimRow[]>;
  /** Claims of every listed task, in one query. */
  claimsOfTasks(taskIds: readonly TaskId[]): Promise<ClaimRow[]>;
  claim(id: ClaimId): Promise<ClaimRow | undefined>;
  /** The claim whose verification posted this work entry, if any. */
  claimOfEntry(entryId: EntryId): Promise<ClaimRow | undefined>;
  insertClaim(c: Omit<ClaimRow, "id">): Promise<ClaimId>;
  updateClaim(id: ClaimId, patch: Partial<Omit<ClaimRow, "id" | "taskId" | "memberId">>): Promise<void>;
  /** Active claims (not reported) whose time ran out by `now`, in every pool. */
  expiredClaims(now: number): Promise<ClaimRow[]>;
  /**
   * A task with everything a decision on it reads, in one query (see TaskAggregate); undefined
   * when there is no such task.
   */
  taskAggregate(id: TaskId): Promise<TaskAggregate | undefined>;
  /** Who waits for a slot of the task now, in the order they came. */
  waitlistOf(taskId: TaskId): Promise<Array<{ memberId: MemberId; at: number }>>;
  /** The waitlists of several tasks at once, each in its order (for lists). */
  waitlistsOfTasks(taskIds: readonly TaskId[]): Promise<Array<{ taskId: TaskId; memberId: MemberId; at: number }>>;
  /** Whether the member ever waited for this task (and so lowered its kind's weight once). */
  waitedBefore(taskId: TaskId, memberId: MemberId): Promise<boolean>;
  /** Puts the member on the waitlist, or back on it (keeping their first place in time). */
  joinWaitlist(taskId: TaskId, memberId: MemberId, at: number): Promise<void>;
  leaveWaitlist(taskId: TaskId, memberId: MemberId, at: number): Promise<void>;

  // goods
  insertGood(g: Omit<GoodRow, "id">): Promise<GoodId>;
  good(id: GoodId): Promise<GoodRow | undefined>;
  goodByName(poolId: PoolId, name: string): Promise<GoodRow | undefined>;
  goods(poolId: PoolId, filter: { projectId?: ProjectId | undefined; sector?: string | undefined }): Promise<GoodRow[]>;
  /**
   * Whether the project (of the pool) has goods and every one of them is copyable: then no good
   * recovers its work, and the commons carries it (services/projects.ts, carriedByCommons). Run
   * at every verification: it stops at the project's first good that is not copyable rather
   * than reading all of the project's goods.
   */
  onlyCopyableGoods(poolId: PoolId, projectId: ProjectId): Promise<boolean>;
  setStock(goodId: GoodId, stock: number): Promise<void>;
  insertProduction(p: Omit<ProductionRow, "id">): Promise<void>;
  /** The units a production task added, if it did. */
  productionOfTask(taskId: TaskId): Promise<ProductionRow | undefined>;
  productions(goodId: GoodId, from: number, to: number): Promise<ProductionRow[]>;
  /** Units and credited effort of the good's production tasks that are done (every slot verified, not cancelled). */
  /** With `asOf`: as it stood then (the tasks whose every slot was verified by then). */
  measuredEffort(goodId: GoodId, asOf?: number): Promise<MeasuredEffort>;
  insertGoodRequest(r: Omit<GoodRequestRow, "id">): Promise<GoodRequestId>;
  goodRequest(id: GoodRequestId): Promise<GoodRequestRow | undefined>;
  goodRequestsOf(goodId: GoodId, status: RequestStatus): Promise<GoodRequestRow[]>;
  /** The member's waiting requests for any good of the pool. */
  pendingRequestsOfMember(poolId: PoolId, memberId: MemberId): Promise<GoodRequestRow[]>;
  /** How many requests wait for the good, and for how many units, counted in SQL. */
  pendingTotals(goodId: GoodId): Promise<{ requests: number; units: number }>;
  updateGoodRequest(id: GoodRequestId, patch: Partial<Pick<GoodRequestRow, "filled" | "status" | "closedAt" | "qty" | "weight" | "bidAt">>): Promise<void>;
  /** Sets each request's filled units, status and closing time (a round's winners, in one go). */
  fillGoodRequests(fills: ReadonlyArray<Pick<GoodRequestRow, "id" | "filled" | "status" | "closedAt">>): Promise<void>;
  openRound(goodId: GoodId): Promise<RoundRow | undefined>;
  /** The last round that handed units out (and so has a clearing weight). */
  lastClosedRound(goodId: GoodId): Promise<RoundRow | undefined>;
  insertRound(r: Omit<RoundRow, "id">): Promise<RoundId>;
  /** Rounds of the good closed in [from, to), oldest first. */
  roundsClosed(goodId: GoodId, from: number, to: number): Promise<RoundRow[]>;
  closeRound(id: RoundId, patch: { closedAt: number; clearingWeight: number | null; supply: number; allocated: number }): Promise<void>;
  /** Open rounds whose closing time has come, in every pool, oldest first. */
  dueRounds(now: number): Promise<RoundRow[]>;
  insertAllocation(a: Omit<AllocationRow, "id">): Promise<AllocationId>;
  insertAllocations(as: ReadonlyArray<Omit<AllocationRow, "id">>): Promise<AllocationId[]>;
  allocationsOf(goodId: GoodId, since: number): Promise<AllocationRow[]>;
  subscriptions(goodId: GoodId): Promise<SubscriptionRow[]>;
  /** The member's running subscriptions (any pool), oldest first. */
  runningSubscriptionsOf(memberId: MemberId): Promise<SubscriptionRow[]>;
  insertSubscription(s: Omit<SubscriptionRow, "id">): Promise<void>;
  endSubscription(id: SubscriptionId, until: number): Promise<void>;
  settlement(goodId: GoodId, periodStart: number): Promise<{ id: SettlementId } | undefined>;
  /** Where the good's last settled period ended (null before the first). */
  lastSettlementEnd(goodId: GoodId): Promise<number | null>;
  insertSettlement(s: { goodId: GoodId; periodStart: number; periodEnd: number; effort: number; subscribers: number; at: number }): Promise<void>;
  /** Flat-rate goods of every pool, for the settlement job. */
  flatRateGoods(): Promise<GoodRow[]>;
  insertLoan(l: Omit<LoanRow, "id">): Promise<LoanId>;
  loan(id: LoanId): Promise<LoanRow | undefined>;
  loansOf(goodId: GoodId): Promise<LoanRow[]>;
  returnLoan(id: LoanId, returnedAt: number, charged: number): Promise<void>;
  /** Loans out (not returned) in the pool, or of one member there, oldest first. */
  openLoans(poolId: PoolId, memberId?: MemberId): Promise<LoanRow[]>;
  /** Loans out past their due date by `now` not yet marked overdue, in every pool (or one), earliest due first. */
  loansFallingOverdue(now: number, poolId?: PoolId): Promise<LoanRow[]>;
  markLoanOverdue(id: LoanId, at: number): Promise<void>;

  // the scheduler's slots
  jobRan(job: string, slot: number): Promise<boolean>;
  lastJobSlot(job: string): Promise<number | undefined>;
  insertJobRun(r: { job: string; slot: number; ranAt: number; outcome: string }): Promise<void>;

  // catching up (services/catch-up.ts), before every command: what has come due, found cheaply
  /**
   * The earliest deadline of an active claim, closing time of an open round and due date of a
   * loan out and not marked overdue yet, in every pool (null: none).
   */
  nextDeadlines(): Promise<Deadlines>;
  /** The pool's verified work credited by the commons, per project and good (null: a task without a good). */
  commonsWork(poolId: PoolId): Promise<Array<{ projectId: ProjectId; goodId: GoodId | null; amount: number }>>;
  /** How many members ever took each of the pool's copyable goods (only the project's, given one). */
  copyableUsers(poolId: PoolId, projectId?: ProjectId): Promise<Array<{ goodId: GoodId; members: number }>>;

  // rooms' announcements: switches, live boards, neglected-work notices
  /** Announcement kinds switched off in the pool's rooms. */
  roomMutes(poolId: PoolId): Promise<Array<{ roomId: RoomId; kind: string }>>;
  setRoomMute(roomId: RoomId, kind: string, muted: { at: number; by: MemberId } | null): Promise<void>;
  board(roomId: RoomId): Promise<BoardRow | undefined>;
  /** Records what the room's board shows now (the message id stays). */
  putBoard(roomId: RoomId, body: string, at: number): Promise<void>;
  /** Forgets the room's board (switched off): the next board is a new message. */
  deleteBoard(roomId: RoomId): Promise<void>;
  /** The pool's tasks with an open slot now, with how many slots are taken: what boards list. */
  openTasks(poolId: PoolId): Promise<OpenTaskRow[]>;
  /**
   * The first `limit` (after `offset`) tasks of the scope in one of two orders, each read from
   * an index: "weight", highest posted weight first; "age", longest open first (open time at
   * now is now - (openSince - openMs), for tasks opened by now), then lowest id. Reads only
   * those rows, not the scope's every open task.
   */
  openTasksBy(scope: OpenTaskScope, order: "weight" | "age", limit: number, offset?: number): Promise<OpenTaskLine[]>;
  /**
   * A page of the scope's tasks in a state at its `now` ("overdue": open or claimed past the due
   * date; "open": open and not overdue; "all"), in task list's order: open, claimed, done,
   * cancelled, each longest open first, then lowest id; with how many there are on all pages.
   * Each task's state comes from its claims, counted in SQL: no task or claim is read into memory.
   */
  taskPage(
    scope: Omit<OpenTaskScope, "now"> & { readonly now: number },
    state: TaskListState,
    limit: number,
    offset: number,
  ): Promise<{ ids: TaskId[]; total: number }>;
  /** How many tasks of the scope take claims at its `now` (counted in an index). */
  countOpenTasks(scope: OpenTaskScope): Promise<number>;
  /** For each kind of the pool with tasks that take claims at `now`, how many. */
  openTasksPerKind(poolId: PoolId, now: number): Promise<Array<{ kindId: KindId; open: number }>>;
  /** Marks the pool's boards for a rebuild (keeps the latest time of the marks). */
  markBoards(poolId: PoolId, at: number): Promise<void>;
  /** The pools whose boards are marked for a rebuild, with the latest mark's time. */
  markedBoards(): Promise<Array<{ poolId: PoolId; at: number }>>;
  /** The pool's boards were rebuilt: its mark goes. */
  clearBoardsMark(poolId: PoolId): Promise<void>;
  /** Tasks already named as neglected in the room. */
  noticedTasks(roomId: RoomId): Promise<TaskId[]>;
  insertNotice(n: { roomId: RoomId; taskId: TaskId; noticedAt: number }): Promise<void>;
  /** When the room was last sent an announcement of this kind (queued, delivered or not). */
  lastOutboxAt(roomId: RoomId, kind: AnnouncementKind): Promise<number | undefined>;

  // notes to one member
  insertNote(n: Omit<NoteRow, "id" | "deliveredAt" | "kind"> & { readonly kind: NoteKind }): Promise<NoteId>;
  /** Notes to several members (a round's outcome), in order. */
  insertNotes(ns: ReadonlyArray<Omit<NoteRow, "id" | "deliveredAt" | "onlyPlatform" | "onlyExternalId" | "kind"> & { readonly kind: NoteKind }>): Promise<void>;

  // idempotency and delivery
  request(requestId: string): Promise<RequestRow | undefined>;
  insertRequest(r: RequestRow): Promise<void>;
  insertOutbox(o: Omit<OutboxRow, "id" | "deliveredAt" | "kind"> & { readonly kind: AnnouncementKind }): Promise<OutboxId>;
  /** The stored answer to a request, if one was recorded. */
  reply(requestId: string): Promise<ReplyRow | undefined>;
  /** Records the answer to a request; a second answer to the same request id is ignored. */
  insertReply(r: Omit<ReplyRow, "deliveredAt" | "attempts" | "failedAt" | "failure">): Promise<void>;

  // storage that does not grow with traffic (the storage job)
  /**
   * Deletes at most `limit` rows of each kind that are past keeping: stored answers made before
   * `before` that were sent or given up, request ids recorded before it, and room messages and
   * member notes sent or given up before it. Returns how many of each it deleted.
   */
  pruneStored(o: { before: number; limit: number }): Promise<PruneCounts>;
  /** Brings the query planner's statistics up to date where tables changed much (cheap when none did). */
  refreshStatistics(): Promise<void>;

  // summary charts
  /** Requests for the good made in [from, to), whatever became of them, oldest first. */
  goodRequestsMade(goodId: GoodId, from: number, to: number): Promise<GoodRequestRow[]>;

  // summaries: the period's rows found by index and summed in SQL, never the project's history
  /**
   * The unfinished tasks (not cancelled, with an open slot or a claim being worked on or waiting
   * for verification) of the pool, or of one project, by id, with every claim and due date
   * change of theirs.
   */
  unfinishedTasks(scope: { poolId: PoolId; projectId?: ProjectId }): Promise<{ tasks: TaskRow[]; claims: ClaimRow[]; dueChanges: TaskDueChangeRow[] }>;
  /**
   * Claims of the project's tasks verified in [from, to), summed per member and verifier: how
   * much was credited and how many claims, in the order of each pair's first claim.
   */
  verifiedIn(
    projectId: ProjectId,
    from: number,
    to: number,
  ): Promise<Array<{ memberId: MemberId; verifiedBy: MemberId | null; credited: number; claims: number }>>;
  /**
   * Members who claimed the project's tasks in [from, to) at `factor` times the posted weight or
   * more, with how many such claims, in the order of each one's first.
   */
  escalatedIn(projectId: ProjectId, from: number, to: number, factor: number): Promise<Array<{ memberId: MemberId; claims: number }>>;
  /**
   * The kinds of work in use in [from, to) per project (of the pool, or of one project): of
   * tasks posted before `to`, neither cancelled before `from` nor done (every slot verified)
   * before it.
   */
  kindsInUse(scope: { poolId: PoolId; projectId?: ProjectId }, from: number, to: number): Promise<Array<{ projectId: ProjectId; kindId: KindId }>>;
  /** How many members subscribe to the good now, and how many of its units are out on loan (counted in indexes, not its past). */
  goodInUse(goodId: GoodId): Promise<{ subscribers: number; onLoan: number }>;
  /**
   * The project's goods by name, each with its flows over [from, to) and since `from`: units
   * produced in the period and since its start, allocated since, asked for in the period,
   * loans begun in the period and since, loans returned since.
   */
  goodFlows(
    poolId: PoolId,
    projectId: ProjectId,
    from: number,
    to: number,
  ): Promise<
    Array<{
      good: GoodRow;
      produced: number;
      producedSince: number;
      allocatedSince: number;
      requested: number;
      borrowed: number;
      lentSince: number;
      backSince: number;
    }>
  >;
}

export interface Store {
  /**
   * Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. On every
   * engine what it read stays true until it commits: it is as if no other transaction ran
   * beside it. On SQLite it holds the write lock from its start (BEGIN IMMEDIATE, after the
   * transactions of this process in line before it) and `fn` runs once. On PostgreSQL it runs
   * at SERIALIZABLE beside others; when the database refuses its commit (serialization failure,
   * deadlock) it is rolled back and `fn` runs again from the start, a bounded number of times.
   * So `fn` may run more than once: it must have no effect outside the transaction (no message
   * sent, no counter moved); what it means to send goes into the transaction's rows (outbox,
   * notes, replies), delivered after the commit. A lock held too
   * long (SQLite) or a commit refused every time (PostgreSQL) throws DatabaseBusyError.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` on a read-only view of the database, in one read transaction (on SQLite: a
   * deferred one, on a second connection). Isolation: everything `fn` reads comes from one
   * consistent snapshot of committed data, taken at its first read; it sees no transaction
   * still open (of this process or another) and nothing committed after the snapshot. It never
   * takes or waits for the write lock, and never waits for transactions in line: a read runs
   * beside a write. Writing through the given Tx throws WriteInReadError (nothing is written).
   * So it suits what decides nothing (command reads, autocomplete); a decision that leads to a
   * write must read in `transaction`. (An in-memory database has one connection: there a read
   * takes its turn in line, with the same view and the same refusal to write.)
   */
  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** True when no transaction is running or waiting: a command started now starts at once. */
  idle(): boolean;
  /**
   * How many SQL statements its transactions and reads have run since it opened (BEGIN, COMMIT
   * and ROLLBACK not counted): over a network each is a round trip, so tests count a command's.
   */
  readonly statements: number;

  // Delivery: claim, send with the row's key, settle. Used by the chat adapters.
  /** Claims answers not yet sent on the platform (oldest first) that no live process holds. */
  claimReplies(platform: string, o: ClaimOptions): Promise<ReplyRow[]>;
  /** Claims one answer, if it is still to be sent and nobody else holds it. */
  claimReply(requestId: string, o: Omit<ClaimOptions, "limit">): Promise<ReplyRow | undefined>;
  /** Claims room messages not yet sent on the platform, oldest first, rooms that refused the bot left out. */
  claimOutbox(platform: string, o: ClaimOptions): Promise<Array<OutboxRow & { room: RoomRow; attempts: number }>>;
  /** Claims notes to members known on the platform, oldest first, with the identity to reach them. */
  claimNotes(platform: string, o: ClaimOptions): Promise<Array<NoteRow & { externalId: string; attempts: number }>>;
  /** Records what became of a claimed message; only the claim's owner may settle it. */
  settle(ref: DeliveryRef, owner: string, outcome: DeliveryOutcome): Promise<void>;
  /** A platform refused the bot in this room: announcements stop going there until it hears from the room. */
  markRoomUnreachable(roomId: RoomId, at: number): Promise<void>;
  /** Messages not yet delivered to rooms of a platform, oldest first. */
  pendingOutbox(platform: string, limit: number): Promise<Array<OutboxRow & { room: RoomRow }>>;
  /**
   * Marks the listed messages delivered at `at`, those still undelivered only, and returns
   * their ids: of two processes marking one message, one gets it (the console shows only what
   * it took, so two consoles on one database never both show a message).
   */
  markDelivered(ids: readonly OutboxId[], at: number): Promise<OutboxId[]>;
  /** Notes not yet delivered to members known on a platform, with the identity to reach them. */
  pendingNotes(platform: string, limit: number): Promise<Array<NoteRow & { externalId: string }>>;
  /** The same for notes: marks those still undelivered, and returns their ids. */
  markNotesDelivered(ids: readonly NoteId[], at: number): Promise<NoteId[]>;
  /** The platform's id of the room's board message, once an adapter has posted it. */
  boardMessage(roomId: RoomId): Promise<string | null>;
  setBoardMessage(roomId: RoomId, messageId: string | null): Promise<void>;
  close(): Promise<void>;
}
