// GIVEN any command of the table and any valid values for its arguments (generated from each
// argument's spec), THEN formatting them as text and parsing that text gives back the same
// command and the same values. Also: the tokenizer and the parser never throw, whatever is typed.
import fc from "fast-check";
import { splitUnit } from "../../src/core/amounts.ts";
import { describe, expect, it } from "vitest";
import type { AnyArg } from "../../commands/args.ts";
import { describeUsageError } from "../../commands/errors.ts";
import { commandName, type AnyCommand } from "../../commands/define.ts";
import { table } from "../../commands/table.ts";
import { formatCommand, parseCommand, quote, tokenize } from "../../commands/text.ts";
import { formatThousandths } from "../../src/core/amounts.ts";
import { normaliseCode } from "../../src/core/ids.ts";

const RUNS = 200;

const argsOf = (c: AnyCommand) => Object.entries<AnyArg>(c.args);

// Pieces that stress the tokenizer and the quoting: spaces of several kinds (collapsed by the
// text schema), straight quotes, backslashes, colons and key:value look-alikes, unicode.
const TEXT_PIECES = [
  " ",
  "  ",
  "\u00a0",
  "\u3000",
  '"',
  '\\"',
  "\\",
  "\\\\",
  ":",
  "hours:3",
  "name:x",
  "value:",
  "slug:ab",
  "kind:",
  "a",
  "Z",
  "bread",
  "#12",
  "-1",
  "@alice",
  "<@123>",
  "'",
  "\u201c",
  "\u201d",
  "\u201e",
  "é",
  "ß",
  "日本語",
  "🎉",
  "👩‍👩‍👧",
  "\u0301",
];

// U+201C and U+201D close a quoted value even when they are part of the value, and `quote`
// does not escape them, so values holding them cannot be written back (bug report: see
// "known bugs" below). They are left out of the generated text here.
const CURLY_CLOSERS = /[\u201c\u201d]/g;
// eslint-disable-next-line no-control-regex -- control characters are what this leaves out
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const rawText = fc
  .array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...TEXT_PIECES) }, { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }) }), {
    minLength: 1,
    maxLength: 14,
  })
  .map((parts) => parts.join("").replace(CONTROL, "").replace(CURLY_CLOSERS, ""));

/** A value of a text argument as its schema normalises it (trimmed, one space between words). */
function textValue(a: AnyArg): fc.Arbitrary<string> {
  const max = a.spec.max ?? 100;
  // Long values too, to reach the max length.
  const long = fc.string({ unit: "grapheme-ascii", minLength: Math.max(1, max - 3), maxLength: max }).map((s) => s.replace(CONTROL, ""));
  return fc
    .oneof({ weight: 5, arbitrary: rawText }, { weight: 1, arbitrary: long })
    .map((raw) => a.schema.safeParse(raw))
    .filter((r): r is { success: true; data: string } => r.success && typeof r.data === "string")
    .map((r) => r.data);
}

const handle = fc.stringMatching(/^[a-z0-9_-]{1,32}$/);
const discordId = fc.stringMatching(/^[1-9]\d{0,19}$/);
// What parsing `@localpart:server` gives, for lower-case ids (mixed case: see known bugs).
const matrixId = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9._=\-/+]{1,20}$/),
    fc.stringMatching(/^[a-z0-9.-]{1,20}$/),
    fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  )
  .map(([local, server, port]) => ({ platform: "matrix", userId: `@${local}:${server}${port === undefined ? "" : `:${port}`}`, displayName: local }));

const memberValue = fc.oneof(
  handle.map((h) => ({ handle: h })),
  discordId.map((id) => ({ platform: "discord", userId: id, displayName: id })),
  matrixId,
);

/** Codes as parsing normalises them: upper case, groups of four joined by dashes (4 to 16 signs). */
const codeValue = fc.stringMatching(/^[A-Za-z0-9]{4,16}$/).map((s) => normaliseCode(s));

function valueOf(a: AnyArg): fc.Arbitrary<unknown> {
  const s = a.spec;
  switch (s.kind) {
    case "text":
      return textValue(a);
    case "slug":
      return fc.stringMatching(/^[a-z][a-z0-9-]{1,31}$/);
    case "integer":
    case "hours":
      return fc.oneof(fc.integer({ min: s.min!, max: s.max! }), fc.constantFrom(s.min!, s.max!));
    case "choice":
    case "policyKey":
      return fc.constantFrom(...s.choices!);
    case "member":
      return memberValue;
    case "code":
      return codeValue;
    case "date":
      // The end of a day (typed as 2026-12-01) or any millisecond (typed as an ISO time).
      return fc.oneof(
        fc.integer({ min: 0, max: 2_900_000 }).map((day) => (day + 1) * 86_400_000 - 1),
        fc.integer({ min: 0, max: 253_402_300_799_000 }),
      );
    default: {
      const never: never = s.kind;
      throw new Error(`no generator for argument kind ${String(never)}`);
    }
  }
}

/** Values for every argument of a command; optional ones are left out at random. */
function valuesFor(c: AnyCommand): fc.Arbitrary<Record<string, unknown>> {
  const parts = argsOf(c).map(([name, a]) => {
    const v = valueOf(a);
    return (a.spec.optional ? fc.option(v, { nil: undefined, freq: 3 }) : v).map((x) => [name, x] as const);
  });
  return fc.tuple(...parts).map((pairs) => Object.fromEntries(pairs.filter(([, x]) => x !== undefined)));
}

function expectRoundTrip(c: AnyCommand, values: Record<string, unknown>) {
  const text = formatCommand(c, values);
  const parsed = parseCommand(table, text);
  if (!parsed.ok) throw new Error(`"${text}" does not parse: ${parsed.error.problem}`);
  expect(commandName(parsed.command)).toBe(commandName(c));
  expect(parsed.command).toBe(c);
  expect(parsed.values).toStrictEqual(values);
}

describe("formatCommand then parseCommand", () => {
  it("the table has commands, and every argument kind has a generator", () => {
    expect(table.length).toBeGreaterThan(10);
    for (const c of table) for (const [, a] of argsOf(c)) expect(() => valueOf(a)).not.toThrow();
  });

  it.each(table.map((c) => [commandName(c), c] as const))("GIVEN valid values for %s THEN the text parses back to them", (_name, c) => {
    fc.assert(
      fc.property(valuesFor(c), (values) => expectRoundTrip(c, values)),
      { numRuns: RUNS },
    );
  });

  it("GIVEN any command of the table THEN its formatted text starts with its own path", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...table).chain((c) => valuesFor(c).map((v) => [c, v] as const)),
        ([c, values]) => {
          const text = formatCommand(c, values);
          expect(text.split(" ").slice(0, c.path.length)).toEqual([...c.path]);
          expectRoundTrip(c, values);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("GIVEN a rest text argument typed without quotes THEN it reads every remaining word", () => {
    // Only plain words: no quotes or backslashes, and no word that starts with the name of an
    // argument of the same command followed by a colon (see known bugs).
    const restCommands = table.filter((c) => {
      const positional = argsOf(c).filter(([, a]) => a.spec.positional);
      const last = positional[positional.length - 1];
      return last !== undefined && last[1].spec.rest && last[1].spec.kind === "text" && positional.every(([, a]) => !a.spec.optional || a === last[1]);
    });
    expect(restCommands.map(commandName)).toContain("goal announce");
    const word = fc.oneof(fc.stringMatching(/^[A-Za-z0-9'.,!?()#@%&*+=-]{1,8}$/), fc.constantFrom("hours:3", "kind:", "x:y", "Ünïcödé", "🎉"));
    fc.assert(
      fc.property(
        fc.constantFrom(...restCommands).chain((c) => fc.tuple(fc.constant(c), valuesFor(c), fc.array(word, { minLength: 1, maxLength: 10 }))),
        ([c, values, words]) => {
          const entries = argsOf(c);
          const [restName, restArg] = entries.filter(([, a]) => a.spec.positional).at(-1)!;
          const safe = words.filter((w) => !entries.some(([k]) => w.toLowerCase().startsWith(`${k}:`)));
          fc.pre(safe.length > 0);
          const restText = safe.join(" ");
          const r = restArg.schema.safeParse(restText);
          fc.pre(r.success);
          const all = { ...values, [restName]: r.data };
          // Everything before the rest argument as formatCommand writes it, then the words bare.
          const head = formatCommand(c, Object.fromEntries(Object.entries(all).filter(([k]) => k !== restName)));
          // "hours:2 h": right after an hours option, its own unit is part of it (the grammar's rule).
          const lastKey = /(\S+):\S*$/.exec(head)?.[1];
          const unitJoins =
            lastKey !== undefined &&
            c.args[lastKey]?.spec.kind === "hours" &&
            (c.args[lastKey].schema.safeParse(`1 ${safe[0]}`).success || (safe.length === 1 && splitUnit(`1 ${safe[0]}`) !== null));
          fc.pre(!unitJoins);
          const parsed = parseCommand(table, `${head} ${restText}`);
          if (!parsed.ok) throw new Error(`"${head} ${restText}" does not parse: ${parsed.error.problem}`);
          expect(parsed.command).toBe(c);
          expect(parsed.values).toStrictEqual(all);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

// What people actually type: mixed case, `#12`, `+7`, codes in lower case with spaces,
// `<@!123>` mentions. Whatever parses, formatting the parsed values and parsing again must give
// the same values (parsing is a fixed point after one step).
function typedToken(a: AnyArg): fc.Arbitrary<string> {
  const s = a.spec;
  switch (s.kind) {
    case "text":
      return rawText.filter((t) => a.schema.safeParse(t).success).map((t) => `"${t.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`);
    case "slug":
      return fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{1,31}$/);
    case "integer":
      return fc.tuple(fc.constantFrom("", "#", "+", "#+"), fc.integer({ min: s.min!, max: s.max! })).map(([p, v]) => (v < 0 ? String(v) : `${p}${v}`));
    case "hours":
      return fc.tuple(fc.integer({ min: s.min!, max: s.max! }), fc.integer({ min: 0, max: 3 })).map(([v, decimals]) => formatThousandths(v, decimals));
    case "choice":
      return fc.constantFrom(...s.choices!).chain((c) => fc.mixedCase(fc.constant(c)));
    case "policyKey":
      return fc.constantFrom(...s.choices!);
    case "member":
      return fc.oneof(
        handle.chain((h) => fc.mixedCase(fc.constant(`@${h}`))),
        discordId.chain((id) => fc.constantFrom(`<@${id}>`, `<@!${id}>`)),
        matrixId.map((m) => m.userId),
      );
    case "code":
      // 4 to 16 letters or digits, in any case, with dashes and spaces anywhere after the first.
      return fc
        .tuple(fc.stringMatching(/^[A-Za-z0-9]{4,16}$/), fc.array(fc.constantFrom(" ", "-", ""), { minLength: 16, maxLength: 16 }))
        .map(([chars, seps]) => [...chars].map((ch, i) => (i === 0 ? ch : `${seps[i] ?? ""}${ch}`)).join(""))
        .filter((t) => t.length <= 20)
        .map((t) => (t.includes(" ") ? `"${t}"` : t));
    case "date":
      return fc.oneof(
        fc.date({ min: new Date(0), max: new Date("9999-12-31T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
        fc.date({ min: new Date(0), max: new Date("9999-12-31T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString()),
      );
    default: {
      const never: never = s.kind;
      throw new Error(`no generator for argument kind ${String(never)}`);
    }
  }
}

// Issue 13, item 6: an option is given once. Whatever the command, wherever the second copy
// stands (before, between or after the other values, after free text), the text is refused
// with "<name>: is given twice", never read as part of a title.
describe("an option given twice", () => {
  const withValues = fc
    .constantFrom(...table.filter((c) => argsOf(c).length > 0))
    .chain((c) => fc.tuple(fc.constant(c), valuesFor(c)))
    .filter(([, values]) => Object.keys(values).length > 0);
  const named = (c: AnyCommand, name: string, v: unknown, typed = name) => `${typed}:${quote(c.args[name]!.toText(v))}`;

  it("GIVEN every value written as name:value in any order and one again anywhere THEN it is refused naming that option", () => {
    fc.assert(
      fc.property(
        withValues.chain(([c, values]) =>
          fc.tuple(
            fc.constant(c),
            fc.shuffledSubarray(Object.keys(values), { minLength: Object.keys(values).length }),
            fc.constantFrom(...Object.keys(values)),
            fc.nat(),
            fc.constant(values),
          ),
        ),
        ([c, order, again, at, values]) => {
          const parts = order.map((k) => named(c, k, values[k]));
          parts.splice(at % (parts.length + 1), 0, named(c, again, values[again], again.toUpperCase()));
          const p = parseCommand(table, [...c.path, ...parts].join(" "));
          expect(!p.ok && p.error.problem).toBe(`${again}: is given twice`);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("GIVEN a command as formatCommand writes it (positional values, free text) and an option again at the end THEN it is refused naming that option", () => {
    fc.assert(
      fc.property(
        withValues.chain(([c, values]) => fc.tuple(fc.constant(c), fc.constant(values), fc.constantFrom(...Object.keys(values)))),
        ([c, values, again]) => {
          const p = parseCommand(table, `${formatCommand(c, values)} ${named(c, again, values[again])}`);
          expect(!p.ok && p.error.problem).toBe(`${again}: is given twice`);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("parseCommand then formatCommand then parseCommand", () => {
  it("GIVEN text as people type it THEN the parsed values survive being written back", () => {
    const typed = fc.constantFrom(...table).chain((c) =>
      fc
        .tuple(
          ...argsOf(c).map(([name, a]) => (a.spec.optional ? fc.option(typedToken(a), { nil: undefined }) : typedToken(a)).map((t) => [name, a, t] as const)),
        )
        .map((parts) => {
          const words = [...c.path];
          let open = true;
          for (const [name, a, t] of parts) {
            if (t === undefined) {
              if (a.spec.positional) open = false;
              continue;
            }
            words.push(a.spec.positional && open ? t : `${name}:${t}`);
          }
          return { c, line: words.join(" ") };
        }),
    );
    let parsedCount = 0;
    fc.assert(
      fc.property(typed, ({ c, line }) => {
        const first = parseCommand(table, line);
        if (!first.ok) throw new Error(`"${line}" does not parse: ${first.error.problem}`);
        expect(first.command).toBe(c);
        parsedCount++;
        const again = parseCommand(table, formatCommand(first.command, first.values));
        if (!again.ok) throw new Error(`"${formatCommand(first.command, first.values)}" (from "${line}") does not parse: ${again.error.problem}`);
        expect(again.command).toBe(c);
        expect(again.values).toStrictEqual(first.values);
      }),
      { numRuns: RUNS * 3 },
    );
    expect(parsedCount).toBeGreaterThan(0);
  });
});

describe("robustness", () => {
  const anyString = fc.oneof(
    fc.string({ unit: "binary", maxLength: 60 }),
    fc.string({ unit: "grapheme", maxLength: 60 }),
    fc
      .array(fc.constantFrom(...TEXT_PIECES, "\n", "\t", "\u0000", "\u2028", "pool", "create", "me", "link", "goal"), { maxLength: 12 })
      .map((p) => p.join(" ")),
  );
  // Random tails after real command names, so that argument binding is reached too.
  const afterCommand = fc.tuple(fc.constantFrom(...table.map(commandName)), anyString, fc.constantFrom(" ", "")).map(([n, tail, sep]) => `${n}${sep}${tail}`);

  it("GIVEN any string THEN tokenize does not throw, and its tokens hold no unquoted blank", () => {
    fc.assert(
      fc.property(fc.oneof(anyString, afterCommand), (s) => {
        const t = tokenize(s);
        if (t.ok) {
          for (const tok of t.tokens) {
            expect(tok.value.length > 0 || tok.quoted).toBe(true);
            if (!tok.quoted) expect(/\s/.test(tok.value)).toBe(false);
            if (tok.key !== undefined) expect(tok.value.toLowerCase().startsWith(`${tok.key}:`)).toBe(true);
          }
        } else {
          expect(typeof t.problem).toBe("string");
        }
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it("GIVEN any string THEN parseCommand does not throw: it returns a command or a usage error that can be worded", () => {
    fc.assert(
      fc.property(fc.oneof(anyString, afterCommand), (s) => {
        const p = parseCommand(table, s);
        if (p.ok) {
          expect(table).toContain(p.command);
          for (const [name, a] of argsOf(p.command)) if (!a.spec.optional) expect(p.values[name]).toBeDefined();
        } else {
          expect(p.error.kind).toBe("usage");
          expect(describeUsageError(p.error).length).toBeGreaterThan(0);
        }
      }),
      { numRuns: RUNS * 5 },
    );
  });
});

// Inputs that the properties above once found failing; kept as regression tests.
describe("found by the properties", () => {
  const find = (name: string) => table.find((c) => commandName(c) === name)!;
  const LONG_CODE = "pool join abcdefghjkmnpqrstuvw";
  const SHORT_CODE = 'pool join "ab - -"';
  const MIXED_MATRIX = "project coordinator add bakery @Alice:example.org";

  it("GIVEN a mixed-case Matrix id THEN it parses", () => {
    expect(parseCommand(table, MIXED_MATRIX).ok).toBe(true);
  });

  const roundTripOfParsed = (line: string) => {
    const first = parseCommand(table, line);
    if (first.ok) expectRoundTrip(first.command, first.values);
  };

  it("GIVEN a text value with curly quotes THEN it is written back escaped and parses again", () => {
    expectRoundTrip(find("goal announce"), { project: "bakery", text: "say \u201chi\u201d" });
  });

  it("GIVEN a code of more than 16 signs THEN it is refused as a usage error (no code is that long)", () => {
    const p = parseCommand(table, LONG_CODE);
    expect(!p.ok && describeUsageError(p.error)).toMatch(/code must be a code such as K7QM-4ZPA/);
    expect(parseCommand(table, "pool join abcd efgh jkmn pqrs").ok).toBe(true);
  });

  it("GIVEN a code of fewer than 4 signs among dashes and spaces THEN it is refused as a usage error", () => {
    const p = parseCommand(table, SHORT_CODE);
    expect(!p.ok && describeUsageError(p.error)).toMatch(/code must be a code such as K7QM-4ZPA/);
  });

  it("GIVEN a Matrix id in mixed case THEN it keeps its case through the round trip", () => roundTripOfParsed(MIXED_MATRIX));

  // It took such a word as text once; since issue 13 (item 6) an option is given once, wherever
  // it stands, and option-like words are text only when quoted.
  it("GIVEN a rest argument THEN a word that names an argument already given is refused, and taken as text when quoted", () => {
    const p = parseCommand(table, "goal announce bakery Deliver to project:alpha");
    expect(!p.ok && describeUsageError(p.error)).toMatch(/^project: is given twice · usage: goal announce <project> <text>/);
    const q = parseCommand(table, 'goal announce bakery Deliver to "project:alpha"');
    expect(q.ok && q.values).toStrictEqual({ project: "bakery", text: "Deliver to project:alpha" });
  });
});
