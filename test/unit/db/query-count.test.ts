// How many SQL statements a write command runs, counted by the store (Store.statements), on
// both stores: on PostgreSQL each statement is a round trip over the network, on SQLite it costs
// CPU however small its work, so the commands a pool runs most keep to a known number. A command
// is typed as a chat platform sends it (with a reply target, so its answer is stored too), on a
// small pool; a bound that goes up means a change added statements to every such command, which
// should be a deliberate choice.
import { afterEach, describe, expect, it } from "vitest";
import { runText, type Reply } from "../../../commands/dispatch.ts";
import { claimTask } from "../../../src/services/tasks.ts";
import { inPool, resolveCaller, type Caller } from "../../../src/services/context.ts";
import { riverside, seededRandom, type TestPool } from "../../support/app.ts";

let t: TestPool | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const caller = (user: string): Caller => ({ platform: "console", userId: user, displayName: user, roomId: "lobby" });

/** Runs a command as a chat adapter does (its answer stored under the request id); returns it with the statements it ran. */
async function counted(tp: TestPool, user: string, text: string): Promise<{ reply: Extract<Reply, { ok: true }>; statements: number }> {
  const before = tp.store.statements;
  tp.clock.advance(60_000);
  const id = `console:count-${tp.store.statements}`;
  const reply = await runText(tp.app.engine, { caller: caller(user), requestId: id, now: tp.clock.now(), replyTo: { room: "lobby", event: id } }, text);
  if (!reply.ok) throw new Error(`"${text}" as ${user} was refused: ${reply.message}`);
  return { reply, statements: tp.store.statements - before };
}

/** The bakery with one task posted by alice, and carol, dave and erin known to the pool. */
async function bakery(): Promise<TestPool> {
  const tp = await riverside({ members: ["carol", "dave", "erin"] });
  await tp.ok("alice", 'task post bakery "Knead the dough" hours:2 kind:baking');
  await tp.ok("alice", 'task post bakery "Shape the loaves" hours:1 kind:baking');
  await tp.ok("alice", "good add bakery bread effort:2 stock:5");
  return tp;
}

describe("the statement counter", () => {
  it("counts every statement a transaction or a read runs, and not BEGIN or COMMIT", async () => {
    t = await bakery();
    const start = t.store.statements;
    await t.store.transaction(async (tx) => {
      await tx.pool(1);
      await tx.task(1);
    });
    expect(t.store.statements - start).toBe(2);
    await t.store.read((tx) => tx.member(1));
    expect(t.store.statements - start).toBe(3);
    // A statement built by drizzle (not prepared by hand) counts the same.
    await t.store.read((tx) => tx.identitiesOf(1));
    expect(t.store.statements - start).toBe(4);
  });
});

describe("SQL statements per write command, as a chat platform sends it", () => {
  it("task claim runs at most 8 statements in all (3 of its own), task done 7, task verify 18, good request 26", async () => {
    t = await bakery();
    const claim = await counted(t, "carol", "task claim 1");
    expect((claim.reply.data as { outcome: string }).outcome).toBe("claimed");
    const done = await counted(t, "carol", "task done 1");
    const verify = await counted(t, "alice", "task verify 1 @carol");
    const request = await counted(t, "dave", "good request bread");
    expect((request.reply.data as { request: { status: string } }).request.status).toBe("allocated");

    // The claim's own statements: the task with its claims, waitlist, project, kind and the names
    // they hold (one query, Tx.taskAggregate), the claim written and the task's open time. The
    // dispatcher's: what every command reads first (Tx.opening: the request id's rows, the
    // caller, the room and pool, what came due), the pool's clock and boards' mark, the request
    // and the answer.
    const tp = t;
    let own = 0;
    await tp.store.transaction(async (tx) => {
      const ctx = inPool(await resolveCaller(tx, caller("erin"), { now: tp.clock.now().getTime(), requestId: "console:own", random: seededRandom() }));
      if (!ctx.ok) throw new Error("the lobby is in the pool");
      const before = tp.store.statements;
      const r = await claimTask(ctx.value, 2);
      own = tp.store.statements - before;
      expect(r.ok && r.value.outcome).toBe("claimed");
    });

    const counts = { own, claim: claim.statements, done: done.statements, verify: verify.statements, request: request.statements };
    const bounds = { own: 3, claim: 8, done: 7, verify: 18, request: 26 };
    for (const [name, max] of Object.entries(bounds))
      expect(counts[name as keyof typeof counts], `${name} of ${JSON.stringify(counts)}`).toBeLessThanOrEqual(max);
  });
});
