// Wiring of the scheduler: node-cron ticks every minute (and once at start, to catch up), each
// tick runs the slots that are due (src/schedules.ts) and then lets the adapters deliver what
// the jobs queued. The jobs themselves never see a timer: they get the slot's time.
import cron from "node-cron";
import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import { runDueJobs } from "./schedules.ts";
import type { Store } from "./store.ts";

export interface Clockwork {
  stop(): Promise<void>;
}

/** `logger` hears of every job and tick that failed, with its error (and stack) as `err`. */
export async function startClockwork(o: { store: Store; clock: Clock; afterTick: () => void; logger: Logger }): Promise<Clockwork> {
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = running
      .then(() => runDueJobs(o.store, o.clock.now().getTime(), { logger: o.logger }))
      .then((runs) => {
        if (runs.length > 0) o.afterTick();
      })
      .catch((e: unknown) => o.logger.error({ err: e }, "scheduler tick failed"));
    return running;
  };
  await tick();
  const task = cron.schedule("* * * * *", () => tick(), { name: "dpool-clockwork", noOverlap: true, unref: true });
  return {
    async stop() {
      await task.stop();
      await task.destroy();
      await running;
    },
  };
}
