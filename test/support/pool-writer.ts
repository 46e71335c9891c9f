// A second bot process that keeps crediting work on a pool's file until its stdin closes: the
// backup test copies the database while this writes. Prints "ready" after its first credit and
// "done N" (credits made) at the end. Needs a pool with project bakery, alice coordinating it.
import { runText } from "../../commands/dispatch.ts";
import { openApp } from "../../src/app.ts";
import { memoryLogger } from "../../src/log.ts";

const app = openApp({ dbFile: process.argv[2]!, logger: memoryLogger().logger });
let stop = false;
process.stdin.on("end", () => (stop = true));
process.stdin.resume();
let n = 0;
// Each command a few seconds after the last, as people type: flood control never steps in.
const START_MS = Date.parse("2026-11-27T12:00:00Z");
const STEP_MS = 3000;
const say = async (user: string, text: string) => {
  const r = await runText(
    app.engine,
    {
      caller: { platform: "console", userId: user, displayName: user, roomId: "lobby" },
      requestId: `console:writer-${process.pid}-${++n}`,
      now: new Date(START_MS + n * STEP_MS),
    },
    text,
  );
  if (!r.ok) throw new Error(`${text}: ${r.message}`);
  return r.data as { task: { id: number } };
};
let credits = 0;
while (!stop) {
  const { task } = await say("alice", `task post bakery "Job ${credits + 1}" hours:1 kind:baking`);
  await say("bob", `task claim ${task.id}`);
  await say("bob", `task done ${task.id}`);
  await say("alice", `task verify ${task.id} @bob`);
  if (++credits === 1) process.stdout.write("ready\n");
}
await app.close();
process.stdout.write(`done ${credits}\n`);
