// Compile-time checks, made by `npm run typecheck` (nothing here runs): the Store's rows
// (src/store.ts) are the SQLite schema's tables' rows as drizzle infers them, so the PostgreSQL
// schema must infer the very same rows, or PgStore would hand the services rows of another
// shape. store-contract.test.ts checks that both schemas have the same tables, columns and
// indexes; this checks that their columns' TypeScript types agree too (a bigint read as a
// string, a status left unnarrowed on one side). A failing check names the tables that differ.
import type * as pg from "../../../db/pg-schema.ts";
import type * as sqlite from "../../../db/schema.ts";
import type { AnnouncementKind } from "../../../src/core/announcements.ts";
import type { AccountId, EntryId, MemberId, PoolId, TaskId } from "../../../src/core/ids.ts";
import type { AccountKind } from "../../../src/core/ledger.ts";
import type { ClaimStatus } from "../../../src/core/tasks.ts";
import type { AccountRow, ClaimRow, EntryRow, GoodRow, MembershipRow, NoteRow, OutboxRow, PoolRow, RequestStatus, TaskRow } from "../../../src/store.ts";

/** True when A and B are the same type, not merely assignable one way. */
type Same<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
/** Compiles only when its argument is `true`. */
type Check<T extends true> = T;

type Sqlite = typeof sqlite;
type Pg = typeof pg;
/** The schema's tables (its other exports are types and helpers). */
type TablesOf<S> = { [K in keyof S]: S[K] extends { $inferSelect: object } ? K : never }[keyof S];

/**
 * PostgreSQL's columns that SQLite has no need of: the waitlist's `seq` keeps the order of
 * arrival, which SQLite reads from its rowid (as store-contract.test.ts allows too).
 */
type PgOnly<K> = K extends "waitlist" ? "seq" : never;
/** Tables whose rows, as read (`$inferSelect`) or as inserted (`$inferInsert`), differ between the two schemas. */
type Differing<Key extends "$inferSelect" | "$inferInsert"> = {
  [K in TablesOf<Sqlite>]: K extends TablesOf<Pg>
    ? Same<Sqlite[K][Key & keyof Sqlite[K]], Omit<Pg[K][Key & keyof Pg[K]], PgOnly<K>>> extends true
      ? never
      : K
    : K;
}[TablesOf<Sqlite>];

export type SameTables = Check<Same<TablesOf<Sqlite>, TablesOf<Pg>>>;
export type SameRowsRead = Check<Same<Differing<"$inferSelect">, never>>;
// boards' key, the room's id, is required on PostgreSQL's insert and optional on SQLite's, where
// an integer primary key left out is the rowid (the store always gives it).
export type SameRowsInserted = Check<Same<Differing<"$inferInsert">, "boards">>;

// The narrowed columns hold the core's types (and the schema's own word lists), on rows read back.
export type ClaimStatusIsTheCores = Check<Same<ClaimRow["status"], ClaimStatus>>;
export type AccountKindIsTheCores = Check<Same<AccountRow["kind"], AccountKind>>;
export type PoolRoles = Check<Same<MembershipRow["role"], "admin" | "member">>;
export type GoodModels = Check<Same<GoodRow["model"], "per-unit" | "flat-rate" | "copyable" | "durable">>;
export type RequestStatuses = Check<Same<RequestStatus, "pending" | "allocated" | "cancelled" | "access">>;
// Ids are their table's kind of id (src/core/ids.ts), and so are the columns that point at them;
// an account's owner is a member or a project, so it stays a plain number.
export type TaskIds = Check<Same<[TaskRow["id"], ClaimRow["taskId"]], [TaskId, TaskId]>>;
export type MemberIds = Check<Same<[ClaimRow["memberId"], TaskRow["postedBy"], ClaimRow["verifiedBy"]], [MemberId, MemberId, MemberId | null]>>;
export type PoolIds = Check<Same<TaskRow["poolId"], PoolId>>;
export type LedgerIds = Check<Same<[EntryRow["fromAccount"], EntryRow["reverses"]], [AccountId, EntryId | null]>>;
export type OwnerIsANumber = Check<Same<AccountRow["ownerId"], number>>;
export type KindsDoNotMix = Check<TaskId extends MemberId ? false : true>;
// Kinds of announcements and notes stay strings on rows read back: a newer version may have
// queued one this one does not know (readAnnouncement and readNote check them).
export type OutboxKindIsText = Check<Same<OutboxRow["kind"], string>>;
export type NoteKindIsText = Check<Same<NoteRow["kind"], string>>;
export type AnnouncementKindsFit = Check<AnnouncementKind extends OutboxRow["kind"] ? true : false>;
// The stores' own columns stay out of the services' rows.
export type NoBoardsMark = Check<Same<Extract<keyof PoolRow, "boardsDirtyAt">, never>>;
export type NoDeliveryClaims = Check<Same<Extract<keyof OutboxRow | keyof NoteRow, "claimedBy" | "claimedUntil" | "attempts">, never>>;
