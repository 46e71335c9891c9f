// A platform-neutral reply document. Commands render their results into a Doc; each
// adapter formats a Doc its own way (console text with colours, Discord embeds, Matrix HTML).
// `cmd` is a command named in a reply, written in the table's text grammar ("task claim 12",
// "task claim <id>"): each adapter writes it in its platform's syntax (commands/refs.ts reads it).
export type Style = "strong" | "code" | "cmd" | "muted" | "good" | "bad" | "warn";
export type Span = string | { readonly style: Style; readonly text: string };

export type Block =
  | { readonly kind: "heading"; readonly text: string }
  | { readonly kind: "line"; readonly spans: readonly Span[] }
  | { readonly kind: "list"; readonly items: ReadonlyArray<readonly Span[]> }
  | { readonly kind: "table"; readonly head: readonly string[]; readonly rows: ReadonlyArray<readonly string[]> };

export type Doc = readonly Block[];

export const doc = {
  heading: (text: string): Block => ({ kind: "heading", text }),
  line: (...spans: Span[]): Block => ({ kind: "line", spans }),
  list: (items: ReadonlyArray<readonly Span[]>): Block => ({ kind: "list", items }),
  table: (head: readonly string[], rows: ReadonlyArray<readonly string[]>): Block => ({ kind: "table", head, rows }),
  strong: (text: string): Span => ({ style: "strong", text }),
  /** Code that is no command: a value, a key, a file name. */
  code: (text: string): Span => ({ style: "code", text }),
  /** A command to type, as text of the table's grammar: `doc.cmd("task claim 12")`, `doc.cmd("task done <id>")`. */
  cmd: (text: string): Span => ({ style: "cmd", text }),
  muted: (text: string): Span => ({ style: "muted", text }),
  good: (text: string): Span => ({ style: "good", text }),
  bad: (text: string): Span => ({ style: "bad", text }),
  warn: (text: string): Span => ({ style: "warn", text }),
};

import { refWords } from "./ref-words.ts";

export type SpanFormatter = (style: Style, text: string) => string;

/** Plain text: no marks at all (what `dpool exec` prints and scripts read). */
export const plainSpan: SpanFormatter = (_style, text) => text;

export interface TextOptions {
  /** Wraps lines, list items and a table's last column to this many columns (the console: 80). */
  readonly width?: number;
}

type Piece = { readonly style?: Style | undefined; readonly text: string };

const pieces = (spans: readonly Span[]): Piece[] => spans.map((s) => (typeof s === "string" ? { text: s } : s));

const visible = (text: string) => [...text].length;

/**
 * Breaks styled text into lines of at most `width` visible columns, at spaces; a command or code
 * span is kept whole where it fits a line. The first line starts after `first` columns already
 * used, the others after `indent` spaces.
 */
function wrap(ps: readonly Piece[], fmt: SpanFormatter, width: number | undefined, first: string, indent: string): string[] {
  const render = (p: Piece) => (p.style ? fmt(p.style, p.text) : p.text);
  if (width === undefined) return [first + ps.map(render).join("")];
  // Units that may not be split: words of plain text, whole code and command spans.
  const units: Array<{ piece: Piece; space: boolean }> = [];
  const room = width - visible(indent);
  for (const p of ps) {
    if (p.style === "code" || p.style === "cmd") {
      // Whole where it fits a line; a longer one breaks between its words (never inside <...>).
      if (visible(p.text) <= room) units.push({ piece: p, space: false });
      else
        refWords(p.text).forEach((w, i) =>
          units.push(...(i > 0 ? [{ piece: { text: " " }, space: true }] : []), { piece: { style: p.style, text: w }, space: false }),
        );
      continue;
    }
    for (const m of p.text.matchAll(/(\s+)|(\S+)/g)) units.push({ piece: { ...(p.style ? { style: p.style } : {}), text: m[0] }, space: m[1] !== undefined });
  }
  const lines: string[] = [];
  let line = first;
  let used = visible(first);
  let pendingSpace: Piece | undefined;
  let empty = true;
  for (const u of units) {
    if (u.space) {
      pendingSpace = u.piece;
      continue;
    }
    const len = visible(u.piece.text);
    const spaceLen = pendingSpace ? visible(pendingSpace.text) : 0;
    if (!empty && used + spaceLen + len > width) {
      lines.push(line);
      line = indent;
      used = visible(indent);
      pendingSpace = undefined;
      empty = true;
    } else if (pendingSpace) {
      line += render(pendingSpace);
      used += spaceLen;
      pendingSpace = undefined;
    }
    // A word longer than a whole line is cut.
    let piece = u.piece;
    while (used + visible(piece.text) > width && visible(piece.text) > width - visible(indent)) {
      const room = Math.max(1, width - used);
      const chars = [...piece.text];
      line += render({ ...piece, text: chars.slice(0, room).join("") });
      lines.push(line);
      line = indent;
      used = visible(indent);
      piece = { ...piece, text: chars.slice(room).join("") };
    }
    line += render(piece);
    used += visible(piece.text);
    empty = false;
  }
  lines.push(line);
  return lines.map((l) => l.trimEnd());
}

/**
 * Renders a Doc as monospaced text; `fmt` styles spans (plain by default, ANSI in a terminal).
 * With a width, no line is longer than it (a table's last column wraps under itself).
 */
export function docToText(d: Doc, fmt: SpanFormatter = plainSpan, opts: TextOptions = {}): string {
  const width = opts.width;
  const out: string[] = [];
  for (const b of d) {
    switch (b.kind) {
      case "heading":
        out.push(...wrap([{ style: "strong", text: b.text }], fmt, width, "", ""));
        break;
      case "line":
        out.push(...wrap(pieces(b.spans), fmt, width, "", ""));
        break;
      case "list":
        for (const item of b.items) out.push(...wrap(pieces(item), fmt, width, "  • ", "    "));
        break;
      case "table": {
        const widths = b.head.map((h, i) => Math.max(visible(h), ...b.rows.map((r) => visible(r[i] ?? ""))));
        const last = b.head.length - 1;
        const lead = 2 + widths.slice(0, last).reduce((a, w) => a + w + 2, 0);
        // The last column wraps under itself when it has room for 20 columns at least.
        const wrapLast = width !== undefined && lead + (widths[last] ?? 0) > width && width - lead >= 20;
        const row = (cells: readonly string[], style?: Style): string[] => {
          const head = cells
            .slice(0, last)
            .map((c, i) => c + " ".repeat(Math.max(0, (widths[i] ?? 0) - visible(c))))
            .join("  ");
          const lastCell = cells[last] ?? "";
          if (!wrapLast) {
            const text =
              `  ${[...cells.slice(0, last).map((c, i) => c + " ".repeat(Math.max(0, (widths[i] ?? 0) - visible(c)))), lastCell].join("  ")}`.trimEnd();
            return width === undefined ? [style ? fmt(style, text) : text] : wrap([{ ...(style ? { style } : {}), text }], fmt, width, "", "    ");
          }
          const lines = wrap([{ ...(style ? { style } : {}), text: lastCell }], fmt, width, " ".repeat(lead), " ".repeat(lead));
          const prefix = `  ${head}${last > 0 ? "  " : ""}`;
          return lines.map((l, i) => (i === 0 ? (style ? fmt(style, prefix) : prefix) + l.slice(lead) : l));
        };
        out.push(...row(b.head, "muted"));
        for (const r of b.rows) out.push(...row(r));
        break;
      }
    }
  }
  return out.join("\n");
}
