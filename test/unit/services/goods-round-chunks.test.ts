// A round larger than the chunks its rows are written in (500 winners at a time), with members
// who wait with several requests: the books stay exact across chunks, each member pays their
// requests' charges in one entry to the project and one to the commons and gets one note, and
// every request keeps its own allocation.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runText } from "../../../commands/dispatch.ts";
import { addRoundBids } from "../../../db/bench-fixture.ts";
import type { SqliteStore } from "../../../db/sqlite-store.ts";
import { openApp, type App } from "../../../src/app.ts";
import { ROUND_LINES } from "../../../src/services/goods.ts";
import { seededRandom } from "../../support/app.ts";

const BIDDERS = 2_500;
/** Members who also wait with a second request (added after the bidders' own). */
const TWICE = 100;
const UNITS = 2_300;

let dir: string;
let app: App;
let clock = Date.parse("2026-11-02T09:00:00Z");
let n = 0;
const say = (user: string, text: string) =>
  runText(
    app.engine,
    { caller: { platform: "console", userId: user, displayName: user, roomId: "lobby" }, requestId: `chunks:${++n}`, now: new Date((clock += 2000)) },
    text,
  );
async function ok(user: string, text: string) {
  const r = await say(user, text);
  if (!r.ok) throw new Error(`${text}: ${r.message}`);
  return r.data as any;
}
const sql = () => (app.store as SqliteStore).db.$client;
const all = <T>(text: string, ...params: unknown[]) =>
  sql()
    .prepare(text)
    .all(...params) as T[];

let closed: any;
let goodId: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dpool-chunks-"));
  app = openApp({ dbFile: join(dir, "chunks.sqlite"), random: seededRandom(5) });
  await ok("admin", "pool create Riverside");
  await ok("alice", "project create bakery The Bakery");
  await ok("alice", "good add bakery cake effort:0.05");
  goodId = (sql().prepare("SELECT id FROM goods WHERE name = 'cake'").get() as { id: number }).id;
  const poolId = (sql().prepare("SELECT id FROM pools").get() as { id: number }).id;
  addRoundBids(sql(), { poolId, goodId, requests: BIDDERS, platform: "console", domain: "example", now: clock, seed: 11 });
  // A second request of some bidders, above every other weight: both of theirs win.
  const twice = all<{ member_id: number }>("SELECT member_id FROM good_requests WHERE good_id = ? ORDER BY id DESC LIMIT ?", goodId, TWICE);
  const insert = sql().prepare(
    "INSERT INTO good_requests (good_id, member_id, qty, filled, weight, status, created_at, closed_at, bid_at) VALUES (?, ?, 2, 0, 2100000, 'pending', ?, NULL, NULL)",
  );
  for (const { member_id } of twice) insert.run(goodId, member_id, clock);
  await ok("alice", `good produce cake ${UNITS}`);
  closed = (await ok("alice", "good allocate cake")).round;
}, 120_000);
afterAll(async () => {
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`a round of ${BIDDERS + TWICE} requests and ${UNITS} units`, () => {
  it("GIVEN more winners than one chunk THEN every unit is handed out once, one allocation per winning request", () => {
    const allocations = all<{ request_id: number; member_id: number; qty: number; cost: number }>(
      "SELECT request_id, member_id, qty, cost FROM allocations WHERE good_id = ?",
      goodId,
    );
    expect(closed.units).toBe(UNITS);
    expect(allocations.reduce((a, x) => a + x.qty, 0)).toBe(UNITS);
    expect(new Set(allocations.map((a) => a.request_id)).size).toBe(allocations.length);
    expect(closed.winners).toBe(allocations.length);
    expect(new Set(allocations.map((a) => a.member_id)).size).toBeGreaterThan(2_000);
    // Each request filled by its allocation; the rest still wait.
    const requests = all<{ id: number; qty: number; filled: number; status: string }>(
      "SELECT id, qty, filled, status FROM good_requests WHERE good_id = ?",
      goodId,
    );
    const won = new Map(allocations.map((a) => [a.request_id, a.qty]));
    for (const r of requests) {
      expect(r.filled).toBe(won.get(r.id) ?? 0);
      expect(r.status).toBe(r.filled === r.qty ? "allocated" : "pending");
    }
  });

  it("GIVEN the round closed THEN the audit balances and each member paid their allocations' cost in one entry to the project and one to the commons", async () => {
    const audit = await ok("admin", "pool audit");
    expect(audit.balanced).toBe(true);
    const paid = all<{ member_id: number; cost: number; effort: number; requests: number }>(
      "SELECT member_id, sum(cost) AS cost, sum(effort * qty) AS effort, count(*) AS requests FROM allocations WHERE good_id = ? GROUP BY member_id",
      goodId,
    );
    const entries = all<{ owner_id: number; kind: string; amount: number; n: number }>(
      `SELECT a.owner_id, e.kind, sum(e.amount) AS amount, count(*) AS n FROM entries e JOIN accounts a ON a.id = e.from_account
       WHERE a.kind = 'member' AND e.kind IN ('allocation', 'surplus') GROUP BY a.owner_id, e.kind`,
    );
    const of = new Map(entries.map((e) => [`${e.owner_id}:${e.kind}`, e]));
    let several = 0;
    for (const p of paid) {
      if (p.requests > 1) several++;
      const effort = of.get(`${p.member_id}:allocation`);
      const surplus = of.get(`${p.member_id}:surplus`);
      expect(effort, `member ${p.member_id}`).toMatchObject({ amount: p.effort, n: 1 });
      expect((surplus?.amount ?? 0) + effort!.amount).toBe(p.cost);
      expect(surplus?.n ?? 1).toBe(1);
    }
    // Most of those who asked twice won both (their own bid loses only among the lowest weights).
    expect(several).toBeGreaterThan(TWICE / 2);
    expect(several).toBeLessThanOrEqual(TWICE);
    // The producers got the effort, the commons the rest.
    const [project] = all<{ amount: number }>(
      "SELECT coalesce(sum(e.amount), 0) AS amount FROM entries e JOIN accounts a ON a.id = e.to_account WHERE a.kind = 'project' AND e.kind = 'allocation'",
    );
    expect(project!.amount).toBe(paid.reduce((a, p) => a + p.effort, 0));
  });

  it("GIVEN members with several winning requests THEN each winner gets one note with their units and cost", () => {
    const notes = all<{ member_id: number; body: string }>("SELECT member_id, body FROM member_notes WHERE kind = 'allocated'");
    const paid = all<{ member_id: number; qty: number; cost: number }>(
      "SELECT member_id, sum(qty) AS qty, sum(cost) AS cost FROM allocations WHERE good_id = ? GROUP BY member_id",
      goodId,
    );
    expect(notes).toHaveLength(paid.length);
    const body = new Map(notes.map((x) => [x.member_id, JSON.parse(x.body) as { good: string; qty: number; cost: number }]));
    for (const p of paid) expect(body.get(p.member_id), `member ${p.member_id}`).toMatchObject({ good: "cake", qty: p.qty, cost: p.cost });
  });

  it("GIVEN the answer THEN it names the first winners in the auction's order (highest weight first)", () => {
    expect(closed.allocations).toHaveLength(ROUND_LINES);
    // The second requests bid 2.10, above all others: the first named won two units each.
    for (const a of closed.allocations) expect(a.qty).toBe(2);
  });
});
