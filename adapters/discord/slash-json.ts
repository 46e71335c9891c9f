// Discord's slash commands, derived from the one command table: one top-level command per group,
// a subcommand per verb (a subcommand group for three-word paths such as `project coordinator
// add`), options typed from the argument kinds with their limits, required options first.
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  PermissionFlagsBits,
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandOption,
  type APIApplicationCommandSubcommandGroupOption,
  type APIApplicationCommandSubcommandOption,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord-api-types/v10";
import type { AnyArg } from "../../commands/args.ts";
import { commandName, type AnyCommand } from "../../commands/define.ts";
import { hoursOf } from "../../src/core/amounts.ts";
import { clipUnits } from "./render.ts";

/** Arguments whose values name things of the pool: Discord offers autocomplete for them. */
export const AUTOCOMPLETE: Readonly<Record<string, "project" | "task" | "good" | "kind">> = {
  project: "project",
  task: "task",
  id: "task",
  good: "good",
  kind: "kind",
};

export function clip(text: string, max = 100): string {
  return clipUnits(text, max);
}

/** Which arguments of a command get autocomplete: references to projects, tasks, goods, kinds. */
export function autocompleteOf(command: AnyCommand, name: string): "project" | "task" | "good" | "kind" | undefined {
  const a = command.args[name];
  if (!a) return undefined;
  const ref = AUTOCOMPLETE[name];
  if (!ref) return undefined;
  // `id` is a task only for task commands; goal ids and others stay plain numbers.
  if (name === "id" && command.path[0] !== "task") return undefined;
  if (a.spec.kind !== "slug" && a.spec.kind !== "integer") return undefined;
  return ref;
}

/** The bounds that are set (Discord's types, like its API, take a bound left out, not one given as undefined). */
function defined<T extends Record<string, number | undefined>>(o: T): { [K in keyof T]?: number } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: number };
}

function option(command: AnyCommand, name: string, a: AnyArg): APIApplicationCommandBasicOption {
  const base = { name, description: clip(a.spec.description), required: !a.spec.optional };
  const auto = autocompleteOf(command, name) !== undefined;
  switch (a.spec.kind) {
    case "integer":
      return {
        ...base,
        type: ApplicationCommandOptionType.Integer,
        ...defined({ min_value: a.spec.min, max_value: a.spec.max }),
        ...(auto ? { autocomplete: true } : {}),
      };
    case "hours":
      return { ...base, type: ApplicationCommandOptionType.Number, min_value: hoursOf(a.spec.min ?? 0), max_value: hoursOf(a.spec.max ?? 0) };
    case "member":
      return { ...base, type: ApplicationCommandOptionType.User };
    case "choice":
    case "policyKey": {
      const choices = a.spec.choices ?? [];
      return choices.length <= 25
        ? { ...base, type: ApplicationCommandOptionType.String, choices: choices.map((c) => ({ name: c, value: c })) }
        : { ...base, type: ApplicationCommandOptionType.String, max_length: 32 };
    }
    case "text":
      return { ...base, type: ApplicationCommandOptionType.String, ...defined({ min_length: a.spec.min, max_length: a.spec.max }) };
    case "slug":
      return { ...base, type: ApplicationCommandOptionType.String, max_length: a.spec.max ?? 32, ...(auto ? { autocomplete: true } : {}) };
    case "code":
      return { ...base, type: ApplicationCommandOptionType.String, min_length: 4, max_length: 20 };
    case "date":
      return { ...base, type: ApplicationCommandOptionType.String, max_length: 30 };
  }
}

function options(command: AnyCommand): APIApplicationCommandBasicOption[] {
  const all = Object.entries<AnyArg>(command.args).map(([name, a]) => option(command, name, a));
  // Discord requires every required option before the optional ones.
  return [...all.filter((o) => o.required), ...all.filter((o) => !o.required)];
}

function subcommand(command: AnyCommand, name: string): APIApplicationCommandSubcommandOption {
  return { type: ApplicationCommandOptionType.Subcommand, name, description: clip(command.summary), options: options(command) };
}

/** Commands that work in the bot's DMs: those of any room that bind none (help, me link). */
export const worksInDm = (c: AnyCommand): boolean => c.where === "anywhere" && c.bindsRoom !== true;

/**
 * Where and to whom a top-level command is offered: installed to servers only; in the bot's DMs
 * too when one of its commands works there; and, when every one of its commands binds a room,
 * only to members with Manage Channels (Discord hides it from the others). Mixed groups are
 * offered to all and the adapter checks the right per command.
 */
function offered(
  commands: readonly AnyCommand[],
): Pick<RESTPostAPIChatInputApplicationCommandsJSONBody, "contexts" | "integration_types" | "default_member_permissions"> {
  return {
    integration_types: [ApplicationIntegrationType.GuildInstall],
    contexts: commands.some(worksInDm) ? [InteractionContextType.Guild, InteractionContextType.BotDM] : [InteractionContextType.Guild],
    ...(commands.every((c) => c.bindsRoom === true) ? { default_member_permissions: String(PermissionFlagsBits.ManageChannels) } : {}),
  };
}

/** The bulk-overwrite body for PUT /applications/{app}/commands. */
export function slashCommands(table: readonly AnyCommand[]): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  const groups = new Map<string, AnyCommand[]>();
  for (const c of table) groups.set(c.path[0]!, [...(groups.get(c.path[0]!) ?? []), c]);
  const out: RESTPostAPIChatInputApplicationCommandsJSONBody[] = [];
  for (const [group, commands] of groups) {
    const single = commands.length === 1 && commands[0]!.path.length === 1 ? commands[0]! : undefined;
    if (single) {
      out.push({ type: ApplicationCommandType.ChatInput, name: group, description: clip(single.summary), options: options(single), ...offered(commands) });
      continue;
    }
    const opts: APIApplicationCommandOption[] = [];
    const subgroups = new Map<string, APIApplicationCommandSubcommandGroupOption>();
    for (const c of commands) {
      if (c.path.length === 2) opts.push(subcommand(c, c.path[1]!));
      else if (c.path.length === 3) {
        const name = c.path[1]!;
        let g = subgroups.get(name);
        if (!g) {
          g = {
            type: ApplicationCommandOptionType.SubcommandGroup,
            name,
            description: clip(
              `${group} ${name}: ${commands
                .filter((x) => x.path[1] === name)
                .map((x) => x.path[2])
                .join(", ")}`,
            ),
            options: [],
          };
          subgroups.set(name, g);
          opts.push(g);
        }
        (g.options as APIApplicationCommandSubcommandOption[]).push(subcommand(c, c.path[2]!));
      } else throw new Error(`command "${commandName(c)}" has a path Discord cannot express`);
    }
    const verbs = commands.map((c) => c.path.slice(1).join(" ")).join(", ");
    out.push({
      type: ApplicationCommandType.ChatInput,
      name: group,
      description: clip(`${group[0]!.toUpperCase()}${group.slice(1)} commands: ${verbs}`),
      options: opts,
      ...offered(commands),
    });
  }
  return out;
}

/** The table's command for a slash command invocation, by its name path. */
export function commandForSlash(table: readonly AnyCommand[], name: string, group: string | null, sub: string | null): AnyCommand | undefined {
  const path = [name, ...(group ? [group] : []), ...(sub ? [sub] : [])];
  return table.find((c) => c.path.length === path.length && c.path.every((w, i) => w === path[i]));
}
