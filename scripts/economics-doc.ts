// The generated parts of docs/economics.md: the table of policy keys (from POLICY_KEYS) and the
// worked examples, whose numbers are computed here by the core's own rules (weights, auction,
// charges, credit limit) with the default policy, so the document cannot drift from the code.
// `npm run docs` writes them between marker comments; test/unit/economics-doc.test.ts fails
// when the document is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { daysCharge, hoursOf, MILLI, milliHours, unitsCharge, weightPpm, type MilliHours, type WeightPpm } from "../src/core/amounts.ts";
import { roundOutcome, type Bid, type RoundOutcome } from "../src/core/auction.ts";
import { withinCreditLimit } from "../src/core/ledger.ts";
import { defaultPolicy, formatPolicyValue, POLICY_KEY_NAMES, POLICY_KEYS, type PolicyKey } from "../src/core/policy.ts";
import { creditHours } from "../src/core/tasks.ts";
import { DAY_MS } from "../src/core/time.ts";
import { credit, marketWeight, taskWeight, waitlistWeight, WEIGHT_ONE, weightRules } from "../src/core/weights.ts";

export const ECONOMICS_FILE = resolve(fileURLToPath(new URL("..", import.meta.url)), "docs", "economics.md");

/**
 * The section of docs/economics.md that explains each policy key (its heading's text). A key
 * missing here is shown as not yet explained, and the economics test fails until it is.
 */
export const KEY_SECTIONS: Partial<Record<PolicyKey, string>> = {
  creditLimit: "Balances and the credit limit",
  newKindWeight: "Kinds of work and their market weight",
  weightGrowthPerDay: "How an open task's weight rises",
  weightCap: "How an open task's weight rises",
  weightFloor: "How a kind's market weight moves",
  waitlistPenalty: "How a kind's market weight moves",
  marketSmoothing: "How a kind's market weight moves",
  creditCapFactor: "Verification and credit",
  claimDays: "Claims and slots",
  roundHours: "Scarce goods: rounds and the auction",
  maxRequestQty: "Scarce goods: rounds and the auction",
  deficitCap: "Only wanted effort counts: deficits",
  deficitWarnPercent: "Only wanted effort counts: deficits",
  measuredEffortMinUnits: "Goods and their production effort",
  settlePeriod: "Flat rate: subscriptions and settlement",
  durableDayPercent: "Durable goods: loans",
  summarySchedule: "Coordination: summaries, notices and sectors",
  neglectedWeight: "Coordination: summaries, notices and sectors",
  noticeSchedule: "Coordination: summaries, notices and sectors",
  inviteDays: "Keys that are not about the economy",
  keepDays: "Keys that are not about the economy",
  floodCommands: "Keys that are not about the economy",
  floodSeconds: "Keys that are not about the economy",
  timezone: "Keys that are not about the economy",
};

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

/** The unit a key's value is counted in, as the table shows it. */
export function policyUnit(key: PolicyKey): string {
  const spec = POLICY_KEYS[key];
  switch (spec.unit) {
    case "hours":
      return "weighted hours (wh)";
    case "weight":
      return "multiplier (1.00 = plain hours)";
    case "percent":
      return "percent";
    case "choice":
      return "period";
    case "cron":
      return "cron schedule (pool's time zone)";
    case "timezone":
      return "time zone";
    case "count":
      if (key.endsWith("Days")) return "days";
      if (key.endsWith("Hours")) return "hours";
      if (key.endsWith("Seconds")) return "seconds";
      if (key.endsWith("Commands")) return "commands";
      if (key.endsWith("Units") || key.endsWith("Qty")) return "units";
      return "count";
  }
}

const cell = (markdown: string) => markdown.replace(/\|/g, "\\|");
const code = (text: string) => `\`${text}\``;
const sentence = (text: string) => (/[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`);
/** Prose with <, > and * escaped, so that a summary is not read as HTML or emphasis. */
const prose = (text: string) => text.replace(/[\\`*_[\]<>]/g, (c) => `\\${c}`);
const table = (head: readonly string[], rows: ReadonlyArray<readonly string[]>) =>
  [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`)].join("\n");

/** Every policy key: its unit, default, one-line meaning, whose rule it is, and where it is explained. */
export function renderPolicyKeysMarkdown(): string {
  const rows = POLICY_KEY_NAMES.map((k) => {
    const spec = POLICY_KEYS[k];
    const section = KEY_SECTIONS[k];
    return [
      code(k),
      policyUnit(k),
      code(formatPolicyValue(k, spec.default)),
      prose(sentence(spec.summary)),
      spec.ours ? "ours" : "Siefkes'",
      section ? `[${section}](#${headingAnchor(section)})` : "not yet explained",
    ];
  });
  return table(["key", "unit", "default", "meaning", "rule", "explained in"], rows);
}

// ---------------------------------------------------------------------------------------------
// Worked examples. Weights are the core's millionths, amounts milli-hours.

/** A weight written as in the document (1.331) in the core's millionths. */
const W = weightPpm;

/** An integer over a power of ten, written exactly with at least two decimals (the document shows exact values; replies round). */
function exact(value: number, denominator: number): string {
  const places = String(denominator).length - 1;
  const abs = Math.abs(value);
  let frac = String(abs % denominator).padStart(places, "0");
  while (frac.length > 2 && frac.endsWith("0")) frac = frac.slice(0, -1);
  return `${value < 0 ? "-" : ""}${Math.floor(abs / denominator)}.${frac}`;
}
/** A weight (millionths) exactly: "1.331", "0.857375", "1.00". */
export const formatWeight = (w: WeightPpm) => exact(w, WEIGHT_ONE);
/** An amount (milli-hours) exactly: "2.662 wh", "10.00 wh". */
export const formatHours = (amount: MilliHours) => `${exact(amount, MILLI)} wh`;
/** Hours written as in the document (2, 0.5) in milli-hours. */
const MH = milliHours;
const rules = () => weightRules(defaultPolicy());
const pct = (key: PolicyKey) => formatPolicyValue(key, defaultPolicy()[key]);

/** How many full days a task posted at `posted` needs to reach the cap (null: never). */
export function daysToCap(posted: number): number | null {
  const r = rules();
  for (let d = 0; d <= 1000; d++) if (taskWeight(posted, d * DAY_MS, r) >= r.cap) return d;
  return null;
}

/** An open task's weight by full days unclaimed, for three posted weights. */
export function renderWeightRiseMarkdown(): string {
  const r = rules();
  const posted = [0.5, 1, 2].map(W);
  const days = [0, 1, 2, 3, 4, 5, 7, 10, 14, 15];
  const rows = days.map((d) => [String(d), ...posted.map((p) => formatWeight(taskWeight(p, d * DAY_MS, r)))]);
  const reach = posted.map((p) => `${formatWeight(p)} after ${daysToCap(p)} days`).join(", ");
  return [
    table(["full days with an open slot", ...posted.map((p) => `posted at ${formatWeight(p)}`)], rows),
    "",
    `With the defaults (${pct("weightGrowthPerDay")} a day, cap ${pct("weightCap")}) a task reaches the cap when posted at ${reach}. ` +
      `A day that is not full adds nothing: 23 hours after posting, a task posted at 1.00 is still at ${formatWeight(taskWeight(W(1), 23 * 3_600_000, r))}.`,
  ].join("\n");
}

type MarketStep = { readonly event: string; readonly next: (w: number) => number };

/** A kind's market weight through a series of events, with the default policy. */
export function marketSteps(): Array<{ event: string; weight: number }> {
  const r = rules();
  const verified = (at: number): MarketStep => ({
    event: `a claim locked at ${formatWeight(W(at))} is verified`,
    next: (w) => marketWeight(w, W(at), r.smoothing),
  });
  const full: MarketStep = { event: "a volunteer finds a task of the kind full", next: (w) => waitlistWeight(w, r) };
  const steps: MarketStep[] = [verified(4), verified(1.75), full, full, verified(2)];
  const out = [{ event: "the kind is used for the first time", weight: r.newKind }];
  let w = r.newKind;
  for (const s of steps) {
    w = s.next(w);
    out.push({ event: s.event, weight: w });
  }
  return out;
}

/** How many volunteers finding tasks full take a kind from `from` down to the floor. */
export function findsToFloor(from: number): number {
  const r = rules();
  let w = from;
  let n = 0;
  while (w > r.floor && n < 10_000) {
    w = waitlistWeight(w, r);
    n++;
  }
  return n;
}

export function renderMarketMovesMarkdown(): string {
  const rows = marketSteps().map((s, i) => [String(i), s.event, formatWeight(s.weight)]);
  return [
    table(["step", "what happens", "market weight after it"], rows),
    "",
    `With the defaults (smoothing ${pct("marketSmoothing")}, ${pct("waitlistPenalty")} per volunteer who finds a task full, floor ${pct("weightFloor")}), ` +
      `${findsToFloor(W(1))} volunteers finding tasks full take a kind from 1.00 to its floor; claims that end without verified work change nothing.`,
  ].join("\n");
}

/** A named auction case: its story, its bids, and the round's result. */
interface AuctionCase {
  readonly title: string;
  /** Why the round comes out as it does, in words (the numbers are computed). */
  readonly why?: string;
  readonly stock: number;
  readonly effort: number;
  readonly bids: ReadonlyArray<{ readonly who: string; readonly weight: number; readonly units: number; readonly balance?: number }>;
}

export const AUCTION_CASES: readonly AuctionCase[] = [
  {
    title: "Two cakes, three bids",
    stock: 2,
    effort: 2,
    bids: [
      { who: "ann", weight: 1.8, units: 1 },
      { who: "bob", weight: 1.5, units: 1 },
      { who: "carol", weight: 1.2, units: 1 },
    ],
  },
  {
    title: "Asking for more units than you need raises your own price",
    why: "Ann's third unit is the highest losing bid, so her own bid sets the price; had she asked for 2, bob's 1.20 would have set it.",
    stock: 2,
    effort: 2,
    bids: [
      { who: "ann", weight: 1.8, units: 3 },
      { who: "bob", weight: 1.2, units: 1 },
    ],
  },
  {
    title: "Fewer units asked for than there are",
    stock: 5,
    effort: 2,
    bids: [
      { who: "ann", weight: 1.7, units: 2 },
      { who: "bob", weight: 1, units: 1 },
    ],
  },
  {
    title: "A winner who cannot pay is skipped",
    why: "Bob can take 2.00 wh more (balance plus limit), less than the 2.40 wh a unit costs at 1.20, so his unit goes to carol; then no bid loses and the price falls to 1.00; giving bob his unit back would push carol out and raise the price to 1.20 again, which he still cannot pay, so he stays skipped.",
    stock: 2,
    effort: 2,
    bids: [
      { who: "ann", weight: 1.8, units: 1 },
      { who: "bob", weight: 1.5, units: 1, balance: -8 },
      { who: "carol", weight: 1.2, units: 1 },
    ],
  },
];

export function runAuctionCase(c: AuctionCase): RoundOutcome {
  const bids: Bid[] = c.bids.map((b, i) => ({ request: i + 1, member: i + 1, weight: W(b.weight), units: b.units, at: i + 1 }));
  const balances = new Map(c.bids.map((b, i) => [i + 1, MH(b.balance ?? 100)]));
  return roundOutcome({ bids, supply: c.stock, effort: MH(c.effort), balances, creditLimit: defaultPolicy().creditLimit });
}

export function renderAuctionMarkdown(): string {
  const limit = formatPolicyValue("creditLimit", defaultPolicy().creditLimit);
  const parts = AUCTION_CASES.map((c) => {
    const r = runAuctionCase(c);
    const who = (member: number) => c.bids[member - 1]!.who;
    const n = (units: number) => `${units} ${units === 1 ? "unit" : "units"}`;
    const units = (shares: RoundOutcome["winners"]) => shares.map((s) => `${who(s.member)} ${n(s.units)}`).join(", ") || "nobody";
    const bids = c.bids
      .map((b) => `${b.who} ${n(b.units)} at ${formatWeight(W(b.weight))}${b.balance !== undefined ? ` (balance ${formatHours(MH(b.balance))})` : ""}`)
      .join(", ");
    const winners = r.winners.map((s) => {
      // The winner's charge for all their units, rounded once, as closeRound charges it.
      const paid = unitsCharge(s.units, MH(c.effort), r.clearing);
      const effort = s.units * MH(c.effort);
      const commons = paid > effort ? `, the commons ${formatHours(paid - effort)}` : "";
      return `${who(s.member)} pays ${formatHours(paid)} for ${n(s.units)} (the project is credited ${formatHours(effort)}${commons})`;
    });
    return [
      `**${c.title}.** Stock ${c.stock}, effort ${formatHours(MH(c.effort))} per unit, credit limit ${limit}; bids: ${bids}.`,
      `Clearing weight ${formatWeight(r.clearing)}, so a unit costs ${formatHours(r.unitCost)}. Won: ${units(r.winners)}; lost (stay queued): ${units(r.losers)}; skipped (stay queued): ${units(r.skipped)}. ${winners.join("; ")}.`,
      ...(c.why ? [c.why] : []),
    ].join(" ");
  });
  return parts.join("\n\n");
}

/** Charges and credits, each computed once from exact inputs. */
export function chargeExamples(): Array<{ what: string; computed: string }> {
  const p = defaultPolicy();
  const cap = creditHours(MH(2), MH(5), undefined, p.creditCapFactor);
  const capText = cap.ok ? `${formatHours(cap.hours)} credited` : `refused: more than the cap of ${hoursOf(cap.cap)} h without hours: from the verifier`;
  const yes = (b: boolean) => (b ? "yes" : "no");
  const limit = p.creditLimit;
  return [
    { what: "2 h verified on a claim locked at 1.331", computed: `${formatHours(credit(MH(2), W(1.331)))} credited` },
    { what: "5 h reported on a task estimated at 2 h, verified without hours:", computed: capText },
    { what: "3 loaves of bread of effort 2.00, no scarcity (weight 1.00)", computed: formatHours(unitsCharge(3, MH(2), W(1))) },
    { what: "1000 seeds of effort 0.001 won at clearing weight 1.5", computed: `${formatHours(unitsCharge(1000, 1, W(1.5)))} (not 1000 x 0.002)` },
    {
      what: `a drill of effort 0.15 borrowed 10 days at ${pct("durableDayPercent")} a day`,
      computed: `${formatHours(daysCharge(10, MH(0.15), p.durableDayPercent))} (not 10 x 0.002)`,
    },
    {
      what: `a drill of effort 0.01 borrowed 1 day at ${pct("durableDayPercent")} a day (exactly 0.0001 wh)`,
      computed: `${formatHours(daysCharge(1, MH(0.01), p.durableDayPercent))}: never free`,
    },
    { what: `balance 0.00 wh, taking 10.00 wh (limit ${formatHours(limit)})`, computed: `allowed: ${yes(withinCreditLimit(0, MH(10), limit))}` },
    { what: `balance 0.00 wh, taking 10.001 wh (limit ${formatHours(limit)})`, computed: `allowed: ${yes(withinCreditLimit(0, 10_001, limit))}` },
    { what: `balance -5.00 wh, taking 5.00 wh (limit ${formatHours(limit)})`, computed: `allowed: ${yes(withinCreditLimit(MH(-5), MH(5), limit))}` },
    { what: `balance -12.00 wh (past the limit), taking nothing`, computed: `allowed: ${yes(withinCreditLimit(MH(-12), 0, limit))}` },
  ];
}

export function renderChargesMarkdown(): string {
  return table(
    ["what", "result"],
    chargeExamples().map((e) => [prose(e.what), prose(e.computed)]),
  );
}

// ---------------------------------------------------------------------------------------------
// The document's generated sections.

export const ECONOMICS_SECTIONS = {
  "policy-keys": renderPolicyKeysMarkdown,
  "weight-rise": renderWeightRiseMarkdown,
  "market-moves": renderMarketMovesMarkdown,
  auction: renderAuctionMarkdown,
  charges: renderChargesMarkdown,
} as const;

export type EconomicsSection = keyof typeof ECONOMICS_SECTIONS;
export const ECONOMICS_SECTION_NAMES = Object.keys(ECONOMICS_SECTIONS) as EconomicsSection[];

export const economicsMarkers = (name: EconomicsSection) => ({ start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` });

/** Replaces what stands between one pair of markers; throws if they are missing or doubled. */
export function replaceEconomicsSection(text: string, name: EconomicsSection, body: string): string {
  const { start, end } = economicsMarkers(name);
  const from = text.indexOf(start);
  const to = text.indexOf(end, from < 0 ? 0 : from + start.length);
  if (from < 0 || to < 0) throw new Error(`docs/economics.md has no ${start} ... ${end} markers`);
  if (text.indexOf(start, from + start.length) >= 0) throw new Error(`docs/economics.md has ${start} twice`);
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`;
}

/** The document with every generated section brought up to date; the rest is left as it is. */
export function updateEconomics(text: string): string {
  let out = text;
  for (const name of ECONOMICS_SECTION_NAMES) out = replaceEconomicsSection(out, name, ECONOMICS_SECTIONS[name]());
  return out;
}

/** The generated sections whose text differs from what the code says now. */
export function staleEconomicsSections(text: string): EconomicsSection[] {
  return ECONOMICS_SECTION_NAMES.filter((n) => replaceEconomicsSection(text, n, ECONOMICS_SECTIONS[n]()) !== text);
}

/** `npm run docs` (check: `-- --check`): writes or checks docs/economics.md; 0 when it is (now) up to date. */
export function economicsMain(check: boolean, file = ECONOMICS_FILE): number {
  const before = readFileSync(file, "utf8");
  let after: string;
  try {
    after = updateEconomics(before);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  if (after === before) {
    process.stdout.write(check ? "docs/economics.md is up to date.\n" : "docs/economics.md was up to date.\n");
    return 0;
  }
  if (check) {
    process.stderr.write(`docs/economics.md is out of date (${staleEconomicsSections(before).join(", ")}): run npm run docs\n`);
    return 1;
  }
  writeFileSync(file, after);
  process.stdout.write("docs/economics.md updated.\n");
  return 0;
}
