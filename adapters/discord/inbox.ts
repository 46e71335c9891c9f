// The interactions this bot is acknowledging but may not have run yet. Discord delivers an
// interaction once; once it is acknowledged ("thinking…") nobody else will answer it. A line is
// appended here (a plain file, no database lock to wait for) just before the deferral is sent,
// before the command runs. After a crash, the next start looks at each noted interaction that has
// no stored answer: if Discord shows it "thinking…" (GET @original), the command runs and the
// answer goes out through its token (valid for 15 minutes); one never acknowledged is left alone,
// so it changed nothing. The command's request id keeps a second run from changing anything twice.
import { appendFileSync, chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { Logger } from "../../src/log.ts";
import { keepPrivate, tightenedLine } from "../../src/secrets.ts";
import type { Caller } from "../../src/services/context.ts";
import { TOKEN_TTL_MS, type ReplyTarget } from "./courier.ts";

/**
 * How to run an interaction's command again: a slash command's options, a button's command key
 * and values, an older button's text, a preview's confirm button (the preview's request id), or
 * a refusal.
 */
export type InboxPlan =
  | { readonly path: readonly string[]; readonly raw: ReadonlyArray<readonly [string, unknown]> }
  | { readonly action: string; readonly raw: ReadonlyArray<readonly [string, unknown]> }
  | { readonly text: string }
  | { readonly confirm: string }
  | { readonly refuse: { readonly code: string; readonly message: string } };

export interface InboxEntry {
  readonly target: ReplyTarget;
  readonly caller: Caller;
  /** The invocation time (ms). */
  readonly now: number;
  readonly plan: InboxPlan;
}

export class Inbox {
  private appended = 0;
  /** `logger` hears (a warning) of a file that was readable by others and is private now. */
  constructor(
    readonly file: string,
    o: { logger?: Logger } = {},
  ) {
    const wider = keepPrivate(file);
    if (wider !== null) o.logger?.warn({ file, mode: wider.toString(8).padStart(4, "0") }, tightenedLine(file, wider));
  }

  /** Records an acknowledged interaction (synchronously: it is on disk before the command runs). */
  record(entry: InboxEntry): void {
    // Only the bot's user may read it: it holds interaction tokens (each good for 15 minutes).
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    if (++this.appended >= 2000) this.compact(Date.now());
  }

  /** Entries still answerable (younger than the token's 15 minutes), oldest first, each interaction once. */
  pending(now: number): InboxEntry[] {
    if (!existsSync(this.file)) return [];
    const seen = new Set<string>();
    const out: InboxEntry[] = [];
    for (const line of readFileSync(this.file, "utf8").split("\n")) {
      if (!line.trim()) continue;
      let e: InboxEntry;
      try {
        e = JSON.parse(line) as InboxEntry;
      } catch {
        continue; // a line cut by a crash
      }
      if (!e?.target?.interaction || seen.has(e.target.interaction) || now - e.target.at > TOKEN_TTL_MS) continue;
      seen.add(e.target.interaction);
      out.push(e);
    }
    return out;
  }

  /** Drops what expired; returns what is left. */
  compact(now: number): InboxEntry[] {
    const keep = this.pending(now);
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, keep.map((e) => `${JSON.stringify(e)}\n`).join(""), { mode: 0o600 });
    chmodSync(tmp, 0o600); // a temporary file left by a crash keeps its old mode otherwise
    renameSync(tmp, this.file);
    this.appended = 0;
    return keep;
  }
}
