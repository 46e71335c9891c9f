// Issue 12, case 9: `dpool export` and `dpool import`. A pool with projects, linked identities,
// credited and corrected work, goods handed out at once and by auction, exported to JSON and
// imported into a new file, audits and balances the same, and exports again to the same JSON.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tableCsv } from "../../db/export.ts";
import { exportCommand, importCommand } from "../../src/cli-data.ts";
import { exec } from "../../src/cli.ts";
import { testPool } from "../support/app.ts";

const dir = mkdtempSync(join(tmpdir(), "dpool-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const source = join(dir, "source.sqlite");
const MEMBERS = ["admin", "alice", "bob", "carol", "dave"];

async function cli(command: typeof exec, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await command(
    argv,
    { ...process.env, DPOOL_DB: "" },
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const json = async (command: typeof exec, argv: string[]) => {
  const r = await cli(command, ["--json", ...argv]);
  return { code: r.code, body: JSON.parse(r.out) };
};

/** What anyone can see of the pool through commands: the audit and every member's balance. */
async function observed(db: string) {
  const ask = async (as: string, ...words: string[]) => (await json(exec, ["--db", db, "--as", as, "--at", "2026-12-01T10:00:00Z", "--", ...words])).body;
  const audit = await ask("admin", "pool", "audit");
  const members = await ask("admin", "pool", "members");
  const balances: Record<string, unknown> = {};
  for (const m of MEMBERS) balances[m] = (await ask(m, "me", "balance")).data;
  return { audit: audit.data, members: members.data, balances };
}

function tableDump(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  // sqlite_stat1 holds the query planner's statistics (PRAGMA optimize at every start), not data.
  const names = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('sqlite_sequence', 'sqlite_stat1', '__drizzle_migrations') ORDER BY name")
    .all() as Array<{ name: string }>;
  // Sorted rows: a table keyed by text (requests) may hold its rows in another physical order.
  const out = Object.fromEntries(
    names.map(({ name }) => [
      name,
      db
        .prepare(`SELECT * FROM "${name}"`)
        .all()
        .map((r) => JSON.stringify(r))
        .sort(),
    ]),
  );
  db.close();
  return out;
}

beforeAll(async () => {
  const t = await testPool({ dbFile: source });
  await t.ok("admin", "pool create Riverside commons");
  await t.ok("alice", "project create bakery The Bakery");
  await t.ok("bob", "project create bikes Bike Workshop");
  await t.ok("alice", "goal announce bakery Bread for 40 households");
  const { code } = await t.ok("alice", "me link");
  await t.ok("alicephone", `me link ${code}`);
  await t.ok("alice", "task post bakery Knead the dough hours:2 kind:baking");
  await t.ok("alice", "task post bakery Scrub the floor hours:1 kind:cleaning");
  await t.ok("bob", "task post bikes Fix brakes hours:3 kind:repair");
  await t.ok("bob", "task claim 1");
  await t.ok("bob", "task done 1 hours:2");
  await t.ok("alice", "task verify 1 @bob");
  await t.ok("carol", "task claim 2");
  await t.ok("carol", "task done 2");
  await t.ok("alice", "task verify 2 @carol");
  await t.ok("dave", "task claim 3");
  await t.ok("dave", "task done 3 hours:3");
  await t.ok("bob", "task verify 3 @dave");
  await t.ok("alice", "good add bakery bread effort:0.5 unit:loaf stock:10 sector:food");
  await t.ok("carol", "good request bread qty:2");
  await t.ok("alice", "good add bakery cake effort:1 sector:food");
  await t.ok("alice", "good produce cake 2");
  await t.ok("bob", "good request cake");
  await t.ok("dave", "good request cake qty:2");
  t.clock.advance(25 * 3600_000);
  await t.ok("alice", "good allocate cake");
  await t.ok("admin", 'pool correct 2 "counted twice" confirm');
  await t.close();
});

describe("dpool export and import", () => {
  it("GIVEN a pool exported to JSON and imported into a new file THEN the audit, every member's balance and every row are the same, and it exports to the same JSON", async () => {
    const exported = join(dir, "pool.json");
    const e = await json(exportCommand, ["--db", source, "--out", exported]);
    expect(e).toMatchObject({ code: 0, body: { ok: true, command: "export", data: { format: "json", version: 1 } } });
    expect(statSync(exported).mode & 0o777).toBe(0o600);
    const doc = JSON.parse(readFileSync(exported, "utf8"));
    for (const t of ["members", "identities", "pools", "projects", "tasks", "claims", "goods", "good_requests", "accounts", "entries"])
      expect(doc.tables[t]?.length, t).toBeGreaterThan(0);
    expect(doc.tables.entries.some((x: { reverses: number | null }) => x.reverses !== null)).toBe(true);

    const target = join(dir, "moved.sqlite");
    const i = await json(importCommand, ["--db", target, exported]);
    expect(i).toMatchObject({ code: 0, body: { ok: true, command: "import", data: { rows: { entries: doc.tables.entries.length } } } });

    expect(tableDump(target)).toEqual(tableDump(source));
    const again = join(dir, "again.json");
    await json(exportCommand, ["--db", target, "--out", again]);
    const strip = (text: string) => ({ ...JSON.parse(text), exportedAt: undefined });
    expect(strip(readFileSync(again, "utf8"))).toEqual(strip(readFileSync(exported, "utf8")));

    const before = await observed(source);
    expect(before.audit).toMatchObject({ balanced: true, sum: 0 });
    expect(Object.values(before.balances).filter((b) => (b as { balance: number }).balance !== 0).length).toBeGreaterThanOrEqual(3);
    expect(await observed(target)).toEqual(before);
    console.log(
      `round trip: ${Object.values(doc.tables as Record<string, unknown[]>).reduce((n, r) => n + r.length, 0)} rows in ${Object.keys(doc.tables).length} tables, ${doc.tables.entries.length} ledger entries, ${MEMBERS.length} balances identical`,
    );
  });

  it("GIVEN a database that is not empty THEN import refuses and changes nothing", async () => {
    const exported = join(dir, "refuse.json");
    await json(exportCommand, ["--db", source, "--out", exported]);
    const before = tableDump(source);
    const r = await json(importCommand, ["--db", source, exported]);
    expect(r).toEqual({
      code: 1,
      body: { ok: false, error: { code: "not_empty", message: expect.stringMatching(/^the database is not empty \(.*\): import into a new file$/) } },
    });
    expect(tableDump(source)).toEqual(before);
  });

  it("GIVEN a file that is not an export, or one that breaks the keys THEN import refuses it and the new database stays empty", async () => {
    const notJson = join(dir, "not.json");
    writeFileSync(notJson, "hello");
    expect((await json(importCommand, ["--db", join(dir, "x1.sqlite"), notJson])).body.error.code).toBe("invalid_export");
    const other = join(dir, "other.json");
    writeFileSync(other, JSON.stringify({ format: "something-else" }));
    expect((await json(importCommand, ["--db", join(dir, "x2.sqlite"), other])).body.error).toEqual({
      code: "invalid_export",
      message: expect.stringContaining("not a d-pool export"),
    });

    const doc = JSON.parse(readFileSync(join(dir, "pool.json"), "utf8"));
    doc.tables.members = [];
    const broken = join(dir, "broken.json");
    writeFileSync(broken, JSON.stringify(doc));
    const target = join(dir, "x3.sqlite");
    const r = await json(importCommand, ["--db", target, broken]);
    expect(r.code).toBe(1);
    expect(r.body.error).toEqual({ code: "invalid_export", message: expect.stringMatching(/refers to rows it does not hold/) });
    expect(Object.values(tableDump(target)).every((rows) => rows.length === 0)).toBe(true);

    const missing = await json(importCommand, ["--db", join(dir, "x4.sqlite"), join(dir, "nope.json")]);
    expect(missing).toEqual({ code: 3, body: { ok: false, error: { code: "file", message: expect.stringContaining("there is no such file") } } });
  });

  it("GIVEN --format csv THEN one file per table with a header of its fields, and formula-like text is defused", async () => {
    const out = join(dir, "csv");
    const r = await json(exportCommand, ["--db", source, "--format", "csv", "--out", out]);
    expect(r.code).toBe(0);
    const files = readdirSync(out);
    expect(files).toEqual(
      expect.arrayContaining([
        "members.csv",
        "identities.csv",
        "pools.csv",
        "projects.csv",
        "tasks.csv",
        "claims.csv",
        "goods.csv",
        "good_requests.csv",
        "accounts.csv",
        "entries.csv",
      ]),
    );
    const members = readFileSync(join(out, "members.csv"), "utf8").split("\r\n");
    expect(members[0]).toBe("id,handle,createdAt,mergedInto");
    expect(members.slice(1).some((l) => /^\d+,alice,\d+,$/.test(l))).toBe(true);
    const pools = readFileSync(join(out, "pools.csv"), "utf8");
    // boardsDirtyAt: the pool's boards marked for a rebuild (a command just changed them), or empty.
    expect(pools).toMatch(/^id,name,policy,createdAt,createdBy,clock,boardsDirtyAt\r\n1,Riverside commons,"\{""creditLimit""/);

    expect(tableCsv("members", [{ id: 9, handle: '=HYPERLINK("x")', createdAt: 1, mergedInto: null }])).toBe(
      'id,handle,createdAt,mergedInto\r\n9,"\'=HYPERLINK(""x"")",1,\r\n',
    );

    expect((await json(exportCommand, ["--db", source, "--format", "csv", "--out", out])).body.error.code).toBe("exists");
    expect((await json(exportCommand, ["--db", source, "--format", "csv", "--out", out, "--force"])).code).toBe(0);
    expect((await json(exportCommand, ["--db", source, "--format", "csv"])).body.error).toEqual({
      code: "usage",
      message: expect.stringContaining("--out DIR"),
    });
    expect((await json(exportCommand, ["--db", source, "--format", "xml", "--out", join(dir, "x")])).body.error.code).toBe("usage");
  });

  it("GIVEN no --out THEN the JSON export goes to standard output", async () => {
    const r = await cli(exportCommand, ["--db", source]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({
      format: "dpool-export",
      version: 1,
      tables: { pools: [expect.objectContaining({ name: "Riverside commons" })] },
    });
  });
});
