// The Store on SQLite. better-sqlite3 is synchronous and one connection has one transaction,
// so transactions are serialised through a queue and opened with BEGIN IMMEDIATE (which also
// takes the write lock against other processes on the same file). The services' async calls
// resolve at once; no other transaction can interleave while one is open.
//
// The event loop must keep turning while commands wait (chat platforms want an answer within
// seconds, and a Discord interaction must be acknowledged within 3): each transaction starts on
// a fresh turn of the loop (setImmediate), and a write lock held by another process is waited
// for with timers, not inside SQLite's blocking busy handler. Reads that decide nothing
// (commands that change nothing, autocomplete) use a second, read-only connection and never
// wait in the queue.
import { and, asc, desc, eq, getTableColumns, gte, inArray, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import type { AccountKind } from "../src/core/ledger.ts";
import { SLOT_HOLDING_STATUSES } from "../src/core/tasks.ts";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { DatabaseBusyError, WriteInReadError } from "../src/errors.ts";
import type {
  AccountRow,
  ClaimOptions,
  Deadlines,
  DeliveryOutcome,
  DeliveryRef,
  EntryRow,
  GoodRequestRow,
  OpenTaskLine,
  OpenTaskScope,
  ReplyRow,
  Store,
  Tx,
} from "../src/store.ts";
import { openSqlite, optimize, type SqliteDb } from "./client.ts";
import * as t from "./schema.ts";

/**
 * A table's columns for a hand-written SELECT, and the reader of its raw rows (arrays) into the
 * typed rows drizzle would build: hot queries skip drizzle's query building and row mapping,
 * which cost far more than running them. The columns come from the schema, so a new column
 * is read without touching the queries.
 */
function rows<Table extends SQLiteTable>(table: Table, alias: string) {
  const cols = Object.entries(getTableColumns(table)).map(([key, col]) => ({ key, name: col.name, bool: col.columnType === "SQLiteBoolean" }));
  return {
    /** `alias."column", ...` in the schema's order. */
    list: cols.map((c) => `${alias}."${c.name}"`).join(", "),
    width: cols.length,
    /** The table's row (as drizzle infers it) from a raw row, its columns from `at` on, in the schema's order. */
    read(raw: readonly unknown[], at = 0): Table["$inferSelect"] {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < cols.length; i++) {
        const c = cols[i]!;
        const v = raw[at + i];
        o[c.key] = c.bool && v !== null ? v === 1 : v;
      }
      return o;
    },
  };
}

/** Field name to column name, per table (hand-written INSERT and UPDATE of whatever fields a row has). */
const columnNames = new WeakMap<object, Map<string, string>>();
function columnOf(table: Parameters<typeof getTableColumns>[0], key: string): string | undefined {
  let names = columnNames.get(table);
  if (!names) columnNames.set(table, (names = new Map(Object.entries(getTableColumns(table)).map(([k, col]) => [k, col.name]))));
  return names.get(key);
}
/** A value as SQLite stores it (booleans as 0 and 1). */
const sqlValue = (v: unknown) => (typeof v === "boolean" ? (v ? 1 : 0) : v);
/** The statuses of a claim that holds a slot (src/core/tasks.ts), as a list for SQL's IN (fixed words, never input). */
const SLOT_HOLDING_SQL = SLOT_HOLDING_STATUSES.map((s) => `'${s}'`).join(", ");

const poolRows = rows(t.pools, "pools");
const roomRows = rows(t.rooms, "rooms");
const membershipRows = rows(t.memberships, "memberships");
const memberRows = rows(t.members, "members");
const accountRows = rows(t.accounts, "accounts");
const taskRows = rows(t.tasks, "tasks");
const claimRows = rows(t.claims, "claims");
const dueChangeRows = rows(t.taskDueChanges, "task_due_changes");
const goodRows = rows(t.goods, "goods");
const replyRows = rows(t.replies, "replies");
const requestRows = rows(t.requests, "requests");
const projectRows = rows(t.projects, "projects");
const roundRows = rows(t.rounds, "rounds");
const subscriptionRows = rows(t.subscriptions, "subscriptions");
const loanRows = rows(t.loans, "loans");
const kindRows = rows(t.kinds, "kinds");
const kindChangeRows = rows(t.kindChanges, "kind_changes");
const goalRows = rows(t.goals, "goals");
const goodRequestRows = rows(t.goodRequests, "good_requests");
const productionRows = rows(t.productions, "productions");

// The same, under the short names of the opening's and the task aggregate's joins.
const opening = {
  reply: rows(t.replies, "rp"),
  request: rows(t.requests, "rq"),
  member: rows(t.members, "m"),
  room: rows(t.rooms, "ro"),
  pool: rows(t.pools, "p"),
  membership: rows(t.memberships, "ms"),
};
const aggregate = { task: rows(t.tasks, "tk"), project: rows(t.projects, "pj"), kind: rows(t.kinds, "kd"), claim: rows(t.claims, "cl") };

/** The earliest deadlines (Deadlines), each a search of one index (claims_open, rounds_due, loans_due) for its first entry. */
export const DEADLINES_SQL = `(SELECT min(expires_at) FROM claims WHERE status = 'active'),
  (SELECT min(closes_at) FROM rounds WHERE closed_at IS NULL),
  (SELECT min(due_at) FROM loans WHERE returned_at IS NULL AND overdue_at IS NULL),
  (SELECT json_group_array(json_array(pool_id, policy, since)) FROM (
     SELECT g.pool_id AS pool_id, p.policy AS policy,
            min(coalesce((SELECT s.period_end FROM settlements s WHERE s.good_id = g.id ORDER BY s.period_start DESC LIMIT 1), g.created_at)) AS since
     FROM goods g JOIN pools p ON p.id = g.pool_id
     WHERE g.model = 'flat-rate'
     GROUP BY g.pool_id ORDER BY g.pool_id))`;

/** Deadlines from the four columns DEADLINES_SQL reads, from `at` on. */
function readDeadlines(raw: readonly unknown[], at: number): Deadlines {
  const unsettled = (JSON.parse(raw[at + 3] as string) as Array<[number, string, number]>).map(([poolId, policy, since]) => ({ poolId, policy, since }));
  return { claim: raw[at] as number | null, round: raw[at + 1] as number | null, loan: raw[at + 2] as number | null, unsettled };
}

/** A row read by a LEFT JOIN: undefined when nothing matched (its id, the first column, is null). */
function joined<R>(reader: { read(raw: readonly unknown[], at?: number): R }, raw: readonly unknown[], at: number): R | undefined {
  return raw[at] === null ? undefined : reader.read(raw, at);
}

/** A note meant for one account (a link's confirmation) reaches that account only. */
const noteReaches = and(
  or(isNull(t.memberNotes.onlyPlatform), eq(t.memberNotes.onlyPlatform, t.identities.platform)),
  or(isNull(t.memberNotes.onlyExternalId), eq(t.memberNotes.onlyExternalId, t.identities.externalId)),
);

/**
 * Linking (Tx.mergeMemberRows), in order: rows both members hold are merged into the one of
 * `to` and the other deleted; then whatever `from` still holds moves.
 */
const MERGE_MEMBER_ROWS = [
  // Pool memberships: the higher role, the earlier joining.
  `UPDATE memberships AS m SET role = CASE WHEN m.role = 'admin' OR f.role = 'admin' THEN 'admin' ELSE m.role END, joined_at = min(m.joined_at, f.joined_at)
     FROM memberships AS f WHERE m.member_id = @to AND f.member_id = @from AND f.pool_id = m.pool_id`,
  "DELETE FROM memberships WHERE member_id = @from AND pool_id IN (SELECT pool_id FROM memberships WHERE member_id = @to)",
  "UPDATE memberships SET member_id = @to WHERE member_id = @from",
  // Coordinator seats: one per project, since the earlier.
  `UPDATE coordinators AS c SET added_at = min(c.added_at, f.added_at)
     FROM coordinators AS f WHERE c.member_id = @to AND f.member_id = @from AND f.project_id = c.project_id`,
  "DELETE FROM coordinators WHERE member_id = @from AND project_id IN (SELECT project_id FROM coordinators WHERE member_id = @to)",
  "UPDATE coordinators SET member_id = @to WHERE member_id = @from",
  // Waitlist places: the earlier arrival; waiting if either still waits.
  `UPDATE waitlist AS w SET at = min(w.at, f.at), left_at = CASE WHEN w.left_at IS NULL OR f.left_at IS NULL THEN NULL ELSE max(w.left_at, f.left_at) END
     FROM waitlist AS f WHERE w.member_id = @to AND f.member_id = @from AND f.task_id = w.task_id`,
  "DELETE FROM waitlist WHERE member_id = @from AND task_id IN (SELECT task_id FROM waitlist WHERE member_id = @to)",
  "UPDATE waitlist SET member_id = @to WHERE member_id = @from",
  // Subscriptions: of two running ones to one good, the later ends now (one member, one share).
  "UPDATE subscriptions SET member_id = @to WHERE member_id = @from",
  `UPDATE subscriptions AS s SET until = @at WHERE s.member_id = @to AND s.until IS NULL AND EXISTS (
     SELECT 1 FROM subscriptions AS e WHERE e.member_id = @to AND e.good_id = s.good_id AND e.until IS NULL AND (e.since < s.since OR (e.since = s.since AND e.id < s.id)))`,
  // The rest simply moves.
  "UPDATE claims SET member_id = @to WHERE member_id = @from",
  "UPDATE good_requests SET member_id = @to WHERE member_id = @from",
  "UPDATE allocations SET member_id = @to WHERE member_id = @from",
  "UPDATE loans SET member_id = @to WHERE member_id = @from",
  "UPDATE member_notes SET member_id = @to WHERE member_id = @from",
  "UPDATE requests SET member_id = @to WHERE member_id = @from",
];

/** Ids as one bound value (a JSON array, read with json_each): however many, one SQL variable. */
const idList = (ids: readonly number[]) => JSON.stringify(ids);

/**
 * The tasks that take claims at @now, of a pool or a project (and kind): the terms of the
 * boards' partial indexes (open_since IS NOT NULL AND cancelled_at IS NULL), so the planner
 * can use them. A task with openSince set has an open slot (services/tasks.ts keeps it so).
 */
function openScope(scope: OpenTaskScope): string {
  return [
    scope.projectId === undefined ? "t.pool_id = @poolId" : "t.project_id = @projectId",
    "t.open_since IS NOT NULL AND t.cancelled_at IS NULL AND (t.due_at IS NULL OR t.due_at > @now)",
    ...(scope.kindId === undefined ? [] : ["t.kind_id = @kindId"]),
  ].join(" AND ");
}

/**
 * Counts of open tasks read the boards' weight index, which holds every column they test
 * (due_at, kind_id; the rest is its partial WHERE), so no task row is read. The planner would
 * take the age index, as good to it on paper but a row read per task (5 times slower).
 */
const countedBy = (scope: OpenTaskScope) => `INDEXED BY ${scope.projectId === undefined ? "tasks_board_weight" : "tasks_project_board_weight"}`;

function scopeParams(scope: OpenTaskScope): Record<string, number> {
  return {
    ...(scope.projectId === undefined ? { poolId: scope.poolId } : { projectId: scope.projectId }),
    now: scope.now,
    ...(scope.kindId === undefined ? {} : { kindId: scope.kindId }),
  };
}

/** Statements run through a Tx, counted (see SqliteStore.statements). */
interface StatementCounter {
  n: number;
}

/**
 * The connection as a Tx sees it: every statement it prepares, hand-written or built by
 * drizzle, counts each of its runs in `counter`. The connection itself stays as it was, so
 * statements prepared on it elsewhere (the bench's cheapest write and read) are not counted.
 */
function counting(conn: SqliteDb, counter: StatementCounter): SqliteDb {
  const client = conn.$client;
  const prepare = (source: string): Database.Statement => {
    const s = client.prepare(source);
    // The class's own methods (not whatever the object answers: a test may wrap it to record
    // the statements it runs, and each run must reach that record once).
    const methods = Object.getPrototypeOf(s) as object;
    for (const m of ["run", "get", "all", "iterate"] as const) {
      const f = Reflect.get(methods, m) as (this: Database.Statement, ...a: unknown[]) => unknown;
      (s as unknown as Record<string, unknown>)[m] = function (this: Database.Statement, ...a: unknown[]) {
        counter.n++;
        return f.apply(this, a);
      };
    }
    return s;
  };
  const wrapped = Object.create(client, { prepare: { value: prepare } }) as Database.Database;
  return drizzle(wrapped, { schema: t });
}

function makeTx(conn: SqliteDb, counter: StatementCounter): Tx {
  const db = counting(conn, counter);
  // Statements a round closing runs once per winner or per waiting request: prepared once per
  // connection, since building each through drizzle costs more than running it.
  const prepared = new Map<string, Database.Statement>();
  /**
   * The statement of `text`, prepared once. `R` is the row it reads (an array of the columns
   * after .raw()): what SQL hands back is typed here, once, instead of at every query.
   */
  const stmt = <R = unknown>(text: string) => {
    let s = prepared.get(text);
    if (!s) prepared.set(text, (s = db.$client.prepare(text)));
    return s as Database.Statement<unknown[], R>;
  };
  /**
   * Inserts rows into `table` many at a time (one prepared statement of up to BULK rows): a
   * round's winners' entries, allocations and notes. Returns the new ids in order (an
   * AUTOINCREMENT table numbers the rows of one statement one after another).
   */
  const BULK = 64;
  /** `put` appends one row's values, in the columns' order, to the statement's parameters. */
  const insertMany = <R>(table: string, columns: readonly string[], rows: readonly R[], put: (params: unknown[], row: R) => void): number[] => {
    const ids: number[] = [];
    const row = `(${columns.map(() => "?").join(", ")})`;
    // One array of parameters, refilled for each statement: no array per row.
    const params: unknown[] = [];
    for (let at = 0; at < rows.length; at += BULK) {
      const n = Math.min(BULK, rows.length - at);
      params.length = 0;
      for (let i = at; i < at + n; i++) put(params, rows[i]!);
      const { lastInsertRowid } = stmt(`INSERT INTO ${table} (${columns.join(", ")}) VALUES ${Array.from({ length: n }, () => row).join(", ")}`).run(params);
      const last = Number(lastInsertRowid);
      for (let i = n - 1; i >= 0; i--) ids.push(last - i);
    }
    return ids;
  };
  /**
   * Inserts one row of `table` (`name` in SQL) with the fields it has (undefined ones left to
   * their defaults), as one prepared statement per set of fields; returns its id. `orIgnore`:
   * a row that would break a unique key is left out (ON CONFLICT DO NOTHING).
   */
  const insertRow = (
    table: Parameters<typeof getTableColumns>[0],
    name: string,
    row: Readonly<Record<string, unknown>>,
    o: { orIgnore?: boolean } = {},
  ): number => {
    // As drizzle does: fields that are no column of the table, or undefined, are left out.
    const keys = Object.keys(row).filter((k) => row[k] !== undefined && columnOf(table, k) !== undefined);
    const cols = keys.map((k) => `"${columnOf(table, k)}"`);
    const text = `INSERT INTO ${name} (${cols.join(", ")}) VALUES (${keys.map(() => "?").join(", ")})${o.orIgnore ? " ON CONFLICT DO NOTHING" : ""}`;
    return Number(stmt(text).run(keys.map((k) => sqlValue(row[k]))).lastInsertRowid);
  };
  /** Sets the given fields of one row of `table` by its id (one prepared statement per set of fields). */
  const updateRow = (table: Parameters<typeof getTableColumns>[0], name: string, id: number, patch: Readonly<Record<string, unknown>>): void => {
    const keys = Object.keys(patch).filter((k) => patch[k] !== undefined && columnOf(table, k) !== undefined);
    if (keys.length === 0) return;
    stmt(`UPDATE ${name} SET ${keys.map((k) => `"${columnOf(table, k)}" = ?`).join(", ")} WHERE id = ?`).run(...keys.map((k) => sqlValue(patch[k])), id);
  };
  /** Appends an entry and moves both balances: three prepared statements. */
  const appendEntry = (e: Omit<EntryRow, "id">): number => {
    const [id] = stmt<[number]>(
      "INSERT INTO entries (pool_id, from_account, to_account, amount, kind, memo, reverses, request_id, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
      .raw()
      .get(e.poolId, e.fromAccount, e.toAccount, e.amount, e.kind, e.memo, e.reverses, e.requestId, e.createdAt, e.createdBy)!;
    const move = stmt("UPDATE accounts SET balance = balance + ? WHERE id = ?");
    move.run(-e.amount, e.fromAccount);
    move.run(e.amount, e.toAccount);
    return id;
  };
  return {
    async insertPool(p) {
      return db.insert(t.pools).values(p).returning({ id: t.pools.id }).get().id;
    },
    async pool(id) {
      const raw = stmt<unknown[]>(`SELECT ${poolRows.list} FROM pools WHERE id = ?`).raw().get(id);
      return raw && poolRows.read(raw);
    },
    async pools() {
      return db.select().from(t.pools).orderBy(asc(t.pools.id)).all();
    },
    async setPoolPolicy(id, policy) {
      db.update(t.pools).set({ policy }).where(eq(t.pools.id, id)).run();
    },
    async advanceClock(at, poolId) {
      if (poolId === undefined) stmt("UPDATE pools SET clock = ? WHERE clock < ?").run(at, at);
      else stmt("UPDATE pools SET clock = ? WHERE id = ? AND clock < ?").run(at, poolId, at);
    },
    async touchPool(poolId, at, o) {
      if (!o.boards) stmt("UPDATE pools SET clock = @at WHERE id = @poolId AND clock < @at").run({ poolId, at });
      else stmt("UPDATE pools SET clock = max(clock, @at), boards_dirty_at = max(coalesce(boards_dirty_at, @at), @at) WHERE id = @poolId").run({ poolId, at });
    },
    async opening(q) {
      // One row from one probe of each key: the request id's rows, the identity's member, the
      // room with its pool, and the member's membership there; then the deadlines.
      const o = opening;
      const raw = stmt<unknown[]>(
        `SELECT ${q.withReply ? o.reply.list : o.reply.list.replace(/rp\."[a-z_]+"/g, "NULL")}, ${o.request.list}, ${o.member.list}, ${o.room.list}, ${o.pool.list}, ${o.membership.list}, ${DEADLINES_SQL}
         FROM (SELECT 1) AS one
         LEFT JOIN replies rp ON rp.request_id = @requestId
         LEFT JOIN requests rq ON rq.request_id = @requestId
         LEFT JOIN identities i ON i.platform = @platform AND i.external_id = @userId
         LEFT JOIN members m ON m.id = i.member_id
         LEFT JOIN rooms ro ON ro.platform = @platform AND ro.external_id = @roomId
         LEFT JOIN pools p ON p.id = ro.pool_id
         LEFT JOIN memberships ms ON ms.pool_id = p.id AND ms.member_id = m.id`,
      )
        .raw()
        .get({ requestId: q.requestId, platform: q.platform, userId: q.userId, roomId: q.roomId })!;
      let at = 0;
      const next = <R>(reader: { width: number; read(raw: readonly unknown[], at?: number): R }): R | undefined => {
        const row = joined(reader, raw, at);
        at += reader.width;
        return row;
      };
      const reply = next(o.reply);
      const request = next(o.request);
      const member = next(o.member);
      const room = next(o.room);
      const pool = next(o.pool);
      const membership = next(o.membership);
      return { reply, request, member, room, pool, membership, deadlines: readDeadlines(raw, at) };
    },

    async identity(platform, externalId) {
      const raw = stmt<[number]>("SELECT member_id FROM identities WHERE platform = ? AND external_id = ?").raw().get(platform, externalId);
      return raw && { platform, externalId, memberId: raw[0] };
    },
    async identitiesOf(memberId) {
      return db
        .select({ platform: t.identities.platform, externalId: t.identities.externalId, memberId: t.identities.memberId })
        .from(t.identities)
        .where(eq(t.identities.memberId, memberId))
        .orderBy(asc(t.identities.id))
        .all();
    },
    async insertMember(handle, createdAt) {
      return db.insert(t.members).values({ handle, createdAt }).returning({ id: t.members.id }).get().id;
    },
    async insertIdentity(i) {
      db.insert(t.identities).values(i).run();
    },
    async moveIdentities(fromMember, toMember) {
      db.update(t.identities).set({ memberId: toMember }).where(eq(t.identities.memberId, fromMember)).run();
    },
    async markMerged(memberId, into) {
      db.update(t.members).set({ mergedInto: into }).where(eq(t.members.id, memberId)).run();
    },
    async mergeMemberRows(fromMember, toMember, at) {
      const p = { from: fromMember, to: toMember, at };
      for (const text of MERGE_MEMBER_ROWS) stmt(text).run(p);
    },
    async member(id) {
      const raw = stmt<unknown[]>(`SELECT ${memberRows.list} FROM members WHERE id = ?`).raw().get(id);
      return raw && memberRows.read(raw);
    },
    async memberByHandle(handle) {
      const raw = stmt<unknown[]>(`SELECT ${memberRows.list} FROM members WHERE handle = ?`).raw().get(handle);
      return raw && memberRows.read(raw);
    },

    async membership(poolId, memberId) {
      const raw = stmt<unknown[]>(`SELECT ${membershipRows.list} FROM memberships WHERE pool_id = ? AND member_id = ?`).raw().get(poolId, memberId);
      return raw && membershipRows.read(raw);
    },
    async membershipsOf(memberId) {
      return db.select().from(t.memberships).where(eq(t.memberships.memberId, memberId)).all();
    },
    async insertMembership(m) {
      db.insert(t.memberships).values(m).run();
    },
    async setRole(poolId, memberId, role) {
      db.update(t.memberships)
        .set({ role })
        .where(and(eq(t.memberships.poolId, poolId), eq(t.memberships.memberId, memberId)))
        .run();
    },
    async members(poolId) {
      return db
        .select({
          poolId: t.memberships.poolId,
          memberId: t.memberships.memberId,
          role: t.memberships.role,
          joinedAt: t.memberships.joinedAt,
          handle: t.members.handle,
        })
        .from(t.memberships)
        .innerJoin(t.members, eq(t.members.id, t.memberships.memberId))
        .where(and(eq(t.memberships.poolId, poolId), isNull(t.members.mergedInto)))
        .orderBy(asc(t.members.handle))
        .all();
    },

    async insertProject(p) {
      return db.insert(t.projects).values(p).returning({ id: t.projects.id }).get().id;
    },
    async project(id) {
      const raw = stmt<unknown[]>(`SELECT ${projectRows.list} FROM projects WHERE id = ?`).raw().get(id);
      return raw && projectRows.read(raw);
    },
    async projectBySlug(poolId, slug) {
      return db
        .select()
        .from(t.projects)
        .where(and(eq(t.projects.poolId, poolId), eq(t.projects.slug, slug)))
        .get();
    },
    async projects(poolId) {
      return db.select().from(t.projects).where(eq(t.projects.poolId, poolId)).orderBy(asc(t.projects.slug)).all();
    },
    async coordinators(projectId) {
      // Read by every coordinator's command (requireCoordinator): prepared once, rows as arrays.
      const raws = stmt<[number, string, number]>(
        "SELECT coordinators.member_id, members.handle, coordinators.added_at FROM coordinators JOIN members ON members.id = coordinators.member_id WHERE coordinators.project_id = ? ORDER BY coordinators.added_at, members.handle",
      )
        .raw()
        .all(projectId);
      return raws.map(([memberId, handle, addedAt]) => ({ memberId, handle, addedAt }));
    },
    async coordinatorProjects(poolId, memberId) {
      return db
        .select({
          id: t.projects.id,
          poolId: t.projects.poolId,
          slug: t.projects.slug,
          name: t.projects.name,
          createdAt: t.projects.createdAt,
          createdBy: t.projects.createdBy,
        })
        .from(t.coordinators)
        .innerJoin(t.projects, eq(t.projects.id, t.coordinators.projectId))
        .where(and(eq(t.projects.poolId, poolId), eq(t.coordinators.memberId, memberId)))
        .orderBy(asc(t.projects.slug))
        .all();
    },
    async insertCoordinator(projectId, memberId, addedAt) {
      db.insert(t.coordinators).values({ projectId, memberId, addedAt }).onConflictDoNothing().run();
    },
    async deleteCoordinator(projectId, memberId) {
      db.delete(t.coordinators)
        .where(and(eq(t.coordinators.projectId, projectId), eq(t.coordinators.memberId, memberId)))
        .run();
    },

    async room(platform, externalId) {
      const raw = stmt<unknown[]>(`SELECT ${roomRows.list} FROM rooms WHERE platform = ? AND external_id = ?`).raw().get(platform, externalId);
      return raw && roomRows.read(raw);
    },
    async rooms(poolId) {
      return db.select().from(t.rooms).where(eq(t.rooms.poolId, poolId)).orderBy(asc(t.rooms.id)).all();
    },
    async insertRoom(r) {
      return db.insert(t.rooms).values(r).returning({ id: t.rooms.id }).get().id;
    },
    async setRoomUnreachable(roomId, at) {
      db.update(t.rooms).set({ unreachableSince: at }).where(eq(t.rooms.id, roomId)).run();
    },
    async setRoomProject(roomId, projectId) {
      db.update(t.rooms).set({ projectId }).where(eq(t.rooms.id, roomId)).run();
    },

    async insertGoal(g) {
      return db.insert(t.goals).values(g).returning({ id: t.goals.id }).get().id;
    },
    async goal(id) {
      return db.select().from(t.goals).where(eq(t.goals.id, id)).get();
    },
    async goals(poolId, filter) {
      const where = [
        "pool_id = @poolId",
        ...(filter.projectId !== undefined ? ["project_id = @projectId"] : []),
        ...(filter.status !== undefined ? ["status = @status"] : []),
      ];
      const raws = stmt<unknown[]>(`SELECT ${goalRows.list} FROM goals WHERE ${where.join(" AND ")} ORDER BY id`)
        .raw()
        .all({
          poolId,
          ...(filter.projectId !== undefined ? { projectId: filter.projectId } : {}),
          ...(filter.status !== undefined ? { status: filter.status } : {}),
        });
      return raws.map((r) => goalRows.read(r));
    },
    async finishGoal(id, doneAt, doneBy) {
      db.update(t.goals).set({ status: "done", doneAt, doneBy }).where(eq(t.goals.id, id)).run();
    },

    async insertCode(c) {
      db.insert(t.codes).values(c).run();
    },
    async code(code) {
      return db.select().from(t.codes).where(eq(t.codes.code, code)).get();
    },
    async useCode(code, usedAt, usedBy) {
      db.update(t.codes).set({ usedAt, usedBy }).where(eq(t.codes.code, code)).run();
    },

    async account(poolId, kind, ownerId) {
      const raw = stmt<unknown[]>(`SELECT ${accountRows.list} FROM accounts WHERE pool_id = ? AND kind = ? AND owner_id = ?`).raw().get(poolId, kind, ownerId);
      return raw && accountRows.read(raw);
    },
    async accountById(id) {
      const raw = stmt<unknown[]>(`SELECT ${accountRows.list} FROM accounts WHERE id = ?`).raw().get(id);
      return raw && accountRows.read(raw);
    },
    async insertAccount(a) {
      return db
        .insert(t.accounts)
        .values({ ...a, balance: 0 })
        .returning({ id: t.accounts.id })
        .get().id;
    },
    async insertEntry(e) {
      return appendEntry(e);
    },
    async insertEntries(es) {
      // In bulk, and each account's balance moved once by the sum of its entries.
      const ids = insertMany(
        "entries",
        ["pool_id", "from_account", "to_account", "amount", "kind", "memo", "reverses", "request_id", "created_at", "created_by"],
        es,
        (p, e) => p.push(e.poolId, e.fromAccount, e.toAccount, e.amount, e.kind, e.memo, e.reverses, e.requestId, e.createdAt, e.createdBy),
      );
      const moves = new Map<number, number>();
      for (const e of es) {
        moves.set(e.fromAccount, (moves.get(e.fromAccount) ?? 0) - e.amount);
        moves.set(e.toAccount, (moves.get(e.toAccount) ?? 0) + e.amount);
      }
      const move = stmt("UPDATE accounts SET balance = balance + ? WHERE id = ?");
      for (const [account, amount] of moves) if (amount !== 0) move.run(amount, account);
      return ids;
    },
    async pendingMemberAccounts(poolId, goodId, asOf) {
      // As of a time: the running balance less what came in after it, plus what went out after
      // it, from the pool's entries dated later only (none when the round closes on time).
      const net = new Map<number, number>();
      if (asOf !== undefined) {
        for (const [from, to, amount] of stmt<[number, number, number]>(
          "SELECT from_account, to_account, amount FROM entries WHERE pool_id = ? AND created_at > ?",
        )
          .raw()
          .all(poolId, asOf)) {
          net.set(from, (net.get(from) ?? 0) + amount);
          net.set(to, (net.get(to) ?? 0) - amount);
        }
      }
      // Up to one row per member of the pool (a round of 100,000 requests): read one at a time,
      // so that no array of all the raw rows is held beside the result.
      const found: Array<{ memberId: number; handle: string; account: AccountRow }> = [];
      const rows = stmt<unknown[]>(
        `SELECT ${accountRows.list}, members.handle FROM accounts JOIN members ON members.id = accounts.owner_id
         WHERE accounts.pool_id = ? AND accounts.kind = 'member' AND accounts.owner_id IN (SELECT member_id FROM good_requests WHERE good_id = ? AND status = 'pending')`,
      )
        .raw()
        .iterate(poolId, goodId);
      for (const r of rows) {
        const account = accountRows.read(r);
        const later = net.get(account.id);
        found.push({
          memberId: account.ownerId,
          handle: r[accountRows.width] as string,
          account: later === undefined ? account : { ...account, balance: account.balance + later },
        });
      }
      return found;
    },
    async entry(id) {
      return db.select().from(t.entries).where(eq(t.entries.id, id)).get();
    },
    async reversalOf(entryId) {
      return db.select().from(t.entries).where(eq(t.entries.reverses, entryId)).get();
    },
    async entriesOf(accountId, limit) {
      return db
        .select()
        .from(t.entries)
        .where(or(eq(t.entries.fromAccount, accountId), eq(t.entries.toAccount, accountId)))
        .orderBy(desc(t.entries.id))
        .limit(limit)
        .all();
    },
    async auditFacts(poolId) {
      // Each account's entries summed from the two covering indexes (entries_to, entries_from:
      // account and amount), compared by the caller with the running balance; the pool's
      // entries counted on the way (each has one paying account of the pool), not read again.
      let entries = 0;
      const accounts = stmt<unknown[]>(
        `SELECT ${accountRows.list},
             (SELECT coalesce(sum(amount), 0) FROM entries WHERE to_account = accounts.id),
             (SELECT json_array(coalesce(sum(amount), 0), count(*)) FROM entries WHERE from_account = accounts.id)
           FROM accounts WHERE pool_id = ? ORDER BY id`,
      )
        .raw()
        .all(poolId)
        .map((r) => {
          const [paid, count] = JSON.parse(r[accountRows.width + 1] as string) as [number, number];
          entries += count;
          return { account: accountRows.read(r), net: Number(r[accountRows.width]) - paid };
        });
      return { accounts, entries };
    },

    async kind(poolId, name) {
      const raw = stmt<unknown[]>(`SELECT ${kindRows.list} FROM kinds WHERE pool_id = ? AND name = ?`).raw().get(poolId, name);
      return raw && kindRows.read(raw);
    },
    async kindById(id) {
      const raw = stmt<unknown[]>(`SELECT ${kindRows.list} FROM kinds WHERE id = ?`).raw().get(id);
      return raw && kindRows.read(raw);
    },
    async kinds(poolId) {
      const raws = stmt<unknown[]>(`SELECT ${kindRows.list} FROM kinds WHERE pool_id = ? ORDER BY name`).raw().all(poolId);
      return raws.map((r) => kindRows.read(r));
    },
    async insertKind(k) {
      return db.insert(t.kinds).values(k).returning({ id: t.kinds.id }).get().id;
    },
    async setKindWeight(kindId, weight) {
      stmt("UPDATE kinds SET weight = ? WHERE id = ?").run(weight, kindId);
    },
    async insertKindChange(c) {
      insertRow(t.kindChanges, "kind_changes", c);
    },
    async kindChanges(kindId, since) {
      const raws = stmt<unknown[]>(`SELECT ${kindChangeRows.list} FROM kind_changes WHERE kind_id = ? AND at >= ? ORDER BY at, id`).raw().all(kindId, since);
      return raws.map((r) => kindChangeRows.read(r));
    },

    async insertTask(row) {
      return insertRow(t.tasks, "tasks", row);
    },
    async task(id) {
      const raw = stmt<unknown[]>(`SELECT ${taskRows.list} FROM tasks WHERE id = ?`).raw().get(id);
      return raw && taskRows.read(raw);
    },
    async tasks(poolId, filter) {
      const conditions = [eq(t.tasks.poolId, poolId)];
      if (filter.projectId !== undefined) conditions.push(eq(t.tasks.projectId, filter.projectId));
      if (filter.kindId !== undefined) conditions.push(eq(t.tasks.kindId, filter.kindId));
      if (filter.open) conditions.push(isNotNull(t.tasks.openSince));
      return db
        .select()
        .from(t.tasks)
        .where(and(...conditions))
        .orderBy(asc(t.tasks.id))
        .all();
    },
    async setTaskOpen(taskId, openSince, openMs) {
      stmt("UPDATE tasks SET open_since = ?, open_ms = ? WHERE id = ?").run(openSince, openMs, taskId);
    },
    async cancelTask(taskId, at, by) {
      stmt("UPDATE tasks SET cancelled_at = ?, cancelled_by = ? WHERE id = ?").run(at, by, taskId);
    },
    async setTaskDue(c) {
      db.update(t.tasks).set({ dueAt: c.after }).where(eq(t.tasks.id, c.taskId)).run();
      db.insert(t.taskDueChanges).values(c).run();
    },
    async dueChangesOf(taskIds) {
      if (taskIds.length === 0) return [];
      return db
        .select()
        .from(t.taskDueChanges)
        .where(sql`${t.taskDueChanges.taskId} IN (SELECT value FROM json_each(${idList(taskIds)}))`)
        .orderBy(asc(t.taskDueChanges.id))
        .all();
    },
    async claimsOf(taskId) {
      const raws = stmt<unknown[]>(`SELECT ${claimRows.list} FROM claims WHERE task_id = ? ORDER BY id`).raw().all(taskId);
      return raws.map((r) => claimRows.read(r));
    },
    async claimsOfMember(memberId) {
      return db.select().from(t.claims).where(eq(t.claims.memberId, memberId)).orderBy(asc(t.claims.id)).all();
    },
    async claimsOfTasks(taskIds) {
      if (taskIds.length === 0) return [];
      return db
        .select()
        .from(t.claims)
        .where(sql`${t.claims.taskId} IN (SELECT value FROM json_each(${idList(taskIds)}))`)
        .orderBy(asc(t.claims.id))
        .all();
    },
    async claim(id) {
      return db.select().from(t.claims).where(eq(t.claims.id, id)).get();
    },
    async claimOfEntry(entryId) {
      // Rare (a correction of a work credit): a scan of the claims needs no index.
      return db.select().from(t.claims).where(eq(t.claims.entryId, entryId)).get();
    },
    async insertClaim(c) {
      return insertRow(t.claims, "claims", c);
    },
    async updateClaim(id, patch) {
      updateRow(t.claims, "claims", id, patch);
    },
    async expiredClaims(now) {
      const raws = stmt<unknown[]>(`SELECT ${claimRows.list} FROM claims WHERE status = 'active' AND expires_at <= ? ORDER BY expires_at, id`).raw().all(now);
      return raws.map((r) => claimRows.read(r));
    },
    async taskAggregate(id) {
      // The task, its project and kind in columns; its claims, waitlist and the handles they name
      // as JSON arrays (json_group_array keeps the order of the subquery's rows).
      const g = aggregate;
      const raw = stmt<unknown[]>(
        `SELECT ${g.task.list}, ${g.project.list}, ${g.kind.list},
           (SELECT json_group_array(json_array(${g.claim.list})) FROM (SELECT * FROM claims cl WHERE cl.task_id = tk.id ORDER BY cl.id) AS cl),
           (SELECT json_group_array(json_array(w.member_id, w.at)) FROM (SELECT member_id, at FROM waitlist w WHERE w.task_id = tk.id AND w.left_at IS NULL ORDER BY at, rowid) AS w),
           (SELECT json_group_array(json_array(m.id, m.handle)) FROM members m WHERE m.id = tk.posted_by
              OR m.id IN (SELECT member_id FROM claims WHERE task_id = tk.id UNION SELECT verified_by FROM claims WHERE task_id = tk.id
                          UNION SELECT member_id FROM waitlist WHERE task_id = tk.id AND left_at IS NULL))
         FROM tasks tk JOIN projects pj ON pj.id = tk.project_id JOIN kinds kd ON kd.id = tk.kind_id
         WHERE tk.id = ?`,
      )
        .raw()
        .get(id);
      if (!raw) return undefined;
      let at = 0;
      const task = g.task.read(raw, at);
      const project = g.project.read(raw, (at += g.task.width));
      const kind = g.kind.read(raw, (at += g.project.width));
      at += g.kind.width;
      const claims = (JSON.parse(raw[at] as string) as unknown[][]).map((c) => g.claim.read(c));
      const waitlist = (JSON.parse(raw[at + 1] as string) as Array<[number, number]>).map(([memberId, at]) => ({ memberId, at }));
      const handles = new Map(JSON.parse(raw[at + 2] as string) as Array<[number, string]>);
      return { task, claims, waitlist, project, kind, handles };
    },
    async waitlistOf(taskId) {
      return stmt<[number, number]>("SELECT member_id, at FROM waitlist WHERE task_id = ? AND left_at IS NULL ORDER BY at, rowid")
        .raw()
        .all(taskId)
        .map(([memberId, at]) => ({ memberId, at }));
    },
    async waitlistsOfTasks(taskIds) {
      if (taskIds.length === 0) return [];
      return db
        .select({ taskId: t.waitlist.taskId, memberId: t.waitlist.memberId, at: t.waitlist.at })
        .from(t.waitlist)
        .where(and(sql`${t.waitlist.taskId} IN (SELECT value FROM json_each(${idList(taskIds)}))`, isNull(t.waitlist.leftAt)))
        .orderBy(asc(t.waitlist.at), sql`rowid`)
        .all();
    },
    async waitedBefore(taskId, memberId) {
      return (
        db
          .select({ at: t.waitlist.at })
          .from(t.waitlist)
          .where(and(eq(t.waitlist.taskId, taskId), eq(t.waitlist.memberId, memberId)))
          .get() !== undefined
      );
    },
    async joinWaitlist(taskId, memberId, at) {
      stmt("INSERT INTO waitlist (task_id, member_id, at, left_at) VALUES (?, ?, ?, NULL) ON CONFLICT (task_id, member_id) DO UPDATE SET left_at = NULL").run(
        taskId,
        memberId,
        at,
      );
    },
    async leaveWaitlist(taskId, memberId, at) {
      stmt("UPDATE waitlist SET left_at = ? WHERE task_id = ? AND member_id = ? AND left_at IS NULL").run(at, taskId, memberId);
    },

    async insertGood(g) {
      return db.insert(t.goods).values(g).returning({ id: t.goods.id }).get().id;
    },
    async good(id) {
      const raw = stmt<unknown[]>(`SELECT ${goodRows.list} FROM goods WHERE id = ?`).raw().get(id);
      return raw && goodRows.read(raw);
    },
    async goodByName(poolId, name) {
      const raw = stmt<unknown[]>(`SELECT ${goodRows.list} FROM goods WHERE pool_id = ? AND name = ?`).raw().get(poolId, name);
      return raw && goodRows.read(raw);
    },
    async goods(poolId, filter) {
      const where = [
        "pool_id = @poolId",
        ...(filter.projectId !== undefined ? ["project_id = @projectId"] : []),
        ...(filter.sector !== undefined ? ["sector = @sector"] : []),
      ];
      const params = {
        poolId,
        ...(filter.projectId !== undefined ? { projectId: filter.projectId } : {}),
        ...(filter.sector !== undefined ? { sector: filter.sector } : {}),
      };
      const raws = stmt<unknown[]>(`SELECT ${goodRows.list} FROM goods WHERE ${where.join(" AND ")} ORDER BY name`)
        .raw()
        .all(params);
      return raws.map((r) => goodRows.read(r));
    },
    async onlyCopyableGoods(poolId, projectId) {
      // No index has the project: in the table's order, to the first good that is not copyable
      // (a scan of every good only for a project whose goods all are).
      const [only] = stmt<[number]>(
        `SELECT CASE WHEN EXISTS (SELECT 1 FROM goods WHERE pool_id = @poolId AND project_id = @projectId AND model <> 'copyable') THEN 0
                ELSE EXISTS (SELECT 1 FROM goods WHERE pool_id = @poolId AND project_id = @projectId) END`,
      )
        .raw()
        .get({ poolId, projectId })!;
      return only === 1;
    },
    async setStock(goodId, stock) {
      stmt("UPDATE goods SET stock = ? WHERE id = ?").run(stock, goodId);
    },
    async insertProduction(p) {
      insertRow(t.productions, "productions", p);
    },
    async productionOfTask(taskId) {
      const raw = stmt<unknown[]>(`SELECT ${productionRows.list} FROM productions WHERE task_id = ?`).raw().get(taskId);
      return raw && productionRows.read(raw);
    },
    async productions(goodId, from, to) {
      return db
        .select()
        .from(t.productions)
        .where(and(eq(t.productions.goodId, goodId), gte(t.productions.at, from), lt(t.productions.at, to)))
        .orderBy(asc(t.productions.id))
        .all();
    },
    async measuredEffort(goodId, asOf) {
      // The good's production tasks first (tasks_good), then their claims (claims_task): CROSS
      // JOIN keeps that order whatever the statistics say (never through every verified claim).
      const [units, effort] = stmt<[number, number]>(
        `SELECT coalesce(sum(qty), 0), coalesce(sum(credited), 0) FROM (
           SELECT tasks.good_qty AS qty, sum(claims.credited) AS credited
           FROM tasks CROSS JOIN claims ON claims.task_id = tasks.id AND claims.status = 'verified' AND claims.verified_at <= @asOf
           WHERE tasks.good_id = @goodId AND tasks.cancelled_at IS NULL
           GROUP BY tasks.id
           -- Only finished work: a task counts once every slot is verified (a cancelled one never).
           HAVING count(claims.id) >= tasks.slots)`,
      )
        .raw()
        .get({ goodId, asOf: asOf ?? Number.MAX_SAFE_INTEGER })!;
      return { units, effort };
    },
    async insertGoodRequest(r) {
      return insertRow(t.goodRequests, "good_requests", r);
    },
    async goodRequest(id) {
      const raw = stmt<unknown[]>(`SELECT ${goodRequestRows.list} FROM good_requests WHERE id = ?`).raw().get(id);
      return raw && goodRequestRows.read(raw);
    },
    async goodRequestsOf(goodId, status) {
      // Up to every waiting request of a good (a round reads them all): one prepared statement,
      // rows read as arrays (building the objects here is about twice as fast as the driver's),
      // one at a time, so that no array of all the raw rows is held beside the result.
      const rows = stmt<[number, number, number, number, number, number, GoodRequestRow["status"], number, number | null, number | null]>(
        "SELECT id, good_id, member_id, qty, filled, weight, status, created_at, closed_at, bid_at FROM good_requests WHERE good_id = ? AND status = ? ORDER BY id",
      )
        .raw()
        .iterate(goodId, status);
      const out: GoodRequestRow[] = [];
      for (const [id, goodId, memberId, qty, filled, weight, status, createdAt, closedAt, bidAt] of rows)
        out.push({ id, goodId, memberId, qty, filled, weight, status, createdAt, closedAt, bidAt });
      return out;
    },
    async pendingRequestsOfMember(poolId, memberId) {
      // The member's waiting requests (good_requests_member), each good by its id: never the
      // pool's every request.
      const raws = stmt<unknown[]>(
        `SELECT ${goodRequestRows.list} FROM good_requests CROSS JOIN goods ON goods.id = good_requests.good_id
         WHERE good_requests.member_id = ? AND good_requests.status = 'pending' AND goods.pool_id = ? ORDER BY good_requests.id`,
      )
        .raw()
        .all(memberId, poolId);
      return raws.map((r) => goodRequestRows.read(r));
    },
    async pendingTotals(goodId) {
      const [requests, units] = stmt<[number, number]>(
        "SELECT count(*), coalesce(sum(qty - filled), 0) FROM good_requests WHERE good_id = ? AND status = 'pending'",
      )
        .raw()
        .get(goodId)!;
      return { requests, units };
    },
    async updateGoodRequest(id, patch) {
      updateRow(t.goodRequests, "good_requests", id, patch);
    },
    async fillGoodRequests(fills) {
      const update = stmt("UPDATE good_requests SET filled = ?, status = ?, closed_at = ? WHERE id = ?");
      for (const f of fills) update.run(f.filled, f.status, f.closedAt, f.id);
    },
    async openRound(goodId) {
      const raw = stmt<unknown[]>(`SELECT ${roundRows.list} FROM rounds WHERE good_id = ? AND closed_at IS NULL`).raw().get(goodId);
      return raw && roundRows.read(raw);
    },
    async lastClosedRound(goodId) {
      const raw = stmt<unknown[]>(
        `SELECT ${roundRows.list} FROM rounds WHERE good_id = ? AND closed_at IS NOT NULL AND clearing_weight IS NOT NULL ORDER BY closed_at DESC, id DESC`,
      )
        .raw()
        .get(goodId);
      return raw && roundRows.read(raw);
    },
    async roundsClosed(goodId, from, to) {
      const raws = stmt<unknown[]>(`SELECT ${roundRows.list} FROM rounds WHERE good_id = ? AND closed_at >= ? AND closed_at < ? ORDER BY closed_at, id`)
        .raw()
        .all(goodId, from, to);
      return raws.map((r) => roundRows.read(r));
    },
    async insertRound(r) {
      return insertRow(t.rounds, "rounds", r);
    },
    async closeRound(id, patch) {
      db.update(t.rounds).set(patch).where(eq(t.rounds.id, id)).run();
    },
    async dueRounds(now) {
      const raws = stmt<unknown[]>(`SELECT ${roundRows.list} FROM rounds WHERE closed_at IS NULL AND closes_at <= ? ORDER BY closes_at, id`).raw().all(now);
      return raws.map((r) => roundRows.read(r));
    },
    async insertAllocation(a) {
      return insertRow(t.allocations, "allocations", a);
    },
    async insertAllocations(as) {
      return insertMany("allocations", ["good_id", "request_id", "round_id", "member_id", "qty", "effort", "weight", "cost", "at"], as, (p, a) =>
        p.push(a.goodId, a.requestId, a.roundId, a.memberId, a.qty, a.effort, a.weight, a.cost, a.at),
      );
    },
    async allocationsOf(goodId, since) {
      return db
        .select()
        .from(t.allocations)
        .where(and(eq(t.allocations.goodId, goodId), gte(t.allocations.at, since)))
        .orderBy(asc(t.allocations.id))
        .all();
    },
    async subscriptions(goodId) {
      const raws = stmt<unknown[]>(`SELECT ${subscriptionRows.list} FROM subscriptions WHERE good_id = ? ORDER BY id`).raw().all(goodId);
      return raws.map((r) => subscriptionRows.read(r));
    },
    async runningSubscriptionsOf(memberId) {
      const raws = stmt<unknown[]>(`SELECT ${subscriptionRows.list} FROM subscriptions WHERE member_id = ? AND until IS NULL ORDER BY id`).raw().all(memberId);
      return raws.map((r) => subscriptionRows.read(r));
    },
    async insertSubscription(s) {
      db.insert(t.subscriptions).values(s).run();
    },
    async endSubscription(id, until) {
      db.update(t.subscriptions).set({ until }).where(eq(t.subscriptions.id, id)).run();
    },
    async settlement(goodId, periodStart) {
      return db
        .select({ id: t.settlements.id })
        .from(t.settlements)
        .where(and(eq(t.settlements.goodId, goodId), eq(t.settlements.periodStart, periodStart)))
        .get();
    },
    async lastSettlementEnd(goodId) {
      const r = db
        .select({ end: sql<number | null>`max(${t.settlements.periodEnd})` })
        .from(t.settlements)
        .where(eq(t.settlements.goodId, goodId))
        .get();
      return r?.end ?? null;
    },
    async insertSettlement(s) {
      db.insert(t.settlements).values(s).run();
    },
    async flatRateGoods() {
      const raws = stmt<unknown[]>(`SELECT ${goodRows.list} FROM goods WHERE model = 'flat-rate' ORDER BY id`).raw().all();
      return raws.map((r) => goodRows.read(r));
    },
    async insertLoan(l) {
      return db.insert(t.loans).values(l).returning({ id: t.loans.id }).get().id;
    },
    async loan(id) {
      return db.select().from(t.loans).where(eq(t.loans.id, id)).get();
    },
    async loansOf(goodId) {
      const raws = stmt<unknown[]>(`SELECT ${loanRows.list} FROM loans WHERE good_id = ? ORDER BY id`).raw().all(goodId);
      return raws.map((r) => loanRows.read(r));
    },
    async returnLoan(id, returnedAt, charged) {
      db.update(t.loans).set({ returnedAt, charged }).where(eq(t.loans.id, id)).run();
    },
    async openLoans(poolId, memberId) {
      const raws = stmt<unknown[]>(
        `SELECT ${loanRows.list} FROM loans JOIN goods ON goods.id = loans.good_id
         WHERE goods.pool_id = @poolId AND loans.returned_at IS NULL${memberId === undefined ? "" : " AND loans.member_id = @memberId"} ORDER BY loans.id`,
      )
        .raw()
        .all(memberId === undefined ? { poolId } : { poolId, memberId });
      return raws.map((r) => loanRows.read(r));
    },
    async loansFallingOverdue(now, poolId) {
      const raws = stmt<unknown[]>(
        `SELECT ${loanRows.list} FROM loans JOIN goods ON goods.id = loans.good_id
         WHERE loans.returned_at IS NULL AND loans.overdue_at IS NULL AND loans.due_at <= @now${poolId === undefined ? "" : " AND goods.pool_id = @poolId"}
         ORDER BY loans.due_at, loans.id`,
      )
        .raw()
        .all(poolId === undefined ? { now } : { now, poolId });
      return raws.map((r) => loanRows.read(r));
    },
    async markLoanOverdue(id, at) {
      db.update(t.loans).set({ overdueAt: at }).where(eq(t.loans.id, id)).run();
    },

    async jobRan(job, slot) {
      return (
        db
          .select({ slot: t.jobRuns.slot })
          .from(t.jobRuns)
          .where(and(eq(t.jobRuns.job, job), eq(t.jobRuns.slot, slot)))
          .get() !== undefined
      );
    },
    async lastJobSlot(job) {
      return db.select({ slot: t.jobRuns.slot }).from(t.jobRuns).where(eq(t.jobRuns.job, job)).orderBy(desc(t.jobRuns.slot)).limit(1).get()?.slot;
    },
    async insertJobRun(r) {
      db.insert(t.jobRuns).values(r).run();
    },

    async nextDeadlines() {
      return readDeadlines(stmt<unknown[]>(`SELECT ${DEADLINES_SQL}`).raw().get()!, 0);
    },
    async commonsWork(poolId) {
      return stmt<{ projectId: number; goodId: number | null; amount: number }>(
        // From what the commons paid (entries_from), to the claims those entries credited
        // (claims_entry): not through every verified claim of the pool.
        `SELECT tasks.project_id AS projectId, tasks.good_id AS goodId, sum(claims.credited) AS amount
         FROM accounts CROSS JOIN entries ON entries.from_account = accounts.id CROSS JOIN claims ON claims.entry_id = entries.id CROSS JOIN tasks ON tasks.id = claims.task_id
         WHERE accounts.pool_id = @poolId AND accounts.kind = 'commons' AND tasks.pool_id = @poolId AND claims.status = 'verified'
         GROUP BY tasks.project_id, tasks.good_id ORDER BY tasks.project_id, tasks.good_id`,
      ).all({ poolId });
    },
    async copyableUsers(poolId, projectId) {
      return stmt<{ goodId: number; members: number }>(
        // A member linked into another counts as that one. From the pool's copyable goods
        // (goods_model) to each one's requests with access (good_requests_good): CROSS JOIN and
        // INDEXED BY keep that order, never every request of the pool through good_requests_made.
        `SELECT r.good_id AS goodId, count(DISTINCT coalesce(m.merged_into, r.member_id)) AS members
         FROM goods g INDEXED BY goods_model
           CROSS JOIN good_requests r INDEXED BY good_requests_good ON r.good_id = g.id AND r.status = 'access'
           CROSS JOIN members m ON m.id = r.member_id
         WHERE g.model = 'copyable' AND g.pool_id = @poolId AND (@projectId IS NULL OR g.project_id = @projectId)
         GROUP BY r.good_id ORDER BY r.good_id`,
      ).all({ poolId, projectId: projectId ?? null });
    },

    async roomMutes(poolId) {
      return db
        .select({ roomId: t.roomMutes.roomId, kind: t.roomMutes.kind })
        .from(t.roomMutes)
        .innerJoin(t.rooms, eq(t.rooms.id, t.roomMutes.roomId))
        .where(eq(t.rooms.poolId, poolId))
        .orderBy(asc(t.roomMutes.roomId), asc(t.roomMutes.kind))
        .all();
    },
    async setRoomMute(roomId, kind, muted) {
      if (muted === null)
        db.delete(t.roomMutes)
          .where(and(eq(t.roomMutes.roomId, roomId), eq(t.roomMutes.kind, kind)))
          .run();
      else db.insert(t.roomMutes).values({ roomId, kind, mutedAt: muted.at, mutedBy: muted.by }).onConflictDoNothing().run();
    },
    async board(roomId) {
      return db.select().from(t.boards).where(eq(t.boards.roomId, roomId)).get();
    },
    async putBoard(roomId, body, at) {
      db.insert(t.boards)
        .values({ roomId, body, updatedAt: at })
        .onConflictDoUpdate({ target: t.boards.roomId, set: { body, updatedAt: at } })
        .run();
    },
    async openTasks(poolId) {
      // One aggregate query: boards are refreshed after every task command.
      return db
        .select({
          id: t.tasks.id,
          projectId: t.tasks.projectId,
          kindId: t.tasks.kindId,
          title: t.tasks.title,
          postedWeight: t.tasks.postedWeight,
          estimate: t.tasks.estimate,
          slots: t.tasks.slots,
          openMs: t.tasks.openMs,
          openSince: t.tasks.openSince,
          dueAt: t.tasks.dueAt,
          taken: sql<number>`count(${t.claims.id})`,
        })
        .from(t.tasks)
        .leftJoin(t.claims, and(eq(t.claims.taskId, t.tasks.id), inArray(t.claims.status, [...SLOT_HOLDING_STATUSES])))
        .where(and(eq(t.tasks.poolId, poolId), isNotNull(t.tasks.openSince), isNull(t.tasks.cancelledAt)))
        .groupBy(t.tasks.id)
        .having(sql`count(${t.claims.id}) < ${t.tasks.slots}`)
        .all();
    },
    async openTasksBy(scope, order, limit, offset = 0) {
      // Straight from one of the boards' indexes (tasks_board_*, tasks_project_board_*), in its
      // order, so only the rows asked for are read; names and slots taken for those rows alone.
      const by = order === "weight" ? "t.posted_weight DESC" : "(t.open_since - t.open_ms), t.id";
      return stmt<OpenTaskLine>(
        `SELECT t.id, t.project_id AS projectId, t.kind_id AS kindId, t.title, t.posted_weight AS postedWeight, t.estimate, t.slots,
                t.open_ms AS openMs, t.open_since AS openSince, t.due_at AS dueAt,
                (SELECT count(*) FROM claims c WHERE c.task_id = t.id AND c.status IN (${SLOT_HOLDING_SQL})) AS taken,
                (SELECT p.slug FROM projects p WHERE p.id = t.project_id) AS project,
                (SELECT k.name FROM kinds k WHERE k.id = t.kind_id) AS kind
         FROM tasks t
         WHERE ${openScope(scope)}
         ORDER BY ${by} LIMIT @limit OFFSET @offset`,
      ).all({ ...scopeParams(scope), limit, offset });
    },
    async taskPage(scope, state, limit, offset) {
      // Each task's state from its claims, aggregated once per task; ranked as task list shows it.
      const where = [
        "t.pool_id = @poolId",
        ...(scope.projectId === undefined ? [] : ["t.project_id = @projectId"]),
        ...(scope.kindId === undefined ? [] : ["t.kind_id = @kindId"]),
      ].join(" AND ");
      const listed = {
        all: "1",
        overdue: "s.overdue AND s.rank <= 1",
        open: "s.rank = 0 AND NOT s.overdue",
        claimed: "s.rank = 1",
        done: "s.rank = 2",
        cancelled: "s.rank = 3",
      }[state];
      const ranked = `WITH c AS (
           SELECT c.task_id, sum(c.status IN (${SLOT_HOLDING_SQL})) AS taken, sum(c.status = 'verified') AS verified
           FROM claims c JOIN tasks t ON t.id = c.task_id WHERE ${where} GROUP BY c.task_id
         ), s AS (
           SELECT t.id,
                  CASE WHEN t.cancelled_at IS NOT NULL THEN 3 WHEN coalesce(c.verified, 0) >= t.slots THEN 2 WHEN coalesce(c.taken, 0) >= t.slots THEN 1 ELSE 0 END AS rank,
                  (t.due_at IS NOT NULL AND t.due_at <= @now) AS overdue,
                  t.open_ms + CASE WHEN t.open_since IS NULL THEN 0 ELSE max(0, min(@now, coalesce(t.due_at, @now)) - t.open_since) END AS open
           FROM tasks t LEFT JOIN c ON c.task_id = t.id WHERE ${where}
         )`;
      const params = {
        poolId: scope.poolId,
        now: scope.now,
        ...(scope.projectId === undefined ? {} : { projectId: scope.projectId }),
        ...(scope.kindId === undefined ? {} : { kindId: scope.kindId }),
      };
      const rows = stmt<{ id: number; total: number }>(
        `${ranked} SELECT s.id, count(*) OVER () AS total FROM s WHERE ${listed} ORDER BY s.rank, s.open DESC, s.id LIMIT @limit OFFSET @offset`,
      ).all({ ...params, limit, offset });
      const total = rows[0]?.total ?? stmt<{ n: number }>(`${ranked} SELECT count(*) AS n FROM s WHERE ${listed}`).get(params)!.n;
      return { ids: rows.map((r) => r.id), total };
    },
    async countOpenTasks(scope) {
      return stmt<{ n: number }>(`SELECT count(*) AS n FROM tasks t ${countedBy(scope)} WHERE ${openScope(scope)}`).get(scopeParams(scope))!.n;
    },
    async openTasksPerKind(poolId, now) {
      const scope = { poolId, now };
      return stmt<{ kindId: number; open: number }>(
        `SELECT t.kind_id AS kindId, count(*) AS open FROM tasks t ${countedBy(scope)} WHERE ${openScope(scope)} GROUP BY t.kind_id`,
      ).all(scopeParams(scope));
    },
    async markBoards(poolId, at) {
      stmt("UPDATE pools SET boards_dirty_at = max(coalesce(boards_dirty_at, @at), @at) WHERE id = @poolId").run({ poolId, at });
    },
    async markedBoards() {
      return stmt<{ poolId: number; at: number }>("SELECT id AS poolId, boards_dirty_at AS at FROM pools WHERE boards_dirty_at IS NOT NULL ORDER BY id").all();
    },
    async clearBoardsMark(poolId) {
      stmt("UPDATE pools SET boards_dirty_at = NULL WHERE id = ?").run(poolId);
    },
    async deleteBoard(roomId) {
      db.delete(t.boards).where(eq(t.boards.roomId, roomId)).run();
    },
    async noticedTasks(roomId) {
      return db
        .select({ taskId: t.roomNotices.taskId })
        .from(t.roomNotices)
        .where(eq(t.roomNotices.roomId, roomId))
        .all()
        .map((r) => r.taskId);
    },
    async insertNotice(n) {
      db.insert(t.roomNotices).values(n).onConflictDoNothing().run();
    },
    async lastOutboxAt(roomId, kind) {
      return db
        .select({ at: t.outbox.createdAt })
        .from(t.outbox)
        .where(and(eq(t.outbox.roomId, roomId), eq(t.outbox.kind, kind)))
        .orderBy(desc(t.outbox.createdAt))
        .limit(1)
        .get()?.at;
    },

    async insertNote(n) {
      return insertRow(t.memberNotes, "member_notes", n);
    },
    async insertNotes(ns) {
      insertMany("member_notes", ["pool_id", "member_id", "kind", "body", "created_at"], ns, (p, n) =>
        p.push(n.poolId, n.memberId, n.kind, n.body, n.createdAt),
      );
    },

    async request(requestId) {
      const raw = stmt<unknown[]>(`SELECT ${requestRows.list} FROM requests WHERE request_id = ?`).raw().get(requestId);
      return raw && requestRows.read(raw);
    },
    async insertRequest(r) {
      insertRow(t.requests, "requests", r);
    },
    async insertOutbox(o) {
      return insertRow(t.outbox, "outbox", o);
    },
    async reply(requestId) {
      const raw = stmt<unknown[]>(`SELECT ${replyRows.list} FROM replies WHERE request_id = ?`).raw().get(requestId);
      return raw && replyRows.read(raw);
    },
    async insertReply(r) {
      insertRow(t.replies, "replies", r, { orIgnore: true });
    },

    async pruneStored({ before, limit }) {
      // Each finds its oldest rows through an index (replies_created, requests_created, and the
      // delivered_at of outbox_undelivered and member_notes_undelivered), `limit` at most.
      const deleted = (text: string) => stmt(text).run({ before, limit }).changes;
      return {
        replies: deleted(
          `DELETE FROM replies WHERE rowid IN (SELECT rowid FROM replies WHERE created_at < @before AND (delivered_at IS NOT NULL OR failed_at IS NOT NULL) LIMIT @limit)`,
        ),
        requests: deleted(`DELETE FROM requests WHERE rowid IN (SELECT rowid FROM requests WHERE created_at < @before LIMIT @limit)`),
        outbox: deleted(
          `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE delivered_at < @before UNION ALL SELECT id FROM outbox WHERE delivered_at IS NULL AND failed_at < @before LIMIT @limit)`,
        ),
        notes: deleted(
          `DELETE FROM member_notes WHERE id IN (SELECT id FROM member_notes WHERE delivered_at < @before UNION ALL SELECT id FROM member_notes WHERE delivered_at IS NULL AND failed_at < @before LIMIT @limit)`,
        ),
      };
    },
    async refreshStatistics() {
      optimize(db.$client);
    },

    async unfinishedTasks(scope) {
      // Open tasks by the boards' indexes, and tasks with a claim being worked on or waiting
      // (claims_open, then each task by its id: CROSS JOIN keeps that order, never every task of
      // the project): finished history is never read. Their claims and due date changes by
      // their ids, bound as one JSON array.
      const which = scope.projectId === undefined ? "pool_id = @poolId" : "project_id = @projectId";
      const openBy = scope.projectId === undefined ? "tasks_board_weight" : "tasks_project_board_weight";
      const p = scope.projectId === undefined ? { poolId: scope.poolId } : { projectId: scope.projectId };
      const tasks = stmt<unknown[]>(
        `WITH u(id) AS (
             SELECT id FROM tasks INDEXED BY ${openBy} WHERE ${which} AND open_since IS NOT NULL AND cancelled_at IS NULL
             UNION SELECT tasks.id FROM claims CROSS JOIN tasks ON tasks.id = claims.task_id
               WHERE claims.status IN ('active', 'reported') AND tasks.${which} AND tasks.cancelled_at IS NULL)
           SELECT ${taskRows.list} FROM tasks WHERE id IN u ORDER BY id`,
      )
        .raw()
        .all(p)
        .map((r) => taskRows.read(r));
      const ids = JSON.stringify(tasks.map((x) => x.id));
      return {
        tasks,
        claims: stmt<unknown[]>(`SELECT ${claimRows.list} FROM claims WHERE task_id IN (SELECT value FROM json_each(?)) ORDER BY id`)
          .raw()
          .all(ids)
          .map((r) => claimRows.read(r)),
        dueChanges: stmt<unknown[]>(`SELECT ${dueChangeRows.list} FROM task_due_changes WHERE task_id IN (SELECT value FROM json_each(?)) ORDER BY id`)
          .raw()
          .all(ids)
          .map((r) => dueChangeRows.read(r)),
      };
    },
    async verifiedIn(projectId, from, to) {
      return stmt<[number, number | null, number, number]>(
        // The period's verifications (claims_verified; `+status` keeps the planner from
        // claims_open, which holds every verified claim), then each one's task by id.
        `SELECT claims.member_id, claims.verified_by, coalesce(sum(claims.credited), 0), count(*) FROM claims CROSS JOIN tasks ON tasks.id = claims.task_id
           WHERE claims.verified_at >= @from AND claims.verified_at < @to AND +claims.status = 'verified' AND tasks.project_id = @projectId
           GROUP BY claims.member_id, claims.verified_by ORDER BY min(claims.id)`,
      )
        .raw()
        .all({ projectId, from, to })
        .map(([memberId, verifiedBy, credited, claims]) => ({ memberId, verifiedBy, credited, claims }));
    },
    async escalatedIn(projectId, from, to, factor) {
      return stmt<[number, number]>(
        `SELECT claims.member_id, count(*) FROM claims CROSS JOIN tasks ON tasks.id = claims.task_id
           WHERE claims.claimed_at >= @from AND claims.claimed_at < @to AND tasks.project_id = @projectId AND claims.weight >= tasks.posted_weight * @factor
           GROUP BY claims.member_id ORDER BY min(claims.id)`,
      )
        .raw()
        .all({ projectId, from, to, factor })
        .map(([memberId, claims]) => ({ memberId, claims }));
    },
    async kindsInUse(scope, from, to) {
      // The tasks that can have been in use: unfinished ones, ones with a verification since
      // `from` (done in the period or after it), ones cancelled since; each then decided exactly.
      // Each part is pinned to its index: statistics taken when most claims shared a time would
      // have the planner read every claim instead.
      const which = scope.projectId === undefined ? "pool_id = @poolId" : "project_id = @projectId";
      const openBy = scope.projectId === undefined ? "tasks_board_weight" : "tasks_project_board_weight";
      const p = scope.projectId === undefined ? { poolId: scope.poolId } : { projectId: scope.projectId };
      return stmt<[number, number]>(
        `WITH cand(id) AS (
             SELECT id FROM tasks INDEXED BY ${openBy} WHERE ${which} AND open_since IS NOT NULL AND cancelled_at IS NULL
             UNION SELECT task_id FROM claims INDEXED BY claims_open WHERE status IN ('active', 'reported')
             UNION SELECT task_id FROM claims INDEXED BY claims_verified WHERE verified_at >= @from
             UNION SELECT id FROM tasks INDEXED BY tasks_cancelled WHERE cancelled_at >= @from)
           SELECT DISTINCT tasks.project_id, tasks.kind_id FROM cand CROSS JOIN tasks ON tasks.id = cand.id
           WHERE tasks.${which} AND tasks.posted_at < @to AND (tasks.cancelled_at IS NULL OR tasks.cancelled_at >= @from)
             AND (tasks.cancelled_at IS NOT NULL
               OR (SELECT count(*) FROM claims AS verified WHERE verified.task_id = tasks.id AND verified.status = 'verified' AND verified.verified_at < @from) < tasks.slots)
           ORDER BY tasks.project_id, tasks.kind_id`,
      )
        .raw()
        .all({ ...p, from, to })
        .map(([projectId, kindId]) => ({ projectId, kindId }));
    },
    async goodInUse(goodId) {
      const [subscribers, onLoan] = stmt<[number, number]>(
        `SELECT (SELECT count(*) FROM subscriptions WHERE good_id = @goodId AND until IS NULL),
                (SELECT count(*) FROM loans WHERE good_id = @goodId AND returned_at IS NULL)`,
      )
        .raw()
        .get({ goodId })!;
      return { subscribers, onLoan };
    },
    async goodFlows(poolId, projectId, from, to) {
      return stmt<unknown[]>(
        `SELECT ${goodRows.list},
             (SELECT coalesce(sum(qty), 0) FROM productions INDEXED BY productions_good WHERE good_id = goods.id AND at >= @from AND at < @to),
             (SELECT coalesce(sum(qty), 0) FROM productions INDEXED BY productions_good WHERE good_id = goods.id AND at >= @from),
             (SELECT coalesce(sum(qty), 0) FROM allocations INDEXED BY allocations_good WHERE good_id = goods.id AND at >= @from),
             (SELECT coalesce(sum(qty), 0) FROM good_requests WHERE good_id = goods.id AND created_at >= @from AND created_at < @to),
             (SELECT count(*) FROM loans WHERE good_id = goods.id AND borrowed_at >= @from AND borrowed_at < @to),
             (SELECT count(*) FROM loans WHERE good_id = goods.id AND borrowed_at >= @from),
             (SELECT count(*) FROM loans WHERE good_id = goods.id AND returned_at >= @from)
           FROM goods WHERE goods.pool_id = @poolId AND goods.project_id = @projectId ORDER BY goods.name`,
      )
        .raw()
        .all({ poolId, projectId, from, to })
        .map((r) => {
          const [produced, producedSince, allocatedSince, requested, borrowed, lentSince, backSince] = r.slice(goodRows.width) as number[];
          return {
            good: goodRows.read(r),
            produced: produced!,
            producedSince: producedSince!,
            allocatedSince: allocatedSince!,
            requested: requested!,
            borrowed: borrowed!,
            lentSince: lentSince!,
            backSince: backSince!,
          };
        });
    },
    async goodRequestsMade(goodId, from, to) {
      return db
        .select()
        .from(t.goodRequests)
        .where(and(eq(t.goodRequests.goodId, goodId), gte(t.goodRequests.createdAt, from), lt(t.goodRequests.createdAt, to)))
        .orderBy(asc(t.goodRequests.id))
        .all();
    },
  };
}

/** How long a command waits for another process's write lock before it is refused as busy. */
export const LOCK_WAIT_MS = 15_000;
/** SQLite's own (blocking) busy wait per statement: short, so the event loop never stalls long. */
const BUSY_TIMEOUT_MS = 20;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** A write through a read-only connection (or one with query_only on). */
const isReadOnly = (e: unknown) => e instanceof Database.SqliteError && (e.code === "SQLITE_READONLY" || e.code.startsWith("SQLITE_READONLY_"));
const isBusy = (e: unknown) =>
  e instanceof Database.SqliteError && (e.code === "SQLITE_BUSY" || e.code.startsWith("SQLITE_BUSY_") || e.code === "SQLITE_LOCKED");

/** A claim is free when nobody holds it or its holder's lease ran out. */
const claimFree = (claimedUntil: typeof t.outbox.claimedUntil | typeof t.replies.claimedUntil | typeof t.memberNotes.claimedUntil, now: number) =>
  or(isNull(claimedUntil), lt(claimedUntil, now));

/**
 * What the read-only connection found, kept from one read to the next while the database did
 * not change: the rows every command looks up before its own work (the caller's identity,
 * member, room, pool and membership, and the next deadlines of catching up). It is exact:
 * SQLite's `PRAGMA data_version` on this connection changes whenever another connection
 * committed since its last read (this process's writer or another process), and this
 * connection never writes, so an unchanged version means every row is as it was. Each read
 * checks it first (which also starts the read's snapshot) and forgets everything when it
 * moved. The rows are frozen: they are shared by every read that finds them.
 */
class ReadMemo {
  private version: number | undefined;
  private readonly values = new Map<string, unknown>();

  /** At the start of each read: forgets everything when the database changed since the last. */
  check(version: number): void {
    if (version === this.version && this.values.size < READ_MEMO_SIZE) return;
    this.values.clear();
    this.version = version;
  }

  async get<V>(key: string, load: () => Promise<V>): Promise<V> {
    if (this.values.has(key)) return this.values.get(key) as V;
    const value = await load();
    this.values.set(key, deepFreeze(value));
    return value;
  }
}

/** How many rows the read memo keeps at most before it starts afresh (a few per caller seen). */
const READ_MEMO_SIZE = 10_000;

function deepFreeze<V>(v: V): V {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** The read-only connection's Tx: the lookups every command makes first go through the memo. */
function memoized(tx: Tx, memo: ReadMemo): Tx {
  const identity: Tx["identity"] = (platform, externalId) => memo.get(`identity\u0000${platform}\u0000${externalId}`, () => tx.identity(platform, externalId));
  const member: Tx["member"] = (id) => memo.get(`member\u0000${id}`, () => tx.member(id));
  const room: Tx["room"] = (platform, externalId) => memo.get(`room\u0000${platform}\u0000${externalId}`, () => tx.room(platform, externalId));
  const pool: Tx["pool"] = (id) => memo.get(`pool\u0000${id}`, () => tx.pool(id));
  const membership: Tx["membership"] = (poolId, memberId) => memo.get(`membership\u0000${poolId}\u0000${memberId}`, () => tx.membership(poolId, memberId));
  const nextDeadlines: Tx["nextDeadlines"] = () => memo.get("nextDeadlines", () => tx.nextDeadlines());
  return {
    ...tx,
    identity,
    member,
    room,
    pool,
    membership,
    nextDeadlines,
    // The request id's rows are new each time (two statements); who the caller is and where,
    // and the deadlines, come from the memo while the database is unchanged (none).
    async opening(q) {
      const reply = q.withReply ? await tx.reply(q.requestId) : undefined;
      const request = await tx.request(q.requestId);
      const id = await identity(q.platform, q.userId);
      const m = id && (await member(id.memberId));
      const r = await room(q.platform, q.roomId);
      const p = r && (await pool(r.poolId));
      const ms = p && m && (await membership(p.id, m.id));
      return { reply, request, member: m, room: r, pool: p, membership: ms, deadlines: await nextDeadlines() };
    },
  };
}

export interface SqliteStoreOptions {
  /** How long a transaction waits for another process's write lock (ms). */
  readonly lockWaitMs?: number;
}

export class SqliteStore implements Store {
  readonly db: SqliteDb;
  private readonly tx: Tx;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Transactions running or waiting in line. */
  private pending = 0;
  private reader:
    | { db: SqliteDb; tx: Tx; queue: Promise<unknown>; begin: Database.Statement; commit: Database.Statement; version: Database.Statement; memo: ReadMemo }
    | undefined;
  private readonly lockWaitMs: number;
  private readonly counter: StatementCounter = { n: 0 };
  /** The writer's BEGIN IMMEDIATE, COMMIT and ROLLBACK, prepared once: compiling them cost about as much as running them. */
  private readonly control: { readonly begin: Database.Statement; readonly commit: Database.Statement; readonly rollback: Database.Statement };

  constructor(
    private readonly file: string,
    o: SqliteStoreOptions = {},
  ) {
    this.db = openSqlite(file);
    this.db.$client.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.tx = makeTx(this.db, this.counter);
    const client = this.db.$client;
    this.control = { begin: client.prepare("BEGIN IMMEDIATE"), commit: client.prepare("COMMIT"), rollback: client.prepare("ROLLBACK") };
    this.lockWaitMs = o.lockWaitMs ?? LOCK_WAIT_MS;
  }

  idle(): boolean {
    return this.pending === 0;
  }

  /**
   * How many SQL statements the store's transactions and reads have run since it opened, on
   * either connection (BEGIN, COMMIT and ROLLBACK not counted): a test counts the queries of a
   * command as the difference before and after it.
   */
  get statements(): number {
    return this.counter.n;
  }

  /** BEGIN IMMEDIATE, waiting for another process's write lock with timers (the loop keeps turning). */
  private async begin(): Promise<void> {
    const deadline = Date.now() + this.lockWaitMs;
    for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
      try {
        this.control.begin.run();
        return;
      } catch (e) {
        if (!isBusy(e)) throw e;
        if (Date.now() >= deadline) throw new DatabaseBusyError(this.lockWaitMs);
        await sleep(wait);
      }
    }
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    this.pending++;
    const run = async (): Promise<T> => {
      try {
        // A fresh turn of the event loop: sockets and timers (a Discord acknowledgement) get
        // their turn between two commands, however many wait in line.
        await turn();
        if (this.closed) throw new Error("the database is closed");
        const client = this.db.$client;
        await this.begin();
        try {
          const value = await fn(this.tx);
          this.control.commit.run();
          return value;
        } catch (e) {
          if (client.inTransaction) this.control.rollback.run();
          // A statement that met another process's lock (rare in WAL mode): busy, not a bug.
          throw isBusy(e) ? new DatabaseBusyError(BUSY_TIMEOUT_MS) : e;
        }
      } finally {
        this.pending--;
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    // An in-memory database has one connection only: reads take their turn in the queue, with
    // writing switched off for their time (query_only), so that a write throws there too.
    if (this.file === ":memory:") {
      return this.transaction(async (tx) => {
        const client = this.db.$client;
        client.pragma("query_only = 1");
        try {
          return await fn(tx);
        } catch (e) {
          throw isReadOnly(e) ? new WriteInReadError(e) : e;
        } finally {
          client.pragma("query_only = 0");
        }
      });
    }
    if (this.closed) return Promise.reject(new Error("the database is closed"));
    if (!this.reader) {
      const client = new Database(this.file, { readonly: true, fileMustExist: true });
      client.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      const db = drizzle(client, { schema: t });
      const memo = new ReadMemo();
      // BEGIN, COMMIT and the version prepared once: compiling them took longer than running them.
      const [begin, commit, version] = [client.prepare("BEGIN"), client.prepare("COMMIT"), client.prepare("PRAGMA data_version").pluck()];
      this.reader = { db, tx: memoized(makeTx(db, this.counter), memo), queue: Promise.resolve(), begin, commit, version, memo };
    }
    const reader = this.reader;
    const run = async (): Promise<T> => {
      const client = reader.db.$client;
      // Deferred: the snapshot is taken at the first read and never waits for the write lock.
      reader.begin.run();
      try {
        // The first read: it takes the snapshot, and says whether the memo still holds.
        reader.memo.check(reader.version.get() as number);
        return await fn(reader.tx);
      } catch (e) {
        // Busy only in rare moments of WAL upkeep (a reader never waits for the write lock).
        throw isReadOnly(e) ? new WriteInReadError(e) : isBusy(e) ? new DatabaseBusyError(BUSY_TIMEOUT_MS) : e;
      } finally {
        if (client.inTransaction) reader.commit.run();
      }
    };
    const result = reader.queue.then(run, run);
    reader.queue = result.catch(() => undefined);
    return result;
  }

  async pendingOutbox(platform: string, limit: number) {
    await this.queue;
    const rows = this.db
      .select({ outbox: t.outbox, room: t.rooms })
      .from(t.outbox)
      .innerJoin(t.rooms, eq(t.rooms.id, t.outbox.roomId))
      .where(and(isNull(t.outbox.deliveredAt), eq(t.rooms.platform, platform)))
      .orderBy(asc(t.outbox.id))
      .limit(limit)
      .all();
    return rows.map((r) => ({ ...r.outbox, room: r.room }));
  }

  async markDelivered(ids: readonly number[], at: number): Promise<number[]> {
    if (ids.length === 0) return [];
    return this.transaction(async () =>
      this.db
        .update(t.outbox)
        .set({ deliveredAt: at })
        .where(and(inArray(t.outbox.id, [...ids]), isNull(t.outbox.deliveredAt)))
        .returning({ id: t.outbox.id })
        .all()
        .map((r) => r.id),
    );
  }

  async pendingNotes(platform: string, limit: number) {
    await this.queue;
    const rows = this.db
      .select({ note: t.memberNotes, externalId: t.identities.externalId })
      .from(t.memberNotes)
      .innerJoin(t.identities, and(eq(t.identities.memberId, t.memberNotes.memberId), eq(t.identities.platform, platform), noteReaches))
      .where(isNull(t.memberNotes.deliveredAt))
      .orderBy(asc(t.memberNotes.id))
      .limit(limit)
      .all();
    return rows.map((r) => ({ ...r.note, externalId: r.externalId }));
  }

  async markNotesDelivered(ids: readonly number[], at: number): Promise<number[]> {
    if (ids.length === 0) return [];
    return this.transaction(async () =>
      this.db
        .update(t.memberNotes)
        .set({ deliveredAt: at })
        .where(and(inArray(t.memberNotes.id, [...ids]), isNull(t.memberNotes.deliveredAt)))
        .returning({ id: t.memberNotes.id })
        .all()
        .map((r) => r.id),
    );
  }

  claimReplies(platform: string, o: ClaimOptions): Promise<ReplyRow[]> {
    return this.transaction(async () => {
      const rows = this.db
        .select()
        .from(t.replies)
        .where(and(eq(t.replies.platform, platform), isNull(t.replies.deliveredAt), isNull(t.replies.failedAt), claimFree(t.replies.claimedUntil, o.now)))
        .orderBy(asc(t.replies.createdAt))
        .limit(o.limit)
        .all();
      if (rows.length === 0) return [];
      this.db
        .update(t.replies)
        .set({ claimedBy: o.owner, claimedUntil: o.now + o.leaseMs })
        .where(
          inArray(
            t.replies.requestId,
            rows.map((r) => r.requestId),
          ),
        )
        .run();
      return rows;
    });
  }

  claimReply(requestId: string, o: Omit<ClaimOptions, "limit">): Promise<ReplyRow | undefined> {
    return this.transaction(async () => {
      const row = this.db
        .select()
        .from(t.replies)
        .where(and(eq(t.replies.requestId, requestId), isNull(t.replies.deliveredAt), isNull(t.replies.failedAt), claimFree(t.replies.claimedUntil, o.now)))
        .get();
      if (!row) return undefined;
      this.db
        .update(t.replies)
        .set({ claimedBy: o.owner, claimedUntil: o.now + o.leaseMs })
        .where(eq(t.replies.requestId, requestId))
        .run();
      return row;
    });
  }

  claimOutbox(platform: string, o: ClaimOptions) {
    return this.transaction(async () => {
      const rows = this.db
        .select({ outbox: t.outbox, room: t.rooms })
        .from(t.outbox)
        .innerJoin(t.rooms, eq(t.rooms.id, t.outbox.roomId))
        .where(
          and(
            isNull(t.outbox.deliveredAt),
            isNull(t.outbox.failedAt),
            eq(t.rooms.platform, platform),
            isNull(t.rooms.unreachableSince),
            claimFree(t.outbox.claimedUntil, o.now),
          ),
        )
        .orderBy(asc(t.outbox.id))
        .limit(o.limit)
        .all();
      if (rows.length === 0) return [];
      this.db
        .update(t.outbox)
        .set({ claimedBy: o.owner, claimedUntil: o.now + o.leaseMs })
        .where(
          inArray(
            t.outbox.id,
            rows.map((r) => r.outbox.id),
          ),
        )
        .run();
      return rows.map((r) => ({ ...r.outbox, attempts: r.outbox.attempts, room: r.room }));
    });
  }

  claimNotes(platform: string, o: ClaimOptions) {
    return this.transaction(async () => {
      const rows = this.db
        .select({ note: t.memberNotes, externalId: t.identities.externalId })
        .from(t.memberNotes)
        .innerJoin(t.identities, and(eq(t.identities.memberId, t.memberNotes.memberId), eq(t.identities.platform, platform), noteReaches))
        .where(and(isNull(t.memberNotes.deliveredAt), isNull(t.memberNotes.failedAt), claimFree(t.memberNotes.claimedUntil, o.now)))
        .orderBy(asc(t.memberNotes.id))
        .limit(o.limit)
        .all();
      // A member with two identities on the platform gets the note once, at the first.
      const seen = new Set<number>();
      const notes = rows.filter((r) => !seen.has(r.note.id) && seen.add(r.note.id));
      if (notes.length === 0) return [];
      this.db
        .update(t.memberNotes)
        .set({ claimedBy: o.owner, claimedUntil: o.now + o.leaseMs })
        .where(
          inArray(
            t.memberNotes.id,
            notes.map((r) => r.note.id),
          ),
        )
        .run();
      return notes.map((r) => ({ ...r.note, attempts: r.note.attempts, externalId: r.externalId }));
    });
  }

  settle(ref: DeliveryRef, owner: string, outcome: DeliveryOutcome): Promise<void> {
    const set =
      "delivered" in outcome
        ? { deliveredAt: outcome.delivered, claimedBy: null, claimedUntil: null }
        : "retryAt" in outcome
          ? { claimedBy: null, claimedUntil: outcome.retryAt, failure: outcome.error.slice(0, 500) }
          : { failedAt: outcome.failedAt, failure: outcome.reason.slice(0, 500), claimedBy: null, claimedUntil: null };
    return this.transaction(async () => {
      if (ref.kind === "reply") {
        this.db
          .update(t.replies)
          .set({ ...set, attempts: sql`${t.replies.attempts} + 1` })
          .where(and(eq(t.replies.requestId, ref.id), eq(t.replies.claimedBy, owner)))
          .run();
      } else if (ref.kind === "outbox") {
        this.db
          .update(t.outbox)
          .set({ ...set, attempts: sql`${t.outbox.attempts} + 1` })
          .where(and(eq(t.outbox.id, ref.id), eq(t.outbox.claimedBy, owner)))
          .run();
      } else {
        this.db
          .update(t.memberNotes)
          .set({ ...set, attempts: sql`${t.memberNotes.attempts} + 1` })
          .where(and(eq(t.memberNotes.id, ref.id), eq(t.memberNotes.claimedBy, owner)))
          .run();
      }
    });
  }

  markRoomUnreachable(roomId: number, at: number): Promise<void> {
    return this.transaction(async () => {
      this.db
        .update(t.rooms)
        .set({ unreachableSince: at })
        .where(and(eq(t.rooms.id, roomId), isNull(t.rooms.unreachableSince)))
        .run();
      // What was waiting for the room is given up with it: it would be stale by the time the bot is back.
      this.db
        .update(t.outbox)
        .set({ failedAt: at, failure: "the platform refused the bot in this room", claimedBy: null, claimedUntil: null })
        .where(and(eq(t.outbox.roomId, roomId), isNull(t.outbox.deliveredAt), isNull(t.outbox.failedAt)))
        .run();
    });
  }

  async boardMessage(roomId: number) {
    await this.queue;
    return this.db.select({ id: t.boards.messageId }).from(t.boards).where(eq(t.boards.roomId, roomId)).get()?.id ?? null;
  }

  async setBoardMessage(roomId: number, messageId: string | null) {
    await this.transaction(async () => {
      this.db.update(t.boards).set({ messageId }).where(eq(t.boards.roomId, roomId)).run();
    });
  }

  async close() {
    await this.queue;
    if (this.reader) await this.reader.queue;
    if (!this.closed) {
      this.closed = true;
      this.reader?.db.$client.close();
      this.db.$client.close();
    }
  }
}

export type { AccountKind };
