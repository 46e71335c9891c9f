// A store may run a transaction's function more than once: PostgreSQL runs it again after a
// serialization failure (src/store.ts, Store.transaction). Flood control counts commands in
// memory, outside the transaction, so the dispatcher must count a command once however often
// its transaction runs. Here a store that runs every transaction once for nothing (rolled back)
// and then for real stands in for a PostgreSQL store under contention.
import { afterEach, describe, expect, it } from "vitest";
import { runText, type Engine, type Reply } from "../../../commands/dispatch.ts";
import type { Store } from "../../../src/store.ts";
import { testPool, type TestPool } from "../../support/app.ts";

let t: TestPool | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

class RunAgain extends Error {}

/** The store, with every transaction's function run twice: the first run rolled back. */
function runningTwice(inner: Store, runs: { n: number }): Store {
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === "transaction")
        return async <T>(fn: Parameters<Store["transaction"]>[0]): Promise<T> => {
          try {
            await inner.transaction(async (tx) => {
              runs.n++;
              await fn(tx);
              throw new RunAgain();
            });
          } catch (e) {
            if (!(e instanceof RunAgain)) throw e;
          }
          runs.n++;
          return (await inner.transaction(fn)) as T;
        };
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe("flood control under a store that runs a transaction again", () => {
  it("GIVEN floodCommands 4 and every transaction run twice THEN four writes pass and the fifth is told to wait", async () => {
    t = await testPool({ flood: true });
    await t.ok("admin", "pool create Riverside");
    await t.ok("alice", "project create bakery The Bakery");
    await t.ok("alice", 'task post bakery "Knead the dough" hours:2 kind:baking');
    await t.ok("admin", "pool policy floodSeconds 60");
    await t.ok("admin", "pool policy floodCommands 4");
    await t.ok("carol", "me balance");
    t.clock.advance(61_000);
    const runs = { n: 0 };
    // An engine of its own (so a flood gate of its own) on the twice-running store.
    const engine: Engine = { ...t.app.engine, store: runningTwice(t.app.store, runs) };
    let n = 0;
    const say = (line: string): Promise<Reply> =>
      runText(
        engine,
        { caller: { platform: "console", userId: "carol", displayName: "carol", roomId: "lobby" }, requestId: `console:twice-${++n}`, now: t!.clock.now() },
        line,
      );
    for (const line of ["task claim 1", "task drop 1", "task claim 1", "task drop 1"]) {
      const r = await say(line);
      expect(r.ok, `${line}: ${r.ok ? "" : r.message}`).toBe(true);
    }
    // Each of them ran its transaction twice, and was counted once.
    expect(runs.n).toBeGreaterThanOrEqual(8);
    expect(await say("task claim 1")).toMatchObject({ ok: false, code: "rate_limited" });
  });
});
