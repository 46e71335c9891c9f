// `npm start`: config -> database -> adapters. Discord connects when DISCORD_TOKEN and
// DISCORD_APP_ID are set, Matrix when MATRIX_HOMESERVER_URL and MATRIX_ACCESS_TOKEN (or
// MATRIX_USER and MATRIX_PASSWORD) are (environment or .env), side by side on one engine and
// database; with no platform configured it opens the local console room on the SQLite file
// (./data/dpool.sqlite, DPOOL_DB or --db). A platform's adapter (and its SDK: discord.js, the
// Matrix SDK) and the console are loaded only when they are used, so that starting one of them,
// or `dpool exec`, does not pay for loading the others.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { discordConfig } from "../adapters/discord/config.ts";
import { matrixConfig } from "../adapters/matrix/config.ts";
import { DEFAULT_DB_FILE } from "../db/client.ts";
import { openApp, openDatabaseUrl } from "./app.ts";
import { startClockwork, type Clockwork } from "./clockwork.ts";
import { systemClock } from "./clock.ts";
import { EXIT, FatalError, type OnFatal } from "./lifecycle.ts";
import { errorText, loggerFromEnv, type Logger } from "./log.ts";
import type { Store } from "./store.ts";

export async function runConsole(dbFile: string, user = "admin", room = "lobby", store?: Store): Promise<void> {
  const app = openApp({ dbFile, store });
  // The welcome and tour greet a database that holds no pool yet: a new SQLite file, or an empty
  // PostgreSQL database (which has no file to look for).
  const firstStart = (await app.store.read((tx) => tx.pools())).length === 0;
  // The pool's clockwork runs in the console too; the console shows its news after each command.
  const clockwork = await startClockwork({
    store: app.store,
    clock: systemClock,
    afterTick: () => undefined,
    logger: loggerFromEnv(process.env).child({ platform: "scheduler" }),
  });
  try {
    const { startConsole } = await import("../adapters/console/repl.ts");
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

/** How long a platform may stay unreachable before the bot gives up (DPOOL_GIVE_UP_AFTER, in minutes). */
export function giveUpAfterMs(env: NodeJS.ProcessEnv): number {
  const minutes = Number(env.DPOOL_GIVE_UP_AFTER ?? "15");
  return Number.isFinite(minutes) && minutes > 0 ? minutes * 60_000 : 15 * 60_000;
}

/**
 * Connects a platform, retrying with back-off while it is out of reach (one log line when the
 * trouble starts, one when it ends); wrong credentials (a FatalError from the adapter) end at once.
 */
async function connect<T>(what: string, attempt: () => Promise<T>, o: { logger: Logger; giveUpAfterMs: number; stopping: () => boolean }): Promise<T> {
  const started = Date.now();
  for (let n = 0; ; n++) {
    try {
      const value = await attempt();
      if (n > 0) o.logger.info(`${what} is reachable again; connected`);
      return value;
    } catch (e) {
      // The adapters tell refused credentials (a FatalError) from a platform out of reach.
      if (e instanceof FatalError) throw e;
      if (o.stopping()) throw e;
      if (Date.now() - started >= o.giveUpAfterMs) {
        throw new FatalError(
          `${what} stayed unreachable for ${Math.round((Date.now() - started) / 60_000)} min (${errorText(e)}); giving up`,
          EXIT.unreachable,
        );
      }
      if (n === 0) o.logger.warn(`${what} is unreachable (${errorText(e)}); retrying with back-off`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(60_000, 1000 * 2 ** n)));
    }
  }
}

/**
 * Runs the bot until it is asked to stop (SIGINT/SIGTERM: exit 0) or cannot go on; returns the
 * exit code (src/lifecycle.ts). Every way out logs one line; waits keep the process alive.
 */
export async function run(argv: readonly string[], env: NodeJS.ProcessEnv, logger: Logger = loggerFromEnv(env)): Promise<number> {
  const dbFile = dbFileFrom(argv, env);
  const discord = discordConfig(env);
  const matrix = matrixConfig(env);
  for (const c of [discord, matrix]) {
    if (!c.ok) {
      logger.fatal(`configuration: ${c.error}`);
      return EXIT.config;
    }
  }
  if (!discord.ok || !matrix.ok) return EXIT.config;
  // DPOOL_DATABASE_URL=postgres://...: every process on one PostgreSQL database; else the SQLite file.
  let store: Store | undefined;
  try {
    store = await openDatabaseUrl(env);
  } catch (e) {
    logger.fatal(errorText(e));
    return e instanceof FatalError ? e.exitCode : EXIT.error;
  }
  if ((discord.value === null && matrix.value === null) || argv.includes("--console")) {
    await runConsole(dbFile, undefined, undefined, store);
    return EXIT.stopped;
  }

  // Until the bot is asked to stop, something must hold the event loop: a wait for a rate limit
  // or a reconnect must never let the process drain away and exit 0 in silence.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let stopping = false;
  let finish: (code: number, why: string, err?: unknown) => void = () => undefined;
  const finished = new Promise<number>((resolve) => {
    finish = (code, why, err) => {
      if (stopping) return;
      stopping = true;
      if (code === EXIT.stopped) logger.info(why);
      else logger.fatal({ exitCode: code, ...(err === undefined ? {} : { err }) }, why);
      resolve(code);
    };
  });
  const onFatal: OnFatal = (e) => finish(e.exitCode, e.message);
  const onSignal = (signal: string) => () => finish(EXIT.stopped, `${signal} received: stopping`);
  const onUncaught = (e: unknown) => finish(EXIT.error, `unexpected error: ${errorText(e)}`, e);
  const onBeforeExit = () => finish(EXIT.error, "the event loop ran empty while the bot was meant to run (a bug): stopping");
  const sigint = onSignal("SIGINT");
  const sigterm = onSignal("SIGTERM");
  process.once("SIGINT", sigint);
  process.once("SIGTERM", sigterm);
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);
  process.on("beforeExit", onBeforeExit);

  // One engine and one database for every platform: announcements reach them all after commit.
  const running: Running[] = [];
  const app = openApp({ dbFile, store, logger, afterCommit: () => running.forEach((a) => void a.deliver()) });
  let clockwork: Clockwork | undefined;
  const giveUp = giveUpAfterMs(env);
  const retry = { logger, giveUpAfterMs: giveUp, stopping: () => stopping };
  try {
    if (discord.value) {
      const d = discord.value;
      const { DiscordAdapter } = await import("../adapters/discord/client.ts");
      const bot = await connect(
        "Discord",
        async () => {
          const b = new DiscordAdapter({
            token: d.token,
            apiBase: d.apiBase,
            // DPOOL_DELIVERY_LEASE_MS and DPOOL_DELIVERY_POLL_MS, when set.
            ...(d.leaseMs === undefined ? {} : { leaseMs: d.leaseMs }),
            ...(d.pollMs === undefined ? {} : { pollMs: d.pollMs }),
            engine: app.engine,
            store: app.store,
            clock: systemClock,
            logger,
            onFatal,
            // Interactions acknowledged but not yet run, kept beside the database (none in memory).
            inboxFile: dbFile === ":memory:" ? null : `${resolve(dbFile)}.discord-inbox`,
          });
          try {
            await b.start();
            return b;
          } catch (e) {
            await b.stop().catch(() => undefined);
            throw e;
          }
        },
        retry,
      );
      running.push({ name: `Discord as ${bot.client.user?.tag ?? "the bot"}`, deliver: () => bot.deliver(), stop: () => bot.stop() });
    }
    if (matrix.value) {
      const m = matrix.value;
      const { MatrixAdapter } = await import("../adapters/matrix/client.ts");
      const bot = await connect(
        `the Matrix homeserver at ${m.homeserverUrl}`,
        async () => {
          const b = await MatrixAdapter.connect({
            ...m,
            storageFile: dbFile === ":memory:" ? join(process.cwd(), "data", "matrix-state.json") : join(dirname(resolve(dbFile)), "matrix-state.json"),
            engine: app.engine,
            store: app.store,
            clock: systemClock,
            logger,
            onFatal,
            giveUpAfterMs: giveUp,
          });
          await b.start();
          return b;
        },
        retry,
      );
      running.push({ name: `Matrix as ${bot.userId}`, deliver: () => bot.deliver(), stop: () => bot.stop() });
    }
    if (!stopping) {
      clockwork = await startClockwork({
        store: app.store,
        clock: systemClock,
        afterTick: () => running.forEach((a) => void a.deliver()),
        logger: logger.child({ platform: "scheduler" }),
      });
      logger.info(
        `d-pool is connected to ${running.map((r) => r.name).join(" and ")}, database ${store ? "PostgreSQL (DPOOL_DATABASE_URL)" : dbFile}. Ctrl-C stops it.`,
      );
    }
  } catch (e) {
    if (e instanceof FatalError) finish(e.exitCode, e.message);
    else finish(EXIT.error, `could not start: ${errorText(e)}`, e);
  }
  const code = await finished;
  try {
    await clockwork?.stop();
    for (const r of running) await r.stop().catch((e: unknown) => logger.warn({ err: e }, `could not stop ${r.name} cleanly`));
    await app.close();
  } finally {
    clearInterval(keepAlive);
    process.off("SIGINT", sigint);
    process.off("SIGTERM", sigterm);
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onUncaught);
    process.off("beforeExit", onBeforeExit);
  }
  return code;
}

/** `npm start` (bin/start.js): .env, the logger, then the bot until it stops; exits with its code. */
export function runFromCommandLine(): void {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const logger = loggerFromEnv(process.env);
  run(process.argv.slice(2), process.env, logger).then(
    // Exit now: a platform client that keeps a socket open must not hold a stopped bot alive.
    (code) => process.exit(code),
    (e: unknown) => {
      logger.fatal({ err: e }, `d-pool could not start: ${errorText(e)}`);
      process.exit(EXIT.error);
    },
  );
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isEntry) runFromCommandLine();
