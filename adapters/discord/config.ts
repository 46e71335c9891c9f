// Discord's configuration from the environment (or .env): checked up front, so that a bad
// value gives one clear line instead of a stack trace. The line names the variable and the rule,
// never the value: a token pasted into the wrong variable must not end up in a log.
import { deliverySettings, type DeliverySettings } from "../../src/delivery.ts";

export interface DiscordConfig extends DeliverySettings {
  readonly token: string;
  readonly appId: string;
  readonly guildId?: string | undefined;
  readonly apiBase?: string | undefined;
}

const SNOWFLAKE = /^\d{15,22}$/;

/** null when Discord is not configured at all; an error line when it is half or badly configured. */
export function discordConfig(env: NodeJS.ProcessEnv): { ok: true; value: DiscordConfig | null } | { ok: false; error: string } {
  const token = env.DISCORD_TOKEN?.trim();
  const appId = env.DISCORD_APP_ID?.trim();
  if (!token && !appId) return { ok: true, value: null };
  if (!token) return { ok: false, error: "DISCORD_APP_ID is set but DISCORD_TOKEN is not: copy the bot token from the Developer Portal (Bot > Reset Token)." };
  if (!appId)
    return { ok: false, error: "DISCORD_TOKEN is set but DISCORD_APP_ID is not: copy the Application ID from the Developer Portal (General Information)." };
  if (!SNOWFLAKE.test(appId))
    return {
      ok: false,
      error: `DISCORD_APP_ID must be the application's numeric id (15 to 22 digits, from General Information)${/^\d+$/.test(appId) ? "" : `; the value set has other characters (is the bot token in it?)`}.`,
    };
  if (!/^[\w.-]{20,200}$/.test(token))
    return { ok: false, error: "DISCORD_TOKEN does not look like a bot token: copy it again from the Developer Portal (Bot > Reset Token)." };
  const guildId = env.DISCORD_GUILD_ID?.trim() || undefined;
  if (guildId !== undefined && !SNOWFLAKE.test(guildId))
    return { ok: false, error: "DISCORD_GUILD_ID must be a server's numeric id (15 to 22 digits: right-click the server, Copy Server ID)." };
  const apiBase = env.DISCORD_API_URL?.trim() || undefined;
  if (apiBase !== undefined && !/^https?:\/\/[^\s]+$/.test(apiBase))
    return { ok: false, error: "DISCORD_API_URL must be an http(s) URL such as http://localhost:8080/api, without spaces." };
  // Delivery's lease and poll (DPOOL_DELIVERY_LEASE_MS, DPOOL_DELIVERY_POLL_MS), as for Matrix.
  const delivery = deliverySettings(env);
  if (!delivery.ok) return delivery;
  return { ok: true, value: { token, appId, guildId, apiBase, ...delivery.value } };
}
