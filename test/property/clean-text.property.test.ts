// GIVEN random text full of control characters (ESC, BEL, NUL, C1), direction overrides,
// isolates and marks, zero-width characters and emoji with joiners, typed into every free-text
// argument of the table and into random command lines, THEN
//   - no such character is ever stored: every string in every table of the database (and in the
//     JSON bodies kept there) is clean, emoji joiners between emoji aside;
//   - no reply, refusal or not, ever holds one raw: they are spelled \uXXXX, and an echo of the
//     input is at most 60 characters;
//   - text that is clean apart from its emoji joiners is accepted as it was typed.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnyArg } from "../../commands/args.ts";
import { commandName } from "../../commands/define.ts";
import { docToText } from "../../commands/doc.ts";
import { describeUsageError } from "../../commands/errors.ts";
import { table } from "../../commands/table.ts";
import { checkValues, parseCommand } from "../../commands/text.ts";
import { EXCERPT_MAX, unsafeChar } from "../../src/core/clean-text.ts";
import { testPool, type TestPool } from "../support/app.ts";
import { dumpStore } from "../support/db-dump.ts";

const RUNS = 300;

const HOSTILE = [
  "\u0000",
  "\u0007",
  "\u001b",
  "\u001b[2J",
  "\u001b]0;title\u0007",
  "\u007f",
  "\u0085",
  "\u009b",
  "\u202a",
  "\u202b",
  "\u202c",
  "\u202d",
  "\u202e",
  "\u2066",
  "\u2067",
  "\u2068",
  "\u2069",
  "\u200e",
  "\u200f",
  "\u061c",
  "\u200b",
  "\u200c",
  "\u200d",
  "\u2060",
  "\ufeff",
  "\ud800",
];
const FRIENDLY = ["bread", " ", "Ünï", "日本", "שלום", "🎉", "👩‍🍳", "👩🏽‍🍳", "🏳️‍🌈", "e\u0301", "#12", "a:b", "-"];

/** Text with at least one hostile character somewhere. */
const hostileText = fc
  .tuple(
    fc.array(fc.oneof(fc.constantFrom(...FRIENDLY), fc.string({ unit: "grapheme", maxLength: 4 })), { maxLength: 5 }),
    fc.array(fc.constantFrom(...HOSTILE), { minLength: 1, maxLength: 4 }),
    fc.array(fc.oneof(fc.constantFrom(...FRIENDLY), fc.string({ unit: "binary", maxLength: 4 })), { maxLength: 5 }),
    fc.nat(),
  )
  .map(([before, bad, after, at]) => {
    const parts = [...before, ...after];
    parts.splice(at % (parts.length + 1), 0, ...bad);
    return parts.join("");
  });

/** Clean text: visible characters, spaces and emoji (with their joiners). */
const friendlyText = fc.array(fc.constantFrom(...FRIENDLY.filter((f) => f !== " ")), { minLength: 1, maxLength: 6 }).map((p) => p.join(" "));

const quoted = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/["\u201c\u201d\u201e]/g, (q) => `\\${q}`)}"`;

// Every free-text argument of the table, by "<command> <argument>" (short counterexamples).
const textArgs = new Map(
  table.flatMap((c) =>
    Object.entries<AnyArg>(c.args)
      .filter(([, a]) => a.spec.kind === "text")
      .map(([name]) => [`${commandName(c)} ${name}`, { c, name }] as const),
  ),
);
const textArg = fc.constantFrom(...textArgs.keys()).map((k) => textArgs.get(k)!);

function expectClean(text: string, where: string) {
  const u = unsafeChar(text);
  if (u) throw new Error(`${where} holds ${u.codePoint} at ${u.position}: ${JSON.stringify(text)}`);
}

/** Every quoted piece of an echo is at most EXCERPT_MAX characters (and "…"). */
function expectShortEchoes(message: string, input: string) {
  for (const m of message.matchAll(/"([^"]*)"/g)) {
    const inner = m[1]!.replace(/…$/, "");
    if ([...inner].length > EXCERPT_MAX)
      throw new Error(`an echo longer than ${EXCERPT_MAX} characters in ${JSON.stringify(message)} (input ${JSON.stringify(input)})`);
  }
}

describe("parsing hostile text", () => {
  it("the table has free-text arguments for names, titles, reasons, notes and goals", () => {
    const names = [...textArgs.keys()];
    for (const n of [
      "pool create name",
      "project create name",
      "task post title",
      "goal announce text",
      "task done note",
      "task reject reason",
      "pool correct reason",
    ])
      expect(names).toContain(n);
  });

  it("GIVEN hostile text in any free-text argument THEN it is refused naming the argument, and the refusal is clean", () => {
    fc.assert(
      fc.property(textArg, hostileText, ({ c, name }, s) => {
        const a = c.args[name] as AnyArg;
        const r = a.schema.safeParse(s);
        if (r.success) {
          // Only when the hostile characters were spaces the schema folds away, or joiners in emoji.
          expectClean(String(r.data ?? ""), `${commandName(c)} ${name}`);
          return;
        }
        // The argument alone, as a platform's option value or a typed token would reach it.
        const p = checkValues({ ...c, args: { [name]: a } }, new Map([[name, s]]));
        expect(p.ok).toBe(false);
        if (p.ok) return;
        const message = describeUsageError(p.error);
        expectClean(message, "the refusal");
        expect(message).not.toContain("\n");
        expect(message.startsWith(`${name} `)).toBe(true);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it("GIVEN clean text with emoji joiners THEN every free-text argument takes it as typed", () => {
    fc.assert(
      fc.property(textArg, friendlyText, ({ c, name }, s) => {
        const a = c.args[name] as AnyArg;
        fc.pre(s.length <= (a.spec.max ?? 0));
        const r = a.schema.safeParse(s);
        expect(r.success && r.data).toBe(s);
      }),
      { numRuns: RUNS },
    );
  });

  it("GIVEN any line with hostile characters THEN a refusal never echoes them raw, nor more than 60 characters", () => {
    const line = fc.oneof(
      hostileText,
      fc.tuple(fc.constantFrom(...table.map(commandName)), hostileText, fc.constantFrom("", " ", ":")).map(([n, s, sep]) => `${n}${sep}${s}`),
      fc.tuple(hostileText, fc.integer({ min: 61, max: 5_000 })).map(([s, n]) => `${s}${"x".repeat(n)}${s}`),
    );
    fc.assert(
      fc.property(line, (input) => {
        const p = parseCommand(table, input);
        if (p.ok) {
          for (const v of Object.values(p.values)) if (typeof v === "string") expectClean(v, "a parsed value");
          return;
        }
        const message = describeUsageError(p.error);
        expectClean(message, "the refusal");
        expectShortEchoes(message, input);
      }),
      { numRuns: RUNS * 3 },
    );
  });
});

describe("storing hostile text", () => {
  let t: TestPool;
  let n = 0;
  beforeAll(async () => {
    t = await testPool();
    await t.ok("admin", 'pool create "Clean commons"');
    await t.ok("alice", "project create bakery Bakery");
    await t.ok("alice", "task post bakery Sweep hours:1");
    await t.ok("bob", "task claim 1");
    await t.ok("bob", "task done 1");
  });
  afterAll(() => t.close());

  // Lines that store free text when they are accepted.
  const storing = (s: string, k: number): string[] => [
    `project create p${k} ${quoted(s)}`,
    `task post bakery ${quoted(s)} hours:1`,
    `goal announce bakery ${quoted(s)}`,
    `task reject 1 @bob ${quoted(s)}`,
    `pool correct 1 ${quoted(s)}`,
    `pool policy timezone ${quoted(s)}`,
    `task done 1 ${quoted(s)}`,
    `project info ${quoted(s)}`,
    `good show ${quoted(s)}`,
    s,
  ];

  it("GIVEN hostile text in commands that store text THEN none of it is stored and no reply holds it raw", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileText, friendlyText), fc.nat(), async (s, pick) => {
        const lines = storing(s, n);
        const line = lines[pick % lines.length]!;
        const who = ["admin", "alice", "bob"][pick % 3]!;
        // Past any flood limit: one command every two seconds.
        t.clock.advance(2_000);
        n++;
        const r = await t.say(who, line);
        // A reply's lines are its own line breaks; nothing else may be there.
        expectClean(docToText(r.doc).replace(/\n/g, " "), `the reply to ${JSON.stringify(line)}`);
        if (!r.ok) {
          expectClean(r.message, `the refusal of ${JSON.stringify(line)}`);
          expect(r.message).not.toContain("\n");
          expectShortEchoes(r.message, line);
        }
      }),
      { numRuns: RUNS },
    );
    expect(n).toBeGreaterThan(0);
    // Every row of every table, on either store (JSON keeps each string as it was, lone surrogates too).
    const tables = JSON.parse(await dumpStore(t.store)) as Array<[string, unknown[]]>;
    let strings = 0;
    const walk = (v: unknown, where: string): void => {
      if (typeof v === "string") {
        strings++;
        expectClean(v, where);
        if (/^[[{]/.test(v)) {
          try {
            walk(JSON.parse(v), `${where} (JSON)`);
          } catch {
            // not JSON after all: checked as text above
          }
        }
      } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${where}[${i}]`));
      else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, `${where}.${k}`);
    };
    for (const [name, rows] of tables) for (const row of rows) walk(row, name);
    expect(strings).toBeGreaterThan(100);
  });
});
