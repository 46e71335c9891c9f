// Before a command runs: does its request id belong to this caller, and may this member send
// one more command now (flood control). Read only: a command turned away here changed nothing.
import { createHash } from "node:crypto";
import { EMPTY_FLOOD, floodIdle, floodVerdict, type FloodLimit, type FloodState, type FloodVerdict } from "../core/flood.ts";
import { defaultPolicy, readPolicy, type Policy } from "../core/policy.ts";
import type { MemberRow, ReplyRow, RequestRow, Tx } from "../store.ts";
import type { Caller } from "./context.ts";
import type { MemberId } from "../core/ids.ts";

/**
 * What makes two commands the same command: the name and the parsed values (so `task claim 3`
 * typed, tapped as a button or sent as a slash command is one command, `task claim 4` another).
 */
export function commandFingerprint(name: string, values: Record<string, unknown>): string {
  const text = `${name}\u0000${canonicalJson(values)}`;
  let hash = fingerprints.get(text);
  if (hash === undefined) {
    hash = createHash("sha256").update(text).digest("base64url").slice(0, 32);
    // The same few commands come again and again (me balance, task list): hashed once each.
    if (fingerprints.size >= FINGERPRINTS_KEPT) fingerprints.clear();
    fingerprints.set(text, hash);
  }
  return hash;
}

const fingerprints = new Map<string, string>();
const FINGERPRINTS_KEPT = 1000;

function canonicalJson(v: unknown): string {
  if (v === undefined) return "null";
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(",")}}`;
}

/** The member behind a platform identity now (following links), without creating anything. */
export async function callerMember(tx: Tx, caller: Caller): Promise<MemberRow | undefined> {
  const identity = await tx.identity(caller.platform, caller.userId);
  return identity ? currentMember(tx, identity.memberId) : undefined;
}

async function currentMember(tx: Tx, id: MemberId): Promise<MemberRow | undefined> {
  let m = await tx.member(id);
  // Bounded: a merge chain never loops, but a damaged database must not hang a command.
  for (let hops = 0; m && m.mergedInto !== null && hops < 1000; hops++) m = await tx.member(m.mergedInto);
  return m;
}

/**
 * Whether a stored answer (a request row) may go to this caller for this command: the same
 * member (an account linked since counts as the same), the same command name and values.
 */
export async function ownsRequest(tx: Tx, row: RequestRow, caller: Caller, name: string, fingerprint: string): Promise<boolean> {
  if (row.command !== name) return false;
  if (row.fingerprint != null && row.fingerprint !== fingerprint) return false;
  if (row.memberId === null) return false;
  const [was, is] = [await currentMember(tx, row.memberId), await callerMember(tx, caller)];
  return was !== undefined && is !== undefined && was.id === is.id;
}

/**
 * Whether a reply row's answer may go to this caller: the same platform user, and the same
 * command when both are known (`fingerprint` is null for input that did not parse).
 */
export function ownsReply(row: ReplyRow, caller: Caller, fingerprint: string | null): boolean {
  if (row.platform !== caller.platform) return false;
  // Rows from before the user was kept: their ids are the platform's event ids, nobody else's.
  if (row.userId != null && row.userId !== caller.userId) return false;
  return row.fingerprint == null || fingerprint === null || row.fingerprint === fingerprint;
}

/** The flood limit a pool's policy sets (the default policy's in a room of no pool). */
export function floodLimitOf(policy: Pick<Policy, "floodCommands" | "floodSeconds">): FloodLimit {
  return { commands: policy.floodCommands, windowMs: policy.floodSeconds * 1000 };
}

/** The flood limit of the caller's room, looked up (for answers given before a command runs). */
export async function floodLimit(tx: Tx, caller: Caller): Promise<FloodLimit> {
  const room = await tx.room(caller.platform, caller.roomId);
  const pool = room ? await tx.pool(room.poolId) : undefined;
  return floodLimitOf(pool ? readPolicy(pool.policy) : defaultPolicy());
}

const identityKey = (caller: Caller) => `identity:${caller.platform}:${caller.userId}`;

/**
 * Flood control's memory: per member, the commands admitted in the window. It lives in the
 * process (the dispatcher's engine), not in the database: a refused or ignored command writes
 * nothing, and every bot process counts what it runs itself. Keyed by member, so linked accounts
 * on several platforms share one budget; an identity not seen before counts by itself.
 */
export class FloodGate {
  private readonly members = new Map<string, { state: FloodState; windowMs: number }>();
  private sweptAt = 0;

  /** Decides about one more command of `caller` at `now` (and counts it when it runs), looking its member and limit up. */
  async admit(tx: Tx, caller: Caller, now: number): Promise<FloodVerdict> {
    const limit = await floodLimit(tx, caller);
    if (limit.commands <= 0) return { verdict: "run" };
    const member = await callerMember(tx, caller);
    return this.admitKnown(caller, member?.id, limit, now);
  }

  /** The same for a caller whose member (if any) and limit are known already. */
  admitKnown(caller: Caller, memberId: MemberId | undefined, limit: FloodLimit, now: number): FloodVerdict {
    if (limit.commands <= 0) return { verdict: "run" };
    if (memberId !== undefined) this.joined(caller, memberId);
    const key = memberId !== undefined ? `member:${memberId}` : identityKey(caller);
    const { outcome, state } = floodVerdict(this.members.get(key)?.state ?? EMPTY_FLOOD, now, limit);
    this.members.set(key, { state, windowMs: limit.windowMs });
    this.sweep(now);
    return outcome;
  }

  /** A new identity became a member: what it sent so far counts for the member from now on. */
  joined(caller: Caller, memberId: MemberId): void {
    const early = this.members.get(identityKey(caller));
    if (!early) return;
    this.members.delete(identityKey(caller));
    const key = `member:${memberId}`;
    const known = this.members.get(key);
    const times = [...(known?.state.times ?? []), ...early.state.times].sort((a, b) => a - b);
    this.members.set(key, { state: { times, toldUntil: known?.state.toldUntil ?? early.state.toldUntil }, windowMs: early.windowMs });
  }

  /** How many members it remembers (tests). */
  get size(): number {
    return this.members.size;
  }

  /** Forgets members with nothing left in their window, now and then, so memory stays bounded. */
  private sweep(now: number): void {
    if (Math.abs(now - this.sweptAt) < (this.members.size < 1000 ? 60_000 : 1_000)) return;
    this.sweptAt = now;
    for (const [key, m] of this.members) if (floodIdle(m.state, now, m.windowMs)) this.members.delete(key);
  }
}
