// Every help page (the overview, each group, each command, an unknown word) rendered on every
// platform: within Discord's limits, within 80 console columns, and naming commands in each
// platform's own syntax.
import { describe, expect, it } from "vitest";
import { CONSOLE_WIDTH, consoleText } from "../../adapters/console/render.ts";
import { docToMarkdown, LIMITS, okPayload } from "../../adapters/discord/render.ts";
import { notice } from "../../adapters/matrix/render.ts";
import { commandName } from "../../commands/define.ts";
import { docToText, type Doc } from "../../commands/doc.ts";
import { GROUP_SUMMARIES, groupsOf, helpCommand, type HelpData } from "../../commands/help.ts";
import { UTC_VIEW } from "../../commands/present.ts";
import { table } from "../../commands/table.ts";
import { codeSpans, dialectProblems, slashProblem } from "../support/dialects.ts";

async function help(words: string): Promise<{ data: HelpData; doc: Doc }> {
  const r = await helpCommand.run({} as never, { command: words === "" ? undefined : words }, { table });
  if (!r.ok) throw new Error(`help ${words} failed`);
  return { data: r.value as HelpData, doc: helpCommand.render(r.value, UTC_VIEW) };
}

const groups = groupsOf(table).map((g) => g.group);
const pages = ["", ...groups, ...table.map(commandName), "pool admin", "project coordinator", "nonsense", "projetc frobnicate"];
// biome-ignore lint: ANSI escapes are what is stripped
// eslint-disable-next-line no-control-regex -- ANSI escapes are what is stripped
const ANSI = /\u001b\[[0-9;]*m/g;

describe("help pages", () => {
  it("GIVEN the table THEN every group has a one-line summary, and no summary names a group that is gone", () => {
    expect(Object.keys(GROUP_SUMMARIES).sort()).toEqual([...groups].sort());
    for (const s of Object.values(GROUP_SUMMARIES)) expect(s.length).toBeLessThanOrEqual(70);
  });

  it("GIVEN help alone THEN it is one line per group, and help <group> lists exactly that group's commands", async () => {
    const overview = await help("");
    expect(overview.data).toMatchObject({ topic: "all" });
    const text = consoleText(overview.doc, { colour: false });
    for (const g of groups) expect(text).toMatch(new RegExp(`^  • ${g} — ${GROUP_SUMMARIES[g]!.replace(/[()]/g, "\\$&")}$`, "m"));
    expect(text.split("\n").length).toBeLessThanOrEqual(groups.length + 6);
    // A group that is one command itself (help) is explained as that command.
    for (const g of groups.filter((x) => !table.some((c) => commandName(c) === x))) {
      const page = await help(g);
      expect(page.data.topic).toBe("group");
      const names = table.filter((c) => c.path[0] === g).map(commandName);
      expect(page.data.topic === "group" && page.data.commands.map((c) => c.name)).toEqual(names);
    }
  });

  it(`GIVEN every page THEN the console prints it within ${CONSOLE_WIDTH} columns, with colours too, and without backticks`, async () => {
    expect(pages.length).toBeGreaterThan(table.length + groups.length);
    for (const words of pages) {
      const { doc } = await help(words);
      for (const colour of [false, true]) {
        const text = consoleText(doc, { colour });
        for (const line of text.split("\n")) expect(line.replace(ANSI, "").length, `help ${words}: ${line}`).toBeLessThanOrEqual(CONSOLE_WIDTH);
        if (!colour) expect(dialectProblems("console", text), `help ${words}`).toEqual([]);
      }
      // Wrapping only breaks lines: the words are those of the unwrapped text.
      expect(consoleText(doc, { colour: false }).replace(/\s+/g, " ")).toBe(docToText(doc).replace(/\s+/g, " "));
    }
  });

  it("GIVEN every page THEN its Discord embed fits Discord's limits unclipped, and each command in it is a real slash command", async () => {
    let largest = 0;
    for (const words of pages) {
      const { doc, data } = await help(words);
      const markdown = docToMarkdown(doc);
      largest = Math.max(largest, markdown.length);
      expect(markdown.length, `help ${words}`).toBeLessThanOrEqual(LIMITS.description);
      const payload = okPayload({ def: helpCommand, result: data, view: UTC_VIEW, doc });
      expect(payload.embeds).toHaveLength(1);
      const embed = payload.embeds![0]!;
      expect(embed.description).toBe(markdown);
      const total =
        (embed.title ?? "").length +
        (embed.description ?? "").length +
        (embed.footer?.text ?? "").length +
        (embed.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
      expect(total).toBeLessThanOrEqual(LIMITS.embedTotal);
      expect((embed.title ?? "").length).toBeLessThanOrEqual(LIMITS.embedTitle);
      for (const f of embed.fields ?? []) expect(f.value.length).toBeLessThanOrEqual(LIMITS.fieldValue);
      expect((payload.content ?? "").length).toBeLessThanOrEqual(LIMITS.content);
      expect(dialectProblems("discord", markdown), `help ${words}`).toEqual([]);
      const slashes = codeSpans(markdown).filter((s) => s.startsWith("/"));
      if (words !== "") expect(slashes.length, `help ${words} names commands`).toBeGreaterThan(0);
      for (const s of slashes) expect(slashProblem(s)).toBeUndefined();
    }
    // The old single page was 8,686 characters: the largest page now is well within one embed.
    expect(largest).toBeLessThan(LIMITS.description);
  });

  it("GIVEN every page THEN Matrix shows each command with the prefix, in both bodies", async () => {
    for (const words of pages) {
      const { doc } = await help(words);
      const n = notice(doc);
      expect(dialectProblems("matrix", n.body), `help ${words}`).toEqual([]);
      expect(dialectProblems("matrix", n.formatted_body), `help ${words}`).toEqual([]);
      expect(n.formatted_body).toContain("<code>!dpool ");
      expect(Buffer.byteLength(JSON.stringify(n))).toBeLessThan(65_536);
    }
  });

  it("GIVEN the first words of several commands THEN help lists them as a group", async () => {
    for (const words of ["pool admin", "project coordinator"]) {
      const page = await help(words);
      expect(page.data.topic === "group" && page.data.commands.map((c) => c.name)).toEqual([`${words} add`, `${words} remove`]);
      expect(docToMarkdown(page.doc)).toContain(
        `\`/${words} add member:<@member>\``.replace("project coordinator add", "project coordinator add project:<project>"),
      );
    }
  });

  it("GIVEN help task claim THEN each platform writes its usage its own way", async () => {
    const { doc } = await help("task claim");
    expect(docToMarkdown(doc).split("\n")[0]).toBe("`/task claim id:<id>`");
    expect(notice(doc).body.split("\n")[0]).toBe("`!dpool task claim <id>`");
    expect(consoleText(doc, { colour: false }).split("\n")[0]).toBe("task claim <id>");
    const rooms = await help("pool");
    expect(consoleText(rooms.doc, { colour: false })).toContain("Manage Channels on Discord");
    const join = await help("pool join");
    expect(docToText(join.doc)).toContain("needs the right to manage the room: Manage Channels on Discord");
  });
});
