// Small formatting helpers shared by the command groups.
/** "2026-11-27 05:24 UTC": times in replies are UTC until the pool's time zone is used for schedules. */
export function when(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;
