// Text that can hide or reorder what others read is never stored, and never echoed raw.
// Refused in free text: control characters (C0, DEL, C1), direction overrides, embeddings,
// isolates and marks (they can make "pay alice" read as something else), and zero-width
// characters. The zero-width joiner is the one exception: between two emoji it builds a single
// one (👩‍🍳 is 👩 U+200D 🍳), so there it is text; anywhere else it is invisible.
// Echoes of input are cut to EXCERPT_MAX characters, with every such character spelled \uXXXX.

export type UnsafeKind = "control" | "direction" | "invisible";

// eslint-disable-next-line no-control-regex -- control characters are what this finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const DIRECTION = /[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/;
// Zero-width and invisible formatting characters (ZWJ is judged by its neighbours).
const INVISIBLE = /[\u200b-\u200d\u2060-\u2064\u206a-\u206f\ufeff\ufff9-\ufffb\u180e]/;
// eslint-disable-next-line no-control-regex -- control characters are among what this finds
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u061c\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\u180e\ud800-\udfff]/;

const ZWJ = 0x200d;
const PICTOGRAPHIC = /^\p{Extended_Pictographic}$/u;
const MODIFIER = /^[\p{Emoji_Modifier}\ufe0f]$/u;

/** The code points of `s` with their UTF-16 offsets (lone surrogates stay single units). */
function codePoints(s: string): Array<{ ch: string; at: number }> {
  const out: Array<{ ch: string; at: number }> = [];
  for (let i = 0; i < s.length;) {
    const cp = s.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    const lone = cp >= 0xd800 && cp <= 0xdfff;
    out.push({ ch: lone ? s[i]! : ch, at: i });
    i += lone ? 1 : ch.length;
  }
  return out;
}

/** Whether the ZWJ at index `i` of `cps` joins two emoji (a skin tone or VS16 may follow the first). */
function joinsEmoji(cps: ReadonlyArray<{ ch: string }>, i: number): boolean {
  let j = i - 1;
  while (j >= 0 && MODIFIER.test(cps[j]!.ch)) j--;
  return j >= 0 && j < i && PICTOGRAPHIC.test(cps[j]!.ch) && i + 1 < cps.length && PICTOGRAPHIC.test(cps[i + 1]!.ch);
}

function kindOf(ch: string): UnsafeKind | null {
  if (CONTROL.test(ch)) return "control";
  if (DIRECTION.test(ch)) return "direction";
  // A surrogate on its own (not half of a pair) shows as nothing or as a box.
  if (INVISIBLE.test(ch) || (ch.length === 1 && ch >= "\ud800" && ch <= "\udfff")) return "invisible";
  return null;
}

export interface UnsafeChar {
  readonly kind: UnsafeKind;
  /** U+202E and the like. */
  readonly codePoint: string;
  /** 1-based position, counted in characters (code points). */
  readonly position: number;
}

/** The first character of `s` that free text may not hold, or null when it is clean. */
export function unsafeChar(s: string): UnsafeChar | null {
  if (!UNSAFE.test(s)) return null;
  const cps = codePoints(s);
  for (let i = 0; i < cps.length; i++) {
    const { ch } = cps[i]!;
    const kind = kindOf(ch);
    if (kind === null) continue;
    if (ch.codePointAt(0) === ZWJ && joinsEmoji(cps, i)) continue;
    return { kind, codePoint: `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`, position: i + 1 };
  }
  return null;
}

/** `s` without the characters unsafeChar refuses: for names a platform gives, which nobody can retype. */
export function withoutUnsafe(s: string): string {
  if (!UNSAFE.test(s)) return s;
  const cps = codePoints(s);
  return cps
    .filter(({ ch }, i) => kindOf(ch) === null || (ch.codePointAt(0) === ZWJ && joinsEmoji(cps, i)))
    .map((c) => c.ch)
    .join("");
}

export const EXCERPT_MAX = 60;

/**
 * At most EXCERPT_MAX characters of what someone typed, fit to quote back: every control,
 * direction or invisible character spelled as \uXXXX, and "…" when it was cut.
 */
export function excerpt(input: string, max = EXCERPT_MAX): string {
  // Only the start is looked at: the work does not grow with the input.
  const head = input.length > max * 2 + 2 ? input.slice(0, max * 2 + 2) : input;
  const cps = codePoints(head);
  let out = "";
  let shown = 0;
  let cut = head.length < input.length;
  for (let i = 0; i < cps.length; i++) {
    const { ch } = cps[i]!;
    const safe = kindOf(ch) === null || (ch.codePointAt(0) === ZWJ && joinsEmoji(cps, i));
    const piece = safe ? ch : `\\u${ch.codePointAt(0)!.toString(16).padStart(4, "0")}`;
    const width = safe ? 1 : piece.length;
    if (shown + width > max) {
      cut = true;
      break;
    }
    out += piece;
    shown += width;
  }
  // A joiner left without its second emoji is invisible: it goes with the cut.
  return cut ? `${out.replace(/\u200d$/, "")}…` : out;
}
