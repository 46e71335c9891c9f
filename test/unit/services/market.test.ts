// A kind's market weight moves only on evidence that work was done: a verified claim moves it
// marketSmoothing (25%) of the way toward that claim's weight; claims that end without verified
// work (dropped, refused, released, rejected) move nothing; volunteers who find a task full still
// lower it 5% once per member per task.
import { afterEach, describe, expect, it } from "vitest";
import { DAY_MS } from "../../../src/core/time.ts";
import { releaseExpiredClaims } from "../../../src/services/tasks.ts";
import { riverside, type TestPool } from "../../support/app.ts";
import { sqlRows } from "../../support/db-dump.ts";

let t: TestPool;
afterEach(() => t?.close());

/** Riverside with the bakery (coordinated by alice), an admin, and members bob, carol, dave. */
const bakery = () => riverside({ members: ["bob", "carol", "dave"] });

const market = async (kind: string) => ((await t.ok("bob", "kind list")).kinds as Array<{ kind: string; weight: number }>).find((k) => k.kind === kind)?.weight;

describe("claims that end without verified work move nothing (issue 13, item 2)", () => {
  it("GIVEN an aged cleaning task claimed at 2.357948 and dropped at once THEN the cleaning market stays at 1.00 and the next task is posted at 1.00", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Scrub the oven hours:2 kind:cleaning");
    t.clock.advance(9 * DAY_MS);
    expect((await t.ok("bob", "task claim 1")).weight).toBe(2.357948);
    expect(await market("cleaning")).toBe(1); // was 2.357948
    await t.ok("bob", "task drop 1");
    expect(await market("cleaning")).toBe(1);
    expect((await t.ok("alice", "task post bakery Scrub the floor hours:1 kind:cleaning")).task.weight).toBe(1); // was 2.357948
  });

  it("GIVEN a volunteer turned down, one whose claim ran out and reported work sent back THEN the market never moved", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Scrub the oven hours:2 kind:cleaning");
    t.clock.advance(4 * DAY_MS);
    expect((await t.ok("carol", "task claim 1")).weight).toBe(1.4641);
    await t.ok("alice", "task refuse 1 @carol");
    expect(await market("cleaning")).toBe(1); // was 1.4641
    t.clock.advance(DAY_MS);
    await t.ok("dave", "task claim 1");
    t.clock.advance(7 * DAY_MS);
    expect(await t.store.transaction((tx) => releaseExpiredClaims(tx, t.clock.now().getTime()))).toHaveLength(1);
    await t.ok("bob", "task claim 1");
    await t.ok("bob", "task done 1");
    await t.ok("alice", "task reject 1 @bob not clean yet");
    expect(await market("cleaning")).toBe(1);
    const changes = await sqlRows<{ reason: string }>(t.store, "SELECT reason FROM kind_changes");
    expect(changes.map((c) => c.reason)).toEqual(["new"]);
  });
});

describe("one stale task does not set the whole kind (issue 13, item 3)", () => {
  it("GIVEN a cleaning task claimed at the cap 4.00 and verified THEN the market moves 25% of the way, to 1.75, and a coordinator's own 1-hour task is credited 1.75 wh, not 4.00", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Empty the grease trap hours:2 kind:cleaning");
    t.clock.advance(15 * DAY_MS);
    expect((await t.ok("bob", "task claim 1")).weight).toBe(4);
    expect(await market("cleaning")).toBe(1); // was 4: the claim alone set the kind
    await t.ok("bob", "task done 1");
    const verified = await t.ok("alice", "task verify 1 @bob");
    expect(verified).toMatchObject({ weight: 4, credited: 8 });
    expect(await market("cleaning")).toBe(1.75);
    const posted = await t.ok("alice", "task post bakery Wipe the counter hours:1 kind:cleaning");
    expect(posted.task.weight).toBe(1.75); // was 4
    await t.ok("alice", "task claim 2");
    await t.ok("alice", "task done 2");
    expect((await t.ok("admin", "task verify 2 @alice")).credited).toBe(1.75); // was 4
    // Verified at the market weight: the market stays where it is.
    expect(await market("cleaning")).toBe(1.75);
  });

  it("GIVEN marketSmoothing 50% and two slots verified at 2.00 and 1.00 THEN the market moves half way each time, in the order verified", async () => {
    t = await bakery();
    await t.ok("admin", "pool policy marketSmoothing 50%");
    await t.ok("admin", "pool policy claimDays 30");
    await t.ok("alice", "task post bakery Haul the flour hours:1 kind:hauling slots:2");
    await t.ok("bob", "task claim 1"); // at 1.00
    t.clock.advance(8 * DAY_MS); // 1.1^8 = 2.143589
    expect((await t.ok("carol", "task claim 1")).weight).toBe(2.143589);
    await t.ok("carol", "task done 1");
    await t.ok("bob", "task done 1");
    await t.ok("alice", "task verify 1 @carol");
    expect(await market("hauling")).toBe(1.571795); // 1 + (2.143589 - 1) / 2, rounded half up
    await t.ok("alice", "task verify 1 @bob");
    expect(await market("hauling")).toBe(1.285898); // 1.571795 + (1 - 1.571795) / 2 = 1.2858975, half up
    const changes = await sqlRows(t.store, "SELECT reason, before, after FROM kind_changes WHERE reason != 'new' ORDER BY id");
    expect(changes).toEqual([
      { reason: "verify", before: 1_000_000, after: 1_571_795 },
      { reason: "verify", before: 1_571_795, after: 1_285_898 },
    ]);
  });

  it("GIVEN extra volunteers on a full task THEN each still lowers the market 5%, once per member per task", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Decorate the cake hours:1 kind:decorating");
    await t.ok("bob", "task claim 1");
    expect((await t.ok("carol", "task claim 1")).kind).toEqual({ name: "decorating", before: 1, after: 0.95 });
    expect((await t.ok("carol", "task claim 1")).kind).toEqual({ name: "decorating", before: 0.95, after: 0.95 });
    expect((await t.ok("dave", "task claim 1")).kind).toEqual({ name: "decorating", before: 0.95, after: 0.9025 });
    // bob's verified claim at 1.00 pulls the market a quarter of the way back up.
    await t.ok("bob", "task done 1");
    await t.ok("alice", "task verify 1 @bob");
    expect(await market("decorating")).toBe(0.926875); // 0.9025 + (1 - 0.9025) / 4
  });

  it("GIVEN marketSmoothing out of range or not a percentage THEN the policy is refused with what to type and nothing changes", async () => {
    t = await bakery();
    for (const bad of ["0%", "101%", "12.25%", "half"]) {
      const before = await t.dump();
      const r = await t.say("admin", `pool policy marketSmoothing ${bad}`);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.message).toMatch(/marketSmoothing must be a percentage from 1% to 100%, such as 12%/);
      expect(await t.dump()).toBe(before);
    }
    expect((await t.ok("admin", "pool policy marketSmoothing 100%")).value).toBe(100);
  });
});

describe("coordinators claiming their own project's tasks", () => {
  it("GIVEN a coordinator turned a volunteer down THEN no coordinator of the project may claim that task; other members still may", async () => {
    t = await bakery();
    await t.ok("alice", "project coordinator add bakery @dave");
    await t.ok("alice", "task post bakery Clean the chimney hours:3 kind:chimney");
    await t.ok("bob", "task claim 1");
    await t.ok("alice", "task refuse 1 @bob");
    t.clock.advance(6 * DAY_MS);
    for (const coordinator of ["alice", "dave"]) {
      const before = await t.dump();
      const r = await t.say(coordinator, "task claim 1");
      expect(!r.ok && r.code).toBe("coordinator_claim");
      expect(!r.ok && r.message).toMatch(/bakery turned a volunteer down for task #1, so its coordinators may not claim it themselves/);
      expect(await t.dump()).toBe(before);
    }
    expect((await t.ok("carol", "task claim 1")).weight).toBe(1.771561);
  });

  it("GIVEN no volunteer was turned down THEN a coordinator may claim their project's task, and someone else verifies it", async () => {
    t = await bakery();
    await t.ok("alice", "task post bakery Sweep the yard hours:1 kind:yard");
    t.clock.advance(2 * DAY_MS);
    expect((await t.ok("alice", "task claim 1")).weight).toBe(1.21);
    await t.ok("alice", "task done 1");
    const self = await t.say("alice", "task verify 1 @alice");
    expect(!self.ok && self.code).toBe("self_verify");
    expect((await t.ok("admin", "task verify 1 @alice")).credited).toBe(1.21);
  });
});
