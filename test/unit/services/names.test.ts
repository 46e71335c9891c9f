// Names as people see them in lists: projects and goods are found by short name, by number or by
// display name (any case); whatever is not found gets the nearest "did you mean".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { choicesOf, fitChoices } from "../../../adapters/discord/choices.ts";
import { choiceFacts } from "../../../src/services/choices.ts";
import { testPool, text, type TestPool } from "../../support/app.ts";

let t: TestPool;

beforeAll(async () => {
  t = await testPool();
  await t.ok("admin", 'pool create "Riverside commons"');
  await t.ok("alice", 'project create bakery "Riverside Bakery"');
  await t.ok("bob", "project create bikes Bike Workshop");
  await t.ok("alice", "good add bakery bread effort:0.5 unit:loaf stock:20");
  await t.ok("alice", 'good add bakery share "Bread Share" effort:1 model:flat-rate');
  await t.ok("alice", "task post bakery Knead the dough hours:2 kind:baking");
  await t.ok("carol", "me balance");
});
afterAll(() => t.close());

describe("GIVEN bakery (Riverside Bakery, project 1) with goods bread (1) and share (Bread Share, 2)", () => {
  it.each([
    ["project info 1", "bakery"],
    ["project info #2", "bikes"],
    ['project info "Riverside Bakery"', "bakery"],
    ['project info "riverside bakery"', "bakery"],
    ["project info BAKERY", "bakery"],
    ['project info "bike workshop"', "bikes"],
  ])("WHEN carol types %j THEN she sees project %s", async (command, slug) => {
    const d = await t.ok("carol", command);
    expect(d.project.slug).toBe(slug);
  });

  it.each([
    ["good show 1", "bread"],
    ["good show 2", "share"],
    ['good show "bread share"', "share"],
    ['good show "Bread Share"', "share"],
    ["good show Bread", "bread"],
  ])("WHEN carol types %j THEN she sees good %s", async (command, name) => {
    const d = await t.ok("carol", command);
    expect(d.good.name).toBe(name);
  });

  it("WHEN carol requests good 1 by its number THEN she gets a loaf of bread", async () => {
    const d = await t.ok("carol", "good request 1");
    expect(d.good?.name ?? d.request?.good).toBe("bread");
  });

  it("WHEN a good is added with a display name THEN the reply, good show and good list show it beside its short name", async () => {
    const d = await t.ok("carol", "good show share");
    expect(d.good.displayName).toBe("Bread Share");
    const list = await t.say("carol", "good list");
    expect(text(list)).toContain("Bread Share");
    expect(text(list)).toContain("share");
  });

  it.each([
    ["good", "bread sh", "share"],
    ["project", "riverside", "bakery"],
    ["project", "workshop", "bikes"],
  ] as const)("WHEN carol types a display name into Discord's %s option (%j) THEN autocomplete offers %s", async (ref, typed, value) => {
    const caller = { platform: "console", userId: "carol", displayName: "carol", roomId: "lobby" };
    const facts = await t.store.read((tx) => choiceFacts(tx, caller, t.clock.now().getTime(), ref));
    expect(fitChoices(choicesOf(facts), typed).map((c) => c.value)).toEqual([value]);
  });

  it("WHEN carol lists the projects THEN each shows its number, short name and name, and how to type them", async () => {
    const lines = text(await t.say("carol", "project list")).split("\n");
    expect(lines[0]).toMatch(/^\s*#\s+project\s+name/);
    expect(lines.find((l) => l.includes("Riverside Bakery"))).toMatch(/^\s*1\s+bakery\s+Riverside Bakery/);
    expect(lines.find((l) => l.includes("Bike Workshop"))).toMatch(/^\s*2\s+bikes\s+Bike Workshop/);
    expect(lines.at(-1)).toContain("number, short name or name");
  });

  it.each([
    // command, code, message pattern
    ["good request bred", "not_found", /no good "bred".*did you mean "bread"\?/],
    ["project info bakry", "not_found", /no project "bakry".*did you mean "bakery"\?/],
    ['project info "Riverside Bakry"', "not_found", /did you mean "bakery"\?/],
    ["project info 99", "not_found", /no project "99"/],
    ["good show 99", "not_found", /no good "99"/],
    ["project coordinator add bakery @carl", "not_found", /@carl is not a member of this pool.*did you mean @carol\?/],
    ["task show 11", "not_found", /no task #11.*did you mean #1\?/],
    ["task list kind:bakng", "not_found", /no kind "bakng".*did you mean "baking"\?/],
  ])("WHEN alice types %j THEN %s with the nearest name, and nothing changes", async (command, code, pattern) => {
    const before = await t.dump();
    const r = await t.say("alice", command);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe(code);
    expect(r.message).toMatch(pattern);
    expect(r.message).not.toContain("\n");
    expect(await t.dump()).toBe(before);
  });

  it("WHEN two projects share a display name THEN typing it names both short names to type instead, and changes nothing", async () => {
    const u = await testPool();
    try {
      await u.ok("admin", "pool create Twins");
      await u.ok("alice", "project create north Community Garden");
      await u.ok("bob", "project create south community garden");
      await u.ok("bob", "project create garden Garden");
      // A short name wins over another project's display name.
      expect((await u.ok("carol", "project info GARDEN")).project.slug).toBe("garden");
      const before = await u.dump();
      const both = await u.say("carol", 'task list "Community  Garden"');
      expect(both.ok).toBe(false);
      if (!both.ok) expect(both.message).toBe('"Community Garden" is the name of 2 projects: type the short name of the one you mean, "north" or "south"');
      const typo = await u.say("carol", "pool summary gardn");
      expect(typo.ok).toBe(false);
      if (!typo.ok) expect(typo.message).toMatch(/no project "gardn".*did you mean "garden"\?/);
      expect(await u.dump()).toBe(before);
    } finally {
      await u.close();
    }
  });

  it("WHEN a task is posted with a kind close to one the pool has THEN the reply says it is a new kind and which one was probably meant", async () => {
    const typo = await t.say("alice", "task post bakery Sweep hours:1 kind:bakng");
    expect(typo.ok).toBe(true);
    // Plain text (the console, dpool exec) names commands without Markdown marks.
    expect(text(typo)).toMatch(/New kind bakng\. Did you mean baking\? task cancel \d+ and post it again with kind:baking\./);
    expect(typo.ok && (typo.data as { newKind: unknown }).newKind).toEqual({ name: "bakng", near: "baking" });
    const fresh = await t.say("alice", "task post bakery Paint the door hours:1 kind:painting");
    expect(text(fresh)).toContain("New kind painting.");
    expect(text(fresh)).not.toContain("Did you mean");
    const known = await t.say("alice", "task post bakery Knead again hours:1 kind:baking");
    expect(text(known)).not.toContain("New kind");
  });

  it("WHEN a good is added with a display name that is too long THEN it is refused and nothing changes", async () => {
    const before = await t.dump();
    const r = await t.say("alice", `good add bakery rolls "${"x".repeat(81)}" effort:1`);
    expect(r.ok).toBe(false);
    expect(await t.dump()).toBe(before);
  });
});
