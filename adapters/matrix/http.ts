// What a failed homeserver call means, and the transaction ids that make sends idempotent.
// Platform facts only (Synapse's behaviour, matrix-bot-sdk's error shapes): no d-pool logic.
import { createHash } from "node:crypto";
import { LogLevel, LogService, MatrixError } from "@vector-im/matrix-bot-sdk";
import type { Logger } from "../../src/log.ts";

/** What a failed request means for the caller. */
export type HttpTrouble =
  /** 429 M_LIMIT_EXCEEDED: wait `afterMs`, then try again. */
  | { readonly kind: "rate"; readonly afterMs: number; readonly reason: string }
  /** The homeserver is out of reach or failing (network, timeouts, 5xx, a proxy's error page). */
  | { readonly kind: "down"; readonly reason: string }
  /** 401: the access token is unknown, expired or missing. Restarting will not help. */
  | { readonly kind: "token"; readonly reason: string }
  /** 403 M_FORBIDDEN: the bot may not do this (not in the room: kicked, banned, never joined). */
  | { readonly kind: "forbidden"; readonly reason: string }
  /** Any other refusal (400, 404, 413...): sending the same again will fail again. */
  | { readonly kind: "refused"; readonly reason: string };

const NETWORK = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
]);

/** Reads an error thrown by matrix-bot-sdk (MatrixError, a raw non-2xx response, or a network error). */
export function troubleOf(e: unknown): HttpTrouble {
  if (e instanceof MatrixError || (isObject(e) && typeof e.errcode === "string" && typeof e.statusCode === "number")) {
    const m = e as MatrixError;
    const reason = `${m.statusCode} ${m.errcode}${m.error ? `: ${String(m.error).slice(0, 200)}` : ""}`;
    if (m.statusCode === 429 || m.errcode === "M_LIMIT_EXCEEDED") {
      const body = (m as { body?: { retry_after_ms?: unknown } }).body;
      const after = typeof m.retryAfterMs === "number" ? m.retryAfterMs : typeof body?.retry_after_ms === "number" ? body.retry_after_ms : 1000;
      return { kind: "rate", afterMs: Math.max(0, after), reason };
    }
    if (m.statusCode === 401 || m.errcode === "M_UNKNOWN_TOKEN" || m.errcode === "M_MISSING_TOKEN") return { kind: "token", reason };
    if (m.statusCode >= 500) return { kind: "down", reason };
    if (m.statusCode === 403 && m.errcode === "M_FORBIDDEN") return { kind: "forbidden", reason };
    return { kind: "refused", reason };
  }
  // A non-2xx answer without a Matrix error body: matrix-bot-sdk throws the response itself.
  if (isObject(e) && typeof e.statusCode === "number") {
    const status = e.statusCode;
    const reason = `HTTP ${status}${typeof e.statusMessage === "string" && e.statusMessage ? ` ${e.statusMessage}` : ""}`;
    if (status === 429) return { kind: "rate", afterMs: retryAfterHeader(e) ?? 1000, reason };
    if (status === 401) return { kind: "token", reason };
    if (status >= 500 || status === 408) return { kind: "down", reason };
    return { kind: "refused", reason };
  }
  const code = isObject(e) && typeof e.code === "string" ? e.code : undefined;
  const message = e instanceof Error ? e.message : String(e);
  if (code && NETWORK.has(code))
    return { kind: "down", reason: `${code}${message && !message.includes(code) ? `: ${message}` : message ? ` (${message})` : ""}`.slice(0, 200) };
  if (/socket hang up|timed? ?out|network/i.test(message)) return { kind: "down", reason: message.slice(0, 200) };
  return { kind: "refused", reason: message.split("\n")[0]!.slice(0, 200) };
}

function retryAfterHeader(res: Record<string, unknown>): number | undefined {
  const headers = res.headers as Record<string, unknown> | undefined;
  const v = headers?.["retry-after"];
  const n = typeof v === "string" ? Number(v) : NaN;
  return Number.isFinite(n) ? n * 1000 : undefined;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null;

/**
 * The Matrix transaction id for a message: the same delivery key always gives the same id, so
 * a send repeated after a crash or by another process is answered by the homeserver with the
 * first event and sends nothing. `salt` (a row's creation time) keeps two databases that count
 * rows from 1 apart for one bot account.
 */
export function txnIdOf(key: string, salt?: string | number): string {
  const h = createHash("sha256")
    .update(salt === undefined ? key : `${key}\u0000${salt}`)
    .digest("base64url");
  return `dpool.${h.slice(0, 32)}`;
}

/**
 * Routes matrix-bot-sdk's LogService to the logger: its warnings and errors at warn, with the
 * module named. Errors of individual HTTP requests are left out (each failed request is logged
 * by the SDK before the adapter decides what it means; the adapter logs what matters, once), and
 * so are the expected 404s (unset account data such as m.direct).
 */
export function routeSdkLogs(logger: Logger): void {
  const log = logger.child({ platform: "matrix", module: "matrix-bot-sdk" });
  const text = (parts: unknown[]) =>
    parts
      .map((p) => (typeof p === "string" ? p : p instanceof Error ? p.message : JSON.stringify(p)))
      .join(" ")
      .slice(0, 500);
  const quiet = (module: string, parts: unknown[]) =>
    module === "MatrixHttpClient" || parts.some((p) => isObject(p) && (p.errcode === "M_NOT_FOUND" || p.statusCode === 404));
  LogService.setLogger({
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (module: string, ...parts: unknown[]) => {
      if (!quiet(module, parts)) log.warn({ sdkModule: module }, text(parts));
    },
    error: (module: string, ...parts: unknown[]) => {
      if (quiet(module, parts)) log.debug({ sdkModule: module }, text(parts));
      else log.warn({ sdkModule: module }, text(parts));
    },
  });
  LogService.setLevel(LogLevel.WARN);
}
