// Amounts of the ledger are integer milli-hours (1 weighted hour = 1000). Weights and
// ratios are integer thousandths (1.00 = 1000). Floats appear only at the edges: when a
// user types "1.5" and when JSON shows hours with at most three decimals.

export const MILLI = 1000;

/** Largest amount a single value may carry: a million weighted hours. */
export const MAX_MILLI_HOURS = 1_000_000 * MILLI;

/**
 * Parses a decimal such as "1.5", "-2", "0.125" into thousandths without going through a
 * float. Returns null for anything else (more than three decimals, exponents, NaN...).
 */
export function parseThousandths(text: string): number | null {
  const m = /^([+-])?(\d{1,12})(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!m) return null;
  const whole = Number(m[2]);
  const frac = Number((m[3] ?? "").padEnd(3, "0"));
  const value = whole * MILLI + frac;
  if (!Number.isSafeInteger(value)) return null;
  return m[1] === "-" ? -value : value;
}

/** Units people type after a number: "15 wh", "2h", "3 days", "12%". */
export type AmountUnit = "hours" | "weighted hours" | "days" | "percent";

const UNIT_WORDS: Readonly<Record<string, AmountUnit>> = {
  h: "hours",
  hr: "hours",
  hrs: "hours",
  hour: "hours",
  hours: "hours",
  wh: "weighted hours",
  d: "days",
  day: "days",
  days: "days",
  "%": "percent",
};

/** Splits a unit typed after a number ("15 wh", "15wh", "2 h"); null when there is no known unit. */
export function splitUnit(text: string): { readonly number: string; readonly unit: AmountUnit } | null {
  const m = /^\s*([+-]?\d{1,15}(?:\.\d{1,15})?)\s*([a-z]{1,5}|%)\s*$/i.exec(text);
  const unit = m ? UNIT_WORDS[m[2]!.toLowerCase()] : undefined;
  return m && unit ? { number: m[1]!, unit } : null;
}

/** How a unit is written after a number in examples: "wh", "h", "days", "%". */
export const UNIT_SHORT: Readonly<Record<AmountUnit, string>> = { hours: "h", "weighted hours": "wh", days: "days", percent: "%" };

/** Formats thousandths as a decimal with two to three decimals: 1500 -> "1.50", 1234 -> "1.234". */
export function formatThousandths(value: number, minDecimals = 2): string {
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(value);
  const whole = Math.floor(abs / MILLI);
  let frac = String(abs % MILLI).padStart(3, "0");
  while (frac.length > minDecimals && frac.endsWith("0")) frac = frac.slice(0, -1);
  return frac.length > 0 ? `${sign}${whole}.${frac}` : `${sign}${whole}`;
}

/** Weighted hours for JSON output: a number with at most three decimals. */
export function toHours(milliHours: number): number {
  return Number(formatThousandths(milliHours, 0));
}

/** "12.50 wh" style text for chat replies. */
export function formatHours(milliHours: number): string {
  return `${formatThousandths(milliHours)} wh`;
}

/**
 * A charge computed from exact inputs and rounded once, at the end: the product of `factors`
 * (integers) divided by `divisor`, to the nearest milli-hour, halves up. A charge whose exact
 * value is above zero is never less than one milli-hour (0.001 wh): nothing with an effort is
 * free. Exact whatever the sizes (integer arithmetic without floats).
 */
export function roundedCharge(factors: readonly number[], divisor: number): number {
  let n = 1n;
  for (const f of factors) {
    if (!Number.isSafeInteger(f) || f < 0) throw new Error(`a charge is made of non-negative integers, not ${f}`);
    n *= BigInt(f);
  }
  if (n === 0n) return 0;
  const d = BigInt(divisor);
  const rounded = (2n * n + d) / (2n * d);
  return Math.max(1, Number(rounded));
}

/** What `qty` units cost at `effort` milli-hours each and a weight in millionths: qty x effort x weight, rounded once. */
export const unitsCharge = (qty: number, effort: number, weight: number): number => roundedCharge([qty, effort, weight], 1_000_000);

/** What `days` of a loan cost: days x effort x the day's share (thousandths of one: 1% = 10), rounded once. */
export const daysCharge = (days: number, effort: number, dayShare: number): number => roundedCharge([days, effort, dayShare], 1000);
