// Pools and their rooms: creating a pool, inviting and binding rooms, policy, members, audit.
import { audit, type AuditReport } from "../core/ledger.ts";
import { makeCode, normaliseCode } from "../core/ids.ts";
import { defaultPolicy, parsePolicyValue, policySchema, type Policy, type PolicyKey } from "../core/policy.ts";
import { DAY_MS } from "../clock.ts";
import type { DomainError } from "../errors.ts";
import { err, ok, type Result } from "../result.ts";
import type { PoolRole, PoolRow, ProjectRow, RoomRow } from "../store.ts";
import { settlePeriod } from "./goods.ts";
import { ensureAccount, ensureMembership, findPoolMember, requireAdmin, type Ctx, type MemberRef, type PoolCtx } from "./context.ts";
import type { MemberId } from "../core/ids.ts";

type R<T> = Promise<Result<T, DomainError>>;

export interface PoolCreated {
  readonly pool: PoolRow;
  readonly room: RoomRow;
}

/** Creates a pool; this room becomes its lobby and the caller its first admin. */
export async function createPool(ctx: Ctx, name: string): R<PoolCreated> {
  if (ctx.room) return err(await boundError(ctx, ctx.room));
  const { tx, now } = ctx;
  const policy = JSON.stringify(defaultPolicy());
  const poolId = await tx.insertPool({ name, policy, createdAt: now, createdBy: ctx.member.id });
  await ensureAccount(tx, poolId, "commons", poolId);
  await ensureMembership(tx, poolId, ctx.member.id, "admin", now);
  const room = { platform: ctx.caller.platform, externalId: ctx.caller.roomId, poolId, projectId: null, isLobby: true, boundAt: now, boundBy: ctx.member.id };
  const roomId = await tx.insertRoom(room);
  const pool = await tx.pool(poolId);
  if (!pool) throw new Error("pool vanished inside its own transaction");
  return ok({ pool, room: { id: roomId, ...room, unreachableSince: null } });
}

async function boundError(ctx: Ctx, room: RoomRow): Promise<DomainError> {
  const pool = await ctx.tx.pool(room.poolId);
  const project = room.projectId === null ? undefined : await ctx.tx.project(room.projectId);
  return { kind: "room_bound", pool: pool?.name ?? String(room.poolId), project: project?.slug ?? null };
}

export interface PoolInfo {
  readonly pool: PoolRow;
  readonly policy: Policy;
  readonly commons: number;
  readonly members: number;
  readonly rooms: readonly RoomRow[];
  readonly projects: ReadonlyArray<{ project: ProjectRow; balance: number; coordinators: string[] }>;
  readonly room: RoomRow;
}

export async function poolInfo(c: PoolCtx): R<PoolInfo> {
  const poolId = c.pool.row.id;
  const commons = await c.tx.account(poolId, "commons", poolId);
  const projects = [];
  for (const project of await c.tx.projects(poolId)) {
    const account = await c.tx.account(poolId, "project", project.id);
    const coordinators = (await c.tx.coordinators(project.id)).map((x) => x.handle);
    projects.push({ project, balance: account?.balance ?? 0, coordinators });
  }
  return ok({
    pool: c.pool.row,
    policy: c.pool.policy,
    commons: commons?.balance ?? 0,
    members: (await c.tx.members(poolId)).length,
    rooms: await c.tx.rooms(poolId),
    projects,
    room: c.room,
  });
}

export interface InviteMade {
  readonly code: string;
  readonly expiresAt: number;
  readonly pool: PoolRow;
}

/** A one-time code that binds another room (on any platform) to this pool. Admins only. */
export async function invite(c: PoolCtx): R<InviteMade> {
  const denied = requireAdmin(c);
  if (denied) return err(denied);
  const code = await freshCode(c, "invite");
  const expiresAt = c.now + c.pool.policy.inviteDays * DAY_MS;
  await c.tx.insertCode({ code, purpose: "invite", poolId: c.pool.row.id, memberId: c.member.id, createdAt: c.now, expiresAt, usedAt: null, usedBy: null });
  return ok({ code, expiresAt, pool: c.pool.row });
}

export async function freshCode(ctx: Ctx, _purpose: "invite" | "link"): Promise<string> {
  for (;;) {
    const code = makeCode(ctx.random);
    if (!(await ctx.tx.code(code))) return code;
  }
}

/** Checks a typed code: it must exist, be of the right purpose, unused and unexpired. */
export async function takeCode(ctx: Ctx, typed: string, purpose: "invite" | "link") {
  const row = await ctx.tx.code(normaliseCode(typed));
  if (!row) return err<DomainError>({ kind: "code_invalid", reason: "unknown" });
  if (row.purpose !== purpose) return err<DomainError>({ kind: "code_invalid", reason: "other_purpose" });
  if (row.usedAt !== null) return err<DomainError>({ kind: "code_invalid", reason: "used" });
  if (row.expiresAt <= ctx.now) return err<DomainError>({ kind: "code_invalid", reason: "expired" });
  return ok(row);
}

/** Binds this (unbound) room to the pool of an invite code; the caller joins the pool. */
export async function joinPool(ctx: Ctx, typedCode: string): R<PoolCreated> {
  if (ctx.room) return err(await boundError(ctx, ctx.room));
  const taken = await takeCode(ctx, typedCode, "invite");
  if (!taken.ok) return taken;
  const row = taken.value;
  const pool = row.poolId === null ? undefined : await ctx.tx.pool(row.poolId);
  if (!pool) throw new Error(`invite ${row.code} has no pool`);
  await ctx.tx.useCode(row.code, ctx.now, ctx.member.id);
  await ensureMembership(ctx.tx, pool.id, ctx.member.id, "member", ctx.now);
  const room = {
    platform: ctx.caller.platform,
    externalId: ctx.caller.roomId,
    poolId: pool.id,
    projectId: null,
    isLobby: false,
    boundAt: ctx.now,
    boundBy: ctx.member.id,
  };
  const roomId = await ctx.tx.insertRoom(room);
  return ok({ pool, room: { id: roomId, ...room, unreachableSince: null } });
}

export type PolicyView =
  | { readonly mode: "all"; readonly policy: Policy }
  | { readonly mode: "one"; readonly key: PolicyKey; readonly value: number | string; readonly policy: Policy }
  | { readonly mode: "set"; readonly key: PolicyKey; readonly value: number | string; readonly before: number | string; readonly policy: Policy };

/** Shows the policy, one key of it, or (admins) changes one key. */
export async function policy(c: PoolCtx, key: PolicyKey | undefined, value: string | undefined): R<PolicyView> {
  const current = c.pool.policy;
  if (key === undefined) return ok({ mode: "all", policy: current });
  if (value === undefined) return ok({ mode: "one", key, value: current[key], policy: current });
  const denied = requireAdmin(c);
  if (denied) return err(denied);
  const parsed = parsePolicyValue(key, value);
  if (!parsed.ok)
    return err({ kind: "policy_value", key, expected: parsed.problem.expected, ...(parsed.problem.example ? { example: parsed.problem.example } : {}) });
  const next = policySchema.parse({ ...current, [key]: parsed.value });
  // Periods never overlap: the running one is settled up to the change under the old rule,
  // and the new rule's periods start from there (each unit of effort is charged once).
  if (key === "settlePeriod" && next.settlePeriod !== current.settlePeriod) await settlePeriod(c.tx, c.now, c.pool.row.id, c.now);
  await c.tx.setPoolPolicy(c.pool.row.id, JSON.stringify(next));
  return ok({ mode: "set", key, value: next[key], before: current[key], policy: next });
}

/** Makes a member of the pool an admin, or takes the role away (admins only; one always stays). */
export async function changeAdmin(c: PoolCtx, op: "add" | "remove", who: MemberRef): R<{ member: string; admins: string[] }> {
  const denied = requireAdmin(c);
  if (denied) return err(denied);
  const target = await findPoolMember(c, who);
  if (!target.ok) return target;
  const poolId = c.pool.row.id;
  const everyone = await c.tx.members(poolId);
  const admins = everyone.filter((m) => m.role === "admin");
  const isAdmin = admins.some((m) => m.memberId === target.value.id);
  if (op === "add") {
    if (isAdmin) return err({ kind: "already_admin", member: target.value.handle });
    await c.tx.setRole(poolId, target.value.id, "admin");
  } else {
    if (!isAdmin) return err({ kind: "not_admin", member: target.value.handle });
    if (admins.length === 1) return err({ kind: "last_admin" });
    await c.tx.setRole(poolId, target.value.id, "member");
  }
  const after = (await c.tx.members(poolId)).filter((m) => m.role === "admin").map((m) => m.handle);
  return ok({ member: target.value.handle, admins: after });
}

export interface MemberLine {
  readonly memberId: MemberId;
  readonly handle: string;
  readonly role: PoolRole;
  readonly coordinates: readonly string[];
  readonly balance: number;
}

export async function listMembers(c: PoolCtx): R<{ members: MemberLine[] }> {
  const poolId = c.pool.row.id;
  const out: MemberLine[] = [];
  for (const m of await c.tx.members(poolId)) {
    const account = await c.tx.account(poolId, "member", m.memberId);
    const coordinates = (await c.tx.coordinatorProjects(poolId, m.memberId)).map((x) => x.slug);
    out.push({ memberId: m.memberId, handle: m.handle, role: m.role, coordinates, balance: account?.balance ?? 0 });
  }
  return ok({ members: out });
}

/**
 * How many accounts that differ from their entries the audit's answer names. The answer is
 * stored with the command and a chat reply shows only a few lines; it once carried every
 * account of the pool (1 MB at 10,000 accounts). It carries the counts and these first ones.
 */
export const AUDIT_LINES = 20;

export interface AuditResult {
  /** `mismatched` holds the first `AUDIT_LINES` accounts that differ from their entries, by account id; `mismatchedCount` counts them all. */
  readonly report: AuditReport & { readonly mismatchedCount: number };
}

/** Recomputes every balance from the entries and checks that the pool sums to zero. */
export async function auditPool(c: PoolCtx): R<AuditResult> {
  const facts = await c.tx.auditFacts(c.pool.row.id);
  const report = audit(
    facts.accounts.map((a) => ({ id: a.account.id, kind: a.account.kind, ownerId: a.account.ownerId, balance: a.account.balance, net: a.net })),
    facts.entries,
  );
  const mismatched = [...report.mismatched].sort((a, b) => a.id - b.id);
  return ok({ report: { ...report, mismatched: mismatched.slice(0, AUDIT_LINES), mismatchedCount: mismatched.length } });
}

export type { PoolCtx };
