// The text grammar shared by the console and Matrix, derived from the table:
//   <group> <verb> <positional...> key:value ...
// Double quotes (straight or curly) keep spaces in a value: goal announce bakery "Bread for 40".
// `formatCommand` writes parsed values back as text; parsing that text gives the same values.
import { splitUnit } from "../src/core/amounts.ts";
import { excerpt } from "../src/core/clean-text.ts";
import { closest, SUGGEST_MAX } from "../src/core/suggest.ts";
import type { AnyArg, IssueParams } from "./args.ts";
import { commandName, type AnyCommand } from "./define.ts";

export interface Token {
  readonly value: string;
  /** Set when the token starts with an unquoted `key:`; `rest` is what follows the colon. */
  readonly key?: string;
  readonly rest?: string;
  readonly quoted: boolean;
}

export interface UsageError {
  readonly kind: "usage";
  /** The command the input was meant for, if known: its usage line goes with the message. */
  readonly command?: AnyCommand;
  readonly problem: string;
  readonly suggestion?: string | undefined;
}

export type Parsed =
  { readonly ok: true; readonly command: AnyCommand; readonly values: Record<string, unknown> } | { readonly ok: false; readonly error: UsageError };

const OPEN_QUOTES = new Set(['"', "\u201c", "\u201e"]);
const CLOSE_QUOTES = new Set(['"', "\u201d", "\u201c"]);
const KEY = /^([a-z][a-z0-9-]{0,31}):/i;

// Runs of characters read at once (sticky), so that a long token costs one regex step, not one
// per character.
const BLANKS = /\s+/y;
const PLAIN = /[^\s"\u201c\u201e]+/y;
const QUOTED_PLAIN = /[^\\"\u201c\u201d]+/y;

export function tokenize(input: string): { ok: true; tokens: Token[] } | { ok: false; problem: string } {
  const tokens: Token[] = [];
  let i = 0;
  const n = input.length;
  const run = (re: RegExp): string => {
    re.lastIndex = i;
    const m = re.exec(input);
    return m ? m[0] : "";
  };
  while (i < n) {
    i += run(BLANKS).length;
    if (i >= n) break;
    let value = "";
    let quoted = false;
    let firstQuoteAt = -1;
    while (i < n && !/\s/.test(input[i]!)) {
      const ch = input[i]!;
      if (OPEN_QUOTES.has(ch)) {
        quoted = true;
        if (firstQuoteAt < 0) firstQuoteAt = value.length;
        i++;
        let closed = false;
        while (i < n) {
          const plain = run(QUOTED_PLAIN);
          if (plain.length > 0) {
            value += plain;
            i += plain.length;
            continue;
          }
          const c = input[i]!;
          if (c === "\\" && i + 1 < n && (input[i + 1] === "\\" || OPEN_QUOTES.has(input[i + 1]!) || CLOSE_QUOTES.has(input[i + 1]!))) {
            value += input[i + 1];
            i += 2;
            continue;
          }
          if (CLOSE_QUOTES.has(c)) {
            closed = true;
            i++;
            break;
          }
          value += c;
          i++;
        }
        if (!closed) return { ok: false, problem: 'a quote is not closed: put a " at the end of the quoted value' };
      } else {
        const plain = run(PLAIN);
        value += plain;
        i += plain.length;
      }
    }
    const head = firstQuoteAt < 0 ? value : value.slice(0, firstQuoteAt);
    const m = KEY.exec(head);
    tokens.push(m ? { value, key: m[1]!.toLowerCase(), rest: value.slice(m[0].length), quoted } : { value, quoted });
  }
  return { ok: true, tokens };
}

/** Finds the command named by the first words; the longest matching path wins. */
function findCommand(table: readonly AnyCommand[], tokens: readonly Token[]): AnyCommand | undefined {
  let best: AnyCommand | undefined;
  for (const c of table) {
    if (c.path.length > tokens.length) continue;
    // Lengths first: a 100 KB token is not lower-cased once per command.
    const matches = c.path.every((w, i) => !tokens[i]!.quoted && tokens[i]!.value.length === w.length && tokens[i]!.value.toLowerCase() === w);
    if (matches && (!best || c.path.length > best.path.length)) best = c;
  }
  return best;
}

/** The closest command to mistyped words: "task clam" -> "task claim", "projet list" -> "project list". */
export function suggestCommand(table: readonly AnyCommand[], typedWords: readonly string[]): string | undefined {
  const names = table.map(commandName);
  // Longer words are no typo of a command (closest refuses them): cut, so the joins stay small.
  const words = typedWords.map((w) => w.slice(0, SUGGEST_MAX + 1));
  for (let len = Math.min(3, words.length); len >= 1; len--) {
    const typed = words.slice(0, len).join(" ").toLowerCase();
    const hit = closest(
      typed,
      names.map((n) => n.split(" ").slice(0, len).join(" ")),
    );
    if (hit) {
      const full = names.filter((n) => n.startsWith(hit));
      if (full.length === 1) return full[0];
      const deeper = words.length > len ? closest(words.slice(0, len + 1).join(" "), full) : null;
      if (deeper) return deeper;
      return full.length > 0 && hit.split(" ").length < 2 ? hit : (full[0] ?? hit);
    }
  }
  return undefined;
}

export function parseCommand(table: readonly AnyCommand[], input: string): Parsed {
  const t = tokenize(input);
  if (!t.ok) return { ok: false, error: { kind: "usage", problem: t.problem } };
  const tokens = t.tokens;
  if (tokens.length === 0) return { ok: false, error: { kind: "usage", problem: "type a command", suggestion: "help" } };
  // A group typed alone runs its status command where it has one: "me" is "me status".
  const alone = tokens.length === 1 && !tokens[0]!.quoted ? `${tokens[0]!.value.toLowerCase()} status` : undefined;
  const command = findCommand(table, tokens) ?? (alone ? table.find((c) => commandName(c) === alone) : undefined);
  if (!command) {
    const words = tokens.slice(0, 3).map((x) => x.value);
    const groups = new Set(table.map((c) => c.path[0]!));
    const group = groups.has(words[0]!.toLowerCase()) ? words[0]!.toLowerCase() : undefined;
    const suggestion = suggestCommand(table, words);
    const problem =
      group && tokens.length === 1
        ? `"${group}" needs a verb: ${verbsOf(table, group)}`
        : `unknown command "${excerpt(words.slice(0, group ? 2 : 1).join(" "))}"`;
    const onlyGroup = group !== undefined && tokens.length === 1;
    return { ok: false, error: { kind: "usage", problem, suggestion: onlyGroup ? `help ${group}` : (suggestion ?? (group ? `help ${group}` : "help")) } };
  }
  return bindArgs(command, tokens.slice(command.path.length));
}

function verbsOf(table: readonly AnyCommand[], group: string): string {
  return table
    .filter((c) => c.path[0] === group)
    .map((c) => c.path.slice(1).join(" "))
    .join(", ");
}

function bindArgs(command: AnyCommand, tokens: readonly Token[]): Parsed {
  const fail = (problem: string, suggestion?: string): Parsed => ({ ok: false, error: { kind: "usage", command, problem, suggestion } });
  const entries = Object.entries<AnyArg>(command.args);
  const positional = entries.filter(([, a]) => a.spec.positional);
  const raw = new Map<string, string>();
  let next = 0;
  let restName: string | undefined;
  // An hours option just given (hours:2): its own unit right after it is part of it ("hours:2 h").
  // Another unit as the last word ("hours:2 days") is taken as meant for it, and refused; followed
  // by more words ("hours:2 days were long") it is text.
  let unitFor: string | undefined;
  for (const [i, tok] of tokens.entries()) {
    const after = unitFor;
    unitFor = undefined;
    if (after !== undefined && !tok.quoted && tok.key === undefined && splitUnit(`1 ${tok.value}`) !== null) {
      const joined = `${raw.get(after)} ${tok.value}`;
      if (i === tokens.length - 1 || command.args[after]!.schema.safeParse(joined).success) {
        raw.set(after, joined);
        continue;
      }
    }
    // An unquoted word that starts with the name of one of the command's options (hours:2) is
    // that option wherever it stands, before, inside or after free text, and an option is given
    // once. Only quoted, or naming no option ("Note:", a URL), is such a word text.
    if (tok.key !== undefined && Object.hasOwn(command.args, tok.key)) {
      if (raw.has(tok.key)) return fail(`${tok.key}: is given twice`);
      raw.set(tok.key, tok.rest ?? "");
      if (command.args[tok.key]!.spec.kind === "hours") unitFor = tok.key;
      continue;
    }
    if (restName !== undefined) {
      raw.set(restName, `${raw.get(restName)} ${tok.value}`);
      continue;
    }
    while (next < positional.length && raw.has(positional[next]![0])) next++;
    const free = positional[next];
    if (tok.key !== undefined && !(free && free[1].spec.kind === "text")) {
      const near = closest(
        tok.key,
        entries.map(([k]) => k),
      );
      return fail(`unknown option "${tok.key}:"`, near ? `${near}:` : undefined);
    }
    if (!free) return fail(`too many values: "${excerpt(tok.value)}" is not expected`);
    raw.set(free[0], tok.value);
    if (free[1].spec.rest) restName = free[0];
    next++;
  }
  return checkValues(command, raw);
}

/**
 * Validates raw option values (text tokens, or typed values from Discord) with each argument's
 * zod schema: the one validator for every platform.
 */
export function checkValues(command: AnyCommand, raw: ReadonlyMap<string, unknown>): Parsed {
  const fail = (problem: string, suggestion?: string): Parsed => ({ ok: false, error: { kind: "usage", command, problem, suggestion } });
  const values: Record<string, unknown> = {};
  for (const [name, a] of Object.entries<AnyArg>(command.args)) {
    const given = raw.get(name);
    if (given === undefined) {
      if (!a.spec.optional) return fail(`missing ${describe(name, a)}`);
      continue;
    }
    const r = a.schema.safeParse(given);
    if (!r.success) {
      const text = typeof given === "string" ? given : typeof given === "number" ? String(given) : JSON.stringify(given);
      const params = (r.error.issues.find((i) => i.code === "custom")?.params ?? {}) as IssueParams;
      if (params.problem) return fail(`${name} ${params.problem}`);
      const near = a.spec.choices ? closest(text, a.spec.choices) : null;
      const written = a.spec.positional ? near : near && `${name}:${near}`;
      const why = params.why ? ` (${params.why})` : "";
      return fail(`${name} must be ${a.spec.expect}, not "${excerpt(text)}"${why}`, written ?? undefined);
    }
    values[name] = r.data;
  }
  return { ok: true, command, values };
}

function describe(name: string, a: AnyArg): string {
  return a.spec.positional ? `<${a.spec.placeholder}>` : `${name}:<${a.spec.placeholder}>`;
}

/** `goal announce <project> <text>`, `me history [limit]`, `task post ... [kind:<label>]`. */
export function usageLine(command: AnyCommand): string {
  const parts = [...command.path];
  for (const [name, a] of Object.entries<AnyArg>(command.args)) {
    const core = a.spec.positional ? `<${a.spec.placeholder}>` : `${name}:<${a.spec.placeholder}>`;
    const shown = a.spec.positional && a.spec.optional ? `[${a.spec.placeholder}]` : a.spec.optional ? `[${core}]` : core;
    parts.push(shown);
  }
  return parts.join(" ");
}

const NEEDS_QUOTES = /[\s"\\\u201c\u201d\u201e]/;

export function quote(value: string): string {
  if (value.length > 0 && !NEEDS_QUOTES.test(value) && !KEY.test(value)) return value;
  return `"${value.replace(/[\\"\u201c\u201d\u201e]/g, (ch) => `\\${ch}`)}"`;
}

/** Writes a command and its parsed values as text that parses back to the same values. */
export function formatCommand(command: AnyCommand, values: Record<string, unknown>): string {
  const parts: string[] = [...command.path];
  let positionalOpen = true;
  for (const [name, a] of Object.entries<AnyArg>(command.args)) {
    const v = values[name];
    if (v === undefined) {
      if (a.spec.positional) positionalOpen = false;
      continue;
    }
    const text = a.toText(v);
    if (a.spec.positional && positionalOpen) parts.push(quote(text));
    else parts.push(`${name}:${quote(text)}`);
  }
  return parts.join(" ");
}
