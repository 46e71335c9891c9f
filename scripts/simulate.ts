// A month of a simulated pool, through the real command table and an in-memory database:
// coordinators post tasks of popular and unpopular kinds every day, seeded volunteers claim
// what pays enough for their taste. Run it with `npx tsx scripts/simulate.ts [seed]`.
// The README's figures come from here (npm run docs) and a test checks the outcome.
import { pathToFileURL } from "node:url";
import { runText } from "../commands/dispatch.ts";
import { openApp } from "../src/app.ts";
import { DAY_MS, HOUR_MS } from "../src/core/time.ts";
import { mulberry32 } from "../src/core/random.ts";

/** A seeded generator, so every run of a seed is the same month. */
const rng = mulberry32;

interface KindPlan {
  readonly kind: string;
  readonly project: "software" | "household";
  readonly perDay: number;
  /** The lowest weight at which volunteers take it: a range they are drawn from. */
  readonly reservation: readonly [number, number];
  /** Share of volunteers who do this kind of work at all. */
  readonly takers: number;
}

export const PLAN: readonly KindPlan[] = [
  { kind: "programming", project: "software", perDay: 2, reservation: [0.3, 0.9], takers: 0.8 },
  { kind: "cooking", project: "household", perDay: 1, reservation: [0.7, 1.2], takers: 0.6 },
  { kind: "cleaning", project: "household", perDay: 1, reservation: [1.1, 1.8], takers: 0.6 },
  { kind: "garbage", project: "household", perDay: 1, reservation: [1.4, 2.6], takers: 0.5 },
];

export interface KindOutcome {
  readonly kind: string;
  readonly weight: number;
  readonly posted: number;
  readonly claimed: number;
  readonly waitlisted: number;
  readonly meanClaimWeight: number;
}

export interface MonthResult {
  readonly seed: number;
  readonly days: number;
  readonly volunteers: number;
  readonly kinds: readonly KindOutcome[];
  readonly commands: number;
  readonly balanced: boolean;
}

export async function simulateMonth(seed = 1, days = 30, volunteers = 12): Promise<MonthResult> {
  const random = rng(seed);
  const app = openApp({ dbFile: ":memory:", random: (n) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256)) });
  let now = Date.parse("2026-11-02T08:00:00Z");
  let commands = 0;
  const say = async (user: string, text: string) => {
    commands++;
    const r = await runText(
      app.engine,
      { caller: { platform: "console", userId: user, displayName: user, roomId: "lobby" }, requestId: `sim:${commands}`, now: new Date(now) },
      text,
    );
    return r;
  };
  const must = async (user: string, text: string) => {
    const r = await say(user, text);
    if (!r.ok) throw new Error(`simulation: "${text}" as ${user} was refused: ${r.message}`);
    return r.data as Record<string, unknown>;
  };

  await must("admin", "pool create Simulated");
  await must("cora", "project create software Software collective");
  await must("hank", "project create household Shared household");
  const people = Array.from({ length: volunteers }, (_, i) => `v${i + 1}`);
  // Each volunteer's lowest acceptable weight per kind; Infinity for kinds they never do.
  const taste = new Map(
    people.map((p) => [
      p,
      new Map(PLAN.map((k) => [k.kind, random() < k.takers ? k.reservation[0] + random() * (k.reservation[1] - k.reservation[0]) : Number.POSITIVE_INFINITY])),
    ]),
  );
  const counts = new Map(PLAN.map((k) => [k.kind, { posted: 0, claimed: 0, waitlisted: 0, weights: [] as number[] }]));
  const toVerify: Array<{ id: number; member: string; project: string }> = [];

  for (let day = 0; day < days; day++) {
    now = Date.parse("2026-11-02T08:00:00Z") + day * DAY_MS;
    // Yesterday's work is reported and verified in the morning.
    for (const w of toVerify.splice(0)) {
      await must(w.member, `task done ${w.id}`);
      await must(w.project === "software" ? "cora" : "hank", `task verify ${w.id} @${w.member}`);
    }
    for (const k of PLAN) {
      for (let i = 0; i < k.perDay; i++) {
        await must(k.project === "software" ? "cora" : "hank", `task post ${k.project} "${k.kind} job ${day + 1}.${i + 1}" hours:2 kind:${k.kind}`);
        counts.get(k.kind)!.posted++;
      }
    }
    // Through the day, volunteers in a random order look at the to-do list; each goes for the
    // task that pays best for their taste, if any pays enough. A task somebody took a moment
    // ago puts them on its waitlist (which lowers its kind's weight), and they try the next one.
    now += 2 * HOUR_MS;
    const order = [...people].sort(() => random() - 0.5);
    const seen = (await must("admin", "task list status:all")).tasks as Array<{ id: number; kind: string; weight: number; status: string; project: string }>;
    for (const p of order) {
      if (random() < 0.35) continue; // not around today
      now += 10 * 60_000;
      const wanted = seen
        .filter((t) => t.status !== "done" && t.status !== "cancelled" && t.weight >= taste.get(p)!.get(t.kind)!)
        .sort((a, b) => b.weight / taste.get(p)!.get(b.kind)! - a.weight / taste.get(p)!.get(a.kind)! || a.id - b.id);
      for (const target of wanted.slice(0, 3)) {
        const r = await say(p, `task claim ${target.id}`);
        if (!r.ok) continue;
        const d = r.data as { outcome: string; weight?: number };
        const c = counts.get(target.kind)!;
        if (d.outcome === "claimed") {
          c.claimed++;
          c.weights.push(d.weight!);
          toVerify.push({ id: target.id, member: p, project: target.project });
          target.status = "claimed";
          break;
        }
        c.waitlisted++;
      }
    }
  }
  const kinds = (await must("admin", "kind list")).kinds as Array<{ kind: string; weight: number }>;
  const audit = await must("admin", "pool audit");
  await app.close();
  return {
    seed,
    days,
    volunteers,
    commands,
    balanced: audit.balanced === true,
    kinds: PLAN.map((k) => {
      const c = counts.get(k.kind)!;
      return {
        kind: k.kind,
        weight: kinds.find((x) => x.kind === k.kind)?.weight ?? 1,
        posted: c.posted,
        claimed: c.claimed,
        waitlisted: c.waitlisted,
        meanClaimWeight: c.weights.length === 0 ? 0 : Math.round((c.weights.reduce((a, b) => a + b, 0) / c.weights.length) * 1000) / 1000,
      };
    }),
  };
}

export function simulationMarkdown(r: MonthResult): string {
  const rows = r.kinds.map(
    (k) =>
      `| ${k.kind} | ${PLAN.find((p) => p.kind === k.kind)!.reservation.join(" to ")} | ${k.posted} | ${k.claimed} | ${k.waitlisted} | ${k.meanClaimWeight.toFixed(3)} | **${k.weight.toFixed(3)}** |`,
  );
  return [
    `A month (${r.days} days, seed ${r.seed}) of a simulated pool with ${r.volunteers} volunteers, run through the real commands by \`scripts/simulate.ts\`: every day the coordinators post two programming tasks and one each of cooking, cleaning and garbage (2 hours each, all starting at their kind's market weight); each volunteer takes the task that pays best for their taste, if one pays at least their lowest acceptable weight for that kind. Nobody sets a weight. After the month:`,
    "",
    "| kind | volunteers accept from | posted | claimed | found full | mean claim weight | market weight after 30 days |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    `Popular work (programming, which most volunteers would do even at 0.3 to 0.9) ends below 1.0: too many volunteers found its tasks taken, and each lowered its weight by 5%. Unpopular work (garbage, which nobody takes below 1.4) ends above 1.0: its tasks waited, rose 10% per day, and were claimed at the higher weight; each verified claim pulled the kind's weight a quarter of the way toward its own (one claim alone cannot set it). The ledger stayed balanced (${r.commands} commands).`,
  ].join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seed = Number(process.argv[2] ?? 1);
  simulateMonth(seed).then(
    (r) => console.log(simulationMarkdown(r)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
