// Codes people type: short, unambiguous (no 0/O, 1/I/L), grouped for reading aloud.
// Randomness is a parameter so that tests decide the codes.
const ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

export type RandomBytes = (n: number) => Uint8Array;

export function makeCode(random: RandomBytes, groups = 2, groupLength = 4): string {
  // Rejection sampling: only bytes below the largest multiple of the alphabet's size are used,
  // so every character is equally likely.
  const limit = 256 - (256 % ALPHABET.length);
  const chars: string[] = [];
  while (chars.length < groups * groupLength) {
    for (const b of random(groups * groupLength)) {
      if (b < limit && chars.length < groups * groupLength) chars.push(ALPHABET[b % ALPHABET.length]!);
    }
  }
  const parts: string[] = [];
  for (let g = 0; g < groups; g++) parts.push(chars.slice(g * groupLength, (g + 1) * groupLength).join(""));
  return parts.join("-");
}

/** Normalises what a user typed for a code: case, spaces and dashes do not matter. */
export function normaliseCode(text: string, groupLength = 4): string {
  const flat = text.toUpperCase().replace(/[\s-]/g, "");
  const parts: string[] = [];
  for (let i = 0; i < flat.length; i += groupLength) parts.push(flat.slice(i, i + groupLength));
  return parts.join("-");
}

/** Handles are how members are named in text (@alice): lower case letters, digits, - and _. */
export function handleFrom(displayName: string): string {
  const h = displayName
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 32);
  return h.length > 0 ? h : "member";
}
