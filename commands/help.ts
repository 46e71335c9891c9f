// help, derived from the table: every command's usage line, summary, access and examples.
import { ok } from "../src/result.ts";
import { closest } from "../src/core/suggest.ts";
import { formatPolicyValue, POLICY_KEYS, type Policy, type PolicyKey } from "../src/core/policy.ts";
import { arg, type AnyArg } from "./args.ts";
import { commandName, defineCommand, type Access, type AnyCommand } from "./define.ts";
import { doc, type Block, type Doc } from "./doc.ts";
import { usageLine } from "./text.ts";

export interface CommandSummary {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly access: string;
}

export interface CommandDetails extends CommandSummary {
  readonly details?: string | undefined;
  /** It binds a room: the caller also needs the platform's right to manage the room. */
  readonly bindsRoom: boolean;
  readonly examples: readonly string[];
  readonly args: ReadonlyArray<{ name: string; shown: string; description: string; expect: string; optional: boolean }>;
}

export type HelpData =
  | {
      readonly topic: "all";
      readonly groups: readonly GroupSummary[];
      readonly commands: readonly CommandSummary[];
      readonly unknown?: string;
      readonly suggestion?: string;
    }
  | { readonly topic: "group"; readonly group: string; readonly commands: readonly CommandSummary[]; readonly bindsRoom: readonly string[] }
  | ({ readonly topic: "command" } & CommandDetails);

/** Who may run a command, in words: "pool admin", or "anyone; to change it: pool admin". */
export const accessText = (a: Access): string => (typeof a === "string" ? a : `${a.show}; to change it: ${a.change}`);

export const summarize = (c: AnyCommand): CommandSummary => ({ name: commandName(c), usage: usageLine(c), summary: c.summary, access: accessText(c.access) });

/**
 * Help texts write the numbers of the pool's policy as placeholders: `{weightCap}` is the
 * pool's value where help is asked in a pool ("5.00"), and the default, said so, elsewhere and
 * in the command reference ("default 4.00"): a pool may have changed any of them.
 */
export function fillPolicy(text: string, policy?: Policy): string {
  return text.replace(/\{(\w+)\}/g, (whole, key: string) => {
    if (!Object.hasOwn(POLICY_KEYS, key)) throw new Error(`a help text holds ${whole}, which names no policy key`);
    const k = key as PolicyKey;
    return policy ? formatPolicyValue(k, policy[k]) : `default ${formatPolicyValue(k, POLICY_KEYS[k].default)}`;
  });
}

/** A command explained, with the policy's numbers of the pool it is asked in (defaults without one). */
export function describeCommand(c: AnyCommand, policy?: Policy): CommandDetails {
  return {
    ...summarize(c),
    details: c.details === undefined ? undefined : fillPolicy(c.details, policy),
    bindsRoom: c.bindsRoom === true,
    examples: c.examples ?? [],
    args: Object.entries<AnyArg>(c.args).map(([name, a]) => ({
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

/**
 * One short line per group of commands (a table path's first word), for the overview. A test
 * checks that every group of the table has one and that none is left over.
 */
export const GROUP_SUMMARIES: Readonly<Record<string, string>> = {
  help: "This overview, a group's commands, or one command explained",
  pool: "The pool: start or join it, invites, policy, members, summaries",
  task: "Work: post tasks, claim them, report them done, verify",
  project: "Projects: create them, their rooms and coordinators",
  goal: "Goals a project announces, and marks done",
  kind: "Kinds of task and their market weights",
  good: "Goods: add and produce them, request, borrow, subscribe",
  sector: "What each sector of goods took and gave",
  me: "Yours: claims, requests, loans, balance, history, links",
};

export interface GroupSummary {
  readonly group: string;
  readonly summary: string;
  readonly verbs: readonly string[];
}

/** The table's groups in the order it first uses them, with their summaries and verbs. */
export function groupsOf(table: readonly AnyCommand[]): GroupSummary[] {
  const out = new Map<string, string[]>();
  for (const c of table) out.set(c.path[0]!, [...(out.get(c.path[0]!) ?? []), c.path.slice(1).join(" ")]);
  return [...out].map(([group, verbs]) => ({ group, summary: GROUP_SUMMARIES[group] ?? `${group} commands`, verbs: verbs.filter((v) => v !== "") }));
}

export function renderCommandHelp(c: CommandDetails): Doc {
  const blocks: Block[] = [doc.line(doc.cmd(c.usage)), doc.line(`${c.summary}.`)];
  if (c.details) blocks.push(doc.line(doc.muted(c.details)));
  if (c.args.length > 0) {
    blocks.push(doc.list(c.args.map((a) => [doc.strong(a.name), ` — ${a.description}${a.optional ? " (optional)" : ""}: ${a.expect}.`])));
  }
  blocks.push(doc.line(doc.muted(`Who may run it: ${c.access}${c.bindsRoom ? `; it ${BINDS_ROOM_RULE}` : ""}.`)));
  if (c.examples.length === 1) blocks.push(doc.line("Example: ", doc.cmd(c.examples[0]!)));
  if (c.examples.length > 1) blocks.push(doc.line("Examples:"), doc.list(c.examples.map((e) => [doc.cmd(e)])));
  return blocks;
}

/** `help`: one short line per group, and how to ask for more. */
export function renderOverview(groups: readonly GroupSummary[]): Doc {
  return [
    doc.heading("d-pool commands"),
    doc.list(groups.map((g) => [doc.strong(g.group), ` — ${g.summary}`])),
    doc.line(
      "A group's commands: ",
      doc.cmd("help <group>"),
      ", e.g. ",
      doc.cmd("help task"),
      ". One command: ",
      doc.cmd("help <command>"),
      ", e.g. ",
      doc.cmd("help task claim"),
      ".",
    ),
    doc.line(
      doc.muted("New here? "),
      doc.cmd("pool create <name>"),
      doc.muted(" starts a pool, "),
      doc.cmd("pool join <code>"),
      doc.muted(" adds a room to one, "),
      doc.cmd("task list"),
      doc.muted(" shows the work."),
    ),
  ];
}

/** `help <group>`: each command's usage and what it does. */
export function renderGroup(group: string, commands: readonly CommandSummary[], bindsRoom: readonly string[] = []): Doc {
  return [
    doc.heading(`${group} commands`),
    doc.list(commands.map((c) => [doc.cmd(c.usage), ` — ${c.summary}.`])),
    ...(bindsRoom.length > 0
      ? [doc.line(doc.muted(`${bindsRoom.join(", ")}: ${bindsRoom.length === 1 ? "it" : "each"} binds the room, so it also ${BINDS_ROOM_RULE}.`))]
      : []),
    doc.line(
      doc.muted("Values with spaces go in double quotes when typed. One command explained: "),
      doc.cmd(`help ${commands[0]?.name ?? group}`),
      doc.muted("."),
    ),
  ];
}

export const helpCommand = defineCommand({
  path: ["help"],
  where: "anywhere",
  summary: "The groups of commands, a group's commands, or one command explained",
  details:
    "Alone it lists the groups of commands, one line each; with a group (help task) it lists that group's commands with their usage; with a command (help task claim) it explains it: its options, who may run it and examples. Each platform shows commands in its own syntax: as slash commands on Discord, with the prefix on Matrix. A mistyped command is explained as the one nearest to it; words that are no command say so, with the nearest group if there is one, then list the groups.",
  access: "anyone",
  mutates: false,
  args: { command: arg.text("A command or group, like pool create or goal", { max: 60, placeholder: "command" }).optional().rest() },
  examples: ["help", "help goal", "help pool create"],
  run: async (ctx, a, env) => {
    // Asked in a pool, details quote that pool's policy; elsewhere its defaults.
    const policy = ctx.pool?.policy;
    const words = a.command?.toLowerCase().split(" ") ?? [];
    if (words.length === 0) return ok<HelpData>({ topic: "all", groups: groupsOf(env.table), commands: env.table.map(summarize) });
    const exact = env.table.find((c) => commandName(c) === words.join(" "));
    if (exact) return ok<HelpData>({ topic: "command", ...describeCommand(exact, policy) });
    // A group, or the first words of several commands (pool admin: add and remove).
    const group = env.table.filter((c) => c.path.length > words.length && words.every((w, i) => c.path[i] === w));
    if (group.length > 0 && (words.length === 1 || group.length > 1))
      return ok<HelpData>({
        topic: "group",
        group: words.join(" "),
        commands: group.map(summarize),
        bindsRoom: group.filter((c) => c.bindsRoom === true).map(commandName),
      });
    const near = closest(words.join(" "), env.table.map(commandName));
    const target = near ? env.table.find((c) => commandName(c) === near) : undefined;
    if (target) return ok<HelpData>({ topic: "command", ...describeCommand(target, policy) });
    // Not a command nor a group: say so, with the nearest command or group, then the list.
    const groups = [...new Set(env.table.map((c) => c.path[0]!))];
    const nearGroup = closest(words[0]!, groups);
    const suggestion = nearGroup ? `help ${nearGroup}` : undefined;
    return ok<HelpData>({
      topic: "all",
      groups: groupsOf(env.table),
      commands: env.table.map(summarize),
      unknown: a.command!,
      ...(suggestion ? { suggestion } : {}),
    });
  },
  render: (d: HelpData) =>
    d.topic === "command"
      ? renderCommandHelp(d)
      : d.topic === "group"
        ? renderGroup(d.group, d.commands, d.bindsRoom)
        : [
            ...(d.unknown === undefined
              ? []
              : [
                  doc.line(
                    `"${d.unknown}" is not a command.`,
                    ...(d.suggestion ? [" Did you mean ", doc.cmd(d.suggestion), "?"] : []),
                    " These are the groups:",
                  ),
                ]),
            ...renderOverview(d.groups),
          ],
  json: (d: HelpData) => d,
});
