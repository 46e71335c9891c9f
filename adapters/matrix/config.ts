// Matrix's configuration from the environment (or .env), checked up front: one clear line on a
// bad value, never a stack trace. The line names the variable and the rule, never the value (a
// token or password pasted into the wrong variable must not end up in a log).
import { deliverySettings, type DeliverySettings } from "../../src/delivery.ts";
import { wholeNumbers } from "../../src/settings.ts";

/** Delivery's lease and poll (DeliverySettings) come from DPOOL_DELIVERY_LEASE_MS and DPOOL_DELIVERY_POLL_MS, as for Discord. */
export interface MatrixConfig extends DeliverySettings {
  readonly homeserverUrl: string;
  readonly accessToken?: string | undefined;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  readonly inviteServers: readonly string[];
  /** MATRIX_SYNC_TIMEOUT_MS: long-poll timeout of /sync (default 30 s). */
  readonly syncTimeoutMs?: number;
  /** MATRIX_TIMELINE_LIMIT: timeline events per room and sync asked of the homeserver (default 50). */
  readonly timelineLimit?: number;
}

export function matrixConfig(env: NodeJS.ProcessEnv): { ok: true; value: MatrixConfig | null } | { ok: false; error: string } {
  const url = env.MATRIX_HOMESERVER_URL?.trim();
  const token = env.MATRIX_ACCESS_TOKEN?.trim() || undefined;
  const user = env.MATRIX_USER?.trim() || undefined;
  const password = env.MATRIX_PASSWORD || undefined;
  if (!url && !token && !user) return { ok: true, value: null };
  if (!url) return { ok: false, error: "MATRIX_HOMESERVER_URL is missing: set it to your homeserver's client URL, such as https://matrix.example.org." };
  if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(url))
    return { ok: false, error: "MATRIX_HOMESERVER_URL must be an http(s) URL such as https://matrix.example.org, without spaces." };
  if (!token && !(user && password))
    return { ok: false, error: "Matrix needs MATRIX_ACCESS_TOKEN, or MATRIX_USER and MATRIX_PASSWORD for a first login (the token is then kept)." };
  if (user && !/^@?[a-z0-9._=\-/+]+(:[^\s]+)?$/i.test(user))
    return { ok: false, error: "MATRIX_USER must be a user name or id such as @dpool:example.org (letters, digits and ._=-/+ before the colon)." };
  const inviteServers = (env.MATRIX_INVITE_SERVERS ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const numbers = wholeNumbers(env, [
    ["MATRIX_SYNC_TIMEOUT_MS", "syncTimeoutMs", 0],
    ["MATRIX_TIMELINE_LIMIT", "timelineLimit", 1],
  ]);
  if (!numbers.ok) return numbers;
  const delivery = deliverySettings(env);
  if (!delivery.ok) return delivery;
  return {
    ok: true,
    value: { homeserverUrl: url.replace(/\/+$/, ""), accessToken: token, user, password, inviteServers, ...numbers.value, ...delivery.value },
  };
}
