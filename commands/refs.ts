// A command named in a reply ("Volunteers type task claim 12", "help task claim", a usage line)
// is written as text in the table's grammar (doc.cmd). Read against the table here, it becomes
// the command plus its values by name, so each platform can write it its own way: Discord as a
// slash command with name:value options, Matrix with the prefix, the console as typed.
import type { AnyArg } from "./args.ts";
import type { AnyCommand } from "./define.ts";
import type { Block, Doc, Span } from "./doc.ts";
import { refWords } from "./ref-words.ts";

export { refWords };

export interface RefPart {
  /** The option's name in the table (and on Discord). */
  readonly name: string;
  /** The value as typed, quotes taken off; placeholders such as `<id>` stay as they are. */
  readonly value: string;
  /** Shown in square brackets: an optional option of a usage line. */
  readonly optional: boolean;
}

export interface CommandRef {
  readonly command: AnyCommand;
  readonly parts: readonly RefPart[];
}

const unquote = (s: string) => (s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replace(/\\(.)/g, "$1") : s);

/**
 * The command and values a reference names, or undefined when it names no command of the table
 * or holds a word no option of the command takes.
 */
export function readRef(table: readonly AnyCommand[], text: string): CommandRef | undefined {
  const words = refWords(text.trim());
  let command: AnyCommand | undefined;
  for (const c of table) {
    if (c.path.length <= words.length && c.path.every((w, i) => words[i] === w) && (!command || c.path.length > command.path.length)) command = c;
  }
  // A group typed alone runs its status command where it has one: "me" is "me status".
  if (!command && words.length === 1) command = table.find((c) => c.path.length === 2 && c.path[0] === words[0] && c.path[1] === "status");
  if (!command) return undefined;
  const entries = Object.entries<AnyArg>(command.args);
  const positional = entries.filter(([, a]) => a.spec.positional).map(([n]) => n);
  const parts: Array<{ name: string; value: string; optional: boolean }> = [];
  const given = new Set<string>();
  let rest: { name: string; value: string; optional: boolean } | undefined;
  for (const raw of words.slice(command.path.length)) {
    const optional = raw.startsWith("[") && raw.endsWith("]");
    const word = optional ? raw.slice(1, -1) : raw;
    const named = /^([a-z][a-z0-9-]*):(.*)$/i.exec(word);
    if (named && Object.hasOwn(command.args, named[1]!) && !given.has(named[1]!)) {
      given.add(named[1]!);
      parts.push({ name: named[1]!, value: unquote(named[2]!), optional });
      rest = undefined;
      continue;
    }
    if (rest) {
      rest.value = `${rest.value} ${unquote(word)}`;
      continue;
    }
    const free = positional.find((n) => !given.has(n));
    if (free === undefined) return undefined;
    given.add(free);
    // An optional positional in a usage line is written bare: [limit] is limit:<limit>.
    const value = optional && !/[<":]/.test(word) ? `<${word}>` : unquote(word);
    const part = { name: free, value, optional };
    parts.push(part);
    if (command.args[free]!.spec.rest) rest = part;
  }
  return { command, parts };
}

/** `/task claim id:12`, `/pool correct entry:12 reason:hours were reported twice confirm`. */
export function slashText(ref: CommandRef): string {
  const options = ref.parts.map((p) => (p.optional ? `[${p.name}:${p.value}]` : `${p.name}:${p.value}`));
  return ["/" + ref.command.path.join(" "), ...options].join(" ");
}

export interface TextPiece {
  readonly text: string;
  /** The text is a command (without its quotes): each platform writes it its own way. */
  readonly cmd?: true;
}

// A quoted command ("task claim 1"), or a usage line after "usage: " up to the next " · ".
const NAMED = /"([^"\n]+)"|(?<=usage: )([^·\n]+?)(?= · |$)/g;

/**
 * A refusal's words (built as one string, commands/errors.ts) with the commands it names marked:
 * `did you mean "task claim"?`, `"task claim 1" takes one`, `usage: task claim <id>`. Quoted
 * words that name no command ("bakery") stay as they are.
 */
export function commandsInText(table: readonly AnyCommand[], text: string): TextPiece[] {
  const out: TextPiece[] = [];
  let at = 0;
  for (const m of text.matchAll(NAMED)) {
    const inner = (m[1] ?? m[2]!).trim();
    if (!readRef(table, inner)) continue;
    if (m.index > at) out.push({ text: text.slice(at, m.index) });
    out.push({ text: inner, cmd: true });
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push({ text: text.slice(at) });
  return out;
}

/**
 * A Doc whose refusal lines (those that start with a "bad" span: ✗ and the message) have the
 * commands they quote (see commandsInText) as command spans. Other lines are left alone: there
 * commands are doc.cmd already, and quoted words are members' own text (a title, a goal).
 */
export function markQuotedCommands(table: readonly AnyCommand[], d: Doc): Doc {
  const spans = (ss: readonly Span[]): Span[] =>
    ss.flatMap((s) => (typeof s === "string" ? commandsInText(table, s).map((p): Span => (p.cmd ? { style: "cmd", text: p.text } : p.text)) : [s]));
  const refusal = (ss: readonly Span[]) => typeof ss[0] === "object" && ss[0].style === "bad";
  return d.map((b): Block => (b.kind === "line" && refusal(b.spans) ? { kind: "line", spans: spans(b.spans) } : b));
}
