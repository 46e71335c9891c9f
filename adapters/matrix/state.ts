// The Matrix adapter's own state (sync token, filter, where each room's timeline was handled up
// to, rooms joined, task announcements): one JSON file, in the format of matrix-bot-sdk's
// SimpleFsStorageProvider (so files written by earlier versions load), but written atomically
// (a temporary file renamed over the old one), so a crash at any moment leaves either the old
// state or the new one, never a torn file. `batch()` groups several changes into one write: the
// rooms' handled positions and the sync token are stored together. It holds the access token, so
// only the bot's user may read it (0600; a wider file of an earlier version is tightened on load).
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { IFilterInfo, IStorageProvider } from "@vector-im/matrix-bot-sdk";
import type { Logger } from "../../src/log.ts";
import { keepPrivate, tightenedLine } from "../../src/secrets.ts";

interface StateData {
  syncToken: string | null;
  filter: IFilterInfo | null;
  appserviceUsers: Record<string, unknown>;
  appserviceTransactions: Record<string, unknown>;
  kvStore: Record<string, string>;
}

/** Keys of earlier versions that nothing reads any more (dropped when the file is loaded). */
const RETIRED = ["dpool.answered"];

export class StateFile implements IStorageProvider {
  private readonly data: StateData;
  private depth = 0;
  private dirty = false;

  /** `logger` hears (a warning) of a file that was readable by others and is private now. */
  constructor(
    readonly file: string,
    o: { logger?: Logger } = {},
  ) {
    mkdirSync(dirname(file), { recursive: true });
    const wider = keepPrivate(file);
    if (wider !== null) o.logger?.warn({ file, mode: wider.toString(8).padStart(4, "0") }, tightenedLine(file, wider));
    let raw: Partial<StateData> = {};
    try {
      const text = readFileSync(file, "utf8").trim();
      if (text) raw = JSON.parse(text) as Partial<StateData>;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`the Matrix state file ${file} cannot be read: ${(e as Error).message}`);
    }
    this.data = {
      syncToken: raw.syncToken ?? null,
      filter: raw.filter ?? null,
      appserviceUsers: raw.appserviceUsers ?? {},
      appserviceTransactions: raw.appserviceTransactions ?? {},
      kvStore: { ...(raw.kvStore ?? {}) },
    };
    for (const k of RETIRED) {
      if (k in this.data.kvStore) {
        delete this.data.kvStore[k];
        this.dirty = true;
      }
    }
    if (this.dirty) this.flush();
  }

  /** Runs `fn` and writes its changes once, at the end. */
  batch<T>(fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
      if (this.depth === 0 && this.dirty) this.flush();
    }
  }

  setSyncToken(token: string | null): void {
    this.data.syncToken = token;
    this.changed();
  }

  getSyncToken(): string | null {
    return this.data.syncToken;
  }

  setFilter(filter: IFilterInfo): void {
    this.data.filter = filter;
    this.changed();
  }

  getFilter(): IFilterInfo {
    return this.data.filter as IFilterInfo;
  }

  storeValue(key: string, value: string): void {
    this.data.kvStore[key] = value;
    this.changed();
  }

  readValue(key: string): string | undefined {
    return this.data.kvStore[key];
  }

  deleteValue(key: string): void {
    if (!(key in this.data.kvStore)) return;
    delete this.data.kvStore[key];
    this.changed();
  }

  private changed(): void {
    this.dirty = true;
    if (this.depth === 0) this.flush();
  }

  private flush(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data), { mode: 0o600 });
    chmodSync(tmp, 0o600); // a temporary file left by a crash keeps its old mode otherwise
    renameSync(tmp, this.file);
    this.dirty = false;
  }
}
