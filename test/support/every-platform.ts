// One scripted scenario typed on every platform at once: Discord slash commands against the
// local Discord server, Matrix messages against the local homeserver, and the console room, each
// on its own database (so that task numbers and amounts are the same on each): SQLite files, or
// PostgreSQL databases on the "postgres" test project. The end-to-end tests that read every reply
// of a scenario (dialects, numbers) share it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiscordAdapter } from "../../adapters/discord/client.ts";
import { MatrixAdapter } from "../../adapters/matrix/client.ts";
import type { AnyArg } from "../../commands/args.ts";
import { readRef } from "../../commands/refs.ts";
import { table } from "../../commands/table.ts";
import type { App } from "../../src/app.ts";
import type { Clock } from "../../src/clock.ts";
import { memoryLogger } from "../../src/log.ts";
import { FAKE_IDS, FakeDiscord, type FakeInteraction } from "../fakes/discord-server.ts";
import { FakeHomeserver, type FakeEvent } from "../fakes/homeserver.ts";
import { seededRandom } from "./app.ts";
import { waitQuiet } from "./db-dump.ts";
import { openTestApp } from "./test-app.ts";

export type Who = "alice" | "bob";

export interface EveryPlatform {
  readonly dir: string;
  readonly discord: FakeDiscord;
  readonly hs: FakeHomeserver;
  readonly botId: string;
  /** The pools behind Discord, Matrix and the console. */
  readonly dapp: App;
  readonly mapp: App;
  readonly capp: App;
  /** Waits until both bots have sent everything queued: announcements, boards, notes. */
  settle(): Promise<void>;
  /** Types a line of a script as its slash command in the Discord channel "lobby"; waits for the answer. */
  discordSay(user: string, line: string): Promise<FakeInteraction>;
  /**
   * A Matrix room with alice (its creator), bob and the bot; `say` waits for the bot's answer.
   * Each line of a script (here and in discordSay) is typed once the bot is quiet: scripts name
   * tasks and entries by the numbers they expect, and on PostgreSQL a command whose transaction
   * overlapped a board rebuild may be refused by the database and run again, which leaves a gap
   * in the ids (the first task posted after that would be #3, not #2).
   */
  matrixRoom(): Promise<{ users: Record<Who, { userId: string }>; say(who: Who, line: string): Promise<void> }>;
  close(): Promise<void>;
}

export async function startEveryPlatform(o: { readonly name: string; readonly seed: number; readonly clock: Clock }): Promise<EveryPlatform> {
  const dir = mkdtempSync(join(tmpdir(), `dpool-${o.name}-`));
  const hs = await FakeHomeserver.start();
  const discord = await FakeDiscord.start();
  const bot = hs.registerUser("dpool");
  const { logger } = memoryLogger();
  const adapters: Array<{ deliver(): Promise<void> }> = [];
  const open = (name: string) =>
    openTestApp({
      dbFile: join(dir, `${name}.sqlite`),
      random: seededRandom(o.seed),
      logger,
      afterCommit: () => adapters.forEach((a) => void a.deliver()),
      floodControl: false,
    });
  const dapp = await open("discord");
  const mapp = await open("matrix");
  const capp = await open("console");
  const dbot = new DiscordAdapter({ token: discord.token, apiBase: discord.apiBase, engine: dapp.engine, store: dapp.store, clock: o.clock, logger });
  await dbot.start();
  adapters.push(dbot);
  const mbot = await MatrixAdapter.connect({
    homeserverUrl: hs.baseUrl,
    accessToken: bot.accessToken,
    storageFile: join(dir, "matrix-state.json"),
    engine: mapp.engine,
    store: mapp.store,
    clock: o.clock,
    syncTimeoutMs: 200,
    logger,
  });
  await mbot.start();
  adapters.push({ deliver: () => mbot.deliver() });
  return {
    dir,
    discord,
    hs,
    botId: bot.userId,
    dapp,
    mapp,
    capp,
    settle: async () => {
      await Promise.all(adapters.map((a) => a.deliver()));
      await Promise.all([waitQuiet(dapp.store), waitQuiet(mapp.store)]);
    },
    discordSay: async (user, line) => {
      await waitQuiet(dapp.store);
      const i = discord.interact(slashOf(user, line));
      return i.settled();
    },
    matrixRoom: async () => {
      const users = { alice: hs.registerUser("alice"), bob: hs.registerUser("bob") };
      const room = hs.createRoom(users.alice.userId, { name: "Riverside" });
      hs.invite(room, users.alice.userId, users.bob.userId);
      hs.join(room, users.bob.userId);
      hs.invite(room, users.alice.userId, bot.userId);
      await hs.waitForEvent(room, (e) => e.sender === bot.userId && e.type === "m.room.message");
      return {
        users,
        say: async (who, line) => {
          await waitQuiet(mapp.store);
          const typed = line.replace(/@bob\b/g, users.bob.userId);
          const id = hs.send(room, users[who].userId, { msgtype: "m.text", body: `!dpool ${typed}` });
          await hs.waitForEvent(
            room,
            (e: FakeEvent) => e.sender === bot.userId && (e.content as any)?.["m.relates_to"]?.["m.in_reply_to"]?.event_id === id,
            5000,
            { after: id },
          );
        },
      };
    },
    close: async () => {
      await mbot.stop();
      await dbot.stop();
      await discord.close();
      await hs.close();
      await dapp.close();
      await mapp.close();
      await capp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const OPTION_TYPES: Record<string, number> = { integer: 4, hours: 10, member: 6 };

/** A line of a script as the slash command a Discord member would use, in the channel "lobby". */
export function slashOf(user: string, text: string) {
  const ref = readRef(table, text);
  if (!ref) throw new Error(`no command in "${text}"`);
  const path = ref.command.path;
  const options = ref.parts.map((p) => {
    const kind = (ref.command.args[p.name] as AnyArg).spec.kind;
    const type = OPTION_TYPES[kind] ?? 3;
    const value = type === 6 ? FAKE_IDS[p.value.replace(/^@/, "") as Who] : type === 3 ? p.value : Number(p.value);
    return { name: p.name, type, value };
  });
  return {
    user,
    channelId: "lobby",
    name: path[0]!,
    ...(path.length === 3 ? { group: path[1]!, subcommand: path[2]! } : path.length === 2 ? { subcommand: path[1]! } : {}),
    options,
  };
}
