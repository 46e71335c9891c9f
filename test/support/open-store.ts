// A process that opens the store on a file the moment it is told to: the start-up race test
// starts many of these, waits until each printed "ready", then sends "go" to all at once.
import { SqliteStore } from "../../db/sqlite-store.ts";

const file = process.argv[2]!;
process.stdout.write("ready\n");
process.stdin.once("data", () => {
  try {
    const store = new SqliteStore(file);
    void store.close().then(() => process.stdout.write("opened\n"));
  } catch (e) {
    process.stdout.write(`failed: ${(e as Error).message.split("\n")[0]}\n`);
    process.exitCode = 1;
  }
  process.stdin.destroy();
});
