// A bot process without a chat platform, for the test of several processes on one PostgreSQL
// pool (test/e2e/pg-processes.test.ts): what `npm start` wires on DPOOL_DATABASE_URL (a
// PgStore, one engine, a Deliverer kicked after every commit, the scheduler), with a courier
// that "sends" by printing one line per message, so that the test can count what every
// process sent. The test moves the time: the process's clock is what it was told last.
//   DPOOL_DATABASE_URL=postgres://... tsx test/support/pg-bot.ts <name>
// stdin, one JSON object a line:
//   {"op":"at","t":<ms>}                    the clock moves to t; the scheduler ticks at once
//   {"op":"say","id":<n>,"as":<member>,"text":<command>}   a command typed in the console room lobby
//   {"op":"quiet"}                          answers once nothing is left to deliver or to run
// stdout, one JSON object a line: {"ready"}, {"at"}, {"said","ok","code"}, {"ran":[job runs]},
// {"sent":"reply"|"outbox"|"note","id"}, {"quiet"}.
import { createInterface } from "node:readline";
import { runText } from "../../commands/dispatch.ts";
import { PgStore } from "../../db/pg-store.ts";
import { openApp } from "../../src/app.ts";
import { Deliverer, type Courier } from "../../src/delivery.ts";
import { createLogger } from "../../src/log.ts";
import { runDueJobs } from "../../src/schedules.ts";

const name = process.argv[2] ?? "bot";
const url = process.env.DPOOL_DATABASE_URL;
if (!url) throw new Error("DPOOL_DATABASE_URL is not set");
const emit = (o: object): void => void process.stdout.write(`${JSON.stringify({ bot: name, ...o })}\n`);
const logger = createLogger({ pretty: false, destination: { write: (s: string) => void process.stderr.write(s) } });

let now = Date.parse("2026-12-01T09:00:00Z");
const store = await PgStore.open(url, { max: 6 });
// eslint-disable-next-line prefer-const -- the deliverer needs the app's store, the app kicks the deliverer
let deliverer: Deliverer | undefined;
const app = openApp({ dbFile: ":memory:", store, logger, floodControl: false, afterCommit: () => void deliverer?.kick() });

/** Sends by printing: the line is the delivery the test counts. */
const courier: Courier = {
  platform: "console",
  ready: () => true,
  reply: async (row) => emit({ sent: "reply", id: row.requestId }),
  announce: async (row) => emit({ sent: "outbox", id: row.id, kind: row.kind }),
  note: async (row) => emit({ sent: "note", id: row.id, kind: row.kind }),
  classify: (e) => ({ retry: true, reason: e instanceof Error ? e.message : String(e) }),
};
// A short poll: rows another process left (or a lease that ran out) are looked at again soon.
deliverer = new Deliverer({ store, courier, logger, pollMs: 200, leaseMs: 30_000 });
deliverer.start();

/**
 * The scheduler: what the clockwork's tick runs (runDueJobs at the clock's time, then delivery),
 * every 100 ms of real time instead of every minute, and at once after the clock moves; the runs
 * this process made are printed. Ticks of one process never overlap, as the clockwork's don't.
 */
let ticking: Promise<void> = Promise.resolve();
const tick = () =>
  (ticking = ticking
    .then(async () => {
      const runs = await runDueJobs(store, now, { logger });
      if (runs.length > 0) {
        emit({ ran: runs });
        void deliverer?.kick();
      }
    })
    .catch((e: unknown) => logger.error({ err: e }, "scheduler tick failed")));
const timer = setInterval(() => void tick(), 100);

const lines = createInterface({ input: process.stdin });
const work = new Set<Promise<unknown>>();
for await (const line of lines) {
  const m = JSON.parse(line) as { op: string; t?: number; id?: number; as?: string; text?: string };
  if (m.op === "at") {
    now = Math.max(now, m.t!);
    await tick();
    emit({ at: now });
  } else if (m.op === "say") {
    // Commands run side by side, as a bot serves several members at once.
    const p = runText(
      app.engine,
      { caller: { platform: "console", userId: m.as!, displayName: m.as!, roomId: "lobby" }, requestId: `console:${name}-${m.id}`, now: new Date(now) },
      m.text!,
    ).then(
      (r) => emit({ said: m.id, ok: r.ok, code: r.ok ? undefined : r.code }),
      (e: unknown) => emit({ said: m.id, ok: false, code: "crash", message: String(e) }),
    );
    work.add(p);
    void p.finally(() => work.delete(p));
  } else if (m.op === "quiet") {
    await Promise.all([...work]);
    await tick();
    await deliverer.kick();
    emit({ quiet: true });
  }
}
clearInterval(timer);
await Promise.all([...work]);
await ticking;
await deliverer.stop();
await app.close();
