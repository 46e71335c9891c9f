// Secrets never reach a log line or a file other users can read. `scrubSecrets` replaces what
// looks like a credential in free text (error messages, stacks, URLs, response bodies): Bearer
// and Bot authorisations, Matrix access and refresh tokens (syt_/syr_), Discord bot tokens and
// interaction tokens in webhook URLs, `access_token=` and the like in query strings, and
// passwords and tokens in JSON bodies. The logger (src/log.ts) runs it over every line it writes.
// `keepPrivate` makes a file that holds tokens readable by the bot's user only.
import { chmodSync, statSync } from "node:fs";

export const REDACTED = "[redacted]";

/** Keys whose values are secrets wherever they appear (objects, JSON bodies, query strings). */
const SECRET_KEYS = ["password", "access_token", "accessToken", "refresh_token", "refreshToken", "token", "new_password", "authorization", "Authorization"];
const KEY_ALT = SECRET_KEYS.join("|");

const RULES: ReadonlyArray<readonly [RegExp, string]> = [
  // Authorization headers, as text: "Bearer syt_...", "Bot MTk4...".
  [/\b(Bearer|Bot)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`],
  // Matrix access and refresh tokens (Synapse: syt_<user>_<random>_<crc>, syr_...).
  [/\bsy[tr]_[A-Za-z0-9_=-]{6,}/g, REDACTED],
  // Discord bot tokens: base64 user id . timestamp . HMAC.
  [/\b[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{20,}\b/g, REDACTED],
  // Interaction tokens in webhook and callback URLs: /webhooks/<app id>/<token>, /interactions/<id>/<token>.
  [/\/(webhooks|interactions)\/(\d+)\/[A-Za-z0-9._-]{16,}/g, `/$1/$2/${REDACTED}`],
  // Query strings and form bodies: ?access_token=..., &password=...
  [new RegExp(`([?&;\\s]|^)(${KEY_ALT})=[^&\\s"'#]+`, "g"), `$1$2=${REDACTED}`],
  // JSON bodies: "password":"...", and the same escaped once inside a string (\"password\":\"...\").
  [new RegExp(`"(${KEY_ALT})"\\s*:\\s*"(?:[^"\\\\]|\\\\.)*"`, "g"), `"$1":"${REDACTED}"`],
  [new RegExp(`\\\\"(${KEY_ALT})\\\\"\\s*:\\s*\\\\"(?:[^"\\\\]|\\\\[^"])*\\\\"`, "g"), `\\"$1\\":\\"${REDACTED}\\"`],
];

/** The text with everything that looks like a credential replaced by "[redacted]". */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}

const SECRET_KEY_SET = new Set(SECRET_KEYS.map((k) => k.toLowerCase()));

/**
 * A copy of a value for a log line with every string scrubbed and the values of secret keys
 * (password, token, authorization, ...) replaced, at any depth (bounded, cycles cut).
 */
export function scrubValue(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === "string") return scrubSecrets(value);
  if (value === null || typeof value !== "object") return value;
  if (depth > 6 || seen.has(value)) return "[…]";
  seen.add(value);
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => scrubValue(v, depth + 1, seen));
  if (value instanceof Error) {
    const out: Record<string, unknown> = {
      type: value.name,
      message: scrubSecrets(value.message),
      stack: value.stack === undefined ? undefined : scrubSecrets(value.stack),
    };
    for (const [k, v] of Object.entries(value)) if (!(k in out)) out[k] = SECRET_KEY_SET.has(k.toLowerCase()) ? REDACTED : scrubValue(v, depth + 1, seen);
    if (value.cause !== undefined) out.cause = scrubValue(value.cause, depth + 1, seen);
    return out;
  }
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null && typeof (value as { toJSON?: unknown }).toJSON === "function")
    return scrubValue((value as { toJSON(): unknown }).toJSON(), depth + 1, seen);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = SECRET_KEY_SET.has(k.toLowerCase()) && v !== null && v !== undefined ? REDACTED : scrubValue(v, depth + 1, seen);
  return out;
}

/** The values of the settings that are secrets (at least 6 characters), to blank out wherever they appear. */
export function secretValues(env: NodeJS.ProcessEnv): string[] {
  return ["DISCORD_TOKEN", "MATRIX_ACCESS_TOKEN", "MATRIX_PASSWORD"].map((k) => env[k]?.trim() ?? "").filter((v) => v.length >= 6);
}

/**
 * Makes a file that holds tokens readable and writable by its owner only. Returns the mode it
 * had when that was wider (and so was changed), or null when it was private already or absent.
 */
export function keepPrivate(file: string): number | null {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  if ((mode & 0o077) === 0) return null;
  chmodSync(file, 0o600);
  return mode;
}

/** The log line for a file keepPrivate tightened. */
export function tightenedLine(file: string, mode: number): string {
  return `${file} was readable by other users (mode ${mode.toString(8).padStart(4, "0")}); it holds tokens, so it is now readable by the bot's user only (0600)`;
}
