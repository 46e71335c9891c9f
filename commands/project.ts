// project ... and goal ...: projects run themselves and announce their goals in every room.
import { formatHours, toHours } from "../src/core/amounts.ts";
import * as goals from "../src/services/goals.ts";
import * as projects from "../src/services/projects.ts";
import type { ProjectRow } from "../src/store.ts";
import { arg } from "./args.ts";
import { defineCommand } from "./define.ts";
import { doc } from "./doc.ts";
import { iso, plural, when } from "./present.ts";
import { goalId } from "../src/core/ids.ts";

const projectArg = arg.ref("The project (see project list)", "project");
const projectJson = (p: ProjectRow) => ({ id: p.id, slug: p.slug, name: p.name, createdAt: iso(p.createdAt) });
const handles = (hs: readonly string[]) => hs.map((h) => `@${h}`).join(" ") || "-";

/** What the commons carries of a project's work, per copyable good (with how many members took it) and the rest. */
export function commonsLine(c: projects.CommonsShare): string | null {
  if (c.carried === 0 && c.goods.length === 0) return null;
  const parts = [
    ...c.goods.map((g) => `${g.name} ${formatHours(g.carried)} (used by ${plural(g.members, "member")})`),
    ...(c.otherWork > 0 ? [`its other work ${formatHours(c.otherWork)}`] : []),
  ];
  return `The commons carries ${formatHours(c.carried)} of its work: ${parts.join(", ")}.`;
}

export const commonsJson = (c: projects.CommonsShare) => ({
  carried: toHours(c.carried),
  goods: c.goods.map((g) => ({ name: g.name, carried: toHours(g.carried), members: g.members })),
  otherWork: toHours(c.otherWork),
});

export const projectCommands = [
  defineCommand({
    path: ["project", "create"],
    where: "pool",
    summary: "Start a project in this pool; you become its coordinator",
    details:
      "A project sets its own goals and runs itself; the pool shares its tasks, goods and accounts. The slug is the short name used in commands (bakery, bike-workshop). The project gets its own account: effort spent on it minus effort recovered by goods taken.",
    access: "anyone",
    mutates: true,
    args: {
      slug: arg.slug("Short name used in commands, like bakery", "slug"),
      name: arg.text("Full name of the project", { max: 80, placeholder: "name" }).rest(),
    },
    examples: ['project create bakery "Riverside Bakery"'],
    run: (ctx, a) => projects.createProject(ctx, a.slug, a.name),
    render: (d) => [
      doc.line("Project ", doc.strong(d.project.slug), ` (${d.project.name}) created; you coordinate it.`),
      doc.line("Next: ", doc.cmd(`goal announce ${d.project.slug} <text>`), " or ", doc.cmd(`project room ${d.project.slug}`), " in the project's own room."),
    ],
    json: (d) => ({ project: projectJson(d.project) }),
  }),

  defineCommand({
    path: ["project", "list"],
    where: "pool",
    summary: "The projects of this pool with their numbers, coordinators and balances",
    access: "anyone",
    mutates: false,
    args: {},
    run: (ctx) => projects.listProjects(ctx),
    render: (d) =>
      d.projects.length === 0
        ? [doc.line("No projects yet: ", doc.cmd("project create <slug> <name>"), " starts one.")]
        : [
            doc.table(
              ["#", "project", "name", "coordinators", "open goals", "balance"],
              d.projects.map((p) => [
                String(p.project.id),
                p.project.slug,
                p.project.name,
                handles(p.coordinators),
                String(p.openGoals),
                formatHours(p.balance),
              ]),
            ),
            doc.line(
              doc.muted("Commands take a project by its number, short name or name (in quotes when it has spaces): "),
              doc.cmd(`project info ${d.projects[0]!.project.slug}`),
              doc.muted("."),
            ),
          ],
    json: (d) => ({
      projects: d.projects.map((p) => ({ ...projectJson(p.project), coordinators: p.coordinators, openGoals: p.openGoals, balance: toHours(p.balance) })),
    }),
    direct: true,
  }),

  defineCommand({
    path: ["project", "info"],
    where: "pool",
    summary: "A project: coordinators, rooms, open goals, balance, deficit and what the commons carries of its work",
    details:
      "The deficit is the effort credited for the project's work minus the effort recovered by goods members took; past the pool's deficitCap ({deficitCap}) it may post no production tasks for goods members pay for. Work that no good can ever recover (work on a copyable good, and all work of a project whose goods are all copyable) is carried by the commons instead and never counts toward the deficit: shown per copyable good, with how many members took it.",
    access: "anyone",
    mutates: false,
    args: { project: projectArg },
    examples: ["project info bakery", "project info 1", 'project info "Riverside Bakery"'],
    run: (ctx, a) => projects.projectInfo(ctx, a.project),
    render: (d) => [
      doc.heading(`${d.project.name} (${d.project.slug})`),
      doc.line("Coordinators: ", handles(d.coordinators), `. Rooms: ${d.rooms.length}. Balance: `, doc.strong(formatHours(d.balance)), "."),
      d.commons.allCopyable
        ? doc.line(
            doc.muted(
              `Its goods are all copyable: the commons carries its work, and the deficit cap binds none of its tasks${d.deficit > 0 ? ` (a deficit of ${formatHours(d.deficit)} remains from work before)` : ""}.`,
            ),
          )
        : d.deficit >= d.deficitCap
          ? doc.line(
              doc.bad(
                `Deficit ${formatHours(d.deficit)} has reached the cap of ${formatHours(d.deficitCap)}: no new production tasks until members take more of its goods${d.commons.paidGoods.length > 0 ? ` (${d.commons.paidGoods.join(", ")})` : ""}.`,
              ),
            )
          : d.deficit >= d.deficitWarnAt && d.deficit > 0
            ? doc.line(doc.warn(`Deficit ${formatHours(d.deficit)} is close to the cap of ${formatHours(d.deficitCap)}.`))
            : doc.line(doc.muted(`Deficit ${formatHours(d.deficit)} of a cap of ${formatHours(d.deficitCap)}.`)),
      ...(commonsLine(d.commons) ? [doc.line(commonsLine(d.commons)!)] : []),
      ...(d.goals.length > 0 ? [doc.line("Open goals:"), doc.list(d.goals.map((g) => [`#${g.id} `, g.text]))] : [doc.line(doc.muted("No open goals."))]),
    ],
    json: (d) => ({
      project: {
        ...projectJson(d.project),
        balance: toHours(d.balance),
        deficit: toHours(d.deficit),
        deficitCap: toHours(d.deficitCap),
        deficitWarning: d.commons.allCopyable
          ? null
          : d.deficit >= d.deficitCap
            ? "over_cap"
            : d.deficit >= d.deficitWarnAt && d.deficit > 0
              ? "near_cap"
              : null,
      },
      coordinators: d.coordinators,
      balance: toHours(d.balance),
      deficit: toHours(d.deficit),
      deficitCap: toHours(d.deficitCap),
      commons: commonsJson(d.commons),
      rooms: d.rooms.map((r) => ({ id: r.id, platform: r.platform })),
      goals: d.goals.map((g) => ({ id: g.id, text: g.text })),
    }),
    direct: true,
  }),

  defineCommand({
    path: ["project", "room"],
    where: "pool",
    summary: "Make this room the project's room",
    details:
      "The room must already belong to the pool (pool create or pool join). A room may belong to one project; binding it to another moves it. The project's own announcements go to its rooms.",
    access: "coordinator of the project or pool admin",
    bindsRoom: true,
    mutates: true,
    changesBoards: true,
    args: { project: projectArg },
    run: (ctx, a) => projects.bindProjectRoom(ctx, a.project),
    render: (d) => [
      doc.line("This room is now a room of ", doc.strong(d.project.slug), d.previous && d.previous !== d.project.slug ? ` (it was ${d.previous}'s).` : "."),
    ],
    json: (d) => ({ project: projectJson(d.project), room: { id: d.room.id } }),
  }),

  ...(["add", "remove"] as const).map((op) =>
    defineCommand({
      path: ["project", "coordinator", op],
      where: "pool",
      summary: op === "add" ? "Make a member a coordinator of the project" : "Remove a coordinator from the project",
      details: "Coordinators post tasks, verify work, add and produce goods and announce goals. A project always keeps at least one coordinator.",
      access: "coordinator of the project or pool admin",
      mutates: true,
      args: { project: projectArg, member: arg.member("The member") },
      examples: [`project coordinator ${op} bakery @alice`],
      run: (ctx, a) => projects.changeCoordinator(ctx, op, a.project, a.member),
      render: (d) => [
        doc.line(
          `@${d.member} ${op === "add" ? "now coordinates" : "no longer coordinates"} `,
          doc.strong(d.project.slug),
          `. Coordinators: ${handles(d.coordinators)}.`,
        ),
      ],
      json: (d) => ({ project: projectJson(d.project), member: d.member, coordinators: d.coordinators }),
    }),
  ),

  defineCommand({
    path: ["goal", "announce"],
    where: "pool",
    summary: "Announce a goal of your project in every room of the pool",
    access: "coordinator of the project",
    mutates: true,
    args: {
      project: projectArg,
      text: arg.text("The goal, in a sentence", { max: 300, placeholder: "text" }).rest(),
    },
    examples: ['goal announce bakery "Bread for 40 households every week"'],
    run: (ctx, a) => goals.announceGoal(ctx, a.project, a.text),
    render: (d) => [doc.line(`Goal #${d.goal.id} of `, doc.strong(d.project.slug), ` announced in ${plural(d.rooms, "room")}: `, d.goal.text)],
    json: (d) => ({ goal: { id: d.goal.id, project: d.project.slug, text: d.goal.text, status: d.goal.status }, rooms: d.rooms }),
  }),

  defineCommand({
    path: ["goal", "list"],
    where: "pool",
    summary: "Goals of the pool's projects (open ones unless status: says otherwise)",
    access: "anyone",
    mutates: false,
    args: {
      project: projectArg.optional(),
      status: arg
        .choice("Which goals to show", ["open", "done", "all"] as const, "status")
        .optional()
        .named(),
    },
    examples: ["goal list", "goal list bakery status:all"],
    run: (ctx, a) => goals.listGoals(ctx, a.project, a.status ?? "open"),
    render: (d, v) =>
      d.goals.length === 0
        ? [doc.line(doc.muted("No goals to show."), " Coordinators announce them with ", doc.cmd("goal announce <project> <text>"), ".")]
        : [
            doc.table(
              ["#", "project", "status", "since", "goal"],
              d.goals.map((g) => [String(g.id), g.project, g.status, when(g.createdAt, v), g.text]),
            ),
          ],
    json: (d) => ({
      goals: d.goals.map((g) => ({ id: g.id, project: g.project, text: g.text, status: g.status, createdAt: iso(g.createdAt), doneAt: iso(g.doneAt) })),
    }),
    direct: true,
  }),

  defineCommand({
    path: ["goal", "done"],
    where: "pool",
    summary: "Mark a goal of your project as reached",
    access: "coordinator of the project",
    mutates: true,
    args: { id: arg.id(goalId, "Goal number (see goal list)", { max: 1_000_000_000, placeholder: "id" }) },
    examples: ["goal done 3"],
    run: (ctx, a) => goals.finishGoal(ctx, a.id),
    render: (d) => [doc.line(doc.good("Reached: "), `goal #${d.goal.id} of `, doc.strong(d.project.slug), `: ${d.goal.text}`)],
    json: (d) => ({ goal: { id: d.goal.id, project: d.project.slug, text: d.goal.text, status: d.goal.status } }),
  }),
];
