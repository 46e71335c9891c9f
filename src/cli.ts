// `dpool`: the one-shot command line for scripts and tests, and the way into the console.
//   dpool exec [--db FILE] [--as NAME] [--room NAME] [--at ISO-TIME] [--json] [--request-id ID] -- <command text>
//   dpool console [--db FILE]      (the same as npm start without platform tokens)
//   dpool backup | export | import (src/cli-data.ts)
//   dpool migrate-to-postgres --from FILE --to URL (db/migrate-to-pg.ts)
// DPOOL_DATABASE_URL=postgres://... runs `dpool exec` on that PostgreSQL database instead of the file.
// Exit codes: 0 ok, 1 refused (or a bug), 2 usage error, 3 the database cannot be used.
// Everything after `--` is command text, also words that look like dpool's own options.
import { createLogger } from "./log.ts";
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { docToText } from "../commands/doc.ts";
import { runText } from "../commands/dispatch.ts";
import { quote } from "../commands/text.ts";
import { DEFAULT_DB_FILE } from "../db/client.ts";
import { consoleText } from "../adapters/console/render.ts";
import { openApp, openDatabaseUrl } from "./app.ts";
import { systemClock } from "./clock.ts";
import { backupCommand, DATA_USAGE, exportCommand, failureOf, importCommand, tell } from "./cli-data.ts";
import { excerpt } from "./core/clean-text.ts";
import { parseMoment } from "./core/moments.ts";

const USAGE =
  "usage: dpool exec [--db FILE] [--as NAME] [--room NAME] [--at ISO-TIME] [--json] [--request-id ID] -- <command text>\n" +
  "       dpool console [--db FILE] [--as NAME] [--room NAME]\n" +
  DATA_USAGE +
  "\n       dpool migrate-to-postgres --from FILE --to postgres://USER@HOST:PORT/DATABASE [--json]";

export interface CliOptions {
  db: string;
  as: string;
  room: string;
  at: Date | undefined;
  json: boolean;
  requestId: string | undefined;
  rest: string[];
}

const CONSOLE_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/i;

export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv): { ok: true; opts: CliOptions } | { ok: false; problem: string } {
  const opts: CliOptions = { db: env.DPOOL_DB || DEFAULT_DB_FILE, as: "admin", room: "lobby", at: undefined, json: false, requestId: undefined, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      opts.rest = argv.slice(i + 1);
      break;
    }
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new Error(`${flag} needs a value`);
      return v;
    };
    try {
      switch (flag) {
        case "--db":
          opts.db = value();
          break;
        case "--as":
          opts.as = value();
          if (!CONSOLE_NAME.test(opts.as))
            return { ok: false, problem: `--as takes a name of letters, digits, - and _ (like alice), not "${excerpt(opts.as)}"` };
          break;
        case "--room":
          opts.room = value();
          if (!CONSOLE_NAME.test(opts.room))
            return { ok: false, problem: `--room takes a name of letters, digits, - and _ (like bakery), not "${excerpt(opts.room)}"` };
          break;
        case "--at": {
          const v = value();
          // Strict: 2026-02-30 is refused, not read as 2 March; a date alone is its midnight UTC.
          const m = parseMoment(v);
          if (!m.ok)
            return {
              ok: false,
              problem: `--at takes an ISO time such as 2026-11-27T09:00:00Z or a date such as 2026-11-27, not "${excerpt(v)}"${m.why ? ` (${m.why})` : ""}`,
            };
          opts.at = new Date(m.ms);
          break;
        }
        case "--json":
          opts.json = true;
          break;
        case "--request-id":
          opts.requestId = value();
          break;
        default:
          if (a.startsWith("-")) return { ok: false, problem: `unknown option ${excerpt(a)}` };
          opts.rest = argv.slice(i);
          i = argv.length;
      }
    } catch (e) {
      return { ok: false, problem: (e as Error).message };
    }
  }
  return { ok: true, opts };
}

/** Shell words back to command text: one word is taken as the whole line; several are re-quoted. */
export function argvToText(words: readonly string[]): string {
  if (words.length === 1) return words[0]!;
  return words
    .map((w) => {
      const m = /^([a-z][a-z0-9-]{0,31}):(.*)$/is.exec(w);
      return m ? `${m[1]}:${quote(m[2]!)}` : quote(w);
    })
    .join(" ");
}

export async function exec(argv: readonly string[], env: NodeJS.ProcessEnv, out: (s: string) => void, errOut: (s: string) => void): Promise<number> {
  const parsed = parseCliArgs(argv, env);
  const dashes = argv.indexOf("--");
  const wantsJson = (dashes < 0 ? argv : argv.slice(0, dashes)).includes("--json");
  const usage = (problem: string) => {
    if (wantsJson) out(JSON.stringify({ ok: false, error: { code: "usage", message: problem } }));
    else errOut(`${problem}\n${USAGE}`);
    return 2;
  };
  if (!parsed.ok) return usage(parsed.problem);
  const o = parsed.opts;
  if (o.rest.length === 0) return usage("no command given: put it after --, e.g. dpool exec -- pool info");
  let app: ReturnType<typeof openApp>;
  let store: Awaited<ReturnType<typeof openDatabaseUrl>>;
  try {
    // pg is loaded only when DPOOL_DATABASE_URL is set.
    store = await openDatabaseUrl(env);
  } catch (e) {
    return tell({ code: "database", message: e instanceof Error ? e.message : String(e), exit: 3 }, o.json, out, errOut);
  }
  try {
    app = openApp({
      dbFile: o.db,
      store,
      logger: createLogger({
        level: env.DPOOL_LOG_LEVEL,
        pretty: env.DPOOL_LOG_FORMAT !== "json",
        destination: { write: (line: string) => errOut(line.trimEnd()) },
      }),
    });
  } catch (e) {
    // A folder, a file that is not a database, a read-only place: one line, never a stack.
    return tell(failureOf(e, o.db), o.json, out, errOut);
  }
  try {
    const reply = await runText(
      app.engine,
      {
        caller: { platform: "console", userId: o.as.toLowerCase(), displayName: o.as, roomId: o.room.toLowerCase() },
        requestId: o.requestId ?? `console:${randomBytes(8).toString("hex")}`,
        now: o.at ?? systemClock.now(),
        // A time given with --at may not go back before the pool's clock (time only moves forward).
        timeGiven: o.at !== undefined,
      },
      argvToText(o.rest),
    );
    if (o.json) {
      out(
        JSON.stringify(
          reply.ok
            ? { ok: true, command: reply.command, data: reply.data, text: docToText(reply.doc), replayed: reply.replayed }
            : { ok: false, error: { code: reply.code, message: reply.message } },
        ),
      );
    } else {
      // Replies wrap to 80 columns; a refusal stays one line.
      (reply.ok ? out : errOut)(consoleText(reply.doc, { colour: Boolean(process.stdout.isTTY) && !env.NO_COLOR, ...(reply.ok ? {} : { width: Infinity }) }));
    }
    return reply.ok ? 0 : reply.code === "usage" ? 2 : 1;
  } catch (e) {
    return tell(failureOf(e, o.db), o.json, out, errOut);
  } finally {
    await app.close().catch(() => undefined);
  }
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const write = (s: string) => process.stdout.write(`${s}\n`);
  const writeErr = (s: string) => process.stderr.write(`${s}\n`);
  switch (sub) {
    case "exec":
      return exec(rest, process.env, write, writeErr);
    case "backup":
      return backupCommand(rest, process.env, write, writeErr);
    case "export":
      return exportCommand(rest, process.env, write, writeErr);
    case "import":
      return importCommand(rest, process.env, write, writeErr);
    case "migrate-to-postgres": {
      // Loaded here only: pg and the copy are no cost to dpool exec.
      const { migrateCommand } = await import("../db/migrate-to-pg.ts");
      return migrateCommand(rest, write, writeErr);
    }
    case "console": {
      const parsed = parseCliArgs(rest, process.env);
      if (!parsed.ok) {
        writeErr(`${parsed.problem}\n${USAGE}`);
        return 2;
      }
      try {
        // Loaded here only: `dpool exec` never pays for the console and the bot's wiring.
        const { runConsole } = await import("./main.ts");
        await runConsole(parsed.opts.db, parsed.opts.as, parsed.opts.room);
      } catch (e) {
        return tell(failureOf(e, parsed.opts.db), false, write, writeErr);
      }
      return 0;
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      write(USAGE);
      return sub === undefined ? 2 : 0;
    default:
      writeErr(`unknown subcommand "${excerpt(sub)}"\n${USAGE}`);
      return 2;
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
