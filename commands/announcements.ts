// How queued announcements read in a room, whatever the platform.
import type { GoalAnnouncement } from "../src/services/goals.ts";
import { doc, type Doc } from "./doc.ts";

export function renderAnnouncement(kind: string, body: string): Doc {
  switch (kind) {
    case "goal": {
      const g = JSON.parse(body) as GoalAnnouncement;
      return g.done
        ? [doc.line("🎉 ", doc.strong(g.projectName), ` reached goal #${g.goal}: `, g.text)]
        : [doc.line("📣 ", doc.strong(g.projectName), ` (${g.project}) has a new goal #${g.goal}: `, doc.strong(g.text), doc.muted(` (by @${g.by})`))];
    }
    default:
      return [doc.line(body)];
  }
}
