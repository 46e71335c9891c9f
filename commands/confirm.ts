// Confirming a preview on a chat platform: a command that shows before it acts (`confirm` in its
// definition, such as pool correct) answers a preview; Discord's confirm button and Matrix's ✅
// reaction on that answer run the command's confirming values. The preview's stored answer (its
// reply row) says what was previewed and who asked: only that member may confirm it, and the
// command runs again as them with its usual rules (a pool admin still, the entry not yet
// reversed). The confirmation is a command of its own, keyed by the press's or reaction's id.
import type { Caller } from "../src/services/context.ts";
import type { AnyCommand } from "./define.ts";
import { commandName } from "./define.ts";
import { execute, refuse, type Engine, type Invocation, type Reply, type StoredReply } from "./dispatch.ts";
import { doc } from "./doc.ts";

export type Confirmation =
  | { readonly ok: true; readonly command: AnyCommand; readonly values: Record<string, unknown> }
  | { readonly ok: false; readonly code: string; readonly command?: string; readonly message: string };

/** What confirming the preview answered under `previewRequestId` runs for `caller`, or why it runs nothing. */
export async function confirmationOf(engine: Engine, previewRequestId: string, caller: Pick<Caller, "platform" | "userId">): Promise<Confirmation> {
  const row = await engine.store.read((tx) => tx.reply(previewRequestId));
  if (!row) return { ok: false, code: "not_found", message: "that preview is no longer kept, so nothing was changed: type the command again to see it anew" };
  const stored = JSON.parse(row.body) as StoredReply;
  const command = stored.ok ? engine.table.find((c) => commandName(c) === stored.command) : undefined;
  const values = stored.ok && command?.confirm ? (command.confirm(stored.data) as Record<string, unknown> | undefined) : undefined;
  if (!command || !values) return { ok: false, code: "usage", message: "there is nothing to confirm in that answer; nothing was changed" };
  const name = commandName(command);
  if (row.platform !== caller.platform || row.userId !== caller.userId) {
    return { ok: false, code: "forbidden", command: name, message: `only the member who asked for this ${name} can confirm it; nothing was changed` };
  }
  return { ok: true, command, values };
}

/** Runs the confirmation of a preview as a command of its own (`inv` is the press or the reaction). */
export async function runConfirmation(engine: Engine, inv: Invocation, previewRequestId: string): Promise<Reply> {
  const c = await confirmationOf(engine, previewRequestId, inv.caller);
  if (!c.ok) return refuse(engine, inv, { ok: false, code: c.code, command: c.command, message: c.message, doc: [doc.line(doc.bad("✗ "), c.message)] });
  return execute(engine, inv, c.command, c.values);
}
