// How queued announcements and notes read, whatever the platform.
import { formatHours, formatPlainHours, formatWeight } from "../src/core/amounts.ts";
import { readAnnouncement, readNote, type Announcement, type BoardMessage, type Note } from "../src/core/announcements.ts";
import { renderPoolDigest, renderProjectSummary } from "./summary.ts";
import { duration } from "./task.ts";
import { doc, type Doc } from "./doc.ts";
import { plural, when, type View } from "./present.ts";

/** A board to show (not one to take down): a room's queued board, or `task board`'s answer. */
export type ShownBoard = Exclude<BoardMessage, { removed: true }>;

/**
 * What is shown for a stored message this version cannot read (a kind a newer version queued,
 * or a broken body): a plain line, never the raw JSON.
 */
export function unreadable(): Doc {
  return [doc.line(doc.muted("(A message this version of d-pool cannot show: it may come from a newer version.)"))];
}

/** A stored outbox row as a room reads it: checked against its kind first (a row it cannot read shows as `unreadable`). */
export function renderAnnouncement(kind: string, body: string, v: View): Doc {
  const read = readAnnouncement(kind, body);
  return read.ok ? renderAnnouncementMessage(read.message, v) : unreadable();
}

/** A stored note row as its member reads it: checked against its kind first, as renderAnnouncement. */
export function renderNote(kind: string, body: string, v: View): Doc {
  const read = readNote(kind, body);
  return read.ok ? renderNoteMessage(read.message, v) : unreadable();
}

/** An announcement as a room reads it; times in the announcing pool's zone (see View). */
export function renderAnnouncementMessage(m: Announcement, v: View): Doc {
  switch (m.kind) {
    case "goal": {
      const g = m.body;
      return g.done
        ? [doc.line("🎉 ", doc.strong(g.projectName), ` reached goal #${g.goal}: `, g.text)]
        : [doc.line("📣 ", doc.strong(g.projectName), ` (${g.project}) has a new goal #${g.goal}: `, doc.strong(g.text), doc.muted(` (by @${g.by})`))];
    }
    case "task": {
      const t = m.body;
      return [
        doc.line(
          "🛠 New task ",
          doc.strong(`#${t.task}`),
          ` for ${t.project}: ${t.title} `,
          doc.muted(
            `(${t.kind}, ${formatPlainHours(t.estimate)}, ${t.slots} slot${t.slots === 1 ? "" : "s"}${t.dueAt === null ? "" : `, due ${when(t.dueAt, v)}`})`,
          ),
          " at weight ",
          doc.strong(formatWeight(t.weight)),
          ". Take it with ",
          doc.cmd(`task claim ${t.task}`),
          ".",
        ),
      ];
    }
    case "summary":
      return renderProjectSummary(m.body, v);
    case "pool-summary":
      return renderPoolDigest(m.body, v);
    case "round": {
      const r = m.body;
      return [
        doc.line(
          "🏁 The round of ",
          doc.strong(r.good),
          ` (${r.project}) closed: ${r.allocated} unit${r.allocated === 1 ? "" : "s"} to ${plural(r.members, "member")} at clearing weight `,
          doc.strong(formatWeight(r.clearing)),
          `, ${r.unitPrice === undefined ? formatHours(r.unitCost) : formatHours(r.unitPrice, 1_000_000)} each. ${r.stock} left in stock`,
          r.queued > 0 ? `, ${r.queued} still asked for (next round).` : ".",
        ),
      ];
    }
    case "board":
      return m.body.removed ? [doc.line(doc.muted("The task board of this room was switched off."))] : renderBoard(m.body, v);
    case "neglected": {
      const n = m.body;
      return [
        doc.line(
          doc.warn("⏳ "),
          `${plural(n.tasks.length, "task")} waited long enough to reach weight ${formatWeight(n.threshold)} or more${n.project ? ` in ${n.project}` : ""}:`,
        ),
        doc.list(
          n.tasks.map((t) => [
            doc.strong(`#${t.id}`),
            ` ${t.title} `,
            doc.muted(`(${t.project}, ${t.kind})`),
            " weight ",
            doc.strong(formatWeight(t.weight)),
            doc.muted(` · open ${duration(t.openMs)}`),
          ]),
        ),
        doc.line(doc.muted("Take one with "), doc.cmd("task claim <id>"), doc.muted(".")),
      ];
    }
  }
}

/** A room's live task board: the heaviest open tasks, edited in place as they change. */
export function renderBoard(b: ShownBoard, v: View): Doc {
  const scope = b.project ?? b.pool;
  const head = doc.heading(`📋 Open tasks of ${scope}`);
  if (b.tasks.length === 0) return [head, doc.line(doc.muted("Nothing open right now. "), doc.cmd("task post"), doc.muted(" adds work."))];
  return [
    head,
    doc.list(
      b.tasks.map((t) => [
        doc.strong(`#${t.id}`),
        ` ${t.title} `,
        doc.muted(b.project === null ? `(${t.project}, ${t.kind})` : `(${t.kind})`),
        " weight ",
        doc.strong(formatWeight(t.weight)),
        ` · ${formatPlainHours(t.estimate)} · ${t.taken}/${t.slots} taken`,
      ]),
    ),
    doc.line(
      doc.muted(
        `${b.open > b.tasks.length ? `Top ${b.tasks.length} of ${b.open} open, heaviest first` : "Heaviest first"}${b.at === undefined ? "" : `; updated ${when(b.at, v)}`}. Take one with `,
      ),
      doc.cmd("task claim <id>"),
      doc.muted("."),
    ),
  ];
}

/** A note to one member: why a claim ended, work sent back, a slot open again, a round's outcome. */
export function renderNoteMessage(m: Note, v: View): Doc {
  switch (m.kind) {
    case "summary":
      return renderProjectSummary(m.body, v);
    case "allocated": {
      const n = m.body;
      return [doc.line(`🎁 The round of ${n.good} closed: you got ${n.qty} for ${formatHours(n.cost)} (clearing weight ${formatWeight(n.clearing)}).`)];
    }
    case "skipped": {
      const n = m.body;
      return [
        doc.line(
          doc.warn("⚠ "),
          `You won ${n.qty} of ${n.good} in its round, but ${formatHours(n.cost)} would take you past the credit limit; your request stays queued for the next round.`,
        ),
      ];
    }
    case "overdue": {
      const l = m.body;
      return [
        doc.line(
          doc.warn("⏰ "),
          `Your loan #${l.loan} (${l.good}) was due back ${when(l.dueAt, v)}. Each day you keep it costs ${formatHours(l.perDay, 1_000_000)} more, also past your credit limit: `,
          doc.cmd(`good return ${l.loan}`),
          " when you bring it back.",
        ),
      ];
    }
    case "released": {
      const n = m.body;
      return [
        doc.line(
          doc.warn("⏰ "),
          `Your claim on task #${n.task} (${n.title}) ran out at ${when(n.expiresAt, v)} without a report, so its slot was released. `,
          doc.cmd(`task claim ${n.task}`),
          " takes it again if it is still open.",
        ),
      ];
    }
    case "refused": {
      const n = m.body;
      return [doc.line(`${n.project} turned you down for task #${n.task} (${n.title}). `, doc.cmd("task list"), " shows other work.")];
    }
    case "rejected": {
      const n = m.body;
      return [
        doc.line(
          `@${n.by} sent your work on task #${n.task} (${n.title}) back: ${n.reason}. Redo it and `,
          doc.cmd(`task done ${n.task}`),
          ", or ",
          doc.cmd(`task drop ${n.task}`),
          ".",
        ),
      ];
    }
    case "cancelled": {
      const n = m.body;
      return [doc.line(`Task #${n.task} (${n.title}) was cancelled by ${n.project}; your claim ended.`)];
    }
    case "corrected": {
      const n = m.body;
      return n.restored
        ? [doc.line(`@${n.by} restored the credit for your work on task #${n.task} (${n.title}): ${n.reason}.`)]
        : [
            doc.line(
              doc.warn("↩ "),
              `@${n.by} reversed the credit for your work on task #${n.task} (${n.title}): ${n.reason}. It no longer counts.`,
              ...(n.state === "open" ? [" The task is open again: ", doc.cmd(`task claim ${n.task}`), "."] : []),
            ),
          ];
    }
    case "slot_open": {
      const n = m.body;
      return [doc.line(`A slot of task #${n.task} (${n.title}) is open again: `, doc.cmd(`task claim ${n.task}`), ".")];
    }
    case "due": {
      const n = m.body;
      return [
        doc.line(
          `@${n.by} gave task #${n.task} (${n.title}) a new due date: report your work by ${when(n.expiresAt, v)} with `,
          doc.cmd(`task done ${n.task}`),
          ", or the slot is released.",
        ),
      ];
    }
    case "linked": {
      const l = m.body;
      return [
        doc.line(
          `🔗 Accounts linked: ${l.accounts.join(", ")} now act${l.accounts.length === 1 ? "s" : ""} as @${l.member} (@${l.merged} was merged into it).`,
        ),
        doc.line(doc.warn("If you did not do this, tell a pool admin at once.")),
      ];
    }
  }
}
