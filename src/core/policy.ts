// A pool's policy: every number of the model that a pool may change, with its default
// (docs/economics.md explains each key; its "Policy keys" table is generated from POLICY_KEYS).
// Stored as one JSON document of integers; parsing an older document fills in keys added
// since, so a pool created by an earlier version keeps working.
import { z } from "zod";
import {
  formatHours,
  formatPercent,
  formatThousandths,
  formatWeight,
  hoursOf,
  MAX_MILLI_HOURS,
  MILLI,
  parseThousandths,
  ppmOfThousandths,
  splitUnit,
  UNIT_SHORT,
  weightOf,
  type AmountUnit,
} from "./amounts.ts";
import { parseCron } from "./cron.ts";

type Unit = "hours" | "weight" | "percent" | "count" | "timezone" | "choice" | "cron";

interface KeySpec {
  readonly unit: Unit;
  /** Stored value: milli-hours, thousandths, thousandths of one (percent), a count, or text. */
  readonly default: number | string;
  readonly min?: number;
  readonly max?: number;
  readonly summary: string;
  /** True where the rule is ours rather than Siefkes'. */
  readonly ours: boolean;
  readonly choices?: readonly string[];
}

export const POLICY_KEYS = {
  creditLimit: {
    unit: "hours",
    default: 10 * MILLI,
    min: 0,
    max: MAX_MILLI_HOURS,
    summary: "How far a member's balance may go below zero (weighted hours)",
    ours: false,
  },
  newKindWeight: {
    unit: "weight",
    default: 1000,
    min: 10,
    max: 100 * MILLI,
    summary: "Market weight of a kind of work the first time it is used",
    ours: true,
  },
  weightGrowthPerDay: {
    unit: "percent",
    default: 100,
    min: 0,
    max: 1000,
    summary: "How much an unclaimed task's weight rises per full day (compounded)",
    ours: true,
  },
  weightCap: {
    unit: "weight",
    default: 4 * MILLI,
    min: 10,
    max: 100 * MILLI,
    summary: "Highest weight a task can reach",
    ours: true,
  },
  weightFloor: {
    unit: "weight",
    default: 250,
    min: 10,
    max: 100 * MILLI,
    summary: "Lowest market weight a kind can fall to",
    ours: true,
  },
  waitlistPenalty: {
    unit: "percent",
    default: 50,
    min: 0,
    max: 1000,
    summary: "How much a kind's weight falls when a volunteer finds a task's slots full",
    ours: true,
  },
  marketSmoothing: {
    unit: "percent",
    default: 250,
    min: 10,
    max: 1000,
    summary: "How far a kind's market weight moves toward the weight of each verified claim (the only thing that raises it)",
    ours: true,
  },
  creditCapFactor: {
    unit: "weight",
    default: 2 * MILLI,
    min: 1000,
    max: 100 * MILLI,
    summary: "Most hours credited without an explicit hours: from the verifier, as a multiple of the estimate",
    ours: true,
  },
  claimDays: {
    unit: "count",
    default: 7,
    min: 1,
    max: 365,
    summary: "Days a claim may stay unreported before it is released",
    ours: true,
  },
  roundHours: {
    unit: "count",
    default: 24,
    min: 1,
    max: 24 * 60,
    summary: "Hours an auction round stays open after its first unmet request",
    ours: true,
  },
  maxRequestQty: {
    unit: "count",
    default: 100,
    min: 1,
    max: 10_000,
    summary: "Most units one good request may ask for",
    ours: true,
  },
  deficitCap: {
    unit: "hours",
    default: 200 * MILLI,
    min: 0,
    max: MAX_MILLI_HOURS,
    summary: "Deficit (effort nobody took yet) above which a project may post no new production tasks",
    ours: true,
  },
  deficitWarnPercent: {
    unit: "percent",
    default: 750,
    min: 0,
    max: 1000,
    summary: "Share of the deficit cap at which project info and summaries start to warn",
    ours: true,
  },
  measuredEffortMinUnits: {
    unit: "count",
    default: 10,
    min: 1,
    max: 1_000_000,
    summary: "Units made by verified production tasks before a good is charged at its measured effort instead of the declared one",
    ours: true,
  },
  settlePeriod: {
    unit: "choice",
    default: "monthly",
    choices: ["weekly", "monthly"],
    summary: "How often flat-rate goods are settled among their subscribers (weeks start on Monday, UTC)",
    ours: true,
  },
  durableDayPercent: {
    unit: "percent",
    default: 10,
    min: 0,
    max: 1000,
    summary: "Share of a durable good's production effort charged per day it is borrowed",
    ours: true,
  },
  summarySchedule: {
    unit: "cron",
    default: "0 9 * * 1",
    summary: "When coordinators get their project's summary: a cron expression in the pool's time zone (Mondays 09:00)",
    ours: true,
  },
  neglectedWeight: {
    unit: "weight",
    default: 2 * MILLI,
    min: 0,
    max: 100 * MILLI,
    summary: "Weight at which an open task counts as neglected and is named in the rooms' daily notice (0: no notices)",
    ours: true,
  },
  noticeSchedule: {
    unit: "cron",
    default: "0 9 * * *",
    summary: "When rooms get the neglected-work notice: a cron expression in the pool's time zone; a room gets at most one a day",
    ours: true,
  },
  inviteDays: {
    unit: "count",
    default: 7,
    min: 1,
    max: 365,
    summary: "Days a pool invite code stays valid",
    ours: true,
  },
  keepDays: {
    unit: "count",
    default: 7,
    min: 1,
    max: 365,
    summary:
      "Days answers and request ids are kept (a request repeated within them gets its first answer again; after that it is a new request); sent messages and notes are deleted after the same time",
    ours: true,
  },
  floodCommands: {
    unit: "count",
    default: 10,
    min: 0,
    max: 1000,
    summary:
      "Flood control: most commands one member may send within floodSeconds (0: no limit); past it they are told once how long to wait, then ignored until then",
    ours: true,
  },
  floodSeconds: {
    unit: "count",
    default: 10,
    min: 1,
    max: 3600,
    summary: "Flood control: the window, in seconds, in which floodCommands are counted",
    ours: true,
  },
  timezone: {
    unit: "timezone",
    default: "UTC",
    summary: "Time zone of the pool's schedules and of the times its replies show (an IANA name such as Europe/Berlin)",
    ours: true,
  },
} as const satisfies Record<string, KeySpec>;

export type PolicyKey = keyof typeof POLICY_KEYS;
export const POLICY_KEY_NAMES = Object.keys(POLICY_KEYS) as PolicyKey[];

/** Zones already asked about: building an Intl.DateTimeFormat costs about 14 ms the first time. */
const knownZones = new Map<string, boolean>([
  ["UTC", true],
  [POLICY_KEYS.timezone.default, true],
]);

export function isValidTimezone(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  let valid = knownZones.get(name);
  if (valid === undefined) {
    try {
      new Intl.DateTimeFormat("en", { timeZone: name });
      valid = true;
    } catch {
      valid = false;
    }
    // Names come from pool policies and members' typing: a bound keeps a flood of bad names small.
    if (knownZones.size < 1000) knownZones.set(name, valid);
  }
  return valid;
}

function keySchema(spec: KeySpec) {
  if (spec.unit === "choice") {
    return z.enum(spec.choices as [string, ...string[]]).default(spec.default as string);
  }
  if (spec.unit === "cron") {
    return z
      .string()
      .refine((s) => parseCron(s) !== null, "not a cron expression")
      .default(spec.default as string);
  }
  if (spec.unit === "timezone") {
    return z
      .string()
      .refine(isValidTimezone, "not a known time zone")
      .default(spec.default as string);
  }
  return z
    .number()
    .int()
    .min(spec.min ?? 0)
    .max(spec.max ?? Number.MAX_SAFE_INTEGER)
    .default(spec.default as number);
}

export const policySchema = z.object(
  Object.fromEntries(POLICY_KEY_NAMES.map((k) => [k, keySchema(POLICY_KEYS[k])])) as {
    [K in PolicyKey]: z.ZodDefault<(typeof POLICY_KEYS)[K]["unit"] extends "timezone" | "choice" | "cron" ? z.ZodString : z.ZodNumber>;
  },
);

export type Policy = z.infer<typeof policySchema>;

export const defaultPolicy = (): Policy => policySchema.parse({});

/** Parsed policies by their stored text: every command reads its pool's, and parsing costs more than the rest of a read. */
const parsedPolicies = new Map<string, Policy>();
/** Pools' policies kept parsed at once (the oldest goes first): bounded however many pools and changes. */
export const POLICY_CACHE_SIZE = 64;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Reads a stored policy document; unknown keys are dropped, missing keys get defaults. Parsed
 * once per text and kept (frozen, so no caller can change what another gets): a changed policy
 * is another text, so it is parsed afresh at once.
 */
export function readPolicy(json: string): Policy {
  const known = parsedPolicies.get(json);
  if (known) return known;
  const policy = deepFreeze(policySchema.parse(JSON.parse(json)));
  if (parsedPolicies.size >= POLICY_CACHE_SIZE) parsedPolicies.delete(parsedPolicies.keys().next().value!);
  parsedPolicies.set(json, policy);
  return policy;
}

/** How many parsed policies are kept (for tests of the bound). */
export const cachedPolicies = (): number => parsedPolicies.size;

/** `example`: what to type instead, when the number was fine but its unit was another. */
export type PolicyValueProblem = { readonly expected: string; readonly example?: string };

/** The unit a key's number may be typed with ("15 wh", "7 days"); null: a bare number only. */
function unitOf(key: PolicyKey, spec: KeySpec): AmountUnit | null {
  if (spec.unit === "hours") return "weighted hours";
  if (spec.unit === "percent") return "percent";
  if (spec.unit === "count" && key.endsWith("Days")) return "days";
  if (spec.unit === "count" && key.endsWith("Hours")) return "hours";
  return null;
}

const UNIT_NAMES: Readonly<Record<AmountUnit, string>> = {
  hours: "hours (h)",
  "weighted hours": "weighted hours (wh)",
  days: "days",
  percent: "a percentage (%)",
};

/** Parses what a user typed for a key ("12%", "1.5", "Europe/Berlin") into the stored value. */
export function parsePolicyValue(key: PolicyKey, text: string): { ok: true; value: number | string } | { ok: false; problem: PolicyValueProblem } {
  const spec: KeySpec = POLICY_KEYS[key];
  const expected = describeRange(key);
  if (spec.unit === "timezone") {
    return isValidTimezone(text.trim()) ? { ok: true, value: text.trim() } : { ok: false, problem: { expected } };
  }
  if (spec.unit === "cron") {
    const v = text.trim().replace(/\s+/g, " ");
    return parseCron(v) ? { ok: true, value: v } : { ok: false, problem: { expected } };
  }
  if (spec.unit === "choice") {
    const v = text.trim().toLowerCase();
    return spec.choices?.includes(v) ? { ok: true, value: v } : { ok: false, problem: { expected } };
  }
  // A unit after the number (our choice: "15 wh", "15wh", "7 days") is fine when it is the key's own.
  const withUnit = splitUnit(text);
  if (withUnit) {
    const want = unitOf(key, spec);
    if (withUnit.unit !== want) {
      const example = want ? `${withUnit.number}${want === "percent" ? "" : " "}${UNIT_SHORT[want]}` : withUnit.number;
      return { ok: false, problem: { expected: `${want ? UNIT_NAMES[want] : "a bare number"}, not ${withUnit.unit}`, example } };
    }
    text = withUnit.number;
  }
  let value: number | null;
  if (spec.unit === "count") {
    value = /^\d{1,9}$/.test(text.trim()) ? Number(text.trim()) : null;
  } else if (spec.unit === "percent") {
    const t = text.trim().replace(/%$/, "");
    const thousandthsOfPercent = parseThousandths(t);
    // 12.5% = 0.125 = 125 thousandths of one; a percent value keeps one decimal at most.
    value = thousandthsOfPercent === null || thousandthsOfPercent % 100 !== 0 ? null : thousandthsOfPercent / 100;
  } else {
    value = parseThousandths(text);
  }
  if (value === null || value < (spec.min ?? 0) || value > (spec.max ?? Number.MAX_SAFE_INTEGER)) {
    return { ok: false, problem: { expected } };
  }
  return { ok: true, value };
}

/** The stored value as a user reads it: "10.00 wh", "1.00", "10%", "7", "UTC". */
export function formatPolicyValue(key: PolicyKey, value: number | string): string {
  const spec: KeySpec = POLICY_KEYS[key];
  if (typeof value === "string") return value;
  switch (spec.unit) {
    case "hours":
      return formatHours(value);
    case "weight":
      return formatWeight(ppmOfThousandths(value));
    case "percent":
      return formatPercent(value);
    default:
      return String(value);
  }
}

/** The value as JSON shows it: hours and weights as decimals, percents as percent numbers. */
export function policyValueJson(key: PolicyKey, value: number | string): number | string {
  const spec: KeySpec = POLICY_KEYS[key];
  if (typeof value === "string") return value;
  switch (spec.unit) {
    case "hours":
      return hoursOf(value);
    case "weight":
      return weightOf(ppmOfThousandths(value));
    case "percent":
      return value / 10;
    default:
      return value;
  }
}

export function describeRange(key: PolicyKey): string {
  const spec: KeySpec = POLICY_KEYS[key];
  switch (spec.unit) {
    case "timezone":
      return "a time zone name such as UTC or Europe/Berlin";
    case "choice":
      return `one of ${(spec.choices ?? []).join(", ")}`;
    case "cron":
      return 'a cron expression of five fields in quotes, such as "0 9 * * 1" (Mondays 09:00)';
    case "count":
      return `a whole number from ${spec.min} to ${spec.max}`;
    case "percent":
      return `a percentage from ${formatPolicyValue(key, spec.min ?? 0)} to ${formatPolicyValue(key, spec.max ?? 0)}, such as 12%`;
    case "hours":
      return `weighted hours from ${formatThousandths(spec.min ?? 0, 0)} to ${formatThousandths(spec.max ?? 0, 0)}, such as 12.5 or 12.5 wh`;
    case "weight":
      return `a weight from ${formatThousandths(spec.min ?? 0)} to ${formatThousandths(spec.max ?? 0)}, such as 1.25`;
  }
}
