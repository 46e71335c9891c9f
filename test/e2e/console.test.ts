// `npm start` with no platform tokens: the local console room, driven through its stdin; on the
// SQLite file, or (the "postgres" test project) on a PostgreSQL database named by
// DPOOL_DATABASE_URL.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildOnce } from "../support/built.ts";
import { testDatabaseSpot, type TestDatabaseSpot } from "../support/test-app.ts";
import { dialectProblems } from "../support/dialects.ts";
import { decodePng, distinctColours } from "../support/png.ts";

const root = resolve(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "dpool-console-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(buildOnce, 180_000);
const spots: TestDatabaseSpot[] = [];
afterEach(async () => {
  for (const s of spots.splice(0)) await s.drop();
});

/** Where a test's pool is kept: the SQLite file `db`, or a PostgreSQL database of its own. */
async function spotFor(db: string): Promise<TestDatabaseSpot> {
  const spot = await testDatabaseSpot(db);
  spots.push(spot);
  return spot;
}

function session(lines: string[], db: string, spot: TestDatabaseSpot): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done, fail) => {
    const env = { ...process.env, DPOOL_DB: db, DPOOL_DATABASE_URL: "", NO_COLOR: "1", ...spot.env };
    const child = spawn("npm", ["start", "--silent"], { cwd: root, env });
    let out = "";
    let err = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (err += b));
    child.on("error", fail);
    child.on("close", (code) => done({ code, out, err }));
    child.stdin.end(`${lines.join("\n")}\n`);
  });
}

describe("npm start (console room)", () => {
  it("GIVEN a fresh database THEN the welcome and tour print, commands answer, users and rooms switch, goals reach the rooms", async () => {
    const db = join(dir, "fresh", "dpool.sqlite");
    const spot = await spotFor(db);
    const r = await session(
      [
        'pool create "Riverside commons"',
        "pool invite",
        "/as alice",
        'project create bakery "The Bakery"',
        'goal announce bakery "Bread for 40 households"',
        "/as bob",
        "goal announce bakery sneaky",
        "me balance",
        "projet list",
        "/room garden",
        "me balance",
        "/bogus",
        "/quit",
        "help",
      ],
      db,
      spot,
    );
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    const out = r.out;
    expect(out).toContain("Welcome to d-pool");
    expect(out).toContain("Pool Riverside commons created.");
    expect(out).toMatch(/Invite code [A-Z2-9]{4}-[A-Z2-9]{4}/);
    expect(out).toContain("You are @alice in #lobby.");
    expect(out).toContain("Project bakery (The Bakery) created");
    expect(out).toContain("Goal #1 of bakery announced in 1 room");
    expect(out).toMatch(/📣 The Bakery \(bakery\) has a new goal #1: Bread for 40 households/);
    expect(out).toContain("✗ only a coordinator of bakery can do that");
    expect(out).toContain("Your balance: 0.00 wh");
    expect(out).toContain('did you mean "project list"?');
    expect(out).toContain("You are @bob in #garden.");
    expect(out).toContain("this room belongs to no pool yet");
    expect(out).toContain("unknown console command /bogus");
    // /quit leaves: the help typed after it never runs.
    expect(out).not.toContain("d-pool commands");
    expect(out.trimEnd().endsWith("Bye.")).toBe(true);
    // Commands in replies are plain, as typed here: no !dpool, no slash commands, no backticks.
    expect(dialectProblems("console", out)).toEqual([]);
    // The pool is in the SQLite file, or in PostgreSQL (and then no file is made).
    expect(existsSync(db)).toBe(spot.url === undefined);
    expect(readFileSync(join(dir, "fresh", "console_history"), "utf8")).toContain("/as alice");
  });

  it("GIVEN an existing database THEN a second start greets briefly and keeps the pool", async () => {
    const db = join(dir, "again.sqlite");
    const spot = await spotFor(db);
    await session(["pool create Again"], db, spot);
    const r = await session(["pool info"], db, spot);
    expect(r.out).not.toContain("Welcome to d-pool");
    expect(r.out).toContain("d-pool console: you are @admin in #lobby");
    expect(r.out).toContain("Pool Again");
  });

  it("GIVEN pool summary THEN its chart is written as a PNG file whose path is printed", async () => {
    const r = await session(
      ["pool create Charts", "project create bakery Bakery", "task post bakery Knead hours:1 kind:baking", "pool summary bakery"],
      join(dir, "charts.sqlite"),
      await spotFor(join(dir, "charts.sqlite")),
    );
    const file = /^Chart: (.+summary-bakery\.png)$/m.exec(r.out)?.[1];
    expect(file, r.out).toBeDefined();
    try {
      const picture = decodePng(readFileSync(file!));
      expect([picture.width, picture.height]).toEqual([800, 400]);
      expect(distinctColours(picture)).toBeGreaterThan(5);
    } finally {
      rmSync(dirname(file!), { recursive: true, force: true });
    }
  });
});
