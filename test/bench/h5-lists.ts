// Figures for the boards and long lists: a pool with 10,000 open tasks
// and 30,000 finished ones on a real file; CPU and wall time per task command (with the boards
// as they are refreshed), per board rebuild, and of task list / kind list / task board.
// Run: npx tsx test/bench/h5-lists.ts [open] [done]. Prints figures; nothing here is a test.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import * as rooms from "../../src/services/rooms.ts";
import { testPool, text } from "../support/app.ts";
import { manyTasks } from "../support/open-tasks.ts";

const open = Number(process.argv[2] ?? 10_000);
const done = Number(process.argv[3] ?? 30_000);
const dir = mkdtempSync(join(tmpdir(), "dpool-h5-"));
const t = await testPool({ dbFile: join(dir, "h5.sqlite"), boards: "left marked" });

function line(label: string, wall: number[], cpu: number[]) {
  const s = [...wall].sort((a, b) => a - b);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(
    `${label.padEnd(44)} n=${String(s.length).padStart(3)}  wall p50 ${s[Math.floor(s.length / 2)]!.toFixed(2)} ms  cpu mean ${mean(cpu).toFixed(2)} ms`,
  );
}

async function measure(label: string, n: number, run: (i: number) => Promise<unknown>) {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await run(i);
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  line(label, wall, cpu);
}

await t.ok("admin", "pool create Big");
const t0 = performance.now();
const big = await manyTasks(t, { open, done, projects: 20 });
console.log(`setup: ${open} open + ${done} done tasks in ${(performance.now() - t0).toFixed(0)} ms`);
// Rooms: the lobby and a room for each of five projects.
for (let p = 0; p < 5; p++) {
  const { code } = await t.ok("admin", "pool invite");
  await t.ok(`c${p}`, `pool join ${code}`, { room: `room${p}` });
  await t.ok(`c${p}`, `project room p${p}`, { room: `room${p}` });
}
const rebuild = (rooms as Record<string, unknown>).rebuildMarkedBoards as ((s: typeof t.store) => Promise<unknown>) | undefined;
// Task commands: each claims an open task (a fresh member each time).
let next = 0;
await measure("task claim (command)", 40, async (i) => {
  for (;;) {
    const id = big.openIds[next++]!;
    const r = await t.say(`m${i}`, `task claim ${id}`);
    if (r.ok) return;
  }
});
if (rebuild) {
  await measure("task claim + board rebuild at delivery", 40, async (i) => {
    for (;;) {
      const id = big.openIds[next++]!;
      const r = await t.say(`n${i}`, `task claim ${id}`);
      if (r.ok) break;
    }
    await rebuild(t.store);
  });
  await measure("board rebuild alone (all 6 rooms)", 20, () => t.store.transaction((tx) => rooms.refreshBoards(tx, 1, t.clock.now().getTime())));
} else {
  await measure("board refresh alone (all 6 rooms, 1 tx)", 20, () => t.store.transaction((tx) => rooms.refreshBoards(tx, 1, t.clock.now().getTime())));
}
for (const cmd of ["task list status:open", "task list", "task list status:all", "kind list", "task board"]) {
  const first = await t.say("admin", cmd);
  if (!first.ok) {
    console.log(`${cmd.padEnd(44)} fails: ${text(first).slice(0, 100)}`);
    continue;
  }
  await measure(cmd, 10, () => t.say("admin", cmd));
}
await t.close();
rmSync(dir, { recursive: true, force: true });
