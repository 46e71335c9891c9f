// pool correct in the console room (the console adapter in process, driven through its input):
// unchanged by Discord's buttons and Matrix's ✅. The preview says to type the same line with
// confirm as its last word, offers no button or reaction, and that line reverses the entry;
// task show then names who reversed the credit and why.
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { startConsole } from "../../adapters/console/repl.ts";
import { runText } from "../../commands/dispatch.ts";
import { fixedClock } from "../../src/clock.ts";
import { memoryLogger } from "../../src/log.ts";
import { seededRandom } from "../support/app.ts";
import { openTestApp } from "../support/test-app.ts";

// In memory, or a PostgreSQL database on the "postgres" test project.
const app = await openTestApp({ dbFile: ":memory:", random: seededRandom(3), logger: memoryLogger().logger, floodControl: false });
afterAll(() => app.close());

async function session(lines: string[]): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = "";
  output.on("data", (b: Buffer) => (out += b.toString("utf8")));
  const done = startConsole({ engine: app.engine, store: app.store, clock: fixedClock("2026-11-02T09:00:00Z"), input, output, tty: false });
  // The console reads lines once it has greeted and shown what waits for the room (database
  // reads, no timers): a timer after the greeting runs after that.
  while (!out.includes("Type help")) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 10));
  input.end(`${lines.join("\n")}\n`);
  await done;
  return out;
}

describe("pool correct in the console", () => {
  it("GIVEN a verified credit THEN the preview asks for confirm as the last word (no button, no ✅), and that line reverses it", async () => {
    const out = await session([
      "pool create Riverside",
      'project create bakery "The Bakery"',
      "task post bakery Knead the dough hours:2",
      "/as bob",
      "task claim 1",
      "task done 1",
      "/as admin",
      "task verify 1 @bob",
      "pool correct 1 counted twice",
      "pool audit",
      "pool correct 1 counted twice confirm",
      "task show 1",
      "/quit",
    ]);
    // The console wraps at 80 columns: read it as one line.
    const flat = out.replace(/\s+/g, " ");
    const preview = flat.slice(flat.indexOf("Entry #1 (work:"), flat.indexOf("Entry #1 (2.00 wh) reversed"));
    expect(preview).toContain("would be reversed: 2.00 wh back from @bob to bakery");
    expect(preview).toContain("Nothing is changed yet. To reverse it, type pool correct 1 counted twice confirm");
    expect(preview).not.toContain("✅");
    expect(preview).not.toContain("Reverse entry");
    // The preview changed nothing: the audit between it and the confirm counts the one entry.
    expect(preview).toMatch(/Balanced\. Checked \d+ accounts and 1 entry:/);
    expect(flat).toContain("Entry #1 (2.00 wh) reversed by entry #2: counted twice");
    expect(flat).toMatch(/@bob +1\.00 +corrected .* - @bob's credit reversed by @admin, 2026-11-02 09:00 UTC \(entry #2\): counted twice/);
  });
});

describe("console input typed before the console is ready", () => {
  it("GIVEN news waiting for the room and lines piped in at once THEN the news is shown first and every line is run in order, none lost", async () => {
    // News for the room #early waits in the outbox: a task announced while no console showed it.
    const say = (text: string) =>
      runText(
        app.engine,
        {
          caller: { platform: "console", userId: "admin", displayName: "admin", roomId: "early" },
          requestId: `console:early-${text}`,
          now: new Date("2026-11-02T09:00:00Z"),
        },
        text,
      );
    for (const line of ["pool create Early", 'project create early "Early birds"']) expect((await say(line)).ok).toBe(true);
    const posted = await say("task post early Sweep the yard hours:1");
    if (!posted.ok) throw new Error(posted.message);
    const id = (posted.data as { task: { id: number } }).task.id;
    const input = new PassThrough();
    const output = new PassThrough();
    let out = "";
    output.on("data", (b: Buffer) => (out += b.toString("utf8")));
    // The lines are there before the console has read anything: it used to attach its line
    // handler only after delivering the waiting news (a transaction, which waits a turn), and
    // readline dropped the lines that came meanwhile (so /quit was lost too and it hung).
    input.end(`task claim ${id}\ntask show ${id}\n/quit\n`);
    await startConsole({ engine: app.engine, store: app.store, clock: fixedClock("2026-11-02T09:05:00Z"), input, output, tty: false, room: "early" });
    const flat = out.replace(/\s+/g, " ");
    const news = flat.indexOf(`New task #${id} for early: Sweep the yard`);
    const claimed = flat.indexOf(`You took task #${id} Sweep the yard`);
    const shown = flat.indexOf(`#${id} Sweep the yard (early, general)`);
    expect(news).toBeGreaterThan(-1);
    expect(claimed).toBeGreaterThan(news);
    expect(shown).toBeGreaterThan(claimed);
    expect(flat).toMatch(/@admin +1\.00 +active/);
    expect(flat.endsWith("Bye. ")).toBe(true);
  });
});
