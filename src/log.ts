// One logger for the whole process (pino). Every line is one event with a level; lines about a
// command carry `platform` and `requestId`, a bug carries its `incident` id, which is what the
// member was shown. In a terminal the lines are pretty; under a service manager (stderr not a
// TTY) they are JSON, one per line. DPOOL_LOG_LEVEL (trace, debug, info, warn, error, fatal)
// and DPOOL_LOG_FORMAT (pretty or json) override the defaults. No line carries a secret: fields
// named like one are redacted, and every message, error and stack is scrubbed (src/secrets.ts).
import { createRequire } from "node:module";
import { Writable } from "node:stream";
import { pino, type DestinationStream, type Level, type Logger, type LoggerOptions as PinoOptions } from "pino";
import type { PrettyOptions } from "pino-pretty";
import { REDACTED, scrubSecrets, scrubValue, secretValues } from "./secrets.ts";

export type { Logger };

export const LOG_LEVELS: readonly Level[] = ["trace", "debug", "info", "warn", "error", "fatal"];

export interface LoggerOptions {
  readonly level?: string | undefined;
  /** Human-readable lines (default: when stderr is a terminal). */
  readonly pretty?: boolean | undefined;
  /** Where lines go (default: stderr, written synchronously so nothing is lost at exit). */
  readonly destination?: DestinationStream | undefined;
  /** Values blanked out wherever they appear (the configured token and password). */
  readonly secrets?: readonly string[] | undefined;
}

/** Fields that hold credentials, at the top of a line or one level down (`err.headers` two). */
const REDACT_PATHS = ["password", "token", "accessToken", "access_token", "authorization", "headers.authorization", "headers.Authorization"].flatMap((k) => [
  k,
  `*.${k}`,
  `*.*.${k}`,
]);

/** What every logger of the process shares: secrets redacted and scrubbed, whatever the format. */
export function safeOptions(level: string, secrets: readonly string[] = []): PinoOptions {
  // A literal secret may also appear JSON-escaped in the line (a password with a quote in it).
  const literals = [...new Set(secrets.flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]))].filter((v) => v.length >= 6);
  return {
    level,
    base: { name: "d-pool" },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    serializers: { err: (e: unknown) => scrubValue(e), error: (e: unknown) => scrubValue(e) },
    formatters: {
      log: (o) => {
        const out: Record<string, unknown> = {};
        // Errors are left to the err serializer (which keeps their message and stack).
        for (const [k, v] of Object.entries(o)) out[k] = v instanceof Error ? v : scrubValue(v);
        return out;
      },
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === "string" ? scrubSecrets(a) : a)) as Parameters<typeof method>;
        method.apply(this, scrubbed);
      },
      ...(literals.length === 0 ? {} : { streamWrite: (line: string) => literals.reduce((l, v) => l.split(v).join(REDACTED), line) }),
    },
  };
}

/** The process's logger, configured from the environment. */
export function loggerFromEnv(env: NodeJS.ProcessEnv, o: { destination?: DestinationStream } = {}): Logger {
  const format = env.DPOOL_LOG_FORMAT?.toLowerCase();
  return createLogger({
    level: env.DPOOL_LOG_LEVEL,
    pretty: format === "pretty" ? true : format === "json" ? false : undefined,
    destination: o.destination,
    secrets: secretValues(env),
  });
}

export function createLogger(o: LoggerOptions = {}): Logger {
  const level = o.level && (LOG_LEVELS as readonly string[]).includes(o.level.toLowerCase()) ? o.level.toLowerCase() : "info";
  const wantPretty = o.pretty ?? (o.destination === undefined && process.stderr.isTTY === true);
  const options = safeOptions(level, o.secrets);
  if (wantPretty) {
    const dest = o.destination;
    const stream = lazyPretty({
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
    return pino(options, stream);
  }
  return pino(options, o.destination ?? pino.destination({ dest: 2, sync: true }));
}

type Pretty = typeof import("pino-pretty");

/**
 * A pino-pretty stream made on the first line written: loading pino-pretty (and the modules it
 * brings) took a few milliseconds of every start, while `dpool exec` makes a pretty logger at
 * each command and most commands log nothing.
 */
function lazyPretty(options: PrettyOptions): DestinationStream {
  let stream: DestinationStream | undefined;
  return {
    write(line: string) {
      stream ??= (createRequire(import.meta.url)("pino-pretty") as Pretty)(options);
      stream.write(line);
    },
  };
}

/** A logged line as tests read it back. */
export interface LogLine {
  readonly level: Level;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A logger that keeps its lines in memory, for tests (JSON lines parsed back, levels named). */
export function memoryLogger(level = "debug", secrets: readonly string[] = []): { logger: Logger; lines: LogLine[] } {
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
  return { logger: pino(safeOptions(level, secrets), sink), lines };
}

/** The message and stack of anything thrown, for a log field. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
