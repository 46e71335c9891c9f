// One command on a pool the bench generated and kept (`npm run bench -- --size 1 --keep` prints
// where), through the dispatcher as the bench types it, timed: for profiling one figure.
//   node --cpu-prof --import tsx test/bench/one.ts FILE [--as @m5:bench.example] [--times 3] -- pool summary
import { runText } from "../../commands/dispatch.ts";
import { docToText } from "../../commands/doc.ts";
import { openApp } from "../../src/app.ts";
import { memoryLogger } from "../../src/log.ts";
import { timed } from "./stats.ts";

const argv = process.argv.slice(2);
const dash = argv.indexOf("--");
const [file, ...opts] = dash < 0 ? argv : argv.slice(0, dash);
const text = dash < 0 ? "" : argv.slice(dash + 1).join(" ");
if (!file || !text) {
  process.stderr.write("usage: one.ts FILE [--as USER] [--times N] -- <command text>\n");
  process.exit(2);
}
const opt = (name: string, fallback: string) => {
  const i = opts.indexOf(name);
  return i >= 0 && opts[i + 1] ? opts[i + 1]! : fallback;
};
const user = opt("--as", "@admin:bench.example");
const times = Number(opt("--times", "1"));
const app = openApp({ dbFile: file, logger: memoryLogger("fatal").logger });
// After the bench's own commands (a few hours past the history's end).
let clock = Date.parse("2026-11-28T09:00:00Z");
const run = `${process.pid}-${Date.now().toString(36)}`;
for (let i = 0; i < times; i++) {
  const id = `matrix:$one-${run}-${i}`;
  const t = await timed(() =>
    runText(
      app.engine,
      {
        caller: { platform: "matrix", userId: user, displayName: user.slice(1).split(":")[0]!, roomId: "!lobby:bench.example" },
        requestId: id,
        now: new Date((clock += 5000)),
        replyTo: { room: "!lobby:bench.example", event: id },
      },
      text,
    ),
  );
  const r = t.value;
  process.stdout.write(`${text}: ${t.wallMs.toFixed(1)} ms (CPU ${t.cpuMs.toFixed(1)} ms) ${r.ok ? "ok" : `refused: ${r.message}`}\n`);
  if (i === times - 1 && process.env.SHOW) process.stdout.write(`${docToText(r.doc).slice(0, 2000)}\n`);
}
await app.close();
