// What a catch-up or a scheduled job reports, read for one question: did it change anything?
// A pool's clock (the latest time recorded in it) moves only for outcomes that did.

/** A positive count, a non-empty list, or an object whose counts or lists say so. */
export function didSomething(outcome: unknown): boolean {
  if (typeof outcome === "number") return outcome > 0;
  if (Array.isArray(outcome)) return outcome.length > 0;
  if (typeof outcome !== "object" || outcome === null) return false;
  return Object.values(outcome).some((v) => (typeof v === "number" || Array.isArray(v)) && didSomething(v));
}
