// Issue 15: a pool with years of history answers as fast as a new one. The store's hot queries
// must find their rows through an index, also when the history dwarfs what they look for: tens of
// thousands of verified claims, closed tasks and filled requests, delivered messages and stored
// answers. Each query is run as the store runs it (its SQL and values captured on the
// connection), and `EXPLAIN QUERY PLAN` must name the intended index and scan no large table.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteStore } from "../../../db/sqlite-store.ts";
import { DAY_MS } from "../../../src/core/time.ts";
import type { Tx } from "../../../src/store.ts";
import { testPool } from "../../support/app.ts";

const dir = mkdtempSync(join(tmpdir(), "dpool-plans-"));
const file = join(dir, "history.sqlite");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Rows added to each growing table: enough that a scan costs what an index lookup does not. */
const HISTORY = 20_000;
const LARGE = ["tasks", "claims", "good_requests", "outbox", "member_notes", "replies", "requests", "accounts", "entries", "job_runs"];

/**
 * Adds `count` copies of one row of `table` (the first matching `template`), with some columns
 * set to SQL expressions over `n.i` (1..count) or over the rows of `from`. Copies keep whatever
 * columns the schema has, so the history stays valid as the schema grows.
 */
function grow(db: Database.Database, table: string, o: { template: string; count?: number; from?: string; set?: Record<string, string> }): void {
  const cols = (db.prepare(`SELECT name, pk FROM pragma_table_info('${table}')`).all() as Array<{ name: string; pk: number }>)
    .filter((c) => !(c.name === "id" && c.pk === 1))
    .map((c) => c.name);
  const exprs = cols.map((c) => o.set?.[c] ?? `src."${c}"`);
  const from = o.from ?? "n";
  db.exec(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${o.count ?? 1})
     INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(", ")})
     SELECT ${exprs.join(", ")} FROM (SELECT * FROM "${table}" WHERE ${o.template} LIMIT 1) AS src, ${from}`,
  );
}

/** Ids and values the queries are asked about. */
let ids: { pool: number; bread: number; carol: number; room: number };
const NOW = Date.parse("2026-11-27T09:00:00Z");

beforeAll(async () => {
  // A small pool made through commands, so every row is one the bot itself would write.
  const t = await testPool({ dbFile: file });
  await t.ok("admin", 'pool create "Riverside"');
  await t.ok("admin", 'project create bakery "The Bakery"');
  await t.ok("admin", "good add bakery bread effort:1 stock:0");
  await t.ok("admin", "task post bakery Knead hours:1 good:bread qty:1");
  await t.ok("admin", "task post bakery Sweep hours:1");
  for (const task of [1, 2]) {
    await t.ok("bob", `task claim ${task}`);
    await t.ok("bob", `task done ${task}`);
    await t.ok("admin", `task verify ${task} @bob`);
  }
  await t.ok("admin", "task post bakery Open hours:1");
  await t.ok("carol", "good request bread qty:1");
  await t.ok("carol", "task claim 3");
  const db = t.store.db.$client;
  const one = (sql: string) => (db.prepare(sql).get() as { id: number }).id;
  ids = {
    pool: one("SELECT id FROM pools"),
    bread: one("SELECT id FROM goods WHERE name = 'bread'"),
    carol: one("SELECT id FROM members WHERE handle = 'carol'"),
    room: one("SELECT id FROM rooms LIMIT 1"),
  };
  await t.store.transaction(async (tx) => {
    await tx.insertReply({ requestId: "discord:1", platform: "discord", target: "{}", body: "{}", createdAt: NOW, userId: "u1", fingerprint: null });
    await tx.insertNote({ poolId: ids.pool, memberId: ids.carol, kind: "released", body: "{}", createdAt: NOW });
  });

  // Years of history, written straight into the tables (much faster than typing it).
  db.exec("BEGIN");
  const lastTask = one("SELECT max(id) AS id FROM tasks");
  grow(db, "tasks", { template: "title = 'Sweep'", count: HISTORY, set: { open_since: "NULL", title: "'Old work ' || n.i" } });
  grow(db, "claims", { template: "status = 'verified' AND task_id = 2", from: `tasks AS old WHERE old.id > ${lastTask}`, set: { task_id: "old.id" } });
  grow(db, "good_requests", { template: "1", count: HISTORY, set: { status: "'allocated'", filled: "src.qty" } });
  grow(db, "outbox", { template: "1", count: HISTORY, set: { delivered_at: `${NOW} - n.i * 60000` } });
  grow(db, "member_notes", { template: "1", count: HISTORY, set: { delivered_at: `${NOW} - n.i * 60000` } });
  grow(db, "replies", {
    template: "1",
    count: HISTORY,
    set: { request_id: "'discord:old-' || n.i", delivered_at: `${NOW} - n.i * 60000`, created_at: `${NOW} - n.i * 60000` },
  });
  grow(db, "requests", { template: "1", count: HISTORY, set: { request_id: "'console:old-' || n.i", created_at: `${NOW} - n.i * 60000` } });
  grow(db, "accounts", { template: "kind = 'member'", count: HISTORY, set: { owner_id: "100000 + n.i", balance: "0" } });
  grow(db, "entries", { template: "1", count: HISTORY });
  grow(db, "job_runs", { template: "1", count: HISTORY, set: { job: "'old-' || (n.i % 7)", slot: `${NOW} - n.i * 300000` } });
  db.exec("COMMIT");
  await t.close();
}, 120_000);

interface Ran {
  readonly sql: string;
  readonly args: unknown[];
}

/**
 * Opens the file as the bot does and runs `fn`, capturing each statement the store runs on its
 * connection with its values; returns the plan of each (transaction control left out).
 */
async function plansOf(fn: (store: SqliteStore) => Promise<unknown>): Promise<string[]> {
  const store = new SqliteStore(file);
  const client = store.db.$client;
  const ran: Ran[] = [];
  const prepare = client.prepare.bind(client);
  client.prepare = ((sql: string) => {
    const stmt = prepare(sql);
    const proxy: Database.Statement = new Proxy(stmt, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (typeof value !== "function") return value;
        if (key === "raw" || key === "pluck" || key === "expand" || key === "safeIntegers") {
          return (...a: unknown[]) => {
            (value as (...x: unknown[]) => unknown).apply(target, a);
            return proxy;
          };
        }
        if (key === "all" || key === "get" || key === "run" || key === "iterate") {
          return (...args: unknown[]) => {
            ran.push({ sql, args });
            return (value as (...x: unknown[]) => unknown).apply(target, args);
          };
        }
        return (value as (...x: unknown[]) => unknown).bind(target);
      },
    });
    return proxy;
  }) as typeof client.prepare;
  try {
    await fn(store);
  } finally {
    client.prepare = prepare;
  }
  const plans = ran
    .filter((r) => !/^\s*(BEGIN|COMMIT|ROLLBACK)/i.test(r.sql))
    .map((r) => {
      const rows = prepare(`EXPLAIN QUERY PLAN ${r.sql}`).all(...r.args) as Array<{ detail: string }>;
      return `${r.sql.replace(/\s+/g, " ").slice(0, 70)} => ${rows.map((x) => x.detail).join(" | ")}`;
    });
  await store.close();
  return plans;
}

const inTx = (fn: (tx: Tx) => Promise<unknown>) => (store: SqliteStore) => store.transaction(fn);

/** Every plan names its index; none reads a large table from end to end. */
function expectIndexed(plans: string[], ...wanted: Array<string | RegExp>): void {
  expect(plans.length).toBeGreaterThan(0);
  for (const w of wanted)
    expect(
      plans.some((p) => (typeof w === "string" ? p.includes(w) : w.test(p))),
      `no plan with ${w} in:\n${plans.join("\n")}`,
    ).toBe(true);
  const scans = plans.filter((p) => LARGE.some((table) => new RegExp(`\\bSCAN ${table}\\b(?! USING)`).test(p)));
  expect(scans).toEqual([]);
}

describe("plans of the hot queries over a long history", () => {
  it("GIVEN years of history THEN opening the database gathered the planner's statistics", async () => {
    const store = new SqliteStore(file);
    const stats = store.db.$client.prepare("SELECT tbl FROM sqlite_stat1 WHERE tbl IN ('claims', 'tasks', 'outbox')").all() as Array<{ tbl: string }>;
    await store.close();
    expect(new Set(stats.map((s) => s.tbl))).toEqual(new Set(["claims", "tasks", "outbox"]));
  });

  it("GIVEN a good's measured effort THEN its production tasks are found by tasks_good and their claims by claims_task, not through every verified claim", async () => {
    const plans = await plansOf(inTx((tx) => tx.measuredEffort(ids.bread)));
    expectIndexed(plans, "SEARCH tasks USING INDEX tasks_good (good_id=?)", "SEARCH claims USING INDEX claims_task (task_id=?)");
    expect(plans.join("\n")).not.toContain("claims_open");
  });

  it("GIVEN a member's balance THEN their account is found by accounts_pool_kind_owner", async () => {
    const plans = await plansOf(inTx((tx) => tx.account(ids.pool, "member", ids.carol)));
    expectIndexed(plans, "USING INDEX accounts_pool_kind_owner (pool_id=? AND kind=? AND owner_id=?)");
  });

  it("GIVEN the open tasks of a pool THEN only open tasks are read (tasks_open), with their claims by claims_task", async () => {
    const plans = await plansOf(inTx((tx) => Promise.all([tx.openTasks(ids.pool), tx.tasks(ids.pool, { open: true })])));
    expectIndexed(plans, "tasks USING INDEX tasks_open", "SEARCH claims USING INDEX claims_task (task_id=?)");
    expect(
      plans.filter((p) => p.includes("tasks_pool")),
      "the pool's index reads every task it ever had",
    ).toEqual([]);
  });

  it("GIVEN the boards, task list and kind list THEN the top of each board order, a page of open tasks and the counts of open tasks read the boards' indexes in their order, never every task", async () => {
    const plans = await plansOf(
      inTx(async (tx) => {
        const pool = { poolId: ids.pool, now: NOW };
        const project = { ...pool, projectId: (await tx.projects(ids.pool))[0]!.id };
        await tx.openTasksBy(pool, "weight", 10);
        await tx.openTasksBy(pool, "age", 20, 40);
        await tx.openTasksBy({ ...pool, kindId: 1 }, "age", 20);
        await tx.openTasksBy(project, "weight", 10);
        await tx.openTasksBy(project, "age", 10);
        await tx.countOpenTasks(pool);
        await tx.countOpenTasks(project);
        await tx.openTasksPerKind(ids.pool, NOW);
        await tx.claimsOfTasks([1, 2, 3]);
        await tx.markedBoards();
      }),
    );
    expectIndexed(
      plans,
      "SEARCH t USING INDEX tasks_board_weight (pool_id=?)",
      "SEARCH t USING INDEX tasks_board_age (pool_id=?)",
      "SEARCH t USING INDEX tasks_project_board_weight (project_id=?)",
      "SEARCH t USING INDEX tasks_project_board_age (project_id=?)",
      "SEARCH c USING INDEX claims_task (task_id=?)",
      // A list of ids is one JSON value, however long: never a variable per id.
      "SEARCH claims USING INDEX claims_task (task_id=?)",
    );
    // In the index's order: the first rows are the answer, nothing is sorted.
    expect(plans.filter((p) => /FROM tasks/.test(p) && p.includes("FOR ORDER BY"))).toEqual([]);
    expect(plans.filter((p) => /FROM tasks/.test(p) && !/tasks_(project_)?board_(weight|age)/.test(p))).toEqual([]);
  });

  it("GIVEN the waiting requests of a good THEN they are found by good_requests_good", async () => {
    const plans = await plansOf(inTx((tx) => Promise.all([tx.goodRequestsOf(ids.bread, "pending"), tx.pendingTotals(ids.bread)])));
    expectIndexed(plans, "good_requests USING INDEX good_requests_good (good_id=? AND status=?)");
  });

  it("GIVEN claims expired by now THEN active claims are found by claims_open", async () => {
    const plans = await plansOf(inTx((tx) => tx.expiredClaims(NOW + 30 * DAY_MS)));
    expectIndexed(plans, "claims USING INDEX claims_open (status=? AND expires_at<?)");
  });

  it("GIVEN messages and answers waiting to be sent THEN the delivery claims read the undelivered ones by index", async () => {
    const o = { owner: "plans", now: NOW, leaseMs: 60_000, limit: 20 };
    const plans = await plansOf(async (store) => {
      await store.claimOutbox("console", o);
      await store.claimNotes("console", o);
      await store.claimReplies("discord", o);
      await store.claimReply("discord:1", o);
    });
    expectIndexed(
      plans,
      // Either way only undelivered messages are read: all of them in order, or those of each room.
      /outbox USING INDEX (outbox_undelivered \(delivered_at=\?\)|outbox_pending \(room_id=\? AND delivered_at=\?\))/,
      "member_notes USING INDEX member_notes_undelivered (delivered_at=?)",
      "replies USING INDEX replies_undelivered (platform=? AND delivered_at=?)",
      "replies USING INDEX sqlite_autoindex_replies_1 (request_id=?)",
    );
  });

  it("GIVEN the storage job THEN its deletes find the rows past keeping by index, oldest first", async () => {
    const plans = await plansOf((store) =>
      store
        .transaction(async (tx) => {
          await tx.pruneStored({ before: NOW - 7 * DAY_MS, limit: 500 });
          throw new Error("rolled back: the history stays for the other cases");
        })
        .catch(() => undefined),
    );
    expectIndexed(
      plans,
      "replies USING INDEX replies_created (created_at<?)",
      "requests USING COVERING INDEX requests_created (created_at<?)",
      "outbox USING COVERING INDEX outbox_undelivered (delivered_at<?)",
      "outbox USING INDEX outbox_undelivered (delivered_at=?)",
      "member_notes USING COVERING INDEX member_notes_undelivered (delivered_at<?)",
    );
  });

  it("GIVEN a request id THEN its stored answer is found by its key", async () => {
    const plans = await plansOf(inTx((tx) => Promise.all([tx.request("console:old-5"), tx.reply("discord:old-5")])));
    expectIndexed(plans, "requests USING INDEX sqlite_autoindex_requests_1 (request_id=?)", "replies USING INDEX sqlite_autoindex_replies_1 (request_id=?)");
  });

  it("GIVEN a project's summary over a week THEN unfinished tasks, the period's verified and claimed claims, kinds in use and goods' flows are read by index", async () => {
    const bakery = await new SqliteStore(file).read(async (tx) => (await tx.projects(ids.pool))[0]!);
    const from = NOW - 7 * DAY_MS;
    const plans = await plansOf(
      inTx(async (tx) => {
        for (const scope of [{ poolId: ids.pool }, { poolId: ids.pool, projectId: bakery.id }]) {
          await tx.unfinishedTasks(scope);
          await tx.kindsInUse(scope, from, NOW);
        }
        await tx.verifiedIn(bakery.id, from, NOW);
        await tx.escalatedIn(bakery.id, from, NOW, 1.2);
        await tx.goodFlows(ids.pool, bakery.id, from, NOW);
        await tx.commonsWork(ids.pool);
      }),
    );
    expectIndexed(
      plans,
      "claims USING INDEX claims_open (status=?)",
      "claims USING INDEX claims_verified (verified_at>? AND verified_at<?)",
      "claims USING INDEX claims_verified (verified_at>?)",
      "claims USING INDEX claims_claimed (claimed_at>? AND claimed_at<?)",
      "tasks USING COVERING INDEX tasks_cancelled (cancelled_at>?)",
      "claims USING INDEX claims_task (task_id=?)",
      "good_requests USING INDEX good_requests_made (good_id=? AND created_at>? AND created_at<?)",
      "claims USING INDEX claims_entry (entry_id=?)",
      "tasks USING INDEX tasks_board_weight (pool_id=?)",
      "tasks USING INDEX tasks_project_board_weight (project_id=?)",
      "productions USING INDEX productions_good (good_id=? AND at>? AND at<?)",
      "allocations USING INDEX allocations_good (good_id=? AND at>?)",
    );
    // The project's history is never walked: not by tasks_project, nor by the pool's every task.
    expect(plans.filter((p) => /tasks_project \(project_id=\?\)|tasks_pool/.test(p))).toEqual([]);
  });

  it("GIVEN who took the pool's copyable goods THEN the requests with access are read from the copyable goods by good_requests_good alone (it holds the member), never through every request by good_requests_made", async () => {
    const bakery = await new SqliteStore(file).read(async (tx) => (await tx.projects(ids.pool))[0]!);
    const plans = await plansOf(inTx((tx) => Promise.all([tx.copyableUsers(ids.pool), tx.copyableUsers(ids.pool, bakery.id)])));
    expect(plans).toHaveLength(2);
    expectIndexed(
      plans,
      /SEARCH g USING (COVERING )?INDEX goods_model \(model=\? AND pool_id=\?\)/,
      "SEARCH r USING COVERING INDEX good_requests_good (good_id=? AND status=?)",
    );
    for (const p of plans) expect(p).toMatch(/goods_model .*good_requests_good/);
    expect(plans.filter((p) => p.includes("good_requests_made"))).toEqual([]);
  });

  it("GIVEN the audit THEN each account's entries are summed and counted from the covering indexes", async () => {
    const plans = await plansOf(inTx((tx) => tx.auditFacts(ids.pool)));
    expectIndexed(plans, "entries USING COVERING INDEX entries_to (to_account=?)", "entries USING COVERING INDEX entries_from (from_account=?)");
  });

  it("GIVEN a round closed late THEN its bidders' balances are read by index and only the entries dated after its closing time", async () => {
    const plans = await plansOf(inTx((tx) => tx.pendingMemberAccounts(ids.pool, ids.bread, NOW - DAY_MS)));
    expectIndexed(
      plans,
      /good_requests USING (COVERING )?INDEX good_requests_good \(good_id=\? AND status=\?\)/,
      "entries USING INDEX entries_pool (pool_id=? AND created_at>?)",
    );
  });

  it("GIVEN a command's hot lookups THEN each finds its row by its key", async () => {
    const plans = await plansOf(
      inTx(async (tx) => {
        await tx.identity("console", "carol");
        await tx.member(ids.carol);
        await tx.membership(ids.pool, ids.carol);
        await tx.pool(ids.pool);
        await tx.room("console", "lobby");
        await tx.account(ids.pool, "member", ids.carol);
        await tx.task(3);
        await tx.claimsOf(3);
        await tx.good(ids.bread);
        await tx.measuredEffort(ids.bread, NOW);
        await tx.pendingRequestsOfMember(ids.pool, ids.carol);
        await tx.goodInUse(ids.bread);
        await tx.openRound(ids.bread);
        await tx.lastClosedRound(ids.bread);
        await tx.roundsClosed(ids.bread, NOW - 7 * DAY_MS, NOW);
      }),
    );
    expectIndexed(
      plans,
      "identities USING INDEX identities_platform_external (platform=? AND external_id=?)",
      "memberships USING INDEX memberships_pool_member (pool_id=? AND member_id=?)",
      "rooms USING INDEX rooms_platform_external (platform=? AND external_id=?)",
      "accounts USING INDEX accounts_pool_kind_owner (pool_id=? AND kind=? AND owner_id=?)",
      "claims USING INDEX claims_task (task_id=?)",
      "tasks USING INDEX tasks_good (good_id=?)",
      "good_requests USING INDEX good_requests_member (member_id=? AND status=?)",
      "subscriptions USING COVERING INDEX subscriptions_good (good_id=? AND until=?)",
      "loans USING COVERING INDEX loans_good (good_id=? AND returned_at=?)",
      "rounds USING INDEX rounds_good (good_id=? AND closed_at=?)",
      "rounds USING INDEX rounds_good (good_id=? AND closed_at>?)",
      "rounds USING INDEX rounds_good (good_id=? AND closed_at>? AND closed_at<?)",
    );
    expect(
      plans.filter((p) => p.startsWith("SELECT rounds") && p.includes("TEMP B-TREE")),
      "a good's rounds in their index's order, never sorted",
    ).toEqual([]);
    // The member, pool, task and good by their ids (and the goods of the member's requests).
    expect(new Set(plans.flatMap((p) => /SEARCH (members|pools|tasks|goods) USING INTEGER PRIMARY KEY/.exec(p)?.[1] ?? []))).toEqual(
      new Set(["members", "pools", "tasks", "goods"]),
    );
  });
});
