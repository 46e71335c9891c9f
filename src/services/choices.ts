// What a chat platform may offer as the member types (Discord autocomplete): projects, open and
// claimed tasks with their current weights, goods and kinds of the pool the room belongs to.
// Projects and goods come with their display names, so typing "riverside" or "bread sh" finds them.
// Read only: it creates no member, joins nobody to the pool and writes nothing, so it can run on
// a read-only connection while commands wait for the write lock.
import { readPolicy } from "../core/policy.ts";
import type { MemberRow, Tx } from "../store.ts";
import type { Caller, PoolCtx } from "./context.ts";
import { listGoods, type GoodView } from "./goods.ts";
import { listProjects } from "./projects.ts";
import { listKinds, listTasks, type KindView, type TaskView } from "./tasks.ts";

export type ChoiceSource = "project" | "task" | "good" | "kind";

export type ChoiceFacts =
  | { readonly ref: "project"; readonly projects: ReadonlyArray<{ readonly slug: string; readonly name: string }> }
  | { readonly ref: "task"; readonly tasks: readonly TaskView[] }
  | { readonly ref: "good"; readonly goods: readonly GoodView[] }
  | { readonly ref: "kind"; readonly kinds: readonly KindView[] };

/** A member nobody has seen yet reads as this placeholder; list services only read `member` for rights. */
const NOBODY: MemberRow = { id: -1, handle: "", createdAt: 0, mergedInto: null };

const noRandom = (): Uint8Array => {
  throw new Error("a read-only view draws no random bytes");
};

/**
 * The pool context of the caller's room for reads only, or undefined when the room belongs to no
 * pool. The member is looked up, never created.
 */
export async function readPoolCtx(tx: Tx, caller: Caller, now: number): Promise<PoolCtx | undefined> {
  const room = await tx.room(caller.platform, caller.roomId);
  if (!room) return undefined;
  const row = await tx.pool(room.poolId);
  if (!row) return undefined;
  const identity = await tx.identity(caller.platform, caller.userId);
  let member = identity ? await tx.member(identity.memberId) : undefined;
  while (member && member.mergedInto !== null) member = await tx.member(member.mergedInto);
  const membership = member ? await tx.membership(row.id, member.id) : undefined;
  return {
    tx,
    now,
    requestId: "read-only",
    random: noRandom,
    caller,
    member: member ?? NOBODY,
    room,
    pool: { row, policy: readPolicy(row.policy), role: membership?.role ?? "member" },
  };
}

/** What to offer for one kind of reference in the caller's room; undefined outside a pool. */
export async function choiceFacts(tx: Tx, caller: Caller, now: number, ref: ChoiceSource): Promise<ChoiceFacts | undefined> {
  const c = await readPoolCtx(tx, caller, now);
  if (!c) return undefined;
  switch (ref) {
    case "project": {
      const r = await listProjects(c);
      return { ref, projects: r.ok ? r.value.projects.map((p) => ({ slug: p.project.slug, name: p.project.name })) : [] };
    }
    case "task": {
      // Open tasks first (most neglected first), then claimed ones.
      const open = await listTasks(c, { state: "open" });
      const claimed = await listTasks(c, { state: "claimed" });
      return { ref, tasks: [...(open.ok ? open.value.tasks : []), ...(claimed.ok ? claimed.value.tasks : [])] };
    }
    case "good": {
      const r = await listGoods(c, undefined, undefined);
      return { ref, goods: r.ok ? r.value.goods : [] };
    }
    case "kind": {
      const r = await listKinds(c);
      return { ref, kinds: r.ok ? r.value.kinds : [] };
    }
  }
}
