// Copyable work is the commons': effort that no good can ever recover (the work of a project
// whose goods are all copyable, and work on a copyable good) is credited from the pool's commons,
// so it never counts toward a project's deficit, and a refusal for the deficit cap only ever asks
// for what the project can get (members taking goods they pay for).
import { afterEach, describe, expect, it } from "vitest";
import { testPool, text, type TestPool } from "../../support/app.ts";
import { sqlRows } from "../../support/db-dump.ts";

let t: TestPool;
afterEach(() => t?.close());

/** A pool with a deficit cap of 5 wh; alice coordinates whatever she creates. */
async function pool(): Promise<TestPool> {
  const tp = await testPool({ start: "2026-11-02T09:00:00Z" });
  await tp.ok("admin", "pool create Riverside");
  await tp.ok("admin", "pool policy deficitCap 5");
  for (const m of ["bob", "carol", "dave"]) await tp.ok(m, "me balance");
  return tp;
}

/** bob works `hours` on a new task of the project (optionally a production task) and alice verifies it. */
async function work(tp: TestPool, project: string, hours: number, good?: string): Promise<number> {
  const posted = await tp.ok("alice", `task post ${project} Work hours:${hours}${good ? ` good:${good} qty:1` : ""}`);
  const id = posted.task.id as number;
  await tp.ok("bob", `task claim ${id}`);
  await tp.ok("bob", `task done ${id}`);
  await tp.ok("alice", `task verify ${id} @bob`);
  return id;
}

const commons = async (tp: TestPool) => (await tp.ok("admin", "pool info")).commons as number;

describe("a project whose goods are all copyable", () => {
  it("GIVEN a software project whose only good is copyable THEN 6 h of its work are carried by the commons, its deficit stays 0 and it can still post production tasks under a cap of 5", async () => {
    t = await pool();
    await t.ok("alice", "project create soft Software");
    await t.ok("alice", "good add soft app effort:1 model:copyable");
    await work(t, "soft", 6);
    const info = await t.ok("alice", "project info soft");
    expect(info).toMatchObject({ balance: 0, deficit: 0 });
    expect(await commons(t)).toBe(-6);
    expect((await t.ok("bob", "me balance")).balance).toBe(6);
    const posted = await t.say("alice", "task post soft Code hours:2 good:app qty:1");
    expect(posted.ok).toBe(true);
    expect((await t.ok("admin", "pool audit")).balanced).toBe(true);
  });

  it("GIVEN a project with no goods yet THEN its work counts toward its deficit: a good it adds later may still recover it", async () => {
    t = await pool();
    await t.ok("alice", "project create garden Garden");
    await work(t, "garden", 3);
    expect(await t.ok("alice", "project info garden")).toMatchObject({ balance: -3, deficit: 3 });
    expect(await commons(t)).toBe(0);
  });

  it("GIVEN work verified while the project had a per-unit good THEN adding a copyable good does not move it; later work of the project is the project's own", async () => {
    t = await pool();
    await t.ok("alice", "project create bakery Bakery");
    await t.ok("alice", "good add bakery bread effort:1");
    await t.ok("alice", "good add bakery recipes effort:1 model:copyable");
    await work(t, "bakery", 2);
    expect(await t.ok("alice", "project info bakery")).toMatchObject({ balance: -2, deficit: 2 });
    expect(await commons(t)).toBe(0);
  });
});

describe("work linked to a copyable good", () => {
  it("GIVEN a bakery with bread (per unit) and recipes (copyable) past its cap THEN bread production is refused with advice naming bread, recipes production is not, and the recipes' work stays out of the deficit", async () => {
    t = await pool();
    await t.ok("alice", "project create bakery Bakery");
    await t.ok("alice", "good add bakery bread effort:1");
    await t.ok("alice", "good add bakery recipes effort:1 model:copyable");
    await work(t, "bakery", 4, "recipes");
    await work(t, "bakery", 6);
    expect(await t.ok("alice", "project info bakery")).toMatchObject({ balance: -6, deficit: 6 });
    expect(await commons(t)).toBe(-4);
    const before = await t.dump();
    const refused = await t.say("alice", "task post bakery Bake hours:2 good:bread qty:10");
    expect(!refused.ok && refused.code).toBe("deficit_cap");
    expect(!refused.ok && refused.message).toMatch(/until members take more of its goods \(bread\)/);
    expect(!refused.ok && refused.message).not.toMatch(/recipes/);
    expect(await t.dump()).toBe(before);
    expect((await t.say("alice", "task post bakery Write hours:2 good:recipes qty:1")).ok).toBe(true);
  });
});

describe("what the commons carries, shown", () => {
  it("GIVEN soft's 2 h on its app and 4 h of other work, and the app taken by carol twice and dave once THEN project info and pool summary show 6.00 wh carried: app 2.00 wh used by 2 members, other work 4.00 wh", async () => {
    t = await pool();
    await t.ok("alice", "project create soft Software");
    await t.ok("alice", "good add soft app effort:1 model:copyable");
    await work(t, "soft", 2, "app");
    await work(t, "soft", 4);
    await t.ok("carol", "good request app");
    await t.ok("carol", "good request app");
    await t.ok("dave", "good request app");
    const expected = { carried: 6, goods: [{ name: "app", carried: 2, members: 2 }], otherWork: 4 };
    expect((await t.ok("alice", "project info soft")).commons).toEqual(expected);
    const info = await t.say("alice", "project info soft");
    const summary = (await t.ok("alice", "pool summary soft")).projects[0];
    expect(summary.commons).toEqual(expected);
    expect(text(info)).toMatch(/The commons carries 6\.00 wh of its work: app 2\.00 wh \(used by 2 members\), its other work 4\.00 wh/);
    expect(text(await t.say("alice", "pool summary soft"))).toMatch(
      /The commons carries 6\.00 wh of its work: app 2\.00 wh \(used by 2 members\), its other work 4\.00 wh/,
    );
    // Its goods are all copyable: no deficit cap binds it, and project info says so instead.
    expect(text(info)).toMatch(/goods are all copyable/);
  });

  it("GIVEN a correction of commons-carried work THEN the commons gets it back and carries nothing for it any more", async () => {
    t = await pool();
    await t.ok("alice", "project create soft Software");
    await t.ok("alice", "good add soft app effort:1 model:copyable");
    await work(t, "soft", 3);
    const [entry] = await sqlRows<{ id: number }>(t.store, "SELECT id FROM entries WHERE kind = 'work'");
    await t.ok("admin", `pool correct ${entry!.id} wrong hours confirm`);
    expect(await commons(t)).toBe(0);
    expect((await t.ok("alice", "project info soft")).commons).toEqual({ carried: 0, goods: [{ name: "app", carried: 0, members: 0 }], otherWork: 0 });
    expect((await t.ok("admin", "pool audit")).balanced).toBe(true);
  });
});
