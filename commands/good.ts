// good ..., sector report and pool settle: goods are taken at their production effort and
// auctioned at a higher cost when scarce; producers are credited only the effort.
import { formatHours, formatWeight, ppmOfThousandths, toHours } from "../src/core/amounts.ts";
import { weightJson, WEIGHT_ONE } from "../src/core/weights.ts";
import * as goods from "../src/services/goods.ts";
import { ok } from "../src/result.ts";
import { arg } from "./args.ts";
import { action, defineCommand, type Action, type Card } from "./define.ts";
import { doc, type Block, type Span } from "./doc.ts";
import { iso, plural, when, type View } from "./present.ts";
import { goodRequestId } from "../src/core/ids.ts";

const goodArg = arg.ref("The good (see good list)", "good");
const MODELS = ["per-unit", "flat-rate", "copyable", "durable"] as const;

export function goodJson(v: goods.GoodView) {
  return {
    id: v.good.id,
    name: v.good.name,
    displayName: v.good.displayName,
    project: v.project,
    model: v.good.model,
    unit: v.good.unit,
    sector: v.good.sector,
    stock: v.good.stock,
    effort: toHours(v.effort.effort),
    declaredEffort: toHours(v.effort.declared),
    measuredEffort: v.effort.measured === null ? null : toHours(v.effort.measured),
    measuredUnits: v.effort.measuredUnits,
    demand: v.demand,
    openRound: v.round === null ? null : { id: v.round.id, closesAt: iso(v.round.closesAt), waiting: v.waiting },
    lastClearingWeight: v.lastClearing === null ? null : weightJson(v.lastClearing),
    subscribers: v.subscribers,
    onLoan: v.onLoan,
  };
}

function goodLine(v: goods.GoodView): Span[] {
  const g = v.good;
  const stock = g.model === "copyable" ? "copyable" : `${g.stock} in stock`;
  return [
    doc.strong(g.name),
    ...(g.displayName !== null ? [` "${g.displayName}"`] : []),
    doc.muted(` (#${g.id}, ${v.project}${g.sector ? `, ${g.sector}` : ""}, ${g.model})`),
    ` · ${formatHours(v.effort.effort)} per ${g.unit} · ${stock}`,
    ...(v.demand > 0 ? [` · ${v.demand} waiting`] : []),
    ...(v.lastClearing !== null && v.lastClearing > WEIGHT_ONE ? [doc.muted(` · last cleared at ${formatWeight(v.lastClearing)}`)] : []),
  ];
}

function goodCard(v: goods.GoodView, view: View): Block[] {
  const e = v.effort;
  const blocks: Block[] = [doc.line(...goodLine(v))];
  blocks.push(
    doc.line(
      doc.muted("Effort per unit: "),
      `declared ${formatHours(e.declared)}`,
      e.measured === null
        ? "; not measured yet (production tasks with good:" + v.good.name + " measure it)"
        : `; measured ${formatHours(e.measured)} over ${plural(e.measuredUnits, "unit")}`,
      e.usesMeasured ? ", which is what a unit costs." : ", the declared one is charged.",
    ),
  );
  if (v.round)
    blocks.push(
      doc.line(
        `Round open: ${plural(v.waiting, "request")} for ${plural(v.demand, "unit")}, closes ${when(v.round.closesAt, view)}. `,
        doc.cmd(`good request ${v.good.name} weight:<w>`),
        " to bid higher.",
      ),
    );
  if (v.lastClearing !== null) blocks.push(doc.line(doc.muted(`Last round cleared at weight ${formatWeight(v.lastClearing)}.`)));
  if (v.good.model === "flat-rate") blocks.push(doc.line(`${plural(v.subscribers, "subscriber")} share its effort each period.`));
  if (v.good.model === "durable") blocks.push(doc.line(`${v.onLoan} on loan.`));
  return blocks;
}

/** The sector report's tables: also part of the pool's summary in the lobby. */
export function renderSectors(sectors: readonly goods.SectorLine[]): Block[] {
  return sectors.flatMap((s) => [
    doc.heading(`Sector ${s.sector}`),
    doc.table(
      ["good", "project", "stock", "waiting", "effort", "last clearing"],
      s.goods.map((g) => [
        g.good.name,
        g.project,
        g.good.model === "copyable" ? "∞" : String(g.good.stock),
        String(g.demand),
        formatHours(g.effort.effort),
        g.lastClearing === null ? "-" : formatWeight(g.lastClearing),
      ]),
    ),
    doc.line(doc.muted("Deficits: "), s.projects.map((p) => `${p.slug} ${formatHours(p.deficit)} of ${formatHours(p.cap)}`).join(", ")),
  ]);
}

/**
 * A closed round's counts. Its answer names only the first winners and skipped members
 * (`goods.ROUND_LINES`); answers stored before the counts were kept named all of them.
 */
function roundCounts(d: goods.RoundClosed): { winners: number; units: number; skipped: number } {
  const kept = d as Partial<goods.RoundClosed>;
  return {
    winners: kept.winners ?? d.allocations.length,
    units: kept.units ?? d.allocations.reduce((a, x) => a + x.qty, 0),
    skipped: kept.skippedMembers ?? d.skipped.length,
  };
}

/** " and 30 more members (45 units)" after the winners a reply names; "" when it names them all. */
function moreWinners(d: goods.RoundClosed): string {
  const { winners, units } = roundCounts(d);
  const more = winners - d.allocations.length;
  return more > 0 ? ` and ${plural(more, "more member")} (${plural(units - d.allocations.reduce((a, x) => a + x.qty, 0), "unit")})` : "";
}

/** What a round's JSON says of its winners: the first ones and how many there are. */
function allocatedJson(d: goods.RoundClosed) {
  return { allocated: d.allocations.map((x) => ({ ...x, cost: toHours(x.cost) })), allocatedMembers: roundCounts(d).winners };
}

/** The reply to a changed bid: what it was, what it is, and what happened. */
function bidChanged(d: goods.Requested, view: View): Block[] {
  const was = d.was!;
  const units = d.request.qty - d.request.filled;
  const head = `Your request #${d.request.id} for ${d.good.good.name} `;
  if (d.allocated) {
    const mine = d.allocated.allocations.map((x) => `@${x.member} ${x.qty} for ${formatHours(x.cost)}`).join(", ");
    return [doc.line(head, "changed: now the stock covers every unit waiting, so the round closed at once: ", mine, moreWinners(d.allocated), ".")];
  }
  if (units === was.qty && d.request.weight === was.weight) {
    return [
      doc.line(head, `already waits for ${plural(units, "unit")} at weight ${formatWeight(was.weight)}: nothing changed.`),
      doc.line(doc.muted("Give weight: or qty: to change your bid; "), doc.cmd(`good cancel ${d.request.id}`), doc.muted(" withdraws it.")),
    ];
  }
  const changes = [
    `now bids ${formatWeight(d.request.weight)}${d.request.weight === was.weight ? "" : ` (was ${formatWeight(was.weight)})`}`,
    `for ${plural(units, "unit")}${units === was.qty ? "" : ` (was ${was.qty})`}`,
  ];
  return [
    doc.line(head, changes.join(" "), ": one bid per member, so it replaced your earlier one, as a bid made now."),
    doc.line(doc.muted(`The round closes ${when(d.round?.closesAt ?? 0, view)}. `), doc.cmd(`good cancel ${d.request.id}`), doc.muted(" withdraws it.")),
  ];
}

const GOOD_CARD: Card = { tone: "good" };

/** A good card's button: Request, for goods taken by the unit (per-unit and copyable ones). */
const goodActions = (v: goods.GoodView): readonly Action[] =>
  v.good.model === "per-unit" || v.good.model === "copyable" ? [action(goodRequest, { good: v.good.name }, "Request")] : [];

export const goodRequest = defineCommand({
  path: ["good", "request"],
  where: "pool",
  summary: "Ask for units of a good; scarce goods go to the highest preference weights",
  details:
    "With enough free stock you get the units at once, at their effort. When more is asked for than there is, your request waits for the round to close (roundHours, {roundHours} h after the first unmet request): units go to the highest preference weights (weight:, at least 1.00; ties go to the earlier bid), and every winner pays the same: the highest losing weight (at least 1.00) x the effort, for all their units together, rounded once. Stating your true preference is your best strategy. One bid per member and good: asking again while you wait changes your waiting request's weight (and with qty: how many units it still waits for) instead of adding another; the change counts as a bid made now. Producers are credited only the effort; the rest goes to the commons. Copyable goods are free.",
  access: "anyone",
  mutates: true,
  args: {
    good: goodArg,
    qty: arg.integer("How many units (default 1)", { min: 1, max: 10_000, placeholder: "n" }).optional().named(),
    weight: arg
      .hours("Your preference weight if it is scarce (default 1.00)", { min: 1000, max: 100_000, placeholder: "w", noun: "a weight" })
      .optional()
      .named(),
  },
  examples: ["good request bread qty:2", "good request bread weight:1.5", "good request #2", 'good request "Bread Share"'],
  run: (ctx, a) => goods.requestGood(ctx, a.good, a.qty, a.weight === undefined ? undefined : ppmOfThousandths(a.weight)),
  render: (d, view) =>
    d.was !== null
      ? bidChanged(d, view)
      : d.request.status === "allocated"
        ? [
            doc.line(
              `You took ${d.request.qty} x ${d.good.good.name} (${d.good.good.unit}) for `,
              doc.strong(formatHours(d.cost ?? 0)),
              ` (request #${d.request.id}).`,
            ),
          ]
        : d.request.status === "access"
          ? [doc.line(`${d.good.good.name} is copyable: it is yours to use, at no charge.`)]
          : [
              doc.line(
                `Request #${d.request.id} for ${d.request.qty} of ${d.good.good.name} waits for the round (${d.good.good.stock} in stock, ${d.good.demand} asked for), at preference weight ${formatWeight(d.request.weight)}.`,
              ),
              doc.line(
                doc.muted(`The round closes ${when(d.round?.closesAt ?? 0, view)}. `),
                doc.cmd(`good cancel ${d.request.id}`),
                doc.muted(" withdraws it."),
              ),
            ],
  json: (d) => ({
    request: {
      id: d.request.id,
      status: d.request.status,
      qty: d.request.qty,
      weight: weightJson(d.request.weight),
      ...(d.cost === null ? {} : { cost: toHours(d.cost) }),
      ...(d.round ? { roundClosesAt: iso(d.round.closesAt) } : {}),
      ...(d.was ? { was: { qty: d.was.qty, weight: weightJson(d.was.weight) } } : {}),
    },
    good: goodJson(d.good),
    ...(d.allocated ? allocatedJson(d.allocated) : {}),
  }),
  key: "gr",
  actions: (d): readonly Action[] => goodActions(d.good),
  card: () => GOOD_CARD,
  direct: true,
});

export const goodCommands = [
  defineCommand({
    path: ["good", "add"],
    where: "pool",
    summary: "Offer a good of your project to the pool, with its production effort per unit",
    details:
      'Models: per-unit (a member who takes a unit is charged its effort), flat-rate (subscribers share each period\'s effort), copyable (free for all; the commons carries its effort), durable (borrowed and charged per day of use). The declared effort is charged until production tasks (task post ... good:<good> qty:<n>) have measured it over measuredEffortMinUnits ({measuredEffortMinUnits}) units; when the last slot of such a task is verified, its units join the stock. An optional display name after the short name ("Bread Share", in quotes when it has spaces) shows in lists; the good is then found by its short name, its number (#2) or its display name in any case.',
    access: "coordinator of the project",
    mutates: true,
    args: {
      project: arg.ref("The project (see project list)", "project"),
      name: arg.slug("Short name of the good, like bread", "name"),
      title: arg.text("How people call it, like Bread Share (optional; it is also found by it)", { max: 80, placeholder: "display name" }).optional().rest(),
      effort: arg.hours("Weighted hours it takes to make one unit", { min: 0, max: 1_000_000, placeholder: "hours per unit", noun: "weighted hours" }).named(),
      unit: arg.slug("What one unit is, like loaf (default unit)", "label").optional().named(),
      model: arg.choice("How it is shared (default per-unit)", MODELS, "model").optional().named(),
      sector: arg.slug("Sector it belongs to, like food", "label").optional().named(),
      stock: arg.integer("Units already made (default 0)", { min: 0, max: 1_000_000, placeholder: "n" }).optional().named(),
    },
    examples: [
      "good add bakery bread effort:0.5 unit:loaf sector:food stock:20",
      'good add bakery share "Bread Share" effort:1 model:flat-rate',
      "good add bikes drill effort:20 model:durable stock:2",
    ],
    run: (ctx, a) =>
      goods.addGood(ctx, {
        project: a.project,
        name: a.name,
        displayName: a.title,
        effort: a.effort,
        unit: a.unit ?? "unit",
        model: a.model ?? "per-unit",
        sector: a.sector,
        stock: a.stock ?? 0,
      }),
    render: (v) => [doc.line("Added: ", ...goodLine(v))],
    json: (v) => ({ good: goodJson(v) }),
    actions: (v) => goodActions(v),
    card: () => GOOD_CARD,
  }),

  defineCommand({
    path: ["good", "produce"],
    where: "pool",
    summary: "Add units you made to a good's stock",
    details:
      "If more units are waiting in requests than there are now, the new units go to the open round (the auction), not to the earliest requests; if everyone waiting can be served, they are served at once at the effort. Units made by a production task (task post ... good:<good> qty:<n>) need no good produce: they join the stock by themselves, the same way, when the task's last slot is verified.",
    access: "coordinator of the project",
    mutates: true,
    args: { good: goodArg, qty: arg.integer("How many units", { min: 1, max: 1_000_000, placeholder: "qty" }) },
    examples: ["good produce bread 20"],
    run: (ctx, a) => goods.produceGood(ctx, a.good, a.qty),
    render: (d) => [
      doc.line("Stock now: ", ...goodLine(d.good)),
      ...(d.allocated
        ? [doc.line(`Everyone waiting was served: ${d.allocated.allocations.map((x) => `@${x.member} ${x.qty}`).join(", ")}${moreWinners(d.allocated)}.`)]
        : []),
    ],
    json: (d) => ({ good: goodJson(d.good), ...(d.allocated ? allocatedJson(d.allocated) : { allocated: [], allocatedMembers: 0 }) }),
    actions: (d) => goodActions(d.good),
    card: () => GOOD_CARD,
  }),

  defineCommand({
    path: ["good", "list"],
    where: "pool",
    summary: "The pool's goods: stock, effort per unit, demand and last clearing weight",
    access: "anyone",
    mutates: false,
    args: { project: arg.ref("Only this project's goods", "project").optional(), sector: arg.slug("Only goods of this sector", "label").optional().named() },
    examples: ["good list", "good list bakery", 'good list "Riverside Bakery"', "good list sector:food"],
    run: (ctx, a) => goods.listGoods(ctx, a.project, a.sector),
    render: (d) =>
      d.goods.length === 0
        ? [doc.line(doc.muted("No goods yet."), " Coordinators add them with ", doc.cmd("good add <project> <name> effort:<hours per unit>"), ".")]
        : [
            doc.list(d.goods.map(goodLine)),
            doc.line(doc.muted("Take some with "), doc.cmd("good request <good> qty:<n>"), doc.muted(": a good by its short name, number or display name.")),
          ],
    json: (d) => ({ goods: d.goods.map(goodJson) }),
    // Matrix shows the list as a compact table.
    compact: (d) =>
      d.goods.length === 0
        ? null
        : [
            doc.table(
              ["good", "model", "stock", "effort", "waiting", "last clearing"],
              d.goods.map((v) => [
                v.good.name,
                v.good.model,
                v.good.model === "copyable" ? "∞" : String(v.good.stock),
                formatHours(v.effort.effort),
                String(v.demand),
                v.lastClearing === null ? "-" : formatWeight(v.lastClearing),
              ]),
            ),
            doc.line(doc.muted("Take some with "), doc.cmd("good request <good> qty:<n>"), doc.muted(".")),
          ],
    card: () => GOOD_CARD,
    direct: true,
  }),

  defineCommand({
    path: ["good", "show"],
    where: "pool",
    summary: "A good: stock, declared and measured effort, demand, open round, last clearing weight",
    access: "anyone",
    mutates: false,
    args: { good: goodArg },
    run: (ctx, a) => goods.showGood(ctx, a.good),
    render: (d, view) => goodCard(d.good, view),
    json: (d) => ({ good: goodJson(d.good) }),
    actions: (d) => goodActions(d.good),
    card: () => GOOD_CARD,
    direct: true,
  }),

  goodRequest,

  defineCommand({
    path: ["good", "allocate"],
    where: "pool",
    summary: "Close a good's round now: the auction hands out the stock",
    details: `The reply gives the clearing weight, how many units went to how many members, and names the first ${goods.ROUND_LINES} winners and the first ${goods.ROUND_LINES} skipped (past the credit limit) with how many more; each winner and each skipped member gets a note of their own. When good produce or a changed bid serves everyone waiting at once, its reply names the first ${goods.ROUND_LINES} served the same way.`,
    access: "coordinator of the project",
    mutates: true,
    args: { good: goodArg },
    run: (ctx, a) => goods.allocateGood(ctx, a.good),
    render: (d) => {
      const n = roundCounts(d);
      const moreSkipped = n.skipped - d.skipped.length;
      return [
        d.allocations.length > 0
          ? doc.line(
              `Round of ${d.good} closed at clearing weight `,
              doc.strong(formatWeight(d.outcome.clearing)),
              ` (${formatHours(d.unitPrice, 1_000_000)} per unit, effort ${formatHours(d.effort)}; each pays their units' total, rounded once)${n.winners > d.allocations.length ? `: ${plural(n.units, "unit")} to ${plural(n.winners, "member")}, the first ${d.allocations.length}` : ""}:`,
            )
          : doc.line(`Round of ${d.good} closed with nothing to hand out (no stock, or nobody could pay).`),
        ...(d.allocations.length > 0 ? [doc.list(d.allocations.map((x) => [`@${x.member}: ${x.qty} for ${formatHours(x.cost)}`]))] : []),
        ...(n.winners > d.allocations.length ? [doc.line(doc.muted(`...${moreWinners(d)}: each winner has a note of what they got.`))] : []),
        ...(d.skipped.length > 0
          ? [
              doc.line(
                doc.warn(
                  `Skipped (past the credit limit): ${d.skipped.map((s) => `@${s.member}`).join(" ")}${moreSkipped > 0 ? ` and ${plural(moreSkipped, "more member")}` : ""}.`,
                ),
              ),
            ]
          : []),
        ...(d.queued > 0 ? [doc.line(doc.muted(`${plural(d.queued, "unit")} still asked for: they wait for the next round.`))] : []),
      ];
    },
    json: (d) => {
      const n = roundCounts(d);
      return {
        round: {
          id: d.round,
          clearingWeight: weightJson(d.outcome.clearing),
          unitCost: toHours(d.outcome.unitCost),
          units: n.units,
          winners: n.winners,
          allocations: d.allocations.map((x) => ({ member: x.member, qty: x.qty, cost: toHours(x.cost) })),
          skippedMembers: n.skipped,
          skipped: d.skipped,
          queued: d.queued,
        },
      };
    },
    card: () => GOOD_CARD,
  }),

  defineCommand({
    path: ["good", "cancel"],
    where: "pool",
    summary: "Withdraw your waiting request",
    access: "anyone",
    mutates: true,
    args: { request: arg.id(goodRequestId, "Request number", { max: 1_000_000_000, placeholder: "request" }) },
    run: (ctx, a) => goods.cancelRequest(ctx, a.request),
    render: (d) => [doc.line(`Request #${d.request.id} for ${d.good} is withdrawn.`)],
    json: (d) => ({ request: { id: d.request.id, status: d.request.status } }),
    card: () => GOOD_CARD,
    direct: true,
  }),

  ...([true, false] as const).map((on) =>
    defineCommand({
      path: ["good", on ? "subscribe" : "unsubscribe"],
      where: "pool",
      summary: on ? "Subscribe to a flat-rate good: share its effort each period" : "End your subscription to a flat-rate good",
      details: on
        ? "Each period (settlePeriod, weekly or monthly: {settlePeriod}) the effort of the units made is split evenly among the members subscribed at its end. Subscribing must fit your credit limit with your expected share of the running period: what was made in the period before (or in this one so far, if more) split among the subscribers with you. While you are subscribed that share is held like a waiting request; the settlement itself is charged even if it takes you past the limit, and then you can take nothing more until you are back within it."
        : "Each period (settlePeriod, weekly or monthly: {settlePeriod}) the effort of the units made is split evenly among the members subscribed at its end: once you are not subscribed at a period's end, you pay nothing of it.",
      access: "anyone",
      mutates: true,
      args: { good: goodArg },
      run: (ctx, a) => goods.subscribe(ctx, a.good, on),
      render: (d) => [
        doc.line(
          on
            ? `You are subscribed to ${d.good.good.name} (${plural(d.good.subscribers, "subscriber")}); your expected share of this period is ${formatHours(d.share)}, charged at its end.`
            : `Your subscription to ${d.good.good.name} has ended.`,
        ),
      ],
      json: (d) => ({ good: goodJson(d.good), subscribed: d.subscribed, ...(on ? { expectedShare: toHours(d.share) } : {}) }),
      actions: (d) => goodActions(d.good),
      card: () => GOOD_CARD,
      direct: true,
    }),
  ),

  defineCommand({
    path: ["good", "borrow"],
    where: "pool",
    summary: "Borrow a durable good; it is charged per day of use",
    details:
      "Each started day of use costs durableDayPercent ({durableDayPercent}) of the good's effort; the days are multiplied first and the charge rounded once, when it comes back. The days you plan must fit your credit limit, with what your waiting requests, loans and subscriptions hold. A loan kept past its days is overdue: you get a note, me balance shows it, and each further day is charged too, even past your credit limit.",
    access: "anyone",
    mutates: true,
    args: { good: goodArg, days: arg.integer("For how many days", { min: 1, max: 365 }).named() },
    examples: ["good borrow drill days:3"],
    run: (ctx, a) => goods.borrowGood(ctx, a.good, a.days),
    render: (d, view) => [
      doc.line(
        `Loan #${d.loan.id}: one ${d.good} until ${when(d.loan.dueAt, view)}, at ${formatHours(d.perDay, 1_000_000)} per day of use (${formatHours(d.planned)} for the days you planned). `,
        doc.cmd(`good return ${d.loan.id}`),
        " when you bring it back.",
      ),
      doc.line(doc.muted(`Each day you keep it past ${when(d.loan.dueAt, view)} costs ${formatHours(d.perDay, 1_000_000)} more, also past your credit limit.`)),
    ],
    json: (d) => ({ loan: { id: d.loan.id, good: d.good, dueAt: iso(d.loan.dueAt), perDay: d.perDay / 1_000_000, planned: toHours(d.planned) } }),
    card: () => GOOD_CARD,
    direct: true,
  }),

  defineCommand({
    path: ["good", "return"],
    where: "pool",
    summary: "Bring a borrowed good back; the days of use are charged",
    details:
      "Type the loan number from good borrow, or the good's name when you have one loan of it (with several, the reply lists their numbers). Every started day counts, at least one, days past the due date included; days x effort x durableDayPercent is rounded once to the milli-hour (never to zero).",
    access: "anyone",
    mutates: true,
    args: { loan: arg.ref("The loan number from good borrow, or the good when you have one loan of it", "loan or good") },
    examples: ["good return 3", "good return drill"],
    run: (ctx, a) => goods.returnLoanOf(ctx, a.loan),
    render: (d) => [doc.line(`Returned ${d.good} after ${plural(d.days, "day")}: charged `, doc.strong(formatHours(d.charged)), ".")],
    json: (d) => ({ loan: { id: d.loan.id, good: d.good, days: d.days, charged: toHours(d.charged) } }),
    card: () => GOOD_CARD,
    direct: true,
  }),

  defineCommand({
    path: ["sector", "report"],
    where: "pool",
    summary: "Supply, demand, clearing weights and deficits of the projects making a sector's goods",
    details:
      "What a prosumer association needs to adjust production together: projects that make similar goods see each other's stock, demand and deficits side by side.",
    access: "anyone",
    mutates: false,
    args: { sector: arg.slug("Only this sector", "sector").optional() },
    run: (ctx, a) => goods.sectorReport(ctx, a.sector),
    render: (d) =>
      d.sectors.length === 0
        ? [
            doc.line(
              doc.muted("No goods with a sector yet: "),
              doc.cmd("good add <project> <name> effort:<hours per unit> sector:<label>"),
              doc.muted(" gives one."),
            ),
          ]
        : renderSectors(d.sectors),
    json: (d) => ({
      sectors: d.sectors.map((s) => ({
        sector: s.sector,
        goods: s.goods.map((g) => ({
          name: g.good.name,
          project: g.project,
          stock: g.good.stock,
          demand: g.demand,
          effort: toHours(g.effort.effort),
          lastClearingWeight: g.lastClearing === null ? null : weightJson(g.lastClearing),
        })),
        projects: s.projects.map((p) => ({ slug: p.slug, deficit: toHours(p.deficit), cap: toHours(p.cap) })),
      })),
    }),
  }),

  defineCommand({
    path: ["pool", "settle"],
    where: "pool",
    summary: "Settle flat-rate goods now: each ended period's effort is split among subscribers",
    details:
      "Periods settle by themselves, each as of its end: the scheduler settles them, and so does the first command of anyone after a period ended. This shows what it settled (or the command itself, just before); every period is settled once, however often this runs.",
    access: "pool admin",
    mutates: true,
    args: {},
    run: async (ctx, _a, env) => {
      const r = await goods.settleNow(ctx);
      // The pool's periods that ended were settled as this command began (catching up): shown too.
      const before = (env.caughtUp?.settled ?? []).filter((s) => s.pool === ctx.pool.row.id);
      return r.ok ? ok({ settled: [...before, ...r.value.settled] }) : r;
    },
    render: (d) =>
      d.settled.length === 0
        ? [doc.line(doc.muted("Nothing to settle: no flat-rate good has an ended period that was not settled yet."))]
        : [
            doc.list(
              d.settled.map((s) => [
                `${s.good}, ${new Date(s.periodStart).toISOString().slice(0, 10)} to ${new Date(s.periodEnd).toISOString().slice(0, 10)}: ${formatHours(s.effort)} ${s.subscribers > 0 ? `split among ${plural(s.subscribers, "subscriber")} (${formatHours(s.share)} each)` : "with no subscribers: it stays with the project"}`,
              ]),
            ),
          ],
    json: (d) => ({
      settled: d.settled.map((s) => ({
        good: s.good,
        periodStart: iso(s.periodStart),
        periodEnd: iso(s.periodEnd),
        effort: toHours(s.effort),
        subscribers: s.subscribers,
        share: toHours(s.share),
      })),
    }),
  }),
];
