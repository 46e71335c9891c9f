// `npm start`: config -> database -> adapters. Discord connects when DISCORD_TOKEN and
// DISCORD_APP_ID are set (environment or .env); with no platform configured it opens the local
// console room on the SQLite file (./data/dpool.sqlite, DPOOL_DB or --db).
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { startConsole } from "../adapters/console/repl.ts";
import { discordConfig } from "../adapters/discord/config.ts";
import { DiscordAdapter } from "../adapters/discord/client.ts";
import { DEFAULT_DB_FILE } from "../db/client.ts";
import { openApp } from "./app.ts";
import { systemClock } from "./clock.ts";

export async function runConsole(dbFile: string, user = "admin", room = "lobby"): Promise<void> {
  const firstStart = dbFile === ":memory:" || !existsSync(dbFile);
  const app = openApp({ dbFile });
  try {
    await startConsole({
      engine: app.engine,
      store: app.store,
      clock: systemClock,
      user,
      room,
      firstStart,
      historyFile: dbFile === ":memory:" ? undefined : join(dirname(resolve(dbFile)), "console_history"),
    });
  } finally {
    await app.close();
  }
}

export function dbFileFrom(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  const i = argv.indexOf("--db");
  const inline = argv.find((a) => a.startsWith("--db="));
  if (inline) return inline.slice(5);
  if (i >= 0 && argv[i + 1]) return argv[i + 1]!;
  return env.DPOOL_DB || DEFAULT_DB_FILE;
}

/** Runs the bot until SIGINT/SIGTERM; returns the exit code. Configuration errors are one line. */
export async function run(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const dbFile = dbFileFrom(argv, env);
  const discord = discordConfig(env);
  if (!discord.ok) {
    process.stderr.write(`d-pool: ${discord.error}\n`);
    return 2;
  }
  if (discord.value === null || argv.includes("--console")) {
    await runConsole(dbFile);
    return 0;
  }
  const adapters: DiscordAdapter[] = [];
  const app = openApp({ dbFile, afterCommit: () => adapters.forEach((a) => void a.deliver()) });
  const bot = new DiscordAdapter({ token: discord.value.token, apiBase: discord.value.apiBase, engine: app.engine, store: app.store, clock: systemClock });
  adapters.push(bot);
  try {
    await bot.start();
  } catch (e) {
    process.stderr.write(`d-pool: could not connect to Discord: ${e instanceof Error ? e.message : String(e)} (check DISCORD_TOKEN${discord.value.apiBase ? " and DISCORD_API_URL" : ""})\n`);
    await bot.stop().catch(() => undefined);
    await app.close();
    return 1;
  }
  process.stdout.write(`d-pool is connected to Discord as ${bot.client.user?.tag ?? "the bot"}, database ${dbFile}. Ctrl-C stops it.\n`);
  await new Promise<void>((resolveStop) => {
    process.once("SIGINT", resolveStop);
    process.once("SIGTERM", resolveStop);
  });
  await bot.stop();
  await app.close();
  return 0;
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isEntry) {
  if (existsSync(".env")) process.loadEnvFile(".env");
  run(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`d-pool could not start: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
