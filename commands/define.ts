// How a command is declared: once, with everything the parser, help, the dispatcher and
// (later) Discord's slash-command JSON need. Handlers get the core's narrow context, never a
// platform object.
import type { DomainError } from "../src/errors.ts";
import type { Result } from "../src/result.ts";
import type { CaughtUp } from "../src/services/catch-up.ts";
import type { Ctx, PoolCtx } from "../src/services/context.ts";
import type { AnyArg, ArgValues } from "./args.ts";
import type { Doc } from "./doc.ts";
import type { View } from "./present.ts";

/** A role a command may need; refusals name the one that was missing. */
export type AccessRole = "anyone" | "pool admin" | "coordinator of the project" | "coordinator of the project or pool admin";

/**
 * Who may run a command: one role, or for a command that shows something to anyone and changes
 * it only for some (pool policy with a value, pool announcements with on|off), the role that
 * changes it. The services enforce it (requireAdmin, requireCoordinator), help shows it
 * (accessText in commands/help.ts), and test/unit/commands/access.test.ts runs every command
 * of the table as every role and checks that it is refused exactly when this says so.
 */
export type Access = AccessRole | { readonly show: "anyone"; readonly change: AccessRole };

export interface CommandEnv {
  /** The whole table, for commands that describe the others (help). */
  readonly table: readonly AnyCommand[];
  /** What came due and was done as this command began (commands of a pool; see services/catch-up.ts). */
  readonly caughtUp?: CaughtUp | undefined;
}

/** Where a command works: in a room of a pool (most), or in any room (help, pool create, me link). */
export type Where = "pool" | "anywhere";

export interface CommandDef<A extends Record<string, AnyArg>, D, W extends Where = Where> {
  readonly path: readonly string[];
  /** "pool" commands are refused in rooms of no pool before they run, and get the pool's context. */
  readonly where: W;
  readonly summary: string;
  /** A few sentences for `help <command>`: what happens and the rules behind it. */
  readonly details?: string;
  readonly access: Access;
  /** Mutating commands record their answer by request id; a replay returns it. */
  readonly mutates: boolean | ((args: ArgValues<A>) => boolean);
  readonly args: A;
  /**
   * True where a room's task board may read differently afterwards (tasks, their weights, a
   * room's project): the dispatcher refreshes the pool's boards in the command's transaction.
   */
  readonly changesBoards?: boolean;
  /** Replies that show one member's own data (balance, history, link codes): only they see them. */
  readonly personal?: boolean;
  /**
   * Works in a direct message with the bot too (Matrix), for the member's one pool: the member's
   * own things and what they need to see to pick them. Personal commands always do.
   */
  readonly direct?: boolean;
  /**
   * True for commands that bind a room to a pool or a project (pool create, pool join, project
   * room): besides `access`, the caller needs the platform's right to manage the room (Discord:
   * Manage Channels; Matrix: the power to change room settings). Each adapter checks it before
   * the command runs; help shows it.
   */
  readonly bindsRoom?: boolean;
  readonly examples?: readonly string[];
  /**
   * A command that shows before it acts (pool correct): given the data of a preview it answered
   * (as `run` returned it), the values that make it act; undefined when the data is no preview.
   * Discord's confirm button and Matrix's ✅ reaction on the preview run them, for the member
   * who asked for the preview only (commands/confirm.ts).
   */
  readonly confirm?: (data: D) => ArgValues<A> | undefined;
  /** The words on a preview's confirm button (Discord), when "Confirm" says too little. */
  readonly confirmLabel?: (data: D) => string;
  /**
   * A short, stable name of the command for buttons (Discord keeps a button's id for as long as
   * its message lives, so a key is never changed or given to another command). Only commands
   * that an action runs need one.
   */
  readonly key?: string | undefined;
  /**
   * What the answer offers to do next, each a command of the table with its values: Discord
   * shows them as buttons under the answer. Read from the command's own data, so a renamed
   * field is a type error here and not a button that silently goes missing.
   */
  readonly actions?: (data: D) => readonly Action[];
  /** Files that go with the answer (pool summary: a chart per project), drawn in the answer's view. */
  readonly attachments?: (data: D, view: View) => readonly Attachment[];
  /** How a platform frames the answer (Discord: the embed's colour); the default is an ordinary answer. */
  readonly card?: (data: D) => Card;
  /**
   * The answer as a compact table with a short hint, for platforms that show tables well
   * (Matrix); null when there is nothing to tabulate (the text answer is shown then).
   */
  readonly compact?: (data: D) => Doc | null;
  readonly run: (ctx: W extends "pool" ? PoolCtx : Ctx, args: ArgValues<A>, env: CommandEnv) => Promise<Result<D, DomainError>>;
  /**
   * The answer as text, a pure function of the stored data and the view (the pool's time zone;
   * see commands/present.ts), so a replay renders exactly as the first answer did.
   */
  readonly render: (data: D, view: View) => Doc;
  /** What `--json` shows as `data`; amounts as weighted hours. */
  readonly json: (data: D) => unknown;
}

// biome-ignore lint: the table holds commands of many argument and result types
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
export type AnyCommand = CommandDef<Record<string, AnyArg>, any, Where>;

/**
 * A command of the table that still knows its argument and data types (a type-only mark on
 * the table's entry): actions name such commands with values of their arguments' types, and
 * `resultOf` reads an answer's data as its command's type.
 */
export type Command<A extends Record<string, AnyArg>, D, W extends Where = Where> = AnyCommand & {
  readonly [types]?: { readonly args: A; readonly data: D; readonly where: W };
};
declare const types: unique symbol;

export function defineCommand<A extends Record<string, AnyArg>, D, const W extends Where>(def: CommandDef<A, D, W>): Command<A, D, W> {
  return def as unknown as Command<A, D, W>;
}

// ---------------------------------------------------------------------------------------------
// What platforms add to an answer, declared per command (see actions, attachments, card and
// compact above) and read by the adapters through the functions below, so no adapter looks at
// a command's name or the shape of its data.

export type ActionStyle = "primary" | "success" | "danger" | "secondary";

/** Something an answer offers to do next: run `command` with `values`, as whoever presses it. */
export interface Action {
  readonly command: AnyCommand;
  /** Parsed values, as the command's arguments hold them. */
  readonly values: Readonly<Record<string, unknown>>;
  readonly label: string;
  readonly style: ActionStyle;
}

/** A file that goes with an answer. */
export interface Attachment {
  readonly name: string;
  readonly png: Buffer;
}

/** How an answer is framed: its tone picks the colour of a Discord embed. */
export interface Card {
  readonly tone: "answer" | "task" | "good";
}

/** The values an action gives: every required argument, optional ones as wanted, each of its type. */
export type ActionValues<A extends Record<string, AnyArg>> = { readonly [K in keyof A as undefined extends ArgValues<A>[K] ? never : K]: ArgValues<A>[K] } & {
  readonly [K in keyof A as undefined extends ArgValues<A>[K] ? K : never]?: ArgValues<A>[K];
};

/** An action running `command` with `values`; the command needs a key (buttons name it by that). */
export function action<A extends Record<string, AnyArg>>(
  command: Command<A, unknown>,
  values: ActionValues<A>,
  label: string,
  style: ActionStyle = "primary",
): Action {
  if (command.key === undefined) throw new Error(`"${commandName(command)}" is used in an action but has no key`);
  return { command, values, label, style };
}

/** An answer as the adapters get it (dispatch.ts's ok Reply): the command that answered and its data. */
export interface Answered<D> {
  readonly def: CommandDef<Record<string, AnyArg>, D, Where>;
  readonly result: D;
  readonly view: View;
}

export const actionsOf = <D>(a: Answered<D>): readonly Action[] => a.def.actions?.(a.result) ?? [];
export const attachmentsOf = <D>(a: Answered<D>): readonly Attachment[] => a.def.attachments?.(a.result, a.view) ?? [];
export const cardOf = <D>(a: Answered<D>): Card => a.def.card?.(a.result) ?? { tone: "answer" };
export const compactOf = <D>(a: Answered<D>): Doc | null => a.def.compact?.(a.result) ?? null;
/** A preview (a command that shows before it acts, such as pool correct) and its confirm button's words. */
export function previewOf<D>(a: Answered<D>): { readonly label: string } | undefined {
  if (a.def.confirm?.(a.result) === undefined) return undefined;
  return { label: a.def.confirmLabel?.(a.result) ?? "Confirm" };
}

/** The answer's data as `command`'s type, when `command` gave the answer. */
export function resultOf<A extends Record<string, AnyArg>, D>(
  a: { readonly ok: boolean; readonly def?: AnyCommand; readonly result?: unknown },
  command: Command<A, D>,
): D | undefined {
  return a.ok && a.def === command ? (a.result as D) : undefined;
}

export const commandName = (c: { path: readonly string[] }) => c.path.join(" ");
