// Due dates mean something: past its due date a task stops rising and cannot be claimed; its
// coordinators extend it (task due) or cancel it; a claim's report deadline is never past the due
// date; summaries list overdue tasks and the claims in progress.
import { afterEach, describe, expect, it } from "vitest";
import { testPool, type TestPool } from "../../support/app.ts";
import { sqlRows } from "../../support/db-dump.ts";

let t: TestPool;
afterEach(() => t?.close());

const DUE = "2026-12-20T23:59:59.999Z";

/** The bakery (alice coordinates) with a task posted on Dec 15, 09:00, due on Dec 20 (the end of that day). */
async function dueTask(slots = 1): Promise<TestPool> {
  const tp = await testPool({ start: "2026-12-15T09:00:00Z" });
  await tp.ok("admin", "pool create Riverside");
  await tp.ok("alice", "project create bakery The Bakery");
  for (const m of ["bob", "carol", "dave"]) await tp.ok(m, "me balance");
  const posted = await tp.ok("alice", `task post bakery Bake the stollen hours:2 kind:baking slots:${slots} due:2026-12-20`);
  expect(posted.task.dueAt).toBe(DUE);
  return tp;
}

const at = (iso: string) => t.clock.set(new Date(iso));
const shown = async (id = 1) => (await t.ok("bob", `task show ${id}`)).task;

describe("past its due date a task cannot be claimed and stops rising (issue 13, item 5)", () => {
  it("GIVEN a task due 2026-12-20 THEN a claim on the 21st is refused naming the due date and what the coordinator can do, and changes nothing", async () => {
    t = await dueTask();
    at("2026-12-21T10:00:00Z");
    const before = await t.dump();
    const r = await t.say("bob", "task claim 1");
    expect(r.ok).toBe(false); // was claimed at 1.771561 with a report deadline of Dec 28
    expect(!r.ok && r.code).toBe("task_overdue");
    expect(!r.ok && r.message).toMatch(
      /task #1 was due 2026-12-20 23:59 UTC: it can no longer be claimed\. Its coordinators can give it a new date \("task due 1 <date>"\) or cancel it \("task cancel 1"\)/,
    );
    expect(await t.dump()).toBe(before);
  });

  it("GIVEN a task due 2026-12-20 left open THEN its weight stops at the due date (5 full days: 1.61051) and weeks later is still 1.61051, not 4.00", async () => {
    t = await dueTask();
    at("2026-12-20T12:00:00Z");
    expect(await shown()).toMatchObject({ weight: 1.61051, nextRiseAt: null }); // the next rise (Dec 21 09:00) comes after the due date
    at("2026-12-21T10:00:00Z");
    expect((await shown()).weight).toBe(1.61051); // was 1.771561
    at("2027-01-20T10:00:00Z");
    expect(await shown()).toMatchObject({ weight: 1.61051, overdue: true, nextRiseAt: null }); // was 4
  });

  it("GIVEN a task past due THEN it is off the to-do list, the boards and kind list's open count, and status:overdue lists it", async () => {
    t = await dueTask();
    await t.ok("alice", "task post bakery Knead hours:1 kind:baking");
    at("2026-12-21T10:00:00Z");
    expect((await t.ok("bob", "task list")).tasks.map((x: { id: number }) => x.id)).toEqual([2]);
    expect((await t.ok("bob", "task list status:overdue")).tasks.map((x: { id: number }) => x.id)).toEqual([1]);
    expect((await t.ok("bob", "task board")).tasks.map((x: { id: number }) => x.id)).toEqual([2]);
    expect((await t.ok("bob", "kind list")).kinds).toEqual([expect.objectContaining({ kind: "baking", open: 1 })]);
  });

  it("GIVEN a volunteer gives a slot back after the due date THEN the task does not start rising again", async () => {
    t = await dueTask();
    at("2026-12-17T09:00:00Z");
    expect((await t.ok("bob", "task claim 1")).weight).toBe(1.21);
    at("2026-12-20T20:00:00Z");
    await t.ok("bob", "task drop 1");
    at("2027-01-05T09:00:00Z");
    expect((await shown()).weight).toBe(1.21);
  });
});

describe("a claim's report deadline is never past the due date", () => {
  it("GIVEN a claim two days before the due date THEN it must be reported by the due date, not in claimDays", async () => {
    t = await dueTask();
    at("2026-12-18T09:00:00Z");
    expect((await t.ok("bob", "task claim 1")).expiresAt).toBe(DUE);
  });

  it("GIVEN reported work past the due date THEN sending it back is refused with the choices left; verifying or turning down still work", async () => {
    t = await dueTask(2);
    at("2026-12-18T09:00:00Z");
    await t.ok("bob", "task claim 1");
    await t.ok("carol", "task claim 1");
    await t.ok("bob", "task done 1");
    await t.ok("carol", "task done 1");
    at("2026-12-22T09:00:00Z");
    const before = await t.dump();
    const r = await t.say("alice", "task reject 1 @bob the crust is burnt");
    expect(!r.ok && r.code).toBe("task_overdue"); // was: back to bob until Dec 29, a week past the due date
    expect(!r.ok && r.message).toMatch(
      /task #1 was due 2026-12-20 23:59 UTC: work sent back now could not be redone in time\. Verify it \("task verify 1 @bob"\), turn it down \("task refuse 1 @bob"\), or give the task a new date first \("task due 1 <date>"\)/,
    );
    expect(await t.dump()).toBe(before);
    await t.ok("alice", "task verify 1 @bob");
    await t.ok("alice", "task refuse 1 @carol");
  });
});

describe("task due: coordinators extend (or move) a task's due date", () => {
  it("GIVEN a task past due THEN its coordinator gives it a new date: it can be claimed again and rises from where it stopped, not counting the days it was overdue", async () => {
    t = await dueTask();
    at("2026-12-21T10:00:00Z");
    const moved = await t.ok("alice", "task due 1 2026-12-31");
    expect(moved.task).toMatchObject({ dueAt: "2026-12-31T23:59:59.999Z", overdue: false, weight: 1.61051, status: "open" });
    expect(moved.before).toBe(DUE);
    at("2026-12-22T10:00:00Z"); // 5 d 15 h before the due date, and one more day since the new date
    const claimed = await t.ok("bob", "task claim 1");
    expect(claimed).toMatchObject({ outcome: "claimed", weight: 1.771561, expiresAt: "2026-12-31T23:59:59.999Z" });
  });

  it("GIVEN a task with active claims THEN a new due date becomes their report deadline, and each worker is told", async () => {
    t = await dueTask(2);
    at("2026-12-16T09:00:00Z");
    await t.ok("bob", "task claim 1");
    await t.ok("carol", "task claim 1");
    await t.ok("carol", "task done 1");
    await t.ok("admin", "task due 1 2026-12-18T12:00Z"); // a pool admin may too; earlier than before
    const claims = (await shown()).claims;
    expect(claims.map((c: { member: string; status: string }) => [c.member, c.status])).toEqual([
      ["bob", "active"],
      ["carol", "reported"],
    ]);
    expect(await sqlRows(t.store, 'SELECT status, expires_at AS "expiresAt" FROM claims ORDER BY id')).toEqual([
      { status: "active", expiresAt: Date.parse("2026-12-18T12:00:00Z") },
      { status: "reported", expiresAt: Date.parse(DUE) },
    ]);
    const notes = (await t.store.pendingNotes("console", 20)).filter((n) => n.kind === "due");
    expect(notes.map((n) => n.externalId)).toEqual(["bob"]);
  });

  it("GIVEN wrong people, dates and tasks THEN task due is refused with what to type, and nothing changes", async () => {
    t = await dueTask();
    await t.ok("alice", "task post bakery Sweep hours:1");
    await t.ok("alice", "task cancel 2");
    at("2026-12-21T10:00:00Z");
    const cases: Array<[string, string, RegExp]> = [
      ["bob", "task due 1 2026-12-31", /only a coordinator of bakery or a pool admin can do that/],
      ["alice", "task due 1 2026-12-10", /that due date has passed: give a date ahead, such as "task due 1 2026-12-28"/],
      ["alice", "task due 1 2026-02-30", /2026-02-30|not a date|February/],
      ["alice", "task due 1 soon", /a date such as 2026-12-01/],
      ["alice", "task due 1", /usage: task due <id> <date>/],
      ["alice", "task due 2 2026-12-31", /task #2 is cancelled/],
      ["alice", "task due 9 2026-12-31", /there is no task #9/],
    ];
    for (const [who, text, message] of cases) {
      const before = await t.dump();
      const r = await t.say(who, text);
      expect(r.ok, text).toBe(false);
      expect(!r.ok && r.message, text).toMatch(message);
      expect(await t.dump(), text).toBe(before);
    }
  });
});

describe("summaries list overdue tasks and the claims in progress", () => {
  it("GIVEN an overdue task and an active claim THEN pool summary names both, with the due date and the report deadline", async () => {
    t = await dueTask();
    await t.ok("alice", "task post bakery Knead hours:1 kind:baking");
    await t.ok("bob", "task claim 2");
    at("2026-12-21T10:00:00Z");
    const s = (await t.ok("alice", "pool summary bakery")).projects[0];
    expect(s.overdue).toEqual([{ id: 1, title: "Bake the stollen", dueAt: DUE, taken: 0, slots: 1 }]);
    expect(s.inProgress).toEqual([{ task: 2, title: "Knead", member: "bob", since: "2026-12-15T09:00:00.000Z", until: "2026-12-22T09:00:00.000Z" }]);
    expect(s.open.map((x: { id: number }) => x.id)).toEqual([]);
    const r = await t.say("alice", "pool summary bakery");
    const text = JSON.stringify(r.ok && r.doc);
    expect(text).toMatch(/Overdue/);
    expect(text).toMatch(/#1 Bake the stollen/);
    expect(text).toMatch(/In progress/);
    expect(text).toMatch(/#2 by @bob/);
  });
});
