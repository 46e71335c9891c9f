// Issue 13, item 10: time only moves forward. `dpool exec --at` before the latest time recorded
// in the room's pool (its clock: the time of the latest command that changed something in it, or
// of the latest catch-up or scheduler run that did something) is refused with the pool's time, one line (one JSON line under --json),
// exit code 1 like every refusal, and the database stays as it was. Before, a claim typed a week
// before the task was posted was taken, and the task then showed "open 13 d 23 h" at 7 days old.
// On either store: a SQLite file, or (the "postgres" test project) a PostgreSQL database named
// by DPOOL_DATABASE_URL, as a deployment of several processes runs `dpool exec`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { exec } from "../../src/cli.ts";
import { runDueJobs } from "../../src/schedules.ts";
import { dumpStore } from "../support/db-dump.ts";
import { testDatabaseSpot, type TestDatabaseSpot } from "../support/test-app.ts";

const dir = mkdtempSync(join(tmpdir(), "dpool-clock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const spots: TestDatabaseSpot[] = [];
afterEach(async () => {
  for (const s of spots.splice(0)) await s.drop();
});
let n = 0;

/** A new pool's database: its file, and where the store the run asks for keeps it. */
interface Db {
  readonly file: string;
  readonly spot: TestDatabaseSpot;
}

async function freshDb(): Promise<Db> {
  const file = join(dir, `pool-${++n}.sqlite`);
  const spot = await testDatabaseSpot(file);
  spots.push(spot);
  return { file, spot };
}

async function dpool(db: Db, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await exec(
    ["--db", db.file, ...argv],
    { ...process.env, DPOOL_DB: "", DPOOL_DATABASE_URL: "", NO_COLOR: "1", ...db.spot.env },
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** Runs a command at a time and expects it to succeed; returns its JSON data. */
async function at(db: Db, time: string, as: string, text: string, room = "lobby") {
  const r = await dpool(db, ["--as", as, "--room", room, "--at", time, "--json", "--", text]);
  const body = JSON.parse(r.out);
  if (r.code !== 0) throw new Error(`"${text}" at ${time} was refused: ${r.out}`);
  return body.data;
}

/** Every row of every table (but SQLite's query planner statistics, which each start refreshes). */
async function dump(db: Db): Promise<string> {
  const store = await db.spot.open();
  try {
    return await dumpStore(store);
  } finally {
    await store.close();
  }
}

async function bakery(db: Db, time = "2026-12-01T09:00:00Z") {
  await at(db, time, "admin", "pool create Riverside");
  await at(db, time, "admin", "project create bakery Bakery");
}

describe("dpool exec --at: time only moves forward", () => {
  it("GIVEN a task posted on 8 December THEN a claim --at 1 December is refused with the pool's time, and the task is 7 days open a week later", async () => {
    const db = await freshDb();
    await bakery(db);
    await at(db, "2026-12-08T09:00:00Z", "admin", "task post bakery Sweep hours:1");
    const before = await dump(db);

    const json = await dpool(db, ["--as", "bob", "--at", "2026-12-01T09:00:00Z", "--json", "--", "task claim 1"]);
    expect(json.code).toBe(1);
    expect(json.out.split("\n")).toHaveLength(1);
    expect(JSON.parse(json.out)).toEqual({
      ok: false,
      error: {
        code: "clock_behind",
        message:
          "this pool's time is already 2026-12-08T09:00:00Z (its latest recorded command): --at cannot go back before it; give --at 2026-12-08T09:00:00Z or later",
      },
    });
    const text = await dpool(db, ["--as", "bob", "--at", "2026-12-08T08:59:59.999Z", "--", "task", "claim", "1"]);
    expect(text).toEqual({
      code: 1,
      out: "",
      err: "✗ this pool's time is already 2026-12-08T09:00:00Z (its latest recorded command): --at cannot go back before it; give --at 2026-12-08T09:00:00Z or later",
    });
    expect(await dump(db)).toBe(before);

    // The same moment is not earlier: it runs.
    expect((await at(db, "2026-12-08T09:00:00Z", "bob", "task claim 1")).outcome).toBe("claimed");
    await at(db, "2026-12-08T10:00:00Z", "bob", "task drop 1");
    const shown = await at(db, "2026-12-15T09:00:00Z", "admin", "task show 1");
    expect(shown.task.openHours).toBe(7 * 24 - 1);
  });

  it("GIVEN a pool just created THEN its creation sets its clock; a read records nothing and moves nothing; another pool keeps its own", async () => {
    const db = await freshDb();
    await bakery(db, "2026-12-05T12:00:00Z");
    const early = await dpool(db, ["--at", "2026-12-05T11:00:00Z", "--json", "--", "pool info"]);
    expect(JSON.parse(early.out).error).toMatchObject({ code: "clock_behind", message: expect.stringContaining("2026-12-05T12:00:00Z") });

    // A read with nothing due records nothing: it leaves the clock where it was.
    await at(db, "2026-12-06T00:00:00Z", "admin", "pool info");
    await at(db, "2026-12-05T23:00:00Z", "admin", "goal announce bakery Bread");
    const r = await dpool(db, ["--at", "2026-12-05T22:00:00Z", "--json", "--", "pool info"]);
    expect(JSON.parse(r.out).error.message).toContain("already 2026-12-05T23:00:00Z");

    // A room of no pool has no clock, and a new pool starts its own.
    await at(db, "2026-12-01T00:00:00Z", "dave", "pool create Garden", "garden");
    expect((await at(db, "2026-12-01T00:00:01Z", "dave", "project create beds Beds", "garden")).project.slug).toBe("beds");
  });

  it("GIVEN a command in another pool released a claim of this one (catching up) THEN --at before it is refused here; a command that caught up nothing moves only its own pool", async () => {
    const db = await freshDb();
    await bakery(db);
    await at(db, "2026-12-01T09:00:00Z", "admin", "task post bakery Sweep hours:1");
    await at(db, "2026-12-01T09:00:00Z", "bob", "task claim 1"); // runs out 7 days later
    await at(db, "2026-12-01T09:00:00Z", "dave", "pool create Garden", "garden");
    await at(db, "2026-12-10T00:00:00Z", "dave", "pool info", "garden"); // releases bob's claim
    const r = await dpool(db, ["--at", "2026-12-09T00:00:00Z", "--json", "--", "task show 1"]);
    expect(JSON.parse(r.out).error.message).toContain("already 2026-12-10T00:00:00Z");

    await at(db, "2026-12-11T00:00:00Z", "dave", "pool info", "garden"); // nothing came due
    expect((await at(db, "2026-12-10T01:00:00Z", "admin", "task show 1")).task.claims).toMatchObject([{ member: "bob", status: "released" }]);
  });

  it("GIVEN the scheduler released a claim at its run THEN --at before that run is refused in every pool", async () => {
    const db = await freshDb();
    await bakery(db);
    await at(db, "2026-12-01T09:00:00Z", "admin", "task post bakery Sweep hours:1");
    await at(db, "2026-12-01T09:00:00Z", "bob", "task claim 1"); // runs out on 8 December
    await at(db, "2026-12-01T09:00:00Z", "dave", "pool create Garden", "garden");
    const store = await db.spot.open();
    try {
      await runDueJobs(store, Date.parse("2026-12-09T00:00:00Z"));
    } finally {
      await store.close();
    }
    for (const room of ["lobby", "garden"]) {
      const r = await dpool(db, ["--room", room, "--at", "2026-12-08T23:59:00Z", "--json", "--", "pool info"]);
      expect(JSON.parse(r.out).error).toMatchObject({ code: "clock_behind", message: expect.stringContaining("already 2026-12-09T00:00:00Z") });
    }
  });

  it("GIVEN a replayed request id THEN its stored answer comes back whatever --at says, and nothing changes", async () => {
    const db = await freshDb();
    await bakery(db);
    const first = await dpool(db, ["--at", "2026-12-02T00:00:00Z", "--request-id", "goal-1", "--json", "--", "goal announce bakery Bread"]);
    const before = await dump(db);
    const again = await dpool(db, ["--at", "2026-12-01T00:00:00Z", "--request-id", "goal-1", "--json", "--", "goal announce bakery Bread"]);
    expect(JSON.parse(again.out)).toEqual({ ...JSON.parse(first.out), replayed: true });
    expect(await dump(db)).toBe(before);
  });
});
