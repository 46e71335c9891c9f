// task ... and kind list: weighted labour. Weights follow the volunteers; no command sets one.
import { formatHours, formatPercent, formatPlainHours, formatWeight, thousandthsOfPpm, toHours, WEIGHT_ONE } from "../src/core/amounts.ts";
import { HOUR_MS } from "../src/core/time.ts";
import { slotsTaken } from "../src/core/tasks.ts";
import { weightJson } from "../src/core/weights.ts";
import * as tasks from "../src/services/tasks.ts";
import { arg } from "./args.ts";
import { action, defineCommand, type Action, type Card } from "./define.ts";
import { doc, type Block, type Span } from "./doc.ts";
import { dayEndIn, iso, plural, viewOf, when, type View } from "./present.ts";
import { taskId, type TaskId } from "../src/core/ids.ts";

/** A task's number, parsed as a TaskId. */
export const taskIdArg = arg.id(taskId, "Task number (see task list)", { max: 1_000_000_000, placeholder: "id" });
const memberArg = arg.member("The volunteer");

/** "3 d 4 h", "5 h", "0 h". */
export function duration(ms: number): string {
  const hours = Math.floor(ms / HOUR_MS);
  const days = Math.floor(hours / 24);
  return days > 0 ? `${days} d ${hours % 24} h` : `${hours} h`;
}

const taken = (t: tasks.TaskView) => slotsTaken(t.claims);

export function taskJson(t: tasks.TaskView) {
  return {
    id: t.id,
    title: t.title,
    project: t.project,
    kind: t.kind,
    weight: weightJson(t.weight),
    status: t.state,
    overdue: t.overdue,
    slots: t.slots,
    estimate: toHours(t.estimate),
    postedWeight: weightJson(t.postedWeight),
    postedAt: iso(t.postedAt),
    dueAt: iso(t.dueAt),
    openHours: Math.floor(t.openMs / HOUR_MS),
    nextRiseAt: iso(t.nextRiseAt),
    claims: t.claims.map((c) => ({
      member: c.member,
      weight: weightJson(c.weight),
      status: c.status,
      claimedAt: iso(c.claimedAt),
      reportedHours: c.reportedHours === null ? null : toHours(c.reportedHours),
      credited: c.credited === null ? null : toHours(c.credited),
      verifiedBy: c.verifiedBy,
      correction: c.correction === null ? null : { entry: c.correction.entry, by: c.correction.by, at: iso(c.correction.at), reason: c.correction.reason },
    })),
    waitlist: t.waitlist,
    good: t.good,
  };
}

/** One line for lists and announcements. */
export function taskLine(t: tasks.TaskView, v: View): Span[] {
  return [
    doc.strong(`#${t.id}`),
    ` ${t.title} `,
    doc.muted(`(${t.project}, ${t.kind})`),
    " weight ",
    doc.strong(formatWeight(t.weight)),
    ` · ${formatPlainHours(t.estimate)} · ${taken(t)}/${t.slots} taken`,
    ...(t.state === "open" && t.openMs >= HOUR_MS ? [doc.muted(` · open ${duration(t.openMs)}`)] : []),
    ...(t.state !== "open" ? [doc.muted(` · ${t.state}`)] : []),
    ...(t.overdue && t.dueAt !== null ? [doc.warn(` · overdue since ${when(t.dueAt, v)}`)] : []),
  ];
}

function taskCard(t: tasks.TaskView, v: View): Block[] {
  const blocks: Block[] = [doc.line(...taskLine(t, v))];
  // The one place a weight is shown exactly (replies round to two decimals): how it came about.
  const exact = formatWeight(t.weight, { exact: true });
  const exactly = exact === formatWeight(t.weight) ? "" : `${exact} exactly. `;
  const why: Span[] =
    t.state === "open"
      ? [
          exactly,
          `Posted at ${formatWeight(t.postedWeight, { exact: true })} (the ${t.kind} market weight then) by @${t.postedBy}, ${when(t.postedAt, v)}. `,
          `Unclaimed for ${duration(t.openMs)}; +${formatPercent(thousandthsOfPpm(t.growth - WEIGHT_ONE))} per full day, compounded, up to ${formatWeight(t.cap, { exact: true })}. `,
          t.nextRiseAt !== null
            ? `Next rise: ${when(t.nextRiseAt, v)}.`
            : t.dueAt !== null && t.weight < t.cap
              ? "It rises no more before its due date."
              : "It is at the cap.",
        ]
      : [exactly, `Posted at ${formatWeight(t.postedWeight, { exact: true })} by @${t.postedBy}, ${when(t.postedAt, v)}; open ${duration(t.openMs)} in all.`];
  blocks.push(doc.line(doc.muted("Why this weight: "), ...why));
  if (t.overdue && t.dueAt !== null) {
    blocks.push(
      doc.line(
        doc.warn(`Overdue since ${when(t.dueAt, v)}: `),
        "it takes no claims and its weight stopped rising there. Its coordinators can give it a new date with ",
        doc.cmd(`task due ${t.id} <date>`),
        " or cancel it with ",
        doc.cmd(`task cancel ${t.id}`),
        ".",
      ),
    );
  } else if (t.dueAt !== null) blocks.push(doc.line(`Due ${when(t.dueAt, v)}: claims run until then, and it stops rising there.`));
  if (t.claims.length > 0) {
    blocks.push(
      doc.table(
        ["member", "weight", "status", "since", "hours", "credited"],
        t.claims.map((c) => [
          `@${c.member}`,
          formatWeight(c.weight),
          c.status,
          when(c.claimedAt, v),
          c.reportedHours === null ? "-" : formatPlainHours(c.reportedHours),
          c.credited === null ? "-" : `${formatHours(c.credited)}${c.verifiedBy ? ` by @${c.verifiedBy}` : ""}`,
        ]),
      ),
    );
  }
  // A reversed credit says so: who reversed it, when and why (the row above credits nothing).
  for (const c of t.claims) {
    if (c.correction === null) continue;
    blocks.push(
      doc.line(
        doc.warn(`@${c.member}'s credit reversed by @${c.correction.by}`),
        `, ${when(c.correction.at, v)} (entry #${c.correction.entry}): ${c.correction.reason}`,
      ),
    );
  }
  if (t.waitlist.length > 0 && (t.state === "open" || t.state === "claimed"))
    blocks.push(doc.line(doc.muted(`Waitlist: ${t.waitlist.map((h) => `@${h}`).join(" ")}`)));
  return blocks;
}

const TASK_CARD: Card = { tone: "task" };

/** Claim on a task: its cards while it has an open slot, its announcement and the boards. */
export const claimAction = (id: TaskId, label = "Claim"): Action => action(taskClaim, { id }, label);

/** A task card's buttons: Claim while it has an open slot. */
const taskActions = (t: tasks.TaskView): readonly Action[] => (t.state === "open" ? [claimAction(t.id)] : []);

export const taskClaim = defineCommand({
  path: ["task", "claim"],
  where: "pool",
  summary: "Take a slot of a task at its current weight (locked from then on)",
  details:
    "Your claim keeps the weight the task has at this moment. The kind's market weight moves only once your work is verified: marketSmoothing ({marketSmoothing}) of the way toward your claim's weight; a claim dropped, refused or released moves nothing. If every slot is taken you go on the waitlist, and the kind's weight falls by waitlistPenalty ({waitlistPenalty}) once per volunteer and task: popular work gets cheaper. One slot per member and task; a member the project turned down cannot claim that task again, nor can its coordinators once it turned anyone down. A task past its due date takes no claims. Report your work within claimDays ({claimDays} days), or by the due date if the task has one, or the slot is released.",
  access: "anyone",
  mutates: true,
  changesBoards: true,
  args: { id: taskIdArg },
  examples: ["task claim 12"],
  run: (ctx, a) => tasks.claimTask(ctx, a.id),
  render: (d, v) =>
    d.outcome === "claimed"
      ? [
          doc.line("You took task ", doc.strong(`#${d.task.id}`), ` ${d.task.title} at weight `, doc.strong(formatWeight(d.weight)), "."),
          doc.line(
            doc.muted(`Report it with `),
            doc.cmd(`task done ${d.task.id} hours:<h>`),
            doc.muted(
              ` before ${when(d.expiresAt, v)}. The ${d.kind} market weight stays at ${formatWeight(d.market)} until your work is verified${d.weight === d.market ? "" : `, then moves ${formatPercent(d.smoothing)} of the way toward ${formatWeight(d.weight)}`}.`,
            ),
          ),
        ]
      : [
          doc.line(`Every slot of task #${d.task.id} is taken: you are number ${d.position} on its waitlist, and you will hear when a slot opens.`),
          d.lowered
            ? doc.line(
                doc.muted(`More volunteers than slots: the ${d.kind} market weight fell from ${formatWeight(d.kindBefore)} to ${formatWeight(d.kindAfter)}.`),
              )
            : doc.line(doc.muted("You were on the waitlist already.")),
        ],
  json: (d) =>
    d.outcome === "claimed"
      ? {
          outcome: d.outcome,
          task: taskJson(d.task),
          weight: weightJson(d.weight),
          expiresAt: iso(d.expiresAt),
          market: { name: d.kind, weight: weightJson(d.market) },
        }
      : {
          outcome: d.outcome,
          task: taskJson(d.task),
          position: d.position,
          kind: { name: d.kind, before: weightJson(d.kindBefore), after: weightJson(d.kindAfter) },
        },
  key: "tc",
  // The worker reports with Done; a waitlisted member sees Claim while a slot is open.
  actions: (d): readonly Action[] => (d.outcome === "claimed" ? [action(taskDone, { id: d.task.id }, "Done", "success")] : taskActions(d.task)),
  card: () => TASK_CARD,
  direct: true,
});

export const taskDone = defineCommand({
  path: ["task", "done"],
  where: "pool",
  summary: "Report your work on a task for verification",
  access: "anyone",
  mutates: true,
  changesBoards: true,
  args: {
    id: taskIdArg,
    hours: arg.hours("Hours you spent (default: the estimate)", { min: 1, max: 1_000_000 }).optional().named(),
    note: arg.text("Anything the verifier should know", { max: 300, placeholder: "note" }).optional().rest(),
  },
  examples: ["task done 12 hours:2.5", "task done 12 hours:3 the oven was cold"],
  run: (ctx, a) => tasks.reportDone(ctx, a.id, a.hours, a.note),
  render: (d) => [doc.line(`Reported ${formatPlainHours(d.hours)} on task #${d.task.id}. A coordinator of ${d.task.project} verifies it.`)],
  json: (d) => ({ task: taskJson(d.task), hours: toHours(d.hours) }),
  key: "td",
  actions: (d) => taskActions(d.task),
  card: () => TASK_CARD,
  direct: true,
});

export const taskCommands = [
  defineCommand({
    path: ["task", "post"],
    where: "pool",
    summary: "Post a task of your project at its kind's current market weight",
    details:
      "The task starts at the market weight of its kind (a new kind starts at the policy's newKindWeight, {newKindWeight}; the reply says when the kind is new, and names the pool's nearest kind in case kind: was mistyped). While it has an open slot its weight rises by weightGrowthPerDay ({weightGrowthPerDay}) per full day, up to weightCap ({weightCap}), until its due date: past it the task stops rising and takes no claims (task due moves the date). Nobody sets a weight by hand. The task is announced in the project's rooms and the lobby. With good: it is a production task: once every slot is verified, its work and units measure the good's effort per unit, and when its last slot is verified its qty: units join the good's stock (no good produce needed); it is refused while the project's deficit is past the pool's deficitCap ({deficitCap}), unless the good is copyable (work no good can recover is carried by the commons and never adds to a deficit).",
    access: "coordinator of the project",
    mutates: true,
    changesBoards: true,
    args: {
      project: arg.ref("The project (see project list)", "project"),
      title: arg.text("What needs doing", { max: 120, placeholder: "title" }).rest(),
      hours: arg.hours("Estimated hours of work", { min: 250, max: 1_000_000, placeholder: "estimate" }).named(),
      kind: arg.slug("Kind of work, like cleaning or baking (default general)", "label").optional().named(),
      slots: arg.integer("How many volunteers it needs (default 1)", { min: 1, max: 100 }).optional().named(),
      due: arg.date("When it must be done").optional().named(),
      good: arg.ref("The good this task produces (a production task)", "good").optional().named(),
      qty: arg.integer("How many units of the good it makes (default 1)", { min: 1, max: 1_000_000, placeholder: "n" }).optional().named(),
    },
    examples: [
      "task post bakery Knead the dough hours:2 kind:baking",
      'task post bikes "Fix the lathe" hours:4 slots:2 due:2026-12-20',
      "task post bakery Bake bread hours:3 kind:baking good:bread qty:20",
    ],
    run: (ctx, a) =>
      tasks.postTask(ctx, {
        project: a.project,
        title: a.title,
        estimate: a.hours,
        kind: a.kind ?? "general",
        slots: a.slots ?? 1,
        // A date without a time is the end of that day in the pool's time zone.
        dueAt: a.due === undefined ? undefined : dayEndIn(a.due, viewOf(ctx.pool.policy)),
        good: a.good === undefined ? undefined : { name: a.good, qty: a.qty ?? 1 },
      }),
    render: (d, v) => [
      doc.line("Posted: ", ...taskLine(d.task, v)),
      doc.line(doc.muted(`Announced in ${plural(d.rooms, "room")}. Volunteers type `), doc.cmd(`task claim ${d.task.id}`), doc.muted(".")),
      ...(d.newKind === null
        ? []
        : [
            d.newKind.near === null
              ? doc.line(doc.muted(`New kind ${d.newKind.name}.`))
              : doc.line(
                  `New kind ${d.newKind.name}. Did you mean ${d.newKind.near}? `,
                  doc.cmd(`task cancel ${d.task.id}`),
                  ` and post it again with kind:${d.newKind.near}.`,
                ),
          ]),
    ],
    json: (d) => ({ task: taskJson(d.task), rooms: d.rooms, newKind: d.newKind }),
    actions: (d) => taskActions(d.task),
    card: () => TASK_CARD,
  }),

  defineCommand({
    path: ["task", "list"],
    where: "pool",
    summary: "The pool's to-do list with current weights, most neglected first",
    details:
      "By default the tasks you can claim now. status:overdue lists open and claimed tasks past their due date, which take no claims until a coordinator gives them a new date.",
    access: "anyone",
    mutates: false,
    args: {
      project: arg.ref("Only this project's tasks", "project").optional(),
      kind: arg.slug("Only tasks of this kind", "label").optional().named(),
      status: arg
        .choice("Which tasks (default open)", ["open", "claimed", "overdue", "done", "cancelled", "all"] as const, "status")
        .optional()
        .named(),
      page: arg
        .integer(`Which page of a long list (${tasks.TASK_PAGE} tasks each; default 1)`, { min: 1, max: 1_000_000, placeholder: "n" })
        .optional()
        .named(),
    },
    examples: ["task list", "task list bakery", "task list kind:cleaning status:all", "task list status:overdue", "task list page:2"],
    run: async (ctx, a) => {
      const listed = await tasks.listTasks(ctx, { project: a.project, kind: a.kind, state: a.status ?? "open", page: a.page });
      if (!listed.ok) return listed;
      const { page, pageSize, total } = listed.value;
      const pages = Math.max(1, Math.ceil(total / pageSize));
      // The same list's other pages, as the member would type them.
      const pageCommand = (n: number) =>
        [
          "task list",
          ...(a.project === undefined ? [] : [/\s/.test(a.project) ? `"${a.project}"` : a.project]),
          ...(a.kind === undefined ? [] : [`kind:${a.kind}`]),
          ...(a.status === undefined ? [] : [`status:${a.status}`]),
          `page:${n}`,
        ].join(" ");
      return {
        ok: true as const,
        value: { ...listed.value, pages, next: page < pages ? pageCommand(page + 1) : null, last: page > pages ? pageCommand(pages) : null },
      };
    },
    render: (d, v) => [
      ...(d.tasks.length === 0
        ? d.last !== null
          ? [doc.line(doc.muted(`There is no page ${d.page}: the list has ${plural(d.pages, "page")}. The last one: `), doc.cmd(d.last), ".")]
          : [doc.line(doc.muted("No tasks to show."), " Coordinators post them with ", doc.cmd("task post <project> <title> hours:<estimate>"), ".")]
        : d.tasks.every((t) => t.overdue)
          ? [
              doc.list(d.tasks.map((t) => taskLine(t, v))),
              doc.line(
                doc.muted("Past their due date, these take no claims: their coordinators give a new date with "),
                doc.cmd("task due <id> <date>"),
                doc.muted(" or cancel them with "),
                doc.cmd("task cancel <id>"),
                doc.muted("."),
              ),
            ]
          : [
              doc.list(d.tasks.map((t) => taskLine(t, v))),
              doc.line(doc.muted("Take one with "), doc.cmd("task claim <id>"), doc.muted("; "), doc.cmd("task show <id>"), doc.muted(" explains its weight.")),
            ]),
      // A long list comes a page at a time (a chat message holds a few thousand characters).
      ...(d.next === null
        ? []
        : [doc.line(doc.muted(`Page ${d.page} of ${d.pages}; ${plural(d.total - d.page * d.pageSize, "more task")}: `), doc.cmd(d.next))]),
    ],
    json: (d) => ({ tasks: d.tasks.map(taskJson), total: d.total, page: d.page, pages: d.pages, next: d.next }),
    // Matrix shows the list as a compact table; a reaction on an announcement claims there.
    compact: (d) =>
      d.tasks.length === 0
        ? null
        : [
            doc.table(
              ["#", "task", "kind", "weight", "slots", "status"],
              d.tasks.map((t) => [String(t.id), t.title, t.kind, formatWeight(t.weight), `${taken(t)}/${t.slots}`, t.state]),
            ),
            doc.line(doc.muted("Take one with "), doc.cmd("task claim <id>"), doc.muted(", or ✋ on its announcement.")),
          ],
    card: () => TASK_CARD,
    direct: true,
  }),

  defineCommand({
    path: ["task", "show"],
    where: "pool",
    summary: "A task, its claims, and why it has its weight",
    access: "anyone",
    mutates: false,
    args: { id: taskIdArg },
    examples: ["task show 12"],
    run: (ctx, a) => tasks.showTask(ctx, a.id),
    render: (d, v) => taskCard(d.task, v),
    json: (d) => ({ task: taskJson(d.task) }),
    actions: (d) => taskActions(d.task),
    card: () => TASK_CARD,
    direct: true,
  }),

  taskClaim,

  defineCommand({
    path: ["task", "drop"],
    where: "pool",
    summary: "Give your slot of a task back",
    access: "anyone",
    mutates: true,
    changesBoards: true,
    args: { id: taskIdArg },
    run: (ctx, a) => tasks.dropTask(ctx, a.id),
    render: (d) => [doc.line(`You gave your slot of task #${d.task.id} back. Its weight goes on rising from `, doc.strong(formatWeight(d.task.weight)), ".")],
    json: (d) => ({ task: taskJson(d.task) }),
    actions: (d) => taskActions(d.task),
    card: () => TASK_CARD,
    direct: true,
  }),

  defineCommand({
    path: ["task", "refuse"],
    where: "pool",
    summary: "Turn a volunteer down: their slot reopens and the weight keeps rising",
    access: "coordinator of the project",
    mutates: true,
    changesBoards: true,
    args: { id: taskIdArg, member: memberArg },
    examples: ["task refuse 12 @bob"],
    run: (ctx, a) => tasks.refuseVolunteer(ctx, a.id, a.member),
    render: (d) => [
      doc.line(
        `@${d.member} is turned down for task #${d.task.id}; the slot is open again at weight `,
        doc.strong(formatWeight(d.task.weight)),
        ", still rising.",
      ),
    ],
    json: (d) => ({ task: taskJson(d.task), member: d.member }),
    actions: (d) => taskActions(d.task),
    card: () => TASK_CARD,
  }),

  taskDone,

  defineCommand({
    path: ["task", "verify"],
    where: "pool",
    summary: "Credit reported work: hours x the locked weight, from the project to the worker",
    details:
      "Without hours: the reported hours are credited, up to creditCapFactor ({creditCapFactor}) times the estimate; above that the verification is refused until you give hours: with what you confirm (which is credited, also above the cap). Nobody verifies their own work. Verified work moves the kind's market weight marketSmoothing ({marketSmoothing}) of the way toward the claim's weight: the only thing that raises a kind.",
    access: "coordinator of the project or pool admin",
    mutates: true,
    changesBoards: true,
    args: { id: taskIdArg, member: memberArg, hours: arg.hours("Hours to credit, if not the reported ones", { min: 1, max: 1_000_000 }).optional().named() },
    examples: ["task verify 12 @bob", "task verify 12 @bob hours:5"],
    run: (ctx, a) => tasks.verifyWork(ctx, a.id, a.member, a.hours),
    render: (d) => [
      doc.line(
        doc.good("Verified: "),
        `@${d.member} is credited `,
        doc.strong(formatHours(d.credited)),
        ` (${formatPlainHours(d.hours)} x ${formatWeight(d.weight)}) for task #${d.task.id}.`,
      ),
      doc.line(
        doc.muted(
          d.market.after === d.market.before
            ? `The ${d.market.kind} market weight stays at ${formatWeight(d.market.after)}.`
            : `The ${d.market.kind} market weight moves from ${formatWeight(d.market.before)} to ${formatWeight(d.market.after)}.`,
        ),
      ),
      ...(d.produced ? [doc.line(`Task #${d.task.id} is done: ${d.produced.qty} added to the ${d.produced.good} stock.`)] : []),
    ],
    json: (d) => ({
      task: taskJson(d.task),
      member: d.member,
      hours: toHours(d.hours),
      weight: weightJson(d.weight),
      credited: toHours(d.credited),
      entry: d.entry,
      market: { kind: d.market.kind, before: weightJson(d.market.before), after: weightJson(d.market.after) },
      produced: d.produced,
    }),
    actions: (d) => taskActions(d.task),
    card: () => TASK_CARD,
  }),

  defineCommand({
    path: ["task", "reject"],
    where: "pool",
    summary: "Send reported work back to the worker to redo or drop",
    access: "coordinator of the project or pool admin",
    mutates: true,
    changesBoards: true,
    args: { id: taskIdArg, member: memberArg, reason: arg.text("What is missing", { max: 300, placeholder: "reason" }).rest() },
    examples: ['task reject 12 @bob "the floor is still wet"'],
    run: (ctx, a) => tasks.rejectWork(ctx, a.id, a.member, a.reason),
    render: (d, v) => [doc.line(`Task #${d.task.id} goes back to @${d.member}, who has until ${when(d.expiresAt, v)} to redo or drop it.`)],
    json: (d) => ({ task: taskJson(d.task), member: d.member, expiresAt: iso(d.expiresAt) }),
    actions: (d) => taskActions(d.task),
    card: () => TASK_CARD,
  }),

  defineCommand({
    path: ["task", "due"],
    where: "pool",
    summary: "Give a task a new due date (extend it, or bring it forward)",
    details:
      "Past its due date a task takes no claims and its weight stops rising. A new date ahead opens it again: it rises from where it stopped (the days it was overdue do not count). Every active claim must then be reported by the new date, and its worker is told. Dates are read strictly, as due: in task post.",
    access: "coordinator of the project or pool admin",
    mutates: true,
    changesBoards: true,
    args: { id: taskIdArg, date: arg.date("The new due date (the end of that day in the pool's time zone) or time") },
    examples: ["task due 12 2026-12-31", "task due 12 2026-12-24T18:00Z"],
    run: (ctx, a) => tasks.setDue(ctx, a.id, dayEndIn(a.date, viewOf(ctx.pool.policy))),
    render: (d, v) => [
      doc.line(
        `Task #${d.task.id} ${d.task.title} is now due ${when(d.task.dueAt ?? 0, v)}`,
        d.before === null ? "" : ` (was ${when(d.before, v)})`,
        ". Weight ",
        doc.strong(formatWeight(d.task.weight)),
        d.task.nextRiseAt !== null ? `, rising again while a slot is open (next: ${when(d.task.nextRiseAt, v)}).` : ".",
      ),
      ...(d.workers.length > 0 ? [doc.line(doc.muted(`Report deadline moved for ${d.workers.map((h) => `@${h}`).join(" ")}.`))] : []),
    ],
    json: (d) => ({ task: taskJson(d.task), before: iso(d.before), workers: d.workers }),
    actions: (d) => taskActions(d.task),
    card: () => TASK_CARD,
  }),

  defineCommand({
    path: ["task", "cancel"],
    where: "pool",
    summary: "Cancel a task: open claims end and nothing is credited",
    access: "coordinator of the project",
    mutates: true,
    changesBoards: true,
    args: { id: taskIdArg },
    run: (ctx, a) => tasks.cancelTask(ctx, a.id),
    render: (d) => [doc.line(`Task #${d.task.id} is cancelled.`, d.ended.length > 0 ? ` Claims ended: ${d.ended.map((h) => `@${h}`).join(" ")}.` : "")],
    json: (d) => ({ task: taskJson(d.task), ended: d.ended }),
    actions: (d) => taskActions(d.task),
    card: () => TASK_CARD,
  }),

  defineCommand({
    path: ["kind", "list"],
    where: "pool",
    summary: "Every kind of work with its market weight, open tasks and trend",
    details:
      "A kind's market weight is where its next task starts. Each verified claim moves it marketSmoothing ({marketSmoothing}) of the way toward that claim's weight; claims that end without verified work move nothing; volunteers who find tasks full lower it (waitlistPenalty, {waitlistPenalty}). The trend compares it with a week ago. Open tasks: those that take claims now (not past their due date).",
    access: "anyone",
    mutates: false,
    args: {},
    run: (ctx) => tasks.listKinds(ctx),
    render: (d) =>
      d.kinds.length === 0
        ? [doc.line(doc.muted("No kinds yet: the first task posted with kind:<label> makes one."))]
        : [
            doc.table(
              ["kind", "weight", "open tasks", "a week ago", "trend"],
              d.kinds.map((k) => [
                k.kind,
                formatWeight(k.weight),
                String(k.open),
                formatWeight(k.weekAgo),
                k.weight > k.weekAgo ? "↑ rising" : k.weight < k.weekAgo ? "↓ falling" : "→ steady",
              ]),
            ),
          ],
    json: (d) => ({
      kinds: d.kinds.map((k) => ({
        kind: k.kind,
        weight: weightJson(k.weight),
        open: k.open,
        weekAgo: weightJson(k.weekAgo),
        trend: k.weight > k.weekAgo ? "rising" : k.weight < k.weekAgo ? "falling" : "steady",
      })),
    }),
    direct: true,
  }),
];
