// Wiring: one store, one command table, one engine shared by every adapter.
import { randomBytes } from "node:crypto";
import { table } from "../commands/table.ts";
import type { Engine } from "../commands/dispatch.ts";
import { SqliteStore } from "../db/sqlite-store.ts";
import type { RandomBytes } from "./core/ids.ts";
import { EXIT, FatalError } from "./lifecycle.ts";
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
  readonly store?: Store | undefined;
  readonly random?: RandomBytes | undefined;
  readonly logger?: Logger | undefined;
  readonly afterCommit?: (() => void) | undefined;
  /**
   * Flood control (the pools' floodCommands in floodSeconds per member): on unless false. Tests
   * that drive members faster than anyone types, at a clock that stands still, switch it off.
   */
  readonly floodControl?: boolean | undefined;
}

export const cryptoRandom: RandomBytes = (n) => new Uint8Array(randomBytes(n));

/**
 * The PostgreSQL store DPOOL_DATABASE_URL names (postgres://user@host:port/database), connected
 * and migrated; undefined when it is not set: the SQLite file is the store then. pg is loaded
 * only here, so a start on SQLite does not pay for it.
 */
export async function openDatabaseUrl(env: NodeJS.ProcessEnv): Promise<Store | undefined> {
  const url = env.DPOOL_DATABASE_URL?.trim();
  if (!url) return undefined;
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    throw new FatalError(
      "DPOOL_DATABASE_URL must be a PostgreSQL address such as postgres://dpool@localhost:5432/dpool (unset it to use the SQLite file)",
      EXIT.config,
    );
  }
  const { PgStore } = await import("../db/pg-store.ts");
  try {
    return await PgStore.open(url);
  } catch (e) {
    throw new FatalError(`cannot open the PostgreSQL database of DPOOL_DATABASE_URL: ${e instanceof Error ? e.message : String(e)}`, EXIT.unreachable);
  }
}

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
