// Reads cost little: the read-only connection keeps the rows every command looks up first
// (caller, room, pool, membership, next deadlines) while the database does not change, and a
// read answered on a platform that takes one answer per request (Discord) stores nothing.
// What must hold all the same: a commit by this process or by another one shows at the very
// next read, a preview is still stored (a confirmation reads it), and where the platform may
// deliver one request again (Matrix) a read's answer is stored once and given again from it.
// On PostgreSQL, the store keeps no rows between reads and there is no write lock that sends
// commands down a read path: the memo's own tests are SQLite's, the rest runs on both stores.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { runText, type Invocation, type Reply } from "../../../commands/dispatch.ts";
import type { PgStore } from "../../../db/pg-store.ts";
import { testPool, type TestPool } from "../../support/app.ts";
import { sqlRows } from "../../support/db-dump.ts";
import { testStoreKind } from "../../support/pg.ts";

const onPg = testStoreKind() === "postgres";
const dirs: string[] = [];
const others: Array<() => Promise<void>> = [];
let t: TestPool | undefined;
afterEach(async () => {
  for (const close of others.splice(0)) await close();
  await t?.close();
  t = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "dpool-read-cache-"));
  dirs.push(dir);
  return join(dir, "pool.sqlite");
}

/** Riverside on a file (the read-only connection needs one): bob has credit for verified work. */
async function riversideOnFile(): Promise<TestPool> {
  const tp = await testPool({ start: "2026-11-02T09:00:00Z", dbFile: tempFile() });
  await tp.ok("admin", "pool create Riverside");
  await tp.ok("alice", "project create bakery The Bakery");
  for (const m of ["bob", "carol"]) await tp.ok(m, "me balance");
  await tp.ok("alice", "task post bakery Knead the dough hours:2");
  await tp.ok("bob", "task claim 1");
  await tp.ok("bob", "task done 1");
  await tp.ok("alice", "task verify 1 @bob");
  return tp;
}

/** Another connection to the same database, as another process has: its commits are not this store's. */
interface OtherConnection {
  /** The rows of `sql` (with `?` parameters) run there, committed at once; numbers as numbers. */
  rows<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /**
   * Runs `work` while this connection holds SQLite's write lock: what answers then ran on the
   * read-only connection (a command that ran as a write would wait for the lock, then be
   * refused as busy), so its answer comes from that connection's rows, kept or read anew. On
   * PostgreSQL, which has no such lock and no such path, `work` simply runs.
   */
  onTheReadPath<T>(work: () => Promise<T>): Promise<T>;
}

async function otherConnection(tp: TestPool): Promise<OtherConnection> {
  if (onPg) {
    const client = new pg.Client({ connectionString: (tp.store as unknown as PgStore).pool.options.connectionString });
    await client.connect();
    others.push(() => client.end());
    return {
      async rows<R>(sql: string, params: readonly unknown[] = []) {
        let i = 0;
        const r = await client.query(
          sql.replace(/\?/g, () => `$${++i}`),
          params as unknown[],
        );
        // count(*) is a bigint, which this plain client gives as text.
        return r.rows.map((row: Record<string, unknown>) => ("n" in row ? { ...row, n: Number(row.n) } : row)) as R[];
      },
      onTheReadPath: (work) => work(),
    };
  }
  const db = new Database(tp.store.db.$client.name);
  db.pragma("busy_timeout = 5000");
  others.push(async () => void db.close());
  return {
    async rows<R>(sql: string, params: readonly unknown[] = []) {
      const statement = db.prepare(sql);
      if (!statement.reader) {
        statement.run(...params);
        return [];
      }
      return statement.all(...params) as R[];
    },
    async onTheReadPath(work) {
      db.prepare("BEGIN IMMEDIATE").run();
      try {
        return await work();
      } finally {
        db.prepare("COMMIT").run();
      }
    },
  };
}

/** A command as a chat adapter runs it, with a reply target; `once`: the platform takes one answer (Discord). */
function chat(tp: TestPool, user: string, text: string, requestId: string, once: boolean): Promise<Reply> {
  const inv: Invocation = {
    caller: { platform: "console", userId: user, displayName: user, roomId: "lobby" },
    requestId,
    now: tp.clock.now(),
    replyTo: { room: "lobby", event: requestId },
    ...(once ? { platformAnswersOnce: true } : {}),
  };
  return runText(tp.app.engine, inv, text);
}

const replies = async (tp: TestPool, requestId: string) =>
  (await sqlRows<{ n: number }>(tp.store, "SELECT count(*) AS n FROM replies WHERE request_id = ?", [requestId]))[0]!.n;
const creditLimit = async (tp: TestPool, user: string) => ((await tp.ok(user, "me balance")) as { creditLimit: number }).creditLimit;

describe("the read-only connection's memo", () => {
  /** Bob's member id. */
  const bobId = async (tp: TestPool) => (await sqlRows<{ id: number }>(tp.store, "SELECT member_id AS id FROM identities WHERE external_id = 'bob'"))[0]!.id;

  // The memo is SqliteStore's (its read-only connection's); PgStore reads every row anew.
  it.skipIf(onPg)("GIVEN nothing committed between two reads THEN the second finds the very same rows", async () => {
    t = await riversideOnFile();
    const bob = await bobId(t);
    const first = await t.store.read(async (tx) => ({ member: await tx.member(bob), room: await tx.room("console", "lobby") }));
    const second = await t.store.read(async (tx) => ({ member: await tx.member(bob), room: await tx.room("console", "lobby") }));
    // Kept, not read again: the same objects (frozen, since every read shares them).
    expect(second.member).toBe(first.member);
    expect(second.room).toBe(first.room);
    expect(Object.isFrozen(first.member)).toBe(true);
    expect(first.member?.handle).toBe("bob");
  });

  it("GIVEN rows read once THEN a commit of another connection shows at the next read", async () => {
    t = await riversideOnFile();
    const bob = await bobId(t);
    const first = await t.store.read(async (tx) => ({ member: await tx.member(bob), room: await tx.room("console", "lobby") }));
    expect(first.member?.handle).toBe("bob");

    await (await otherConnection(t)).rows("UPDATE members SET handle = 'robert' WHERE id = ?", [bob]);
    const after = await t.store.read((tx) => tx.member(bob));
    expect(after).not.toBe(first.member);
    expect(after?.handle).toBe("robert");
  });

  it("GIVEN the pool's policy changed by another process THEN the next me balance shows the new credit limit; changed by this process, too", async () => {
    t = await riversideOnFile();
    const other = await otherConnection(t);
    expect(await other.onTheReadPath(() => creditLimit(t!, "bob"))).toBe(10);
    expect(await other.onTheReadPath(() => creditLimit(t!, "carol"))).toBe(10);

    // Another process sets the credit limit in the pool's policy (JSON): nothing of this store ran.
    const [{ policy }] = (await other.rows<{ policy: string }>("SELECT policy FROM pools WHERE name = 'Riverside'")) as [{ policy: string }];
    await other.rows("UPDATE pools SET policy = ? WHERE name = 'Riverside'", [JSON.stringify({ ...(JSON.parse(policy) as object), creditLimit: 25_000 })]);
    expect(await other.onTheReadPath(() => creditLimit(t!, "bob"))).toBe(25);

    // This process's own write (the write connection) shows at the next read as well.
    await t.ok("admin", "pool policy creditLimit 15 wh");
    expect(await other.onTheReadPath(() => creditLimit(t!, "carol"))).toBe(15);
  });

  it("GIVEN a membership removed by another process THEN the caller's next read runs as a write and makes them a member again, as for anyone new to the pool", async () => {
    t = await riversideOnFile();
    await t.ok("carol", "me balance");
    const other = await otherConnection(t);
    const carolsMemberships = async () =>
      (
        await other.rows<{ n: number }>(
          "SELECT count(*) AS n FROM memberships WHERE member_id = (SELECT member_id FROM identities WHERE external_id = 'carol')",
        )
      )[0]!.n;
    await other.rows("DELETE FROM memberships WHERE member_id = (SELECT member_id FROM identities WHERE external_id = 'carol')");
    expect(await carolsMemberships()).toBe(0);
    // A kept membership would have let the read answer without writing one.
    await t.ok("carol", "me balance");
    expect(await carolsMemberships()).toBe(1);
  });

  it("GIVEN a claim that runs out WHEN nothing else changed THEN the next read still catches it up: kept deadlines are compared with the time of each command", async () => {
    t = await riversideOnFile();
    await t.ok("alice", "task post bakery Shape the loaves hours:1");
    await t.ok("carol", "task claim 2");
    type Shown = { task: { status: string; claims: Array<{ member: string; status: string }> } };
    const before = (await t.ok("bob", "task show 2")) as Shown;
    expect(before.task.claims.map((c) => [c.member, c.status])).toEqual([["carol", "active"]]);
    // The same read again, a month later: the claim ran out in between, and nothing was committed.
    t.clock.advance(30 * 86_400_000);
    const after = (await t.ok("bob", "task show 2")) as Shown;
    expect(after.task.claims.map((c) => [c.member, c.status])).toEqual([["carol", "released"]]);
    expect(after.task.status).toBe("open");
  });
});

describe("a read's answer, by platform", () => {
  it("GIVEN a platform that takes one answer (Discord) THEN a read stores nothing, and answers the same as when stored", async () => {
    t = await riversideOnFile();
    const once = await chat(t, "bob", "me balance", "discord:r1", true);
    const stored = await chat(t, "bob", "me balance", "matrix:r1", false);
    expect(once.ok && stored.ok).toBe(true);
    expect(await replies(t, "discord:r1")).toBe(0);
    expect(await replies(t, "matrix:r1")).toBe(1);
    expect(once.ok && once.data).toEqual(stored.ok && stored.data);
    expect(once.doc).toEqual(stored.doc);
    // A refusal is stored on every platform (it counts for flood control, and is said once).
    const refused = await chat(t, "bob", "task show 99", "discord:r2", true);
    expect(!refused.ok && refused.code).toBe("not_found");
    expect(await replies(t, "discord:r2")).toBe(1);
  });

  it("GIVEN a preview (pool correct) on a platform that takes one answer THEN it is stored all the same (a confirmation reads what it previewed from it)", async () => {
    t = await riversideOnFile();
    const entry = (await sqlRows<{ id: number }>(t.store, "SELECT max(id) AS id FROM entries"))[0]!.id;
    const preview = await chat(t, "admin", `pool correct ${entry} counted twice`, "discord:p1", true);
    expect(preview.ok && (preview.data as { confirmed: boolean }).confirmed).toBe(false);
    expect(await replies(t, "discord:p1")).toBe(1);
    const [row] = (await sqlRows<{ body: string }>(t.store, "SELECT body FROM replies WHERE request_id = 'discord:p1'")) as [{ body: string }];
    expect(JSON.parse(row.body)).toMatchObject({ ok: true, command: "pool correct" });
  });

  it("GIVEN a platform that may deliver a request again (Matrix) THEN a read's answer is stored once, and the same request again is that answer, not a second one", async () => {
    t = await riversideOnFile();
    const first = await chat(t, "bob", "me balance", "matrix:$again", false);
    // Bob's balance changes before the event comes again (after a restart, say).
    await t.ok("alice", "task post bakery Sweep hours:1");
    await t.ok("bob", "task claim 2");
    await t.ok("bob", "task done 2");
    await t.ok("alice", "task verify 2 @bob");
    const again = await chat(t, "bob", "me balance", "matrix:$again", false);
    expect(first.ok && first.replayed).toBe(false);
    expect(again.ok && again.replayed).toBe(true);
    expect(again.ok && again.data).toEqual(first.ok && first.data);
    expect(await replies(t, "matrix:$again")).toBe(1);
    // Delivered twice at once: one row, one answer given again.
    const [a, b] = await Promise.all([chat(t, "carol", "me balance", "matrix:$twice", false), chat(t, "carol", "me balance", "matrix:$twice", false)]);
    expect([a, b].filter((r) => r.ok && r.replayed)).toHaveLength(1);
    expect(await replies(t, "matrix:$twice")).toBe(1);
  });
});
