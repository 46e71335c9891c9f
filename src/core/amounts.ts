// The core's numbers are integers with their unit in their type's name:
//   MilliHours   amounts of the ledger, efforts, estimates and hours of work: 1 hour = 1000
//   WeightPpm    weights of tasks, kinds, claims and bids: millionths, 1.00 = 1_000_000
//   Thousandths  what the policy keeps its weights, factors and shares in: 1.00 = 1000, 25% = 250
// Conversions between them go through the helpers below, never a bare * 1000 or / 1000. Floats
// appear only at the edges: when a user types "1.5" and when JSON shows hours with at most
// three decimals. These are aliases of number, for the reader; rows' ids are numbers of
// another sort, each table's a type the compiler keeps apart (TaskId, MemberId: src/core/ids.ts).

/** Weighted hours (ledger amounts, balances, efforts) or hours of work (estimates, reports), in thousandths of an hour. */
export type MilliHours = number;
/** A weight in millionths (parts per million of 1.00): 1.331 = 1_331_000, 0.857375 = 857_375. */
export type WeightPpm = number;
/** A weight, factor or share as the policy keeps it, in thousandths of one: 1.00 = 1000, 25% = 250, 1% = 10. */
export type Thousandths = number;

export const MILLI = 1000;

/** A weight of 1.00 in millionths. */
export const WEIGHT_ONE: WeightPpm = 1_000_000;

/** Whole or fractional hours (a float at an edge: a script, a generator) as milli-hours, rounded to the nearest. */
export const milliHours = (hours: number): MilliHours => Math.round(hours * MILLI);

/** Milli-hours as a plain number of hours (a float: for JSON and figures, never for sums). */
export const hoursOf = (amount: MilliHours): number => amount / MILLI;

/** A weight given as a plain number (1.331, a float at an edge) in millionths, rounded to the nearest. */
export const weightPpm = (weight: number): WeightPpm => Math.round(weight * WEIGHT_ONE);

/** A weight in millionths as a plain number (1.331), for JSON and charts. */
export const weightOf = (weight: WeightPpm): number => weight / WEIGHT_ONE;

/** A policy's weight or factor (thousandths) as a weight in millionths: 4.00 = 4000 -> 4_000_000; a share: 10% = 100 -> 100_000. */
export const ppmOfThousandths = (value: Thousandths): WeightPpm => value * (WEIGHT_ONE / MILLI);

/** A weight or factor in millionths as thousandths (1_100_000 -> 1100; a share: 100_000 -> 100 = 10%), not rounded. */
export const thousandthsOfPpm = (value: WeightPpm): Thousandths => value / (WEIGHT_ONE / MILLI);

/** `value` x a policy's factor or share (thousandths), not rounded: each caller rounds as its rule says. */
export const timesThousandths = (value: number, factor: Thousandths): number => (value * factor) / MILLI;

/** Largest amount a single value may carry: a million weighted hours. */
export const MAX_MILLI_HOURS: MilliHours = 1_000_000 * MILLI;

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

/**
 * Thousandths written exactly, with `minDecimals` to three decimals: 1500 -> "1.50", 1234 ->
 * "1.234". For what a user may type (examples, ranges of input) and for JSON; replies show
 * results with the display functions below.
 */
export function formatThousandths(value: number, minDecimals = 2): string {
  return exactDecimal(value, MILLI, minDecimals);
}

/** Weighted hours for JSON output: a number with at most three decimals. */
export function toHours(milliHours: MilliHours): number {
  return Number(formatThousandths(milliHours, 0));
}

// Display. One function per kind of number, each rounding for display only (halves away from
// zero, in integers): stored values and everything computed from them stay exact.
//   formatHours   amounts of weighted hours (balances, charges, prices, deficits): "23.39 wh"
//   formatWeight  weights of tasks, kinds and bids: "1.33" (exact only where a reply explains one)
//   formatNumber  plain quantities: hours of work, percents, bounds: "2", "1.5", "12.5"

/** The number of decimals replies show. */
export const DISPLAY_DECIMALS = 2;

/**
 * value / denominator rounded to `decimals` places, halves away from zero, as text with exactly
 * that many decimals ("1.33", "-0.01"; a value that rounds to zero has no sign). Integer
 * arithmetic whatever the size; a non-integer value is first rounded to an integer.
 */
function roundedDecimal(value: number, denominator: number, decimals: number): string {
  if (!Number.isFinite(value)) return String(value);
  const v = BigInt(Math.round(value));
  const d = BigInt(denominator);
  const scale = 10n ** BigInt(decimals);
  const abs = v < 0n ? -v : v;
  const q = (2n * abs * scale + d) / (2n * d);
  const whole = q / scale;
  const frac = (q % scale).toString().padStart(decimals, "0");
  const sign = v < 0n && q > 0n ? "-" : "";
  return decimals > 0 ? `${sign}${whole}.${frac}` : `${sign}${whole}`;
}

/** value / denominator (a power of ten) written exactly, with at least `minDecimals` decimals. */
function exactDecimal(value: number, denominator: number, minDecimals: number): string {
  const places = String(denominator).length - 1;
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(Math.round(value));
  const whole = Math.floor(abs / denominator);
  let frac = String(abs % denominator).padStart(places, "0");
  while (frac.length > minDecimals && frac.endsWith("0")) frac = frac.slice(0, -1);
  return frac.length > 0 ? `${sign}${whole}.${frac}` : `${sign}${whole}`;
}

/**
 * An amount of weighted hours as replies show it: two decimals and "wh" ("12.50 wh"). The
 * amount is in milli-hours unless `denominator` says otherwise (1_000_000 for the millionths
 * that loan prices per day and round prices per unit are kept in).
 */
export function formatHours(amount: MilliHours, denominator: number = MILLI): string {
  return `${roundedDecimal(amount, denominator, DISPLAY_DECIMALS)} wh`;
}

/**
 * A weight (millionths) as replies show it: two decimals, "1.33". `exact` writes every digit
 * it has, at least two ("1.331", "0.857375", "1.00"): for the one line that explains how a
 * weight came about (task show).
 */
export function formatWeight(millionths: WeightPpm, o: { readonly exact?: boolean } = {}): string {
  return o.exact ? exactDecimal(millionths, WEIGHT_ONE, 2) : roundedDecimal(millionths, WEIGHT_ONE, DISPLAY_DECIMALS);
}

/**
 * A plain quantity (hours of work, a percentage, a bound): at most two decimals, trailing zeros
 * dropped ("2", "1.5", "1.13"). `value` is in thousandths unless `denominator` says otherwise.
 */
export function formatNumber(value: number, denominator: number = MILLI): string {
  const text = roundedDecimal(value, denominator, DISPLAY_DECIMALS);
  return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
}

/** Hours of work (milli-hours, not weighted): "2 h", "1.5 h". */
export const formatPlainHours = (milliHours: MilliHours): string => `${formatNumber(milliHours)} h`;

/** A share kept in thousandths of one as a percentage: 125 -> "12.5%", 100 -> "10%". */
export const formatPercent = (thousandthsOfOne: Thousandths): string => `${formatNumber(thousandthsOfOne, 10)}%`;

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
export const unitsCharge = (qty: number, effort: MilliHours, weight: WeightPpm): MilliHours => roundedCharge([qty, effort, weight], WEIGHT_ONE);

/** What `days` of a loan cost: days x effort x the day's share (thousandths of one: 1% = 10), rounded once. */
export const daysCharge = (days: number, effort: MilliHours, dayShare: Thousandths): MilliHours => roundedCharge([days, effort, dayShare], MILLI);
