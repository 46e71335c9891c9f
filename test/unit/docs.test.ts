// The README's generated sections (command reference, policy table) match the command table
// and POLICY_KEYS. When this fails, run `npm run docs` and commit README.md.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { commandName } from "../../commands/define.ts";
import { table } from "../../commands/table.ts";
import { usageLine } from "../../commands/text.ts";
import { formatPolicyValue, POLICY_KEY_NAMES, POLICY_KEYS } from "../../src/core/policy.ts";
import {
  codeSpan,
  escapeMarkdown,
  MARKERS,
  README_FILE,
  renderAnnouncementsMarkdown,
  renderCommandsMarkdown,
  renderJobsMarkdown,
  renderPolicyMarkdown,
  replaceSection,
  updateReadme,
} from "../../scripts/gen-docs.ts";

const readme = readFileSync(README_FILE, "utf8");

/** The text between one pair of markers. */
function section(name: keyof typeof MARKERS): string {
  const { start, end } = MARKERS[name];
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  expect(from, `${start} in README.md`).toBeGreaterThanOrEqual(0);
  expect(to, `${end} in README.md`).toBeGreaterThan(from);
  return readme.slice(from + start.length, to);
}

describe("README.md", () => {
  it("is in sync with the command table and the policy keys (run npm run docs if not)", () => {
    expect(readme).toBe(updateReadme(readme));
  });

  it("starts with the set-up commands", () => {
    expect(readme).toMatch(/^# d-pool\n\n```sh\nnpm ci\nnpm start\nnpm test\n```\n/);
  });

  it("documents every command of the table with its usage line", () => {
    const commands = section("commands");
    for (const c of table) {
      expect(commands, commandName(c)).toContain(`#### ${commandName(c)}\n`);
      expect(commands, commandName(c)).toContain(codeSpan(usageLine(c)));
      for (const example of c.examples ?? []) expect(commands, example).toContain(codeSpan(example));
    }
  });

  it("lists every policy key with its default and whose rule it is", () => {
    const policy = section("policy");
    for (const k of POLICY_KEY_NAMES) {
      const spec = POLICY_KEYS[k];
      const row = policy.split("\n").find((l) => l.startsWith(`| \`${k}\` |`));
      expect(row, k).toBeDefined();
      expect(row).toContain(`\`${formatPolicyValue(k, spec.default)}\``);
      expect(row).toMatch(spec.ours ? /\| ours \|$/ : /\| Siefkes' \|$/);
    }
  });
});

describe("gen-docs", () => {
  it("is idempotent and leaves the text outside the markers alone", () => {
    const text = `intro\n${MARKERS.commands.start}\nold\n${MARKERS.commands.end}\nmiddle\n${MARKERS.jobs.start}${MARKERS.jobs.end}\n${MARKERS.announcements.start}${MARKERS.announcements.end}\n${MARKERS.policy.start}${MARKERS.policy.end}\nend\n`;
    const once = updateReadme(text);
    expect(updateReadme(once)).toBe(once);
    expect(once.startsWith("intro\n")).toBe(true);
    expect(once).toContain(`${MARKERS.commands.end}\nmiddle\n`);
    expect(once.endsWith(`${MARKERS.policy.end}\nend\n`)).toBe(true);
    expect(once).toContain(renderCommandsMarkdown());
    expect(once).toContain(renderPolicyMarkdown());
    expect(once).toContain(renderJobsMarkdown());
    expect(once).toContain(renderAnnouncementsMarkdown());
    expect(once).not.toContain("\nold\n");
  });

  it("refuses a README without markers", () => {
    expect(() => updateReadme("no markers here")).toThrow(/markers/);
    expect(() => replaceSection(`${MARKERS.policy.end}${MARKERS.policy.start}`, "policy", "x")).toThrow(/markers/);
  });

  it("escapes prose so that <code> is not read as HTML, and fences code with backticks in it", () => {
    expect(escapeMarkdown("pool join <code>")).toBe("pool join \\<code\\>");
    expect(codeSpan("a `b` c")).toBe("``a `b` c``");
    expect(codeSpan("`x")).toBe("`` `x ``");
  });

  it("keeps every table row to its columns (no stray | in a cell)", () => {
    const columns = (l: string) => l.replace(/\\\|/g, "").split("|").length - 2;
    const rowsOf = (md: string) => md.split("\n").filter((l) => l.startsWith("|"));
    for (const row of rowsOf(renderCommandsMarkdown())) expect(columns(row), row).toBe(3);
    for (const row of rowsOf(renderPolicyMarkdown())) expect(columns(row), row).toBe(5);
  });
});
