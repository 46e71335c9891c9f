// Console formatting of reply documents: ANSI colours on a terminal, plain text otherwise.
import type { SpanFormatter } from "../../commands/doc.ts";

const CODES: Record<string, [number, number]> = {
  strong: [1, 22],
  code: [36, 39],
  muted: [2, 22],
  good: [32, 39],
  bad: [31, 39],
  warn: [33, 39],
};

export const ansiSpan: SpanFormatter = (style, text) => {
  const c = CODES[style];
  return c ? `\u001b[${c[0]}m${text}\u001b[${c[1]}m` : text;
};
