import { afterEach, describe, expect, it } from "vitest";
import { MINUTE_MS, DAY_MS } from "../../../src/clock.ts";
import { postEntry } from "../../../src/services/posting.ts";
import { testPool, type TestPool } from "../../support/app.ts";
import { sqlRows } from "../../support/db-dump.ts";

let t: TestPool;
afterEach(() => t?.close());

async function creditFromProject(tt: TestPool, slug: string, handle: string, milliHours: number) {
  await tt.store.transaction(async (tx) => {
    const member = await tx.memberByHandle(handle);
    const project = await tx.projectBySlug(1, slug);
    const from = await tx.account(1, "project", project!.id);
    const to = await tx.account(1, "member", member!.id);
    await postEntry(tx, {
      poolId: 1,
      fromAccount: from!.id,
      toAccount: to!.id,
      amount: milliHours,
      kind: "work",
      memo: "test credit",
      requestId: `test:${handle}:${milliHours}`,
      createdAt: tt.clock.now().getTime(),
      createdBy: null,
    });
  });
}

describe("pool create, invite and join", () => {
  it("GIVEN a new pool THEN its lobby and admin are set and an invite binds another room once", async () => {
    t = await testPool();
    const created = await t.ok("admin", "pool create Riverside");
    expect(created).toEqual({ pool: { id: 1, name: "Riverside" }, room: { id: 1, lobby: true } });
    const invite = await t.ok("admin", "pool invite");
    expect(invite.code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    const joined = await t.ok("erin", `pool join ${invite.code.toLowerCase()}`, { room: "garden" });
    expect(joined.pool.name).toBe("Riverside");
    const again = await t.say("frank", `pool join ${invite.code}`, { room: "kitchen" });
    expect(!again.ok && again.code).toBe("code_invalid");
    expect(!again.ok && again.message).toMatch(/used already/);
    const info = await t.ok("erin", "pool info", { room: "garden" });
    expect(info.rooms).toHaveLength(2);
    expect(info.members).toBe(2);
  });

  it("GIVEN an invite older than inviteDays THEN it has expired", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const { code } = await t.ok("admin", "pool invite");
    t.clock.advance(7 * DAY_MS);
    const r = await t.say("erin", `pool join ${code}`, { room: "garden" });
    expect(!r.ok && r.message).toMatch(/expired/);
  });
});

describe("request ids", () => {
  it("GIVEN a mutating command replayed with its request id THEN the first answer comes back and nothing is written", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const first = await t.say("alice", "project create bakery Bakery", { requestId: "discord:1" });
    const before = await t.dump();
    const replay = await t.say("alice", "project create bakery Bakery", { requestId: "discord:1" });
    expect(replay.ok && replay.replayed).toBe(true);
    expect(replay.ok && replay.data).toEqual(first.ok && first.data);
    expect(await t.dump()).toBe(before);
    const invite1 = await t.ok("admin", "pool invite", { requestId: "matrix:$ev1" });
    const invite2 = await t.ok("admin", "pool invite", { requestId: "matrix:$ev1" });
    expect(invite2.code).toBe(invite1.code);
  });
});

describe("goals", () => {
  it("GIVEN rooms on several names THEN a goal is queued for every room of the pool and listed", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const { code } = await t.ok("admin", "pool invite");
    await t.ok("alice", `pool join ${code}`, { room: "bakery" });
    await t.ok("alice", "project create bakery The Bakery", { room: "bakery" });
    await t.ok("alice", "project room bakery", { room: "bakery" });
    const g = await t.ok("alice", 'goal announce bakery "Bread for 40 households"', { room: "bakery" });
    expect(g).toEqual({ goal: { id: 1, project: "bakery", text: "Bread for 40 households", status: "open" }, rooms: 2 });
    const pending = await t.store.pendingOutbox("console", 10);
    expect(pending.map((p) => p.room.externalId).sort()).toEqual(["bakery", "lobby"]);
    expect(JSON.parse(pending[0]!.body)).toMatchObject({ project: "bakery", text: "Bread for 40 households", by: "alice" });
    await t.ok("alice", "goal done 1");
    expect((await t.ok("bob", "goal list")).goals).toEqual([]);
    expect((await t.ok("bob", "goal list status:done")).goals.map((x: { id: number }) => x.id)).toEqual([1]);
    const again = await t.say("alice", "goal done 1");
    expect(!again.ok && again.code).toBe("goal_done");
  });
});

describe("coordinators", () => {
  it("GIVEN two projects with different coordinators THEN each coordinates only its own, and admins may add coordinators", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    await t.ok("alice", "project create bakery Bakery");
    await t.ok("bob", "project create bikes Bikes");
    expect((await t.say("alice", "goal announce bikes Faster")).ok).toBe(false);
    const added = await t.ok("admin", "project coordinator add bikes @alice");
    expect(added.coordinators).toEqual(["alice", "bob"]);
    expect((await t.say("alice", "goal announce bikes Faster")).ok).toBe(true);
    const removed = await t.ok("alice", "project coordinator remove bikes @bob");
    expect(removed.coordinators).toEqual(["alice"]);
    const members = await t.ok("carol", "pool members");
    expect(members.members).toEqual([
      { handle: "admin", role: "admin", coordinates: [], balance: 0 },
      { handle: "alice", role: "member", coordinates: ["bakery", "bikes"], balance: 0 },
      { handle: "bob", role: "member", coordinates: [], balance: 0 },
      { handle: "carol", role: "member", coordinates: [], balance: 0 },
    ]);
  });
});

describe("policy", () => {
  it("GIVEN an admin THEN a key changes and reads back; the rest keep their defaults", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const set = await t.ok("admin", "pool policy creditLimit 12.5");
    expect(set).toMatchObject({ key: "creditLimit", value: 12.5, changed: true });
    expect((await t.ok("zoe", "me balance")).creditLimit).toBe(12.5);
    expect((await t.ok("zoe", "pool policy weightGrowthPerDay")).value).toBe(10);
    expect((await t.ok("admin", "pool policy weightGrowthPerDay 12%")).value).toBe(12);
  });
});

describe("me link", () => {
  it("GIVEN two identities with balances THEN linking merges them, moves the balance by a ledger entry, and the pool stays balanced", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    await t.ok("alice", "project create bakery Bakery");
    await t.ok("alicephone", "me balance");
    await creditFromProject(t, "bakery", "alice", 3000);
    await creditFromProject(t, "bakery", "alicephone", 1500);
    const { code } = await t.ok("alice", "me link");
    const linked = await t.ok("alicephone", `me link ${code}`);
    expect(linked).toMatchObject({ member: "alice", merged: "alicephone", movedBalances: 1 });
    expect(linked.identities.map((i: { id: string }) => i.id)).toEqual(["alice", "alicephone"]);
    expect((await t.ok("alicephone", "me balance")).balance).toBe(4.5);
    expect((await t.ok("alice", "me balance")).balance).toBe(4.5);
    // alicephone's @handle now points at alice; she still coordinates bakery from either identity.
    expect((await t.say("alicephone", "goal announce bakery Bread")).ok).toBe(true);
    const history = await t.ok("alice", "me history");
    expect(history.entries.map((e: { kind: string; amount: number }) => [e.kind, e.amount])).toEqual([
      ["merge", 1.5],
      ["work", 3],
    ]);
    const audit = await t.ok("admin", "pool audit");
    expect(audit).toMatchObject({ balanced: true, sum: 0, entries: 3 });
    expect((await t.ok("admin", "pool members")).members.map((m: { handle: string }) => m.handle)).toEqual(["admin", "alice"]);
  });

  it("GIVEN a link code THEN it works once, not for its maker, and not after 15 minutes", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const own = await t.ok("alice", "me link");
    const self = await t.say("alice", `me link ${own.code}`);
    expect(!self.ok && self.code).toBe("already_linked");
    t.clock.advance(15 * MINUTE_MS);
    const late = await t.say("bob", `me link ${own.code}`);
    expect(!late.ok && late.message).toMatch(/expired/);
    const fresh = await t.ok("alice", "me link");
    await t.ok("bob", `me link ${fresh.code}`);
    const twice = await t.say("carol", `me link ${fresh.code}`);
    expect(!twice.ok && twice.message).toMatch(/used already/);
  });

  it("GIVEN a code whose maker was merged into someone else THEN using it links to where the maker is now", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const anna = await t.ok("anna", "me link");
    const bert = await t.ok("bert", "me link");
    await t.ok("anna", `me link ${bert.code}`);
    const cora = await t.ok("cora", `me link ${anna.code}`);
    expect(cora.member).toBe("bert");
    expect(cora.identities.map((i: { id: string }) => i.id).sort()).toEqual(["anna", "bert", "cora"]);
    expect((await t.ok("cora", "pool members")).members.map((m: { handle: string }) => m.handle)).toEqual(["admin", "bert"]);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true });
  });

  it("GIVEN an admin's second identity linked into a member THEN the member becomes admin", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    const { code } = await t.ok("newme", "me link");
    await t.ok("admin", `me link ${code}`);
    expect((await t.ok("newme", "pool members")).members).toEqual([{ handle: "newme", role: "admin", coordinates: [], balance: 0 }]);
  });
});

describe("pool admins", () => {
  it("GIVEN an admin THEN they add and remove admins, but never the last one", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    await t.ok("alice", "me balance");
    expect(await t.ok("admin", "pool admin add @alice")).toEqual({ member: "alice", admins: ["admin", "alice"] });
    expect((await t.ok("alice", "pool policy creditLimit 20")).value).toBe(20);
    expect(await t.ok("alice", "pool admin remove @admin")).toEqual({ member: "admin", admins: ["alice"] });
    const last = await t.say("alice", "pool admin remove @alice");
    expect(!last.ok && last.code).toBe("last_admin");
    const notAdmin = await t.say("admin", "pool admin add @admin");
    expect(!notAdmin.ok && notAdmin.message).toMatch(/^only a pool admin can do that/);
  });
});

describe("project rooms", () => {
  it("GIVEN a room already bound to the project THEN binding it again is refused; binding to another project moves it", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    await t.ok("admin", "project create bakery Bakery");
    await t.ok("admin", "project create bikes Bikes");
    expect(await t.ok("admin", "project room bakery")).toMatchObject({ project: { slug: "bakery" } });
    const again = await t.say("admin", "project room bakery");
    expect(!again.ok && again.code).toBe("room_is_project_room");
    const moved = await t.say("admin", "project room bikes");
    expect(moved.ok && moved.doc.length).toBe(1);
    expect((await t.ok("admin", "project info bikes")).rooms).toHaveLength(1);
    expect((await t.ok("admin", "project info bakery")).rooms).toHaveLength(0);
  });
});

describe("ledger corrections", () => {
  it("GIVEN an entry THEN an admin reverses it once with a new entry and the original stays", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    await t.ok("alice", "project create bakery Bakery");
    await creditFromProject(t, "bakery", "alice", 2000);
    const c = await t.ok("admin", 'pool correct 1 "reported twice" confirm');
    expect(c).toMatchObject({ original: { id: 1, amount: 2 }, correction: { id: 2, kind: "correction", reverses: 1, memo: "reported twice" } });
    expect((await t.ok("alice", "me balance")).balance).toBe(0);
    const again = await t.say("admin", "pool correct 1 again");
    expect(!again.ok && again.message).toMatch(/already corrected by entry #2/);
    expect(await t.ok("admin", "pool audit")).toMatchObject({ balanced: true, entries: 2 });
  });

  it("GIVEN the append-only triggers THEN the database itself refuses to edit or delete an entry", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    await t.ok("alice", "project create bakery Bakery");
    await creditFromProject(t, "bakery", "alice", 2000);
    await expect(sqlRows(t.store, "UPDATE entries SET amount = 1")).rejects.toThrow(/append-only/);
    await expect(sqlRows(t.store, "DELETE FROM entries")).rejects.toThrow(/append-only/);
  });
});

describe("help", () => {
  it("GIVEN help in a room of no pool THEN every command is listed, and help <command> explains one", async () => {
    t = await testPool();
    const all = await t.ok("someone", "help", { room: "nowhere" });
    expect(all.commands.map((c: { name: string }) => c.name)).toContain("pool create");
    const one = await t.ok("someone", "help goal announce", { room: "nowhere" });
    expect(one).toMatchObject({ topic: "command", usage: "goal announce <project> <text>", access: "coordinator of the project" });
    const near = await t.ok("someone", "help gaol announce", { room: "nowhere" });
    expect(near.name).toBe("goal announce");
    const group = await t.ok("someone", "help project", { room: "nowhere" });
    expect(group.topic).toBe("group");
  });
});
