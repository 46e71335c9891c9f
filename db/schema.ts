// The pool's tables. Times are integer milliseconds since the epoch, amounts integer
// milli-hours (1 weighted hour = 1000). Ledger entries are append-only: triggers in the
// first migration refuse UPDATE and DELETE on them.
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const pools = sqliteTable("pools", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull(),
  policy: text("policy").notNull(),
  createdAt: integer("created_at").notNull(),
  createdBy: integer("created_by").notNull(),
});

export const members = sqliteTable(
  "members",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    handle: text("handle").notNull(),
    createdAt: integer("created_at").notNull(),
    mergedInto: integer("merged_into"),
  },
  (t) => [uniqueIndex("members_handle").on(t.handle)],
);

export const identities = sqliteTable(
  "identities",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    platform: text("platform").notNull(),
    externalId: text("external_id").notNull(),
    memberId: integer("member_id")
      .notNull()
      .references(() => members.id),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("identities_platform_external").on(t.platform, t.externalId), index("identities_member").on(t.memberId)],
);

export const memberships = sqliteTable(
  "memberships",
  {
    poolId: integer("pool_id")
      .notNull()
      .references(() => pools.id),
    memberId: integer("member_id")
      .notNull()
      .references(() => members.id),
    role: text("role", { enum: ["admin", "member"] }).notNull(),
    joinedAt: integer("joined_at").notNull(),
  },
  (t) => [uniqueIndex("memberships_pool_member").on(t.poolId, t.memberId)],
);

export const projects = sqliteTable(
  "projects",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    poolId: integer("pool_id")
      .notNull()
      .references(() => pools.id),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    createdAt: integer("created_at").notNull(),
    createdBy: integer("created_by")
      .notNull()
      .references(() => members.id),
  },
  (t) => [uniqueIndex("projects_pool_slug").on(t.poolId, t.slug)],
);

export const coordinators = sqliteTable(
  "coordinators",
  {
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id),
    memberId: integer("member_id")
      .notNull()
      .references(() => members.id),
    addedAt: integer("added_at").notNull(),
  },
  (t) => [uniqueIndex("coordinators_project_member").on(t.projectId, t.memberId)],
);

export const rooms = sqliteTable(
  "rooms",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    platform: text("platform").notNull(),
    externalId: text("external_id").notNull(),
    poolId: integer("pool_id")
      .notNull()
      .references(() => pools.id),
    projectId: integer("project_id").references(() => projects.id),
    isLobby: integer("is_lobby", { mode: "boolean" }).notNull(),
    boundAt: integer("bound_at").notNull(),
    boundBy: integer("bound_by")
      .notNull()
      .references(() => members.id),
  },
  (t) => [uniqueIndex("rooms_platform_external").on(t.platform, t.externalId), index("rooms_pool").on(t.poolId)],
);

export const goals = sqliteTable(
  "goals",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    poolId: integer("pool_id")
      .notNull()
      .references(() => pools.id),
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id),
    text: text("text").notNull(),
    status: text("status", { enum: ["open", "done"] }).notNull(),
    createdAt: integer("created_at").notNull(),
    createdBy: integer("created_by")
      .notNull()
      .references(() => members.id),
    doneAt: integer("done_at"),
    doneBy: integer("done_by").references(() => members.id),
  },
  (t) => [index("goals_pool").on(t.poolId)],
);

/** One-time codes: pool invitations (bind a room) and identity links (join two identities). */
export const codes = sqliteTable("codes", {
  code: text("code").primaryKey(),
  purpose: text("purpose", { enum: ["invite", "link"] }).notNull(),
  poolId: integer("pool_id").references(() => pools.id),
  memberId: integer("member_id")
    .notNull()
    .references(() => members.id),
  createdAt: integer("created_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
  usedAt: integer("used_at"),
  usedBy: integer("used_by").references(() => members.id),
});

export const accounts = sqliteTable(
  "accounts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    poolId: integer("pool_id")
      .notNull()
      .references(() => pools.id),
    kind: text("kind", { enum: ["member", "project", "commons"] }).notNull(),
    ownerId: integer("owner_id").notNull(),
    balance: integer("balance").notNull(),
  },
  (t) => [uniqueIndex("accounts_pool_kind_owner").on(t.poolId, t.kind, t.ownerId)],
);

export const entries = sqliteTable(
  "entries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    poolId: integer("pool_id")
      .notNull()
      .references(() => pools.id),
    fromAccount: integer("from_account")
      .notNull()
      .references(() => accounts.id),
    toAccount: integer("to_account")
      .notNull()
      .references(() => accounts.id),
    amount: integer("amount").notNull(),
    kind: text("kind").notNull(),
    memo: text("memo").notNull(),
    reverses: integer("reverses"),
    requestId: text("request_id").notNull(),
    createdAt: integer("created_at").notNull(),
    createdBy: integer("created_by").references(() => members.id),
  },
  (t) => [
    index("entries_from").on(t.fromAccount),
    index("entries_to").on(t.toAccount),
    index("entries_pool").on(t.poolId),
    check("entries_amount_positive", sql`${t.amount} > 0`),
    check("entries_two_accounts", sql`${t.fromAccount} <> ${t.toAccount}`),
  ],
);

/** Answers of mutating commands by request id: a replayed id gets the first answer back. */
export const requests = sqliteTable("requests", {
  requestId: text("request_id").primaryKey(),
  command: text("command").notNull(),
  memberId: integer("member_id"),
  reply: text("reply").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** Messages for rooms, written in the command's transaction and delivered after commit. */
export const outbox = sqliteTable(
  "outbox",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    roomId: integer("room_id")
      .notNull()
      .references(() => rooms.id),
    kind: text("kind").notNull(),
    body: text("body").notNull(),
    createdAt: integer("created_at").notNull(),
    deliveredAt: integer("delivered_at"),
  },
  (t) => [index("outbox_pending").on(t.roomId, t.deliveredAt)],
);
