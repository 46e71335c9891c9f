// `dpool migrate-to-postgres --from FILE --to URL`: copies a pool's SQLite file into an empty
// PostgreSQL database, row for row, ids kept, in one transaction on the target (a failure half
// way leaves it empty, as it was). The target's tables are created by its migrations first (the
// same ones a bot applies at start); its identity sequences are then set past the highest id
// copied, so the next row PostgreSQL numbers does not collide with a copied one. Both sides are
// audited (every balance from its entries, each pool summing to zero) and must agree.
// The rows go in as pg_restore puts them: the foreign keys and the secondary indexes are set
// aside in the transaction, the rows inserted many thousand a statement (one array per column),
// then the indexes built and each foreign key checked once over its whole table. Row by row, a
// million ledger entries took tens of minutes (a parent lookup and every index updated per row).
import { existsSync, statSync } from "node:fs";
import type pg from "pg";
import { audit } from "../src/core/ledger.ts";
import type { Store } from "../src/store.ts";
import { openPg } from "./pg-client.ts";
import { PgStore } from "./pg-store.ts";
import { SqliteStore } from "./sqlite-store.ts";

/** Why the migration was refused, in one line that says what to do instead. */
export class MigrateRefused extends Error {
  constructor(
    readonly reason: "no_file" | "bad_url" | "not_empty" | "unreachable" | "audit_differs",
    message: string,
  ) {
    super(message);
    this.name = "MigrateRefused";
  }
}

/** One pool's audit: what `pool audit` checks, per pool. */
export interface PoolAudit {
  readonly poolId: number;
  readonly accounts: number;
  readonly entries: number;
  readonly sum: number;
  readonly balanced: boolean;
  readonly mismatched: number;
}

export interface MigrateResult {
  /** Rows copied per table. */
  readonly tables: Record<string, number>;
  readonly source: PoolAudit[];
  readonly target: PoolAudit[];
}

/** Every pool of the store audited, by pool id. */
export async function auditAll(store: Store): Promise<PoolAudit[]> {
  return store.read(async (tx) => {
    const out: PoolAudit[] = [];
    for (const pool of [...(await tx.pools())].sort((a, b) => a.id - b.id)) {
      const facts = await tx.auditFacts(pool.id);
      const r = audit(
        facts.accounts.map((a) => ({ id: a.account.id, kind: a.account.kind, ownerId: a.account.ownerId, balance: a.account.balance, net: a.net })),
        facts.entries,
      );
      out.push({ poolId: pool.id, accounts: r.accounts, entries: r.entries, sum: r.sum, balanced: r.balanced, mismatched: r.mismatched.length });
    }
    return out;
  });
}

/** Hides the password of a database address in messages. */
export const redactUrl = (url: string): string => url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");

type Sqlite = SqliteStore["db"]["$client"];

/**
 * The tables of the SQLite file in an order where every table comes after the tables it refers
 * to (a row's parent is copied before it); rows of a table that refers to itself are copied in
 * rowid order, which is the order they were made in.
 */
function tablesInOrder(db: Sqlite): string[] {
  const names = (
    db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_\\_drizzle%' ESCAPE '\\' ORDER BY name")
      .all() as Array<{ name: string }>
  ).map((r) => r.name);
  const parents = new Map(
    names.map((n) => [
      n,
      new Set((db.prepare(`PRAGMA foreign_key_list("${n}")`).all() as Array<{ table: string }>).map((f) => f.table).filter((t) => t !== n)),
    ]),
  );
  const out: string[] = [];
  const placed = new Set<string>();
  while (out.length < names.length) {
    const next = names.filter((n) => !placed.has(n) && [...parents.get(n)!].every((p) => placed.has(p) || !parents.has(p)));
    if (next.length === 0) throw new Error(`the tables refer to each other in a circle: ${names.filter((n) => !placed.has(n)).join(", ")}`);
    for (const n of next) {
      placed.add(n);
      out.push(n);
    }
  }
  return out;
}

/** The type of every column of the target's tables, by "table.column" (integer, bigint, text, boolean, ...). */
async function columnTypes(client: pg.PoolClient): Promise<Map<string, string>> {
  const r = await client.query<{ t: string; c: string; type: string }>(
    `SELECT c.relname AS t, a.attname AS c, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`,
  );
  return new Map(r.rows.map((x) => [`${x.t}.${x.c}`, x.type]));
}

/**
 * Takes the foreign keys and the secondary indexes (those no primary key or unique constraint
 * owns) off the target's tables, in the transaction, and returns what puts them back: the
 * statements their own definitions make, indexes first (a foreign key may lean on one).
 */
async function setAsideKeysAndIndexes(client: pg.PoolClient): Promise<string[]> {
  const keys = (
    await client.query<{ t: string; name: string; def: string }>(
      "SELECT conrelid::regclass::text AS t, conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace ORDER BY conrelid::regclass::text, conname",
    )
  ).rows;
  const indexes = (
    await client.query<{ name: string; def: string }>(
      `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relnamespace = 'public'::regnamespace AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
        ORDER BY 1`,
    )
  ).rows;
  for (const k of keys) await client.query(`ALTER TABLE ${k.t} DROP CONSTRAINT "${k.name}"`);
  for (const i of indexes) await client.query(`DROP INDEX ${i.name}`);
  return [...indexes.map((i) => i.def), ...keys.map((k) => `ALTER TABLE ${k.t} ADD CONSTRAINT "${k.name}" ${k.def}`)];
}

/** Rows inserted per statement: each column goes as one array parameter. */
const CHUNK_ROWS = 5_000;

/**
 * Copies the SQLite file `from` into the PostgreSQL database at `to`. Refuses (MigrateRefused)
 * a missing file, an address that is not PostgreSQL's, a server out of reach, and a target that
 * holds any row already; nothing is written then.
 */
export async function migrateToPostgres(from: string, to: string): Promise<MigrateResult> {
  if (!existsSync(from) || !statSync(from).isFile())
    throw new MigrateRefused("no_file", `there is no SQLite file ${from}: give the pool's database file with --from (./data/dpool.sqlite by default)`);
  if (!/^postgres(ql)?:\/\//i.test(to))
    throw new MigrateRefused("bad_url", `--to must be a PostgreSQL address such as postgres://dpool@localhost:5432/dpool, not "${redactUrl(to).slice(0, 80)}"`);
  // Opening the file brings an older one up to date first, as every start does.
  const source = new SqliteStore(from);
  let pool: pg.Pool | undefined;
  try {
    try {
      pool = await openPg(to, { max: 2 });
    } catch (e) {
      throw new MigrateRefused(
        "unreachable",
        `cannot open the PostgreSQL database ${redactUrl(to)}: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]} (create it with createdb, and check the address)`,
      );
    }
    const db = source.db.$client;
    const tables = tablesInOrder(db);
    const copied: Record<string, number> = {};
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      try {
        // Nobody else writes while the copy is made (a second copy at the same time waits here,
        // then finds the rows of the first and is refused).
        if (tables.length > 0) await client.query(`LOCK TABLE ${tables.map((t) => `"${t}"`).join(", ")} IN ACCESS EXCLUSIVE MODE`);
        // Any row at all: a pool is there already (or was half made by hand); never merge into it.
        for (const table of tables) {
          const r = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}"`);
          const n = r.rows[0]?.n ?? 0;
          if (n > 0)
            throw new MigrateRefused(
              "not_empty",
              `the PostgreSQL database ${redactUrl(to)} is not empty (${n} rows in ${table}): give a new, empty database (createdb dpool_new) or drop this one's tables first`,
            );
        }
        const types = await columnTypes(client);
        const putBack = await setAsideKeysAndIndexes(client);
        const identities = new Set(
          (
            await client.query<{ t: string }>(
              "SELECT table_name AS t FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'id' AND is_identity = 'YES'",
            )
          ).rows.map((r) => r.t),
        );
        for (const table of tables) {
          const columns = (db.prepare(`PRAGMA table_info("${table}")`).all() as Array<{ name: string }>).map((c) => c.name);
          const typeOf = columns.map((c) => {
            const t = types.get(`${table}.${c}`);
            if (t === undefined) throw new Error(`the PostgreSQL table ${table} has no column ${c}: its migrations and the file's differ`);
            return t;
          });
          const boolean = typeOf.map((t) => t === "boolean");
          const list = columns.map((c) => `"${c}"`).join(", ");
          // One array per column, unnested into rows in their order: one statement per chunk,
          // parsed once (a name of its own per table), whatever the chunk's length.
          const insert = {
            name: `copy_${table}`,
            text: `INSERT INTO "${table}" (${list}) OVERRIDING SYSTEM VALUE SELECT * FROM unnest(${typeOf.map((t, j) => `$${j + 1}::${t}[]`).join(", ")})`,
          };
          let count = 0;
          let batch: unknown[][] = columns.map(() => []);
          let rows = 0;
          const flush = async () => {
            if (rows === 0) return;
            await client.query({ ...insert, values: batch });
            count += rows;
            batch = columns.map(() => []);
            rows = 0;
          };
          for (const row of db.prepare(`SELECT ${list} FROM "${table}" ORDER BY rowid`).raw().iterate() as IterableIterator<unknown[]>) {
            for (let j = 0; j < row.length; j++) {
              const v = row[j];
              // SQLite keeps booleans as 0 and 1.
              batch[j]!.push(v !== null && boolean[j] ? v === 1 || v === true : typeof v === "bigint" ? Number(v) : v);
            }
            if (++rows >= CHUNK_ROWS) await flush();
          }
          await flush();
          copied[table] = count;
          // Identity columns: the next id PostgreSQL hands out comes after the highest copied.
          if (identities.has(table)) {
            const sequence = (await client.query<{ s: string }>("SELECT pg_get_serial_sequence($1, 'id') AS s", [`"${table}"`])).rows[0]!.s;
            await client.query(`SELECT setval($1, GREATEST((SELECT max(id) FROM "${table}"), 1), (SELECT max(id) FROM "${table}") IS NOT NULL)`, [sequence]);
          }
        }
        // The indexes built over all the rows, and each foreign key checked once (a copied row
        // whose parent is missing refuses the whole copy here, as it would have row by row).
        for (const statement of putBack) await client.query(statement);
        await client.query("COMMIT");
      } catch (e) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw e;
      }
      // The planner's statistics of the new rows now, not when autovacuum comes by: the first
      // commands on the copy find the plans they will keep.
      await client.query("VACUUM (ANALYZE)");
    } finally {
      client.release();
    }
    await pool.end();
    pool = undefined;
    const sourceAudit = await auditAll(source);
    const target = await PgStore.open(to, { max: 2 });
    let targetAudit: PoolAudit[];
    try {
      targetAudit = await auditAll(target);
    } finally {
      await target.close();
    }
    if (JSON.stringify(sourceAudit) !== JSON.stringify(targetAudit)) {
      throw new MigrateRefused(
        "audit_differs",
        `the copy's audit differs from the file's (file ${JSON.stringify(sourceAudit)}, copy ${JSON.stringify(targetAudit)}): keep using the file and report this`,
      );
    }
    return { tables: copied, source: sourceAudit, target: targetAudit };
  } finally {
    await pool?.end().catch(() => undefined);
    await source.close();
  }
}

/** `dpool migrate-to-postgres`: the command line around migrateToPostgres. Exit 0 done, 1 refused, 2 usage, 3 unusable. */
export async function migrateCommand(argv: readonly string[], out: (s: string) => void, errOut: (s: string) => void): Promise<number> {
  let from: string | undefined;
  let to: string | undefined;
  const json = argv.includes("--json");
  const fail = (code: string, message: string, exit: number) => {
    if (json) out(JSON.stringify({ ok: false, error: { code, message } }));
    else errOut(`dpool: ${message}`);
    return exit;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    if (flag === "--json") continue;
    if (flag !== "--from" && flag !== "--to")
      return fail("usage", `unknown option ${a.slice(0, 40)}: type dpool migrate-to-postgres --from FILE --to postgres://...`, 2);
    const v = inline ?? argv[++i];
    if (v === undefined || v === "") return fail("usage", `${flag} needs a value: type dpool migrate-to-postgres --from FILE --to postgres://...`, 2);
    if (flag === "--from") from = v;
    else to = v;
  }
  if (from === undefined || to === undefined)
    return fail(
      "usage",
      `give both --from FILE and --to postgres://...: dpool migrate-to-postgres --from ./data/dpool.sqlite --to postgres://dpool@localhost:5432/dpool`,
      2,
    );
  try {
    const r = await migrateToPostgres(from, to);
    const rows = Object.values(r.tables).reduce((a, b) => a + b, 0);
    if (json) {
      out(JSON.stringify({ ok: true, data: r }));
      return 0;
    }
    out(`copied ${rows} rows of ${Object.keys(r.tables).length} tables from ${from} to ${redactUrl(to)}`);
    for (const [side, audits] of [
      ["file", r.source],
      ["PostgreSQL", r.target],
    ] as const) {
      for (const a of audits)
        out(
          `audit (${side}) pool ${a.poolId}: ${a.accounts} accounts, ${a.entries} entries, sum ${a.sum}, ${a.balanced ? "balanced" : `NOT balanced (${a.mismatched} accounts differ)`}`,
        );
      if (audits.length === 0) out(`audit (${side}): no pools`);
    }
    return 0;
  } catch (e) {
    if (e instanceof MigrateRefused)
      return fail(e.reason, e.message, e.reason === "not_empty" || e.reason === "audit_differs" ? 1 : e.reason === "bad_url" ? 2 : 3);
    const message = (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
    return fail("database", `the migration stopped and PostgreSQL was left as it was: ${message}`, 3);
  }
}
