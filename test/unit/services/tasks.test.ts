// Weighted labour with an injected clock, against the pool policy's default numbers.
import { afterEach, describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../../src/clock.ts";
import { releaseExpiredClaims } from "../../../src/services/tasks.ts";
import { riverside, type TestPool } from "../../support/app.ts";

let t: TestPool;
afterEach(() => t?.close());

/** A pool with the bakery (coordinated by alice) and members bob, carol, dave, erin. */
const bakery = () => riverside({ members: ["bob", "carol", "dave", "erin"] });

const release = (tp: TestPool) => tp.store.transaction((tx) => releaseExpiredClaims(tx, tp.clock.now().getTime()));

describe("a task's weight rises while it stays unclaimed", () => {
  it("GIVEN 3 full days unclaimed THEN weight 1.331, and a claim locks it", async () => {
    t = await bakery();
    const posted = await t.ok("alice", "task post bakery Scrub the floor hours:2 kind:cleaning");
    expect(posted.task).toMatchObject({ id: 1, title: "Scrub the floor", kind: "cleaning", weight: 1, status: "open", slots: 1, claims: [] });
    t.clock.advance(3 * DAY_MS - 1);
    expect((await t.ok("bob", "task show 1")).task.weight).toBe(1.21);
    t.clock.advance(1);
    expect((await t.ok("bob", "task show 1")).task.weight).toBe(1.331);
    const claimed = await t.ok("bob", "task claim 1");
    expect(claimed).toMatchObject({ outcome: "claimed", weight: 1.331 });
    expect(claimed.task.claims).toEqual([expect.objectContaining({ member: "bob", weight: 1.331, status: "active" })]);
    t.clock.advance(5 * DAY_MS);
    const later = (await t.ok("bob", "task show 1")).task;
    expect(later.claims[0].weight).toBe(1.331);
    expect(later.status).toBe("claimed");
  });

  it("GIVEN weeks unclaimed THEN the weight stops at the cap of 4.00", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Empty the grease trap hours:1 kind:grease");
    t.clock.advance(14 * DAY_MS);
    expect((await t.ok("bob", "task show 1")).task.weight).toBe(3.797499);
    t.clock.advance(DAY_MS);
    expect((await t.ok("bob", "task show 1")).task.weight).toBe(4);
    t.clock.advance(100 * DAY_MS);
    const shown = (await t.ok("bob", "task show 1")).task;
    expect(shown.weight).toBe(4);
    expect(shown.nextRiseAt).toBeNull();
  });

  it("GIVEN a claim at an escalated weight THEN the kind's market weight moves only once the work is verified, a quarter of the way, and the next task starts there", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Scrub the floor hours:2 kind:cleaning");
    t.clock.advance(3 * DAY_MS);
    await t.ok("bob", "task claim 1");
    expect((await t.ok("bob", "kind list")).kinds).toEqual([{ kind: "cleaning", weight: 1, open: 0, weekAgo: 1, trend: "steady" }]);
    await t.ok("bob", "task done 1");
    expect((await t.ok("alice", "task verify 1 @bob")).market).toEqual({ kind: "cleaning", before: 1, after: 1.08275 });
    expect((await t.ok("bob", "kind list")).kinds).toEqual([{ kind: "cleaning", weight: 1.08275, open: 0, weekAgo: 1, trend: "rising" }]);
    const next = await t.ok("alice", "task post bakery Scrub the stairs hours:1 kind:cleaning");
    expect(next.task.weight).toBe(1.08275);
    const other = await t.ok("alice", "task post bakery Shape loaves hours:1 kind:baking");
    expect(other.task.weight).toBe(1);
  });
});

describe("volunteers who find a task full lower the kind's weight", () => {
  it("GIVEN three extra volunteers on a full task THEN the kind's weight is 0.857375 of what it was, once per member", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Write the website hours:5 kind:programming");
    await t.ok("bob", "task claim 1");
    const before = (await t.ok("bob", "kind list")).kinds[0].weight;
    expect(before).toBe(1);
    const first = await t.ok("carol", "task claim 1");
    expect(first).toMatchObject({ outcome: "waitlisted", position: 1, kind: { name: "programming", before: 1, after: 0.95 } });
    await t.ok("dave", "task claim 1");
    const again = await t.ok("dave", "task claim 1");
    expect(again).toMatchObject({ outcome: "waitlisted", position: 2, kind: { before: 0.9025, after: 0.9025 } });
    await t.ok("erin", "task claim 1");
    expect((await t.ok("bob", "kind list")).kinds[0].weight).toBe(0.857375);
    expect((await t.ok("bob", "task show 1")).task.waitlist).toEqual(["carol", "dave", "erin"]);
    const next = await t.ok("alice", "task post bakery Fix the shop hours:3 kind:programming");
    expect(next.task.weight).toBe(0.857375);
  });

  it("GIVEN the weight near the floor THEN it stops at 0.25", async () => {
    t = await bakery();
    await t.ok("admin", "pool policy waitlistPenalty 50%");
    await t.ok("alice", "task post bakery Popular hours:1 kind:fun");
    await t.ok("bob", "task claim 1");
    for (const m of ["carol", "dave", "erin", "alice"]) await t.ok(m, "task claim 1");
    expect((await t.ok("bob", "kind list")).kinds[0].weight).toBe(0.25);
  });
});

describe("refusing, dropping and releasing", () => {
  it("GIVEN a volunteer is refused THEN the slot reopens and the weight goes on rising from where it was", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Deliver bread hours:2 kind:delivery");
    t.clock.advance(2 * DAY_MS);
    expect((await t.ok("bob", "task claim 1")).weight).toBe(1.21);
    t.clock.advance(5 * DAY_MS);
    await t.ok("alice", "task refuse 1 @bob");
    expect((await t.ok("bob", "task show 1")).task).toMatchObject({ weight: 1.21, status: "open", openHours: 48 });
    t.clock.advance(DAY_MS);
    expect((await t.ok("carol", "task show 1")).task.weight).toBe(1.331);
    const again = await t.say("bob", "task claim 1");
    expect(!again.ok && again.code).toBe("turned_down");
    expect((await t.ok("carol", "task claim 1")).weight).toBe(1.331);
  });

  it("GIVEN a dropped slot THEN the waitlist hears that it is open again", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Bake hours:2 kind:baking");
    await t.ok("bob", "task claim 1");
    await t.ok("carol", "task claim 1");
    await t.ok("bob", "task drop 1");
    const notes = await t.store.pendingNotes("console", 10);
    expect(notes.map((n) => [n.externalId, n.kind])).toEqual([["carol", "slot_open"]]);
    expect((await t.ok("carol", "task claim 1")).outcome).toBe("claimed");
    expect((await t.ok("carol", "task show 1")).task.waitlist).toEqual([]);
  });

  it("GIVEN a claim not reported within claimDays THEN releaseExpiredClaims releases it as of its deadline, with a note", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Sweep hours:1 kind:sweeping");
    t.clock.advance(DAY_MS);
    await t.ok("bob", "task claim 1");
    t.clock.advance(7 * DAY_MS - 1);
    expect(await release(t)).toEqual([]);
    // The scheduler was down: it runs two days late, and the weight is the same as if it had not been.
    t.clock.advance(2 * DAY_MS + 1);
    const released = await release(t);
    expect(released).toEqual([{ claim: 1, task: 1, member: expect.any(Number), pool: 1 }]);
    const shown = (await t.ok("carol", "task show 1")).task;
    expect(shown.claims[0].status).toBe("released");
    expect(shown.openHours).toBe(24 + 48);
    expect(shown.weight).toBe(1.331);
    const notes = await t.store.pendingNotes("console", 10);
    expect(notes.map((n) => [n.externalId, n.kind])).toEqual([["bob", "released"]]);
    expect(await release(t)).toEqual([]);
  });

  it("GIVEN a due date THEN the claim runs until it", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Market stall hours:4 kind:market due:2026-11-04");
    const c = await t.ok("bob", "task claim 1");
    expect(c.expiresAt).toBe("2026-11-04T23:59:59.999Z");
    const past = await t.say("alice", "task post bakery Too late hours:1 due:2026-11-01");
    expect(!past.ok && past.message).toMatch(/that due date has passed/);
  });
});

describe("reporting and verifying", () => {
  it("GIVEN reported work THEN verification credits hours x locked weight from the project to the worker, and the ledger balances", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Scrub the floor hours:2 kind:cleaning");
    t.clock.advance(3 * DAY_MS);
    await t.ok("bob", "task claim 1");
    t.clock.advance(5 * HOUR_MS);
    const reported = await t.ok("bob", "task done 1 hours:3 the corners took long");
    expect(reported.hours).toBe(3);
    const verified = await t.ok("alice", "task verify 1 @bob");
    expect(verified).toMatchObject({ member: "bob", hours: 3, weight: 1.331, credited: 3.993 });
    expect(verified.task.status).toBe("done");
    expect((await t.ok("bob", "me balance")).balance).toBe(3.993);
    expect((await t.ok("alice", "project info bakery")).balance).toBe(-3.993);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true, sum: 0, entries: 1 });
    const history = await t.ok("bob", "me history");
    expect(history.entries[0]).toMatchObject({ kind: "work", amount: 3.993, with: "bakery", memo: "task #1 Scrub the floor" });
  });

  it("GIVEN no hours in the report THEN the estimate is reported", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Scrub hours:2");
    await t.ok("bob", "task claim 1");
    expect((await t.ok("bob", "task done 1")).hours).toBe(2);
    expect((await t.ok("admin", "task verify 1 @bob")).credited).toBe(2);
  });

  it("GIVEN reported hours above twice the estimate THEN verification needs explicit hours, which then count", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Scrub hours:2");
    await t.ok("bob", "task claim 1");
    await t.ok("bob", "task done 1 hours:5");
    const before = await t.dump();
    const refused = await t.say("alice", "task verify 1 @bob");
    expect(!refused.ok && refused.message).toMatch(/reported 5 h, above the cap of 4 h.*task verify 1 @bob hours:<h>/);
    expect(await t.dump()).toBe(before);
    expect((await t.ok("alice", "task verify 1 @bob hours:4.5")).credited).toBe(4.5);
  });

  it("GIVEN a coordinator who did the work THEN they cannot verify themselves; another coordinator can", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Scrub hours:2");
    await t.ok("alice", "task claim 1");
    await t.ok("alice", "task done 1");
    const self = await t.say("alice", "task verify 1 @alice");
    expect(!self.ok && self.code).toBe("self_verify");
    expect(!self.ok && self.message).toMatch(/nobody verifies their own work/);
    await t.ok("alice", "project coordinator add bakery @carol");
    expect((await t.ok("carol", "task verify 1 @alice")).credited).toBe(2);
  });

  it("GIVEN rejected work THEN the claim returns to the worker with a fresh deadline and a note", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Scrub hours:2");
    await t.ok("bob", "task claim 1");
    await t.ok("bob", "task done 1");
    t.clock.advance(6 * DAY_MS);
    const r = await t.ok("alice", 'task reject 1 @bob "the floor is still wet"');
    expect(r.expiresAt).toBe(new Date(t.clock.now().getTime() + 7 * DAY_MS).toISOString());
    expect(r.task.claims[0].status).toBe("active");
    const notes = await t.store.pendingNotes("console", 10);
    expect(notes.map((n) => [n.externalId, n.kind, JSON.parse(n.body).reason])).toEqual([["bob", "rejected", "the floor is still wet"]]);
    const notYet = await t.say("alice", "task verify 1 @bob");
    expect(!notYet.ok && notYet.code).toBe("not_reported");
  });

  it("GIVEN a cancelled task THEN open claims end and nothing is credited", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Scrub hours:2 slots:2");
    await t.ok("bob", "task claim 1");
    await t.ok("carol", "task claim 1");
    await t.ok("carol", "task done 1");
    const c = await t.ok("alice", "task cancel 1");
    expect(c.ended).toEqual(["bob", "carol"]);
    expect(c.task.status).toBe("cancelled");
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true, entries: 0 });
    const claim = await t.say("dave", "task claim 1");
    expect(!claim.ok && claim.code).toBe("task_closed");
  });
});

describe("the to-do list", () => {
  it("GIVEN tasks of different ages THEN the most neglected open work is on top, and filters work", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Newer hours:1 kind:baking");
    t.clock.advance(-2 * DAY_MS);
    await t.ok("alice", "task post bakery Oldest hours:1 kind:cleaning");
    t.clock.advance(DAY_MS);
    await t.ok("alice", "task post bakery Middle hours:1 kind:cleaning");
    t.clock.advance(2 * DAY_MS);
    const list = await t.ok("bob", "task list");
    expect(list.tasks.map((x: { title: string }) => x.title)).toEqual(["Oldest", "Middle", "Newer"]);
    expect((await t.ok("bob", "task list kind:cleaning")).tasks).toHaveLength(2);
    await t.ok("bob", "task claim 2");
    expect((await t.ok("bob", "task list")).tasks.map((x: { id: number }) => x.id)).toEqual([3, 1]);
    expect((await t.ok("bob", "task list status:claimed")).tasks.map((x: { id: number }) => x.id)).toEqual([2]);
    expect((await t.ok("bob", "task list bakery status:all")).tasks).toHaveLength(3);
    // A kind the pool does not have is refused (with the nearest one, if any), not listed as empty.
    const unknown = await t.say("bob", "task list kind:nothing");
    expect(unknown.ok === false && unknown.code).toBe("not_found");
  });
});

describe("refusals change nothing", () => {
  it.each([
    ["bob", "task post bakery Sneaky hours:1", "forbidden", /only a coordinator of bakery can do that/],
    ["admin", "task post bakery Admins are not coordinators hours:1", "forbidden", /only a coordinator of bakery/],
    ["alice", "task post bakery No hours", "usage", /missing hours:<estimate>/],
    ["alice", "task post bakery Tiny hours:0.1", "usage", /hours must be hours from 0.25 to 1000 with at most three decimals/],
    ["alice", "task post bakery Huge hours:1e9", "usage", /hours must be hours/],
    ["alice", "task post bakery Bad slots hours:1 slots:0", "usage", /slots must be a whole number from 1 to 100/],
    ["alice", "task post bakery Bad due hours:1 due:2026-02-30", "usage", /due must be a date such as 2026-12-01/],
    ["alice", "task post bakery Bad kind hours:1 kind:Clean!ng", "usage", /kind must be 2 to 32 lower-case letters/],
    ["alice", "task post nowhere Title hours:1", "not_found", /no project "nowhere"/],
    ["bob", "task claim 99", "not_found", /no task #99/],
    ["bob", "task claim 1", "already_claimed", /you already have a slot on task #1/],
    ["carol", "task drop 1", "no_claim", /you have no slot on task #1/],
    ["carol", "task done 1", "no_claim", /you have no slot on task #1/],
    ["carol", "task verify 1 @bob", "forbidden", /only a coordinator of bakery or a pool admin/],
    ["alice", "task verify 1 @bob", "not_reported", /@bob has not reported task #1 done yet/],
    ["alice", "task verify 1 @carol", "no_claim", /@carol has no slot on task #1/],
    ["alice", "task verify 1 @nobody", "not_found", /@nobody is not a member/],
    ["bob", "task refuse 1 @bob", "forbidden", /only a coordinator of bakery can do that/],
    ["bob", "task cancel 1", "forbidden", /only a coordinator of bakery/],
    ["bob", "task claim abc", "usage", /id must be a whole number/],
  ])("WHEN %s types %j THEN %s and nothing changes", async (who, command, code, pattern) => {
    t = await bakery();
    await t.ok("alice", "task post bakery Scrub hours:2");
    await t.ok("bob", "task claim 1");
    const before = await t.dump();
    const r = await t.say(who, command);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe(code);
    expect(r.message).toMatch(pattern);
    expect(await t.dump()).toBe(before);
  });
});

describe("found by the property tests", () => {
  it("GIVEN a claim that ran out while the scheduler was down THEN the next command on the task releases it as of its deadline first", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Two hands hours:1 slots:2");
    await t.ok("bob", "task claim 1");
    t.clock.advance(8 * DAY_MS);
    await t.ok("carol", "task claim 1");
    t.clock.advance(2 * DAY_MS);
    expect(await release(t)).toEqual([]);
    // Open all the time but day 7 to 8 (one slot always free): 10 days, 1.1^10 rounded daily -> 2.593743.
    const shown = (await t.ok("dave", "task show 1")).task;
    expect(shown).toMatchObject({ openHours: 240, weight: 2.593743 });
    const late = await t.say("bob", "task done 1");
    expect(!late.ok && late.code).toBe("no_claim");
  });

  it("GIVEN a member who waited, claimed, dropped and waits again THEN the kind is lowered only once for them", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Fun hours:1 kind:fun");
    await t.ok("bob", "task claim 1");
    await t.ok("carol", "task claim 1");
    await t.ok("bob", "task drop 1");
    await t.ok("carol", "task claim 1");
    await t.ok("carol", "task drop 1");
    await t.ok("bob", "task claim 1");
    const again = await t.ok("carol", "task claim 1");
    // Claims move no market weight: the kind stays where carol's first wait put it.
    expect(again).toMatchObject({ outcome: "waitlisted", kind: { before: 0.95, after: 0.95 } });
    expect((await t.ok("bob", "kind list")).kinds[0].weight).toBe(0.95);
  });

  it("GIVEN a cancelled task THEN its weight stops rising", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Gone hours:1");
    t.clock.advance(DAY_MS);
    await t.ok("alice", "task cancel 1");
    t.clock.advance(5 * DAY_MS);
    expect((await t.ok("bob", "task show 1")).task).toMatchObject({ weight: 1.1, openHours: 24, status: "cancelled" });
  });

  it("GIVEN volunteers waiting in the same millisecond THEN each is told the place the list shows", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Busy hours:1");
    await t.ok("bob", "task claim 1");
    const erin = await t.ok("erin", "task claim 1");
    const dave = await t.ok("dave", "task claim 1");
    const list = (await t.ok("bob", "task show 1")).task.waitlist as string[];
    expect(list[erin.position - 1]).toBe("erin");
    expect(list[dave.position - 1]).toBe("dave");
  });

  it("GIVEN a floor raised above a kind's weight THEN a waitlisted volunteer does not raise it; new kinds start within floor and cap", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery A hours:1 kind:fun");
    await t.ok("bob", "task claim 1");
    await t.ok("admin", "pool policy weightFloor 2");
    await t.ok("carol", "task claim 1");
    expect((await t.ok("bob", "kind list")).kinds[0].weight).toBe(1);
    const fresh = await t.ok("alice", "task post bakery B hours:1 kind:brand-new");
    expect(fresh.task.weight).toBe(2);
  });
});
