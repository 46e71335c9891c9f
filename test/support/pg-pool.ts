// Commands typed on a store the test opened itself (a PostgreSQL one, or a SQLite file that must
// stay one), as testPool types them: console members in console rooms, at a clock the test moves.
import { randomBytes } from "node:crypto";
import { runText } from "../../commands/dispatch.ts";
import { fixedClock } from "../../src/clock.ts";
import { openApp } from "../../src/app.ts";
import { memoryLogger } from "../../src/log.ts";
import type { Store } from "../../src/store.ts";
import { seededRandom } from "./app.ts";

export function testPoolOn(store: Store, start: string) {
  const clock = fixedClock(start);
  const { logger, lines } = memoryLogger();
  const app = openApp({ dbFile: ":memory:", store, random: seededRandom(7), logger, floodControl: false });
  // Request ids of their own: another testPoolOn on the same pool must not find them used.
  const prefix = randomBytes(4).toString("hex");
  let n = 0;
  return {
    clock,
    /** Runs `text` as `user` in console room `room`; fails unless it succeeded; returns its data. */
    async ok(user: string, text: string, room = "lobby"): Promise<any> {
      const r = await runText(
        app.engine,
        { caller: { platform: "console", userId: user, displayName: user, roomId: room }, requestId: `console:${prefix}-${++n}`, now: clock.now() },
        text,
      );
      if (!r.ok) throw new Error(`"${text}" as ${user} was refused: ${r.message} ${JSON.stringify(lines)}`);
      return r.data;
    },
  };
}
