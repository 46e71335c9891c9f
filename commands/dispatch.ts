// Runs one command: parse, then one transaction that resolves the caller, checks the request
// id, runs the handler and records the answer. A refusal rolls everything back, so a refused
// command leaves the database exactly as it was. A command that changes nothing runs the same
// steps on the store's read-only view instead (no write lock, beside writes), unless it finds
// that something must be written first (readOnly below). Bugs are caught here once, logged
// with an incident id, and shown to the user as that id.
import type { RandomBytes } from "../src/core/ids.ts";
import { DatabaseBusyError, WriteInReadError, type DomainError } from "../src/errors.ts";
import type { FloodVerdict } from "../src/core/flood.ts";
import { defaultPolicy, readPolicy } from "../src/core/policy.ts";
import { commandFingerprint, FloodGate, floodLimitOf, ownsReply, ownsRequest } from "../src/services/admission.ts";
import { findCaller, inPool, openingQuery, resolveCaller, type Caller, type Ctx } from "../src/services/context.ts";
import { markBoards } from "../src/services/rooms.ts";
import { catchUp, nothingDue, type CaughtUp } from "../src/services/catch-up.ts";
import { didSomething } from "../src/core/outcome.ts";
import type { Logger } from "../src/log.ts";
import type { Store, Tx } from "../src/store.ts";
import type { AnyArg } from "./args.ts";
import type { AnyCommand, CommandDef, Where } from "./define.ts";
import { commandName } from "./define.ts";
import { doc, type Doc } from "./doc.ts";
import { describeDomainError, describeUsageError } from "./errors.ts";
import { parseCommand, type UsageError } from "./text.ts";
import { UTC_VIEW, viewOf, type View } from "./present.ts";

export interface Engine {
  readonly store: Store;
  readonly table: readonly AnyCommand[];
  readonly random: RandomBytes;
  /** Called after a command committed (the app delivers queued announcements). */
  readonly afterCommit?: (() => void) | undefined;
  readonly logger?: Logger | undefined;
  /** Flood control (the pool policy's floodCommands per floodSeconds and member); on unless false. */
  readonly floodControl?: boolean | undefined;
}

export interface Invocation {
  readonly caller: Caller;
  /** `console:...`, `discord:<interaction id>`, `matrix:<event id>`. */
  readonly requestId: string;
  readonly now: Date;
  /**
   * The time was given by hand (`dpool exec --at`): before the pool's clock (the latest time
   * recorded in it) it is refused, and nothing changes. Chat platforms and the computer's clock
   * are never refused for their time.
   */
  readonly timeGiven?: boolean;
  /**
   * Where a chat platform's answer goes (JSON, in the platform's terms). When given, the answer
   * is stored as a reply row in the command's own transaction (a refusal's right after the
   * rollback), and a request id that was answered before gets that same answer back: the
   * adapter sends it once, keyed by the request id, however often the command arrives.
   */
  readonly replyTo?: unknown;
  /**
   * The platform itself takes one answer per request: a Discord interaction is answered through
   * its token once, and a second answer is refused by Discord (the adapter checks the token's
   * original message before answering again). Then the answer to a read (a command that changed
   * nothing) is not stored: the adapter sends it directly, and the read writes nothing at all.
   * A preview that a confirmation acts on is stored all the same (its reply row says what to
   * confirm), and so is every refusal and every write's answer. Matrix may deliver one event
   * again after a restart, with nothing on the platform's side to stop a second answer: its
   * adapter leaves this unset, so every answer there is stored and sent once from its row.
   */
  readonly platformAnswersOnce?: boolean;
}

/** An answer as stored in a reply row: enough to render it again exactly. */
export type StoredReply =
  | { readonly ok: true; readonly command: string; readonly data: unknown; readonly timeZone?: string }
  | { readonly ok: false; readonly code: string; readonly command?: string | undefined; readonly message: string };

export type Reply<D = unknown> =
  | {
      readonly ok: true;
      readonly command: string;
      /**
       * The command that answered, as the table declares it: what each platform adds to the
       * answer (buttons, charts, its card, a compact table) comes from it (see define.ts:
       * actionsOf, attachmentsOf, cardOf, compactOf), never from the command's name.
       */
      readonly def: CommandDef<Record<string, AnyArg>, D, Where>;
      /** The command's own data, as `run` returned it (through JSON, as stored): what `def` reads. */
      readonly result: D;
      /** What `--json` shows as `data` (`def.json(result)`). */
      readonly data: unknown;
      readonly doc: Doc;
      readonly replayed: boolean;
      /** How it is shown (the pool's time zone): the doc is rendered in it, and adapters draw its charts in it. */
      readonly view: View;
    }
  | {
      readonly ok: false;
      /** "usage" for input that does not parse, "internal" for bugs, else the refusal's kind. */
      readonly code: string;
      readonly command?: string | undefined;
      readonly message: string;
      readonly doc: Doc;
      /**
       * Flood control: the member was told to wait already, so nothing is stored and adapters
       * answer nothing at all (a command line still says why).
       */
      readonly quiet?: true;
    };

class Refusal extends Error {
  constructor(readonly error: DomainError) {
    super(error.kind);
  }
}

/** A command of a member who was told to wait and has not: ignored, nothing stored. */
class Ignored extends Error {
  constructor(readonly waitMs: number) {
    super("rate_limited");
  }
}

/**
 * Flood control's counts, one gate per engine (so per process: see src/services/admission.ts).
 * Kept beside the engine rather than in it, so every way of building an engine gets one.
 */
const gates = new WeakMap<Engine, FloodGate>();
export function floodGate(engine: Engine): FloodGate {
  let gate = gates.get(engine);
  if (!gate) gates.set(engine, (gate = new FloodGate()));
  return gate;
}

/** Turns an answer away (throws) when its member is over the pool's flood limit; looks the member up. */
async function admit(engine: Engine, tx: Tx, inv: Invocation): Promise<void> {
  if (engine.floodControl === false) return;
  enforce(await floodGate(engine).admit(tx, inv.caller, inv.now.getTime()));
}

/**
 * The same for a command whose caller is resolved: its member and pool policy are at hand. The
 * throw rolls back what resolving the caller wrote (a new member, a membership).
 */
function admitResolved(engine: Engine, inv: Invocation, ctx: Ctx): void {
  if (engine.floodControl === false) return;
  enforce(floodGate(engine).admitKnown(inv.caller, ctx.member.id, floodLimitOf(ctx.pool?.policy ?? defaultPolicy()), inv.now.getTime()));
}

function enforce(v: FloodVerdict): void {
  if (v.verdict === "tell") throw new Refusal({ kind: "rate_limited", waitMs: v.waitMs });
  if (v.verdict === "quiet") throw new Ignored(v.waitMs);
}

function ignoredReply(waitMs: number, command?: string): Reply & { ok: false } {
  const message = describeDomainError({ kind: "rate_limited", waitMs });
  return { ok: false, code: "rate_limited", command, message, doc: [doc.line(doc.bad("✗ "), message)], quiet: true };
}

export function usageReply(e: UsageError): Reply & { ok: false } {
  const message = describeUsageError(e);
  return { ok: false, code: "usage", command: e.command ? commandName(e.command) : undefined, message, doc: [doc.line(doc.bad("✗ "), message)] };
}

/** Parses a line of text and runs it. */
export async function runText(engine: Engine, inv: Invocation, text: string): Promise<Reply> {
  const parsed = parseCommand(engine.table, text);
  if (!parsed.ok) return refuse(engine, inv, usageReply(parsed.error));
  return execute(engine, inv, parsed.command, parsed.values);
}

/**
 * The answer an adapter could not even run (bad input, no right to bind the room...), stored
 * like any answer. It counts as a command for flood control.
 */
export async function refuse(engine: Engine, inv: Invocation, reply: Reply & { ok: false }): Promise<Reply> {
  return storeRefusal(engine, inv, reply, { admit: true });
}

async function storeRefusal(engine: Engine, inv: Invocation, reply: Reply & { ok: false }, o: { admit: boolean; fingerprint?: string }): Promise<Reply> {
  if (inv.replyTo === undefined) return reply;
  const earlier = await engine.store.transaction(async (tx) => {
    const before = await tx.reply(inv.requestId);
    if (before) return ownsReply(before, inv.caller, o.fingerprint ?? null) ? before : ("reused" as const);
    let answer = reply;
    if (o.admit) {
      try {
        await admit(engine, tx, inv);
      } catch (e) {
        if (e instanceof Ignored) return ignoredReply(e.waitMs, reply.command);
        if (!(e instanceof Refusal)) throw e;
        const message = describeDomainError(e.error);
        answer = { ok: false, code: e.error.kind, command: reply.command, message, doc: [doc.line(doc.bad("✗ "), message)] };
      }
    }
    await storeReply(tx, inv, { ok: false, code: answer.code, command: answer.command, message: answer.message }, o.fingerprint ?? null);
    return answer;
  });
  if (earlier === "reused") return reusedReply(reply.command);
  return "body" in earlier ? replyFromStored(engine.table, earlier.body, true) : earlier;
}

function reusedReply(command?: string): Reply & { ok: false } {
  const message = describeDomainError({ kind: "request_reused" });
  return { ok: false, code: "request_reused", command, message, doc: [doc.line(doc.bad("✗ "), message)] };
}

async function storeReply(tx: Tx, inv: Invocation, body: StoredReply | string, fingerprint: string | null): Promise<void> {
  await tx.insertReply({
    requestId: inv.requestId,
    platform: inv.caller.platform,
    target: JSON.stringify(inv.replyTo ?? null),
    body: typeof body === "string" ? body : JSON.stringify(body),
    createdAt: inv.now.getTime(),
    userId: inv.caller.userId,
    fingerprint,
  });
}

/** Renders a stored answer (a reply row's body) as the Reply it was. */
export function replyFromStored(table: readonly AnyCommand[], body: string, replayed = false): Reply {
  const s = JSON.parse(body) as StoredReply;
  if (!s.ok) return { ok: false, code: s.code, command: s.command, message: s.message, doc: [doc.line(doc.bad("✗ "), s.message)] };
  const def = table.find((c) => commandName(c) === s.command);
  if (!def) throw new Error(`a stored reply names the unknown command "${s.command}"`);
  // Shown in the time zone the answer was first given in (rows from before it was kept: UTC).
  const view = viewOf(s.timeZone === undefined ? undefined : { timezone: s.timeZone });
  return { ok: true, command: s.command, def, result: s.data, data: def.json(s.data), doc: def.render(s.data, view), replayed, view };
}

/** The refusal shown when the database stayed locked by another process: try again, nothing changed. */
export const BUSY_MESSAGE = "the pool's database is busy right now (another d-pool process is holding it); nothing was changed. Please try again in a moment.";

/** The view of the pool the caller's room belongs to (pool create and join bind it during the command); UTC for none. */
async function roomView(tx: Tx, caller: Caller): Promise<View> {
  const room = await tx.room(caller.platform, caller.roomId);
  const pool = room ? await tx.pool(room.poolId) : undefined;
  return pool ? viewOf(readPolicy(pool.policy)) : UTC_VIEW;
}

/** Runs an already parsed (and validated) command. */
export async function execute(engine: Engine, inv: Invocation, command: AnyCommand, values: Record<string, unknown>): Promise<Reply> {
  const name = commandName(command);
  const mutates = typeof command.mutates === "function" ? command.mutates(values) : command.mutates;
  const fingerprint = commandFingerprint(name, values);
  const now = inv.now.getTime();
  if (!Number.isFinite(now)) throw new Error("invocation time is not a valid date");
  // Times in the answer (and in a refusal) are shown in the pool's time zone; UTC outside a pool.
  let view: View = UTC_VIEW;
  try {
    // A read runs on the read-only view, beside writes and without waiting for the write lock,
    // unless it finds that something must be written first; then it runs as a write.
    const read = mutates ? undefined : await readOnly(engine, inv, command, values, fingerprint, (v) => (view = v));
    let outcome: Outcome | undefined = read?.outcome;
    if (outcome && !("answered" in outcome) && inv.replyTo !== undefined && !(inv.platformAnswersOnce === true && command.confirm === undefined))
      outcome = await storeReadReply(engine, inv, { replayed: false, command: outcome.command, data: outcome.data }, fingerprint, view);
    // Flood control counts the command once, although the store may run the transaction's
    // function again (PostgreSQL retries it after a serialization failure).
    let admitted = read?.admitted ?? false;
    outcome ??= await engine.store.transaction(async (tx): Promise<Outcome> => {
      // A request id is its caller's: the stored answer goes only to the same member for the
      // same command; replays are not counted by flood control.
      // What the command reads first, in one query: its request id's rows, the caller, the
      // room and pool, and what has come due.
      const first = await tx.opening(openingQuery(inv.caller, inv.requestId, inv.replyTo !== undefined));
      const answered = first.reply;
      if (answered) {
        if (!ownsReply(answered, inv.caller, fingerprint)) throw new Refusal({ kind: "request_reused" });
        return { replayed: true as const, answered: answered.body };
      }
      const earlier = first.request;
      if (earlier) {
        if (!mutates || !(await ownsRequest(tx, earlier, inv.caller, name, fingerprint))) throw new Refusal({ kind: "request_reused" });
        view = await roomView(tx, inv.caller);
        return { replayed: true as const, command: earlier.command, data: JSON.parse(earlier.reply) as unknown };
      }
      const ctx = await resolveCaller(tx, inv.caller, { now, requestId: inv.requestId, random: engine.random }, first);
      // Counted once: a read that was admitted and then wanted to write is not counted again.
      if (!admitted) {
        admitResolved(engine, inv, ctx);
        admitted = true;
      }
      if (ctx.pool) view = viewOf(ctx.pool.policy);
      // Time only moves forward: a time given by hand may not go back before the pool's clock.
      const clock = ctx.pool?.row.clock ?? 0;
      if (inv.timeGiven && now < clock) throw new Refusal({ kind: "clock_behind", clock });
      // Every command of a pool, reads too, sees it as of now: what came due (claims that ran
      // out, rounds and periods that ended) is done first, as of its own time, in this
      // transaction (a refusal takes it back with the rest).
      const caught = ctx.pool ? await catchUp(tx, now, first.deadlines) : undefined;
      if (caught) {
        // That decided every pool up to now: none of their clocks may stay before it.
        if (didSomething(caught)) await tx.advanceClock(now);
        // Slots of claims that ran out are open again: those pools' boards change.
        for (const poolId of new Set(caught.released.map((r) => r.pool))) await markBoards(tx, poolId, now);
      }
      // Caught up just now: the command's services need not look for anything due again.
      let runCtx: Ctx = caught ? { ...ctx, caughtUp: true } : ctx;
      if (command.where === "pool") {
        const pooled = inPool(runCtx);
        if (!pooled.ok) throw new Refusal(pooled.error);
        runCtx = pooled.value;
      }
      const result = await command.run(runCtx, values, { table: engine.table, caughtUp: caught });
      if (!result.ok) throw new Refusal(result.error);
      // A command outside a pool may have just bound the room to one (pool create, pool join).
      if (!ctx.pool) view = await roomView(tx, inv.caller);
      // Stored as JSON and rendered from the stored copy, so a replay answers exactly the same.
      const stored = JSON.stringify(result.value ?? null);
      // The pool's clock moves to the time of every command that changed something in it (the
      // room's pool, also one this command created or joined); a read records nothing. Rooms'
      // live boards follow every change of tasks, weights or rooms: marked in the same
      // statement, rebuilt after the commit at delivery time, once for a burst of commands
      // (services/rooms.ts).
      if (mutates) {
        const poolId = ctx.pool?.row.id ?? (await tx.room(inv.caller.platform, inv.caller.roomId))?.poolId;
        if (poolId !== undefined) await tx.touchPool(poolId, now, { boards: command.changesBoards === true });
      }
      if (mutates) await tx.insertRequest({ requestId: inv.requestId, command: name, memberId: ctx.member.id, reply: stored, createdAt: now, fingerprint });
      if (inv.replyTo !== undefined)
        await storeReply(tx, inv, `{"ok":true,"command":${JSON.stringify(name)},"data":${stored},"timeZone":${JSON.stringify(view.timeZone)}}`, fingerprint);
      return { replayed: false as const, command: name, data: JSON.parse(stored) as unknown };
    });
    engine.afterCommit?.();
    if ("answered" in outcome) return replyFromStored(engine.table, outcome.answered, true);
    const def = engine.table.find((c) => commandName(c) === outcome.command) ?? command;
    return {
      ok: true,
      command: outcome.command,
      def,
      result: outcome.data,
      data: def.json(outcome.data),
      doc: def.render(outcome.data, view),
      replayed: outcome.replayed,
      view,
    };
  } catch (e) {
    if (e instanceof Ignored) return ignoredReply(e.waitMs, name);
    if (e instanceof Refusal) {
      // Another caller's request id: their answer stays theirs, and nothing is stored under it.
      if (e.error.kind === "request_reused") return reusedReply(name);
      const message = describeDomainError(e.error, view);
      return refuseSafely(engine, inv, { ok: false, code: e.error.kind, command: name, message, doc: [doc.line(doc.bad("✗ "), message)] }, fingerprint);
    }
    if (e instanceof DatabaseBusyError) {
      // Operational, not a bug: one line in the log, and the member may simply try again.
      engine.logger?.warn({ platform: inv.caller.platform, requestId: inv.requestId, command: name }, `"${name}" refused: ${e.message}`);
      return { ok: false, code: "busy", command: name, message: BUSY_MESSAGE, doc: [doc.line(doc.bad("✗ "), BUSY_MESSAGE)] };
    }
    const incident = Array.from(engine.random(4), (b) => b.toString(16).padStart(2, "0")).join("");
    engine.logger?.error({ err: e, incident, platform: inv.caller.platform, requestId: inv.requestId, command: name }, `incident ${incident} in "${name}"`);
    const message = `something went wrong on our side (incident ${incident}); nothing was changed. Please tell a pool admin.`;
    return refuseSafely(engine, inv, { ok: false, code: "internal", command: name, message, doc: [doc.line(doc.bad("✗ "), message)] }, fingerprint);
  }
}

/** What a command came to: a stored answer given again, or the command's data (as stored). */
type Answered = { readonly replayed: false; readonly command: string; readonly data: unknown };
type Outcome = { readonly replayed: true; readonly answered: string } | { readonly replayed: boolean; readonly command: string; readonly data: unknown };

/** On the read path: the command must run as a write after all (the reason is in the comment where it is thrown). */
class MustWrite extends Error {
  constructor() {
    super("must_write");
  }
}

/** What a caught-up pool shows when nothing was due: nothing done. */
const NOTHING_CAUGHT: CaughtUp = { released: [], rounds: [], settled: [], overdue: [] };

/**
 * Runs a command that changes nothing on the store's read-only view (Store.read): it takes no
 * write lock and waits for no write, in this process or another. The same steps as the write
 * path, reading only; undefined when the read finds that something must be written first (the
 * caller is new, or new to the pool, or speaks in a room that was unreachable; something came
 * due, which catching up would do and then move the pools' clocks; the command wrote after all,
 * such as a member mentioned for the first time): then it runs as a write. `admitted` says
 * whether flood control counted it already. Refusals are thrown as on the write path.
 */
async function readOnly(
  engine: Engine,
  inv: Invocation,
  command: AnyCommand,
  values: Record<string, unknown>,
  fingerprint: string,
  seeView: (view: View) => void,
): Promise<{ outcome: Outcome | undefined; admitted: boolean }> {
  const now = inv.now.getTime();
  let admitted = false;
  try {
    const outcome = await engine.store.read(async (tx): Promise<Outcome> => {
      const first = await tx.opening(openingQuery(inv.caller, inv.requestId, inv.replyTo !== undefined));
      const answered = first.reply;
      if (answered) {
        if (!ownsReply(answered, inv.caller, fingerprint)) throw new Refusal({ kind: "request_reused" });
        return { replayed: true, answered: answered.body };
      }
      // A request id recorded by a command that changed something is never a read's.
      if (first.request) throw new Refusal({ kind: "request_reused" });
      const ctx = await findCaller(tx, inv.caller, { now, requestId: inv.requestId, random: engine.random }, first);
      if (!ctx) throw new MustWrite();
      // Something came due: catching up writes (and moves the clocks), so it runs as a write.
      if (ctx.pool && !nothingDue(first.deadlines, now)) throw new MustWrite();
      admitResolved(engine, inv, ctx);
      admitted = true;
      if (ctx.pool) seeView(viewOf(ctx.pool.policy));
      const clock = ctx.pool?.row.clock ?? 0;
      if (inv.timeGiven && now < clock) throw new Refusal({ kind: "clock_behind", clock });
      let runCtx: Ctx = ctx;
      if (command.where === "pool") {
        const pooled = inPool(ctx);
        if (!pooled.ok) throw new Refusal(pooled.error);
        runCtx = pooled.value;
      }
      const result = await command.run(runCtx, values, { table: engine.table, caughtUp: ctx.pool ? NOTHING_CAUGHT : undefined });
      if (!result.ok) throw new Refusal(result.error);
      // Through JSON, as the write path stores it, so the answer is the same either way.
      return { replayed: false, command: commandName(command), data: JSON.parse(JSON.stringify(result.value ?? null)) as unknown };
    });
    return { outcome, admitted };
  } catch (e) {
    // Busy on the read-only view (rare: WAL upkeep): the write path waits for it properly.
    if (e instanceof MustWrite || e instanceof WriteInReadError || e instanceof DatabaseBusyError) return { outcome: undefined, admitted };
    throw e;
  }
}

/**
 * A chat platform's answer to a read is stored like any other (the adapter sends it once, from
 * its reply row, however often the platform delivers the request): after the read, in a short
 * write transaction of its own. If the same request was answered meanwhile (delivered twice at
 * once), that first answer is the answer. Not on a platform that takes one answer per request
 * (Invocation.platformAnswersOnce: Discord): there a read writes nothing. Matrix handles its
 * events one after another, so a commit shared by the answers of several reads (a group commit)
 * would hold one answer nearly always: each is stored in its own, as before.
 */
async function storeReadReply(engine: Engine, inv: Invocation, outcome: Answered, fingerprint: string, view: View): Promise<Outcome> {
  const body = `{"ok":true,"command":${JSON.stringify(outcome.command)},"data":${JSON.stringify(outcome.data)},"timeZone":${JSON.stringify(view.timeZone)}}`;
  const earlier = await engine.store.transaction(async (tx) => {
    const before = await tx.reply(inv.requestId);
    if (before) return before;
    if (await tx.request(inv.requestId)) throw new Refusal({ kind: "request_reused" });
    await storeReply(tx, inv, body, fingerprint);
    return undefined;
  });
  if (!earlier) return outcome;
  if (!ownsReply(earlier, inv.caller, fingerprint)) throw new Refusal({ kind: "request_reused" });
  return { replayed: true, answered: earlier.body };
}

/** Stores a refusal as the request's answer; if even that fails, the refusal is still shown. */
async function refuseSafely(engine: Engine, inv: Invocation, reply: Reply & { ok: false }, fingerprint: string): Promise<Reply> {
  try {
    return await storeRefusal(engine, inv, reply, { admit: false, fingerprint });
  } catch (e) {
    engine.logger?.error({ err: e, platform: inv.caller.platform, requestId: inv.requestId }, "could not store the answer to a command");
    return reply;
  }
}
