// Announcing: queuing a message for those of a pool's rooms that hear its kind (not switched off
// there, and reachable by the bot). The app delivers the outbox after the transaction commits.
// Kept apart from context.ts (who the caller is) and rooms.ts (switches, boards, notices), which
// both need it, so that neither imports the other for it.
import { storedMessage, switchOf, type Announcement, type AnnouncementSwitch, type Note, type NoteKind } from "../core/announcements.ts";
import type { Tx } from "../store.ts";
import type { PoolCtx } from "./context.ts";
import type { MemberId, OutboxId, PoolId, RoomId } from "../core/ids.ts";

/** The pool's rooms that switched this kind of announcement off. */
export async function mutedRooms(tx: Tx, poolId: PoolId, sw: AnnouncementSwitch): Promise<Set<RoomId>> {
  return new Set((await tx.roomMutes(poolId)).filter((m) => m.kind === sw).map((m) => m.roomId));
}

/** Rooms that hear nothing now: this kind switched off there, or the platform refused the bot there. */
export async function silentRooms(tx: Tx, poolId: PoolId, sw: AnnouncementSwitch | undefined): Promise<Set<RoomId>> {
  const silent = sw === undefined ? new Set<RoomId>() : await mutedRooms(tx, poolId, sw);
  for (const r of await tx.rooms(poolId)) if (r.unreachableSince !== null) silent.add(r.id);
  return silent;
}

/** Queues a message for those of the rooms that have not switched its kind off (and that the bot can reach). */
export async function announceTo(tx: Tx, poolId: PoolId, roomIds: readonly RoomId[], message: Announcement, at: number): Promise<OutboxId[]> {
  const muted = await silentRooms(tx, poolId, switchOf(message.kind));
  const { kind, body } = storedMessage(message);
  const sent: number[] = [];
  for (const roomId of roomIds) {
    if (muted.has(roomId)) continue;
    await tx.insertOutbox({ roomId, kind, body, createdAt: at });
    sent.push(roomId);
  }
  return sent;
}

/**
 * Queues a message for the pool's rooms that have not switched its kind off; the app delivers
 * it after the transaction commits. Returns the rooms it went to.
 */
export async function announce(ctx: PoolCtx, roomIds: readonly RoomId[], message: Announcement): Promise<OutboxId[]> {
  return announceTo(ctx.tx, ctx.pool.row.id, roomIds, message, ctx.now);
}

/**
 * Queues a room message as it is, for the one room, whatever the room's switches: boards and
 * notices decide themselves which rooms hear them.
 */
export async function queueInRoom(tx: Tx, roomId: RoomId, message: Announcement, at: number): Promise<OutboxId> {
  return tx.insertOutbox({ roomId, ...storedMessage(message), createdAt: at });
}

/** A note to one member as a row, ready for `insertNote` (or `insertNotes`, with many). */
export interface NewNote {
  readonly poolId: PoolId;
  readonly memberId: MemberId;
  readonly kind: NoteKind;
  readonly body: string;
  readonly createdAt: number;
}

/** A note to one member, as a row (for `insertNote`, or for `insertNotes` with many). */
export function noteRow(to: { poolId: PoolId; memberId: MemberId; createdAt: number }, note: Note): NewNote {
  const { kind, body } = storedMessage(note);
  return { poolId: to.poolId, memberId: to.memberId, kind, body, createdAt: to.createdAt };
}
