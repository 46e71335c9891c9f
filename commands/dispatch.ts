// Runs one command: parse, then one transaction that resolves the caller, checks the request
// id, runs the handler and records the answer. A refusal rolls everything back, so a refused
// command leaves the database exactly as it was. Bugs are caught here once, logged with an
// incident id, and shown to the user as that id.
import type { RandomBytes } from "../src/core/ids.ts";
import type { DomainError } from "../src/errors.ts";
import { inPool, resolveCaller, type Caller, type Ctx, type PoolCtx } from "../src/services/context.ts";
import { refreshBoards } from "../src/services/rooms.ts";
import type { Store } from "../src/store.ts";
import type { AnyCommand } from "./define.ts";
import { commandName } from "./define.ts";
import { doc, type Doc } from "./doc.ts";
import { describeDomainError, describeUsageError } from "./errors.ts";
import { parseCommand, type UsageError } from "./text.ts";

export interface Engine {
  readonly store: Store;
  readonly table: readonly AnyCommand[];
  readonly random: RandomBytes;
  /** Called after a command committed (the app delivers queued announcements). */
  readonly afterCommit?: () => void;
  readonly log?: (msg: string, err?: unknown) => void;
}

export interface Invocation {
  readonly caller: Caller;
  /** `console:...`, `discord:<interaction id>`, `matrix:<event id>`. */
  readonly requestId: string;
  readonly now: Date;
}

export type Reply =
  | { readonly ok: true; readonly command: string; readonly data: unknown; readonly doc: Doc; readonly replayed: boolean }
  | {
      readonly ok: false;
      /** "usage" for input that does not parse, "internal" for bugs, else the refusal's kind. */
      readonly code: string;
      readonly command?: string;
      readonly message: string;
      readonly doc: Doc;
    };

class Refusal extends Error {
  constructor(readonly error: DomainError) {
    super(error.kind);
  }
}

export function usageReply(e: UsageError): Reply {
  const message = describeUsageError(e);
  return { ok: false, code: "usage", command: e.command ? commandName(e.command) : undefined, message, doc: [doc.line(doc.bad("✗ "), message)] };
}

/** Parses a line of text and runs it. */
export async function runText(engine: Engine, inv: Invocation, text: string): Promise<Reply> {
  const parsed = parseCommand(engine.table, text);
  if (!parsed.ok) return usageReply(parsed.error);
  return execute(engine, inv, parsed.command, parsed.values);
}

/** Runs an already parsed (and validated) command. */
export async function execute(engine: Engine, inv: Invocation, command: AnyCommand, values: Record<string, unknown>): Promise<Reply> {
  const name = commandName(command);
  const mutates = typeof command.mutates === "function" ? command.mutates(values) : command.mutates;
  const now = inv.now.getTime();
  if (!Number.isFinite(now)) throw new Error("invocation time is not a valid date");
  try {
    const outcome = await engine.store.transaction(async (tx) => {
      if (mutates) {
        const earlier = await tx.request(inv.requestId);
        if (earlier) return { replayed: true as const, command: earlier.command, data: JSON.parse(earlier.reply) as unknown };
      }
      const ctx = await resolveCaller(tx, inv.caller, { now, requestId: inv.requestId, random: engine.random });
      let runCtx: Ctx = ctx;
      if (command.where === "pool") {
        const pooled = inPool(ctx);
        if (!pooled.ok) throw new Refusal(pooled.error);
        runCtx = pooled.value;
      }
      const result = await command.run(runCtx as PoolCtx, values, { table: engine.table });
      if (!result.ok) throw new Refusal(result.error);
      // Stored as JSON and rendered from the stored copy, so a replay answers exactly the same.
      const stored = JSON.stringify(result.value ?? null);
      if (mutates && command.changesBoards) {
        // Rooms' live boards follow every change of tasks, weights or rooms.
        const room = ctx.room ?? (await tx.room(inv.caller.platform, inv.caller.roomId));
        if (room) await refreshBoards(tx, room.poolId, now);
      }
      if (mutates) await tx.insertRequest({ requestId: inv.requestId, command: name, memberId: ctx.member.id, reply: stored, createdAt: now });
      return { replayed: false as const, command: name, data: JSON.parse(stored) as unknown };
    });
    engine.afterCommit?.();
    const def = engine.table.find((c) => commandName(c) === outcome.command) ?? command;
    return { ok: true, command: outcome.command, data: def.json(outcome.data), doc: def.render(outcome.data), replayed: outcome.replayed };
  } catch (e) {
    if (e instanceof Refusal) {
      const message = describeDomainError(e.error);
      return { ok: false, code: e.error.kind, command: name, message, doc: [doc.line(doc.bad("✗ "), message)] };
    }
    const incident = Array.from(engine.random(4), (b) => b.toString(16).padStart(2, "0")).join("");
    engine.log?.(`incident ${incident} in "${name}"`, e);
    const message = `something went wrong on our side (incident ${incident}); nothing was changed. Please tell a pool admin.`;
    return { ok: false, code: "internal", command: name, message, doc: [doc.line(doc.bad("✗ "), message)] };
  }
}
