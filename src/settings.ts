// Whole-number settings read from the environment (or .env), checked up front: one line naming
// the variable and the rule on a bad value (never the value itself, which may be a secret pasted
// into the wrong variable).

/** A variable, the field it fills and the least value it takes. */
export type WholeNumberSetting<F extends string> = readonly [name: string, field: F, min: number];

/** The settings of `spec` that are set in `env`, each a whole number of at least its minimum. */
export function wholeNumbers<F extends string>(
  env: NodeJS.ProcessEnv,
  spec: ReadonlyArray<WholeNumberSetting<F>>,
): { ok: true; value: Partial<Record<F, number>> } | { ok: false; error: string } {
  const value: Partial<Record<F, number>> = {};
  for (const [name, field, min] of spec) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) return { ok: false, error: `${name} must be a whole number of at least ${min}.` };
    value[field] = n;
  }
  return { ok: true, value };
}
