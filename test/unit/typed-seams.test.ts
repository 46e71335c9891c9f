// What platforms add to an answer (buttons, charts, the embed's colour, Matrix's compact
// tables) is declared per command in the table and read from the command's own data, so a
// renamed field is a type error where it is read. The `@ts-expect-error` lines below are checked
// by `npm run typecheck`: each would compile if the field or value it names were right, so the
// check fails the day one of them stops being an error. The runtime tests pin that the answers
// still carry what they carried when adapters read it from the JSON data and command names.
import { afterEach, describe, expect, it } from "vitest";
import { ACTION_PREFIX, actionId, okPayload, readActionId, UNKNOWN_BUTTON } from "../../adapters/discord/render.ts";
import { summaryCharts } from "../../commands/chart.ts";
import { action, actionsOf, attachmentsOf, cardOf, compactOf, defineCommand, previewOf, resultOf, type Action } from "../../commands/define.ts";
import { replyFromStored, type Reply } from "../../commands/dispatch.ts";
import { goodRequest } from "../../commands/good.ts";
import { table } from "../../commands/table.ts";
import { claimAction, taskClaim, taskDone, taskIdArg } from "../../commands/task.ts";
import { checkValues } from "../../commands/text.ts";
import type { MemberId, TaskId } from "../../src/core/ids.ts";
import { ok } from "../../src/result.ts";
import { inPool, resolveCaller } from "../../src/services/context.ts";
import type { ProjectSummary } from "../../src/services/summary.ts";
import { claimTask, showTask } from "../../src/services/tasks.ts";
import { seededRandom, testPool, type TestPool } from "../support/app.ts";

/** A command of the shape the table's commands have, its data `{ task: { id } }`. */
const probe = {
  path: ["probe", "it"],
  where: "pool",
  summary: "A command for the type checks",
  access: "anyone",
  mutates: false,
  args: {},
  run: () => Promise.resolve(ok({ task: { id: 12, open: true } })),
  render: () => [],
  json: (d: { task: { id: number } }) => d,
} as const;

let t: TestPool;
afterEach(async () => {
  await t?.close();
});

describe("the seams are typed: a renamed field or value is a type error", () => {
  it("GIVEN actions, attachments and cards that read the command's data THEN only its real fields compile", () => {
    const fine = defineCommand({
      ...probe,
      actions: (d) => [action(taskClaim, { id: d.task.id }, "Claim")],
      card: (d) => ({ tone: d.task.open ? "task" : "answer" }),
    });
    defineCommand({
      ...probe,
      // @ts-expect-error -- the data's task has `id`, not `number`
      actions: (d) => [action(taskClaim, { id: d.task.number }, "Claim")],
    });
    defineCommand({
      ...probe,
      // @ts-expect-error -- a card reads the data too: `task.state` is not in it
      card: (d) => ({ tone: d.task.state === "open" ? "task" : "answer" }),
    });
    defineCommand({
      ...probe,
      run: () => Promise.resolve(ok({ projects: [] as ProjectSummary[] })),
      json: () => null,
      // @ts-expect-error -- the data holds `projects`, not `project`
      attachments: (d, view) => summaryCharts(d.project, view),
    });
    expect(actionsOf({ def: fine, result: { task: { id: 12, open: true } }, view: { timeZone: "UTC" } }).map((a) => a.values)).toEqual([{ id: 12 }]);
  });

  it("GIVEN an action THEN its values are the named command's arguments, of their types", () => {
    const made: Action[] = [
      action(taskDone, { id: 3 }, "Done", "success"),
      action(taskDone, { id: 3, hours: 2000 }, "Done"),
      action(goodRequest, { good: "bread", qty: 2 }, "Request"),
      // @ts-expect-error -- task claim's argument is `id`
      action(taskClaim, { task: 3 }, "Claim"),
      // @ts-expect-error -- its id is a number
      action(taskClaim, { id: "3" }, "Claim"),
      // @ts-expect-error -- task done needs its id
      action(taskDone, { hours: 2000 }, "Done"),
    ];
    expect(made.map((a) => a.command.path.join(" "))).toEqual(["task done", "task done", "good request", "task claim", "task claim", "task done"]);
  });

  it("GIVEN an answer THEN resultOf reads it as its command's data, and as nothing for another command", async () => {
    t = await testPool();
    await t.ok("admin", "pool create Riverside");
    await t.ok("admin", "project create bakery Bakery");
    await t.ok("admin", "task post bakery Knead hours:2");
    const r = await t.say("bob", "task claim 1");
    const claimed = resultOf(r, taskClaim);
    expect(claimed?.task.id).toBe(1);
    // @ts-expect-error -- a claim's task has `id`, not `number`
    expect(claimed?.task.number).toBeUndefined();
    expect(resultOf(r, taskDone)).toBeUndefined();
  });
});

/** The custom ids of a Discord payload's buttons, with their labels. */
const buttons = (r: Reply, interaction?: string) => {
  if (!r.ok) throw new Error(`refused: ${r.message}`);
  const rows = (okPayload(r, interaction).components ?? []).map((c) => c.toJSON());
  return rows.flatMap((row) => row.components).map((b) => ({ label: "label" in b ? b.label : undefined, id: "custom_id" in b ? b.custom_id : undefined }));
};
const colour = (r: Reply) => (r.ok ? okPayload(r).embeds?.[0]?.color : undefined);

async function bakery(): Promise<TestPool> {
  const p = await testPool();
  await p.ok("admin", "pool create Riverside");
  await p.ok("admin", "project create bakery Bakery");
  return p;
}

describe("what answers carry, declared per command", () => {
  it("GIVEN a task's life THEN its cards carry Claim while a slot is open and the claim carries Done, as before", async () => {
    t = await bakery();
    expect(buttons(await t.say("admin", "task post bakery Knead hours:2"))).toEqual([{ label: "Claim", id: 'dpool-do:tc:{"id":"1"}' }]);
    expect(buttons(await t.say("bob", "task show 1"))).toEqual([{ label: "Claim", id: 'dpool-do:tc:{"id":"1"}' }]);
    expect(buttons(await t.say("bob", "task claim 1"))).toEqual([{ label: "Done", id: 'dpool-do:td:{"id":"1"}' }]);
    // Every slot taken: no Claim on the card, and a waitlisted claim offers nothing.
    expect(buttons(await t.say("carol", "task show 1"))).toEqual([]);
    expect(buttons(await t.say("carol", "task claim 1"))).toEqual([]);
    expect(buttons(await t.say("bob", "task done 1"))).toEqual([]);
    // Lists, balances and the like carry no buttons.
    expect(buttons(await t.say("bob", "task list status:all"))).toEqual([]);
    expect(buttons(await t.say("bob", "me balance"))).toEqual([]);
  });

  it("GIVEN goods THEN per-unit and copyable ones carry Request, flat-rate and durable ones nothing", async () => {
    t = await bakery();
    expect(buttons(await t.say("admin", "good add bakery bread effort:0.5 stock:3"))).toEqual([{ label: "Request", id: 'dpool-do:gr:{"good":"bread"}' }]);
    expect(buttons(await t.say("admin", "good add bakery recipes effort:1 model:copyable"))).toEqual([
      { label: "Request", id: 'dpool-do:gr:{"good":"recipes"}' },
    ]);
    expect(buttons(await t.say("admin", "good add bakery share effort:1 model:flat-rate"))).toEqual([]);
    expect(buttons(await t.say("admin", "good add bakery oven effort:20 model:durable stock:1"))).toEqual([]);
    expect(buttons(await t.say("bob", "good show bread"))).toEqual([{ label: "Request", id: 'dpool-do:gr:{"good":"bread"}' }]);
    expect(buttons(await t.say("bob", "good request bread"))).toEqual([{ label: "Request", id: 'dpool-do:gr:{"good":"bread"}' }]);
  });

  it("GIVEN answers of each group THEN the embed's colour comes from the command's card as it came from the group's name", async () => {
    t = await bakery();
    const TASK = 0xf0b232;
    const GOOD = 0x57a5f2;
    const OK = 0x3ba55d;
    expect(colour(await t.say("admin", "task post bakery Knead hours:2"))).toBe(TASK);
    expect(colour(await t.say("admin", "task list"))).toBe(TASK);
    expect(colour(await t.say("admin", "task board"))).toBe(TASK);
    expect(colour(await t.say("admin", "good add bakery bread effort:0.5"))).toBe(GOOD);
    expect(colour(await t.say("admin", "good list"))).toBe(GOOD);
    expect(colour(await t.say("admin", "kind list"))).toBe(OK);
    expect(colour(await t.say("admin", "pool info"))).toBe(OK);
    expect(colour(await t.say("admin", "help"))).toBe(OK);
  });

  it("GIVEN a stored answer read back (a replay, a delivery after a restart) THEN it carries the same buttons", async () => {
    t = await bakery();
    await t.ok("admin", "task post bakery Knead hours:2");
    const r = await t.say("bob", "task claim 1");
    if (!r.ok) throw new Error(r.message);
    const again = replyFromStored(table, JSON.stringify({ ok: true, command: r.command, data: r.result, timeZone: "UTC" }), true);
    expect(buttons(again)).toEqual(buttons(r));
  });

  it("GIVEN a pool correct preview THEN it is a preview whose button says which entry it reverses; the confirmed answer is none", async () => {
    t = await bakery();
    await t.ok("admin", "task post bakery Knead hours:2");
    await t.ok("bob", "task claim 1");
    await t.ok("bob", "task done 1");
    await t.ok("admin", "task verify 1 @bob");
    const preview = await t.say("admin", 'pool correct 1 "twice"');
    if (!preview.ok) throw new Error(preview.message);
    expect(previewOf(preview)).toEqual({ label: "Reverse entry #1" });
    expect(buttons(preview, "123")).toEqual([
      { label: "Reverse entry #1", id: "dpool-confirm:123" },
      { label: "Cancel", id: "dpool-cancel:123" },
    ]);
    // Without the interaction it answers (a stored answer sent anew), no confirm buttons.
    expect(buttons(preview)).toEqual([]);
    const done = await t.say("admin", 'pool correct 1 "twice" confirm');
    expect(done.ok && previewOf(done)).toBeUndefined();
  });

  it("GIVEN task list and good list THEN Matrix's compact tables come from the commands; other answers have none", async () => {
    t = await bakery();
    expect(compactOfSaid(await t.say("bob", "task list"))).toBeNull();
    await t.ok("admin", "task post bakery Sweep hours:1 kind:cleaning slots:2");
    await t.ok("bob", "task claim 1");
    expect(compactOfSaid(await t.say("bob", "task list"))).toEqual([
      { kind: "table", head: ["#", "task", "kind", "weight", "slots", "status"], rows: [["1", "Sweep", "cleaning", "1.00", "1/2", "open"]] },
      {
        kind: "line",
        spans: [
          { style: "muted", text: "Take one with " },
          { style: "cmd", text: "task claim <id>" },
          { style: "muted", text: ", or ✋ on its announcement." },
        ],
      },
    ]);
    await t.ok("admin", "good add bakery bread effort:0.5 stock:3");
    await t.ok("admin", "good add bakery recipes effort:1 model:copyable");
    expect(compactOfSaid(await t.say("bob", "good list"))?.[0]).toEqual({
      kind: "table",
      head: ["good", "model", "stock", "effort", "waiting", "last clearing"],
      rows: [
        ["bread", "per-unit", "3", "0.50 wh", "0", "-"],
        ["recipes", "copyable", "∞", "1.00 wh", "0", "-"],
      ],
    });
    expect(compactOfSaid(await t.say("bob", "task show 1"))).toBeNull();
    expect(compactOfSaid(await t.say("bob", "me balance"))).toBeNull();
  });

  it("GIVEN pool summary THEN its charts are its attachments, one per project; other answers attach nothing", async () => {
    t = await bakery();
    await t.ok("admin", "project create bikes Bikes");
    const r = await t.say("admin", "pool summary");
    if (!r.ok) throw new Error(r.message);
    expect(attachmentsOf(r).map((a) => a.name)).toEqual(["summary-bakery.png", "summary-bikes.png"]);
    const one = await t.say("admin", "pool summary bikes");
    expect(one.ok && attachmentsOf(one).map((a) => a.name)).toEqual(["summary-bikes.png"]);
    const info = await t.say("admin", "pool info");
    expect(info.ok && attachmentsOf(info)).toEqual([]);
    expect(info.ok && cardOf(info)).toEqual({ tone: "answer" });
  });
});

const compactOfSaid = (r: Reply) => (r.ok ? compactOf(r) : "refused");

describe("what adapters once listed by name, now in the table", () => {
  it("GIVEN the table THEN the commands that work in a direct message on Matrix are the member's own things and what they need to pick them, as the list in the Matrix adapter had them", () => {
    const direct = table.filter((c) => c.direct === true || (c.personal === true && c.where === "pool")).map((c) => c.path.join(" "));
    expect(direct.sort()).toEqual(
      [
        ...["task list", "task show", "task claim", "task drop", "task done"],
        ...["good list", "good show", "good request", "good cancel", "good subscribe", "good unsubscribe", "good borrow", "good return"],
        ...["project list", "project info", "goal list", "kind list", "pool info", "pool members"],
        ...table.filter((c) => c.path[0] === "me" && c.where === "pool").map((c) => c.path.join(" ")),
      ].sort(),
    );
  });

  it("GIVEN the table THEN the commands that bind a room say so themselves", () => {
    expect(table.filter((c) => c.bindsRoom === true).map((c) => c.path.join(" "))).toEqual(["pool create", "pool join", "project room"]);
  });
});

describe("a button's custom id: the command's key and its values, checked by the command's schemas", () => {
  it("GIVEN the table THEN command keys are unique, and every command an action names has one", () => {
    const keys = table.flatMap((c) => (c.key === undefined ? [] : [c.key]));
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual(["gr", "tc", "td"]);
    const bare = { ...taskClaim, key: undefined };
    expect(() => action(bare, { id: 1 }, "Claim")).toThrow(/"task claim" is used in an action but has no key/);
  });

  it("GIVEN an action's id THEN reading it back gives the command, and its schemas the same values", () => {
    for (const a of [
      claimAction(12),
      action(taskDone, { id: 7, hours: 2500 }, "Done"),
      action(goodRequest, { good: "Bread Share", qty: 3, weight: 1500 }, "Request"),
    ]) {
      const id = actionId(a);
      expect(id.startsWith(ACTION_PREFIX)).toBe(true);
      expect(id.length).toBeLessThanOrEqual(100);
      const read = readActionId(table, id);
      if (!read.ok) throw new Error(read.message);
      expect(read.command).toBe(a.command);
      const checked = checkValues(read.command, new Map(read.raw));
      expect(checked.ok && checked.values).toEqual(a.values);
    }
    expect(actionId(action(taskDone, { id: 7, hours: 2500 }, "Done"))).toBe('dpool-do:td:{"id":"7","hours":"2.5"}');
  });

  it("GIVEN a custom id naming no command, or holding no values THEN it runs nothing and says so; bad values are refused by the schema", () => {
    expect(readActionId(table, 'dpool-do:zz:{"id":"1"}')).toEqual({ ok: false, message: UNKNOWN_BUTTON });
    expect(readActionId(table, "dpool-do:tc:not json")).toEqual({ ok: false, message: UNKNOWN_BUTTON });
    expect(readActionId(table, "dpool-do:tc")).toEqual({ ok: false, message: UNKNOWN_BUTTON });
    expect(readActionId(table, 'dpool-do:tc:["1"]')).toEqual({ ok: false, message: UNKNOWN_BUTTON });
    const read = readActionId(table, 'dpool-do:tc:{"id":"twelve"}');
    if (!read.ok) throw new Error(read.message);
    const checked = checkValues(read.command, new Map(read.raw));
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.error.problem).toMatch(/^id must be/);
  });
});

describe("ids are branded: an id of one table does not go where another table's goes (src/core/ids.ts)", () => {
  it("GIVEN a member's id THEN passing it as a task's id to a service or a Tx method does not compile, and a plain number does", async () => {
    t = await bakery();
    for (const title of ["Knead", "Sweep", "Bake"]) await t.ok("admin", `task post bakery ${title} hours:2`);
    await t.ok("bob", "me balance");
    const now = t.clock.now().getTime();
    const seen = await t.store.transaction(async (tx) => {
      const ctx = inPool(
        await resolveCaller(
          tx,
          { platform: "console", userId: "bob", displayName: "bob", roomId: "lobby" },
          { now, requestId: "console:ids", random: seededRandom() },
        ),
      );
      if (!ctx.ok) throw new Error("the lobby is in the pool");
      const bob: MemberId = ctx.value.member.id;
      // Without the brand both lines below compile, and each reads the task whose number happens
      // to be bob's member id: a row of another table, found without complaint.
      // @ts-expect-error -- a member's id is not a task's id for a Tx method
      const asTask = await tx.task(bob);
      // @ts-expect-error -- nor for a service
      const shown = await showTask(ctx.value, bob);
      // A plain number (a literal, a number parsed from text) is accepted as any kind of id.
      const claimed = await claimTask(ctx.value, 1);
      const first: TaskId = 1;
      // @ts-expect-error -- and a task's id does not go where a member's goes
      const member: MemberId = first;
      return { bob, asTask: asTask?.id, shown: shown.ok ? shown.value.task.id : undefined, claimed: claimed.ok ? claimed.value.task.id : undefined, member };
    });
    expect(seen.bob).toBeLessThanOrEqual(3);
    expect(seen.asTask).toBe(seen.bob);
    expect(seen.shown).toBe(seen.bob);
    expect(seen.claimed).toBe(1);
    expect(seen.member).toBe(1);
  });

  it("GIVEN a command's task number THEN it is parsed as a task's id, not a member's", () => {
    expect(taskClaim.args.id).toBe(taskIdArg);
    const id: TaskId = taskIdArg.schema.parse("#12");
    // @ts-expect-error -- task claim's id is a task's
    const asMember: MemberId = taskIdArg.schema.parse("12");
    expect([id, asMember]).toEqual([12, 12]);
    // In a command's run, the value of a task number argument is a TaskId too.
    const misnamed = defineCommand({
      ...probe,
      args: { id: taskIdArg },
      // @ts-expect-error -- a command's task number is not a member's id
      run: async (ctx, a) => ok({ task: { id: (await ctx.tx.member(a.id))?.id ?? 0, open: true } }),
    });
    expect(misnamed.args.id).toBe(taskIdArg);
  });
});
