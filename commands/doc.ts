// A platform-neutral reply document. Commands render their results into a Doc; each
// adapter formats a Doc its own way (console text with colours, Discord embeds, Matrix HTML).
export type Style = "strong" | "code" | "muted" | "good" | "bad" | "warn";
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
  code: (text: string): Span => ({ style: "code", text }),
  muted: (text: string): Span => ({ style: "muted", text }),
  good: (text: string): Span => ({ style: "good", text }),
  bad: (text: string): Span => ({ style: "bad", text }),
  warn: (text: string): Span => ({ style: "warn", text }),
};

export type SpanFormatter = (style: Style, text: string) => string;

const plainSpan: SpanFormatter = (style, text) => (style === "code" ? `\`${text}\`` : text);

function spansText(spans: readonly Span[], fmt: SpanFormatter): string {
  return spans.map((s) => (typeof s === "string" ? s : fmt(s.style, s.text))).join("");
}

/** Renders a Doc as monospaced text; `fmt` styles spans (plain by default, ANSI in a terminal). */
export function docToText(d: Doc, fmt: SpanFormatter = plainSpan): string {
  const out: string[] = [];
  for (const b of d) {
    switch (b.kind) {
      case "heading":
        out.push(fmt("strong", b.text));
        break;
      case "line":
        out.push(spansText(b.spans, fmt));
        break;
      case "list":
        for (const item of b.items) out.push(`  • ${spansText(item, fmt)}`);
        break;
      case "table": {
        const widths = b.head.map((h, i) => Math.max(h.length, ...b.rows.map((r) => (r[i] ?? "").length)));
        const row = (cells: readonly string[]) =>
          `  ${cells
            .map((c, i) => c.padEnd(widths[i] ?? 0))
            .join("  ")
            .trimEnd()}`;
        out.push(fmt("muted", row(b.head)));
        for (const r of b.rows) out.push(row(r));
        break;
      }
    }
  }
  return out.join("\n");
}
