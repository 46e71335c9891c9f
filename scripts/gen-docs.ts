// `npm run docs`: writes the command reference (from the command table) and the policy table
// (from POLICY_KEYS) into README.md, between marker comments, and the generated parts of
// docs/economics.md (scripts/economics-doc.ts). `npm run docs -- --check` only
// compares, and exits 1 when README.md is out of date. The render functions are pure, so a
// test can check that the README is in sync without writing anything.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { AnyCommand } from "../commands/define.ts";
import { consoleText } from "../adapters/console/render.ts";
import { slashCommandText } from "../adapters/discord/render.ts";
import { matrixCommandText } from "../adapters/matrix/render.ts";
import { BINDS_ROOM_RULE, describeCommand, groupsOf, renderOverview, type CommandDetails } from "../commands/help.ts";
import { table } from "../commands/table.ts";
import { ANNOUNCEMENT_SWITCH_NAMES, ANNOUNCEMENT_SWITCHES } from "../src/core/announcements.ts";
import { describeRange, formatPolicyValue, POLICY_KEY_NAMES, POLICY_KEYS } from "../src/core/policy.ts";
import { JOBS } from "../src/schedules.ts";
import { economicsMain } from "./economics-doc.ts";
import { simulateMonth, simulationMarkdown } from "./simulate.ts";

export const README_FILE = resolve(fileURLToPath(new URL("..", import.meta.url)), "README.md");

export const MARKERS = {
  commands: { start: "<!-- commands:start -->", end: "<!-- commands:end -->" },
  policy: { start: "<!-- policy:start -->", end: "<!-- policy:end -->" },
  jobs: { start: "<!-- jobs:start -->", end: "<!-- jobs:end -->" },
  announcements: { start: "<!-- announcements:start -->", end: "<!-- announcements:end -->" },
} as const;

export type Section = keyof typeof MARKERS;

/** The month simulation's figures: generated too, but asynchronously (it runs the real commands). */
export const SIMULATION_MARKERS = { start: "<!-- simulation:start -->", end: "<!-- simulation:end -->" };
export const SIMULATION_SEED = 1;

export async function simulationSection(): Promise<string> {
  return simulationMarkdown(await simulateMonth(SIMULATION_SEED));
}

/** Escapes prose for Markdown, so `pool join <code>` is not read as an HTML tag. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>]/g, (c) => `\\${c}`);
}

/** A code span that survives backticks inside the code. */
export function codeSpan(text: string): string {
  const longest = Math.max(0, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A table cell: GitHub splits cells at `|` even inside code spans. */
const cell = (markdown: string) => markdown.replace(/\|/g, "\\|");

const sentence = (text: string) => (/[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`);

/** Commands grouped by their first word, groups in the order the table first uses them. */
function groups(commands: readonly AnyCommand[]): Array<[string, CommandDetails[]]> {
  const out = new Map<string, CommandDetails[]>();
  for (const c of commands) {
    const group = c.path[0]!;
    const list = out.get(group) ?? [];
    list.push(describeCommand(c));
    out.set(group, list);
  }
  return [...out.entries()];
}

function renderCommand(c: CommandDetails): string {
  const lines: string[] = [
    `#### ${c.name}`,
    "",
    codeSpan(c.usage),
    "",
    `On Discord ${codeSpan(slashCommandText(c.usage))}, on Matrix ${codeSpan(matrixCommandText(c.usage))}.`,
    "",
    escapeMarkdown(sentence(c.summary)),
  ];
  if (c.details) lines.push("", escapeMarkdown(sentence(c.details)));
  lines.push("", `Who may run it: ${escapeMarkdown(c.access)}${c.bindsRoom ? `; it ${escapeMarkdown(BINDS_ROOM_RULE)}` : ""}.`);
  if (c.args.length > 0) {
    lines.push("", "Arguments:", "");
    for (const a of c.args) {
      lines.push(`- ${codeSpan(a.shown)}${a.optional ? " (optional)" : ""}: ${escapeMarkdown(a.description)}; ${escapeMarkdown(a.expect)}.`);
    }
  }
  if (c.examples.length > 0) {
    lines.push("", `${c.examples.length === 1 ? "Example" : "Examples"}: ${c.examples.map(codeSpan).join(", ")}`);
  }
  return lines.join("\n");
}

/** `help` as the console prints it: one line per group (Discord and Matrix show the same, in their syntax). */
export function renderHelpOverview(commands: readonly AnyCommand[] = table): string {
  return ["```", consoleText(renderOverview(groupsOf(commands)), { colour: false }), "```"].join("\n");
}

/** The command reference: the help overview, a table of every command, then every command with its arguments and examples. */
export function renderCommandsMarkdown(commands: readonly AnyCommand[] = table): string {
  const parts: string[] = [];
  parts.push(
    [
      `${codeSpan("help")} (${codeSpan("/help")} on Discord, ${codeSpan(matrixCommandText("help"))} on Matrix) shows the groups; ${codeSpan("help <group>")} lists a group's commands and ${codeSpan("help <command>")} explains one. On Discord every command is written as the slash command, such as ${codeSpan(slashCommandText("task claim <id>"))}; on Matrix with the prefix, such as ${codeSpan(matrixCommandText("task claim <id>"))}; in the console as typed.`,
      "",
      renderHelpOverview(commands),
    ].join("\n"),
  );
  parts.push(
    [
      "| command | what it does | who may run it |",
      "| --- | --- | --- |",
      ...commands.map((c) => {
        const d = describeCommand(c);
        return `| ${cell(codeSpan(d.usage))} | ${cell(escapeMarkdown(d.summary))} | ${cell(escapeMarkdown(d.access))} |`;
      }),
    ].join("\n"),
  );
  for (const [group, list] of groups(commands)) {
    parts.push(`### ${group}`);
    for (const c of list) parts.push(renderCommand(c));
  }
  return parts.join("\n\n");
}

/** The policy table: key, default, meaning, accepted values, and whose rule it is. */
export function renderPolicyMarkdown(): string {
  const rows = POLICY_KEY_NAMES.map((k) => {
    const spec = POLICY_KEYS[k];
    return [
      codeSpan(k),
      codeSpan(formatPolicyValue(k, spec.default)),
      escapeMarkdown(sentence(spec.summary)),
      escapeMarkdown(describeRange(k)),
      spec.ours ? "ours" : "Siefkes'",
    ];
  });
  return ["| key | default | meaning | accepts | rule |", "| --- | --- | --- | --- | --- |", ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`)].join("\n");
}

/** The scheduler's jobs: name, schedule (UTC) and what each does. */
export function renderJobsMarkdown(): string {
  return [
    "| job | runs (cron, UTC) | what it does |",
    "| --- | --- | --- |",
    ...JOBS.map(
      (j) =>
        `| ${[codeSpan(j.name), codeSpan(j.cron), escapeMarkdown(sentence(j.summary)) + (j.latestOnly ? " Only the latest missed slot runs." : "")].map(cell).join(" | ")} |`,
    ),
  ].join("\n");
}

/** The kinds of announcement a room can switch off with `pool announcements <kind> off`. */
export function renderAnnouncementsMarkdown(): string {
  return [
    "| kind | what the room hears |",
    "| --- | --- |",
    ...ANNOUNCEMENT_SWITCH_NAMES.map((n) => `| ${codeSpan(n)} | ${cell(escapeMarkdown(sentence(ANNOUNCEMENT_SWITCHES[n].summary)))} |`),
  ].join("\n");
}

export function renderSection(section: Section): string {
  switch (section) {
    case "commands":
      return renderCommandsMarkdown();
    case "policy":
      return renderPolicyMarkdown();
    case "jobs":
      return renderJobsMarkdown();
    case "announcements":
      return renderAnnouncementsMarkdown();
  }
}

/** Replaces what stands between one pair of markers; throws if the markers are missing. */
export function replaceSection(text: string, section: Section | "simulation", body: string): string {
  const { start, end } = section === "simulation" ? SIMULATION_MARKERS : MARKERS[section];
  const from = text.indexOf(start);
  const to = text.indexOf(end, from < 0 ? 0 : from + start.length);
  if (from < 0 || to < 0) throw new Error(`README.md has no ${start} ... ${end} markers`);
  if (text.indexOf(start, from + start.length) >= 0) throw new Error(`README.md has ${start} twice`);
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`;
}

/** The README with both generated sections brought up to date; the rest is left as it is. */
export function updateReadme(text: string): string {
  let out = text;
  for (const section of Object.keys(MARKERS) as Section[]) out = replaceSection(out, section, renderSection(section));
  return out;
}

/** The generated sections whose text in `text` differs from what the table says now. */
export function staleSections(text: string): Section[] {
  return (Object.keys(MARKERS) as Section[]).filter((s) => replaceSection(text, s, renderSection(s)) !== text);
}

export async function main(argv: readonly string[], file = README_FILE): Promise<number> {
  const check = argv.includes("--check");
  const unknown = argv.filter((a) => a !== "--check");
  if (unknown.length > 0) {
    process.stderr.write(`unknown argument ${unknown[0]}\nusage: tsx scripts/gen-docs.ts [--check]\n`);
    return 2;
  }
  // docs/economics.md's generated parts (policy keys, worked examples): written or checked too.
  const economics = economicsMain(check);
  const before = readFileSync(file, "utf8");
  let after: string;
  try {
    after = replaceSection(updateReadme(before), "simulation", await simulationSection());
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  if (check) {
    if (after === before) {
      process.stdout.write("README.md is up to date.\n");
      return economics;
    }
    const stale = [...staleSections(before), ...(replaceSection(before, "simulation", await simulationSection()) === before ? [] : ["simulation"])];
    process.stderr.write(`README.md is out of date (${stale.join(", ")}): run npm run docs\n`);
    return 1;
  }
  if (after !== before) {
    writeFileSync(file, after);
    process.stdout.write("README.md updated.\n");
  } else {
    process.stdout.write("README.md was up to date.\n");
  }
  return economics;
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
