// Wiring: one store, one command table, one engine shared by every adapter.
import { randomBytes } from "node:crypto";
import { table } from "../commands/table.ts";
import type { Engine } from "../commands/dispatch.ts";
import { SqliteStore } from "../db/sqlite-store.ts";
import type { RandomBytes } from "./core/ids.ts";
import { createLogger, type Logger } from "./log.ts";
import type { Store } from "./store.ts";

export interface App {
  readonly store: Store;
  readonly engine: Engine;
  close(): Promise<void>;
}

export interface AppOptions {
  readonly dbFile: string;
  /** A store opened already (a PostgreSQL one): used instead of opening `dbFile`. */
  readonly store?: Store;
  readonly random?: RandomBytes;
  readonly logger?: Logger;
  readonly afterCommit?: () => void;
  /**
   * Flood control (the pools' floodCommands in floodSeconds per member): on unless false. Tests
   * that drive members faster than anyone types, at a clock that stands still, switch it off.
   */
  readonly floodControl?: boolean;
}

export const cryptoRandom: RandomBytes = (n) => new Uint8Array(randomBytes(n));

export function openApp(o: AppOptions): App {
  const store = o.store ?? new SqliteStore(o.dbFile);
  const engine: Engine = {
    store,
    table,
    random: o.random ?? cryptoRandom,
    logger: o.logger ?? createLogger(),
    afterCommit: o.afterCommit,
    floodControl: o.floodControl ?? true,
  };
  return { store, engine, close: () => store.close() };
}
