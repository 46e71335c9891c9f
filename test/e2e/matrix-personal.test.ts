// Issue 12 on Matrix, end to end (the real adapter against the fake homeserver):
//   item 1: personal answers (balance, history, link codes) go to a direct message; the room hears
//           only that they were sent. Bob, in the room, never sees alice's code and cannot become her.
//   flood control: the command past the pool's limit is answered once, the next ones not at all.
import { afterEach, describe, expect, it } from "vitest";
import { MatrixWorld, text, type MatrixUser } from "../support/matrix-world.ts";
import { until } from "../support/until.ts";

const CODE = /\b[A-Z2-9]{4}-[A-Z2-9]{4}\b/;
const CODES = new RegExp(CODE.source, "g");

/** Alice (with a second account, alice2) and bob in the lobby of pool Bakery; flood control on, as in a real room. */
type World = MatrixWorld & { readonly alice: MatrixUser; readonly alice2: MatrixUser; readonly bob: MatrixUser };
const World = {
  async create(): Promise<World> {
    const w = await MatrixWorld.start({ seed: 12, name: "matrix-personal", members: ["alice", "alice2", "bob"], floodControl: true });
    return Object.assign(w, { alice: w.user("alice"), alice2: w.user("alice2"), bob: w.user("bob") });
  },
};

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("Matrix: personal stays personal", () => {
  it("GIVEN alice and bob in a room THEN alice's link code and balance go to her direct messages, bob sees no code and cannot become alice by typing codes", async () => {
    world = await World.create();
    const w = world;

    const asked = await w.say(w.alice, "!dpool me link");
    expect(text(asked)).toBe("@alice: I sent you the answer in a direct message.");
    expect(asked.content["m.mentions"]).toEqual({ user_ids: [w.alice.userId] });
    await until("alice's code in her direct messages", () => w.said(w.alice).some((t) => CODE.test(t)));
    const code = w.said(w.alice).join("\n").match(CODE)![0];
    const dm = w.dm(w.alice)!;
    expect(w.hs.membership(dm, w.alice.userId)).toBe("invite");
    expect(w.hs.membership(dm, w.bob.userId)).toBeUndefined();

    expect(text(await w.say(w.alice, "!dpool me balance"))).toBe("@alice: I sent you the answer in a direct message.");
    await until("alice's balance in her direct messages", () => w.said(w.alice).some((t) => t.includes("Your balance: 0.00 wh")));
    // me alone: what is hers, in her direct messages too.
    expect(text(await w.say(w.alice, "!dpool me"))).toBe("@alice: I sent you the answer in a direct message.");
    await until("alice's me in her direct messages", () => w.said(w.alice).some((t) => t.includes("Nothing else is yours yet")));

    expect(text(await w.say(w.bob, "!dpool me balance"))).toBe("@bob: I sent you the answer in a direct message.");
    // Bob reads everything in the rooms he is in: no code anywhere.
    const seen = w.seenBy(w.bob);
    expect(seen.some((c) => c.includes(code))).toBe(false);
    expect(seen.flatMap((c) => c.match(CODES) ?? [])).toEqual([]);
    // What he can try: codes he makes up. None is alice's, and he stays bob.
    for (const guess of ["AAAA-AAAA", code.replace(/^./, (c) => (c === "A" ? "B" : "A"))]) {
      expect(text(await w.say(w.bob, `!dpool me link ${guess}`))).toContain("that code is not known");
    }
    expect(text(await w.say(w.bob, "!dpool pool admin add @bob"))).toContain("only a pool admin can do that");
    const owners = await w.app.store.read(async (tx) => {
      const of = async (u: MatrixUser) => (await tx.member((await tx.identity("matrix", u.userId))!.memberId))!.handle;
      return [await of(w.alice), await of(w.bob)];
    });
    expect(owners).toEqual(["alice", "bob"]);

    // Alice's other account uses the code: its answer goes to its own direct messages, and both
    // accounts are told privately.
    expect(text(await w.say(w.alice2, `!dpool me link ${code}`))).toBe("@alice2: I sent you the answer in a direct message.");
    await until("alice2's answer", () => w.said(w.alice2).some((t) => t.includes("Linked.")));
    await until("the link's note to both accounts", () => [w.alice, w.alice2].every((u) => w.said(u).some((t) => t.includes("🔗 Accounts linked"))));
    await w.settle();
    expect(w.said(w.alice).filter((t) => t.includes(code))).toHaveLength(1);
    expect(w.said(w.alice).filter((t) => t.includes("🔗 Accounts linked"))).toHaveLength(1);
    expect(w.said(w.alice2).filter((t) => t.includes("🔗 Accounts linked"))).toHaveLength(1);
    expect(w.said(w.alice2).filter((t) => t.includes("Linked."))).toHaveLength(1);
    expect(w.seenBy(w.bob).some((c) => c.includes("Linked.") || c.includes("Accounts linked"))).toBe(false);
    // Still one room notice per personal command, and the code used once only.
    expect(text(await w.say(w.bob, `!dpool me link ${code}`))).toContain("that code was used already");
    expect(w.hs.unhandled).toEqual([]);
  });
});

describe("Matrix: flood control", () => {
  it("GIVEN a pool limit of 3 commands in 4 s THEN bob's 4th command is told to wait, the 5th and 6th get no answer, and after the window he is answered again", async () => {
    world = await World.create();
    const w = world;
    await w.say(w.alice, "!dpool pool policy floodCommands 3");
    await w.say(w.alice, "!dpool pool policy floodSeconds 4");
    const sent = Array.from({ length: 6 }, () => w.hs.send(w.lobby, w.bob.userId, { msgtype: "m.text", body: "!dpool pool info" }));
    await until("answers to the first four", () => sent.slice(0, 4).every((id) => w.answers(w.lobby, id).length > 0));
    await w.settle();
    const answered = sent.map((id) => w.answers(w.lobby, id).map(text));
    console.log(
      `matrix flood test: 6 commands at once, limit 3 in 4 s: answered ${answered.filter((a) => a.length > 0).length}, told to wait ${answered.filter((a) => a.some((t) => t.includes("too fast"))).length}, ignored ${answered.filter((a) => a.length === 0).length}`,
    );
    expect(answered.slice(0, 3).map((a) => a.length)).toEqual([1, 1, 1]);
    expect(answered.slice(0, 3).every((a) => a[0]!.includes("Bakery"))).toBe(true);
    expect(answered[3]).toHaveLength(1);
    expect(answered[3]![0]).toMatch(/^✗ you are sending commands too fast: wait [1-4] s$/);
    expect(answered.slice(4)).toEqual([[], []]);
    // Others are not held up by bob's flood.
    expect(text(await w.say(w.alice2, "!dpool pool info"))).toContain("Bakery");
    await new Promise((r) => setTimeout(r, 4_000));
    expect(text(await w.say(w.bob, "!dpool pool info"))).toContain("Bakery");
  });
});
