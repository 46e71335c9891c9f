// What every service call gets: who acts, where, when, and the open transaction.
// Adapters build the `Caller`; `resolveCaller` turns it into a member of the room's pool.
import type { AccountId, MemberId, PoolId, RandomBytes } from "../core/ids.ts";
import { handleFrom } from "../core/ids.ts";
import { readPolicy, type Policy } from "../core/policy.ts";
import { nameKey, nearestNamed } from "../core/suggest.ts";
import type { DomainError } from "../errors.ts";
import { err, ok, type Result } from "../result.ts";
import type { MemberRow, Opening, OpeningQuery, PoolRole, PoolRow, ProjectRow, RoomRow, Tx } from "../store.ts";

/** A person on a platform, speaking in a room; what an adapter knows before the core does. */
export interface Caller {
  readonly platform: string;
  readonly userId: string;
  readonly displayName: string;
  readonly roomId: string;
}

export interface Ctx {
  readonly tx: Tx;
  readonly now: number;
  readonly requestId: string;
  readonly random: RandomBytes;
  readonly caller: Caller;
  readonly member: MemberRow;
  /** The room, if it is bound to a pool. */
  readonly room: RoomRow | undefined;
  /** The room's pool, with the member's role in it. */
  readonly pool: { readonly row: PoolRow; readonly policy: Policy; readonly role: PoolRole } | undefined;
  /**
   * Everything that came due by `now`, in every pool, was done already in this transaction (the
   * dispatcher catches up before each command): a service need not look for it again.
   */
  readonly caughtUp?: boolean;
}

export type PoolCtx = Ctx & { readonly room: RoomRow; readonly pool: NonNullable<Ctx["pool"]> };

/** Services that need a pool take a PoolCtx; the dispatcher makes one, or refuses, with this. */
export function inPool(ctx: Ctx): Result<PoolCtx, DomainError> {
  return ctx.room && ctx.pool ? ok(ctx as PoolCtx) : err({ kind: "room_unbound" });
}

/** Finds the member behind a platform identity, creating both on first use. */
export async function ensureMember(tx: Tx, platform: string, userId: string, displayName: string, now: number): Promise<MemberRow> {
  const identity = await tx.identity(platform, userId);
  const m = identity && (await unmerged(tx, await tx.member(identity.memberId)));
  return m ?? newMember(tx, platform, userId, displayName, now);
}

/** The member itself, or the one it was merged into (linked accounts), along the chain. */
async function unmerged(tx: Tx, member: MemberRow | undefined): Promise<MemberRow | undefined> {
  let m = member;
  while (m && m.mergedInto !== null) m = await tx.member(m.mergedInto);
  return m;
}

/** A member first seen: a free handle from their display name, and their identity. */
async function newMember(tx: Tx, platform: string, userId: string, displayName: string, now: number): Promise<MemberRow> {
  const handle = await freeHandle(tx, handleFrom(displayName));
  const id = await tx.insertMember(handle, now);
  await tx.insertIdentity({ platform, externalId: userId, memberId: id, createdAt: now });
  return { id, handle, createdAt: now, mergedInto: null };
}

async function freeHandle(tx: Tx, base: string): Promise<string> {
  if (!(await tx.memberByHandle(base))) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base.slice(0, 28)}${n}`;
    if (!(await tx.memberByHandle(candidate))) return candidate;
  }
}

/** Makes the member a member of the pool (on first use of one of its rooms) and opens their account. */
export async function ensureMembership(tx: Tx, poolId: PoolId, memberId: MemberId, role: PoolRole, now: number): Promise<PoolRole> {
  const existing = await tx.membership(poolId, memberId);
  if (existing) return existing.role;
  await tx.insertMembership({ poolId, memberId, role, joinedAt: now });
  await ensureAccount(tx, poolId, "member", memberId);
  return role;
}

export async function ensureAccount(tx: Tx, poolId: PoolId, kind: "member" | "project" | "commons", ownerId: number): Promise<AccountId> {
  const a = await tx.account(poolId, kind, ownerId);
  return a ? a.id : tx.insertAccount({ poolId, kind, ownerId });
}

/** The Tx.opening query of a caller's command. */
export function openingQuery(caller: Caller, requestId: string, withReply: boolean): OpeningQuery {
  return { requestId, withReply, platform: caller.platform, userId: caller.userId, roomId: caller.roomId };
}

/**
 * Everything the services need about the caller, resolved inside the command's transaction,
 * from what the command read first (`first`, Tx.opening; read here when not given): only a
 * caller, room or membership new to the pool costs more queries.
 * Whatever this writes, findCaller (below) must see as "undefined: run as a write".
 */
export async function resolveCaller(tx: Tx, caller: Caller, base: { now: number; requestId: string; random: RandomBytes }, first?: Opening): Promise<Ctx> {
  const o = first ?? (await tx.opening(openingQuery(caller, base.requestId, false)));
  const member = (await unmerged(tx, o.member)) ?? (await newMember(tx, caller.platform, caller.userId, caller.displayName, base.now));
  let room = o.room;
  let pool: Ctx["pool"];
  if (room && room.unreachableSince !== null) {
    // Someone speaks there again: the bot was let back in, so announcements go there again.
    await tx.setRoomUnreachable(room.id, null);
    room = { ...room, unreachableSince: null };
  }
  if (room) {
    const row = o.pool;
    if (!row) throw new Error(`room ${room.id} points at missing pool ${room.poolId}`);
    // The membership read first is the identity's member's: not the one it was merged into.
    const known = o.membership && o.member?.id === member.id ? o.membership.role : undefined;
    const role = known ?? (await ensureMembership(tx, row.id, member.id, "member", base.now));
    pool = { row, policy: readPolicy(row.policy), role };
  }
  return { tx, ...base, caller, member, room, pool };
}

/**
 * The same as resolveCaller, but only reading (on the read-only connection): undefined when
 * resolving the caller would write something (a new member or identity, a first membership in
 * the room's pool, a room that was marked unreachable). Then the command runs as a write.
 */
export async function findCaller(
  tx: Tx,
  caller: Caller,
  base: { now: number; requestId: string; random: RandomBytes },
  first?: Opening,
): Promise<Ctx | undefined> {
  const o = first ?? (await tx.opening(openingQuery(caller, base.requestId, false)));
  const member = await unmerged(tx, o.member);
  if (!member) return undefined;
  const room = o.room;
  let pool: Ctx["pool"];
  if (room) {
    if (room.unreachableSince !== null) return undefined;
    const row = o.pool;
    if (!row) throw new Error(`room ${room.id} points at missing pool ${room.poolId}`);
    const membership = o.member?.id === member.id ? o.membership : await tx.membership(row.id, member.id);
    if (!membership) return undefined;
    pool = { row, policy: readPolicy(row.policy), role: membership.role };
  }
  return { tx, ...base, caller, member, room, pool };
}

export function requireAdmin(ctx: PoolCtx): DomainError | null {
  return ctx.pool.role === "admin" ? null : { kind: "forbidden", need: "admin" };
}

export async function isCoordinator(ctx: PoolCtx, project: ProjectRow): Promise<boolean> {
  const list = await ctx.tx.coordinators(project.id);
  return list.some((c) => c.memberId === ctx.member.id);
}

/** Coordinators of the project may act; with `orAdmin`, so may the pool's admins. */
export async function requireCoordinator(ctx: PoolCtx, project: ProjectRow, orAdmin: boolean): Promise<DomainError | null> {
  if (orAdmin && ctx.pool.role === "admin") return null;
  if (await isCoordinator(ctx, project)) return null;
  return { kind: "forbidden", need: "coordinator", project: project.slug, orAdmin };
}

/** A number typed for a project, good or task: `3` or `#3`. */
export function typedNumber(ref: string): number | undefined {
  const m = /^#?(\d{1,15})$/.exec(ref.trim());
  return m ? Number(m[1]) : undefined;
}

/**
 * Finds a project of the pool by its short name (bakery), its number (1 or #1) or its display
 * name in any case (riverside bakery). Otherwise the refusal names the nearest project.
 */
export async function findProject(ctx: PoolCtx, ref: string): Promise<Result<ProjectRow, DomainError>> {
  const poolId = ctx.pool.row.id;
  const n = typedNumber(ref);
  const direct = n !== undefined ? await ctx.tx.project(n) : await ctx.tx.projectBySlug(poolId, ref.trim().toLowerCase());
  if (direct && direct.poolId === poolId) return ok(direct);
  const all = await ctx.tx.projects(poolId);
  const named = n === undefined ? all.filter((p) => nameKey(p.name) === nameKey(ref)) : [];
  if (named.length === 1) return ok(named[0]!);
  const nearest = nearestNamed(
    ref,
    all.map((p) => ({ names: [p.slug, p.name], say: p.slug })),
  );
  const near = named.length > 1 ? named.map((p) => p.slug) : nearest ? [nearest] : [];
  return err({ kind: "not_found", what: "project", ref, near });
}

/** A member reference as typed: `@handle`, or a platform identity the adapter resolved. */
export type MemberRef = { readonly handle: string } | { readonly platform: string; readonly userId: string; readonly displayName: string };

/** Finds a member of the pool. Platform mentions of people never seen before are created. */
export async function findPoolMember(ctx: PoolCtx, ref: MemberRef): Promise<Result<MemberRow, DomainError>> {
  let m: MemberRow | undefined;
  if ("handle" in ref) {
    m = await ctx.tx.memberByHandle(ref.handle.toLowerCase());
    while (m && m.mergedInto !== null) m = await ctx.tx.member(m.mergedInto);
    if (!m || !(await ctx.tx.membership(ctx.pool.row.id, m.id))) {
      const nearest = nearestNamed(
        ref.handle,
        (await ctx.tx.members(ctx.pool.row.id)).map((x) => ({ names: [x.handle], say: `@${x.handle}` })),
      );
      return err({ kind: "not_found", what: "member", ref: `@${ref.handle}`, near: nearest ? [nearest] : [] });
    }
  } else {
    m = await ensureMember(ctx.tx, ref.platform, ref.userId, ref.displayName, ctx.now);
    await ensureMembership(ctx.tx, ctx.pool.row.id, m.id, "member", ctx.now);
  }
  return ok(m);
}
