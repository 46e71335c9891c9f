// Autocomplete choices from what the pool offers (src/services/choices.ts), within Discord's
// limits: at most 25 choices, names of 1 to 100 UTF-16 code units (cut with an ellipsis, never
// inside a surrogate pair), string values of at most 100.
import { formatHours, formatWeight } from "../../src/core/amounts.ts";
import type { ChoiceFacts } from "../../src/services/choices.ts";
import { clipUnits, LIMITS } from "./render.ts";

export interface Choice {
  readonly name: string;
  readonly value: string | number;
}

const weight = (w: number) => formatWeight(w);

/** Every choice the facts allow, in the order the pool lists them. */
export function choicesOf(facts: ChoiceFacts | undefined): Choice[] {
  if (!facts) return [];
  switch (facts.ref) {
    case "project":
      return facts.projects.map((p) => ({ name: `${p.slug} · ${p.name}`, value: p.slug }));
    case "good":
      return facts.goods.map((g) => ({
        name: `${g.good.name}${g.good.displayName === null ? "" : ` · ${g.good.displayName}`} · ${formatHours(g.effort.effort)} · ${g.good.stock} in stock`,
        value: g.good.name,
      }));
    case "kind":
      return facts.kinds.map((k) => ({ name: `${k.kind} · weight ${weight(k.weight)}`, value: k.kind }));
    case "task":
      return facts.tasks.map((t) => {
        // The title gives way first: the number, weight and state always show.
        const tail = ` · weight ${weight(t.weight)} · ${t.state}`;
        const head = `#${t.id} `;
        return { name: `${head}${clipUnits(t.title, Math.max(1, LIMITS.choiceName - head.length - tail.length))}${tail}`, value: t.id };
      });
  }
}

/** What Discord gets: the choices matching what was typed so far, fitted to its limits. */
export function fitChoices(all: readonly Choice[], typed: string): Choice[] {
  const t = typed.trim().toLowerCase();
  return all
    .filter((c) => t === "" || c.name.toLowerCase().includes(t) || String(c.value).toLowerCase().startsWith(t))
    .filter((c) => typeof c.value === "number" || (c.value.length >= 1 && c.value.length <= LIMITS.choiceValue))
    .slice(0, LIMITS.choices)
    .map((c) => ({ name: clipUnits(c.name, LIMITS.choiceName) || String(c.value), value: c.value }));
}
