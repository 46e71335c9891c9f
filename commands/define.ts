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
  readonly caughtUp?: CaughtUp;
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

export function defineCommand<A extends Record<string, AnyArg>, D, const W extends Where>(def: CommandDef<A, D, W>): AnyCommand {
  return def as unknown as AnyCommand;
}

export const commandName = (c: { path: readonly string[] }) => c.path.join(" ");
