// How the Matrix adapter reads a command out of an HTML body: pills become user ids, the quoted
// fallback of a reply is left out, other markup is dropped and entities decoded.
import { describe, expect, it } from "vitest";
import { htmlToCommandText } from "../../adapters/matrix/render.ts";

describe("htmlToCommandText", () => {
  it("GIVEN Element's pill THEN the user id it links to, whatever the shown name", () => {
    expect(htmlToCommandText('!dpool task verify 2 <a href="https://matrix.to/#/@bob:example.org">Bob the Baker</a>')).toBe(
      "!dpool task verify 2 @bob:example.org",
    );
  });

  it("GIVEN a pill with an escaped id and a via parameter THEN the id, decoded", () => {
    expect(htmlToCommandText("!dp pool admin add <a href='https://matrix.to/#/%40bob%3Aexample.org?via=example.org'>Bob</a>")).toBe(
      "!dp pool admin add @bob:example.org",
    );
  });

  it("GIVEN a reply's quoted fallback THEN only what follows it", () => {
    const html =
      '<mx-reply><blockquote><a href="https://matrix.to/#/!room:x/$ev">In reply to</a> <a href="https://matrix.to/#/@carol:x">Carol</a><br>hello</blockquote></mx-reply>!dpool me balance';
    expect(htmlToCommandText(html)).toBe("!dpool me balance");
  });

  it("GIVEN entities, line breaks and formatting THEN plain text", () => {
    expect(htmlToCommandText('!dpool task post bakery <strong>"Flour &amp; salt"</strong><br>hours:2 &lt;3 &#39;x&#x27;')).toBe(
      "!dpool task post bakery \"Flour & salt\" hours:2 <3 'x'",
    );
  });
});
