// A long-lived dispatcher for the crash test (test/e2e/dispatcher-crash.test.ts): reads one
// command a line from stdin, as JSON {"id", "user", "text", "at"}, runs each in turn through
// runText on the SQLite file given as the first argument, or the PostgreSQL database if it is a
// postgres:// address (console room "lobby"), and prints one
// JSON line per answer: {"id", "ok", "code", "replayed", "data"}. It prints {"ready": pid} once
// the database is open. Killed at any moment, it is started again and gets the unanswered
// commands again, with the same request ids.
//   node --import tsx test/support/dispatcher.ts FILE|URL
import { createInterface } from "node:readline";
import { runText } from "../../commands/dispatch.ts";
import { isPostgresUrl } from "../../db/pg-client.ts";
import { PgStore } from "../../db/pg-store.ts";
import { openApp } from "../../src/app.ts";
import { memoryLogger } from "../../src/log.ts";

interface Line {
  readonly id: string;
  readonly user: string;
  readonly text: string;
  /** The command's time (ms): simulated, so that runs repeat. */
  readonly at: number;
}

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: dispatcher.ts FILE|URL\n");
  process.exit(2);
}
// Commands come faster than any person types (and retried): flood control has its own tests.
const store = isPostgresUrl(file) ? await PgStore.open(file) : undefined;
const app = openApp({ dbFile: store ? ":memory:" : file, store, logger: memoryLogger("error").logger, floodControl: false });
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

// One command at a time, in the order they came, as a chat adapter's queue does.
let queue: Promise<void> = Promise.resolve();
const lines = createInterface({ input: process.stdin });
lines.on("line", (raw) => {
  if (!raw.trim()) return;
  const l = JSON.parse(raw) as Line;
  queue = queue.then(async () => {
    const r = await runText(
      app.engine,
      { caller: { platform: "console", userId: l.user, displayName: l.user, roomId: "lobby" }, requestId: l.id, now: new Date(l.at) },
      l.text,
    );
    out(r.ok ? { id: l.id, ok: true, replayed: r.replayed, data: r.data } : { id: l.id, ok: false, code: r.code, message: r.message });
  });
});
lines.on("close", () => {
  void queue.then(async () => {
    await app.close();
    process.exit(0);
  });
});
out({ ready: process.pid });
