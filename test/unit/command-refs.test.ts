// Commands named in replies (doc.cmd), read against the table and written per platform.
import { describe, expect, it } from "vitest";
import { consoleText } from "../../adapters/console/render.ts";
import { docToMarkdown, errorPayload, slashCommandText } from "../../adapters/discord/render.ts";
import { notice } from "../../adapters/matrix/render.ts";
import { commandName } from "../../commands/define.ts";
import { doc, docToText } from "../../commands/doc.ts";
import { commandsInText, readRef, refWords, slashText } from "../../commands/refs.ts";
import { table } from "../../commands/table.ts";
import { parseCommand, usageLine } from "../../commands/text.ts";
import { slashProblem } from "../support/dialects.ts";

describe("command references", () => {
  it("GIVEN references with values, placeholders, quotes and optional parts THEN Discord gets the slash command with option names", () => {
    const cases: Array<[string, string]> = [
      ["task claim 1", "/task claim id:1"],
      ["task claim <id>", "/task claim id:<id>"],
      ["task done 3 hours:<h>", "/task done id:3 hours:<h>"],
      ["task post <project> <title> hours:<estimate>", "/task post project:<project> title:<title> hours:<estimate>"],
      ['goal announce bakery "Bread for 40"', "/goal announce project:bakery text:Bread for 40"],
      ['pool correct 12 "hours were reported twice" confirm', "/pool correct entry:12 reason:hours were reported twice confirm"],
      ["pool announcements <kind> on|off", "/pool announcements kind:<kind> state:on|off"],
      ["me history [limit]", "/me history [limit:<limit>]"],
      [
        "good add <project> <name> [display name] effort:<hours per unit>",
        "/good add project:<project> name:<name> [title:<display name>] effort:<hours per unit>",
      ],
      ["project coordinator add bakery @alice", "/project coordinator add project:bakery member:@alice"],
      ["help task claim", "/help command:task claim"],
      ["help", "/help"],
      ["me", "/me status"],
      ["pool invite", "/pool invite"],
    ];
    for (const [text, slash] of cases) {
      expect(slashCommandText(text), text).toBe(slash);
      expect(slashProblem(slash), slash).toBeUndefined();
    }
  });

  it("GIVEN every command's usage line and examples THEN each reads back as that command and makes a real slash command", () => {
    for (const c of table) {
      for (const text of [usageLine(c), ...(c.examples ?? [])]) {
        const ref = readRef(table, text);
        expect(ref && commandName(ref.command), text).toBe(commandName(c));
        expect(slashProblem(slashText(ref!)), text).toBeUndefined();
      }
    }
  });

  it("GIVEN an example THEN its slash form carries the same values the text parser reads", () => {
    for (const c of table) {
      for (const text of c.examples ?? []) {
        const parsed = parseCommand(table, text);
        if (!parsed.ok) continue; // Members (@alice) and the like need a pool to resolve.
        const ref = readRef(table, text)!;
        for (const part of ref.parts) expect(Object.keys(parsed.values), `${text}: ${part.name}`).toContain(part.name);
      }
    }
  });

  it("GIVEN words of a reference THEN quotes, placeholders and optional parts stay whole", () => {
    expect(refWords('good add <project> <name> [display name] effort:<hours per unit> "a b"')).toEqual([
      "good",
      "add",
      "<project>",
      "<name>",
      "[display name]",
      "effort:<hours per unit>",
      '"a b"',
    ]);
  });

  it("GIVEN text naming no command THEN it is no reference", () => {
    expect(readRef(table, "frobnicate 1")).toBeUndefined();
    expect(readRef(table, "task claim 1 2 3")).toBeUndefined();
  });

  it("GIVEN a line with a command THEN Discord, Matrix, the console and dpool exec each write it their way", () => {
    const d = [doc.line("Volunteers type ", doc.cmd("task claim 7"), ", or see ", doc.code("kind:baking"), ".")];
    expect(docToMarkdown(d)).toBe("Volunteers type `/task claim id:7`, or see `kind:baking`.");
    expect(notice(d).body).toBe("Volunteers type `!dpool task claim 7`, or see `kind:baking`.");
    expect(notice(d).formatted_body).toBe("Volunteers type <code>!dpool task claim 7</code>, or see <code>kind:baking</code>.");
    expect(docToText(d)).toBe("Volunteers type task claim 7, or see kind:baking.");
    expect(consoleText(d, { colour: true })).toBe("Volunteers type \u001b[36mtask claim 7\u001b[39m, or see \u001b[36mkind:baking\u001b[39m.");
  });

  it("GIVEN a refusal that quotes commands THEN Discord writes them as slash commands and Matrix with the prefix; quoted names stay", () => {
    const message = 'you have no slot on task #1: "task claim 1" takes one; there is no good "bred": did you mean "bread"?';
    expect(commandsInText(table, message).filter((p) => p.cmd)).toEqual([{ text: "task claim 1", cmd: true }]);
    expect(errorPayload(message).content).toBe('✗ you have no slot on task #1: `/task claim id:1` takes one; there is no good "bred": did you mean "bread"?');
    const refusal = [doc.line(doc.bad("✗ "), message)];
    expect(notice(refusal).body).toBe('✗ you have no slot on task #1: `!dpool task claim 1` takes one; there is no good "bred": did you mean "bread"?');
    expect(notice(refusal).formatted_body).toContain("<code>!dpool task claim 1</code> takes one");
    // The console and dpool exec keep the words as they are.
    expect(docToText(refusal)).toBe(`✗ ${message}`);
    const usage = 'missing <id> · usage: task claim <id> · ("help task claim" explains it)';
    expect(errorPayload(usage).content).toBe("✗ missing <id> · usage: `/task claim id:<id>` · (`/help command:task claim` explains it)");
    expect(notice([doc.line(doc.bad("✗ "), usage)]).body).toBe("✗ missing <id> · usage: `!dpool task claim <id>` · (`!dpool help task claim` explains it)");
    // In a reply's own lines, quoted words are members' text (a task title), left as typed.
    const title = [doc.line('Posted: #3 Fix "task list" paging')];
    expect(notice(title).body).toBe('Posted: #3 Fix "task list" paging');
    expect(docToMarkdown(title)).toBe('Posted: #3 Fix "task list" paging');
  });

  it("GIVEN muted or strong text with spaces at its ends THEN Discord keeps the spaces outside the marks", () => {
    expect(docToMarkdown([doc.line(doc.muted("Take one with "), doc.cmd("task claim <id>"), doc.muted("."))])).toBe("*Take one with* `/task claim id:<id>`*.*");
  });

  it("GIVEN a long line, a list item and a table THEN a width wraps each at spaces, never inside a command that fits a line", () => {
    const long = "word ".repeat(30).trim();
    const d = [
      doc.line(long, " ", doc.cmd("task post <project> <title> hours:<estimate>")),
      doc.list([[long]]),
      doc.table(["key", "meaning"], [["creditLimit", long]]),
    ];
    const text = docToText(d, undefined, { width: 50 });
    for (const line of text.split("\n")) expect(line.length, line).toBeLessThanOrEqual(50);
    expect(text).toContain("task post <project> <title> hours:<estimate>");
    expect(text).toMatch(/^ {4}word/m); // a list item's next lines are indented under its text
    expect(text).toMatch(/^ {15}word/m); // a table's last column wraps under itself
    expect(docToText(d)).not.toContain("\n  word");
  });
});
