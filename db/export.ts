// `dpool export` and `dpool import`: every table of the schema as rows of plain values, keyed by
// the schema's field names (the same on any store that implements the schema). An export is read
// in one read transaction, so it is one consistent moment of the pool even while the bot writes.
// An import goes into an empty database only, in one transaction with the foreign keys checked
// at its end: a database either holds the whole export or is left as empty as it was.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { asc, getTableColumns, getTableName, is } from "drizzle-orm";
import { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { SqliteDb } from "./client.ts";
import { MIGRATIONS_DIR } from "./client.ts";
import * as schema from "./schema.ts";

export const EXPORT_FORMAT = "dpool-export";
/** Bumped when the document's shape changes (not when a table or column is added). */
export const EXPORT_VERSION = 1;

export type ExportRow = Record<string, string | number | boolean | null>;

export interface ExportDocument {
  readonly format: typeof EXPORT_FORMAT;
  readonly version: typeof EXPORT_VERSION;
  /** The last migration the database had (db/migrations): an import refuses newer ones. */
  readonly migration: string;
  readonly exportedAt: string;
  /** Every table by its SQL name, rows in key order. Amounts are integer milli-hours, times epoch ms. */
  readonly tables: Record<string, ExportRow[]>;
}

/** The export is not one this version can import, or it does not fit the database. */
export class ImportRefused extends Error {
  constructor(
    readonly reason: "not_empty" | "invalid_export",
    message: string,
  ) {
    super(message);
    this.name = "ImportRefused";
  }
}

/** Every table of the schema, by name (the foreign keys are checked at the end of an import, so order does not matter). */
export const EXPORT_TABLES: ReadonlyArray<{ readonly name: string; readonly table: SQLiteTable; readonly fields: readonly string[] }> = (
  Object.values(schema) as unknown[]
)
  .filter((x): x is SQLiteTable => is(x, SQLiteTable))
  .map((table) => ({ name: getTableName(table), table, fields: Object.keys(getTableColumns(table)) }));

function journal(): Array<{ tag: string; when: number }> {
  return (JSON.parse(readFileSync(join(MIGRATIONS_DIR, "meta", "_journal.json"), "utf8")) as { entries: Array<{ tag: string; when: number }> }).entries;
}

function lastMigration(db: SqliteDb): string {
  const row = db.$client.prepare("SELECT created_at AS at FROM __drizzle_migrations ORDER BY created_at DESC LIMIT 1").get() as
    { at: number | string } | undefined;
  const at = row ? Number(row.at) : -1;
  return journal().find((e) => e.when === at)?.tag ?? String(at);
}

/** Every row of every table, as of one moment. */
export function exportDatabase(db: SqliteDb, exportedAt: Date): ExportDocument {
  const read = db.$client.transaction(() => {
    const tables: Record<string, ExportRow[]> = {};
    for (const { name, table } of EXPORT_TABLES) {
      const columns = Object.values(getTableColumns(table));
      tables[name] = db
        .select()
        .from(table)
        .orderBy(...columns.map((c) => asc(c)))
        .all();
    }
    return { migration: lastMigration(db), tables };
  });
  const { migration, tables } = read.deferred();
  return { format: EXPORT_FORMAT, version: EXPORT_VERSION, migration, exportedAt: exportedAt.toISOString(), tables };
}

/** Rows in the database, table by table (an empty database has none, whatever its schema). */
export function rowCounts(db: SqliteDb): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { name } of EXPORT_TABLES) counts[name] = Number((db.$client.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n);
  return counts;
}

const invalid = (message: string) => new ImportRefused("invalid_export", message);

/** Checks the shape of a parsed export file and returns it typed, or refuses it. */
export function readExportDocument(value: unknown): ExportDocument {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid("the file is not a d-pool export (expected a JSON object)");
  const d = value as Record<string, unknown>;
  if (d.format !== EXPORT_FORMAT) throw invalid(`the file is not a d-pool export (format is not "${EXPORT_FORMAT}")`);
  if (d.version !== EXPORT_VERSION)
    throw invalid(`export version ${JSON.stringify(d.version)} is not one this d-pool reads (it reads version ${EXPORT_VERSION})`);
  const tags = journal().map((e) => e.tag);
  if (typeof d.migration !== "string" || !tags.includes(d.migration)) {
    throw invalid(
      `the export was made by a d-pool with a database schema this one does not know (${JSON.stringify(d.migration)}): import it with that version or a newer one`,
    );
  }
  if (typeof d.tables !== "object" || d.tables === null || Array.isArray(d.tables)) throw invalid("the export has no tables");
  const known = new Map(EXPORT_TABLES.map((t) => [t.name, new Set(t.fields)]));
  for (const [name, rows] of Object.entries(d.tables as Record<string, unknown>)) {
    const fields = known.get(name);
    if (!fields) throw invalid(`the export has a table this d-pool does not know: ${name}`);
    if (!Array.isArray(rows)) throw invalid(`table ${name} is not a list of rows`);
    rows.forEach((row: unknown, i) => {
      if (typeof row !== "object" || row === null || Array.isArray(row)) throw invalid(`row ${i + 1} of ${name} is not an object`);
      for (const [k, v] of Object.entries(row)) {
        if (!fields.has(k)) throw invalid(`row ${i + 1} of ${name} has a field this d-pool does not know: ${k}`);
        if (v !== null && !["string", "number", "boolean"].includes(typeof v)) throw invalid(`row ${i + 1} of ${name}: ${k} is not a plain value`);
      }
    });
  }
  return d as unknown as ExportDocument;
}

/** Loads an export into an empty database; returns the rows written per table. */
export function importDatabase(db: SqliteDb, doc: ExportDocument): Record<string, number> {
  const client = db.$client;
  const load = client.transaction(() => {
    const present = Object.entries(rowCounts(db)).filter(([, n]) => n > 0);
    if (present.length > 0) {
      throw new ImportRefused("not_empty", `the database is not empty (${present.map(([t, n]) => `${t}: ${n}`).join(", ")}): import into a new file`);
    }
    // Rows may come in any order; the keys are checked once, at the end.
    client.pragma("defer_foreign_keys = ON");
    const written: Record<string, number> = {};
    for (const { name, table } of EXPORT_TABLES) {
      const rows = doc.tables[name] ?? [];
      for (let i = 0; i < rows.length; i += 100) {
        try {
          db.insert(table)
            .values(rows.slice(i, i + 100))
            .run();
        } catch (e) {
          throw invalid(`table ${name} does not fit this database: ${(e as Error).message}`);
        }
      }
      written[name] = rows.length;
    }
    const broken = client.pragma("foreign_key_check") as Array<{ table: string; rowid: number; parent: string }>;
    if (broken.length > 0) {
      const b = broken[0]!;
      throw invalid(`the export refers to rows it does not hold (${broken.length}; first: ${b.table} row ${b.rowid} needs a ${b.parent} row)`);
    }
    return written;
  });
  return load.immediate();
}

/** One table as CSV (RFC 4180): a header of field names, then the rows. */
export function tableCsv(name: string, rows: readonly ExportRow[]): string {
  const spec = EXPORT_TABLES.find((t) => t.name === name);
  const fields = spec ? spec.fields : Object.keys(rows[0] ?? {});
  const lines = [fields.map(csvCell).join(","), ...rows.map((r) => fields.map((f) => csvCell(r[f] ?? null)).join(","))];
  return `${lines.join("\r\n")}\r\n`;
}

function csvCell(v: string | number | boolean | null): string {
  if (v === null) return "";
  if (typeof v !== "string") return String(v);
  // A member's text that starts like a formula is not run by a spreadsheet that opens the file.
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
