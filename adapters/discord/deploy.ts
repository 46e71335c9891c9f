// `npm run discord:register`: pushes the slash commands derived from the table to Discord, by
// bulk overwrite: globally (takes effect within the hour) or to one guild with
// DISCORD_GUILD_ID (at once, for testing). Run it by hand after the command table changed,
// never on every start.
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { PermissionFlagsBits, REST, Routes } from "discord.js";
import { table } from "../../commands/table.ts";
import { discordConfig } from "./config.ts";
import { slashCommands } from "./slash-json.ts";

/**
 * What the bot needs in a channel: View Channels (find the channels it announces in), Send Messages
 * (announcements), Embed Links (cards), Attach Files (the chart of each summary): 52224.
 */
export const INVITE_PERMISSIONS =
  PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages | PermissionFlagsBits.EmbedLinks | PermissionFlagsBits.AttachFiles;

/** The URL that adds the bot to a server with the slash commands and INVITE_PERMISSIONS. */
export function inviteUrl(appId: string): string {
  return `https://discord.com/oauth2/authorize?client_id=${appId}&scope=bot%20applications.commands&permissions=${INVITE_PERMISSIONS}`;
}

export async function registerCommands(o: { token: string; appId: string; guildId?: string | undefined; apiBase?: string | undefined }): Promise<number> {
  const rest = new REST(o.apiBase ? { api: o.apiBase } : {}).setToken(o.token);
  const body = slashCommands(table);
  const route = o.guildId ? Routes.applicationGuildCommands(o.appId, o.guildId) : Routes.applicationCommands(o.appId);
  const result = (await rest.put(route, { body })) as unknown[];
  return result.length;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const config = discordConfig(process.env);
  if (!config.ok || config.value === null) {
    console.error(config.ok ? "DISCORD_TOKEN and DISCORD_APP_ID are not set (environment or .env): see the README's Discord section." : config.error);
    process.exitCode = 2;
  } else {
    const c = config.value;
    registerCommands(c).then(
      (n) => {
        console.log(
          `Registered ${n} slash commands ${c.guildId ? `in guild ${c.guildId} (active now)` : "globally (Discord may take up to an hour to show them)"}.`,
        );
        console.log(`Invite the bot with: ${inviteUrl(c.appId)}`);
      },
      (e: unknown) => {
        console.error(`Discord refused the commands: ${e instanceof Error ? e.message : String(e)}`);
        process.exitCode = 1;
      },
    );
  }
}
