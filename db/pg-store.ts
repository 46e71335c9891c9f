// The Store on PostgreSQL, for several bot processes on one database. Each transaction runs on
// a connection of its own at SERIALIZABLE: what it read stays true until it commits, or the
// database refuses the commit (serialization failure, deadlock) and the whole transaction runs
// again, a bounded number of times, after a short random pause. The caller never sees that;
// the function it passes may run more than once, so it must do nothing outside the
// transaction (no message sent, no counter moved) before the transaction's promise resolves.
// Reads run in REPEATABLE READ READ ONLY transactions: one snapshot, and a write is refused.
// Delivery claims hold across processes: the rows are picked with FOR UPDATE SKIP LOCKED, so
// two processes never claim one row.
//
// The queries are those of db/sqlite-store.ts in PostgreSQL's words (unnest and ANY for JSON
// id lists, LEAST and GREATEST for SQLite's two-argument min and max, FILTER for sums of
// booleans, no INDEXED BY: PostgreSQL's planner keeps its own statistics).
import { getTableColumns } from "drizzle-orm";
import type pg from "pg";
import { SLOT_HOLDING_STATUSES } from "../src/core/tasks.ts";
import { DatabaseBusyError, WriteInReadError } from "../src/errors.ts";
import type {
  AccountRow,
  ClaimOptions,
  ClaimRow,
  Deadlines,
  DeliveryOutcome,
  DeliveryRef,
  EntryRow,
  GoalRow,
  GoodRequestRow,
  GoodRow,
  IdentityRow,
  KindChangeRow,
  KindRow,
  LoanRow,
  MemberRow,
  MembershipRow,
  NoteRow,
  OpenTaskLine,
  OpenTaskRow,
  OpenTaskScope,
  OutboxRow,
  PoolRow,
  ProductionRow,
  ProjectRow,
  ReplyRow,
  RequestRow,
  RoomRow,
  RoundRow,
  Store,
  SubscriptionRow,
  TaskDueChangeRow,
  TaskRow,
  Tx,
} from "../src/store.ts";
import { openPg, type PgOptions } from "./pg-client.ts";
import * as t from "./pg-schema.ts";

type Table = Parameters<typeof getTableColumns>[0];
type Params = readonly unknown[] | Readonly<Record<string, unknown>>;

/** `alias."column" AS "field", ...` of every column of the table: rows come back typed by field. */
function cols(table: Table, alias: string, prefix = ""): string {
  return Object.entries(getTableColumns(table))
    .map(([key, col]) => `${alias}."${col.name}" AS "${prefix}${key}"`)
    .join(", ");
}

/** `alias."column", ...` of every column, in the schema's order (for json_build_array). */
function plainCols(table: Table, alias: string): string {
  return Object.values(getTableColumns(table))
    .map((col) => `${alias}."${col.name}"`)
    .join(", ");
}

/** The row of `table` from an array of its columns' values in the schema's order (json_build_array's). */
function fromArray<R>(table: Table, values: readonly unknown[]): R {
  const o: Record<string, unknown> = {};
  Object.keys(getTableColumns(table)).forEach((key, i) => (o[key] = values[i]));
  return o as R;
}

/**
 * The row of `table` whose fields came back prefixed (cols(table, alias, prefix)) in a wider row;
 * undefined when a LEFT JOIN found none (its first column is null: a key, never null in a row).
 */
function prefixed<R>(table: Table, row: Readonly<Record<string, unknown>>, prefix: string): R | undefined {
  const keys = Object.keys(getTableColumns(table));
  if (row[prefix + keys[0]!] === null) return undefined;
  const o: Record<string, unknown> = {};
  for (const key of keys) o[key] = row[prefix + key];
  return o as R;
}

/** The earliest deadlines (Deadlines) as four columns: claim, round, loan and unsettled (JSON). */
const DEADLINES_SQL = `(SELECT min(expires_at) FROM claims WHERE status = 'active') AS "dl.claim",
  (SELECT min(closes_at) FROM rounds WHERE closed_at IS NULL) AS "dl.round",
  (SELECT min(due_at) FROM loans WHERE returned_at IS NULL AND overdue_at IS NULL) AS "dl.loan",
  (SELECT coalesce(json_agg(json_build_array(u.pool_id, u.policy, u.since) ORDER BY u.pool_id), '[]') FROM (
     SELECT g.pool_id, p.policy,
            min(coalesce((SELECT s.period_end FROM settlements s WHERE s.good_id = g.id ORDER BY s.period_start DESC LIMIT 1), g.created_at)) AS since
     FROM goods g JOIN pools p ON p.id = g.pool_id
     WHERE g.model = 'flat-rate'
     GROUP BY g.pool_id, p.policy) AS u) AS "dl.unsettled"`;

function readDeadlines(row: Readonly<Record<string, unknown>>): Deadlines {
  const unsettled = (row["dl.unsettled"] as Array<[number, string, number]>).map(([poolId, policy, since]) => ({ poolId, policy, since: Number(since) }));
  const n = (v: unknown) => (v === null ? null : Number(v));
  return { claim: n(row["dl.claim"]), round: n(row["dl.round"]), loan: n(row["dl.loan"]), unsettled };
}

/** Field name to column name, per table (INSERT and UPDATE of whatever fields a row has). */
const columnNames = new WeakMap<object, Map<string, string>>();
function columnOf(table: Table, key: string): string | undefined {
  let names = columnNames.get(table);
  if (!names) columnNames.set(table, (names = new Map(Object.entries(getTableColumns(table)).map(([k, col]) => [k, col.name]))));
  return names.get(key);
}

/**
 * Queries are written with named parameters (@name), as the SQLite store's are; PostgreSQL
 * numbers them ($1, $2, ...). Each text is translated once.
 */
const translated = new Map<string, { text: string; names: string[] }>();
function numbered(text: string): { text: string; names: string[] } {
  let found = translated.get(text);
  if (!found) {
    const names: string[] = [];
    const out = text.replace(/@([A-Za-z_]\w*)/g, (_, name: string) => {
      let i = names.indexOf(name);
      if (i < 0) i = names.push(name) - 1;
      return `$${i + 1}`;
    });
    translated.set(text, (found = { text: out, names }));
  }
  return found;
}

/**
 * Each query text gets a name, so that PostgreSQL parses and plans it once per connection
 * (a prepared statement) rather than at every call.
 */
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) statementNames.set(text, (name = `dpool_${statementNames.size + 1}`));
  return name;
}

/** Statements run, counted (PgStore.statements). */
interface StatementCounter {
  n: number;
}

/** Runs queries on one connection (of a transaction), counting them. */
class Conn {
  constructor(
    readonly client: pg.PoolClient,
    private readonly counter: StatementCounter,
  ) {}

  private query(text: string, params: Params): Promise<pg.QueryResult> {
    this.counter.n++;
    if (Array.isArray(params)) return this.client.query({ name: statementName(text), text, values: params as unknown[] });
    const n = numbered(text);
    const named = params as Record<string, unknown>;
    const values = n.names.map((k) => {
      if (!(k in named)) throw new Error(`no value for @${k}`);
      return named[k];
    });
    return this.client.query({ name: statementName(n.text), text: n.text, values });
  }

  async all<R>(text: string, params: Params = []): Promise<R[]> {
    return (await this.query(text, params)).rows as R[];
  }

  async one<R>(text: string, params: Params = []): Promise<R | undefined> {
    return (await this.all<R>(text, params))[0];
  }

  /** Runs a statement; how many rows it changed. */
  async run(text: string, params: Params = []): Promise<number> {
    return (await this.query(text, params)).rowCount ?? 0;
  }
}

const C = {
  pools: cols(t.pools, "pools"),
  members: cols(t.members, "members"),
  memberships: cols(t.memberships, "memberships"),
  projects: cols(t.projects, "projects"),
  rooms: cols(t.rooms, "rooms"),
  goals: cols(t.goals, "goals"),
  codes: cols(t.codes, "codes"),
  accounts: cols(t.accounts, "accounts"),
  entries: cols(t.entries, "entries"),
  kinds: cols(t.kinds, "kinds"),
  kindChanges: cols(t.kindChanges, "kind_changes"),
  tasks: cols(t.tasks, "tasks"),
  claims: cols(t.claims, "claims"),
  dueChanges: cols(t.taskDueChanges, "task_due_changes"),
  goods: cols(t.goods, "goods"),
  productions: cols(t.productions, "productions"),
  goodRequests: cols(t.goodRequests, "good_requests"),
  rounds: cols(t.rounds, "rounds"),
  allocations: cols(t.allocations, "allocations"),
  subscriptions: cols(t.subscriptions, "subscriptions"),
  loans: cols(t.loans, "loans"),
  boards: cols(t.boards, "boards"),
  requests: cols(t.requests, "requests"),
  replies: cols(t.replies, "replies"),
  outbox: cols(t.outbox, "outbox"),
  notes: cols(t.memberNotes, "member_notes"),
};

/** Linking (Tx.mergeMemberRows), in order; as in db/sqlite-store.ts. */
const MERGE_MEMBER_ROWS = [
  // Pool memberships: the higher role, the earlier joining.
  `UPDATE memberships AS m SET role = CASE WHEN m.role = 'admin' OR f.role = 'admin' THEN 'admin' ELSE m.role END, joined_at = LEAST(m.joined_at, f.joined_at)
     FROM memberships AS f WHERE m.member_id = @to AND f.member_id = @from AND f.pool_id = m.pool_id`,
  "DELETE FROM memberships WHERE member_id = @from AND pool_id IN (SELECT pool_id FROM memberships WHERE member_id = @to)",
  "UPDATE memberships SET member_id = @to WHERE member_id = @from",
  // Coordinator seats: one per project, since the earlier.
  `UPDATE coordinators AS c SET added_at = LEAST(c.added_at, f.added_at)
     FROM coordinators AS f WHERE c.member_id = @to AND f.member_id = @from AND f.project_id = c.project_id`,
  "DELETE FROM coordinators WHERE member_id = @from AND project_id IN (SELECT project_id FROM coordinators WHERE member_id = @to)",
  "UPDATE coordinators SET member_id = @to WHERE member_id = @from",
  // Waitlist places: the earlier arrival (and its place among equal times); waiting if either still waits.
  `UPDATE waitlist AS w SET "at" = LEAST(w."at", f."at"), seq = CASE WHEN f."at" < w."at" THEN f.seq ELSE w.seq END,
       left_at = CASE WHEN w.left_at IS NULL OR f.left_at IS NULL THEN NULL ELSE GREATEST(w.left_at, f.left_at) END
     FROM waitlist AS f WHERE w.member_id = @to AND f.member_id = @from AND f.task_id = w.task_id`,
  "DELETE FROM waitlist WHERE member_id = @from AND task_id IN (SELECT task_id FROM waitlist WHERE member_id = @to)",
  "UPDATE waitlist SET member_id = @to WHERE member_id = @from",
  // Subscriptions: of two running ones to one good, the later ends now (one member, one share).
  "UPDATE subscriptions SET member_id = @to WHERE member_id = @from",
  `UPDATE subscriptions AS s SET "until" = @at WHERE s.member_id = @to AND s."until" IS NULL AND EXISTS (
     SELECT 1 FROM subscriptions AS e WHERE e.member_id = @to AND e.good_id = s.good_id AND e."until" IS NULL AND (e.since < s.since OR (e.since = s.since AND e.id < s.id)))`,
  // The rest simply moves.
  "UPDATE claims SET member_id = @to WHERE member_id = @from",
  "UPDATE good_requests SET member_id = @to WHERE member_id = @from",
  "UPDATE allocations SET member_id = @to WHERE member_id = @from",
  "UPDATE loans SET member_id = @to WHERE member_id = @from",
  "UPDATE member_notes SET member_id = @to WHERE member_id = @from",
  "UPDATE requests SET member_id = @to WHERE member_id = @from",
];

/** The statuses of a claim that holds a slot (src/core/tasks.ts), as a list for SQL's IN (fixed words, never input). */
const SLOT_HOLDING_SQL = SLOT_HOLDING_STATUSES.map((s) => `'${s}'`).join(", ");

/** The tasks that take claims at @now, of a pool or a project (and kind): the boards' partial indexes' terms. */
function openScope(scope: OpenTaskScope): string {
  return [
    scope.projectId === undefined ? "t.pool_id = @poolId" : "t.project_id = @projectId",
    "t.open_since IS NOT NULL AND t.cancelled_at IS NULL AND (t.due_at IS NULL OR t.due_at > @now::bigint)",
    ...(scope.kindId === undefined ? [] : ["t.kind_id = @kindId"]),
  ].join(" AND ");
}

function scopeParams(scope: OpenTaskScope): Record<string, number> {
  return {
    ...(scope.projectId === undefined ? { poolId: scope.poolId } : { projectId: scope.projectId }),
    now: scope.now,
    ...(scope.kindId === undefined ? {} : { kindId: scope.kindId }),
  };
}

/** Rows per INSERT when many go in at once (PostgreSQL takes up to 65,535 values per statement). */
const BULK = 500;

const ENTRY_COLUMNS = ["pool_id", "from_account", "to_account", "amount", "kind", "memo", "reverses", "request_id", "created_at", "created_by"];
const entryValues = (e: Omit<EntryRow, "id">) => [
  e.poolId,
  e.fromAccount,
  e.toAccount,
  e.amount,
  e.kind,
  e.memo,
  e.reverses,
  e.requestId,
  e.createdAt,
  e.createdBy,
];

function makeTx(c: Conn): Tx {
  /** Inserts rows many at a time; the new ids in order (RETURNING gives them in the order of VALUES). */
  const insertMany = async (table: string, columns: readonly string[], values: ReadonlyArray<readonly unknown[]>): Promise<number[]> => {
    const ids: number[] = [];
    for (let at = 0; at < values.length; at += BULK) {
      const chunk = values.slice(at, at + BULK);
      let n = 0;
      const rowsText = chunk.map((row) => `(${row.map(() => `$${++n}`).join(", ")})`).join(", ");
      const rows = await c.all<{ id: number }>(`INSERT INTO ${table} (${columns.join(", ")}) VALUES ${rowsText} RETURNING id`, chunk.flat());
      for (const r of rows) ids.push(r.id);
    }
    return ids;
  };
  /**
   * Inserts one row with the fields it has (undefined ones left to their defaults); its id, for
   * tables that have one. `orIgnore`: a row that would break a unique key is left out.
   */
  const insertRow = async (table: Table, name: string, r: Readonly<Record<string, unknown>>, o: { orIgnore?: boolean } = {}): Promise<number> => {
    const keys = Object.keys(r).filter((k) => r[k] !== undefined && columnOf(table, k) !== undefined);
    const hasId = columnOf(table, "id") !== undefined;
    const text = `INSERT INTO ${name} (${keys.map((k) => `"${columnOf(table, k)}"`).join(", ")}) VALUES (${keys.map((_, i) => `$${i + 1}`).join(", ")})${o.orIgnore ? " ON CONFLICT DO NOTHING" : ""}${hasId ? " RETURNING id" : ""}`;
    const found = await c.one<{ id: number }>(
      text,
      keys.map((k) => r[k]),
    );
    return found?.id ?? 0;
  };
  /** Sets the given fields of one row by its id. */
  const updateRow = async (table: Table, name: string, id: number, p: Readonly<Record<string, unknown>>): Promise<void> => {
    const keys = Object.keys(p).filter((k) => p[k] !== undefined && columnOf(table, k) !== undefined);
    if (keys.length === 0) return;
    await c.run(`UPDATE ${name} SET ${keys.map((k, i) => `"${columnOf(table, k)}" = $${i + 1}`).join(", ")} WHERE id = $${keys.length + 1}`, [
      ...keys.map((k) => p[k]),
      id,
    ]);
  };
  /** Moves each account's balance once by the sum of its entries' amounts. */
  const moveBalances = async (es: ReadonlyArray<Omit<EntryRow, "id">>): Promise<void> => {
    const moves = new Map<number, number>();
    for (const e of es) {
      moves.set(e.fromAccount, (moves.get(e.fromAccount) ?? 0) - e.amount);
      moves.set(e.toAccount, (moves.get(e.toAccount) ?? 0) + e.amount);
    }
    const moved = [...moves].filter(([, amount]) => amount !== 0);
    if (moved.length === 0) return;
    await c.run("UPDATE accounts SET balance = balance + m.amount FROM unnest($1::int[], $2::bigint[]) AS m(id, amount) WHERE accounts.id = m.id", [
      moved.map(([id]) => id),
      moved.map(([, amount]) => amount),
    ]);
  };

  return {
    async insertPool(p) {
      return insertRow(t.pools, "pools", p);
    },
    async pool(id) {
      return c.one<PoolRow>(`SELECT ${C.pools} FROM pools WHERE id = $1::bigint`, [id]);
    },
    async pools() {
      return c.all<PoolRow>(`SELECT ${C.pools} FROM pools ORDER BY id`);
    },
    async setPoolPolicy(id, policy) {
      await c.run("UPDATE pools SET policy = $1 WHERE id = $2", [policy, id]);
    },
    async advanceClock(at, poolId) {
      if (poolId === undefined) await c.run("UPDATE pools SET clock = $1 WHERE clock < $1", [at]);
      else await c.run("UPDATE pools SET clock = $1 WHERE id = $2 AND clock < $1", [at, poolId]);
    },
    async touchPool(poolId, at, o) {
      if (!o.boards) await c.run("UPDATE pools SET clock = $1 WHERE id = $2 AND clock < $1", [at, poolId]);
      // GREATEST leaves out a null: the first mark is `at`.
      else await c.run("UPDATE pools SET clock = GREATEST(clock, $1), boards_dirty_at = GREATEST(boards_dirty_at, $1) WHERE id = $2", [at, poolId]);
    },
    async opening(q) {
      // One row from one probe of each key (as db/sqlite-store.ts): the request id's rows, the
      // identity's member, the room with its pool, the member's membership there; the deadlines.
      const row = (await c.one<Record<string, unknown>>(
        `SELECT ${
          q.withReply
            ? cols(t.replies, "rp", "rp.")
            : Object.keys(getTableColumns(t.replies))
                .map((k) => `NULL AS "rp.${k}"`)
                .join(", ")
        },
                ${cols(t.requests, "rq", "rq.")}, ${cols(t.members, "m", "m.")}, ${cols(t.rooms, "ro", "ro.")}, ${cols(t.pools, "p", "p.")},
                ${cols(t.memberships, "ms", "ms.")}, ${DEADLINES_SQL}
         FROM (SELECT 1) AS one
         LEFT JOIN replies rp ON rp.request_id = @requestId
         LEFT JOIN requests rq ON rq.request_id = @requestId
         LEFT JOIN identities i ON i.platform = @platform AND i.external_id = @userId
         LEFT JOIN members m ON m.id = i.member_id
         LEFT JOIN rooms ro ON ro.platform = @platform AND ro.external_id = @roomId
         LEFT JOIN pools p ON p.id = ro.pool_id
         LEFT JOIN memberships ms ON ms.pool_id = p.id AND ms.member_id = m.id`,
        { requestId: q.requestId, platform: q.platform, userId: q.userId, roomId: q.roomId },
      ))!;
      return {
        reply: prefixed<ReplyRow>(t.replies, row, "rp."),
        request: prefixed<RequestRow>(t.requests, row, "rq."),
        member: prefixed<MemberRow>(t.members, row, "m."),
        room: prefixed<RoomRow>(t.rooms, row, "ro."),
        pool: prefixed<PoolRow>(t.pools, row, "p."),
        membership: prefixed<MembershipRow>(t.memberships, row, "ms."),
        deadlines: readDeadlines(row),
      };
    },

    async identity(platform, externalId) {
      return c.one<IdentityRow>(
        'SELECT platform, external_id AS "externalId", member_id AS "memberId" FROM identities WHERE platform = $1 AND external_id = $2',
        [platform, externalId],
      );
    },
    async identitiesOf(memberId) {
      return c.all<IdentityRow>('SELECT platform, external_id AS "externalId", member_id AS "memberId" FROM identities WHERE member_id = $1 ORDER BY id', [
        memberId,
      ]);
    },
    async insertMember(handle, createdAt) {
      return insertRow(t.members, "members", { handle, createdAt });
    },
    async insertIdentity(i) {
      await insertRow(t.identities, "identities", i);
    },
    async moveIdentities(fromMember, toMember) {
      await c.run("UPDATE identities SET member_id = $1 WHERE member_id = $2", [toMember, fromMember]);
    },
    async markMerged(memberId, into) {
      await c.run("UPDATE members SET merged_into = $1 WHERE id = $2", [into, memberId]);
    },
    async mergeMemberRows(fromMember, toMember, at) {
      const p = { from: fromMember, to: toMember, at };
      for (const text of MERGE_MEMBER_ROWS) await c.run(text, p);
    },
    async member(id) {
      return c.one<MemberRow>(`SELECT ${C.members} FROM members WHERE id = $1::bigint`, [id]);
    },
    async memberByHandle(handle) {
      return c.one<MemberRow>(`SELECT ${C.members} FROM members WHERE handle = $1`, [handle]);
    },

    async membership(poolId, memberId) {
      return c.one<MembershipRow>(`SELECT ${C.memberships} FROM memberships WHERE pool_id = $1 AND member_id = $2`, [poolId, memberId]);
    },
    async membershipsOf(memberId) {
      return c.all<MembershipRow>(`SELECT ${C.memberships} FROM memberships WHERE member_id = $1 ORDER BY pool_id`, [memberId]);
    },
    async insertMembership(m) {
      await insertRow(t.memberships, "memberships", m);
    },
    async setRole(poolId, memberId, role) {
      await c.run("UPDATE memberships SET role = $1 WHERE pool_id = $2 AND member_id = $3", [role, poolId, memberId]);
    },
    async members(poolId) {
      return c.all<MembershipRow & { handle: string }>(
        `SELECT ${C.memberships}, members.handle FROM memberships JOIN members ON members.id = memberships.member_id
         WHERE memberships.pool_id = $1 AND members.merged_into IS NULL ORDER BY members.handle COLLATE "C"`,
        [poolId],
      );
    },

    async insertProject(p) {
      return insertRow(t.projects, "projects", p);
    },
    async project(id) {
      return c.one<ProjectRow>(`SELECT ${C.projects} FROM projects WHERE id = $1::bigint`, [id]);
    },
    async projectBySlug(poolId, slug) {
      return c.one<ProjectRow>(`SELECT ${C.projects} FROM projects WHERE pool_id = $1 AND slug = $2`, [poolId, slug]);
    },
    async projects(poolId) {
      return c.all<ProjectRow>(`SELECT ${C.projects} FROM projects WHERE pool_id = $1 ORDER BY slug COLLATE "C"`, [poolId]);
    },
    async coordinators(projectId) {
      return c.all<{ memberId: number; handle: string; addedAt: number }>(
        `SELECT coordinators.member_id AS "memberId", members.handle, coordinators.added_at AS "addedAt" FROM coordinators JOIN members ON members.id = coordinators.member_id
         WHERE coordinators.project_id = $1 ORDER BY coordinators.added_at, members.handle COLLATE "C"`,
        [projectId],
      );
    },
    async coordinatorProjects(poolId, memberId) {
      return c.all<ProjectRow>(
        `SELECT ${C.projects} FROM coordinators JOIN projects ON projects.id = coordinators.project_id
         WHERE projects.pool_id = $1 AND coordinators.member_id = $2 ORDER BY projects.slug COLLATE "C"`,
        [poolId, memberId],
      );
    },
    async insertCoordinator(projectId, memberId, addedAt) {
      await c.run("INSERT INTO coordinators (project_id, member_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [projectId, memberId, addedAt]);
    },
    async deleteCoordinator(projectId, memberId) {
      await c.run("DELETE FROM coordinators WHERE project_id = $1 AND member_id = $2", [projectId, memberId]);
    },

    async room(platform, externalId) {
      return c.one<RoomRow>(`SELECT ${C.rooms} FROM rooms WHERE platform = $1 AND external_id = $2`, [platform, externalId]);
    },
    async rooms(poolId) {
      return c.all<RoomRow>(`SELECT ${C.rooms} FROM rooms WHERE pool_id = $1 ORDER BY id`, [poolId]);
    },
    async insertRoom(r) {
      return insertRow(t.rooms, "rooms", r);
    },
    async setRoomUnreachable(roomId, at) {
      await c.run("UPDATE rooms SET unreachable_since = $1 WHERE id = $2", [at, roomId]);
    },
    async setRoomProject(roomId, projectId) {
      await c.run("UPDATE rooms SET project_id = $1 WHERE id = $2", [projectId, roomId]);
    },

    async insertGoal(g) {
      return insertRow(t.goals, "goals", g);
    },
    async goal(id) {
      return c.one<GoalRow>(`SELECT ${C.goals} FROM goals WHERE id = $1::bigint`, [id]);
    },
    async goals(poolId, filter) {
      const where = [
        "pool_id = @poolId",
        ...(filter.projectId !== undefined ? ["project_id = @projectId"] : []),
        ...(filter.status !== undefined ? ["status = @status"] : []),
      ];
      return c.all<GoalRow>(`SELECT ${C.goals} FROM goals WHERE ${where.join(" AND ")} ORDER BY id`, {
        poolId,
        ...(filter.projectId !== undefined ? { projectId: filter.projectId } : {}),
        ...(filter.status !== undefined ? { status: filter.status } : {}),
      });
    },
    async finishGoal(id, doneAt, doneBy) {
      await c.run("UPDATE goals SET status = 'done', done_at = $1, done_by = $2 WHERE id = $3", [doneAt, doneBy, id]);
    },

    async insertCode(code) {
      await insertRow(t.codes, "codes", code);
    },
    async code(code) {
      return c.one(`SELECT ${C.codes} FROM codes WHERE code = $1`, [code]);
    },
    async useCode(code, usedAt, usedBy) {
      await c.run("UPDATE codes SET used_at = $1, used_by = $2 WHERE code = $3", [usedAt, usedBy, code]);
    },

    async account(poolId, kind, ownerId) {
      return c.one<AccountRow>(`SELECT ${C.accounts} FROM accounts WHERE pool_id = $1 AND kind = $2 AND owner_id = $3`, [poolId, kind, ownerId]);
    },
    async accountById(id) {
      return c.one<AccountRow>(`SELECT ${C.accounts} FROM accounts WHERE id = $1::bigint`, [id]);
    },
    async insertAccount(a) {
      return insertRow(t.accounts, "accounts", { ...a, balance: 0 });
    },
    async insertEntry(e) {
      const [id] = await insertMany("entries", ENTRY_COLUMNS, [entryValues(e)]);
      await moveBalances([e]);
      return id!;
    },
    async insertEntries(es) {
      const ids = await insertMany("entries", ENTRY_COLUMNS, es.map(entryValues));
      await moveBalances(es);
      return ids;
    },
    async pendingMemberAccounts(poolId, goodId, asOf) {
      const rows = await c.all<AccountRow & { handle: string }>(
        `SELECT ${C.accounts}, members.handle FROM accounts JOIN members ON members.id = accounts.owner_id
         WHERE accounts.pool_id = $1 AND accounts.kind = 'member' AND accounts.owner_id IN (SELECT member_id FROM good_requests WHERE good_id = $2 AND status = 'pending')
         ORDER BY accounts.id`,
        [poolId, goodId],
      );
      const found = rows.map(({ handle, ...account }) => ({ memberId: account.ownerId, handle, account }));
      if (asOf === undefined) return found;
      // As of a time: the running balance less what came in after it, plus what went out after
      // it, from the pool's entries dated later only (entries_pool; none when the round closes on time).
      const byAccount = new Set(found.map((f) => f.account.id));
      const later = await c.all<{ from: number; to: number; amount: number }>(
        'SELECT from_account AS "from", to_account AS "to", amount FROM entries WHERE pool_id = $1 AND created_at > $2',
        [poolId, asOf],
      );
      const net = new Map<number, number>();
      for (const { from, to, amount } of later) {
        if (byAccount.has(from)) net.set(from, (net.get(from) ?? 0) + amount);
        if (byAccount.has(to)) net.set(to, (net.get(to) ?? 0) - amount);
      }
      return found.map((f) => (net.has(f.account.id) ? { ...f, account: { ...f.account, balance: f.account.balance + net.get(f.account.id)! } } : f));
    },
    async entry(id) {
      return c.one<EntryRow>(`SELECT ${C.entries} FROM entries WHERE id = $1::bigint`, [id]);
    },
    async reversalOf(entryId) {
      return c.one<EntryRow>(`SELECT ${C.entries} FROM entries WHERE reverses = $1 LIMIT 1`, [entryId]);
    },
    async entriesOf(accountId, limit) {
      return c.all<EntryRow>(`SELECT ${C.entries} FROM entries WHERE from_account = $1 OR to_account = $1 ORDER BY id DESC LIMIT $2`, [accountId, limit]);
    },
    async auditFacts(poolId) {
      // Each account's entries summed from the two indexes on (account, amount); the pool's
      // entries counted on the way (each has one paying account of the pool).
      const rows = await c.all<AccountRow & { received: number; paid: number; paying: number }>(
        `SELECT ${C.accounts},
           coalesce((SELECT sum(amount) FROM entries WHERE to_account = accounts.id), 0) AS received,
           f.paid, f.paying
         FROM accounts, LATERAL (SELECT coalesce(sum(amount), 0) AS paid, count(*) AS paying FROM entries WHERE from_account = accounts.id) AS f
         WHERE accounts.pool_id = $1 ORDER BY accounts.id`,
        [poolId],
      );
      let entries = 0;
      const accounts = rows.map(({ received, paid, paying, ...account }) => {
        entries += paying;
        return { account, net: received - paid };
      });
      return { accounts, entries };
    },

    async kind(poolId, name) {
      return c.one<KindRow>(`SELECT ${C.kinds} FROM kinds WHERE pool_id = $1 AND name = $2`, [poolId, name]);
    },
    async kindById(id) {
      return c.one<KindRow>(`SELECT ${C.kinds} FROM kinds WHERE id = $1::bigint`, [id]);
    },
    async kinds(poolId) {
      return c.all<KindRow>(`SELECT ${C.kinds} FROM kinds WHERE pool_id = $1 ORDER BY name COLLATE "C"`, [poolId]);
    },
    async insertKind(k) {
      return insertRow(t.kinds, "kinds", k);
    },
    async setKindWeight(kindId, weight) {
      await c.run("UPDATE kinds SET weight = $1 WHERE id = $2", [weight, kindId]);
    },
    async insertKindChange(change) {
      await insertRow(t.kindChanges, "kind_changes", change);
    },
    async kindChanges(kindId, since) {
      return c.all<KindChangeRow>(`SELECT ${C.kindChanges} FROM kind_changes WHERE kind_id = $1 AND "at" >= $2 ORDER BY "at", id`, [kindId, since]);
    },

    async insertTask(row) {
      return insertRow(t.tasks, "tasks", row);
    },
    async task(id) {
      return c.one<TaskRow>(`SELECT ${C.tasks} FROM tasks WHERE id = $1::bigint`, [id]);
    },
    async tasks(poolId, filter) {
      const where = [
        "pool_id = @poolId",
        ...(filter.projectId !== undefined ? ["project_id = @projectId"] : []),
        ...(filter.kindId !== undefined ? ["kind_id = @kindId"] : []),
        ...(filter.open ? ["open_since IS NOT NULL"] : []),
      ];
      return c.all<TaskRow>(`SELECT ${C.tasks} FROM tasks WHERE ${where.join(" AND ")} ORDER BY id`, {
        poolId,
        ...(filter.projectId !== undefined ? { projectId: filter.projectId } : {}),
        ...(filter.kindId !== undefined ? { kindId: filter.kindId } : {}),
      });
    },
    async setTaskOpen(taskId, openSince, openMs) {
      await c.run("UPDATE tasks SET open_since = $1, open_ms = $2 WHERE id = $3", [openSince, openMs, taskId]);
    },
    async cancelTask(taskId, at, by) {
      await c.run("UPDATE tasks SET cancelled_at = $1, cancelled_by = $2 WHERE id = $3", [at, by, taskId]);
    },
    async setTaskDue(change) {
      await c.run("UPDATE tasks SET due_at = $1 WHERE id = $2", [change.after, change.taskId]);
      await insertRow(t.taskDueChanges, "task_due_changes", change);
    },
    async dueChangesOf(taskIds) {
      if (taskIds.length === 0) return [];
      return c.all<TaskDueChangeRow>(`SELECT ${C.dueChanges} FROM task_due_changes WHERE task_id = ANY($1::int[]) ORDER BY id`, [taskIds]);
    },
    async claimsOf(taskId) {
      return c.all<ClaimRow>(`SELECT ${C.claims} FROM claims WHERE task_id = $1 ORDER BY id`, [taskId]);
    },
    async claimsOfMember(memberId) {
      return c.all<ClaimRow>(`SELECT ${C.claims} FROM claims WHERE member_id = $1 ORDER BY id`, [memberId]);
    },
    async claimsOfTasks(taskIds) {
      if (taskIds.length === 0) return [];
      return c.all<ClaimRow>(`SELECT ${C.claims} FROM claims WHERE task_id = ANY($1::int[]) ORDER BY id`, [taskIds]);
    },
    async claim(id) {
      return c.one<ClaimRow>(`SELECT ${C.claims} FROM claims WHERE id = $1::bigint`, [id]);
    },
    async claimOfEntry(entryId) {
      return c.one<ClaimRow>(`SELECT ${C.claims} FROM claims WHERE entry_id = $1 LIMIT 1`, [entryId]);
    },
    async insertClaim(claim) {
      return insertRow(t.claims, "claims", claim);
    },
    async updateClaim(id, patch) {
      await updateRow(t.claims, "claims", id, patch);
    },
    async expiredClaims(now) {
      return c.all<ClaimRow>(`SELECT ${C.claims} FROM claims WHERE status = 'active' AND expires_at <= $1 ORDER BY expires_at, id`, [now]);
    },
    async taskAggregate(id) {
      // The task, its project and kind in columns; its claims, waitlist and the handles they name
      // as JSON arrays, each in its order.
      const row = await c.one<Record<string, unknown>>(
        `SELECT ${cols(t.tasks, "tk", "tk.")}, ${cols(t.projects, "pj", "pj.")}, ${cols(t.kinds, "kd", "kd.")},
           (SELECT coalesce(json_agg(json_build_array(${plainCols(t.claims, "cl")}) ORDER BY cl.id), '[]') FROM claims cl WHERE cl.task_id = tk.id) AS claims,
           (SELECT coalesce(json_agg(json_build_array(w.member_id, w."at") ORDER BY w."at", w.seq), '[]') FROM waitlist w WHERE w.task_id = tk.id AND w.left_at IS NULL) AS waitlist,
           (SELECT coalesce(json_agg(json_build_array(m.id, m.handle)), '[]') FROM members m WHERE m.id = tk.posted_by
              OR m.id IN (SELECT member_id FROM claims WHERE task_id = tk.id UNION SELECT verified_by FROM claims WHERE task_id = tk.id
                          UNION SELECT member_id FROM waitlist WHERE task_id = tk.id AND left_at IS NULL)) AS handles
         FROM tasks tk JOIN projects pj ON pj.id = tk.project_id JOIN kinds kd ON kd.id = tk.kind_id
         WHERE tk.id = $1::bigint`,
        [id],
      );
      if (!row) return undefined;
      return {
        task: prefixed<TaskRow>(t.tasks, row, "tk.")!,
        project: prefixed<ProjectRow>(t.projects, row, "pj.")!,
        kind: prefixed<KindRow>(t.kinds, row, "kd.")!,
        claims: (row.claims as unknown[][]).map((v) => fromArray<ClaimRow>(t.claims, v)),
        waitlist: (row.waitlist as Array<[number, number]>).map(([memberId, at]) => ({ memberId, at: Number(at) })),
        handles: new Map(row.handles as Array<[number, string]>),
      };
    },
    async waitlistOf(taskId) {
      return c.all<{ memberId: number; at: number }>(
        'SELECT member_id AS "memberId", "at" FROM waitlist WHERE task_id = $1 AND left_at IS NULL ORDER BY "at", seq',
        [taskId],
      );
    },
    async waitlistsOfTasks(taskIds) {
      if (taskIds.length === 0) return [];
      return c.all<{ taskId: number; memberId: number; at: number }>(
        'SELECT task_id AS "taskId", member_id AS "memberId", "at" FROM waitlist WHERE task_id = ANY($1::int[]) AND left_at IS NULL ORDER BY "at", seq',
        [taskIds],
      );
    },
    async waitedBefore(taskId, memberId) {
      return (await c.one("SELECT 1 FROM waitlist WHERE task_id = $1 AND member_id = $2", [taskId, memberId])) !== undefined;
    },
    async joinWaitlist(taskId, memberId, at) {
      await c.run(
        'INSERT INTO waitlist (task_id, member_id, "at", left_at) VALUES ($1, $2, $3, NULL) ON CONFLICT (task_id, member_id) DO UPDATE SET left_at = NULL',
        [taskId, memberId, at],
      );
    },
    async leaveWaitlist(taskId, memberId, at) {
      await c.run("UPDATE waitlist SET left_at = $1 WHERE task_id = $2 AND member_id = $3 AND left_at IS NULL", [at, taskId, memberId]);
    },

    async insertGood(g) {
      return insertRow(t.goods, "goods", g);
    },
    async good(id) {
      return c.one<GoodRow>(`SELECT ${C.goods} FROM goods WHERE id = $1::bigint`, [id]);
    },
    async goodByName(poolId, name) {
      return c.one<GoodRow>(`SELECT ${C.goods} FROM goods WHERE pool_id = $1 AND name = $2`, [poolId, name]);
    },
    async goods(poolId, filter) {
      const where = [
        "pool_id = @poolId",
        ...(filter.projectId !== undefined ? ["project_id = @projectId"] : []),
        ...(filter.sector !== undefined ? ["sector = @sector"] : []),
      ];
      return c.all<GoodRow>(`SELECT ${C.goods} FROM goods WHERE ${where.join(" AND ")} ORDER BY name COLLATE "C"`, {
        poolId,
        ...(filter.projectId !== undefined ? { projectId: filter.projectId } : {}),
        ...(filter.sector !== undefined ? { sector: filter.sector } : {}),
      });
    },
    async onlyCopyableGoods(poolId, projectId) {
      const r = await c.one<{ only: boolean }>(
        `SELECT CASE WHEN EXISTS (SELECT 1 FROM goods WHERE pool_id = @poolId AND project_id = @projectId AND model <> 'copyable') THEN false
                ELSE EXISTS (SELECT 1 FROM goods WHERE pool_id = @poolId AND project_id = @projectId) END AS only`,
        { poolId, projectId },
      );
      return r!.only;
    },
    async setStock(goodId, stock) {
      await c.run("UPDATE goods SET stock = $1 WHERE id = $2", [stock, goodId]);
    },
    async insertProduction(p) {
      await insertRow(t.productions, "productions", p);
    },
    async productionOfTask(taskId) {
      return c.one<ProductionRow>(`SELECT ${C.productions} FROM productions WHERE task_id = $1`, [taskId]);
    },
    async productions(goodId, from, to) {
      return c.all<ProductionRow>(`SELECT ${C.productions} FROM productions WHERE good_id = $1 AND "at" >= $2 AND "at" < $3 ORDER BY id`, [goodId, from, to]);
    },
    async measuredEffort(goodId, asOf) {
      const r = await c.one<{ units: number; effort: number }>(
        `SELECT coalesce(sum(qty), 0) AS units, coalesce(sum(credited), 0) AS effort FROM (
           SELECT tasks.good_qty AS qty, sum(claims.credited) AS credited
           FROM tasks JOIN claims ON claims.task_id = tasks.id AND claims.status = 'verified' AND claims.verified_at <= $2
           WHERE tasks.good_id = $1 AND tasks.cancelled_at IS NULL
           GROUP BY tasks.id
           -- Only finished work: a task counts once every slot is verified (a cancelled one never).
           HAVING count(claims.id) >= tasks.slots) AS done`,
        [goodId, asOf ?? Number.MAX_SAFE_INTEGER],
      );
      return { units: r!.units, effort: r!.effort };
    },
    async insertGoodRequest(r) {
      return insertRow(t.goodRequests, "good_requests", r);
    },
    async goodRequest(id) {
      return c.one<GoodRequestRow>(`SELECT ${C.goodRequests} FROM good_requests WHERE id = $1::bigint`, [id]);
    },
    async goodRequestsOf(goodId, status) {
      return c.all<GoodRequestRow>(`SELECT ${C.goodRequests} FROM good_requests WHERE good_id = $1 AND status = $2 ORDER BY id`, [goodId, status]);
    },
    async pendingRequestsOfMember(poolId, memberId) {
      return c.all<GoodRequestRow>(
        `SELECT ${C.goodRequests} FROM good_requests JOIN goods ON goods.id = good_requests.good_id
         WHERE good_requests.member_id = $1 AND good_requests.status = 'pending' AND goods.pool_id = $2 ORDER BY good_requests.id`,
        [memberId, poolId],
      );
    },
    async pendingTotals(goodId) {
      const r = await c.one<{ requests: number; units: number }>(
        "SELECT count(*) AS requests, coalesce(sum(qty - filled), 0) AS units FROM good_requests WHERE good_id = $1 AND status = 'pending'",
        [goodId],
      );
      return { requests: r!.requests, units: r!.units };
    },
    async updateGoodRequest(id, patch) {
      await updateRow(t.goodRequests, "good_requests", id, patch);
    },
    async fillGoodRequests(fills) {
      // A round's winners in one statement per chunk, not one per winner.
      for (let at = 0; at < fills.length; at += BULK * 10) {
        const chunk = fills.slice(at, at + BULK * 10);
        await c.run(
          `UPDATE good_requests SET filled = f.filled, status = f.status, closed_at = f.closed_at
           FROM unnest($1::int[], $2::bigint[], $3::text[], $4::bigint[]) AS f(id, filled, status, closed_at) WHERE good_requests.id = f.id`,
          [chunk.map((f) => f.id), chunk.map((f) => f.filled), chunk.map((f) => f.status), chunk.map((f) => f.closedAt)],
        );
      }
    },
    async openRound(goodId) {
      return c.one<RoundRow>(`SELECT ${C.rounds} FROM rounds WHERE good_id = $1 AND closed_at IS NULL LIMIT 1`, [goodId]);
    },
    async lastClosedRound(goodId) {
      return c.one<RoundRow>(
        `SELECT ${C.rounds} FROM rounds WHERE good_id = $1 AND closed_at IS NOT NULL AND clearing_weight IS NOT NULL ORDER BY closed_at DESC, id DESC LIMIT 1`,
        [goodId],
      );
    },
    async roundsClosed(goodId, from, to) {
      return c.all<RoundRow>(`SELECT ${C.rounds} FROM rounds WHERE good_id = $1 AND closed_at >= $2 AND closed_at < $3 ORDER BY closed_at, id`, [
        goodId,
        from,
        to,
      ]);
    },
    async insertRound(r) {
      return insertRow(t.rounds, "rounds", r);
    },
    async closeRound(id, patch) {
      await updateRow(t.rounds, "rounds", id, patch);
    },
    async dueRounds(now) {
      return c.all<RoundRow>(`SELECT ${C.rounds} FROM rounds WHERE closed_at IS NULL AND closes_at <= $1 ORDER BY closes_at, id`, [now]);
    },
    async insertAllocation(a) {
      return insertRow(t.allocations, "allocations", a);
    },
    async insertAllocations(as) {
      return insertMany(
        "allocations",
        ["good_id", "request_id", "round_id", "member_id", "qty", "effort", "weight", "cost", '"at"'],
        as.map((a) => [a.goodId, a.requestId, a.roundId, a.memberId, a.qty, a.effort, a.weight, a.cost, a.at]),
      );
    },
    async allocationsOf(goodId, since) {
      return c.all(`SELECT ${C.allocations} FROM allocations WHERE good_id = $1 AND "at" >= $2 ORDER BY id`, [goodId, since]);
    },
    async subscriptions(goodId) {
      return c.all<SubscriptionRow>(`SELECT ${C.subscriptions} FROM subscriptions WHERE good_id = $1 ORDER BY id`, [goodId]);
    },
    async runningSubscriptionsOf(memberId) {
      return c.all<SubscriptionRow>(`SELECT ${C.subscriptions} FROM subscriptions WHERE member_id = $1 AND "until" IS NULL ORDER BY id`, [memberId]);
    },
    async insertSubscription(s) {
      await insertRow(t.subscriptions, "subscriptions", s);
    },
    async endSubscription(id, until) {
      await c.run('UPDATE subscriptions SET "until" = $1 WHERE id = $2', [until, id]);
    },
    async settlement(goodId, periodStart) {
      return c.one<{ id: number }>("SELECT id FROM settlements WHERE good_id = $1 AND period_start = $2", [goodId, periodStart]);
    },
    async lastSettlementEnd(goodId) {
      return (await c.one<{ end: number | null }>('SELECT max(period_end) AS "end" FROM settlements WHERE good_id = $1', [goodId]))?.end ?? null;
    },
    async insertSettlement(s) {
      await insertRow(t.settlements, "settlements", s);
    },
    async flatRateGoods() {
      return c.all<GoodRow>(`SELECT ${C.goods} FROM goods WHERE model = 'flat-rate' ORDER BY id`);
    },
    async insertLoan(l) {
      return insertRow(t.loans, "loans", l);
    },
    async loan(id) {
      return c.one<LoanRow>(`SELECT ${C.loans} FROM loans WHERE id = $1::bigint`, [id]);
    },
    async loansOf(goodId) {
      return c.all<LoanRow>(`SELECT ${C.loans} FROM loans WHERE good_id = $1 ORDER BY id`, [goodId]);
    },
    async returnLoan(id, returnedAt, charged) {
      await c.run("UPDATE loans SET returned_at = $1, charged = $2 WHERE id = $3", [returnedAt, charged, id]);
    },
    async openLoans(poolId, memberId) {
      return c.all<LoanRow>(
        `SELECT ${C.loans} FROM loans JOIN goods ON goods.id = loans.good_id
         WHERE goods.pool_id = @poolId AND loans.returned_at IS NULL${memberId === undefined ? "" : " AND loans.member_id = @memberId"} ORDER BY loans.id`,
        memberId === undefined ? { poolId } : { poolId, memberId },
      );
    },
    async loansFallingOverdue(now, poolId) {
      return c.all<LoanRow>(
        `SELECT ${C.loans} FROM loans JOIN goods ON goods.id = loans.good_id
         WHERE loans.returned_at IS NULL AND loans.overdue_at IS NULL AND loans.due_at <= @now${poolId === undefined ? "" : " AND goods.pool_id = @poolId"}
         ORDER BY loans.due_at, loans.id`,
        poolId === undefined ? { now } : { now, poolId },
      );
    },
    async markLoanOverdue(id, at) {
      await c.run("UPDATE loans SET overdue_at = $1 WHERE id = $2", [at, id]);
    },

    async jobRan(job, slot) {
      return (await c.one("SELECT 1 FROM job_runs WHERE job = $1 AND slot = $2", [job, slot])) !== undefined;
    },
    async lastJobSlot(job) {
      return (await c.one<{ slot: number }>("SELECT slot FROM job_runs WHERE job = $1 ORDER BY slot DESC LIMIT 1", [job]))?.slot;
    },
    async insertJobRun(r) {
      await insertRow(t.jobRuns, "job_runs", r);
    },

    async nextDeadlines() {
      return readDeadlines((await c.one<Record<string, unknown>>(`SELECT ${DEADLINES_SQL}`))!);
    },
    async commonsWork(poolId) {
      return c.all<{ projectId: number; goodId: number | null; amount: number }>(
        `SELECT tasks.project_id AS "projectId", tasks.good_id AS "goodId", sum(claims.credited) AS amount
         FROM accounts JOIN entries ON entries.from_account = accounts.id JOIN claims ON claims.entry_id = entries.id JOIN tasks ON tasks.id = claims.task_id
         WHERE accounts.pool_id = $1 AND accounts.kind = 'commons' AND tasks.pool_id = $1 AND claims.status = 'verified'
         GROUP BY tasks.project_id, tasks.good_id ORDER BY tasks.project_id, tasks.good_id`,
        [poolId],
      );
    },
    async copyableUsers(poolId, projectId) {
      return c.all<{ goodId: number; members: number }>(
        // A member linked into another counts as that one.
        `SELECT r.good_id AS "goodId", count(DISTINCT coalesce(m.merged_into, r.member_id)) AS members
         FROM goods g JOIN good_requests r ON r.good_id = g.id AND r.status = 'access' JOIN members m ON m.id = r.member_id
         WHERE g.model = 'copyable' AND g.pool_id = @poolId${projectId === undefined ? "" : " AND g.project_id = @projectId"}
         GROUP BY r.good_id ORDER BY r.good_id`,
        projectId === undefined ? { poolId } : { poolId, projectId },
      );
    },

    async roomMutes(poolId) {
      return c.all<{ roomId: number; kind: string }>(
        `SELECT room_mutes.room_id AS "roomId", room_mutes.kind FROM room_mutes JOIN rooms ON rooms.id = room_mutes.room_id
         WHERE rooms.pool_id = $1 ORDER BY room_mutes.room_id, room_mutes.kind COLLATE "C"`,
        [poolId],
      );
    },
    async setRoomMute(roomId, kind, muted) {
      if (muted === null) await c.run("DELETE FROM room_mutes WHERE room_id = $1 AND kind = $2", [roomId, kind]);
      else
        await c.run("INSERT INTO room_mutes (room_id, kind, muted_at, muted_by) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", [
          roomId,
          kind,
          muted.at,
          muted.by,
        ]);
    },
    async board(roomId) {
      return c.one(`SELECT ${C.boards} FROM boards WHERE room_id = $1`, [roomId]);
    },
    async putBoard(roomId, body, at) {
      await c.run(
        "INSERT INTO boards (room_id, body, updated_at) VALUES ($1, $2, $3) ON CONFLICT (room_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        [roomId, body, at],
      );
    },
    async openTasks(poolId) {
      return c.all<OpenTaskRow>(
        `SELECT t.id, t.project_id AS "projectId", t.kind_id AS "kindId", t.title, t.posted_weight AS "postedWeight", t.estimate, t.slots,
                t.open_ms AS "openMs", t.open_since AS "openSince", t.due_at AS "dueAt", count(c.id) AS taken
         FROM tasks t LEFT JOIN claims c ON c.task_id = t.id AND c.status IN (${SLOT_HOLDING_SQL})
         WHERE t.pool_id = $1 AND t.open_since IS NOT NULL AND t.cancelled_at IS NULL
         GROUP BY t.id HAVING count(c.id) < t.slots ORDER BY t.id`,
        [poolId],
      );
    },
    async openTasksBy(scope, order, limit, offset = 0) {
      // Ties in the order SQLite gives them, walking its weight index backwards (a board keeps
      // its lines in one order, not one that changes from query to query).
      const by = order === "weight" ? "t.posted_weight DESC, t.due_at DESC NULLS LAST, t.kind_id DESC, t.id DESC" : "(t.open_since - t.open_ms), t.id";
      return c.all<OpenTaskLine>(
        `SELECT t.id, t.project_id AS "projectId", t.kind_id AS "kindId", t.title, t.posted_weight AS "postedWeight", t.estimate, t.slots,
                t.open_ms AS "openMs", t.open_since AS "openSince", t.due_at AS "dueAt",
                (SELECT count(*) FROM claims c WHERE c.task_id = t.id AND c.status IN (${SLOT_HOLDING_SQL})) AS taken,
                (SELECT p.slug FROM projects p WHERE p.id = t.project_id) AS project,
                (SELECT k.name FROM kinds k WHERE k.id = t.kind_id) AS kind
         FROM tasks t
         WHERE ${openScope(scope)}
         ORDER BY ${by} LIMIT @limit OFFSET @offset`,
        { ...scopeParams(scope), limit, offset },
      );
    },
    async taskPage(scope, state, limit, offset) {
      const where = [
        "t.pool_id = @poolId",
        ...(scope.projectId === undefined ? [] : ["t.project_id = @projectId"]),
        ...(scope.kindId === undefined ? [] : ["t.kind_id = @kindId"]),
      ].join(" AND ");
      const listed = {
        all: "true",
        overdue: "s.overdue AND s.rank <= 1",
        open: "s.rank = 0 AND NOT s.overdue",
        claimed: "s.rank = 1",
        done: "s.rank = 2",
        cancelled: "s.rank = 3",
      }[state];
      const ranked = `WITH c AS (
           SELECT c.task_id, count(*) FILTER (WHERE c.status IN (${SLOT_HOLDING_SQL})) AS taken, count(*) FILTER (WHERE c.status = 'verified') AS verified
           FROM claims c JOIN tasks t ON t.id = c.task_id WHERE ${where} GROUP BY c.task_id
         ), s AS (
           SELECT t.id,
                  CASE WHEN t.cancelled_at IS NOT NULL THEN 3 WHEN coalesce(c.verified, 0) >= t.slots THEN 2 WHEN coalesce(c.taken, 0) >= t.slots THEN 1 ELSE 0 END AS rank,
                  (t.due_at IS NOT NULL AND t.due_at <= @now::bigint) AS overdue,
                  t.open_ms + CASE WHEN t.open_since IS NULL THEN 0 ELSE GREATEST(0, LEAST(@now::bigint, coalesce(t.due_at, @now::bigint)) - t.open_since) END AS open
           FROM tasks t LEFT JOIN c ON c.task_id = t.id WHERE ${where}
         )`;
      const params = {
        poolId: scope.poolId,
        now: scope.now,
        ...(scope.projectId === undefined ? {} : { projectId: scope.projectId }),
        ...(scope.kindId === undefined ? {} : { kindId: scope.kindId }),
      };
      const rows = await c.all<{ id: number; total: number }>(
        `${ranked} SELECT s.id, count(*) OVER () AS total FROM s WHERE ${listed} ORDER BY s.rank, s.open DESC, s.id LIMIT @limit OFFSET @offset`,
        { ...params, limit, offset },
      );
      const total = rows[0]?.total ?? (await c.one<{ n: number }>(`${ranked} SELECT count(*) AS n FROM s WHERE ${listed}`, params))!.n;
      return { ids: rows.map((r) => r.id), total };
    },
    async countOpenTasks(scope) {
      return (await c.one<{ n: number }>(`SELECT count(*) AS n FROM tasks t WHERE ${openScope(scope)}`, scopeParams(scope)))!.n;
    },
    async openTasksPerKind(poolId, now) {
      const scope = { poolId, now };
      return c.all<{ kindId: number; open: number }>(
        `SELECT t.kind_id AS "kindId", count(*) AS open FROM tasks t WHERE ${openScope(scope)} GROUP BY t.kind_id ORDER BY t.kind_id`,
        scopeParams(scope),
      );
    },
    async markBoards(poolId, at) {
      // GREATEST leaves out a null: the first mark is `at`.
      await c.run("UPDATE pools SET boards_dirty_at = GREATEST(boards_dirty_at, $1) WHERE id = $2", [at, poolId]);
    },
    async markedBoards() {
      return c.all<{ poolId: number; at: number }>('SELECT id AS "poolId", boards_dirty_at AS "at" FROM pools WHERE boards_dirty_at IS NOT NULL ORDER BY id');
    },
    async clearBoardsMark(poolId) {
      await c.run("UPDATE pools SET boards_dirty_at = NULL WHERE id = $1", [poolId]);
    },
    async deleteBoard(roomId) {
      await c.run("DELETE FROM boards WHERE room_id = $1", [roomId]);
    },
    async noticedTasks(roomId) {
      return (await c.all<{ taskId: number }>('SELECT task_id AS "taskId" FROM room_notices WHERE room_id = $1 ORDER BY task_id', [roomId])).map(
        (r) => r.taskId,
      );
    },
    async insertNotice(n) {
      await c.run("INSERT INTO room_notices (room_id, task_id, noticed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [n.roomId, n.taskId, n.noticedAt]);
    },
    async lastOutboxAt(roomId, kind) {
      return (
        await c.one<{ at: number }>('SELECT created_at AS "at" FROM outbox WHERE room_id = $1 AND kind = $2 ORDER BY created_at DESC LIMIT 1', [roomId, kind])
      )?.at;
    },

    async insertNote(n) {
      return insertRow(t.memberNotes, "member_notes", n);
    },
    async insertNotes(ns) {
      await insertMany(
        "member_notes",
        ["pool_id", "member_id", "kind", "body", "created_at"],
        ns.map((n) => [n.poolId, n.memberId, n.kind, n.body, n.createdAt]),
      );
    },

    async request(requestId) {
      return c.one<RequestRow>(`SELECT ${C.requests} FROM requests WHERE request_id = $1`, [requestId]);
    },
    async insertRequest(r) {
      await insertRow(t.requests, "requests", r);
    },
    async insertOutbox(o) {
      return insertRow(t.outbox, "outbox", o);
    },
    async reply(requestId) {
      return c.one<ReplyRow>(`SELECT ${C.replies} FROM replies WHERE request_id = $1`, [requestId]);
    },
    async insertReply(r) {
      await insertRow(t.replies, "replies", r, { orIgnore: true });
    },

    async pruneStored({ before, limit }) {
      const deleted = (text: string) => c.run(text, { before, limit });
      return {
        replies: await deleted(
          "DELETE FROM replies WHERE request_id IN (SELECT request_id FROM replies WHERE created_at < @before AND (delivered_at IS NOT NULL OR failed_at IS NOT NULL) LIMIT @limit)",
        ),
        requests: await deleted("DELETE FROM requests WHERE request_id IN (SELECT request_id FROM requests WHERE created_at < @before LIMIT @limit)"),
        outbox: await deleted(
          "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE delivered_at < @before UNION ALL SELECT id FROM outbox WHERE delivered_at IS NULL AND failed_at < @before LIMIT @limit)",
        ),
        notes: await deleted(
          "DELETE FROM member_notes WHERE id IN (SELECT id FROM member_notes WHERE delivered_at < @before UNION ALL SELECT id FROM member_notes WHERE delivered_at IS NULL AND failed_at < @before LIMIT @limit)",
        ),
      };
    },
    async refreshStatistics() {
      // PostgreSQL's autovacuum analyses the tables that changed much on its own.
    },

    async unfinishedTasks(scope) {
      const which = scope.projectId === undefined ? "pool_id = @poolId" : "project_id = @projectId";
      const p = scope.projectId === undefined ? { poolId: scope.poolId } : { projectId: scope.projectId };
      const tasks = await c.all<TaskRow>(
        `WITH u(id) AS (
           SELECT id FROM tasks WHERE ${which} AND open_since IS NOT NULL AND cancelled_at IS NULL
           UNION SELECT tasks.id FROM claims JOIN tasks ON tasks.id = claims.task_id
             WHERE claims.status IN ('active', 'reported') AND tasks.${which} AND tasks.cancelled_at IS NULL)
         SELECT ${C.tasks} FROM tasks WHERE id IN (SELECT id FROM u) ORDER BY id`,
        p,
      );
      const ids = tasks.map((x) => x.id);
      return {
        tasks,
        claims: await c.all<ClaimRow>(`SELECT ${C.claims} FROM claims WHERE task_id = ANY($1::int[]) ORDER BY id`, [ids]),
        dueChanges: await c.all<TaskDueChangeRow>(`SELECT ${C.dueChanges} FROM task_due_changes WHERE task_id = ANY($1::int[]) ORDER BY id`, [ids]),
      };
    },
    async verifiedIn(projectId, from, to) {
      return c.all<{ memberId: number; verifiedBy: number | null; credited: number; claims: number }>(
        `SELECT claims.member_id AS "memberId", claims.verified_by AS "verifiedBy", coalesce(sum(claims.credited), 0) AS credited, count(*) AS claims
         FROM claims JOIN tasks ON tasks.id = claims.task_id
         WHERE claims.verified_at >= @from AND claims.verified_at < @to AND claims.status = 'verified' AND tasks.project_id = @projectId
         GROUP BY claims.member_id, claims.verified_by ORDER BY min(claims.id)`,
        { projectId, from, to },
      );
    },
    async escalatedIn(projectId, from, to, factor) {
      return c.all<{ memberId: number; claims: number }>(
        `SELECT claims.member_id AS "memberId", count(*) AS claims FROM claims JOIN tasks ON tasks.id = claims.task_id
         WHERE claims.claimed_at >= @from AND claims.claimed_at < @to AND tasks.project_id = @projectId AND claims.weight >= tasks.posted_weight * @factor::float8
         GROUP BY claims.member_id ORDER BY min(claims.id)`,
        { projectId, from, to, factor },
      );
    },
    async kindsInUse(scope, from, to) {
      const which = scope.projectId === undefined ? "pool_id = @poolId" : "project_id = @projectId";
      const p = scope.projectId === undefined ? { poolId: scope.poolId } : { projectId: scope.projectId };
      return c.all<{ projectId: number; kindId: number }>(
        `WITH cand(id) AS (
           SELECT id FROM tasks WHERE ${which} AND open_since IS NOT NULL AND cancelled_at IS NULL
           UNION SELECT task_id FROM claims WHERE status IN ('active', 'reported')
           UNION SELECT task_id FROM claims WHERE verified_at >= @from
           UNION SELECT id FROM tasks WHERE cancelled_at >= @from)
         SELECT DISTINCT tasks.project_id AS "projectId", tasks.kind_id AS "kindId" FROM cand JOIN tasks ON tasks.id = cand.id
         WHERE tasks.${which} AND tasks.posted_at < @to AND (tasks.cancelled_at IS NULL OR tasks.cancelled_at >= @from)
           AND (tasks.cancelled_at IS NOT NULL
             OR (SELECT count(*) FROM claims AS verified WHERE verified.task_id = tasks.id AND verified.status = 'verified' AND verified.verified_at < @from) < tasks.slots)
         ORDER BY "projectId", "kindId"`,
        { ...p, from, to },
      );
    },
    async goodInUse(goodId) {
      const r = await c.one<{ subscribers: number; onLoan: number }>(
        `SELECT (SELECT count(*) FROM subscriptions WHERE good_id = $1 AND "until" IS NULL) AS subscribers,
                (SELECT count(*) FROM loans WHERE good_id = $1 AND returned_at IS NULL) AS "onLoan"`,
        [goodId],
      );
      return { subscribers: r!.subscribers, onLoan: r!.onLoan };
    },
    async goodFlows(poolId, projectId, from, to) {
      const rows = await c.all<
        GoodRow & { produced: number; producedSince: number; allocatedSince: number; requested: number; borrowed: number; lentSince: number; backSince: number }
      >(
        `SELECT ${C.goods},
           (SELECT coalesce(sum(qty), 0) FROM productions WHERE good_id = goods.id AND "at" >= @from AND "at" < @to) AS produced,
           (SELECT coalesce(sum(qty), 0) FROM productions WHERE good_id = goods.id AND "at" >= @from) AS "producedSince",
           (SELECT coalesce(sum(qty), 0) FROM allocations WHERE good_id = goods.id AND "at" >= @from) AS "allocatedSince",
           (SELECT coalesce(sum(qty), 0) FROM good_requests WHERE good_id = goods.id AND created_at >= @from AND created_at < @to) AS requested,
           (SELECT count(*) FROM loans WHERE good_id = goods.id AND borrowed_at >= @from AND borrowed_at < @to) AS borrowed,
           (SELECT count(*) FROM loans WHERE good_id = goods.id AND borrowed_at >= @from) AS "lentSince",
           (SELECT count(*) FROM loans WHERE good_id = goods.id AND returned_at >= @from) AS "backSince"
         FROM goods WHERE goods.pool_id = @poolId AND goods.project_id = @projectId ORDER BY goods.name COLLATE "C"`,
        { poolId, projectId, from, to },
      );
      return rows.map(({ produced, producedSince, allocatedSince, requested, borrowed, lentSince, backSince, ...good }) => ({
        good,
        produced,
        producedSince,
        allocatedSince,
        requested,
        borrowed,
        lentSince,
        backSince,
      }));
    },
    async goodRequestsMade(goodId, from, to) {
      return c.all<GoodRequestRow>(`SELECT ${C.goodRequests} FROM good_requests WHERE good_id = $1 AND created_at >= $2 AND created_at < $3 ORDER BY id`, [
        goodId,
        from,
        to,
      ]);
    },
  };
}

/** How many times a transaction runs at most when the database keeps refusing its commit. */
export const MAX_ATTEMPTS = 10;
/** serialization_failure and deadlock_detected: the transaction may simply run again. */
const RETRYABLE = new Set(["40001", "40P01"]);
/**
 * How many times a transaction runs at most while a unique key or exclusion constraint breaks
 * (23505, 23P01): a concurrent transaction may have taken the key after this one's snapshot, so
 * running again may decide otherwise (PostgreSQL's manual advises retrying these too); a key
 * broken every time is a real error and is thrown as itself.
 */
export const UNIQUE_ATTEMPTS = 3;
/** unique_violation and exclusion_violation. */
const UNIQUE = new Set(["23505", "23P01"]);
/** read_only_sql_transaction: a write in a READ ONLY transaction. */
const READ_ONLY = "25006";

const sqlState = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
};
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** A short random pause before another attempt, longer after each (up to about 100 ms): racing transactions fall out of step. */
const backoff = (attempt: number) => Math.random() * Math.min(100, 5 * 2 ** attempt);

/** A claim is free when nobody holds it or its holder's lease ran out. */
const CLAIM_FREE = "(claimed_until IS NULL OR claimed_until < @now)";

export interface PgStoreOptions extends PgOptions {
  /** Attempts per transaction when the database refuses to commit it (default MAX_ATTEMPTS). */
  readonly maxAttempts?: number;
  /**
   * How many of this process's write transactions run at once (default 1). Nearly every command
   * moves its pool's clock (one row), so two at once in one pool conflict and one of them runs
   * again; taking turns within a process avoids that. Correctness does not rest on it: other
   * processes' transactions still run beside these, and conflicts with them are retried.
   */
  readonly writers?: number;
}

/** At most `n` holders at a time; the others wait in the order they came. */
class Turns {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(n: number) {
    this.free = Math.max(1, Math.floor(n));
  }

  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

export class PgStore implements Store {
  private pending = 0;
  private closed = false;
  /** Everything running now, so that close() waits for it. */
  private readonly running = new Set<Promise<unknown>>();
  private readonly maxAttempts: number;
  private readonly writers: Turns;
  /** Transactions that ran again after the database refused them, since the store opened. */
  retries = 0;
  private readonly counter: StatementCounter = { n: 0 };

  private constructor(
    readonly pool: pg.Pool,
    o: PgStoreOptions,
  ) {
    this.maxAttempts = o.maxAttempts ?? MAX_ATTEMPTS;
    this.writers = new Turns(o.writers ?? 1);
  }

  /** Connects to the database at `url` (postgres://...) and applies the migrations it lacks. */
  static async open(url: string, o: PgStoreOptions = {}): Promise<PgStore> {
    return new PgStore(await openPg(url, o), o);
  }

  idle(): boolean {
    return this.pending === 0;
  }

  /** Statements run since the store opened, in transactions, reads and on their own (BEGIN, COMMIT and ROLLBACK not counted). */
  get statements(): number {
    return this.counter.n;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    const done = () => this.running.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Runs `fn` in one SERIALIZABLE transaction on a connection of its own. When the database
   * refuses it (serialization failure, deadlock: another transaction read or wrote the same
   * rows meanwhile), everything is rolled back and `fn` runs again from the start, up to
   * maxAttempts times in all, after a short random pause. So `fn` may run more than once: it
   * must have no effect outside the transaction. Refused that often, it throws
   * DatabaseBusyError (the member may simply try again), as SQLite does when its lock stays taken.
   * A broken unique key runs it again too, UNIQUE_ATTEMPTS times in all, then is thrown as itself.
   * This process's transactions take turns (PgStoreOptions.writers); reads do not wait for them.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error("the database is closed"));
    this.pending++;
    const run = async (): Promise<T> => {
      await this.writers.take();
      const started = Date.now();
      try {
        for (let attempt = 1; ; attempt++) {
          const client = await this.pool.connect();
          let broken: Error | undefined;
          try {
            await client.query("BEGIN ISOLATION LEVEL SERIALIZABLE");
            const value = await fn(makeTx(new Conn(client, this.counter)));
            await client.query("COMMIT");
            return value;
          } catch (e) {
            await client.query("ROLLBACK").catch((r: Error) => (broken = r));
            const state = sqlState(e) ?? "";
            if (RETRYABLE.has(state)) {
              if (attempt >= this.maxAttempts) throw new DatabaseBusyError(Date.now() - started);
              this.retries++;
              await sleep(backoff(attempt));
              continue;
            }
            if (UNIQUE.has(state) && attempt < Math.min(UNIQUE_ATTEMPTS, this.maxAttempts)) {
              this.retries++;
              await sleep(backoff(attempt));
              continue;
            }
            throw e;
          } finally {
            client.release(broken);
          }
        }
      } finally {
        this.writers.give();
        this.pending--;
      }
    };
    return this.track(run());
  }

  /**
   * Runs `fn` in a REPEATABLE READ READ ONLY transaction: one snapshot (taken at its first
   * read), never a lock; a write through it throws WriteInReadError.
   */
  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error("the database is closed"));
    const run = async (): Promise<T> => {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        try {
          return await fn(makeTx(new Conn(client, this.counter)));
        } catch (e) {
          throw sqlState(e) === READ_ONLY ? new WriteInReadError(e) : e;
        } finally {
          await client.query("ROLLBACK").catch((r: Error) => (broken = r));
        }
      } finally {
        client.release(broken);
      }
    };
    return this.track(run());
  }

  /** One statement on its own (autocommit): it is atomic, and a claim needs no more. */
  private statement<R>(text: string, params: Params): Promise<R[]> {
    if (this.closed) return Promise.reject(new Error("the database is closed"));
    const run = async () => {
      const client = await this.pool.connect();
      try {
        return await new Conn(client, this.counter).all<R>(text, params);
      } finally {
        client.release();
      }
    };
    return this.track(run());
  }

  async pendingOutbox(platform: string, limit: number) {
    const rows = await this.statement<Record<string, unknown>>(
      `SELECT ${C.outbox}, ${cols(t.rooms, "rooms", "room.")} FROM outbox JOIN rooms ON rooms.id = outbox.room_id
       WHERE outbox.delivered_at IS NULL AND rooms.platform = $1 ORDER BY outbox.id LIMIT $2`,
      [platform, limit],
    );
    return rows.map((r) => withRoom<OutboxRow>(r));
  }

  async markDelivered(ids: readonly number[], at: number): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.statement<{ id: number }>("UPDATE outbox SET delivered_at = $1 WHERE id = ANY($2::int[]) AND delivered_at IS NULL RETURNING id", [
      at,
      ids,
    ]);
    return rows.map((r) => r.id);
  }

  async pendingNotes(platform: string, limit: number) {
    return this.statement<NoteRow & { externalId: string }>(
      `SELECT ${C.notes}, identities.external_id AS "externalId" FROM member_notes
         JOIN identities ON identities.member_id = member_notes.member_id AND identities.platform = $1
           AND (member_notes.platform IS NULL OR member_notes.platform = identities.platform)
           AND (member_notes.external_id IS NULL OR member_notes.external_id = identities.external_id)
       WHERE member_notes.delivered_at IS NULL ORDER BY member_notes.id LIMIT $2`,
      [platform, limit],
    );
  }

  async markNotesDelivered(ids: readonly number[], at: number): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.statement<{ id: number }>(
      "UPDATE member_notes SET delivered_at = $1 WHERE id = ANY($2::int[]) AND delivered_at IS NULL RETURNING id",
      [at, ids],
    );
    return rows.map((r) => r.id);
  }

  // The claims: one UPDATE each, whose rows are picked with FOR UPDATE SKIP LOCKED (rows another
  // process is claiming right now are passed over, not waited for); RETURNING gives the rows.

  async claimReplies(platform: string, o: ClaimOptions): Promise<ReplyRow[]> {
    const rows = await this.statement<ReplyRow>(
      `UPDATE replies SET claimed_by = @owner, claimed_until = @until WHERE request_id IN (
         SELECT request_id FROM replies WHERE platform = @platform AND delivered_at IS NULL AND failed_at IS NULL AND ${CLAIM_FREE}
         ORDER BY created_at LIMIT @limit FOR UPDATE SKIP LOCKED)
       RETURNING ${C.replies}`,
      { platform, owner: o.owner, until: o.now + o.leaseMs, now: o.now, limit: o.limit },
    );
    return rows.sort((a, b) => a.createdAt - b.createdAt);
  }

  async claimReply(requestId: string, o: Omit<ClaimOptions, "limit">): Promise<ReplyRow | undefined> {
    const rows = await this.statement<ReplyRow>(
      `UPDATE replies SET claimed_by = @owner, claimed_until = @until WHERE request_id IN (
         SELECT request_id FROM replies WHERE request_id = @requestId AND delivered_at IS NULL AND failed_at IS NULL AND ${CLAIM_FREE} FOR UPDATE SKIP LOCKED)
       RETURNING ${C.replies}`,
      { requestId, owner: o.owner, until: o.now + o.leaseMs, now: o.now },
    );
    return rows[0];
  }

  async claimOutbox(platform: string, o: ClaimOptions) {
    const rows = await this.statement<Record<string, unknown>>(
      `UPDATE outbox SET claimed_by = @owner, claimed_until = @until FROM rooms
       WHERE rooms.id = outbox.room_id AND outbox.id IN (
         SELECT o.id FROM outbox o JOIN rooms r ON r.id = o.room_id
         WHERE o.delivered_at IS NULL AND o.failed_at IS NULL AND r.platform = @platform AND r.unreachable_since IS NULL
           AND (o.claimed_until IS NULL OR o.claimed_until < @now)
         ORDER BY o.id LIMIT @limit FOR UPDATE OF o SKIP LOCKED)
       RETURNING ${C.outbox}, ${cols(t.rooms, "rooms", "room.")}`,
      { platform, owner: o.owner, until: o.now + o.leaseMs, now: o.now, limit: o.limit },
    );
    return rows.map((r) => withRoom<OutboxRow & { attempts: number }>(r)).sort((a, b) => a.id - b.id);
  }

  async claimNotes(platform: string, o: ClaimOptions) {
    // A member with two identities on the platform gets the note once, at the first.
    const reaches = `identities.member_id = member_notes.member_id AND identities.platform = @platform
      AND (member_notes.platform IS NULL OR member_notes.platform = identities.platform)
      AND (member_notes.external_id IS NULL OR member_notes.external_id = identities.external_id)`;
    const rows = await this.statement<NoteRow & { externalId: string; attempts: number }>(
      `UPDATE member_notes SET claimed_by = @owner, claimed_until = @until WHERE id IN (
         SELECT id FROM member_notes WHERE delivered_at IS NULL AND failed_at IS NULL AND ${CLAIM_FREE}
           AND EXISTS (SELECT 1 FROM identities WHERE ${reaches})
         ORDER BY id LIMIT @limit FOR UPDATE SKIP LOCKED)
       RETURNING ${C.notes}, (SELECT identities.external_id FROM identities WHERE ${reaches} ORDER BY identities.id LIMIT 1) AS "externalId"`,
      { platform, owner: o.owner, until: o.now + o.leaseMs, now: o.now, limit: o.limit },
    );
    return rows.sort((a, b) => a.id - b.id);
  }

  async settle(ref: DeliveryRef, owner: string, outcome: DeliveryOutcome): Promise<void> {
    const set =
      "delivered" in outcome
        ? { text: "delivered_at = @at, claimed_by = NULL, claimed_until = NULL", at: outcome.delivered, failure: null }
        : "retryAt" in outcome
          ? { text: "claimed_by = NULL, claimed_until = @at, failure = @failure", at: outcome.retryAt, failure: outcome.error.slice(0, 500) }
          : {
              text: "failed_at = @at, failure = @failure, claimed_by = NULL, claimed_until = NULL",
              at: outcome.failedAt,
              failure: outcome.reason.slice(0, 500),
            };
    const [table, key] = ref.kind === "reply" ? ["replies", "request_id"] : ref.kind === "outbox" ? ["outbox", "id"] : ["member_notes", "id"];
    const params: Record<string, unknown> = { at: set.at, owner, id: ref.id };
    if (set.failure !== null) params.failure = set.failure;
    await this.statement(`UPDATE ${table} SET ${set.text}, attempts = attempts + 1 WHERE ${key} = @id AND claimed_by = @owner`, params);
  }

  async markRoomUnreachable(roomId: number, at: number): Promise<void> {
    // One statement for both: the room, and what waited for it given up with it (it would be
    // stale by the time the bot is back).
    await this.statement(
      `WITH room AS (UPDATE rooms SET unreachable_since = @at WHERE id = @roomId AND unreachable_since IS NULL)
       UPDATE outbox SET failed_at = @at, failure = 'the platform refused the bot in this room', claimed_by = NULL, claimed_until = NULL
       WHERE room_id = @roomId AND delivered_at IS NULL AND failed_at IS NULL`,
      { roomId, at },
    );
  }

  async boardMessage(roomId: number) {
    return (await this.statement<{ id: string | null }>('SELECT message_id AS "id" FROM boards WHERE room_id = $1', [roomId]))[0]?.id ?? null;
  }

  async setBoardMessage(roomId: number, messageId: string | null) {
    await this.statement("UPDATE boards SET message_id = $1 WHERE room_id = $2", [messageId, roomId]);
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.running]);
    await this.pool.end();
  }
}

/** An outbox row with its room, from columns prefixed "room.". */
function withRoom<R>(r: Record<string, unknown>): R & { room: RoomRow } {
  const row: Record<string, unknown> = {};
  const room: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (k.startsWith("room.")) room[k.slice(5)] = v;
    else row[k] = v;
  }
  return { ...(row as R), room: room as RoomRow };
}
