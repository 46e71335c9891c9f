// A scheduler in its own process, for the test of two schedulers on one database:
//   tsx test/support/run-scheduler.ts <db file> <now ms>
import { SqliteStore } from "../../db/sqlite-store.ts";
import { createLogger } from "../../src/log.ts";
import { runDueJobs } from "../../src/schedules.ts";

const [file, now] = process.argv.slice(2);
const store = new SqliteStore(file!);
const runs = await runDueJobs(store, Number(now), { logger: createLogger({ pretty: false }) });
await store.close();
process.stdout.write(JSON.stringify(runs));
