// Delivery: every message the bot sends (answers, announcements, boards, summaries, notes) is a
// row written in the transaction that caused it. A Deliverer claims rows for its process (so two
// bot processes on one database never send one twice), hands each to its platform's Courier
// with an idempotency key derived from the row (the platform drops a repeat of the key, so a
// crash between sending and recording sends nothing twice), and settles the row: delivered,
// to be retried later (transient trouble, with back-off), or given up (the bot was removed
// from the room, the interaction expired). Trouble is logged once when it starts and once when
// it ends, not at every attempt. Each announcement and note is read here, once, against its
// kind's schema (src/core/announcements.ts): couriers get a typed message, and a row this
// version cannot read (queued by a newer version, or broken) is logged and given up unsent.
//
// Times here are wall-clock times (Date.now): leases and retries are about this process, not
// about the pool's clock, which tests may hold still.
import { randomBytes } from "node:crypto";
import { readAnnouncement, readNote, type Announcement, type Note } from "./core/announcements.ts";
import { readPolicy } from "./core/policy.ts";
import { errorText, type Logger } from "./log.ts";
import { rebuildMarkedBoards } from "./services/rooms.ts";
import { deliveryKey, type DeliveryOutcome, type DeliveryRef, type NoteRow, type OutboxRow, type ReplyRow, type RoomRow, type Store } from "./store.ts";
import type { OutboxId, PoolId, RoomId } from "./core/ids.ts";
import { wholeNumbers } from "./settings.ts";

/** A room message as claimed, with its pool's time zone (policy `timezone`): times in it are shown there. */
type ClaimedOutbox = OutboxRow & { room: RoomRow; attempts: number; timeZone: string };
/** A room message to send: its row, and the message read from it. */
export type OutboxItem = ClaimedOutbox & { message: Announcement };
/** A note to a member to send, with the time zone of the pool it comes from and the note read from it. */
export type NoteItem = NoteRow & { externalId: string; attempts: number; timeZone: string; message: Note };

/**
 * The time zone of each of the pools (its policy's `timezone`; UTC for a pool that is gone):
 * announcements and notes are rendered when they are delivered, in their pool's zone.
 */
export async function poolTimeZones(store: Store, poolIds: Iterable<PoolId>): Promise<Map<PoolId, string>> {
  const ids = [...new Set(poolIds)];
  if (ids.length === 0) return new Map();
  return store.read(async (tx) => {
    const zones = new Map<PoolId, string>();
    for (const id of ids) {
      const pool = await tx.pool(id);
      zones.set(id, pool ? readPolicy(pool.policy).timezone : "UTC");
    }
    return zones;
  });
}

/** What a courier makes of a failed send. */
export type Failure =
  /** Try again later: network trouble, 5xx, a rate limit (after `afterMs` if the platform said). */
  | { readonly retry: true; readonly afterMs?: number; readonly reason: string }
  /** Never deliverable: given up. `roomGone` also stops announcements to the room. */
  | { readonly retry: false; readonly reason: string; readonly roomGone?: boolean };

/** A platform's way of sending each kind of message. Each send must use `key` as its idempotency key. */
export interface Courier {
  readonly platform: string;
  /** Whether the platform is connected now (nothing is claimed while it is not). */
  ready(): boolean;
  reply(row: ReplyRow, key: string): Promise<void>;
  /** An announcement, a summary, or a room's board (only the newest board of a room is handed over). */
  announce(row: OutboxItem, key: string): Promise<void>;
  note(row: NoteItem, key: string): Promise<void>;
  /** How to treat a failed send. */
  classify(e: unknown): Failure;
}

export interface DelivererOptions {
  readonly store: Store;
  readonly courier: Courier;
  readonly logger: Logger;
  /** How long a claim holds before another process may take the row over (ms). */
  readonly leaseMs?: number;
  /** How often rows waiting for a retry (or left by a process that died) are looked at (ms). */
  readonly pollMs?: number;
  /** Rows claimed per round. */
  readonly batch?: number;
  /** Longest back-off between two attempts (ms). */
  readonly maxBackoffMs?: number;
  /** How many attempts before a message that keeps failing is given up. */
  readonly maxAttempts?: number;
  readonly now?: () => number;
}

export const DEFAULT_LEASE_MS = 60_000;

/** How every platform's delivery may be tuned from the environment (README: rarely needed). */
export interface DeliverySettings {
  /** DPOOL_DELIVERY_LEASE_MS: how long a process's claim on a message holds before another process may take it over. */
  readonly leaseMs?: number;
  /** DPOOL_DELIVERY_POLL_MS: how often messages waiting for a retry are looked at. */
  readonly pollMs?: number;
}

/** DPOOL_DELIVERY_LEASE_MS and DPOOL_DELIVERY_POLL_MS, when set: whole milliseconds, or one line saying what to set. */
export function deliverySettings(env: NodeJS.ProcessEnv): { ok: true; value: DeliverySettings } | { ok: false; error: string } {
  return wholeNumbers(env, [
    ["DPOOL_DELIVERY_LEASE_MS", "leaseMs", 100],
    ["DPOOL_DELIVERY_POLL_MS", "pollMs", 50],
  ]);
}

export class Deliverer {
  /** This process's name on its claims. */
  readonly owner = `${process.pid}-${randomBytes(4).toString("hex")}`;
  private running: Promise<void> = Promise.resolve();
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Targets failing now (room, member, "replies"), and since when: logged once at start and end. */
  private readonly failing = new Map<string, { since: number; reason: string }>();
  private readonly o: Required<Omit<DelivererOptions, "store" | "courier" | "logger">> & DelivererOptions;

  constructor(o: DelivererOptions) {
    // Options left undefined take the defaults (a spread would let `undefined` override them).
    const given = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as DelivererOptions;
    this.o = { leaseMs: DEFAULT_LEASE_MS, pollMs: 5_000, batch: 50, maxBackoffMs: 5 * 60_000, maxAttempts: 50, now: Date.now, ...given };
    this.peers.add(this);
  }

  /** The deliverers of this store in this process (one per platform): a board rebuild by one is news to all. */
  private get peers(): Set<Deliverer> {
    let set = peersOf.get(this.o.store);
    if (!set) peersOf.set(this.o.store, (set = new Set()));
    return set;
  }

  /** Starts looking for waiting rows every pollMs (the timer does not keep the process alive). */
  start(): void {
    this.stopped = false;
    this.peers.add(this);
    this.timer ??= setInterval(() => void this.kick(), this.o.pollMs).unref();
  }

  /** Stops the timer and waits for the round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.peers.delete(this);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Delivers what is waiting now; rounds never overlap, and a kick during a round runs one more. */
  kick(): Promise<void> {
    if (this.stopped) return this.running;
    if (this.busy) {
      this.again = true;
      return this.running;
    }
    this.busy = true;
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.round();
        } while (this.again && !this.stopped);
      } catch (e) {
        this.o.logger.error({ err: e, platform: this.o.courier.platform }, "delivery round failed");
      } finally {
        this.busy = false;
      }
    })();
    return this.running;
  }
  private busy = false;
  /** Rooms that refused the bot during the current round. */
  private readonly gone = new Set<RoomId>();

  /** Sends one answer at once, if it is still to be sent and no other process holds it. */
  async deliverReply(requestId: string): Promise<void> {
    if (!this.o.courier.ready()) return;
    const row = await this.o.store.claimReply(requestId, { owner: this.owner, now: this.o.now(), leaseMs: this.o.leaseMs });
    if (row) await this.sendReply(row);
  }

  private claim() {
    return { owner: this.owner, now: this.o.now(), leaseMs: this.o.leaseMs, limit: this.o.batch };
  }

  /**
   * Rebuilds the task boards that commands marked (services/rooms.ts), after the answers were
   * sent and before the room messages are claimed. A burst of commands costs one rebuild: the
   * rebuild's transaction waits in line behind the commands already waiting, and reads the marks
   * once they all committed (the rounds their commits kick find nothing left to do). When it
   * queued boards, the deliverers of the other platforms look again. Trouble here is logged and
   * leaves the rest of the round.
   */
  private async boards(): Promise<void> {
    try {
      const rebuilt = await rebuildMarkedBoards(this.o.store);
      // Other platforms' rooms got boards too; their deliverers may have claimed just before.
      if (rebuilt.rooms > 0) for (const peer of this.peers) if (peer !== this) void peer.kick();
    } catch (e) {
      this.o.logger.error({ err: e, platform: this.o.courier.platform }, "rebuilding the task boards failed");
    }
  }

  private async round(): Promise<void> {
    const { store, courier } = this.o;
    if (!courier.ready()) return;
    for (const row of await store.claimReplies(courier.platform, this.claim())) {
      if (this.stopped) return;
      await this.sendReply(row);
    }
    // Answers first (a member waits for them); then the boards, before the room messages.
    await this.boards();
    this.gone.clear();
    for (;;) {
      const claimed = await store.claimOutbox(courier.platform, this.claim());
      const zones = await poolTimeZones(
        store,
        claimed.map((i) => i.room.poolId),
      );
      const items = claimed.map((i) => ({ ...i, timeZone: zones.get(i.room.poolId) ?? "UTC" }));
      const newest = newestBoards(items);
      for (const item of items) {
        if (this.stopped) return;
        // A room that refused the bot in this round: its other messages were given up with it.
        if (this.gone.has(item.roomId)) continue;
        const ref = { kind: "outbox", id: item.id } as const;
        // Only a room's newest board is shown; older ones were overtaken on the way.
        if (item.kind === "board" && newest.get(item.roomId) !== item.id) {
          await store.settle(ref, this.owner, { delivered: this.o.now() });
          continue;
        }
        const read = readAnnouncement(item.kind, item.body);
        const target = `room ${item.room.externalId}`;
        if (read.ok) await this.attempt(ref, target, item.attempts, () => courier.announce({ ...item, message: read.message }, deliveryKey(ref)), item.roomId);
        else await this.unreadable(ref, target, item.kind, read.problem);
      }
      if (items.length < this.o.batch) break;
    }
    const notes = await store.claimNotes(courier.platform, this.claim());
    const zones = await poolTimeZones(
      store,
      notes.map((n) => n.poolId),
    );
    for (const claimed of notes) {
      if (this.stopped) return;
      const ref = { kind: "note", id: claimed.id } as const;
      const read = readNote(claimed.kind, claimed.body);
      const target = `member ${claimed.externalId}`;
      if (!read.ok) {
        await this.unreadable(ref, target, claimed.kind, read.problem);
        continue;
      }
      const note = { ...claimed, timeZone: zones.get(claimed.poolId) ?? "UTC", message: read.message };
      await this.attempt(ref, target, note.attempts, () => courier.note(note, deliveryKey(ref)));
    }
  }

  /**
   * A row this version cannot read: logged once, with why (never its body), and given up, so
   * that nobody is shown raw JSON and it is not tried again.
   */
  private async unreadable(ref: DeliveryRef, target: string, kind: string, problem: string): Promise<void> {
    this.o.logger.warn(
      { platform: this.o.courier.platform, delivery: deliveryKey(ref), kind: kind.slice(0, 40) },
      `gave up a message to ${target} unsent: ${problem}`,
    );
    await this.o.store.settle(ref, this.owner, { failedAt: this.o.now(), reason: problem });
  }

  private sendReply(row: ReplyRow): Promise<void> {
    const ref = { kind: "reply", id: row.requestId } as const;
    return this.attempt(ref, `answer to ${row.requestId}`, row.attempts, () => this.o.courier.reply(row, deliveryKey(ref)));
  }

  /** One attempt: send, then settle the row as delivered, to retry, or given up. */
  private async attempt(ref: DeliveryRef, target: string, attempts: number, send: () => Promise<void>, roomId?: RoomId): Promise<void> {
    const { store, courier, logger } = this.o;
    let outcome: DeliveryOutcome;
    const log = logger.child({ platform: courier.platform, ...(ref.kind === "reply" ? { requestId: ref.id } : { delivery: deliveryKey(ref) }) });
    const key = ref.kind === "reply" ? "answers" : target;
    try {
      await send();
      outcome = { delivered: this.o.now() };
      const was = this.failing.get(key);
      if (was) {
        this.failing.delete(key);
        log.info(`delivery to ${key} works again (failing since ${new Date(was.since).toISOString()}: ${was.reason})`);
      }
    } catch (e) {
      const f = courier.classify(e);
      if (!f.retry || attempts + 1 >= this.o.maxAttempts) {
        outcome = { failedAt: this.o.now(), reason: f.reason };
        if (!f.retry && f.roomGone && roomId !== undefined) {
          this.gone.add(roomId);
          await store.markRoomUnreachable(roomId, this.o.now());
          log.warn(`${target} refused the bot (${f.reason}): no more announcements go there until someone uses the bot there again`);
        } else {
          log.warn(`gave up sending to ${target}: ${f.reason}`);
        }
      } else {
        // The platform's own wait (a rate limit's retry_after_ms) is the wait; otherwise back off.
        const wait = f.afterMs ?? Math.min(this.o.maxBackoffMs, 1000 * 2 ** Math.min(attempts, 16));
        outcome = { retryAt: this.o.now() + wait, error: f.reason };
        if (!this.failing.has(key)) {
          this.failing.set(key, { since: this.o.now(), reason: f.reason });
          // Rate limits are the platform working as meant: worth a line, not a warning.
          if (f.afterMs !== undefined) log.info(`${key}: ${f.reason}; waiting ${f.afterMs} ms as asked`);
          else log.warn(`could not deliver to ${key}: ${f.reason}; retrying with back-off`);
        }
      }
    }
    await store.settle(ref, this.owner, outcome);
  }
}

/** The deliverers of each store in this process, by store. */
const peersOf = new WeakMap<Store, Set<Deliverer>>();

/** The newest board message of each room among the items: older ones need no sending. */
function newestBoards(items: readonly ClaimedOutbox[]): Map<RoomId, OutboxId> {
  const out = new Map<RoomId, OutboxId>();
  for (const i of items) if (i.kind === "board") out.set(i.roomId, Math.max(i.id, out.get(i.roomId) ?? 0));
  return out;
}

/** A short reason for a log line: the error's message, without a stack. */
export function reasonOf(e: unknown): string {
  return errorText(e).split("\n")[0]!.slice(0, 300);
}
