// A pool in memory (or, on the "postgres" test project, in a PostgreSQL database) served by the real Discord adapter against the local Discord server (the
// fake in test/fakes/discord-server.ts), delivering after every commit: what the Discord
// end-to-end tests start with. Members here act faster than any person types, at a clock that
// stands still: flood control is off (it has its own tests).
import { DiscordAdapter } from "../../adapters/discord/client.ts";
import type { App } from "../../src/app.ts";
import type { Clock } from "../../src/clock.ts";
import { memoryLogger } from "../../src/log.ts";
import { FakeDiscord } from "../fakes/discord-server.ts";
import { seededRandom } from "./app.ts";
import { openTestApp } from "./test-app.ts";

/** Discord's application command option types, as interactions carry them. */
export const OPTION = { STRING: 3, INTEGER: 4, USER: 6, NUMBER: 10 } as const;

export interface DiscordWorld {
  readonly fake: FakeDiscord;
  readonly app: App;
  readonly bot: DiscordAdapter;
  /** What the bot logged. */
  readonly logged: ReturnType<typeof memoryLogger>["lines"];
  close(): Promise<void>;
}

export async function startDiscordWorld(o: { readonly seed: number; readonly clock: Clock }): Promise<DiscordWorld> {
  const fake = await FakeDiscord.start();
  const { logger, lines: logged } = memoryLogger();
  const holder: DiscordAdapter[] = [];
  const app = await openTestApp({
    dbFile: ":memory:",
    random: seededRandom(o.seed),
    logger,
    afterCommit: () => holder.forEach((b) => void b.deliver()),
    floodControl: false,
  });
  const bot = new DiscordAdapter({ token: fake.token, apiBase: fake.apiBase, engine: app.engine, store: app.store, clock: o.clock, logger });
  holder.push(bot);
  await bot.start();
  return {
    fake,
    app,
    bot,
    logged,
    close: async () => {
      await bot.stop();
      await fake.close();
      await app.close();
    },
  };
}
