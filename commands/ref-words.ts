// How a command named in text splits into words. Apart from refs.ts, which reads the words
// against the table, because doc.ts needs it too and refs.ts uses doc.ts's types: neither
// imports the other for it.

/**
 * Splits a reference into words: spaces inside double quotes, `<...>` placeholders and `[...]`
 * optional parts do not split. Quotes are kept, so a word can be shown as it was typed.
 */
export function refWords(text: string): string[] {
  const words: string[] = [];
  let cur = "";
  const closers: string[] = [];
  for (const ch of text) {
    const top = closers[closers.length - 1];
    if (top === '"') {
      cur += ch;
      if (ch === '"') closers.pop();
      continue;
    }
    if (/\s/.test(ch) && closers.length === 0) {
      if (cur) words.push(cur);
      cur = "";
      continue;
    }
    cur += ch;
    if (ch === top) closers.pop();
    else if (ch === '"') closers.push('"');
    else if (ch === "<") closers.push(">");
    else if (ch === "[") closers.push("]");
  }
  if (cur) words.push(cur);
  return words;
}
