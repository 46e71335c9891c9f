// `npm start`: config -> database -> adapters. With no platform tokens it opens the local
// console room on the SQLite file (./data/dpool.sqlite, DPOOL_DB or --db).
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { startConsole } from "../adapters/console/repl.ts";
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

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isEntry) {
  const dbFile = dbFileFrom(process.argv.slice(2), process.env);
  runConsole(dbFile).catch((e: unknown) => {
    process.stderr.write(`d-pool could not start: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
