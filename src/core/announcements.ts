// The kinds of announcement a room gets, each of which the room can switch off. An outbox
// message's kind names what it is ("task", "round"); its switch names what a room hears.

export const ANNOUNCEMENT_SWITCHES = {
  goals: { kinds: ["goal"], summary: "Goals a project announced or reached" },
  tasks: { kinds: ["task"], summary: "New tasks, with a Claim button" },
  rounds: { kinds: ["round"], summary: "Auction rounds that handed out goods, with their clearing weights" },
  summaries: { kinds: ["summary", "pool-summary"], summary: "Scheduled summaries (project rooms: the project's; lobby: the pool's)" },
  neglected: { kinds: ["neglected"], summary: "The daily notice of tasks whose weight crossed neglectedWeight" },
  board: { kinds: ["board"], summary: "The live task board: one message, edited in place as tasks change (taken down when switched off)" },
} as const satisfies Record<string, { kinds: readonly string[]; summary: string }>;

export type AnnouncementSwitch = keyof typeof ANNOUNCEMENT_SWITCHES;
export const ANNOUNCEMENT_SWITCH_NAMES = Object.keys(ANNOUNCEMENT_SWITCHES) as [AnnouncementSwitch, ...AnnouncementSwitch[]];

/** The switch that governs an outbox kind; undefined for kinds no room may turn off. */
export function switchOf(outboxKind: string): AnnouncementSwitch | undefined {
  return ANNOUNCEMENT_SWITCH_NAMES.find((s) => (ANNOUNCEMENT_SWITCHES[s].kinds as readonly string[]).includes(outboxKind));
}
