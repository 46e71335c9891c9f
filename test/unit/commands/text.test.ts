import { describe, expect, it } from "vitest";
import { commandName } from "../../../commands/define.ts";
import { describeUsageError } from "../../../commands/errors.ts";
import { table } from "../../../commands/table.ts";
import { formatCommand, parseCommand, suggestCommand, tokenize, usageLine } from "../../../commands/text.ts";
import { unsafeChar } from "../../../src/core/clean-text.ts";
import { testPool } from "../../support/app.ts";

const parse = (s: string) => parseCommand(table, s);
const values = (s: string) => {
  const r = parse(s);
  if (!r.ok) throw new Error(describeUsageError(r.error));
  return { command: commandName(r.command), values: r.values };
};
const problem = (s: string) => {
  const r = parse(s);
  if (r.ok) throw new Error(`"${s}" parsed`);
  return describeUsageError(r.error);
};

describe("tokenize", () => {
  it.each([
    ['goal announce bakery "Bread for 40 households"', ["goal", "announce", "bakery", "Bread for 40 households"]],
    ["a  b\tc", ["a", "b", "c"]],
    ['say "he said \\"hi\\""', ["say", 'he said "hi"']],
    ["goal announce bakery \u201cCurly quotes\u201d", ["goal", "announce", "bakery", "Curly quotes"]],
    ['key:"a b"', ["key:a b"]],
    ['""', [""]],
  ])("GIVEN %j THEN %j", (input, tokens) => {
    const r = tokenize(input);
    expect(r.ok && r.tokens.map((t) => t.value)).toEqual(tokens);
  });

  it("GIVEN key:value THEN the key is seen unless it is inside quotes", () => {
    const r = tokenize('status:all "status:all" kind:"deep clean"');
    expect(r.ok && r.tokens.map((t) => t.key)).toEqual(["status", undefined, "kind"]);
  });

  it("GIVEN an unclosed quote THEN a problem naming the fix", () => {
    const r = tokenize('goal announce bakery "Bread');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problem).toMatch(/quote is not closed/);
  });
});

describe("parseCommand", () => {
  it.each([
    ["pool create Riverside commons", "pool create", { name: "Riverside commons" }],
    ['pool create "Riverside  commons"', "pool create", { name: "Riverside commons" }],
    ["POOL INFO", "pool info", {}],
    ["project create bakery The Bakery", "project create", { slug: "bakery", name: "The Bakery" }],
    ["project create Bakery x", "project create", { slug: "bakery", name: "x" }],
    ["project coordinator add bakery @Alice", "project coordinator add", { project: "bakery", member: { handle: "alice" } }],
    [
      "project coordinator remove bakery <@123456>",
      "project coordinator remove",
      { project: "bakery", member: { platform: "discord", userId: "123456", displayName: "123456" } },
    ],
    [
      "project coordinator add bakery @bob:example.org",
      "project coordinator add",
      { project: "bakery", member: { platform: "matrix", userId: "@bob:example.org", displayName: "bob" } },
    ],
    ['goal announce bakery "Bread for 40"', "goal announce", { project: "bakery", text: "Bread for 40" }],
    ["goal announce bakery Note: bread at 10:30", "goal announce", { project: "bakery", text: "Note: bread at 10:30" }],
    ["goal list status:all", "goal list", { status: "all" }],
    ["goal list bakery status:done", "goal list", { project: "bakery", status: "done" }],
    ["goal list project:bakery", "goal list", { project: "bakery" }],
    ["goal done #3", "goal done", { id: 3 }],
    ["me history", "me history", {}],
    ["me history 25", "me history", { limit: 25 }],
    ["me link k7qm 4zpa", "me link", { code: "K7QM-4ZPA" }],
    ["me link", "me link", {}],
    ["pool policy", "pool policy", {}],
    ["pool policy creditLimit 12.5", "pool policy", { key: "creditLimit", value: "12.5" }],
    ["help pool create", "help", { command: "pool create" }],
    ["pool correct 12 reported twice", "pool correct", { entry: 12, reason: "reported twice" }],
  ])("GIVEN %j THEN %s with %j", (input, command, expected) => {
    expect(values(input)).toEqual({ command, values: expected });
  });

  it.each([
    ["pool creat Riverside", /unknown command "pool creat".*did you mean "pool create"\?/],
    ["projet list", /unknown command "projet".*did you mean "project list"\?/],
    ["goal", /"goal" needs a verb: announce, list, done/],
    ["me history abc", /limit must be a whole number from 1 to 100, not "abc".*usage: me history \[limit\]/],
    ["me history 101", /limit must be a whole number from 1 to 100/],
    ["me history 1e3", /limit must be a whole number/],
    ["me history NaN", /limit must be a whole number/],
    ["me history 5 6", /too many values: "6"/],
    ["project create", /missing <slug>.*usage: project create <slug> <name>/],
    ["project create bakery", /missing <name>/],
    ["project create 9lives Nine", /slug must be 2 to 32 lower-case letters/],
    ["project info bakery extra", /too many values/],
    ["goal list statsu:all", /unknown option "statsu:".*did you mean "status:"/],
    ["goal list status:maybe", /status must be one of open, done, all/],
    ["goal list status:al", /status must be one of open, done, all, not "al".*did you mean "status:all"\?/],
    ["project", /"project" needs a verb: create, list, info.*did you mean "help project"\?/],
    ["goal list status:all status:open", /status: is given twice/],
    ["project coordinator add bakery bob", /member must be a member written as @name/],
    ["pool policy creditLimt 5", /key must be a policy key/],
    ["pool create \u0007bell", /^name holds a control character \(U\+0007\) at character 1: type it again with visible characters only/],
    ['task post bakery "Pay \u202Eecila" hours:1', /^title holds a text-direction character \(U\+202E\) at character 5: type it again/],
    ['task post bakery "Sweep\u2066 it\u2069" hours:1', /^title holds a text-direction character \(U\+2066\) at character 6/],
    ['project create pastry "Pas\u200Dtry"', /^name holds an invisible character \(U\+200D\) at character 4/],
    ['goal announce bakery "Bread\u200B"', /^text holds an invisible character \(U\+200B\)/],
    ['pool create "\uFEFFRiverside"', /^name holds an invisible character \(U\+FEFF\) at character 1/],
    [
      "task post bakery Sweep hours:1 due:2027-02-30T10:00Z",
      /^due must be a date such as 2026-12-01 or a time such as 2026-12-01T18:00Z, not "2027-02-30T10:00Z" \(February 2027 has 28 days\)/,
    ],
    ["task post bakery Sweep hours:1 due:2026-02-30", /not "2026-02-30" \(February 2026 has 28 days\)/],
    ["task post bakery Sweep hours:1 due:2026-13-01", /not "2026-13-01" \(there is no month 13: months go from 01 to 12\)/],
    ["task post bakery Sweep hours:1 due:2026-12-01T24:61Z", /\(24:61 is not a time of day: hours go from 00 to 23/],
    ["task post bakery Sweep hours:1 due:2026-12-01T10:00", /\(a time needs its zone: Z for UTC, or an offset such as \+01:00\)/],
    // Echoes: at most 60 characters of the input, control and direction characters spelled out.
    ["\u001b[2J\u0007pool", /^unknown command "\\u001b\[2J\\u0007pool"/],
    ["me history 5 \u202Eevil", /too many values: "\\u202eevil"/],
    ["goal list status:\u001b]0;pwned\u0007", /not "\\u001b\]0;pwned\\u0007"/],
    [`${"x".repeat(100_000)} pool`, new RegExp(`^unknown command "${"x".repeat(60)}…"`)],
    [`goal announce bakery ${"x".repeat(301)}`, /text must be text of 1 to 300 characters/],
    ["", /type a command/],
  ])("GIVEN %j THEN a one-line usage error matching %s", (input, pattern) => {
    const message = problem(input);
    expect(message).toMatch(pattern);
    expect(message).not.toContain("\n");
    expect(unsafeChar(message)).toBeNull();
  });
});

describe("usage lines and formatting", () => {
  it.each([
    ["goal announce", "goal announce <project> <text>"],
    ["me history", "me history [limit]"],
    ["pool policy", "pool policy [key] [value]"],
    ["goal list", "goal list [project] [status:<status>]"],
    ["project coordinator add", "project coordinator add <project> <@member>"],
    ["help", "help [command]"],
  ])("GIVEN %s THEN %s", (name, usage) => {
    const c = table.find((x) => commandName(x) === name);
    expect(c && usageLine(c)).toBe(usage);
  });

  it("GIVEN values with spaces, quotes and colons THEN formatting quotes them so they parse back", () => {
    const c = table.find((x) => commandName(x) === "goal announce")!;
    const v = { project: "bakery", text: 'Say "hi": status:all \\o/' };
    const text = formatCommand(c, v);
    expect(values(text)).toEqual({ command: "goal announce", values: v });
  });

  it("GIVEN an optional positional left out before a later one THEN the later one is written as key:value", () => {
    const c = table.find((x) => commandName(x) === "goal list")!;
    expect(formatCommand(c, { status: "all" })).toBe("goal list status:all");
  });
});

describe("clean input", () => {
  it.each([
    ['project create cooks "👩‍🍳 Cooks"', "👩‍🍳 Cooks"],
    ['project create cooks "🏳️‍🌈 Pride kitchen"', "🏳️‍🌈 Pride kitchen"],
    ['project create cooks "👩🏽‍🍳 שלום café"', "👩🏽‍🍳 שלום café"],
    ['project create cooks "Two\n lines\tand tabs"', "Two lines and tabs"],
  ])("GIVEN %j THEN the name is kept as %j", (input, name) => {
    expect(values(input).values.name).toBe(name);
  });

  it("GIVEN a mention from a platform whose display name hides characters THEN they are dropped, not refused", () => {
    const c = table.find((x) => commandName(x) === "project coordinator add")!;
    const r = c.args.member!.schema.safeParse({ platform: "discord", userId: "42", displayName: "\u202Eal\u200Bice 👩‍🍳" });
    expect(r.success && r.data).toEqual({ platform: "discord", userId: "42", displayName: "alice 👩‍🍳" });
  });

  it("GIVEN a 100 KB token THEN finding the command or a suggestion does not depend on its length", () => {
    expect(suggestCommand(table, ["x".repeat(100_000)])).toBeUndefined();
    expect(suggestCommand(table, ["task", `clam${"x".repeat(100_000)}`])).toBe(suggestCommand(table, ["task", `clam${"x".repeat(61)}`]));
    expect(suggestCommand(table, ["task", "clam"])).toBe("task claim");
  });
});

// Issue 13, item 6: an option typed twice was refused before free text but, after it, became
// part of the title ("Sweep the floor hours:2"), which was then announced in every room.
describe("options are given once", () => {
  it.each([
    ["task post bakery Sweep the floor hours:1.5 hours:2", "hours"],
    ["task post bakery Sweep kind:cleaning the floor kind:baking hours:1", "kind"],
    ["task post bakery hours:1 hours:2 Sweep the floor", "hours"],
    ["task post bakery Sweep hours:1 the floor hours:2", "hours"],
    ["task post bakery Sweep the floor hours:1 HOURS:2", "hours"],
    ["task post bakery project:bakery Sweep hours:1", "project"],
    ["goal announce bakery Bread for 40 text:more", "text"],
    ["pool correct 12 typed twice entry:13", "entry"],
    ["task done 3 hours:2 fixed the tap hours:3", "hours"],
    ["task reject 3 @bob member:@carol not done", "member"],
  ])("GIVEN %j THEN it is refused: %s: is given twice", (input, key) => {
    const message = problem(input);
    expect(message).toMatch(new RegExp(`^${key}: is given twice · usage: `));
    expect(message).not.toContain("\n");
  });

  it.each([
    ['task post bakery "Sweep the floor hours:2" hours:1.5', { project: "bakery", title: "Sweep the floor hours:2", hours: 1500 }],
    ['task post bakery Sweep "hours:2" hours:1.5', { project: "bakery", title: "Sweep hours:2", hours: 1500 }],
    ["task post bakery Sweep hours:1.5 the floor", { project: "bakery", title: "Sweep the floor", hours: 1500 }],
    // Words that name no option of the command are text, as before: "Note:", a time, a URL.
    ["task post bakery Re: the oven at 10:30 see https://x.org hours:1", { project: "bakery", title: "Re: the oven at 10:30 see https://x.org", hours: 1000 }],
    // Names of JavaScript's object properties are no options either.
    ["task post bakery Sweep constructor:x toString:y hours:1", { project: "bakery", title: "Sweep constructor:x toString:y", hours: 1000 }],
  ])("GIVEN %j THEN option-like words are text only when quoted or no option's name", (input, expected) => {
    const v = values(input);
    expect(v.command).toBe("task post");
    expect(v.values).toMatchObject(expected);
  });

  it("GIVEN a repeated option typed in a room THEN nothing is posted, nobody hears of it, and the database is as it was", async () => {
    const t = await testPool();
    try {
      await t.ok("admin", "pool create Riverside");
      await t.ok("admin", "project create bakery Bakery");
      const before = await t.dump();
      for (const input of ["task post bakery Sweep the floor hours:1.5 hours:2", "task post bakery Sweep kind:cleaning the floor kind:baking hours:1"]) {
        const r = await t.say("admin", input);
        expect(r).toMatchObject({ ok: false, code: "usage" });
        expect(!r.ok && r.message).toMatch(/^(hours|kind): is given twice/);
      }
      expect(await t.dump()).toBe(before);
      expect(await t.ok("admin", 'task post bakery "Sweep the floor hours:2" hours:1.5')).toMatchObject({
        task: { title: "Sweep the floor hours:2", estimate: 1.5 },
      });
    } finally {
      await t.close();
    }
  });
});
