// A long queue of requests for one good must not make the commands around it slower: each one
// runs in one transaction, and how long it takes is how long it holds the write lock. What the
// code does is checked here without a clock: each command runs the same number of SQL
// statements with 10,000 requests waiting as with 100 (a command that read the queue row by row
// would run more), and test/unit/db/query-plans.test.ts checks that those statements find their
// rows by index rather than scanning. The time it takes is measured by `npm run bench` (the
// mix's `good request` and `good show`, and "closing a round of N requests"), not here: a test
// that times itself fails on a busy machine and proves nothing on a quiet one.
// A real SQLite file (WAL, synchronous=FULL), as in production.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runText } from "../../../commands/dispatch.ts";
import { openApp, type App } from "../../../src/app.ts";
import { JOBS, runDueJobs } from "../../../src/schedules.ts";
import type { SqliteStore } from "../../../db/sqlite-store.ts";
import { seededRandom } from "../../support/app.ts";

const MEMBERS = 100;
const LONG = 10_000;

interface Queue {
  readonly app: App;
  /** Runs a command as `user`; returns its reply and the statements it ran. */
  run(user: string, text: string): Promise<{ reply: Awaited<ReturnType<typeof runText>>; statements: number }>;
  ok(user: string, text: string): Promise<any>;
  clockNow(): number;
}

const dirs: string[] = [];
const apps: App[] = [];

/** A pool whose good "cake" has `waiting` requests waiting, from MEMBERS members. */
async function queue(waiting: number): Promise<Queue> {
  const dir = mkdtempSync(join(tmpdir(), "dpool-lock-"));
  dirs.push(dir);
  const app = openApp({ dbFile: join(dir, "lock.sqlite"), random: seededRandom(3) });
  apps.push(app);
  const store = app.store as SqliteStore;
  let clock = Date.parse("2026-11-02T09:00:00Z");
  let n = 0;
  const run = async (user: string, text: string) => {
    const before = store.statements;
    const reply = await runText(
      app.engine,
      { caller: { platform: "console", userId: user, displayName: user, roomId: "lobby" }, requestId: `lock:${++n}`, now: new Date((clock += 2000)) },
      text,
    );
    return { reply, statements: store.statements - before };
  };
  const ok = async (user: string, text: string) => {
    const { reply } = await run(user, text);
    if (!reply.ok) throw new Error(`${text}: ${reply.message}`);
    return reply.data as any;
  };
  await ok("admin", "pool create Riverside");
  await ok("alice", "project create bakery The Bakery");
  await ok("alice", "good add bakery cake effort:0.01");
  for (let m = 0; m < MEMBERS; m++) await ok(`m${m}`, "good request cake weight:1.5");
  // The rest of the queue in one go: requests as `good request` leaves them.
  await app.store.transaction(async (tx) => {
    const good = (await tx.goodByName(1, "cake"))!;
    for (let i = MEMBERS; i < waiting; i++) {
      const member = (await tx.memberByHandle(`m${i % MEMBERS}`))!;
      await tx.insertGoodRequest({
        goodId: good.id,
        memberId: member.id,
        qty: 1 + (i % 3),
        weight: 1_000_000 + (i % 40) * 50_000,
        createdAt: clock + i,
        filled: 0,
        status: "pending",
        closedAt: null,
      });
    }
  });
  return { app, run, ok, clockNow: () => clock };
}

let short: Queue;
let long: Queue;
beforeAll(async () => {
  short = await queue(MEMBERS);
  long = await queue(LONG);
}, 300_000);
afterAll(async () => {
  for (const app of apps) await app.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe(`${LONG} requests waiting for one good`, () => {
  it("GIVEN the queue THEN showing, listing, requesting, cancelling and producing run as many statements as with 100 waiting", async () => {
    const script = ["good show cake", "good list", "good request cake qty:2", "good cancel {request}", "good produce cake 50"];
    // 50 units for more than 50 waiting: in both pools a round opens (none is handed out at once).
    const counts: Record<string, [number, number]> = {};
    const requests: number[] = [];
    for (const [i, q] of [short, long].entries()) {
      for (const line of script) {
        const text = line.replace("{request}", String(requests[i]));
        const { reply, statements } = await q.run(line.includes("request") || line.includes("cancel") ? "newcomer" : "alice", text);
        expect(reply.ok, `${text}: ${reply.ok ? "" : reply.message}`).toBe(true);
        if (line.startsWith("good request")) {
          const request = reply.ok ? (reply.data as any).request : null;
          expect(request?.status).toBe("pending");
          requests[i] = request.id;
        }
        (counts[line] ??= [0, 0])[i] = statements;
      }
    }
    for (const [line, [atShort, atLong]] of Object.entries(counts)) expect(atLong, `${line}: statements with ${MEMBERS} and ${LONG} waiting`).toBe(atShort);
  });

  // Closing a round reads the waiting requests and members' balances in one query each and
  // writes its entries, allocations, requests and notes a chunk of winners at a time.
  it("GIVEN 50 units made THEN good allocate closes the round of 10,000 requests and names its first winners", async () => {
    const r = await long.run("alice", "good allocate cake");
    expect(r.reply.ok).toBe(true);
    const closed = r.reply.ok ? (r.reply.data as any).round : null;
    expect(closed.allocations.length).toBeGreaterThan(0);
    // The answer names the first winners and counts them all (and their units).
    expect(closed.units).toBe(50);
    expect(closed.winners).toBeGreaterThanOrEqual(closed.allocations.length);
  });

  it("GIVEN 100 more units THEN the round job closes the next round", async () => {
    await long.ok("alice", "good produce cake 100");
    const round = await long.app.store.transaction(async (tx) => tx.openRound((await tx.goodByName(1, "cake"))!.id));
    expect(round).toBeDefined();
    const job = JOBS.find((j) => j.name === "close-rounds")!;
    const runs = await runDueJobs(long.app.store, round!.closesAt + 5 * 60_000, { jobs: [job] });
    expect(runs).toEqual([expect.objectContaining({ job: "close-rounds", ok: true, outcome: "1" })]);
    expect(await long.app.store.transaction(async (tx) => (await tx.openRound(round!.goodId))?.id)).not.toBe(round!.id);
  });
});
