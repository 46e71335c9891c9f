// The local console room: type commands as a local user, switch user and room, read the
// pool's announcements for the room you are in. Platform code only: every command goes
// through the same engine as Discord and Matrix.
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { renderAnnouncementMessage, renderNoteMessage, unreadable } from "../../commands/announcements.ts";
import { renderSummaryChart } from "../../commands/chart.ts";
import { attachmentsOf, commandName } from "../../commands/define.ts";
import { runText, type Engine } from "../../commands/dispatch.ts";
import type { Doc } from "../../commands/doc.ts";
import type { Clock } from "../../src/clock.ts";
import { readAnnouncement, readNote } from "../../src/core/announcements.ts";
import { poolTimeZones } from "../../src/delivery.ts";
import type { Store } from "../../src/store.ts";
import { consoleText, CONSOLE_WIDTH } from "./render.ts";
import type { PoolId } from "../../src/core/ids.ts";

export interface ConsoleOptions {
  readonly engine: Engine;
  readonly store: Store;
  readonly clock: Clock;
  readonly user?: string;
  readonly room?: string;
  readonly input?: Readable;
  readonly output?: Writable;
  /** Colours and an interactive prompt; defaults to whether output is a terminal. */
  readonly tty?: boolean;
  readonly firstStart?: boolean;
  /** File that keeps the input history between sessions. */
  readonly historyFile?: string | undefined;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/i;

export const WELCOME = [
  "Welcome to d-pool, a distribution pool for peer-production projects.",
  "This is a local console room. You are @admin in the room #lobby; try:",
  '  pool create "Riverside commons"             start a pool here (its lobby)',
  '  project create bakery "The Bakery"          add a project you coordinate',
  "  task post bakery Knead hours:2 kind:baking  post a task at its kind's weight",
  "  /as bob, then task claim 1, task done 1     work as another member",
  "  /as admin, then task verify 1 @bob          credit the work (see me balance)",
  "  help                                        the commands;  /quit leaves",
];

export async function startConsole(o: ConsoleOptions): Promise<void> {
  const output = o.output ?? process.stdout;
  const input = o.input ?? process.stdin;
  const tty = o.tty ?? Boolean((output as NodeJS.WriteStream).isTTY);
  let user = (o.user ?? "admin").toLowerCase();
  let room = (o.room ?? "lobby").toLowerCase();
  const print = (text: string) => output.write(`${text}\n`);
  const show = (d: Doc) =>
    print(consoleText(d, { colour: tty, width: tty ? Math.min(CONSOLE_WIDTH, (output as NodeJS.WriteStream).columns || CONSOLE_WIDTH) : CONSOLE_WIDTH }));
  /** Summary charts go to PNG files in a folder of this session under the system's temp folder. */
  let chartDir: string | undefined;
  const saveCharts = (draw: () => Array<{ name: string; png: Buffer }>) => {
    try {
      for (const c of draw()) {
        chartDir ??= mkdtempSync(join(tmpdir(), "dpool-charts-"));
        const file = join(chartDir, c.name);
        writeFileSync(file, c.png);
        print(`Chart: ${file}`);
      }
    } catch (e) {
      print(`(the chart could not be drawn: ${(e as Error).message})`);
    }
  };

  const history = o.historyFile && existsSync(o.historyFile) ? readFileSync(o.historyFile, "utf8").split("\n").filter(Boolean).reverse().slice(0, 500) : [];
  const names = o.engine.table.map(commandName);
  const rl = createInterface({
    input,
    output,
    terminal: tty,
    history,
    historySize: 500,
    completer: (line: string) => {
      const hits = names.filter((n) => n.startsWith(line.toLowerCase()));
      return [hits.length > 0 ? hits : names, line];
    },
  });
  const prompt = () => {
    rl.setPrompt(tty ? `\u001b[2m${user}@${room}\u001b[22m › ` : `${user}@${room}> `);
    if (tty) rl.prompt();
  };

  /**
   * Prints announcements queued for this console room (other rooms keep theirs until visited)
   * and notes for the current user.
   */
  const deliver = async () => {
    const pending = await o.store.pendingOutbox("console", 500);
    // Taken before shown: another console on the same database (PostgreSQL) may be showing the
    // same room's news at this moment, and each message is shown by the one that marked it.
    const at = o.clock.now().getTime();
    const takenRows = new Set(
      await o.store.markDelivered(
        pending.filter((p) => p.room.externalId === room).map((p) => p.id),
        at,
      ),
    );
    const here = pending.filter((p) => takenRows.has(p.id));
    const mine = (await o.store.pendingNotes("console", 500)).filter((n) => n.externalId === user);
    const takenNotes = new Set(
      await o.store.markNotesDelivered(
        mine.map((n) => n.id),
        at,
      ),
    );
    const notes = mine.filter((n) => takenNotes.has(n.id));
    // Times in announcements and notes are shown in their pool's time zone.
    const zones = await poolTimeZones(o.store, [...here.map((p) => p.room.poolId), ...notes.map((n) => n.poolId)]);
    const view = (poolId: PoolId) => ({ timeZone: zones.get(poolId) ?? "UTC" });
    for (const p of here) {
      // A terminal cannot edit an earlier message: the board is shown by "task board" instead.
      if (p.kind === "board") continue;
      // A row this version cannot read shows as a plain line, never as its JSON.
      const read = readAnnouncement(p.kind, p.body);
      if (!read.ok) {
        show(unreadable());
        continue;
      }
      const m = read.message;
      show(renderAnnouncementMessage(m, view(p.room.poolId)));
      if (m.kind === "summary") saveCharts(() => [{ name: `summary-${p.id}.png`, png: renderSummaryChart(m.body, view(p.room.poolId)) }]);
    }
    for (const n of notes) {
      const read = readNote(n.kind, n.body);
      if (!read.ok) {
        show(unreadable());
        continue;
      }
      const m = read.message;
      show(renderNoteMessage(m, view(n.poolId)));
      if (m.kind === "summary") saveCharts(() => [{ name: `summary-note-${n.id}.png`, png: renderSummaryChart(m.body, view(n.poolId)) }]);
    }
    const elsewhere = new Set(pending.filter((p) => p.room.externalId !== room).map((p) => p.room.externalId));
    if (elsewhere.size > 0 && tty) print(`\u001b[2m(news waiting in ${[...elsewhere].map((r) => `#${r}`).join(", ")}: /room <name> to read)\u001b[22m`);
  };

  print(o.firstStart ? WELCOME.join("\n") : `d-pool console: you are @${user} in #${room}.\nType help for commands, /quit to leave.`);

  const handle = async (line: string): Promise<boolean> => {
    const text = line.trim();
    if (text.length === 0) return true;
    if (o.historyFile) {
      try {
        // Its folder is the database file's, which a pool kept in PostgreSQL never made.
        mkdirSync(dirname(o.historyFile), { recursive: true });
        appendFileSync(o.historyFile, `${text.replace(/\n/g, " ")}\n`);
      } catch {
        // history is a convenience; a read-only disk must not stop the console
      }
    }
    if (text.startsWith("/")) {
      const [cmd, arg, ...extra] = text.split(/\s+/);
      switch (cmd) {
        case "/quit":
        case "/exit":
          return false;
        case "/as":
        case "/room": {
          if (!arg || extra.length > 0 || !NAME.test(arg)) {
            print(`✗ type ${cmd} <name>, with a name of letters, digits, - and _ (like ${cmd === "/as" ? "alice" : "bakery"})`);
            return true;
          }
          if (cmd === "/as") user = arg.toLowerCase();
          else room = arg.toLowerCase();
          print(`You are @${user} in #${room}.`);
          await deliver();
          return true;
        }
        case "/help":
          print("Console: /as <name> switch user · /room <name> switch room · /quit leave. Pool commands: help");
          return true;
        default:
          print(`✗ unknown console command ${cmd}: /as <name>, /room <name>, /help or /quit (pool commands have no slash, e.g. help)`);
          return true;
      }
    }
    const reply = await runText(
      o.engine,
      {
        caller: { platform: "console", userId: user, displayName: user, roomId: room },
        requestId: `console:${randomBytes(8).toString("hex")}`,
        now: o.clock.now(),
      },
      text,
    );
    // A command flood control ignores gets no answer at all (it was told once to wait).
    // A refusal stays one line (the terminal folds it), so it can be read and copied whole.
    if (reply.ok) show(reply.doc);
    else if (!reply.quiet) print(consoleText(reply.doc, { colour: tty, width: Infinity }));
    if (reply.ok) saveCharts(() => [...attachmentsOf(reply)]);
    await deliver();
    return true;
  };

  // Lines are handled one at a time, in order, even when pasted or piped in all at once. The
  // first link of the chain prints what waited for this room; lines typed (or piped) meanwhile
  // are queued behind it, never lost: the line handler is in place before anything is awaited.
  let chain = deliver().then(() => {
    prompt();
    return true;
  });
  await new Promise<void>((resolve) => {
    let open = true;
    rl.on("line", (line) => {
      chain = chain.then(async (go) => {
        if (!go || !open) return false;
        const more = await handle(line);
        if (!more) {
          open = false;
          rl.close();
        } else prompt();
        return more;
      });
    });
    rl.on("close", () => {
      void chain.then(() => resolve());
    });
  });
  print("Bye.");
}
