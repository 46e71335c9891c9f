// pool summary: what coordinators need to see without asking (also sent on a schedule, later).
import { formatHours, formatPlainHours, formatWeight, toHours } from "../src/core/amounts.ts";
import { weightJson } from "../src/core/weights.ts";
import { poolSummary, type PoolDigest, type ProjectSummary } from "../src/services/summary.ts";
import { summaryCharts } from "./chart.ts";
import { renderSectors } from "./good.ts";
import { commonsJson, commonsLine } from "./project.ts";
import { arg } from "./args.ts";
import { defineCommand } from "./define.ts";
import { doc, type Block } from "./doc.ts";
import { iso, plural, when, type View } from "./present.ts";
import { duration } from "./task.ts";

export function renderProjectSummary(s: ProjectSummary, v: View): Block[] {
  const blocks: Block[] = [doc.heading(`${s.project.name} (${s.project.slug}), ${when(s.from, v)} to ${when(s.to, v)}`)];
  if (s.open.length === 0) blocks.push(doc.line(doc.muted("No open tasks.")));
  else
    blocks.push(
      doc.table(
        ["#", "open task", "kind", "weight", "change", "open for"],
        s.open
          .slice(0, 15)
          .map((t) => [
            String(t.id),
            t.title,
            t.kind,
            formatWeight(t.weight),
            t.weight > t.weightBefore ? `+${formatWeight(t.weight - t.weightBefore)}` : "-",
            duration(t.openMs),
          ]),
      ),
    );
  if (s.fastestRising)
    blocks.push(
      doc.line(
        "Fastest rising: ",
        doc.strong(`#${s.fastestRising.id} ${s.fastestRising.title}`),
        ` (${formatWeight(s.fastestRising.weightBefore)} → ${formatWeight(s.fastestRising.weight)}).`,
      ),
    );
  if (s.stalest) blocks.push(doc.line("Stalest: ", doc.strong(`#${s.stalest.id} ${s.stalest.title}`), `, open for ${duration(s.stalest.openMs)}.`));
  // Summaries sent before these were kept have neither.
  const overdue = s.overdue ?? [];
  if (overdue.length > 0) {
    blocks.push(
      doc.line(
        doc.warn("Overdue (no claims until a new date): "),
        overdue.map((t) => `#${t.id} ${t.title} (due ${when(t.dueAt, v)}, ${t.taken}/${t.slots} taken)`).join(", "),
        ". ",
        doc.cmd("task due <id> <date>"),
        " or ",
        doc.cmd("task cancel <id>"),
        ".",
      ),
    );
  }
  const inProgress = s.inProgress ?? [];
  if (inProgress.length > 0)
    blocks.push(doc.line(`In progress: ${inProgress.map((c) => `#${c.task} by @${c.member} (report by ${when(c.until, v)})`).join(", ")}.`));
  blocks.push(
    s.waiting.length === 0
      ? doc.line(doc.muted("No work waits for verification."))
      : doc.line(`Waiting for verification: ${s.waiting.map((w) => `#${w.task} by @${w.member} (${formatPlainHours(w.hours)})`).join(", ")}.`),
  );
  blocks.push(
    doc.line(
      "Contributions: ",
      doc.strong(formatHours(s.contributions.total)),
      s.contributions.members.length > 0 ? ` (${s.contributions.members.map((m) => `@${m.member} ${formatHours(m.credited)}`).join(", ")})` : "",
      ".",
    ),
  );
  for (const g of s.goods) {
    const rounds = g.rounds.filter((r) => r.allocated > 0);
    blocks.push(
      doc.line(
        `Good ${g.name}: ${g.stock} in stock, ${g.demand} waiting, effort ${formatHours(g.effort)}`,
        rounds.length > 0 ? `; ${plural(rounds.length, "round")} closed at ${rounds.map((r) => formatWeight(r.clearing ?? 1_000_000)).join(", ")}` : "",
        ".",
      ),
    );
  }
  const lent = s.overdueLoans ?? [];
  if (lent.length > 0)
    blocks.push(
      doc.line(
        doc.warn("Overdue loans: "),
        lent.map((l) => `${l.good} #${l.loan} @${l.member} (due ${when(l.dueAt, v)}, ${plural(l.days, "day")} of use)`).join(", "),
        ".",
      ),
    );
  const near = s.commons?.allCopyable
    ? doc.muted("(its goods are all copyable: the cap binds none of its tasks)")
    : s.deficit >= s.deficitCap
      ? doc.bad(`past the cap of ${formatHours(s.deficitCap)}: no new production tasks`)
      : doc.muted(`of a cap of ${formatHours(s.deficitCap)}`);
  blocks.push(doc.line(`Deficit ${formatHours(s.deficit)} `, near, "."));
  const carried = s.commons ? commonsLine(s.commons) : null;
  if (carried) blocks.push(doc.line(carried));
  if (s.goals.length > 0) blocks.push(doc.line(`Goals: ${s.goals.map((g) => `#${g.id} ${g.text}`).join("; ")}.`));
  for (const w of s.warnings) blocks.push(doc.line(doc.warn(w)));
  return blocks;
}

/** The pool's summary in its lobby: each project in a row, then the sector report. */
export function renderPoolDigest(p: PoolDigest, v: View): Block[] {
  return [
    doc.heading(`Pool ${p.pool}, ${when(p.from, v)} to ${when(p.to, v)}`),
    p.projects.length === 0
      ? doc.line(doc.muted("No projects yet."))
      : doc.table(
          ["project", "open", "heaviest", "waiting", "contributed", "deficit"],
          p.projects.map((x) => [
            x.slug,
            String(x.open),
            x.heaviest ? `#${x.heaviest.id} ${formatWeight(x.heaviest.weight)}` : "-",
            String(x.waiting),
            `${formatHours(x.contributed)} (${plural(x.contributors, "member")})`,
            `${formatHours(x.deficit)} of ${formatHours(x.deficitCap)}`,
          ]),
        ),
    ...p.projects.filter((x) => x.warnings > 0).map((x) => doc.line(doc.warn(`${x.slug}: ${plural(x.warnings, "pattern")} worth a look in its summary`))),
    ...p.projects.filter((x) => (x.overdue ?? 0) > 0).map((x) => doc.line(doc.warn(`${x.slug}: ${plural(x.overdue ?? 0, "task")} past the due date`))),
    ...renderSectors(p.sectors),
    doc.line(doc.muted("Each project's room has its own summary; "), doc.cmd("pool summary <project>"), doc.muted(" shows one now.")),
  ];
}

export const poolSummaryCommand = defineCommand({
  path: ["pool", "summary"],
  where: "pool",
  summary: "A project's summary (or every project's): open work, weights, contributions, goods, deficit",
  details:
    "Open tasks with their weights and how they rose in the period, the fastest-rising and stalest task, tasks past their due date (which take no claims until a coordinator gives a new date or cancels them), claims in progress with their report deadlines, work waiting for verification, contributions per member, goods with stock, demand and closed rounds, loans of its goods past their due date, the deficit against the cap, what the commons carries of its work (per copyable good, with how many members took it), open goals, and patterns worth a human look: a member who takes tasks only after their weight rose, two members who verify each other.",
  access: "anyone",
  mutates: false,
  args: {
    project: arg.ref("Only this project", "project").optional(),
    days: arg.integer("How many days back (default 7)", { min: 1, max: 366 }).optional().named(),
  },
  examples: ["pool summary", "pool summary bakery days:30"],
  run: (ctx, a) => poolSummary(ctx, a.project, a.days ?? 7),
  render: (d, v) => [
    ...(d.projects.length === 0 ? [doc.line(doc.muted("No projects yet."))] : d.projects.flatMap((s) => renderProjectSummary(s, v))),
    ...renderSectors(d.sectors),
  ],
  json: (d) => ({
    projects: d.projects.map((s) => ({
      project: s.project.slug,
      from: iso(s.from),
      to: iso(s.to),
      open: s.open.map((t) => ({ id: t.id, title: t.title, kind: t.kind, weight: weightJson(t.weight), weightBefore: weightJson(t.weightBefore) })),
      fastestRising: s.fastestRising?.id ?? null,
      stalest: s.stalest?.id ?? null,
      overdue: s.overdue.map((t) => ({ id: t.id, title: t.title, dueAt: iso(t.dueAt), taken: t.taken, slots: t.slots })),
      inProgress: s.inProgress.map((c) => ({ task: c.task, title: c.title, member: c.member, since: iso(c.since), until: iso(c.until) })),
      waiting: s.waiting.map((w) => ({ ...w, hours: toHours(w.hours) })),
      contributions: {
        total: toHours(s.contributions.total),
        members: s.contributions.members.map((m) => ({ member: m.member, credited: toHours(m.credited) })),
      },
      goods: s.goods.map((g) => ({
        name: g.name,
        stock: g.stock,
        demand: g.demand,
        effort: toHours(g.effort),
        rounds: g.rounds.map((r) => ({
          closedAt: iso(r.closedAt),
          clearingWeight: r.clearing === null ? null : weightJson(r.clearing),
          allocated: r.allocated,
        })),
      })),
      overdueLoans: (s.overdueLoans ?? []).map((l) => ({
        loan: l.loan,
        good: l.good,
        member: l.member,
        dueAt: iso(l.dueAt),
        days: l.days,
        charged: toHours(l.charged),
      })),
      balance: toHours(s.balance),
      deficit: toHours(s.deficit),
      deficitCap: toHours(s.deficitCap),
      commons: s.commons ? commonsJson(s.commons) : null,
      goals: s.goals.map((g) => ({ id: g.id, text: g.text })),
      warnings: s.warnings,
      chart: {
        kinds: s.chart.kinds.map((k) => ({ kind: k.kind, points: k.points.map((p) => ({ at: iso(p.at), weight: weightJson(p.weight) })) })),
        goods: s.chart.goods,
      },
    })),
    sectors: d.sectors.map((x) => ({
      sector: x.sector,
      goods: x.goods.map((g) => ({ name: g.good.name, project: g.project, stock: g.good.stock, demand: g.demand })),
      projects: x.projects.map((p) => ({ slug: p.slug, deficit: toHours(p.deficit), cap: toHours(p.cap) })),
    })),
  }),
  // Each project's chart goes with the answer (Discord, Matrix; the console saves them as files).
  attachments: (d, view) => summaryCharts(d.projects, view),
});

export const summaryCommands = [poolSummaryCommand];
