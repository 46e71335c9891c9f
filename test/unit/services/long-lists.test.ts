// Issue 15: task list and kind list at 10,000 open tasks, in a pool whose tasks outnumber
// SQLite's limit of 32,766 variables (they failed with an internal error, "too many SQL
// variables", from id lists that grew with the pool). The open list comes a page at a time,
// longest open first, counted and read from an index; every answer is checked against the
// tasks and claims read straight from the tables.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isOverdue, taskState, type ClaimStatus } from "../../../src/core/tasks.ts";
import { openMsAt } from "../../../src/core/weights.ts";
import { TASK_PAGE } from "../../../src/services/tasks.ts";
import { testPool, text, type TestPool } from "../../support/app.ts";
import { sqlRows } from "../../support/db-dump.ts";
import { manyTasks } from "../../support/open-tasks.ts";

let t: TestPool;
let now: number;

/** Open tasks as the tables say (an open slot by its claims, not cancelled, not past due), longest open first. */
function openFromTables(): Promise<Array<{ id: number; kind: string }>> {
  return sqlRows<{ id: number; kind: string }>(
    t.store,
    `SELECT t.id, k.name AS kind, t.open_ms + (? - t.open_since) AS open FROM tasks t JOIN kinds k ON k.id = t.kind_id
     WHERE t.cancelled_at IS NULL AND (t.due_at IS NULL OR t.due_at > ?)
       AND (SELECT count(*) FROM claims c WHERE c.task_id = t.id AND c.status IN ('active', 'reported', 'verified')) < t.slots
     ORDER BY open DESC, t.id`,
    [now, now],
  );
}

beforeAll(async () => {
  t = await testPool({ start: "2026-11-02T09:00:00Z" });
  await t.ok("admin", "pool create Big");
  await manyTasks(t, { open: 10_000, claimed: 300, done: 23_000, projects: 20, kinds: 12, seed: 3 });
  now = t.clock.now().getTime();
}, 120_000);
afterAll(async () => t.close());

describe("lists of a pool with 10,000 open tasks", () => {
  it("GIVEN 33,300 tasks of which 10,000 have an open slot THEN task list (status:open) shows the first page, longest open first, and says how to see the next", async () => {
    const open = await openFromTables();
    expect(open.length).toBeGreaterThan(9000);
    for (const line of ["task list", "task list status:open"]) {
      const r = await t.say("bob", line);
      if (!r.ok) throw new Error(text(r));
      const data = r.data as { tasks: Array<{ id: number }>; total: number; page: number; pages: number; next: string | null };
      expect(data.tasks.map((x) => x.id)).toEqual(open.slice(0, TASK_PAGE).map((x) => x.id));
      expect(data.total).toBe(open.length);
      expect(data.pages).toBe(Math.ceil(open.length / TASK_PAGE));
      expect(data.next).toBe(line === "task list" ? "task list page:2" : "task list status:open page:2");
      expect(text(r)).toContain(`Page 1 of ${data.pages}; ${open.length - TASK_PAGE} more tasks: task list`);
    }
    const second = await t.ok("bob", "task list page:2");
    expect(second.tasks.map((x: { id: number }) => x.id)).toEqual(open.slice(TASK_PAGE, 2 * TASK_PAGE).map((x) => x.id));
    const pages = Math.ceil(open.length / TASK_PAGE);
    const last = await t.ok("bob", `task list page:${pages}`);
    expect(last.tasks.map((x: { id: number }) => x.id)).toEqual(open.slice((pages - 1) * TASK_PAGE).map((x) => x.id));
    expect(last.next).toBeNull();
    const past = await t.say("bob", `task list page:${pages + 1}`);
    expect(text(past)).toContain(`There is no page ${pages + 1}: the list has ${pages} pages. The last one: task list page:${pages}`);
  });

  it("GIVEN a kind filter THEN the open list of that kind is paged the same way", async () => {
    const open = (await openFromTables()).filter((x) => x.kind === "k3");
    const r = await t.ok("bob", "task list kind:k3");
    expect(r.tasks.map((x: { id: number }) => x.id)).toEqual(open.slice(0, TASK_PAGE).map((x) => x.id));
    expect(r.total).toBe(open.length);
    expect(r.next).toBe("task list kind:k3 page:2");
  });

  it("GIVEN the same pool THEN kind list counts each kind's open tasks", async () => {
    const r = await t.say("bob", "kind list");
    if (!r.ok) throw new Error(text(r));
    const counts = new Map<string, number>();
    for (const x of await openFromTables()) counts.set(x.kind, (counts.get(x.kind) ?? 0) + 1);
    const kinds = (r.data as { kinds: Array<{ kind: string; open: number }> }).kinds;
    expect(kinds).toHaveLength(12);
    for (const k of kinds) expect(k.open, k.kind).toBe(counts.get(k.kind) ?? 0);
  });

  it("GIVEN the same pool THEN status:claimed, status:overdue and status:all list the tasks the claims put in that state, in task list's order", async () => {
    // Every task and claim read into memory and ranked by the core's rules: what the SQL must match.
    const tasks = await sqlRows<{ id: number; slots: number; cancelledAt: number | null; dueAt: number | null; openSince: number | null; openMs: number }>(
      t.store,
      'SELECT id, slots, cancelled_at AS "cancelledAt", due_at AS "dueAt", open_since AS "openSince", open_ms AS "openMs" FROM tasks',
    );
    const claims = new Map<number, Array<{ status: ClaimStatus }>>();
    for (const c of await sqlRows<{ taskId: number; status: ClaimStatus }>(t.store, 'SELECT task_id AS "taskId", status FROM claims'))
      claims.set(c.taskId, [...(claims.get(c.taskId) ?? []), c]);
    const rank = { open: 0, claimed: 1, done: 2, cancelled: 3 } as const;
    const ranked = tasks
      .map((x) => ({ id: x.id, state: taskState(x, claims.get(x.id) ?? []), overdue: isOverdue(x, now), open: openMsAt(x, now) }))
      .sort((a, b) => rank[a.state] - rank[b.state] || b.open - a.open || a.id - b.id);
    const expected = {
      claimed: ranked.filter((x) => x.state === "claimed"),
      overdue: ranked.filter((x) => x.overdue && (x.state === "open" || x.state === "claimed")),
      all: ranked,
    };
    for (const [status, want] of Object.entries(expected)) {
      expect(want.length, status).toBeGreaterThan(TASK_PAGE);
      const page = await t.ok("bob", `task list status:${status} page:2`);
      expect(page.total, status).toBe(want.length);
      expect(
        page.tasks.map((x: { id: number }) => x.id),
        status,
      ).toEqual(want.slice(TASK_PAGE, 2 * TASK_PAGE).map((x) => x.id));
    }
  });

  it("GIVEN the same pool THEN task list status:done and status:all answer too, a page at a time", async () => {
    const done = await t.say("bob", "task list status:done");
    if (!done.ok) throw new Error(text(done));
    expect((done.data as { total: number }).total).toBe(23_000);
    expect((done.data as { tasks: unknown[] }).tasks).toHaveLength(TASK_PAGE);
    const all = await t.say("bob", "task list status:all");
    if (!all.ok) throw new Error(text(all));
    const [{ n: count }] = (await sqlRows<{ n: number }>(t.store, "SELECT count(*) AS n FROM tasks")) as [{ n: number }];
    expect((all.data as { total: number }).total).toBe(count);
  });
});
