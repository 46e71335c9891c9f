// How stored messages reach Discord (the Courier of src/delivery.ts). Every send is safe to repeat:
// - answers go through the interaction's webhook token: a deferral is edited (PATCH @original,
//   the same content again is no second answer), and after a crash the original response is read
//   first (GET @original) to tell a deferral still "thinking" from one already answered;
// - channel messages and direct messages carry a `nonce` derived from the row with
//   `enforce_nonce: true`, so Discord returns the first message instead of posting a second;
// - boards are edited in place (idempotent by nature); a new board message carries a nonce too.
import { createHash } from "node:crypto";
import { DiscordAPIError, HTTPError, MessageFlags, RateLimitError, RESTJSONErrorCodes, Routes, type REST, type RawFile } from "discord.js";
import { renderAnnouncementMessage, renderBoard, renderNoteMessage } from "../../commands/announcements.ts";
import { CHART_FILE, renderSummaryChart } from "../../commands/chart.ts";
import { attachmentsOf, type Action, type AnyCommand, type Answered } from "../../commands/define.ts";
import { replyFromStored, type Reply } from "../../commands/dispatch.ts";
import { claimAction } from "../../commands/task.ts";
import type { View } from "../../commands/present.ts";
import type { Courier, Failure, NoteItem, OutboxItem } from "../../src/delivery.ts";
import type { Logger } from "../../src/log.ts";
import type { Announcement, BoardMessage, Note } from "../../src/core/announcements.ts";
import type { ReplyRow, Store } from "../../src/store.ts";
import { announcementPayload, boardPayload, errorPayload, LIMITS, okPayload, type ReplyPayload } from "./render.ts";

/** Where an answer goes: stored (as JSON) in the reply row, written in the command's transaction. */
export interface ReplyTarget {
  readonly interaction: string;
  readonly token: string;
  readonly app: string;
  /** Answered privately (personal data, buttons, refusals are always private). */
  readonly ephemeral: boolean;
  /** Deferred before the command ran. */
  deferred: boolean;
  /** When Discord created the interaction (ms): its token works for 15 minutes from then. */
  readonly at: number;
}

/** Discord accepts edits and follow-ups through an interaction's token for 15 minutes. */
export const TOKEN_TTL_MS = 15 * 60_000;
/** An interaction must be acknowledged within 3 s of its creation. */
export const ACK_WINDOW_MS = 3_000;

/**
 * What this process knows about an interaction it received: whether it was acknowledged, and
 * how. Everything that acknowledges or answers it runs through `serial`, one step at a time.
 */
export class LiveInteraction {
  ack: "none" | "deferred" | "answered" | "unknown" | "expired" = "none";
  private chain: Promise<unknown> = Promise.resolve();
  constructor(readonly target: ReplyTarget) {}

  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

/** An error that means: give this message up (the reason says why). */
export class GiveUp extends Error {}

/** The nonce of a channel message: at most 25 characters, stable for the row across crashes and processes. */
export function discordNonce(key: string, createdAt: number): string {
  return createHash("sha256").update(`${key}@${createdAt}`).digest("base64url").slice(0, LIMITS.nonce);
}

type Files = ReadonlyArray<{ readonly name: string; readonly png: Buffer }>;

/** A payload as Discord's REST API wants it: JSON body plus files. */
export function restMessage(p: ReplyPayload, files: Files = [], flags?: number): { body: Record<string, unknown>; files: RawFile[] } {
  const shown = files.slice(0, LIMITS.embeds);
  const embeds = [...(p.embeds ?? [])];
  if (shown.length > 0) {
    const [first, ...rest] = embeds.length > 0 ? embeds : [{}];
    const image = (name: string) => ({ url: `attachment://${name}` });
    embeds.splice(
      0,
      embeds.length,
      { ...first, image: image(shown[0]!.name) },
      ...rest,
      ...shown.slice(1).map((c) => ({ image: image(c.name), ...(first?.color === undefined ? {} : { color: first.color }) })),
    );
  }
  const body: Record<string, unknown> = {
    ...(p.content !== undefined ? { content: p.content } : {}),
    embeds: embeds.slice(0, LIMITS.embeds),
    components: (p.components ?? []).map((c) => c.toJSON()),
    ...(flags !== undefined ? { flags } : {}),
  };
  if (shown.length > 0) body.attachments = shown.map((f, i) => ({ id: i, filename: f.name }));
  return { body, files: shown.map((f) => ({ name: f.name, data: f.png, contentType: "image/png" })) };
}

const code = (e: unknown): number | string | undefined => (e instanceof DiscordAPIError ? e.code : undefined);
const FLAG_LOADING = 1 << 7;

export interface DiscordCourierOptions {
  readonly rest: REST;
  readonly store: Store;
  readonly table: readonly AnyCommand[];
  readonly logger: Logger;
  /** The interactions this process received, by id. */
  readonly live: ReadonlyMap<string, LiveInteraction>;
  /** Whether the adapter is logged in (REST works even while the gateway reconnects). */
  readonly started: () => boolean;
}

export class DiscordCourier implements Courier {
  readonly platform = "discord";
  private readonly dmChannels = new Map<string, string>();
  /** Channels that refused the bot during this process: later rows for them are checked against the store first. */
  private readonly gone = new Set<string>();

  constructor(private readonly o: DiscordCourierOptions) {}

  ready(): boolean {
    return this.o.started();
  }

  // -------------------------------------------------------------------------------------------
  // Answers

  async reply(row: ReplyRow): Promise<void> {
    const target = JSON.parse(row.target) as ReplyTarget;
    const reply = replyFromStored(this.o.table, row.body);
    const live = this.o.live.get(target.interaction);
    if (live) return live.serial(() => this.answerLive(live, reply));
    return this.answerLater(target, reply);
  }

  /** Answers an interaction this process received; the caller holds its `serial` turn. */
  async answerLive(live: LiveInteraction, reply: Reply): Promise<void> {
    const t = live.target;
    switch (live.ack) {
      case "answered":
        return;
      case "expired":
        throw new GiveUp("the interaction expired before it could be acknowledged (10062)");
      case "deferred":
        await this.finishDeferral(t, reply, t.ephemeral);
        live.ack = "answered";
        return;
      case "unknown":
        await this.answerLater(t, reply);
        live.ack = "answered";
        return;
      case "none":
        try {
          const { body, files } = this.message(reply, t.ephemeral, t.interaction);
          await this.o.rest.post(Routes.interactionCallback(t.interaction, t.token), { body: { type: 4, data: body }, files, auth: false });
          live.ack = "answered";
        } catch (e) {
          if (code(e) !== RESTJSONErrorCodes.InteractionHasAlreadyBeenAcknowledged) throw e;
          this.o.logger.info({ requestId: `discord:${t.interaction}` }, "interaction already acknowledged (40060): answering through its token");
          await this.answerLater(t, reply);
          live.ack = "answered";
        }
    }
  }

  /** Leaves an interaction unanswered: a deferral's "thinking…" is deleted, nothing else is sent. */
  async withdraw(live: LiveInteraction): Promise<void> {
    if (live.ack === "deferred" || live.ack === "unknown") {
      const t = live.target;
      await this.o.rest.delete(Routes.webhookMessage(t.app, t.token, "@original"), { auth: false }).catch((e: unknown) => {
        if (code(e) !== RESTJSONErrorCodes.UnknownMessage) throw e;
      });
    }
    live.ack = "answered";
  }

  /** Acknowledges with "thinking…" (ephemeral when the answer will be); false if it was too late. */
  async defer(live: LiveInteraction): Promise<boolean> {
    return live.serial(async () => {
      if (live.ack !== "none") return live.ack !== "expired";
      const t = live.target;
      try {
        await this.o.rest.post(Routes.interactionCallback(t.interaction, t.token), {
          body: { type: 5, ...(t.ephemeral ? { data: { flags: MessageFlags.Ephemeral } } : {}) },
          auth: false,
        });
        live.ack = "deferred";
        return true;
      } catch (e) {
        const c = code(e);
        if (c === RESTJSONErrorCodes.InteractionHasAlreadyBeenAcknowledged) {
          this.o.logger.info({ requestId: `discord:${t.interaction}` }, "interaction already acknowledged (40060)");
          live.ack = "unknown";
          return true;
        }
        if (c === RESTJSONErrorCodes.UnknownInteraction) {
          live.ack = "expired";
          this.o.logger.warn(
            { requestId: `discord:${t.interaction}` },
            `interaction expired before it could be acknowledged (10062, ${Date.now() - t.at} ms after it was created): not run`,
          );
          return false;
        }
        throw e;
      }
    });
  }

  /**
   * What became of an interaction's acknowledgement, read from its original response: still
   * "thinking…" (deferred, not answered), answered, never acknowledged, or no longer reachable.
   */
  async originalState(t: ReplyTarget): Promise<"thinking" | "answered" | "unacknowledged" | "gone"> {
    if (Date.now() - t.at > TOKEN_TTL_MS) return "gone";
    try {
      const original = (await this.o.rest.get(Routes.webhookMessage(t.app, t.token, "@original"), { auth: false })) as { flags?: number };
      return ((original.flags ?? 0) & FLAG_LOADING) !== 0 ? "thinking" : "answered";
    } catch (e) {
      const c = code(e);
      if (c === RESTJSONErrorCodes.UnknownWebhook || c === RESTJSONErrorCodes.UnknownInteraction) return "unacknowledged";
      if (c === RESTJSONErrorCodes.UnknownMessage || c === RESTJSONErrorCodes.InvalidWebhookToken) return "gone";
      throw e;
    }
  }

  /**
   * Answers after a restart (or when this process does not know the state): reads the original
   * response to see whether it still shows "thinking…", and only then edits it.
   */
  private async answerLater(t: ReplyTarget, reply: Reply): Promise<void> {
    const age = Date.now() - t.at;
    if (age > TOKEN_TTL_MS) throw new GiveUp(`the interaction's token expired (${Math.round(age / 60_000)} min old; Discord allows 15)`);
    let original: { flags?: number } | undefined;
    try {
      original = (await this.o.rest.get(Routes.webhookMessage(t.app, t.token, "@original"), { auth: false })) as { flags?: number };
    } catch (e) {
      const c = code(e);
      // Deleted: a public deferral taken down for a refusal that goes privately. The crash came
      // between taking it down and the private answer (the likelier moment) or just after that
      // answer: send it (again). A refusal seen twice by its member beats one never seen.
      if (c === RESTJSONErrorCodes.UnknownMessage) {
        if (reply.ok) return;
        const { body, files } = this.message(reply, true);
        await this.o.rest.post(Routes.webhook(t.app, t.token), { body, files, auth: false });
        return;
      }
      if (c !== RESTJSONErrorCodes.UnknownWebhook) throw e;
      // Never acknowledged: only possible within the first 3 seconds.
      if (age > ACK_WINDOW_MS) throw new GiveUp("the interaction was never acknowledged and its 3 seconds are over");
      const { body, files } = this.message(reply, t.ephemeral, t.interaction);
      await this.o.rest.post(Routes.interactionCallback(t.interaction, t.token), { body: { type: 4, data: body }, files, auth: false });
      return;
    }
    if (((original.flags ?? 0) & FLAG_LOADING) === 0) return; // answered before the crash
    await this.finishDeferral(t, reply, ((original.flags ?? 0) & MessageFlags.Ephemeral) !== 0);
  }

  /** Replaces "thinking…" by the answer; a refusal after a public deferral goes privately instead. */
  private async finishDeferral(t: ReplyTarget, reply: Reply, ephemeral: boolean): Promise<void> {
    if (!reply.ok && !ephemeral) {
      // A public deferral cannot turn private: take it down, then answer privately.
      await this.o.rest.delete(Routes.webhookMessage(t.app, t.token, "@original"), { auth: false }).catch((e: unknown) => {
        if (code(e) !== RESTJSONErrorCodes.UnknownMessage) throw e;
      });
      const { body, files } = this.message(reply, true);
      await this.o.rest.post(Routes.webhook(t.app, t.token), { body, files, auth: false });
      return;
    }
    const { body, files } = this.message(reply, ephemeral, t.interaction);
    delete body.flags;
    await this.o.rest.patch(Routes.webhookMessage(t.app, t.token, "@original"), { body, files, auth: false });
  }

  /** A reply as a message: refusals are plain private text, answers an embed with buttons and charts. */
  message(reply: Reply, ephemeral: boolean, interaction?: string): { body: Record<string, unknown>; files: RawFile[] } {
    if (!reply.ok) return restMessage(errorPayload(reply.message), [], MessageFlags.Ephemeral);
    return restMessage(okPayload(reply, interaction), this.charts(reply), ephemeral ? MessageFlags.Ephemeral : undefined);
  }

  /** The files the command attaches to its answer (pool summary's charts); none if they fail to draw (the text still goes). */
  private charts(reply: Answered<unknown>): Files {
    try {
      return attachmentsOf(reply);
    } catch (e) {
      this.o.logger.error({ err: e }, "could not draw a summary chart");
      return [];
    }
  }

  /** A summary (kind "summary") carries its chart, its days in its pool's zone; a chart that fails to draw leaves the text alone. */
  private chartOf(m: Announcement | Note, view: View): Files {
    if (m.kind !== "summary") return [];
    try {
      return [{ name: CHART_FILE, png: renderSummaryChart(m.body, view) }];
    } catch (e) {
      this.o.logger.error({ err: e }, "could not draw a summary chart");
      return [];
    }
  }

  // -------------------------------------------------------------------------------------------
  // Channel messages and notes

  async announce(row: OutboxItem, key: string): Promise<void> {
    const channel = row.room.externalId;
    if (this.gone.has(channel)) {
      // Claimed in the same round as a message the channel refused: given up with the room, nothing to send.
      const room = await this.o.store.read((tx) => tx.room("discord", channel));
      if (room && room.unreachableSince !== null) return;
      this.gone.delete(channel);
    }
    try {
      if (row.message.kind === "board") return await this.showBoard(row, row.message.body, key);
      const payload = announcementPayload(renderAnnouncementMessage(row.message, { timeZone: row.timeZone }), announcementActions(row.message));
      await this.post(channel, payload, this.chartOf(row.message, { timeZone: row.timeZone }), discordNonce(key, row.createdAt));
    } catch (e) {
      const f = this.classify(e);
      if (!f.retry && f.roomGone) this.gone.add(channel);
      throw e;
    }
  }

  async note(row: NoteItem, key: string): Promise<void> {
    let channel = this.dmChannels.get(row.externalId);
    if (!channel) {
      const dm = (await this.o.rest.post(Routes.userChannels(), { body: { recipient_id: row.externalId } })) as { id: string };
      channel = dm.id;
      this.dmChannels.set(row.externalId, channel);
    }
    await this.post(
      channel,
      announcementPayload(renderNoteMessage(row.message, { timeZone: row.timeZone })),
      this.chartOf(row.message, { timeZone: row.timeZone }),
      discordNonce(key, row.createdAt),
    );
  }

  /**
   * Posts once (Discord returns the first message for a repeated nonce). Without Attach Files
   * (403, 50013) a message with a file goes again without it: the summary arrives without its chart.
   */
  private async post(channel: string, payload: ReplyPayload, files: Files, nonce: string): Promise<{ id: string }> {
    const send = (f: Files) => {
      const m = restMessage(payload, f);
      return this.o.rest.post(Routes.channelMessages(channel), { body: { ...m.body, nonce, enforce_nonce: true }, files: m.files }) as Promise<{ id: string }>;
    };
    try {
      return await send(files);
    } catch (e) {
      if (files.length === 0 || code(e) !== RESTJSONErrorCodes.MissingPermissions) throw e;
      this.o.logger.warn({ channel }, `no Attach Files permission in channel ${channel}: sent without the chart (invite the bot with Attach Files to get it)`);
      return send([]);
    }
  }

  /**
   * The channel's live task board: the message posted the first time is edited from then on. A
   * board message someone deleted is posted again.
   */
  private async showBoard(row: OutboxItem, board: BoardMessage, key: string): Promise<void> {
    const channel = row.room.externalId;
    const existing = await this.o.store.boardMessage(row.roomId);
    if (board.removed) {
      const id = board.messageId ?? existing;
      if (id !== null) {
        await this.o.rest.delete(Routes.channelMessage(channel, id)).catch((e: unknown) => {
          if (code(e) !== RESTJSONErrorCodes.UnknownMessage) throw e;
        });
      }
      return;
    }
    const payload = boardPayload(
      renderBoard(board, { timeZone: row.timeZone }),
      board.tasks.map((t) => t.id),
    );
    if (existing !== null) {
      try {
        await this.o.rest.patch(Routes.channelMessage(channel, existing), { body: restMessage(payload).body });
        return;
      } catch (e) {
        if (code(e) !== RESTJSONErrorCodes.UnknownMessage) throw e;
      }
    }
    const sent = await this.post(channel, payload, [], discordNonce(key, row.createdAt));
    await this.o.store.setBoardMessage(row.roomId, sent.id);
  }

  // -------------------------------------------------------------------------------------------

  classify(e: unknown): Failure {
    if (e instanceof GiveUp) return { retry: false, reason: e.message };
    if (e instanceof DiscordAPIError) {
      const what = `${e.status} ${String(e.code)} ${e.message.split("\n")[0]!.slice(0, 200)}`;
      switch (e.code) {
        case RESTJSONErrorCodes.UnknownInteraction:
        case RESTJSONErrorCodes.UnknownWebhook:
        case RESTJSONErrorCodes.InvalidWebhookToken:
          return { retry: false, reason: `the interaction can no longer be answered (${what})` };
        case RESTJSONErrorCodes.MissingAccess:
        case RESTJSONErrorCodes.UnknownChannel:
        case RESTJSONErrorCodes.MissingPermissions:
          return { retry: false, roomGone: true, reason: `the bot cannot post there (${what})` };
        case RESTJSONErrorCodes.CannotSendMessagesToThisUser:
          return { retry: false, reason: `the member does not take direct messages from the bot (${what})` };
      }
      if (e.status === 429 || e.status >= 500) return { retry: true, reason: what };
      return { retry: false, reason: `Discord refused the message (${what})` };
    }
    if (e instanceof RateLimitError) return { retry: true, afterMs: e.retryAfter, reason: `rate limited for ${e.retryAfter} ms` };
    if (e instanceof HTTPError) return { retry: e.status === 429 || e.status >= 500 || e.status === 0, reason: `${e.status} ${e.message}` };
    // Network trouble (connection refused or reset, timeouts, aborted requests) passes; anything else is a bug.
    const err = e as { name?: string; code?: unknown; cause?: { code?: unknown }; message?: string };
    if (typeof err?.code === "string" || typeof err?.cause?.code === "string" || err?.name === "AbortError" || err?.name === "TimeoutError") {
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a code is a string or an errno number
      return { retry: true, reason: `network: ${String(err.code ?? err.cause?.code ?? err.name)} ${err.message ?? ""}`.trim() };
    }
    return { retry: false, reason: `could not render or send the message: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** A queued announcement's buttons: a new task carries Claim. */
function announcementActions(m: Announcement): readonly Action[] {
  return m.kind === "task" ? [claimAction(m.body.task)] : [];
}
