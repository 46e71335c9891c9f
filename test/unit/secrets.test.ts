// Secrets never printed: configuration errors name the variable and the rule, never the value;
// log lines scrub tokens and passwords from messages, stacks, URLs and bodies; files holding
// tokens are readable by the bot's user only.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { MatrixError } from "@vector-im/matrix-bot-sdk";
import { afterEach, describe, expect, it } from "vitest";
import { discordConfig } from "../../adapters/discord/config.ts";
import { Inbox } from "../../adapters/discord/inbox.ts";
import { matrixConfig } from "../../adapters/matrix/config.ts";
import { StateFile } from "../../adapters/matrix/state.ts";
import { loggerFromEnv, memoryLogger } from "../../src/log.ts";
import { keepPrivate, scrubSecrets } from "../../src/secrets.ts";

const DISCORD_TOKEN = "MTQ4NjIyNDgzNDcxOTI1MjQ4Mz.GqX9zK.ZnCjm1XVW7vRze4b7Cq4se7kKWsPjQ8hYtRw";
const MATRIX_TOKEN = "syt_ZHBvb2w_QmVmWnRzUkJxTHpYaWdPbg_2kHq8v";
const PASSWORD = 'correct horse "battery" staple';

/** Every run of 5 characters of the value: none may appear in the text. */
function leaks(text: string, value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 5 <= value.length; i++) if (text.includes(value.slice(i, i + 5))) out.push(value.slice(i, i + 5));
  return out;
}

describe("configuration errors never show the value", () => {
  const base = { DISCORD_TOKEN, DISCORD_APP_ID: "123456789012345678" };
  const mx = { MATRIX_HOMESERVER_URL: "https://m.example.org", MATRIX_ACCESS_TOKEN: MATRIX_TOKEN };
  it.each([
    [
      "DISCORD_APP_ID holds the bot token",
      "discord",
      { ...base, DISCORD_APP_ID: DISCORD_TOKEN },
      DISCORD_TOKEN,
      /^DISCORD_APP_ID must be the application's numeric id .*is the bot token in it\?/,
    ],
    [
      "DISCORD_GUILD_ID holds the bot token",
      "discord",
      { ...base, DISCORD_GUILD_ID: DISCORD_TOKEN },
      DISCORD_TOKEN,
      /^DISCORD_GUILD_ID must be a server's numeric id/,
    ],
    ["DISCORD_API_URL holds the bot token", "discord", { ...base, DISCORD_API_URL: DISCORD_TOKEN }, DISCORD_TOKEN, /^DISCORD_API_URL must be an http\(s\) URL/],
    [
      "DISCORD_TOKEN is garbled",
      "discord",
      { ...base, DISCORD_TOKEN: "Bot 9f8e7d6c5b4a" },
      "Bot 9f8e7d6c5b4a",
      /^DISCORD_TOKEN does not look like a bot token/,
    ],
    [
      "MATRIX_HOMESERVER_URL holds the access token",
      "matrix",
      { ...mx, MATRIX_HOMESERVER_URL: MATRIX_TOKEN },
      MATRIX_TOKEN,
      /^MATRIX_HOMESERVER_URL must be an http\(s\) URL/,
    ],
    [
      "MATRIX_HOMESERVER_URL has the token in its query",
      "matrix",
      { ...mx, MATRIX_HOMESERVER_URL: `https://m.example.org/?access_token=${MATRIX_TOKEN} x` },
      MATRIX_TOKEN,
      /^MATRIX_HOMESERVER_URL must be an http\(s\) URL/,
    ],
    ["MATRIX_USER holds the password", "matrix", { ...mx, MATRIX_USER: PASSWORD, MATRIX_PASSWORD: "pw" }, PASSWORD, /^MATRIX_USER must be a user name or id/],
    [
      "MATRIX_SYNC_TIMEOUT_MS holds the access token",
      "matrix",
      { ...mx, MATRIX_SYNC_TIMEOUT_MS: MATRIX_TOKEN },
      MATRIX_TOKEN,
      /^MATRIX_SYNC_TIMEOUT_MS must be a whole number of at least 0\.$/,
    ],
    [
      "MATRIX_TIMELINE_LIMIT holds the password",
      "matrix",
      { ...mx, MATRIX_TIMELINE_LIMIT: PASSWORD },
      PASSWORD,
      /^MATRIX_TIMELINE_LIMIT must be a whole number of at least 1\.$/,
    ],
  ])("GIVEN %s THEN the error names the variable and the rule, and no 5 characters of the value", (_name, which, env, value, rule) => {
    const r = which === "discord" ? discordConfig(env) : matrixConfig(env);
    expect(r.ok).toBe(false);
    const error = r.ok ? "" : r.error;
    expect(error).toMatch(rule);
    expect(leaks(error, value)).toEqual([]);
  });
});

describe("log lines scrub secrets", () => {
  it.each([
    ["a Bearer header", "GET /sync failed: Authorization: Bearer syt_abc_DEFghiJKL_123 refused", "GET /sync failed: Authorization: Bearer [redacted] refused"],
    ["a Matrix token", `token ${MATRIX_TOKEN} is unknown`, "token [redacted] is unknown"],
    ["a Discord bot token", `login with ${DISCORD_TOKEN} failed`, "login with [redacted] failed"],
    ["a Bot header", "Authorization: Bot abcdefghijklmnop", "Authorization: Bot [redacted]"],
    [
      "access_token in a URL",
      "https://m.example.org/_matrix/client/v3/sync?since=s1&access_token=abc123def456&timeout=0",
      "https://m.example.org/_matrix/client/v3/sync?since=s1&access_token=[redacted]&timeout=0",
    ],
    [
      "a password in a JSON body",
      '{"type":"m.login.password","user":"dpool","password":"hunter2 \\"x\\""}',
      '{"type":"m.login.password","user":"dpool","password":"[redacted]"}',
    ],
    ["a token in an escaped JSON body", 'body: "{\\"access_token\\":\\"abc123def456\\"}"', 'body: "{\\"access_token\\":\\"[redacted]\\"}"'],
    [
      "an interaction token in a webhook URL",
      "PATCH /api/v10/webhooks/123456789012345678/aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEy/messages/@original",
      "PATCH /api/v10/webhooks/123456789012345678/[redacted]/messages/@original",
    ],
    ["plain text", "room !abc:m.example.org is gone (M_FORBIDDEN)", "room !abc:m.example.org is gone (M_FORBIDDEN)"],
  ])("GIVEN %s THEN scrubbed", (_name, text, expected) => {
    expect(scrubSecrets(text)).toBe(expected);
  });

  it("GIVEN a homeserver error with a token in its message, stack, URL and body THEN the logged line holds none of it", () => {
    const { logger, lines } = memoryLogger();
    const e = new MatrixError({ errcode: "M_UNKNOWN", error: `proxy said: GET /_matrix/client/v3/sync?access_token=${MATRIX_TOKEN} failed` }, 502);
    Object.assign(e, {
      headers: { authorization: `Bearer ${MATRIX_TOKEN}` },
      request: { url: `https://m.example.org/_matrix/client/v3/sync?access_token=${MATRIX_TOKEN}` },
    });
    logger.error({ err: e, reason: e.message, password: PASSWORD }, `the homeserver failed: ${e.message}`);
    const line = JSON.stringify(lines);
    expect(leaks(line, MATRIX_TOKEN)).toEqual([]);
    expect(leaks(line, PASSWORD)).toEqual([]);
    expect(lines[0]).toMatchObject({ level: "error", password: "[redacted]" });
    expect(lines[0]!.msg).toContain("access_token=[redacted]");
    expect((lines[0]!.err as { stack: string }).stack).toContain("access_token=[redacted]");
  });

  it("GIVEN the configured token and password THEN they are blanked anywhere in a line, in JSON and in pretty lines", () => {
    for (const format of ["json", "pretty"]) {
      let out = "";
      const destination = new Writable({
        write(chunk: Buffer, _enc, done) {
          out += chunk.toString("utf8");
          done();
        },
      });
      const env = { DPOOL_LOG_FORMAT: format, MATRIX_PASSWORD: PASSWORD, DISCORD_TOKEN: "plain-looking-secret-1234" };
      const logger = loggerFromEnv(env, { destination });
      logger.warn({ detail: { nested: `x ${PASSWORD} y` } }, "the gateway said plain-looking-secret-1234 was wrong");
      logger.error(new Error(`login as dpool with ${PASSWORD} refused`), "could not log in");
      expect(out).toContain("could not log in");
      expect(leaks(out, PASSWORD)).toEqual([]);
      expect(out).not.toContain("plain-looking-secret-1234");
    }
  });
});

describe("files holding tokens are private", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const mode = (file: string) => statSync(file).mode & 0o777;

  it("GIVEN a new Matrix state file THEN it is written 0600; an existing 0644 one is tightened at start with one line", () => {
    dir = mkdtempSync(join(tmpdir(), "dpool-secrets-"));
    const fresh = join(dir, "a", "matrix-state.json");
    const { logger, lines } = memoryLogger();
    new StateFile(fresh, { logger }).storeValue("dpool.accessToken", MATRIX_TOKEN);
    expect(mode(fresh)).toBe(0o600);
    expect(lines).toEqual([]);

    const old = join(dir, "matrix-state.json");
    writeFileSync(old, JSON.stringify({ kvStore: { "dpool.accessToken": MATRIX_TOKEN } }), { mode: 0o644 });
    expect(mode(old)).toBe(0o644);
    const s = new StateFile(old, { logger });
    expect(mode(old)).toBe(0o600);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "warn",
        file: old,
        mode: "0644",
        msg: `${old} was readable by other users (mode 0644); it holds tokens, so it is now readable by the bot's user only (0600)`,
      }),
    ]);
    s.setSyncToken("s2");
    expect(mode(old)).toBe(0o600);
    new StateFile(old, { logger });
    expect(lines).toHaveLength(1);
  });

  it("GIVEN a temporary state file left 0644 by a crash THEN the next write is still 0600", () => {
    dir = mkdtempSync(join(tmpdir(), "dpool-secrets-"));
    const file = join(dir, "matrix-state.json");
    writeFileSync(`${file}.${process.pid}.tmp`, "{}", { mode: 0o644 });
    new StateFile(file).setSyncToken("s1");
    expect(mode(file)).toBe(0o600);
  });

  it("GIVEN the Discord interaction inbox THEN created 0600, an existing 0644 one tightened with one line, compaction keeps 0600", () => {
    dir = mkdtempSync(join(tmpdir(), "dpool-secrets-"));
    const file = join(dir, "dpool.sqlite.discord-inbox");
    const { logger, lines } = memoryLogger();
    const entry = {
      target: { interaction: "1", token: "interaction-token", at: Date.now() },
      caller: { platform: "discord", userId: "u", displayName: "u", roomId: "r" },
      now: Date.now(),
      plan: { text: "me balance" },
    };
    new Inbox(file, { logger }).record(entry as never);
    expect(mode(file)).toBe(0o600);
    expect(lines).toEqual([]);

    const old = join(dir, "old.discord-inbox");
    writeFileSync(old, `${JSON.stringify(entry)}\n`, { mode: 0o644 });
    const inbox = new Inbox(old, { logger });
    expect(mode(old)).toBe(0o600);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "warn",
        file: old,
        mode: "0644",
        msg: expect.stringMatching(/old\.discord-inbox was readable by other users \(mode 0644\)/),
      }),
    ]);
    writeFileSync(`${old}.tmp-${process.pid}`, "", { mode: 0o644 });
    expect(inbox.compact(Date.now())).toHaveLength(1);
    expect(mode(old)).toBe(0o600);
    expect(readFileSync(old, "utf8")).toContain("interaction-token");
  });

  it("GIVEN keepPrivate THEN it reports the wider mode it changed, and nothing for a private or missing file", () => {
    dir = mkdtempSync(join(tmpdir(), "dpool-secrets-"));
    const file = join(dir, "f");
    expect(keepPrivate(file)).toBeNull();
    writeFileSync(file, "x", { mode: 0o640 });
    expect(keepPrivate(file)).toBe(0o640);
    expect(keepPrivate(file)).toBeNull();
    expect(mode(file)).toBe(0o600);
  });
});
