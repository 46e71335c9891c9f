// help, derived from the table: every command's usage line, summary, access and examples.
import { ok } from "../src/result.ts";
import { closest } from "../src/core/suggest.ts";
import { arg, type AnyArg } from "./args.ts";
import { commandName, defineCommand, type AnyCommand } from "./define.ts";
import { doc, type Block, type Doc } from "./doc.ts";
import { usageLine } from "./text.ts";

export interface CommandSummary {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly access: string;
}

export interface CommandDetails extends CommandSummary {
  readonly details?: string;
  /** It binds a room: the caller also needs the platform's right to manage the room. */
  readonly bindsRoom: boolean;
  readonly examples: readonly string[];
  readonly args: ReadonlyArray<{ name: string; shown: string; description: string; expect: string; optional: boolean }>;
}

export type HelpData =
  | { readonly topic: "all" | "group"; readonly group?: string; readonly commands: readonly CommandSummary[]; readonly unknown?: string; readonly suggestion?: string }
  | ({ readonly topic: "command" } & CommandDetails);

export const summarize = (c: AnyCommand): CommandSummary => ({ name: commandName(c), usage: usageLine(c), summary: c.summary, access: c.access });

export function describeCommand(c: AnyCommand): CommandDetails {
  return {
    ...summarize(c),
    details: c.details,
    bindsRoom: c.bindsRoom === true,
    examples: c.examples ?? [],
    args: (Object.entries(c.args) as Array<[string, AnyArg]>).map(([name, a]) => ({
      name,
      shown: a.spec.positional ? `<${a.spec.placeholder}>` : `${name}:<${a.spec.placeholder}>`,
      description: a.spec.description,
      expect: a.spec.expect,
      optional: a.spec.optional,
    })),
  };
}

/** What a room-binding command needs besides its access, on each platform. */
export const BINDS_ROOM_RULE = "needs the right to manage the room: Manage Channels on Discord, the power to change room settings on Matrix";

export function renderCommandHelp(c: CommandDetails): Doc {
  const blocks: Block[] = [doc.line(doc.code(c.usage)), doc.line(`${c.summary}.`)];
  if (c.details) blocks.push(doc.line(doc.muted(c.details)));
  if (c.args.length > 0) {
    blocks.push(doc.list(c.args.map((a) => [doc.strong(a.shown), ` ${a.description}${a.optional ? " (optional)" : ""}: ${a.expect}.`])));
  }
  blocks.push(doc.line(doc.muted(`Who may run it: ${c.access}${c.bindsRoom ? `; it ${BINDS_ROOM_RULE}` : ""}.`)));
  if (c.examples.length > 0) blocks.push(doc.line("Examples: ", ...c.examples.flatMap((e, i) => (i === 0 ? [doc.code(e)] : [", ", doc.code(e)]))));
  return blocks;
}

export function renderOverview(commands: readonly CommandSummary[], group?: string): Doc {
  return [
    doc.heading(group ? `${group} commands` : "d-pool commands"),
    doc.table(
      ["command", "what it does"],
      commands.map((c) => [c.usage, c.summary]),
    ),
    doc.line(doc.muted("Values with spaces go in double quotes, and so do words such as hours:2 meant as text (each option is given once). For more on one command type "), doc.code("help <command>"), doc.muted(", e.g. "), doc.code("help pool create"), doc.muted(".")),
  ];
}

export const helpCommand = defineCommand({
  path: ["help"],
  where: "anywhere",
  summary: "List the commands, or explain one",
  details: "A mistyped command is explained as the one nearest to it; words that are no command say so, with the nearest group if there is one, and then list every command.",
  access: "anyone",
  mutates: false,
  args: { command: arg.text("A command or group, like pool create or goal", { max: 60, placeholder: "command" }).optional().rest() },
  examples: ["help", "help goal", "help pool create"],
  run: async (_ctx, a, env) => {
    const words = a.command?.toLowerCase().split(" ") ?? [];
    if (words.length === 0) return ok<HelpData>({ topic: "all", commands: env.table.map(summarize) });
    const exact = env.table.find((c) => commandName(c) === words.join(" "));
    if (exact) return ok<HelpData>({ topic: "command", ...describeCommand(exact) });
    const group = env.table.filter((c) => c.path[0] === words[0]);
    if (group.length > 0 && words.length === 1) return ok<HelpData>({ topic: "group", group: words[0], commands: group.map(summarize) });
    const near = closest(words.join(" "), env.table.map(commandName));
    const target = near ? env.table.find((c) => commandName(c) === near) : undefined;
    if (target) return ok<HelpData>({ topic: "command", ...describeCommand(target) });
    // Not a command nor a group: say so, with the nearest command or group, then the list.
    const groups = [...new Set(env.table.map((c) => c.path[0]!))];
    const nearGroup = closest(words[0]!, groups);
    const suggestion = nearGroup ? `help ${nearGroup}` : undefined;
    return ok<HelpData>({ topic: "all", commands: env.table.map(summarize), unknown: a.command!, ...(suggestion ? { suggestion } : {}) });
  },
  render: (d: HelpData) =>
    d.topic === "command"
      ? renderCommandHelp(d)
      : [
          ...(d.unknown === undefined
            ? []
            : [doc.line(`"${d.unknown}" is not a command.`, ...(d.suggestion ? [" Did you mean ", doc.code(d.suggestion), "?"] : []), " These are:")]),
          ...renderOverview(d.commands, d.group),
        ],
  json: (d: HelpData) => d,
});
