// `npm start`: config -> database -> adapters. Discord connects when DISCORD_TOKEN and
// DISCORD_APP_ID are set, Matrix when MATRIX_HOMESERVER_URL and MATRIX_ACCESS_TOKEN (or
// MATRIX_USER and MATRIX_PASSWORD) are (environment or .env), side by side on one engine and
// database; with no platform configured it opens the local console room on the SQLite file
// (./data/dpool.sqlite, DPOOL_DB or --db).
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { startConsole } from "../adapters/console/repl.ts";
import { discordConfig } from "../adapters/discord/config.ts";
import { DiscordAdapter } from "../adapters/discord/client.ts";
import { MatrixAdapter } from "../adapters/matrix/client.ts";
import { matrixConfig } from "../adapters/matrix/config.ts";
import { DEFAULT_DB_FILE } from "../db/client.ts";
import { openApp } from "./app.ts";
import { startClockwork, type Clockwork } from "./clockwork.ts";
import { systemClock } from "./clock.ts";

export async function runConsole(dbFile: string, user = "admin", room = "lobby"): Promise<void> {
  const firstStart = dbFile === ":memory:" || !existsSync(dbFile);
  const app = openApp({ dbFile });
  // The pool's clockwork runs in the console too; the console shows its news after each command.
  const clockwork = await startClockwork({ store: app.store, clock: systemClock, afterTick: () => undefined, log: (m, e) => process.stderr.write(`${m}: ${String(e)}\n`) });
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
    await clockwork.stop();
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

interface Running {
  readonly name: string;
  deliver(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs the bot until SIGINT/SIGTERM; returns the exit code. Configuration errors are one line. */
export async function run(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const dbFile = dbFileFrom(argv, env);
  const discord = discordConfig(env);
  const matrix = matrixConfig(env);
  for (const c of [discord, matrix]) {
    if (!c.ok) {
      process.stderr.write(`d-pool: ${c.error}\n`);
      return 2;
    }
  }
  if (!discord.ok || !matrix.ok) return 2;
  if ((discord.value === null && matrix.value === null) || argv.includes("--console")) {
    await runConsole(dbFile);
    return 0;
  }
  // One engine and one database for every platform: announcements reach them all after commit.
  const running: Running[] = [];
  const app = openApp({ dbFile, afterCommit: () => running.forEach((a) => void a.deliver()) });
  const log = (m: string, e?: unknown) => process.stderr.write(`d-pool: ${m}${e ? `: ${e instanceof Error ? e.message : String(e)}` : ""}\n`);
  let clockwork: Clockwork | undefined;
  const stopAll = async () => {
    await clockwork?.stop();
    for (const r of running) await r.stop().catch(() => undefined);
    await app.close();
  };
  if (discord.value) {
    const bot = new DiscordAdapter({ token: discord.value.token, apiBase: discord.value.apiBase, engine: app.engine, store: app.store, clock: systemClock });
    try {
      await bot.start();
    } catch (e) {
      process.stderr.write(`d-pool: could not connect to Discord: ${e instanceof Error ? e.message : String(e)} (check DISCORD_TOKEN${discord.value.apiBase ? " and DISCORD_API_URL" : ""})\n`);
      await bot.stop().catch(() => undefined);
      await stopAll();
      return 1;
    }
    running.push({ name: `Discord as ${bot.client.user?.tag ?? "the bot"}`, deliver: () => bot.deliver(), stop: () => bot.stop() });
  }
  if (matrix.value) {
    const m = matrix.value;
    try {
      const bot = await MatrixAdapter.connect({
        ...m,
        storageFile: dbFile === ":memory:" ? join(process.cwd(), "data", "matrix-state.json") : join(dirname(resolve(dbFile)), "matrix-state.json"),
        engine: app.engine,
        store: app.store,
        clock: systemClock,
      });
      await bot.start();
      running.push({ name: `Matrix as ${bot.userId}`, deliver: () => bot.deliver(), stop: () => bot.stop() });
    } catch (e) {
      process.stderr.write(`d-pool: could not connect to Matrix at ${m.homeserverUrl}: ${e instanceof Error ? e.message : String(e)} (check MATRIX_ACCESS_TOKEN, or MATRIX_USER and MATRIX_PASSWORD)\n`);
      await stopAll();
      return 1;
    }
  }
  clockwork = await startClockwork({ store: app.store, clock: systemClock, afterTick: () => running.forEach((a) => void a.deliver()), log });
  process.stdout.write(`d-pool is connected to ${running.map((r) => r.name).join(" and ")}, database ${dbFile}. Ctrl-C stops it.\n`);
  await new Promise<void>((resolveStop) => {
    process.once("SIGINT", resolveStop);
    process.once("SIGTERM", resolveStop);
  });
  await stopAll();
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
