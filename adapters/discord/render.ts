// Reply documents as Discord messages: Markdown in an embed, cards with buttons for tasks and
// goods, plain ephemeral text for refusals. Formatting only: no rule of the pool lives here.
import { ActionRowBuilder, ButtonBuilder, ButtonStyle, escapeMarkdown, type APIEmbed, type MessageActionRowComponentBuilder } from "discord.js";
import { actionsOf, cardOf, previewOf, type Action, type AnyCommand, type Answered, type Card } from "../../commands/define.ts";
import type { Doc, Span } from "../../commands/doc.ts";
import { commandsInText, markQuotedCommands, readRef, slashText } from "../../commands/refs.ts";
import { table } from "../../commands/table.ts";
import { tokenize } from "../../commands/text.ts";
import { claimAction } from "../../commands/task.ts";
import type { TaskId } from "../../src/core/ids.ts";

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
/** The embed's colour of each tone a command's card may have. */
const TONES: Record<Card["tone"], number> = { answer: COLOURS.ok, task: COLOURS.task, good: COLOURS.good };

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
 * A successful reply: the document in an embed coloured by the command's card, with the buttons
 * of the command's actions. `interaction` is the id of the interaction it answers: a preview's
 * confirm buttons name it.
 */
export function okPayload(reply: Answered<unknown> & { readonly doc: Doc }, interaction?: string): ReplyPayload {
  const embed: APIEmbed = { description: clipText(docToMarkdown(reply.doc), LIMITS.description), color: TONES[cardOf(reply).tone] };
  const preview = interaction === undefined ? undefined : previewOf(reply);
  const buttons = [...actionButtons(actionsOf(reply)), ...(preview && interaction !== undefined ? confirmButtons(preview.label, interaction) : [])];
  return { embeds: [embed], components: buttons.length > 0 ? [new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(buttons)] : [] };
}

export function errorPayload(message: string): ReplyPayload {
  return { content: clipText(`✗ ${words(message, (t) => t)}`, LIMITS.content) };
}

export function announcementPayload(d: Doc, actions: readonly Action[] = []): ReplyPayload {
  const buttons = actionButtons(actions);
  return {
    embeds: [{ description: clipText(docToMarkdown(d), LIMITS.description), color: COLOURS.info }],
    components: buttons.length > 0 ? [new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(buttons)] : [],
  };
}

/** A room's task board: its list in an embed and a Claim button for each of the first five tasks. */
export function boardPayload(d: Doc, taskIds: readonly TaskId[]): ReplyPayload {
  const buttons = actionButtons(taskIds.slice(0, 5).map((id) => claimAction(id, `Claim #${id}`)));
  return {
    embeds: [{ description: clipText(docToMarkdown(d), LIMITS.description), color: COLOURS.task }],
    components: buttons.length > 0 ? [new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(buttons)] : [],
  };
}

/**
 * A button runs a command of the table: `dpool-do:<command key>:<values>` in its custom id, the
 * command's short stable key (see define.ts) and its values as JSON, each written as it would be
 * typed. Pressed, the values go through the command's argument schemas like typed ones.
 */
export const ACTION_PREFIX = "dpool-do:";
/**
 * Buttons of earlier versions carried the command's text (`dpool:task claim 12`); messages that
 * carry them may live on, so a press on one still runs its text.
 */
export const BUTTON_PREFIX = "dpool:";

const STYLES: Record<Action["style"], ButtonStyle> = {
  primary: ButtonStyle.Primary,
  success: ButtonStyle.Success,
  danger: ButtonStyle.Danger,
  secondary: ButtonStyle.Secondary,
};

/** An action's custom id. */
export function actionId(a: Action): string {
  const values: Record<string, string> = {};
  for (const [name, arg] of Object.entries(a.command.args)) {
    if (a.values[name] === undefined) continue;
    // Each value as the parser hands a typed one to the schema: written as typed, then read as words (no quotes).
    const typed = arg.toText(a.values[name]);
    const words = tokenize(typed);
    values[name] = words.ok ? words.tokens.map((t) => t.value).join(" ") : typed;
  }
  return `${ACTION_PREFIX}${a.command.key}:${JSON.stringify(values)}`;
}

/** The answer to a button whose command is not in the table (any more). */
export const UNKNOWN_BUTTON = "this button runs a command the bot no longer knows, so nothing was changed: type the command instead (/help lists them)";

/**
 * The command a button's custom id names and its values as given (still to be checked by the
 * command's schemas), or why it names none.
 */
export function readActionId(
  commands: readonly AnyCommand[],
  customId: string,
): { ok: true; command: AnyCommand; raw: Array<[string, unknown]> } | { ok: false; message: string } {
  const rest = customId.slice(ACTION_PREFIX.length);
  const colon = rest.indexOf(":");
  const command = colon < 0 ? undefined : commands.find((c) => c.key === rest.slice(0, colon));
  const gone = { ok: false as const, message: UNKNOWN_BUTTON };
  if (!command) return gone;
  let values: unknown;
  try {
    values = JSON.parse(rest.slice(colon + 1));
  } catch {
    return gone;
  }
  if (typeof values !== "object" || values === null || Array.isArray(values)) return gone;
  return { ok: true, command, raw: Object.entries(values) };
}

/** Buttons for actions: one row at most; one whose id would be over Discord's limit is left out rather than cut. */
function actionButtons(actions: readonly Action[]): ButtonBuilder[] {
  return actions
    .map((a) => ({ a, id: actionId(a) }))
    .filter((x) => x.id.length <= LIMITS.customId)
    .slice(0, LIMITS.buttonsPerRow)
    .map(({ a, id }) => new ButtonBuilder().setCustomId(id).setLabel(clipUnits(a.label, LIMITS.buttonLabel)).setStyle(STYLES[a.style]));
}

/**
 * A preview's buttons (a command that shows before it acts: its `confirm` finds what to run in the data):
 * `dpool-confirm:<interaction id>` runs the confirmation for the member who asked, and
 * `dpool-cancel:<interaction id>` takes the buttons off. The preview's stored answer, found by its
 * interaction id, says what they confirm and who asked (commands/confirm.ts).
 */
export const CONFIRM_PREFIX = "dpool-confirm:";
export const CANCEL_PREFIX = "dpool-cancel:";

function confirmButtons(label: string, interaction: string): ButtonBuilder[] {
  return [
    new ButtonBuilder().setCustomId(`${CONFIRM_PREFIX}${interaction}`).setLabel(label).setStyle(ButtonStyle.Danger),
    new ButtonBuilder().setCustomId(`${CANCEL_PREFIX}${interaction}`).setLabel("Cancel").setStyle(ButtonStyle.Secondary),
  ];
}
