// Console formatting of reply documents: ANSI colours on a terminal, plain text otherwise.
import { docToText, plainSpan, type Doc, type SpanFormatter } from "../../commands/doc.ts";

const CODES: Record<string, [number, number]> = {
  strong: [1, 22],
  code: [36, 39],
  cmd: [36, 39],
  muted: [2, 22],
  good: [32, 39],
  bad: [31, 39],
  warn: [33, 39],
};

export const ansiSpan: SpanFormatter = (style, text) => {
  const c = CODES[style];
  return c ? `\u001b[${c[0]}m${text}\u001b[${c[1]}m` : text;
};

/** Columns a console reply is wrapped to: a terminal's width, 80 when it has none (a pipe, a file). */
export const CONSOLE_WIDTH = 80;

/** A reply as the console prints it: wrapped to the width (Infinity: not at all), coloured on a terminal. */
export function consoleText(d: Doc, opts: { colour: boolean; width?: number }): string {
  const width = opts.width ?? CONSOLE_WIDTH;
  return docToText(d, opts.colour ? ansiSpan : plainSpan, width === Infinity ? {} : { width });
}
