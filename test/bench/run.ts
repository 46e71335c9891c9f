// `npm run bench`: command throughput and latency on a real SQLite file (WAL, synchronous=FULL),
// and the audit over a large ledger. Prints figures; unit tests never time anything.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { runText } from "../../commands/dispatch.ts";
import { openApp } from "../../src/app.ts";
import { postEntry } from "../../src/services/ledger.ts";
import { refreshBoards } from "../../src/services/rooms.ts";
import { seededRandom } from "../support/app.ts";

const dir = mkdtempSync(join(tmpdir(), "dpool-bench-"));
const app = openApp({ dbFile: join(dir, "bench.sqlite"), random: seededRandom(7) });
let clock = Date.parse("2026-11-27T09:00:00Z");
let n = 0;
const say = (user: string, text: string) =>
  runText(app.engine, { caller: { platform: "console", userId: user, displayName: user, roomId: "lobby" }, requestId: `bench:${++n}`, now: new Date((clock += 1000)) }, text);

function stats(label: string, samples: number[]) {
  samples.sort((a, b) => a - b);
  const pct = (p: number) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]!;
  const total = samples.reduce((a, b) => a + b, 0);
  console.log(
    `${label.padEnd(34)} ${String(samples.length).padStart(6)} ops  ${(samples.length / (total / 1000)).toFixed(0).padStart(6)} ops/s  p50 ${pct(50).toFixed(2)} ms  p99 ${pct(99).toFixed(2)} ms`,
  );
}

async function timeEach(label: string, count: number, make: (i: number) => [string, string]) {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const [user, text] = make(i);
    const t0 = performance.now();
    const r = await say(user, text);
    samples.push(performance.now() - t0);
    if (!r.ok) throw new Error(`${text}: ${r.message}`);
  }
  stats(label, samples);
}

async function main() {
  await say("admin", "pool create Bench");
  await timeEach("project create (write)", 200, (i) => [`coord${i}`, `project create p${i} "Project ${i}"`]);
  await timeEach("goal announce (write + outbox)", 1000, (i) => [`coord${i % 200}`, `goal announce p${i % 200} "Goal number ${i}"`]);
  await timeEach("me balance (read, new members)", 2000, (i) => [`member${i}`, "me balance"]);
  await timeEach("me balance (read)", 2000, (i) => [`member${i % 50}`, "me balance"]);

  await timeEach("task post (write + announce)", 500, (i) => [`coord${i % 200}`, `task post p${i % 200} "Task ${i}" hours:2 kind:k${i % 7}`]);
  await timeEach("task claim", 500, (i) => [`member${i}`, `task claim ${i + 1}`]);
  await timeEach("task done", 500, (i) => [`member${i}`, `task done ${i + 1}`]);
  await timeEach("task verify (ledger entry)", 500, (i) => [`coord${i % 200}`, `task verify ${i + 1} @member${i}`]);
  await timeEach("task list over 500 tasks (read)", 20, () => ["admin", "task list status:all"]);
  await timeEach("kind list (read)", 50, () => ["admin", "kind list"]);
  await timeEach("task board (read)", 50, () => ["admin", "task board"]);
  {
    // The boards job (and every task command) rebuilds each room's board from all open tasks.
    await timeEach("task post (0 to 1000 open, boards)", 1000, (i) => [`coord${i % 200}`, `task post p${i % 200} "Later task ${i}" hours:1`]);
    const samples: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await app.store.transaction((tx) => refreshBoards(tx, 1, (clock += 1000)));
      samples.push(performance.now() - t0);
    }
    stats("board refresh, 1000 open tasks (1 tx)", samples);
  }
  await say("coord0", "good add p0 bread effort:0.5 stock:100000");
  await timeEach("good request at once (2 entries)", 500, (i) => [`member${i}`, "good request bread qty:2"]);
  {
    // A scarce good with 10,000 waiting requests (500 members, 20 each): 100 units, one round.
    await say("coord0", "good add p0 cake effort:0.01");
    for (let m = 0; m < 500; m++) await say(`member${m}`, "good request cake weight:1.5");
    await app.store.transaction(async (tx) => {
      const cake = (await tx.goodByName(1, "cake"))!;
      for (let i = 500; i < 10_000; i++) {
        const member = (await tx.memberByHandle(`member${i % 500}`))!;
        await tx.insertGoodRequest({ goodId: cake.id, memberId: member.id, qty: 1 + (i % 3), weight: 1_000_000 + (i % 40) * 50_000, createdAt: clock, filled: 0, status: "pending", closedAt: null });
      }
    });
    await timeEach("good show, 10,000 waiting", 20, () => ["admin", "good show cake"]);
    await timeEach("good request, 10,000 waiting", 20, (i) => [`member${600 + i}`, "good request cake"]);
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      await say("coord0", "good produce cake 100");
      const t0 = performance.now();
      const r = await say("coord0", "good allocate cake");
      samples.push(performance.now() - t0);
      if (!r.ok) throw new Error(r.message);
    }
    stats("closing a round of 10,000 requests", samples);
  }

  const entries = 100_000;
  const t0 = performance.now();
  await app.store.transaction(async (tx) => {
    const facts = await tx.auditFacts(1);
    const ids = facts.accounts.map((a) => a.account.id);
    for (let i = 0; i < entries; i++) {
      const from = ids[i % ids.length]!;
      const to = ids[(i * 7 + 3) % ids.length]!;
      if (from === to) continue;
      await postEntry(tx, { poolId: 1, fromAccount: from, toAccount: to, amount: 1 + (i % 5000), kind: "bench", memo: "bench", requestId: `bench-entry:${i}`, createdAt: clock, createdBy: null });
    }
  });
  console.log(`${"append 100k ledger entries (1 tx)".padEnd(34)} ${(performance.now() - t0).toFixed(0)} ms`);
  await timeEach("pool audit over 100k entries", 20, () => ["admin", "pool audit"]);
  await timeEach("me history 50 (read)", 500, (i) => [`member${i % 50}`, "me history 50"]);
  {
    // Refusals of huge tokens: tokenizing, did-you-mean and the echo do not grow with the input.
    const huge = "x".repeat(100_000);
    for (const [label, text] of [
      ["refusal: 100 KB unknown command", huge],
      ["refusal: task + 100 KB word", `task ${huge}`],
      ["refusal: 100 KB choice value", `task list status:${huge}`],
      ["refusal: 100 KB quoted title", `task post p0 "${huge}" hours:1`],
    ] as const) {
      const samples: number[] = [];
      for (let i = 0; i < 50; i++) {
        const t0 = performance.now();
        const r = await say("admin", text);
        samples.push(performance.now() - t0);
        if (r.ok || r.code !== "usage") throw new Error(`${label}: ${r.ok ? "accepted" : r.message}`);
      }
      stats(label, samples);
    }
  }
  const mem = process.memoryUsage();
  console.log(`memory: rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB`);
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
