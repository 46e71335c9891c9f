// Checks that a reply shown on one platform names commands only in that platform's syntax:
// slash commands (with their real option names) on Discord, `!dpool ...` on Matrix, plain text
// in the console and `dpool exec`.
import { slashCommands } from "../../adapters/discord/slash-json.ts";
import { commandName } from "../../commands/define.ts";
import { commandsInText, refWords } from "../../commands/refs.ts";
import { table } from "../../commands/table.ts";

const GROUPS = [...new Set(table.map((c) => c.path[0]!))];
const NAMES = table.map(commandName);

/** Code spans of Markdown (`x`, ``x``) or HTML (<code>x</code>). */
export function codeSpans(text: string): string[] {
  const md = [...text.matchAll(/(`+)([\s\S]*?)\1/g)].map((m) => m[2]!.trim());
  const html = [...text.matchAll(/<code>([\s\S]*?)<\/code>/g)].map((m) =>
    m[1]!
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, "&"),
  );
  return [...md, ...html];
}

/** True when the text starts with a command of the table as typed (`task claim 1`, `help`). */
export function startsWithCommand(text: string): boolean {
  const words = text.trim().split(/\s+/);
  return NAMES.some((n) => {
    const path = n.split(" ");
    return path.every((w, i) => words[i] === w);
  });
}

type Json = { name: string; type?: number; options?: Json[] };
const registered = slashCommands(table) as unknown as Json[];

/**
 * Why a slash command as shown (`/task claim id:12`, `/pool summary [days:<n>]`) is not one
 * Discord would take, or undefined when it is: its path names a registered command, subcommand
 * group and subcommand, and every `name:` is one of that subcommand's options.
 */
export function slashProblem(text: string): string | undefined {
  if (!text.startsWith("/")) return `"${text}" does not start with /`;
  const words = refWords(text.slice(1));
  let node: Json | undefined = registered.find((c) => c.name === words[0]);
  if (!node) return `"${text}": no slash command /${words[0]}`;
  let i = 1;
  // Down through the subcommand group and subcommand (types 2 and 1).
  while (node.options?.some((o) => o.type === 1 || o.type === 2)) {
    const next: Json | undefined = node.options.find((o) => (o.type === 1 || o.type === 2) && o.name === words[i]);
    if (!next) return `"${text}": /${words.slice(0, i).join(" ")} has no subcommand ${words[i] ?? "(none given)"}`;
    node = next;
    i++;
  }
  const options = new Set((node.options ?? []).map((o) => o.name));
  for (const w of words.slice(i)) {
    const m = /^\[?([a-z][a-z0-9-]*):/.exec(w);
    // A word without a name continues the value before it (text with spaces: reason:was wrong).
    if (m && !options.has(m[1]!)) return `"${text}": /${words.slice(0, i).join(" ")} has no option ${m[1]}`;
  }
  return undefined;
}

export type Platform = "discord" | "matrix" | "console" | "exec";

/** What is wrong with a reply's text on a platform (empty when nothing is). */
export function dialectProblems(platform: Platform, text: string): string[] {
  const problems: string[] = [];
  // The console has a /help of its own (for /as, /room, /quit): only /help with an option is Discord's.
  const slashWord = new RegExp(`(^|[\\s\`(>])/(${GROUPS.filter((g) => g !== "help").join("|")}\\b|help command:)`);
  if (platform !== "matrix" && /!dpool\b/i.test(text)) problems.push(`${platform} shows the Matrix prefix: ${text}`);
  if (platform !== "discord" && slashWord.test(text)) problems.push(`${platform} shows a slash command: ${text}`);
  if ((platform === "console" || platform === "exec") && text.includes("`")) problems.push(`${platform} shows backticks: ${text}`);
  // A command quoted as text ("task claim 1", or a usage line) is written in the platform's syntax there.
  if (platform === "discord" || platform === "matrix") {
    for (const p of commandsInText(table, text.replace(/&quot;/g, '"'))) if (p.cmd) problems.push(`${platform} quotes a command as text: "${p.text}"`);
  }
  for (const span of codeSpans(text)) {
    if (platform === "discord") {
      if (span.startsWith("/")) {
        const p = slashProblem(span);
        if (p) problems.push(p);
      } else if (startsWithCommand(span)) problems.push(`discord shows a command as text: \`${span}\``);
    }
    if (platform === "matrix" && startsWithCommand(span)) problems.push(`matrix shows a command without the prefix: \`${span}\``);
  }
  return problems;
}

/** The text a Discord message shows: its content and its embeds' title, description, fields and footer. */
export function discordMessageText(m: {
  content: string;
  embeds: ReadonlyArray<{ title?: string; description?: string; fields?: ReadonlyArray<{ name: string; value: string }>; footer?: { text: string } }>;
}): string {
  return [
    m.content,
    ...m.embeds.flatMap((e) => [e.title ?? "", e.description ?? "", ...(e.fields ?? []).flatMap((f) => [f.name, f.value]), e.footer?.text ?? ""]),
  ]
    .filter((s) => s.length > 0)
    .join("\n");
}
