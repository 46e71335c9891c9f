// Reply documents as Matrix messages: an m.notice with an HTML body (tables as compact HTML
// tables) and a plain-text body for clients without HTML. Formatting only.
import { docToText, type Doc, type Span, type SpanFormatter } from "../../commands/doc.ts";
import { markQuotedCommands } from "../../commands/refs.ts";
import { table } from "../../commands/table.ts";

/** What a command typed in a Matrix room starts with (Element keeps a leading "/" for itself). */
export const COMMAND_PREFIX = "!dpool";

/** A command named in a reply as it is typed in a room: `!dpool task claim 12`. */
export const matrixCommandText = (text: string) => `${COMMAND_PREFIX} ${text}`;

/** The plain-text body: code in backticks, commands with the prefix. */
const plainBodySpan: SpanFormatter = (style, text) => (style === "code" ? `\`${text}\`` : style === "cmd" ? `\`${matrixCommandText(text)}\`` : text);

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function span(s: Span): string {
  if (typeof s === "string") return escapeHtml(s);
  const t = escapeHtml(s.text);
  switch (s.style) {
    case "strong":
      return `<strong>${t}</strong>`;
    case "code":
      return `<code>${t}</code>`;
    case "cmd":
      return `<code>${escapeHtml(matrixCommandText(s.text))}</code>`;
    case "muted":
      return `<em>${t}</em>`;
    case "good":
      return `<font color="#2e7d32">${t}</font>`;
    case "bad":
      return `<font color="#c62828">${t}</font>`;
    case "warn":
      return `<font color="#e65100">⚠️ ${t}</font>`;
  }
}

export function docToHtml(d: Doc): string {
  const out: string[] = [];
  for (const b of d) {
    switch (b.kind) {
      case "heading":
        out.push(`<strong>${escapeHtml(b.text)}</strong>`);
        break;
      case "line":
        out.push(b.spans.map(span).join(""));
        break;
      case "list":
        out.push(`<ul>${b.items.map((i) => `<li>${i.map(span).join("")}</li>`).join("")}</ul>`);
        break;
      case "table":
        out.push(
          `<table><thead><tr>${b.head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${b.rows
            .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`)
            .join("")}</tbody></table>`,
        );
        break;
    }
  }
  // Lists and tables are blocks already; lines are separated by line breaks.
  return out.reduce(
    (acc, part, i) => (i === 0 ? part : /^<(ul|table)/.test(part) || /<\/(ul|table)>$/.test(out[i - 1]!) ? acc + part : `${acc}<br>${part}`),
    "",
  );
}

export interface NoticeContent {
  msgtype: "m.notice";
  body: string;
  format: "org.matrix.custom.html";
  formatted_body: string;
  "m.relates_to"?: { "m.in_reply_to": { event_id: string } };
  /** Whom the message mentions (intentional mentions): nobody unless the caller says so, so a name in the text pings no one. */
  "m.mentions": { user_ids?: string[] };
}

/** An m.notice with both bodies; a reply to `replyTo` when given. */
export function notice(d: Doc, replyTo?: string): NoticeContent {
  // Commands a refusal quotes ("task claim 1") are written with the prefix too.
  const marked = markQuotedCommands(table, d);
  return {
    msgtype: "m.notice",
    body: docToText(marked, plainBodySpan),
    format: "org.matrix.custom.html",
    formatted_body: docToHtml(marked),
    "m.mentions": {},
    ...(replyTo ? { "m.relates_to": { "m.in_reply_to": { event_id: replyTo } } } : {}),
  };
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

/**
 * The text of an HTML message body as a command: pills (`<a href="https://matrix.to/#/@bob:example.org">Bob</a>`)
 * become the user ids they point at, the quoted fallback of a reply (`<mx-reply>`) is dropped,
 * other tags are taken out and entities decoded.
 */
export function htmlToCommandText(html: string): string {
  return html
    .replace(/<mx-reply>[\s\S]*?<\/mx-reply>/gi, "")
    .replace(/<a\s[^>]*href=["']https:\/\/matrix\.to\/#\/((?:@|%40)[^"'?/]+)[^"']*["'][^>]*>[\s\S]*?<\/a>/gi, (_, id: string) => safeDecode(id))
    .replace(/<br\s*\/?>/gi, " ")
    .replace(/<[^>]*>/g, "")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === "#") return String.fromCodePoint(e[1] === "x" || e[1] === "X" ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/\s+/g, " ")
    .trim();
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
