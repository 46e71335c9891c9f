// Issue 15: a whole pool's summary reads the commons' pool-wide facts (what the commons paid, and
// who took each copyable good) once, not once per project, and shows each project exactly what
// that project's own summary shows.
import { afterEach, describe, expect, it } from "vitest";
import type { Tx } from "../../../src/store.ts";
import { testPool, type TestPool } from "../../support/app.ts";

let t: TestPool;
afterEach(() => t?.close());

/** Counts the calls of the named store methods in every transaction and read of the store. */
function countCalls(tp: TestPool, names: ReadonlyArray<keyof Tx>): Map<string, number> {
  const calls = new Map<string, number>(names.map((n) => [n, 0]));
  // A read of an in-memory database runs in a transaction: its tx is wrapped once, not twice.
  const wrapped = new WeakSet<Tx>();
  const wrap = (tx: Tx): Tx => (wrapped.has(tx) ? tx : counted(tx));
  const counted = (tx: Tx): Tx => {
    const proxy = new Proxy(tx, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (typeof key === "string" && calls.has(key)) calls.set(key, calls.get(key)! + 1);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    wrapped.add(proxy);
    return proxy;
  };
  const store = tp.store;
  const transaction = store.transaction.bind(store);
  const read = store.read.bind(store);
  store.transaction = (fn) => transaction((tx) => fn(wrap(tx)));
  store.read = (fn) => read((tx) => fn(wrap(tx)));
  return calls;
}

describe("the commons in a whole pool's summary", () => {
  it("GIVEN 3 projects with copyable goods taken by members THEN pool summary reads commonsWork and copyableUsers once each and every project's commons equal its own summary's", async () => {
    t = await testPool({ start: "2026-11-02T09:00:00Z" });
    await t.ok("admin", "pool create Riverside");
    for (const m of ["bob", "carol", "dave"]) await t.ok(m, "me balance");
    const projects = ["soft", "docs", "maps"];
    for (const [i, p] of projects.entries()) {
      await t.ok("admin", `project create ${p} "Project ${p}"`);
      await t.ok("admin", `good add ${p} ${p}-app effort:1 model:copyable`);
      const posted = await t.ok("admin", `task post ${p} Work hours:${i + 1} good:${p}-app qty:1`);
      await t.ok("bob", `task claim ${posted.task.id}`);
      await t.ok("bob", `task done ${posted.task.id}`);
      await t.ok("admin", `task verify ${posted.task.id} @bob`);
      for (const m of ["carol", "dave"].slice(0, i + 1)) await t.ok(m, `good request ${p}-app`);
    }
    const own = new Map<string, unknown>();
    for (const p of projects) own.set(p, (await t.ok("admin", `pool summary ${p}`)).projects[0].commons);

    const calls = countCalls(t, ["commonsWork", "copyableUsers"]);
    const whole = (await t.ok("admin", "pool summary")).projects as Array<{ project: string; commons: unknown }>;
    expect(Object.fromEntries(calls)).toEqual({ commonsWork: 1, copyableUsers: 1 });
    expect(whole.map((s) => s.project).sort()).toEqual([...projects].sort());
    for (const s of whole) expect(s.commons, s.project).toEqual(own.get(s.project));
    // Each project: its app, its work carried, and the members who took it (1, 2 and 2).
    expect(whole.map((s) => s.commons)).toContainEqual({ carried: 3, goods: [{ name: "maps-app", carried: 3, members: 2 }], otherWork: 0 });
    expect(own.get("soft")).toEqual({ carried: 1, goods: [{ name: "soft-app", carried: 1, members: 1 }], otherWork: 0 });
  });
});
