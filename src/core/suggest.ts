// "Did you mean ...?": the closest known word by edit distance, if it is close enough.
// The work is bounded whatever is typed: a word longer than SUGGEST_MAX is no typo of a known
// word and is not compared at all, and a candidate whose length alone puts it too far is skipped.

/** The longest word that gets a suggestion (commands, options and choices are shorter). */
export const SUGGEST_MAX = 64;

/** Counts the edit-distance cells computed, for tests and the bench. */
export interface SuggestWork {
  cells: number;
}

export function editDistance(a: string, b: string, work?: SuggestWork): number {
  if (work) work.cells += a.length * b.length;
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

export function closest(word: string, candidates: readonly string[], work?: SuggestWork): string | null {
  if (word.length > SUGGEST_MAX) return null;
  const w = word.toLowerCase();
  const allowed = Math.max(1, Math.floor(w.length / 3));
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    // The distance is at least the difference in length: too far to be suggested.
    if (!(c.startsWith(w) && w.length >= 2) && Math.abs(c.length - w.length) > allowed) continue;
    const d = c.startsWith(w) && w.length >= 2 ? 0.5 : editDistance(w, c.toLowerCase(), work);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== null && bestDistance <= allowed ? best : null;
}

/** How a name is compared when typed: any case, runs of spaces as one. */
export function nameKey(name: string): string {
  return name.trim().replace(/\s+/g, " ").toLowerCase();
}

/** Something that may be typed by several names; `say` is what a suggestion tells people to type. */
export interface Named {
  readonly names: readonly string[];
  readonly say: string;
}

/**
 * The nearest thing to what was typed, by any of its names (compared in any case), as what to
 * type: "did you mean" for projects, goods, kinds, members and tasks.
 */
export function nearestNamed(typed: string, items: readonly Named[], work?: SuggestWork): string | null {
  const sayOf = new Map<string, string>();
  for (const item of items) for (const n of item.names) if (!sayOf.has(nameKey(n))) sayOf.set(nameKey(n), item.say);
  const hit = closest(nameKey(typed), [...sayOf.keys()], work);
  return hit === null ? null : sayOf.get(hit)!;
}
