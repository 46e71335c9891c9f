// pool correct on Discord, end to end (the real discord.js client against the local Discord
// server): the preview carries a danger button "Reverse entry #N" and Cancel. Only the admin who
// asked may press them (anyone else is refused privately and nothing changes); the admin's press
// reverses the entry once, whether the press arrives twice or the button is pressed again.
import type { APIMessage } from "discord-api-types/v10";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { App } from "../../src/app.ts";
import { fixedClock } from "../../src/clock.ts";
import { HOUR_MS } from "../../src/core/time.ts";
import type { LogLine } from "../../src/log.ts";
import { FAKE_IDS, FakeDiscord } from "../fakes/discord-server.ts";
import { OPTION, startDiscordWorld, type DiscordWorld } from "../support/discord-world.ts";
import { dumpTables, quietDump, sqlRows, waitQuiet } from "../support/db-dump.ts";

const { STRING, INTEGER, USER, NUMBER } = OPTION;
const DANGER = 4;

let world: DiscordWorld;
let fake: FakeDiscord;
let app: App;
let logged: LogLine[];
const clock = fixedClock("2026-11-02T09:00:00Z");

beforeAll(async () => {
  world = await startDiscordWorld({ seed: 7, clock });
  ({ fake, app, logged } = world);
});

afterAll(() => world?.close());

// Each command is sent once the bot is quiet: the tests name tasks and entries by number, and on
// PostgreSQL a command whose transaction overlapped the board rebuild after the one before may be
// refused by the database and run again, which leaves a gap in the ids.
async function run(user: string, name: string, subcommand: string, options: Array<{ name: string; type: number; value: string | number }> = []) {
  await waitQuiet(app.store);
  const i = fake.interact({ user, channelId: "lobby", name, subcommand, options });
  await i.settled();
  return i;
}

const press = (user: string, customId: string, message: string) => fake.interact({ type: "button", user, channelId: "lobby", customId, message });

const entries = () =>
  sqlRows<{ id: number; kind: string; reverses: number | null; memo: string }>(app.store, "SELECT id, kind, reverses, memo FROM entries ORDER BY id");

type Button = { type: number; style?: number; label?: string; custom_id?: string };
const buttonsOf = (m: { components?: unknown } | undefined): Button[] =>
  ((m?.components ?? []) as Array<{ components?: Button[] }>).flatMap((row) => row.components ?? []);

describe("pool correct on Discord: the preview's buttons", () => {
  let preview: Awaited<ReturnType<typeof run>>;
  let reverse: Button;
  let cancel: Button;

  it("GIVEN bob's verified work WHEN alice (the pool admin) asks /pool correct THEN the preview changes nothing and carries a danger button Reverse entry #1 and Cancel", async () => {
    await run("alice", "pool", "create", [{ name: "name", type: STRING, value: "Riverside commons" }]);
    await run("alice", "project", "create", [
      { name: "slug", type: STRING, value: "bakery" },
      { name: "name", type: STRING, value: "The Bakery" },
    ]);
    await run("alice", "task", "post", [
      { name: "project", type: STRING, value: "bakery" },
      { name: "title", type: STRING, value: "Knead the dough" },
      { name: "hours", type: NUMBER, value: 2 },
    ]);
    await run("bob", "task", "claim", [{ name: "id", type: INTEGER, value: 1 }]);
    await run("bob", "task", "done", [{ name: "id", type: INTEGER, value: 1 }]);
    clock.advance(HOUR_MS);
    await run("alice", "task", "verify", [
      { name: "id", type: INTEGER, value: 1 },
      { name: "member", type: USER, value: FAKE_IDS.bob },
    ]);
    expect(await entries()).toHaveLength(1);

    const before = await quietDump(app.store);
    preview = await run("alice", "pool", "correct", [
      { name: "entry", type: INTEGER, value: 1 },
      { name: "reason", type: STRING, value: "hours were reported twice" },
    ]);
    expect(preview.ephemeral).toBe(false);
    expect(preview.text).toContain("would be reversed");
    expect(preview.text).toContain("Nothing is changed yet");
    expect(await dumpTables(app.store)).toBe(before);
    const buttons = buttonsOf(preview.reply);
    reverse = buttons.find((b) => b.label === "Reverse entry #1")!;
    cancel = buttons.find((b) => b.label === "Cancel")!;
    expect(reverse).toMatchObject({ style: DANGER, custom_id: `dpool-confirm:${preview.id}` });
    expect(cancel).toMatchObject({ custom_id: `dpool-cancel:${preview.id}` });
  });

  it("GIVEN the preview WHEN bob presses Reverse THEN he is refused privately and nothing changes", async () => {
    const before = await quietDump(app.store);
    const pressed = press("bob", reverse.custom_id!, preview.reply!.id);
    await pressed.settled();
    // The public deferral is taken down before the private refusal goes out: settled() may come between.
    await vi.waitFor(() => expect(pressed.messages.length).toBeGreaterThan(0), { timeout: 5000 });
    expect(pressed.text).toContain("only the member who asked for this pool correct can confirm it");
    expect(pressed.messages.every((m) => ((m.flags ?? 0) & 64) !== 0)).toBe(true);
    expect(await dumpTables(app.store)).toBe(before);
  });

  it("GIVEN the preview WHEN alice presses Reverse THEN entry #1 is reversed, bob's balance is back to 0 and task show reads it corrected", async () => {
    const pressed = press("alice", reverse.custom_id!, preview.reply!.id);
    await pressed.settled();
    expect(pressed.text).toMatch(/Entry #1 \(2\.00 wh\) reversed by entry #2: hours were reported twice/);
    // Answered in the channel, as the typed confirm is.
    expect(pressed.ephemeral).toBe(false);
    // The preview's buttons are gone; its text stays.
    await vi.waitFor(() => expect(buttonsOf(fake.message(preview.reply!.id))).toEqual([]), { timeout: 5000 });
    expect(fake.message(preview.reply!.id)?.embeds[0]?.description).toContain("would be reversed");
    expect(await entries()).toEqual([
      expect.objectContaining({ id: 1, kind: "work" }),
      { id: 2, kind: "correction", reverses: 1, memo: "hours were reported twice" },
    ]);
    expect((await run("bob", "me", "balance")).text).toContain("Your balance: **0.00 wh**");
    const shown = await run("bob", "task", "show", [{ name: "id", type: INTEGER, value: 1 }]);
    expect(shown.text).toContain("corrected");
    expect(shown.text).toContain("reversed by @alice");

    // The same press delivered twice: the second is ignored, one answer and one correction.
    const seen = logged.length;
    fake.dispatch("INTERACTION_CREATE", pressed.payload);
    await vi.waitFor(() => expect(logged.slice(seen).map((l) => l.msg)).toContain("the same interaction arrived twice; the second is ignored"), {
      timeout: 5000,
    });
    expect(pressed.messages).toHaveLength(1);
    expect(await entries()).toHaveLength(2);

    // Pressed again (a client still showing the button): answered once, privately, that it was already reversed; nothing changes.
    const before = await quietDump(app.store);
    const again = press("alice", reverse.custom_id!, preview.reply!.id);
    await again.settled();
    await vi.waitFor(() => expect(again.messages.length).toBeGreaterThan(0), { timeout: 5000 });
    expect(again.messages).toHaveLength(1);
    expect(again.messages[0]!.flags! & 64).toBe(64);
    expect(again.text).toContain("entry #1 was already corrected by entry #2");
    expect(await dumpTables(app.store)).toBe(before);
  });

  it("GIVEN a preview WHEN bob presses Cancel THEN he is refused privately; WHEN alice does THEN the preview loses its buttons and nothing changes", async () => {
    const second = await run("alice", "pool", "correct", [
      { name: "entry", type: INTEGER, value: 2 },
      { name: "reason", type: STRING, value: "that was the wrong entry" },
    ]);
    const buttons = buttonsOf(second.reply);
    expect(buttons.map((b) => b.label)).toEqual(["Reverse entry #2", "Cancel"]);
    const before = await quietDump(app.store);
    const message = second.reply!.id;

    const bobs = press("bob", `dpool-cancel:${second.id}`, message);
    await bobs.settled();
    expect(bobs.ephemeral).toBe(true);
    expect(bobs.text).toContain("only the member who asked for this preview can cancel it");
    expect(buttonsOf(fake.message(message))).toHaveLength(2);

    const alices = press("alice", `dpool-cancel:${second.id}`, message);
    await alices.settled();
    const after = fake.message(message) as APIMessage;
    expect(buttonsOf(after)).toEqual([]);
    expect(after.embeds[0]?.footer?.text).toContain("Cancelled");
    expect(after.embeds[0]?.description).toContain("would be reversed");
    expect(await dumpTables(app.store)).toBe(before);
  });
});
