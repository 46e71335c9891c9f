// pool announcements and task board: what a room hears without asking.
import { ANNOUNCEMENT_SWITCH_NAMES, ANNOUNCEMENT_SWITCHES } from "../src/core/announcements.ts";
import { weightJson } from "../src/core/weights.ts";
import { toHours } from "../src/core/amounts.ts";
import { ok } from "../src/result.ts";
import * as rooms from "../src/services/rooms.ts";
import { renderBoard } from "./announcements.ts";
import { arg } from "./args.ts";
import { defineCommand } from "./define.ts";
import { doc } from "./doc.ts";

export const roomCommands = [
  defineCommand({
    path: ["pool", "announcements"],
    where: "pool",
    summary: "Which announcements this room gets; switch one kind on or off",
    details: `Kinds: ${ANNOUNCEMENT_SWITCH_NAMES.map((n) => `${n}: ${ANNOUNCEMENT_SWITCHES[n].summary}`).join("; ")}. Every kind is on in a new room. Pool admins may switch any room; a project's coordinators may switch the project's rooms. Notes to members (allocations, released claims, summaries for coordinators) are not affected.`,
    access: { show: "anyone", change: "coordinator of the project or pool admin" },
    mutates: (a) => a.state !== undefined,
    args: {
      kind: arg.choice("Kind of announcement", ANNOUNCEMENT_SWITCH_NAMES, "kind").optional(),
      state: arg.choice("Switch it on or off", ["on", "off"] as const, "on|off").optional(),
    },
    examples: ["pool announcements", "pool announcements board off", "pool announcements tasks on"],
    run: (ctx, a) => rooms.roomAnnouncements(ctx, a.kind, a.state === undefined ? undefined : a.state === "on"),
    render: (d) => [
      ...(d.changed
        ? [
            doc.line(
              doc.strong(d.changed.name),
              d.changed.already
                ? ` was already ${d.changed.on ? "on" : "off"} in this room.`
                : ` announcements are now ${d.changed.on ? "on" : "off"} in this room.`,
            ),
          ]
        : [doc.heading(`Announcements in this room${d.project ? ` (project ${d.project})` : d.room.isLobby ? " (the lobby)" : ""}`)]),
      doc.table(
        ["kind", "state", "what"],
        d.switches.map((s) => [s.name, s.on ? "on" : "off", ANNOUNCEMENT_SWITCHES[s.name].summary]),
      ),
      doc.line(doc.muted("Switch one with "), doc.cmd("pool announcements <kind> on|off"), doc.muted(".")),
    ],
    json: (d) => ({
      room: d.room.id,
      project: d.project,
      switches: Object.fromEntries(d.switches.map((s) => [s.name, s.on])),
      ...(d.changed ? { changed: { kind: d.changed.name, on: d.changed.on, already: d.changed.already } } : {}),
    }),
  }),

  defineCommand({
    path: ["task", "board"],
    where: "pool",
    summary: "The room's task board: the heaviest open tasks (of its project, in a project room)",
    details: `The same list the room's live board message shows, which is edited in place as tasks change (switch it with pool announcements board on|off). At most ${rooms.BOARD_SIZE} tasks, heaviest first.`,
    access: "anyone",
    mutates: false,
    args: {},
    run: async (ctx) => ok(await rooms.taskBoard(ctx.tx, ctx.pool.row, ctx.pool.policy, ctx.room, ctx.now)),
    render: (d, v) => renderBoard(d, v),
    json: (d) => ({
      project: d.project,
      open: d.open,
      tasks: d.tasks.map((t) => ({
        id: t.id,
        title: t.title,
        project: t.project,
        kind: t.kind,
        weight: weightJson(t.weight),
        estimate: toHours(t.estimate),
        taken: t.taken,
        slots: t.slots,
      })),
    }),
    card: () => ({ tone: "task" }),
  }),
];
