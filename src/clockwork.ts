// Wiring of the scheduler: node-cron ticks every minute (and once at start, to catch up), each
// tick runs the slots that are due (src/schedules.ts) and then lets the adapters deliver what
// the jobs queued. The jobs themselves never see a timer: they get the slot's time.
import cron from "node-cron";
import type { Clock } from "./clock.ts";
import { runDueJobs } from "./schedules.ts";
import type { Store } from "./store.ts";

export interface Clockwork {
  stop(): Promise<void>;
}

export async function startClockwork(o: { store: Store; clock: Clock; afterTick: () => void; log: (msg: string, err?: unknown) => void }): Promise<Clockwork> {
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = running
      .then(() => runDueJobs(o.store, o.clock.now().getTime(), { log: o.log }))
      .then((runs) => {
        if (runs.length > 0) o.afterTick();
      })
      .catch((e: unknown) => o.log("scheduler tick failed", e));
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
