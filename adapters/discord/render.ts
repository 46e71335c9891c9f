// Reply documents as Discord messages: Markdown in an embed, cards with buttons for tasks and
// goods, plain ephemeral text for refusals. Formatting only: no rule of the pool lives here.
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  escapeMarkdown,
  type APIEmbed,
  type MessageActionRowComponentBuilder,
} from "discord.js";
import type { Doc, Span } from "../../commands/doc.ts";
import { commandsInText, markQuotedCommands, readRef, slashText } from "../../commands/refs.ts";
import { table } from "../../commands/table.ts";

/** Discord's limits on what one message may carry (a payload over any of them is refused whole, 50035). */
export const LIMITS = {
  content: 2000,
  description: 4096,
  embedTitle: 256,
  fieldName: 256,
  fieldValue: 1024,
  fields: 25,
  footer: 2048,
  embedTotal: 6000,
  embeds: 10,
  rows: 5,
  buttonsPerRow: 5,
  customId: 100,
  buttonLabel: 80,
  choices: 25,
  choiceName: 100,
  choiceValue: 100,
  nonce: 25,
} as const;

/**
 * Text cut to at most `max` UTF-16 code units (as Discord counts), with an ellipsis when cut, never
 * inside a surrogate pair.
 */
export function clipUnits(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut}…`;
}

const COLOURS = { ok: 0x3ba55d, error: 0xed4245, info: 0x5865f2, task: 0xf0b232, good: 0x57a5f2 } as const;

/**
 * A command named in a reply, as the slash command to use: `task claim 12` is
 * `/task claim id:12`, `task done <id>` is `/task done id:<id>`. Text naming no command of the
 * table stays as it is, after a slash.
 */
export function slashCommandText(text: string): string {
  const ref = readRef(table, text);
  return ref ? slashText(ref) : `/${text}`;
}

/** `**bold**` with the spaces at its ends outside the marks (`** x**` is not bold in Markdown). */
function marked(mark: string, text: string): string {
  const m = /^(\s*)([\s\S]*?)(\s*)$/.exec(text)!;
  return m[2] === "" ? text : `${m[1]}${mark}${escapeMarkdown(m[2]!)}${mark}${m[3]}`;
}

/** Plain words, with the commands they quote as slash commands in code (`did you mean `/task claim`?`). */
function words(text: string, escape: (t: string) => string): string {
  return commandsInText(table, text)
    .map((p) => (p.cmd ? `\`${slashCommandText(p.text).replace(/`/g, "'")}\`` : escape(p.text)))
    .join("");
}

function span(s: Span): string {
  if (typeof s === "string") return escapeMarkdown(s);
  const t = escapeMarkdown(s.text);
  switch (s.style) {
    case "strong":
      return marked("**", s.text);
    case "code":
      return `\`${s.text.replace(/`/g, "'")}\``;
    case "cmd":
      return `\`${slashCommandText(s.text).replace(/`/g, "'")}\``;
    case "muted":
      return marked("*", s.text);
    case "warn":
      return `⚠️ ${t}`;
    default:
      return t;
  }
}

/** A Doc as Discord Markdown; tables become monospaced code blocks. */
export function docToMarkdown(d: Doc): string {
  const out: string[] = [];
  // Commands quoted in plain words ("task claim 1") are slash commands too.
  for (const b of markQuotedCommands(table, d)) {
    switch (b.kind) {
      case "heading":
        out.push(`**${escapeMarkdown(b.text)}**`);
        break;
      case "line":
        out.push(b.spans.map(span).join(""));
        break;
      case "list":
        for (const item of b.items) out.push(`• ${item.map(span).join("")}`);
        break;
      case "table": {
        const widths = b.head.map((h, i) => Math.max(h.length, ...b.rows.map((r) => (r[i] ?? "").length)));
        const row = (cells: readonly string[]) =>
          cells
            .map((c, i) => c.padEnd(widths[i] ?? 0))
            .join("  ")
            .trimEnd();
        out.push(["```", row(b.head), ...b.rows.map(row), "```"].join("\n"));
        break;
      }
    }
  }
  return out.join("\n");
}

export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 6);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  // Do not leave a code block open.
  const fences = (cut.match(/```/g) ?? []).length;
  return fences % 2 === 1 ? `${cut}\n\`\`\`…` : `${cut}…`;
}

export interface ReplyPayload {
  content?: string;
  embeds?: APIEmbed[];
  components?: ActionRowBuilder<MessageActionRowComponentBuilder>[];
}

/**
 * A successful reply: the document in an embed, with buttons where the data calls for them.
 * `interaction` is the id of the interaction it answers: a preview's confirm buttons name it.
 */
export function okPayload(command: string, d: Doc, data: unknown, interaction?: string): ReplyPayload {
  const group = command.split(" ")[0];
  const colour = group === "task" ? COLOURS.task : group === "good" ? COLOURS.good : COLOURS.ok;
  const embed: APIEmbed = { description: clipText(docToMarkdown(d), LIMITS.description), color: colour };
  const buttons = [...buttonsFor(data), ...(interaction === undefined ? [] : confirmButtons(command, data, interaction))];
  return { embeds: [embed], components: buttons.length > 0 ? [new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(buttons)] : [] };
}

export function errorPayload(message: string): ReplyPayload {
  return { content: clipText(`✗ ${words(message, (t) => t)}`, LIMITS.content) };
}

export function announcementPayload(d: Doc, data: unknown): ReplyPayload {
  const buttons = buttonsFor(data);
  return {
    embeds: [{ description: clipText(docToMarkdown(d), LIMITS.description), color: COLOURS.info }],
    components: buttons.length > 0 ? [new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(buttons)] : [],
  };
}

/** A room's task board: its list in an embed and a Claim button for each of the first five tasks. */
export function boardPayload(d: Doc, taskIds: readonly number[]): ReplyPayload {
  const buttons = taskIds.slice(0, 5).map((id) => button(`Claim #${id}`, `task claim ${id}`, ButtonStyle.Primary));
  return {
    embeds: [{ description: clipText(docToMarkdown(d), LIMITS.description), color: COLOURS.task }],
    components: buttons.length > 0 ? [new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(buttons)] : [],
  };
}

/** Buttons run text commands of the table: `dpool:<command text>` in the custom id. */
export const BUTTON_PREFIX = "dpool:";

function button(label: string, command: string, style: ButtonStyle): ButtonBuilder {
  return new ButtonBuilder().setCustomId(`${BUTTON_PREFIX}${command}`.slice(0, 100)).setLabel(label).setStyle(style);
}

/**
 * A preview's buttons (a command that shows before it acts: its data has `confirmed: false`):
 * `dpool-confirm:<interaction id>` runs the confirmation for the member who asked, and
 * `dpool-cancel:<interaction id>` takes the buttons off. The preview's stored answer, found by its
 * interaction id, says what they confirm and who asked (commands/confirm.ts).
 */
export const CONFIRM_PREFIX = "dpool-confirm:";
export const CANCEL_PREFIX = "dpool-cancel:";

function confirmButtons(command: string, data: unknown, interaction: string): ButtonBuilder[] {
  if (typeof data !== "object" || data === null) return [];
  const d = data as { confirmed?: unknown; original?: { id?: unknown } };
  if (d.confirmed !== false) return [];
  const label = command === "pool correct" && typeof d.original?.id === "number" ? `Reverse entry #${d.original.id}` : "Confirm";
  return [
    new ButtonBuilder().setCustomId(`${CONFIRM_PREFIX}${interaction}`).setLabel(label).setStyle(ButtonStyle.Danger),
    new ButtonBuilder().setCustomId(`${CANCEL_PREFIX}${interaction}`).setLabel("Cancel").setStyle(ButtonStyle.Secondary),
  ];
}

/**
 * A task card carries Claim while it has an open slot; the card of a claim just made carries
 * Done for its worker; a good card carries Request.
 */
function buttonsFor(data: unknown): ButtonBuilder[] {
  if (typeof data !== "object" || data === null) return [];
  const d = data as { task?: { id: number; status?: string }; good?: { name: string; model: string }; outcome?: string };
  const out: ButtonBuilder[] = [];
  if (d.task && typeof d.task.id === "number") {
    if (d.outcome === "claimed") out.push(button("Done", `task done ${d.task.id}`, ButtonStyle.Success));
    else if (d.task.status === undefined || d.task.status === "open") out.push(button("Claim", `task claim ${d.task.id}`, ButtonStyle.Primary));
  }
  if (d.good && (d.good.model === "per-unit" || d.good.model === "copyable")) out.push(button("Request", `good request ${d.good.name}`, ButtonStyle.Primary));
  return out;
}
