// `npm start` with platforms configured, as a service manager runs it: every way the process
// ends writes one clear line, and the exit code says why (0 only when it was asked to stop).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../src/lifecycle.ts";
import { FakeDiscord, FAKE_IDS } from "../fakes/discord-server.ts";
import { FakeHomeserver } from "../fakes/homeserver.ts";
import { buildOnce, START } from "../support/built.ts";

const root = resolve(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "dpool-lifecycle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(buildOnce, 180_000);
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
});

interface Bot {
  readonly child: ChildProcess;
  /** Resolves with the exit code and everything written to stderr and stdout. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; log: string }>;
  log(): string;
  /** Resolves once the log contains `text`. */
  waitFor(text: string | RegExp, ms?: number): Promise<void>;
}

let n = 0;
function startBot(env: Record<string, string>): Bot {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DISCORD_|MATRIX_|DPOOL_)/.test(k)));
  const child = spawn(process.execPath, [START], {
    cwd: root,
    env: { ...clean, DPOOL_DB: join(dir, `bot-${++n}.sqlite`), DPOOL_LOG_FORMAT: "json", NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (b: Buffer) => (log += b.toString()));
  child.stderr.on("data", (b: Buffer) => (log += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; log: string }>((done) =>
    child.on("exit", (code, signal) => setImmediate(() => done({ code, signal, log }))),
  );
  closers.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  });
  return {
    child,
    exited,
    log: () => log,
    waitFor: (text, ms = 30_000) =>
      new Promise<void>((done, fail) => {
        const deadline = Date.now() + ms;
        const poll = () => {
          if (typeof text === "string" ? log.includes(text) : text.test(log)) return done();
          if (child.exitCode !== null) return fail(new Error(`the bot exited (${child.exitCode}) before logging ${String(text)}:\n${log}`));
          if (Date.now() > deadline) return fail(new Error(`no ${String(text)} in the log after ${ms} ms:\n${log}`));
          setTimeout(poll, 50);
        };
        poll();
      }),
  };
}

/** The JSON log lines at level fatal (60). */
const fatalLines = (log: string) =>
  log
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { level: number; msg: string; exitCode?: number })
    .filter((l) => l.level === 60);

async function fakeDiscord(): Promise<FakeDiscord> {
  const fake = await FakeDiscord.start();
  closers.push(() => fake.close());
  return fake;
}

const discordEnv = (fake: FakeDiscord) => ({ DISCORD_TOKEN: fake.token, DISCORD_APP_ID: FAKE_IDS.application, DISCORD_API_URL: fake.apiBase });

/** A port on 127.0.0.1 where nothing listens. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("how the bot process ends", () => {
  it("GIVEN SIGTERM THEN it stops cleanly with one line and exit code 0", async () => {
    const fake = await fakeDiscord();
    const bot = startBot(discordEnv(fake));
    await bot.waitFor("d-pool is connected to Discord");
    bot.child.kill("SIGTERM");
    const r = await bot.exited;
    expect(r.code, r.log).toBe(EXIT.stopped);
    expect(r.log).toContain("SIGTERM received: stopping");
    expect(fatalLines(r.log)).toEqual([]);
  });

  it("GIVEN Discord closing the gateway with 4004 (the token was reset) THEN one fatal line and exit code 3", async () => {
    const fake = await fakeDiscord();
    const bot = startBot(discordEnv(fake));
    await bot.waitFor("d-pool is connected to Discord");
    fake.resetToken();
    fake.dropConnection(4004);
    const r = await bot.exited;
    expect(r.code, r.log).toBe(EXIT.credentials);
    const fatal = fatalLines(r.log);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.msg).toMatch(/4004|authentication/i);
  });

  it("GIVEN a token Discord refuses at start THEN one fatal line and exit code 3", async () => {
    const fake = await fakeDiscord();
    const bot = startBot({ ...discordEnv(fake), DISCORD_TOKEN: "MTEwMDAwMDAwMDAwMDAwMDAwMA.bad-token-000000000000" });
    const r = await bot.exited;
    expect(r.code, r.log).toBe(EXIT.credentials);
    expect(fatalLines(r.log)).toHaveLength(1);
  });

  it("GIVEN a homeserver that stays unreachable longer than DPOOL_GIVE_UP_AFTER THEN it is retried, then one fatal line and exit code 4", async () => {
    const port = await closedPort();
    const bot = startBot({ MATRIX_HOMESERVER_URL: `http://127.0.0.1:${port}`, MATRIX_ACCESS_TOKEN: "syt_x", DPOOL_GIVE_UP_AFTER: "0.05" });
    const r = await bot.exited;
    expect(r.code, r.log).toBe(EXIT.unreachable);
    expect(r.log).toMatch(/unreachable.*retrying with back-off/);
    expect(fatalLines(r.log)).toHaveLength(1);
    expect(fatalLines(r.log)[0]!.msg).toMatch(/stayed unreachable/);
  });

  it("GIVEN a homeserver that does not know the access token THEN one fatal line and exit code 3", async () => {
    const hs = await FakeHomeserver.start();
    closers.push(() => hs.close());
    const bot = startBot({ MATRIX_HOMESERVER_URL: hs.baseUrl, MATRIX_ACCESS_TOKEN: "syt_not_a_token" });
    const r = await bot.exited;
    expect(r.code, r.log).toBe(EXIT.credentials);
    expect(fatalLines(r.log)).toHaveLength(1);
  });

  it("GIVEN a wrong Matrix password for the first login THEN one fatal line and exit code 3", async () => {
    const hs = await FakeHomeserver.start();
    closers.push(() => hs.close());
    hs.registerUser("dpool", { password: "right-password" });
    const bot = startBot({
      MATRIX_HOMESERVER_URL: hs.baseUrl,
      MATRIX_USER: `@dpool:${hs.serverName}`,
      MATRIX_PASSWORD: "wrong-password",
      DPOOL_DB: join(dir, "login", "bot.sqlite"),
    });
    const r = await bot.exited;
    expect(r.code, r.log).toBe(EXIT.credentials);
    const fatal = fatalLines(r.log);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.msg).toMatch(/refused MATRIX_USER and MATRIX_PASSWORD/);
    expect(r.log).not.toContain("wrong-password");
  });

  it("GIVEN a bad setting THEN one line naming it and exit code 2", async () => {
    const bot = startBot({ DISCORD_TOKEN: "x".repeat(30) });
    const r = await bot.exited;
    expect(r.code, r.log).toBe(EXIT.config);
    expect(fatalLines(r.log).map((l) => l.msg)).toEqual([expect.stringContaining("DISCORD_APP_ID")]);
  });
});
