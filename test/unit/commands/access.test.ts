// Who may run each command is written once, as `access` in the command table; the services
// enforce it. This runs every command of the table, with values that work, as each role (a
// member, a coordinator of another project, a coordinator of the project, a pool admin) and
// checks that it is refused exactly when `access` says so, with one line naming the role it
// needs, and that a refusal changes nothing. A command that shows to anyone and changes only
// for some (`{ show, change }`) runs both ways.
import { describe, expect, it } from "vitest";
import { commandName, type Access, type AccessRole } from "../../../commands/define.ts";
import { table } from "../../../commands/table.ts";
import { testPool, type TestPool } from "../../support/app.ts";

type Role = "member" | "other coordinator" | "coordinator" | "admin";
/** Each role as a console user: carol is a plain member, bob coordinates bikes, alice bakery; the admin coordinates nothing. */
const WHO: Readonly<Record<Role, string>> = { member: "carol", "other coordinator": "bob", coordinator: "alice", admin: "admin" };
const ROLES = Object.keys(WHO) as Role[];

/** Whether `role` is one that `need` lets in, for a command about the project bakery. */
function lets(need: AccessRole, role: Role): boolean {
  switch (need) {
    case "anyone":
      return true;
    case "pool admin":
      return role === "admin";
    case "coordinator of the project":
      return role === "coordinator";
    case "coordinator of the project or pool admin":
      return role === "coordinator" || role === "admin";
  }
}

/** The start of the refusal that names the missing role (the project is bakery in every case). */
const REFUSAL: Readonly<Record<Exclude<AccessRole, "anyone">, string>> = {
  "pool admin": "only a pool admin can do that",
  "coordinator of the project": "only a coordinator of bakery can do that",
  "coordinator of the project or pool admin": "only a coordinator of bakery or a pool admin can do that",
};

interface Case {
  readonly command: string;
  /** For a command whose access is `{ show, change }`: which of the two these values do. */
  readonly mode?: "show" | "change";
  /** What must exist first; `who` is the console user of the role under test. It may return a value the text needs (an invite code). */
  readonly setup?: (t: TestPool, who: string) => Promise<unknown>;
  /** The command text as the role types it, with what the setup returned. */
  readonly text: (made: unknown) => string;
  readonly room?: string;
}

const post = (t: TestPool) => t.ok("alice", 'task post bakery "Knead the dough" hours:2');
const reportedByDave = async (t: TestPool) => {
  await post(t);
  await t.ok("dave", "task claim 1");
  await t.ok("dave", "task done 1");
};
/** A room of the pool besides the lobby (joined with an invite). */
const spareRoom = async (t: TestPool, room: string) => {
  const { code } = (await t.ok("admin", "pool invite")) as { code: string };
  await t.ok("admin", `pool join ${code}`, { room });
};

const CASES: readonly Case[] = [
  { command: "help", text: () => "help task claim" },
  { command: "pool create", text: () => "pool create Another", room: "unbound" },
  { command: "pool info", text: () => "pool info" },
  { command: "pool invite", text: () => "pool invite" },
  {
    command: "pool join",
    setup: async (t) => ((await t.ok("admin", "pool invite")) as { code: string }).code,
    text: (code) => `pool join ${String(code)}`,
    room: "unbound",
  },
  { command: "pool policy", mode: "show", text: () => "pool policy creditLimit" },
  { command: "pool policy", mode: "change", text: () => "pool policy creditLimit 50" },
  { command: "pool members", text: () => "pool members" },
  { command: "pool admin add", text: () => "pool admin add @dave" },
  { command: "pool admin remove", setup: (t) => t.ok("admin", "pool admin add @dave"), text: () => "pool admin remove @dave" },
  { command: "pool audit", text: () => "pool audit" },
  {
    command: "pool correct",
    setup: async (t) => {
      await reportedByDave(t);
      await t.ok("alice", "task verify 1 @dave");
    },
    text: () => 'pool correct 1 "hours were reported twice"',
  },
  { command: "pool summary", text: () => "pool summary bakery" },
  { command: "pool announcements", mode: "show", text: () => "pool announcements", room: "bakery-room" },
  { command: "pool announcements", mode: "change", text: () => "pool announcements tasks off", room: "bakery-room" },
  { command: "pool settle", text: () => "pool settle" },
  { command: "task board", text: () => "task board" },
  { command: "project create", text: () => "project create garden The Garden" },
  { command: "project list", text: () => "project list" },
  { command: "project info", text: () => "project info bakery" },
  { command: "project room", setup: (t) => spareRoom(t, "spare"), text: () => "project room bakery", room: "spare" },
  { command: "project coordinator add", text: () => "project coordinator add bakery @dave" },
  {
    command: "project coordinator remove",
    setup: (t) => t.ok("alice", "project coordinator add bakery @dave"),
    text: () => "project coordinator remove bakery @dave",
  },
  { command: "goal announce", text: () => 'goal announce bakery "Bread for 40"' },
  { command: "goal list", text: () => "goal list" },
  { command: "goal done", setup: (t) => t.ok("alice", 'goal announce bakery "Bread for 40"'), text: () => "goal done 1" },
  { command: "task post", text: () => 'task post bakery "Knead the dough" hours:2' },
  { command: "task list", setup: post, text: () => "task list" },
  { command: "task show", setup: post, text: () => "task show 1" },
  { command: "task claim", setup: post, text: () => "task claim 1" },
  {
    command: "task drop",
    setup: async (t, who) => {
      await post(t);
      await t.ok(who, "task claim 1");
    },
    text: () => "task drop 1",
  },
  {
    command: "task refuse",
    setup: async (t) => {
      await post(t);
      await t.ok("dave", "task claim 1");
    },
    text: () => "task refuse 1 @dave",
  },
  {
    command: "task done",
    setup: async (t, who) => {
      await post(t);
      await t.ok(who, "task claim 1");
    },
    text: () => "task done 1",
  },
  { command: "task verify", setup: reportedByDave, text: () => "task verify 1 @dave" },
  { command: "task reject", setup: reportedByDave, text: () => 'task reject 1 @dave "the bowls are not clean"' },
  { command: "task due", setup: post, text: () => "task due 1 2026-12-31" },
  { command: "task cancel", setup: post, text: () => "task cancel 1" },
  { command: "kind list", setup: post, text: () => "kind list" },
  { command: "good add", text: () => "good add bakery bread effort:1 stock:5" },
  { command: "good produce", setup: (t) => t.ok("alice", "good add bakery bread effort:1"), text: () => "good produce bread 5" },
  { command: "good list", setup: (t) => t.ok("alice", "good add bakery bread effort:1 stock:5"), text: () => "good list" },
  { command: "good show", setup: (t) => t.ok("alice", "good add bakery bread effort:1 stock:5"), text: () => "good show bread" },
  { command: "good request", setup: (t) => t.ok("alice", "good add bakery bread effort:1 stock:5"), text: () => "good request bread" },
  {
    command: "good allocate",
    setup: async (t) => {
      await t.ok("alice", "good add bakery bread effort:1");
      await t.ok("dave", "good request bread");
    },
    text: () => "good allocate bread",
  },
  {
    command: "good cancel",
    setup: async (t, who) => {
      await t.ok("alice", "good add bakery bread effort:1");
      await t.ok(who, "good request bread");
    },
    text: () => "good cancel 1",
  },
  { command: "good subscribe", setup: (t) => t.ok("alice", "good add bakery box effort:1 model:flat-rate"), text: () => "good subscribe box" },
  {
    command: "good unsubscribe",
    setup: async (t, who) => {
      await t.ok("alice", "good add bakery box effort:1 model:flat-rate");
      await t.ok(who, "good subscribe box");
    },
    text: () => "good unsubscribe box",
  },
  { command: "good borrow", setup: (t) => t.ok("alice", "good add bakery drill effort:1 model:durable stock:1"), text: () => "good borrow drill days:2" },
  {
    command: "good return",
    setup: async (t, who) => {
      await t.ok("alice", "good add bakery drill effort:1 model:durable stock:1");
      await t.ok(who, "good borrow drill days:2");
    },
    text: () => "good return 1",
  },
  { command: "sector report", text: () => "sector report" },
  { command: "me status", text: () => "me status" },
  { command: "me balance", text: () => "me balance" },
  { command: "me history", text: () => "me history" },
  { command: "me link", text: () => "me link" },
];

/** Riverside: alice's bakery (with its own room), bob's bikes, carol and dave members, the admin coordinating nothing. */
async function riverside(): Promise<TestPool> {
  const t = await testPool();
  await t.ok("admin", "pool create Riverside");
  await t.ok("alice", "project create bakery The Bakery");
  await t.ok("bob", "project create bikes Bike Workshop");
  await t.ok("carol", "me balance");
  await t.ok("dave", "me balance");
  return t;
}

/** The role the values of `c` need, by the table. */
function needOf(access: Access, c: Case): AccessRole {
  if (typeof access === "string") return access;
  if (c.mode === undefined) throw new Error(`${c.command} shows to anyone and changes for some: its case says which it does (mode)`);
  return c.mode === "show" ? access.show : access.change;
}

describe("access: every command as every role", () => {
  it("GIVEN the table THEN every command has a case here, and a command that shows and changes has one of each", () => {
    const covered = (name: string) => CASES.filter((c) => c.command === name).map((c) => c.mode ?? "one");
    for (const command of table) {
      const name = commandName(command);
      expect(covered(name), name).toEqual(typeof command.access === "string" ? ["one"] : ["show", "change"]);
    }
    expect(CASES.filter((c) => !table.some((x) => commandName(x) === c.command))).toEqual([]);
  });

  it.each(CASES.map((c) => [`${c.command}${c.mode ? ` (${c.mode})` : ""}`, c] as const))(
    "GIVEN %s THEN it is refused exactly for the roles its access leaves out",
    { timeout: 120_000 },
    async (_label, c) => {
      const command = table.find((x) => commandName(x) === c.command)!;
      const need = needOf(command.access, c);
      for (const role of ROLES) {
        const who = WHO[role];
        const t = await riverside();
        try {
          if (c.room === "bakery-room") {
            await spareRoom(t, "bakery-room");
            await t.ok("alice", "project room bakery", { room: "bakery-room" });
          }
          const text = c.text(await c.setup?.(t, who));
          const before = await t.dump();
          const r = await t.say(who, text, { room: c.room ?? "lobby" });
          if (lets(need, role)) {
            expect(r.ok ? "ran" : `refused: ${r.message}`, `${text} as ${role} (${who})`).toBe("ran");
          } else {
            expect(r.ok ? "ran" : r.code, `${text} as ${role} (${who})`).toBe("forbidden");
            if (r.ok) continue;
            expect(r.message.startsWith(REFUSAL[need as Exclude<AccessRole, "anyone">]), `${text} as ${role}: ${r.message}`).toBe(true);
            expect(r.message).not.toContain("\n");
            expect(await t.dump(), `${text} as ${role} changed something`).toBe(before);
          }
        } finally {
          await t.close();
        }
      }
    },
  );
});
