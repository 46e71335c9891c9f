import { describe, expect, it } from "vitest";
import { discordConfig } from "../../adapters/discord/config.ts";
import { matrixConfig } from "../../adapters/matrix/config.ts";
import { docToHtml, notice } from "../../adapters/matrix/render.ts";
import { doc } from "../../commands/doc.ts";

describe("platform configuration gives one clear line", () => {
  it.each([
    [{}, null],
    [
      { MATRIX_HOMESERVER_URL: "https://m.example.org/", MATRIX_ACCESS_TOKEN: "syt_x" },
      { homeserverUrl: "https://m.example.org", accessToken: "syt_x", inviteServers: [] },
    ],
    [
      { MATRIX_HOMESERVER_URL: "https://m.example.org", MATRIX_USER: "@bot:m.example.org", MATRIX_PASSWORD: "pw", MATRIX_INVITE_SERVERS: "A.org, b.org" },
      { user: "@bot:m.example.org", password: "pw", inviteServers: ["a.org", "b.org"] },
    ],
  ])("GIVEN %j THEN %j", (env, expected) => {
    const r = matrixConfig(env);
    expect(r.ok).toBe(true);
    if (r.ok) {
      if (expected === null) expect(r.value).toBeNull();
      else expect(r.value).toMatchObject(expected);
    }
  });

  it.each([
    [{ MATRIX_ACCESS_TOKEN: "syt_x" }, /MATRIX_HOMESERVER_URL is missing/],
    [{ MATRIX_HOMESERVER_URL: "matrix.example.org", MATRIX_ACCESS_TOKEN: "x" }, /must be an http\(s\) URL/],
    [{ MATRIX_HOMESERVER_URL: "https://m.example.org", MATRIX_USER: "@bot:m.example.org" }, /needs MATRIX_ACCESS_TOKEN, or MATRIX_USER and MATRIX_PASSWORD/],
  ])("GIVEN %j THEN refused with %s", (env, pattern) => {
    const r = matrixConfig(env);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(pattern);
  });

  it.each([
    [{ DISCORD_TOKEN: "x".repeat(40) }, /DISCORD_APP_ID is not/],
    [{ DISCORD_APP_ID: "123456789012345678" }, /DISCORD_TOKEN is not/],
    [{ DISCORD_TOKEN: "x".repeat(40), DISCORD_APP_ID: "my-app" }, /numeric id/],
    [{ DISCORD_TOKEN: "short", DISCORD_APP_ID: "123456789012345678" }, /does not look like a bot token/],
    [{ DISCORD_TOKEN: "x".repeat(40), DISCORD_APP_ID: "123456789012345678", DISCORD_API_URL: "localhost:8080" }, /http\(s\) URL/],
    [
      { DISCORD_TOKEN: "x".repeat(40), DISCORD_APP_ID: "123456789012345678", DPOOL_DELIVERY_LEASE_MS: "1.5 s" },
      /^DPOOL_DELIVERY_LEASE_MS must be a whole number of at least 100\.$/,
    ],
    [
      { DISCORD_TOKEN: "x".repeat(40), DISCORD_APP_ID: "123456789012345678", DPOOL_DELIVERY_POLL_MS: "10" },
      /^DPOOL_DELIVERY_POLL_MS must be a whole number of at least 50\.$/,
    ],
  ])("GIVEN Discord settings %j THEN refused with %s", (env, pattern) => {
    const r = discordConfig(env);
    expect(!r.ok && r.error).toMatch(pattern);
  });

  it("GIVEN the delivery settings THEN Discord and Matrix both take them; unset, each keeps its own default (no value here)", () => {
    const delivery = { DPOOL_DELIVERY_LEASE_MS: "1500", DPOOL_DELIVERY_POLL_MS: "200" };
    const discord = { DISCORD_TOKEN: "x".repeat(40), DISCORD_APP_ID: "123456789012345678" };
    const matrix = { MATRIX_HOMESERVER_URL: "https://m.example.org", MATRIX_ACCESS_TOKEN: "syt_x" };
    expect(discordConfig({ ...discord, ...delivery })).toMatchObject({ ok: true, value: { leaseMs: 1500, pollMs: 200 } });
    expect(matrixConfig({ ...matrix, ...delivery })).toMatchObject({ ok: true, value: { leaseMs: 1500, pollMs: 200 } });
    const plain = discordConfig(discord);
    const value = plain.ok ? plain.value : null;
    expect(value && Object.keys(value).filter((k) => k === "leaseMs" || k === "pollMs")).toEqual([]);
    expect(matrixConfig({ ...matrix, DPOOL_DELIVERY_LEASE_MS: "50" })).toEqual({
      ok: false,
      error: "DPOOL_DELIVERY_LEASE_MS must be a whole number of at least 100.",
    });
  });
});

describe("Matrix rendering", () => {
  it("GIVEN a document THEN the notice has an HTML and a plain body, escaped", () => {
    const n = notice([doc.line("a <b> & ", doc.strong("bold"), " ", doc.code("!dpool help"))], "$ev");
    expect(n.formatted_body).toBe("a &lt;b&gt; &amp; <strong>bold</strong> <code>!dpool help</code>");
    expect(n.body).toBe("a <b> & bold `!dpool help`");
    expect(n["m.relates_to"]).toEqual({ "m.in_reply_to": { event_id: "$ev" } });
  });
  it("GIVEN a table THEN it is an HTML table", () => {
    expect(docToHtml([doc.line("x"), doc.table(["a"], [["1"]])])).toBe("x<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>");
  });
});
