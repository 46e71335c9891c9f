// One logger for the whole process (pino). Every line is one event with a level; lines about a
// command carry `platform` and `requestId`, a bug carries its `incident` id, which is what the
// member was shown. In a terminal the lines are pretty; under a service manager (stderr not a
// TTY) they are JSON, one per line. DPOOL_LOG_LEVEL (trace, debug, info, warn, error, fatal)
// and DPOOL_LOG_FORMAT (pretty or json) override the defaults.
import { Writable } from "node:stream";
import { pino, type DestinationStream, type Level, type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger };

export const LOG_LEVELS: readonly Level[] = ["trace", "debug", "info", "warn", "error", "fatal"];

export interface LoggerOptions {
  readonly level?: string;
  /** Human-readable lines (default: when stderr is a terminal). */
  readonly pretty?: boolean;
  /** Where lines go (default: stderr, written synchronously so nothing is lost at exit). */
  readonly destination?: DestinationStream;
}

/** The process's logger, configured from the environment. */
export function loggerFromEnv(env: NodeJS.ProcessEnv, o: { destination?: DestinationStream } = {}): Logger {
  const format = env.DPOOL_LOG_FORMAT?.toLowerCase();
  return createLogger({
    level: env.DPOOL_LOG_LEVEL,
    pretty: format === "pretty" ? true : format === "json" ? false : undefined,
    destination: o.destination,
  });
}

export function createLogger(o: LoggerOptions = {}): Logger {
  const level = o.level && (LOG_LEVELS as readonly string[]).includes(o.level.toLowerCase()) ? o.level.toLowerCase() : "info";
  const wantPretty = o.pretty ?? (o.destination === undefined && process.stderr.isTTY === true);
  const base = { name: "d-pool" };
  if (wantPretty) {
    const dest = o.destination;
    const stream = pretty({
      // pino-pretty writes to a real stream: a plain { write } object is wrapped in one.
      destination:
        dest === undefined
          ? 2
          : dest instanceof Writable
            ? dest
            : new Writable({
                write(chunk: Buffer, _enc, done) {
                  dest.write(chunk.toString("utf8"));
                  done();
                },
              }),
      sync: true,
      colorize: o.destination === undefined && process.stderr.isTTY === true && !process.env.NO_COLOR,
      ignore: "pid,hostname,name",
      translateTime: "SYS:yyyy-mm-dd HH:MM:ss",
      singleLine: true,
    });
    return pino({ level, base }, stream);
  }
  return pino({ level, base }, o.destination ?? pino.destination({ dest: 2, sync: true }));
}

/** A logged line as tests read it back. */
export interface LogLine {
  readonly level: Level;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A logger that keeps its lines in memory, for tests (JSON lines parsed back, levels named). */
export function memoryLogger(level = "debug"): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const names = new Map<number, Level>(Object.entries(pino.levels.values).map(([name, n]) => [n, name as Level]));
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const raw of chunk.toString("utf8").split("\n")) {
        if (!raw.trim()) continue;
        const o = JSON.parse(raw) as Record<string, unknown> & { level: number; msg?: string };
        lines.push({ ...o, level: names.get(o.level) ?? "info", msg: o.msg ?? "" });
      }
      done();
    },
  });
  return { logger: pino({ level, base: { name: "d-pool" } }, sink), lines };
}

/** The message and stack of anything thrown, for a log field. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
