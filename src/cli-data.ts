// `dpool backup`, `dpool export` and `dpool import`: the pool's data in and out of its file, and
// how every `dpool` failure is told: one JSON line under --json, one plain line otherwise, never
// a stack trace. Exit codes: 0 done, 1 refused (or a bug), 2 usage, 3 the database or a named
// file cannot be used (a folder, not a database, read-only, missing).
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { backupDatabase, BackupRefused } from "../db/backup.ts";
import { databaseProblem, DEFAULT_DB_FILE, openSqlite } from "../db/client.ts";
import { exportDatabase, ImportRefused, importDatabase, readExportDocument, tableCsv } from "../db/export.ts";
import { systemClock } from "./clock.ts";

export const DATA_USAGE =
  "       dpool backup [--db FILE] [--force] [--json] BACKUP-FILE\n" +
  "       dpool export [--db FILE] [--format json|csv] [--out FILE|DIR] [--force] [--json]\n" +
  "       dpool import [--db FILE] [--json] EXPORT-FILE";

export const EXIT = { ok: 0, refused: 1, usage: 2, unusable: 3 } as const;

export interface Failure {
  readonly code: string;
  readonly message: string;
  readonly exit: number;
}

/** A file the person named (an export to read, a place to write to) cannot be used. */
class FileProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FileProblem";
  }
}

const firstLine = (s: string) => s.split("\n")[0]!.trim();

/** Any error as a failure a person can read: refusals, unusable files, and bugs as `internal`. */
export function failureOf(e: unknown, dbFile: string): Failure {
  if (e instanceof BackupRefused && e.reason === "no_database")
    return { code: "database", message: `cannot use the database ${dbFile}: there is none (--db FILE or DPOOL_DB names it)`, exit: EXIT.unusable };
  if (e instanceof BackupRefused) return { code: "exists", message: e.message, exit: EXIT.refused };
  if (e instanceof ImportRefused) return { code: e.reason, message: e.message, exit: EXIT.refused };
  if (e instanceof FileProblem) return { code: "file", message: e.message, exit: EXIT.unusable };
  const problem = databaseProblem(e);
  if (problem)
    return {
      code: problem.code,
      message: `cannot use the database ${dbFile}: ${problem.reason}`,
      exit: problem.code === "busy" ? EXIT.refused : EXIT.unusable,
    };
  const message = e instanceof Error ? e.message : String(e);
  return { code: "internal", message: `unexpected error (a bug in d-pool, please report it): ${firstLine(message)}`, exit: EXIT.refused };
}

export type Write = (s: string) => void;

/** Tells one failure: a JSON line on stdout under --json, else one line on stderr. */
export function tell(f: Failure, json: boolean, out: Write, errOut: Write): number {
  if (json) out(JSON.stringify({ ok: false, error: { code: f.code, message: f.message } }));
  else errOut(`dpool: ${f.message}`);
  return f.exit;
}

interface DataOptions {
  db: string;
  json: boolean;
  force: boolean;
  format: string;
  out: string | undefined;
  files: string[];
}

function parseDataArgs(argv: readonly string[], env: NodeJS.ProcessEnv, allowed: readonly string[]): DataOptions | string {
  const o: DataOptions = { db: env.DPOOL_DB || DEFAULT_DB_FILE, json: false, force: false, format: "json", out: undefined, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      o.files.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      o.files.push(a);
      continue;
    }
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    if (!allowed.includes(flag)) return `unknown option ${flag}`;
    const value = (): string | undefined => {
      const v = inline ?? argv[++i];
      return v === undefined || v === "" ? undefined : v;
    };
    switch (flag) {
      case "--json":
        o.json = true;
        break;
      case "--force":
        o.force = true;
        break;
      case "--db":
      case "--out":
      case "--format": {
        const v = value();
        if (v === undefined) return `${flag} needs a value`;
        if (flag === "--db") o.db = v;
        else if (flag === "--out") o.out = v;
        else o.format = v;
        break;
      }
    }
  }
  return o;
}

interface Success {
  readonly command: string;
  readonly data: unknown;
  readonly text: string;
}

async function run(
  name: string,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: Write,
  errOut: Write,
  allowed: readonly string[],
  body: (o: DataOptions) => Promise<Success | undefined>,
): Promise<number> {
  const parsed = parseDataArgs(argv, env, allowed);
  const json = typeof parsed === "string" ? argv.slice(0, argv.includes("--") ? argv.indexOf("--") : argv.length).includes("--json") : parsed.json;
  const usage = (problem: string) => {
    if (json) out(JSON.stringify({ ok: false, error: { code: "usage", message: problem } }));
    else
      errOut(
        `dpool ${name}: ${problem}\nusage:\n${DATA_USAGE.split("\n")
          .filter((l) => l.includes(`dpool ${name} `))
          .join("\n")}`,
      );
    return EXIT.usage;
  };
  if (typeof parsed === "string") return usage(parsed);
  try {
    const done = await body(parsed);
    if (done === undefined) return EXIT.ok;
    if (parsed.json) out(JSON.stringify({ ok: true, command: done.command, data: done.data, text: done.text }));
    else out(done.text);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof UsageProblem) return usage(e.message);
    return tell(failureOf(e, parsed.db), parsed.json, out, errOut);
  }
}

class UsageProblem extends Error {}

function oneFile(o: DataOptions, what: string): string {
  if (o.files.length !== 1)
    throw new UsageProblem(o.files.length === 0 ? `name the ${what}` : `one ${what} only, not ${o.files.length} (${o.files.join(" ")})`);
  return o.files[0]!;
}

/** Writes a file that holds the pool's data: readable by its owner only, complete or absent. */
function writePrivate(file: string, text: string): void {
  const partial = `${file}.partial-${process.pid}`;
  try {
    writeFileSync(partial, text, { mode: 0o600 });
    renameSync(partial, file);
  } catch (e) {
    const problem = databaseProblem(e);
    throw problem ? new FileProblem(`cannot write ${file}: ${problem.reason}`) : e;
  }
}

function openExisting(dbFile: string) {
  if (dbFile !== ":memory:" && !existsSync(dbFile)) throw new BackupRefused("no_database", `there is no database at ${dbFile}`);
  return openSqlite(dbFile);
}

export function backupCommand(argv: readonly string[], env: NodeJS.ProcessEnv, out: Write, errOut: Write): Promise<number> {
  return run("backup", argv, env, out, errOut, ["--db", "--force", "--json"], async (o) => {
    const target = oneFile(o, "backup file");
    let r;
    try {
      r = await backupDatabase(o.db, target, { force: o.force });
    } catch (e) {
      if (e instanceof TypeError && /directory does not exist/.test(e.message)) throw new FileProblem(`cannot write ${target}: its folder does not exist`);
      throw e;
    }
    chmodSync(target, 0o600);
    return {
      command: "backup",
      data: { file: r.file, bytes: r.bytes, pages: r.pages, integrity: r.integrity },
      text: `Backed up ${o.db} to ${r.file} (${r.bytes} bytes, integrity ok). Restore: stop the bot, put this file in place of the database, start it.`,
    };
  });
}

export function exportCommand(argv: readonly string[], env: NodeJS.ProcessEnv, out: Write, errOut: Write): Promise<number> {
  return run("export", argv, env, out, errOut, ["--db", "--format", "--out", "--force", "--json"], async (o) => {
    if (o.files.length > 0) throw new UsageProblem(`unexpected ${o.files[0]}: the place to write is given with --out`);
    if (o.format !== "json" && o.format !== "csv") throw new UsageProblem(`--format takes json or csv, not "${o.format}"`);
    if (o.format === "csv" && o.out === undefined) throw new UsageProblem("a CSV export is one file per table: name a folder with --out DIR");
    if (o.out !== undefined && existsSync(o.out) && !o.force) {
      const emptyDir = o.format === "csv" && statSync(o.out).isDirectory() && readdirSync(o.out).length === 0;
      if (!emptyDir) throw new BackupRefused("exists", `${o.out} already exists: choose a new name, or add --force to replace it`);
    }
    const db = openExisting(o.db);
    let doc;
    try {
      doc = exportDatabase(db, systemClock.now());
    } finally {
      db.$client.close();
    }
    const rows = Object.fromEntries(Object.entries(doc.tables).map(([t, r]) => [t, r.length]));
    const total = Object.values(rows).reduce((a, b) => a + b, 0);
    if (o.out === undefined) {
      out(JSON.stringify(doc, null, 2));
      return undefined;
    }
    if (o.format === "json") {
      writePrivate(o.out, `${JSON.stringify(doc, null, 2)}\n`);
    } else {
      try {
        mkdirSync(o.out, { recursive: true, mode: 0o700 });
      } catch (e) {
        const problem = databaseProblem(e);
        throw problem ? new FileProblem(`cannot write ${o.out}: ${problem.reason}`) : e;
      }
      for (const [name, r] of Object.entries(doc.tables)) writePrivate(join(o.out, `${name}.csv`), tableCsv(name, r));
    }
    return {
      command: "export",
      data: { format: o.format, out: o.out, version: doc.version, migration: doc.migration, exportedAt: doc.exportedAt, rows },
      text: `Exported ${total} rows of ${Object.keys(rows).length} tables from ${o.db} to ${o.out}${o.format === "csv" ? "/ (one CSV file per table)" : ""}.`,
    };
  });
}

export function importCommand(argv: readonly string[], env: NodeJS.ProcessEnv, out: Write, errOut: Write): Promise<number> {
  return run("import", argv, env, out, errOut, ["--db", "--json"], async (o) => {
    const file = oneFile(o, "export file");
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      const problem = (e as { code?: string }).code === "ENOENT" ? "there is no such file" : databaseProblem(e)?.reason;
      throw problem ? new FileProblem(`cannot read ${file}: ${problem}`) : e;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ImportRefused("invalid_export", `${file} is not JSON: import reads what dpool export --format json wrote`);
    }
    const doc = readExportDocument(parsed);
    const db = openSqlite(o.db);
    let written: Record<string, number>;
    try {
      written = importDatabase(db, doc);
    } finally {
      db.$client.close();
    }
    const total = Object.values(written).reduce((a, b) => a + b, 0);
    return {
      command: "import",
      data: { file, db: o.db, migration: doc.migration, exportedAt: doc.exportedAt, rows: written },
      text: `Imported ${total} rows into ${o.db} (export of ${doc.exportedAt}). Check it with: dpool exec --db ${o.db} -- pool audit`,
    };
  });
}
