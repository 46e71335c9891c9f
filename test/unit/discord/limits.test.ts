// Discord refuses a payload over any of its limits whole (400, code 50035): walk the Discord
// renderers with the largest inputs the command table allows (longest names and titles, emoji at
// the cutting points, hundreds of tasks) and check every message, embed, component and
// autocomplete choice against the limits.
import { describe, expect, it } from "vitest";
import { choicesOf, fitChoices } from "../../../adapters/discord/choices.ts";
import { DiscordCourier, discordNonce, restMessage } from "../../../adapters/discord/courier.ts";
import { announcementPayload, boardPayload, errorPayload, LIMITS, okPayload } from "../../../adapters/discord/render.ts";
import { renderAnnouncement, renderNote } from "../../../commands/announcements.ts";
import { UTC_VIEW } from "../../../commands/present.ts";
import { poolSummaryCommand } from "../../../commands/summary.ts";
import type { Reply } from "../../../commands/dispatch.ts";
import { choiceFacts } from "../../../src/services/choices.ts";
import { memoryLogger } from "../../../src/log.ts";
import { JOBS, runDueJobs } from "../../../src/schedules.ts";
import type { BoardMessage } from "../../../src/services/rooms.ts";
import { testPool, type TestPool } from "../../support/app.ts";

/** Text of exactly `n` UTF-16 code units, ending in emoji (surrogate pairs) so that any cut near the end lands inside one. */
function longest(n: number, seed: string): string {
  const emoji = "🍞🥖";
  const head = `${seed} `.repeat(Math.ceil(n / (seed.length + 1))).slice(0, n - emoji.length - 1);
  return `${head.trimEnd().padEnd(n - emoji.length, "x")}${emoji}`;
}

const notes0 = (n: unknown[]) => n.length;
const boardTaskIds = (b: BoardMessage): number[] => ("tasks" in b ? b.tasks.map((t) => t.id) : []);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Every limit Discord checks on a message body (content, embeds, components). */
function checkMessage(what: string, body: Record<string, unknown>): void {
  const content = typeof body.content === "string" ? body.content : "";
  expect(content.length, `${what}: content`).toBeLessThanOrEqual(LIMITS.content);
  expect(LONE_SURROGATE.test(content), `${what}: content cut inside a surrogate pair`).toBe(false);
  const embeds = (body.embeds ?? []) as Array<{
    title?: string;
    description?: string;
    fields?: Array<{ name: string; value: string }>;
    footer?: { text: string };
  }>;
  expect(embeds.length, `${what}: embeds`).toBeLessThanOrEqual(LIMITS.embeds);
  let total = 0;
  for (const e of embeds) {
    expect((e.title ?? "").length, `${what}: embed title`).toBeLessThanOrEqual(LIMITS.embedTitle);
    expect((e.description ?? "").length, `${what}: embed description`).toBeLessThanOrEqual(LIMITS.description);
    expect(LONE_SURROGATE.test(e.description ?? ""), `${what}: description cut inside a surrogate pair`).toBe(false);
    expect((e.fields ?? []).length, `${what}: fields`).toBeLessThanOrEqual(LIMITS.fields);
    for (const f of e.fields ?? []) {
      expect(f.name.length).toBeLessThanOrEqual(LIMITS.fieldName);
      expect(f.value.length).toBeLessThanOrEqual(LIMITS.fieldValue);
    }
    expect((e.footer?.text ?? "").length).toBeLessThanOrEqual(LIMITS.footer);
    total +=
      (e.title ?? "").length +
      (e.description ?? "").length +
      (e.footer?.text ?? "").length +
      (e.fields ?? []).reduce((a, f) => a + f.name.length + f.value.length, 0);
  }
  expect(total, `${what}: characters in all embeds`).toBeLessThanOrEqual(LIMITS.embedTotal);
  expect(content.length > 0 || embeds.length > 0, `${what}: an empty message`).toBe(true);
  const rows = (body.components ?? []) as Array<{ components: Array<{ custom_id?: string; label?: string }> }>;
  expect(rows.length, `${what}: rows`).toBeLessThanOrEqual(LIMITS.rows);
  for (const row of rows) {
    expect(row.components.length, `${what}: buttons in a row`).toBeLessThanOrEqual(LIMITS.buttonsPerRow);
    for (const b of row.components) {
      expect((b.custom_id ?? "").length, `${what}: custom_id`).toBeLessThanOrEqual(LIMITS.customId);
      expect((b.label ?? "").length, `${what}: button label`).toBeLessThanOrEqual(LIMITS.buttonLabel);
    }
  }
}

const TASKS = 300;
let pool: TestPool;
const replies: Array<{ text: string; reply: Reply }> = [];

async function say(user: string, text: string, room = "lobby"): Promise<Reply> {
  const r = await pool.say(user, text, { room });
  replies.push({ text, reply: r });
  return r;
}

describe("Discord renderers within Discord's limits", () => {
  it("GIVEN the largest pool the table allows THEN every reply, announcement, board, summary, help page and choice fits", { timeout: 120_000 }, async () => {
    pool = await testPool({ start: "2026-11-02T09:00:00Z" });
    const projects: string[] = [];
    await pool.ok("alice", `pool create ${longest(80, "Riverside")}`);
    for (let p = 0; p < 6; p++) {
      const slug = `p${p}${"abcdefghijklmnopqrstuvwxyz0123456789".slice(0, 30)}`;
      projects.push(slug);
      await pool.ok("alice", `project create ${slug} ${longest(80, `Project ${p}`)}`);
      await pool.ok(
        "alice",
        `good add ${slug} ${`g${p}${"good-name-long".repeat(3)}`.slice(0, 32)} effort:0.5 stock:1000000 sector:${"s".repeat(32)} unit:${"u".repeat(32)}`,
      );
      await pool.ok("alice", `goal announce ${slug} ${longest(300, "A goal")}`);
    }
    const invite = await pool.ok("alice", "pool invite");
    const code = /[A-Z2-9]{4}-[A-Z2-9]{4}/.exec(JSON.stringify(invite))![0];
    await pool.ok("alice", `pool join ${code}`, { room: "project-room" });
    await pool.ok("alice", `project room ${projects[0]}`, { room: "project-room" });
    for (let t = 0; t < TASKS; t++) {
      const slug = projects[t % projects.length]!;
      await pool.ok(
        "alice",
        `task post ${slug} ${longest(120, `Task ${t}`)} hours:1000 kind:${`k${t % 20}${"kind".repeat(8)}`.slice(0, 32)} slots:100 due:2027-12-31`,
      );
    }
    pool.clock.advance(40 * 86_400_000);
    for (let t = 1; t <= 40; t++) await pool.ok(`member${t % 7}`, `task claim ${t}`);
    for (let t = 1; t <= 10; t++) await pool.ok(`member${t % 7}`, `task done ${t} ${longest(300, "Notes")}`);

    const lines = [
      "help",
      ...["pool", "task", "good", "project", "me", "kind", "goal", "sector"].map((g) => `help ${g}`),
      "pool info",
      "pool members",
      "pool audit",
      "pool policy",
      "project list",
      `project info ${projects[0]}`,
      "task list",
      "task list status:all",
      `task list ${projects[1]}`,
      "task show 1",
      "kind list",
      "good list",
      `good show ${`g0${"good-name-long".repeat(3)}`.slice(0, 32)}`,
      "goal list",
      "sector report",
      "me balance",
      "me history limit:100",
      `pool summary ${projects[0]} days:90`,
      "pool summary days:90",
      "task board",
      `task claim 5`,
      `good request ${`g1${"good-name-long".repeat(3)}`.slice(0, 32)} qty:3`,
    ];
    for (const line of lines) await say("member1", line);
    // Refusals too: the longest message there is, with the longest names.
    await say("member1", `project info ${"z".repeat(32)}`);
    await say("member1", `task claim 999999999`);

    const { logger } = memoryLogger();
    const courier = new DiscordCourier({ rest: {} as never, store: pool.store, table: pool.app.engine.table, logger, live: new Map(), started: () => true });
    for (const { text, reply } of replies) {
      if (!reply.ok && reply.code === "usage" && !text.startsWith("project info") && !text.startsWith("task claim"))
        throw new Error(`${text}: ${reply.message}`);
      for (const ephemeral of [false, true]) checkMessage(text, courier.message(reply, ephemeral).body);
      checkMessage(`${text} (error payload)`, restMessage(errorPayload(longest(5000, "refused"))).body);
      if (reply.ok) checkMessage(`${text} (raw)`, restMessage(okPayload(reply)).body);
    }

    // Announcements, boards, summaries and notes as they are queued.
    const summaries = JOBS.filter((j) => j.name === "summaries" || j.name === "neglected-work");
    await runDueJobs(pool.store, Date.parse("2026-12-14T09:00:00Z"), { jobs: summaries });
    await pool.ok("alice", "task board on").catch(() => undefined);
    const queued = await pool.store.pendingOutbox("console", 100_000);
    const kinds = new Set(queued.map((q) => q.kind));
    console.log(
      `limits: ${replies.length} replies, ${queued.length} queued announcements (${[...kinds].join(", ")}), ${notes0(await pool.store.pendingNotes("console", 100_000))} notes`,
    );
    expect([...kinds]).toEqual(expect.arrayContaining(["task", "goal", "board", "summary", "pool-summary", "neglected"]));
    for (const q of queued) {
      const payload =
        q.kind === "board"
          ? boardPayload(renderAnnouncement("board", q.body, UTC_VIEW), boardTaskIds(JSON.parse(q.body) as BoardMessage))
          : announcementPayload(renderAnnouncement(q.kind, q.body, UTC_VIEW));
      checkMessage(`announcement ${q.kind}`, restMessage(payload, q.kind === "summary" ? [{ name: "summary.png", png: Buffer.alloc(1) }] : []).body);
    }
    const notes = await pool.store.pendingNotes("console", 100_000);
    for (const n of notes) checkMessage(`note ${n.kind}`, restMessage(announcementPayload(renderNote(n.kind, n.body, UTC_VIEW))).body);
    // Charts: at most ten embeds however many are drawn.
    const charts = Array.from({ length: 14 }, (_, i) => ({ name: `summary-${i}.png`, png: Buffer.alloc(1) }));
    checkMessage(
      "fourteen charts",
      restMessage(
        okPayload({ def: poolSummaryCommand, result: { projects: [], sectors: [] }, view: UTC_VIEW, doc: [{ kind: "line", spans: [longest(5000, "x")] }] }),
        charts,
      ).body,
    );

    // Autocomplete: every kind of choice, with and without something typed.
    const caller = { platform: "console", userId: "member1", displayName: "member1", roomId: "lobby" };
    for (const ref of ["project", "task", "good", "kind"] as const) {
      const facts = await pool.store.read((tx) => choiceFacts(tx, caller, pool.clock.now().getTime(), ref));
      const all = choicesOf(facts);
      expect(all.length, ref).toBeGreaterThan(0);
      for (const typed of ["", "1", "🥖", "p0"]) {
        const fitted = fitChoices(all, typed);
        expect(fitted.length).toBeLessThanOrEqual(LIMITS.choices);
        for (const c of fitted) {
          expect(c.name.length, `${ref} choice "${c.name}"`).toBeGreaterThanOrEqual(1);
          expect(c.name.length, `${ref} choice "${c.name}"`).toBeLessThanOrEqual(LIMITS.choiceName);
          expect(LONE_SURROGATE.test(c.name), `${ref} choice cut inside a surrogate pair: ${c.name}`).toBe(false);
          if (typeof c.value === "string") expect(c.value.length).toBeLessThanOrEqual(LIMITS.choiceValue);
        }
      }
    }
    // A task choice keeps its number, weight and state whatever the title.
    const tasks = fitChoices(choicesOf(await pool.store.read((tx) => choiceFacts(tx, caller, pool.clock.now().getTime(), "task"))), "");
    expect(tasks[0]!.name).toMatch(/^#\d+ .+… · weight [\d.]+ · (open|claimed)$/);
    expect(discordNonce("outbox:123456789", Date.now()).length).toBeLessThanOrEqual(LIMITS.nonce);
    await pool.close();
  });
});
