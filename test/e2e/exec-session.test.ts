// A scripted session through the real `dpool exec`, as a script or a newcomer would run it, on
// the SQLite file or (the "postgres" test project) on a PostgreSQL database named by
// DPOOL_DATABASE_URL. The first command goes through npx, as the README shows; the others run
// bin/dpool.js (what npx runs, package.json's "bin") with node directly: npx itself takes over a
// second to start, which made this file one of the suite's slowest.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOnce, DPOOL } from "../support/built.ts";
import { testDatabaseSpot, type TestDatabaseSpot } from "../support/test-app.ts";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "dpool-exec-"));
const db = join(dir, "pool.sqlite");
let spot: TestDatabaseSpot;
beforeAll(async () => {
  buildOnce();
  spot = await testDatabaseSpot(db);
}, 180_000);
afterAll(async () => {
  await spot.drop();
  rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function dpool(args: string[], o: { npx?: boolean } = {}): Promise<Outcome> {
  const [file, before] = o.npx ? ["npx", ["--no-install", "dpool"]] : [process.execPath, [DPOOL]];
  try {
    const r = await run(file, [...before, "exec", "--db", db, ...args], {
      cwd: root,
      env: { ...process.env, DPOOL_DATABASE_URL: "", NO_COLOR: "1", ...spot.env },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

async function json(as: string, room: string, ...command: string[]) {
  return jsonOf(await dpool(["--as", as, "--room", room, "--at", "2026-11-27T10:00:00Z", "--json", "--", ...command]));
}

function jsonOf(r: Outcome) {
  return { code: r.code, body: JSON.parse(r.stdout) };
}

describe("dpool exec", () => {
  // Ten one-shot processes, each starting node and loading the program: beside two busy cores
  // this took over a minute. The timeout only guards against a hang.
  it(
    "GIVEN a fresh database THEN a scripted session builds a pool with two projects, a goal and linked identities, and the audit balances",
    { timeout: 300_000 },
    async () => {
      const created = jsonOf(
        await dpool(["--as", "admin", "--room", "lobby", "--at", "2026-11-27T10:00:00Z", "--json", "--", "pool", "create", "Riverside commons"], { npx: true }),
      );
      expect(created).toEqual({ code: 0, body: expect.objectContaining({ ok: true, command: "pool create" }) });

      const bakery = await json("alice", "lobby", "project", "create", "bakery", "The Bakery");
      expect(bakery.body.data.project.slug).toBe("bakery");
      const bikes = await json("bob", "lobby", 'project create bikes "Bike Workshop"');
      expect(bikes.body.data.project).toMatchObject({ slug: "bikes", name: "Bike Workshop" });

      const info = await json("carol", "lobby", "pool", "info");
      expect(info.body.data.commons).toBe(0);
      expect(info.body.data.projects.map((p: { slug: string; coordinators: string[] }) => [p.slug, p.coordinators])).toEqual([
        ["bakery", ["alice"]],
        ["bikes", ["bob"]],
      ]);

      const refused = await json("bob", "lobby", "goal", "announce", "bakery", "Not my project");
      expect(refused).toEqual({
        code: 1,
        body: { ok: false, error: { code: "forbidden", message: expect.stringMatching(/^only a coordinator of bakery can do that/) } },
      });

      const goal = await json("alice", "lobby", "goal", "announce", "bakery", "Bread for 40 households");
      expect(goal.body.data.goal).toEqual({ id: 1, project: "bakery", text: "Bread for 40 households", status: "open" });

      const link = await json("alice", "lobby", "me", "link");
      expect(link.body.data.code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
      const linked = await json("alice-matrix", "garden", "me", "link", link.body.data.code);
      expect(linked.body.data).toMatchObject({ member: "alice", merged: "alice-matrix" });
      expect(linked.body.data.identities).toEqual([
        { platform: "console", id: "alice" },
        { platform: "console", id: "alice-matrix" },
      ]);

      const balance = await json("alice-matrix", "lobby", "me", "balance");
      expect(balance.body).toMatchObject({ ok: true, command: "me balance", data: { balance: 0, creditLimit: 10, available: 10 } });

      const audit = await json("carol", "lobby", "pool", "audit");
      expect(audit.body.data).toMatchObject({ balanced: true, sum: 0 });
      expect(audit.body.text).toMatch(/^Balanced\. Checked \d+ accounts/);
    },
  );

  it("GIVEN no --json THEN the reply is the text a chat user sees, and exit codes tell ok, refused and usage apart", async () => {
    const ok = await dpool(["--as", "carol", "--", "pool", "audit"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^Balanced\./);
    const refused = await dpool(["--as", "carol", "--", "pool", "invite"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/only a pool admin can do that/);
    const usage = await dpool(["--", "pool", "creat", "x"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/did you mean "pool create"\?/);
    const badFlag = await dpool(["--at", "yesterday", "--", "pool", "info"]);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--at takes an ISO time/);
    const badFlagJson = await dpool(["--json", "--at", "soon", "--", "pool", "info"]);
    expect(badFlagJson.code).toBe(2);
    expect(JSON.parse(badFlagJson.stdout)).toEqual({ ok: false, error: { code: "usage", message: expect.stringContaining("--at takes an ISO time") } });
    const usageJson = await dpool(["--json", "--", "me", "history", "lots"]);
    expect(usageJson.code).toBe(2);
    expect(JSON.parse(usageJson.stdout)).toEqual({ ok: false, error: { code: "usage", message: expect.stringContaining("limit must be a whole number") } });
  });

  it("GIVEN --request-id THEN a replay returns the first answer", async () => {
    const a = await dpool(["--json", "--request-id", "console:fixed-1", "--", "pool", "invite"]);
    const b = await dpool(["--json", "--request-id", "console:fixed-1", "--", "pool", "invite"]);
    expect(JSON.parse(b.stdout).data).toEqual(JSON.parse(a.stdout).data);
    expect(JSON.parse(b.stdout).replayed).toBe(true);
  });

  it("GIVEN an admin's --request-id THEN a stranger reusing it gets no invite or link code back, is refused, and nothing changes", async () => {
    const invite = JSON.parse((await dpool(["--json", "--request-id", "console:admin-invite", "--", "pool", "invite"])).stdout);
    const link = JSON.parse((await dpool(["--json", "--request-id", "console:admin-link", "--", "me", "link"])).stdout);
    expect([invite.ok, link.ok]).toEqual([true, true]);
    const membersBefore = JSON.parse((await dpool(["--json", "--", "pool", "members"])).stdout).data;
    for (const [id, command] of [
      ["console:admin-invite", ["pool", "invite"]],
      ["console:admin-link", ["me", "link"]],
      ["console:admin-link", ["pool", "info"]],
    ] as const) {
      const r = await dpool(["--as", "mallory", "--json", "--request-id", id, "--", ...command]);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toEqual({ ok: false, error: { code: "request_reused", message: "that request id was already used for another command" } });
      expect(r.stdout).not.toContain(invite.data.code);
      expect(r.stdout).not.toContain(link.data.code);
    }
    // The admin's own replay still works; the other command under the same id does not.
    expect(JSON.parse((await dpool(["--json", "--request-id", "console:admin-link", "--", "me", "link"])).stdout)).toMatchObject({
      ok: true,
      replayed: true,
      data: { code: link.data.code },
    });
    expect(JSON.parse((await dpool(["--json", "--request-id", "console:admin-link", "--", "pool", "invite"])).stdout).error.code).toBe("request_reused");
    expect(JSON.parse((await dpool(["--json", "--", "pool", "members"])).stdout).data).toEqual(membersBefore);
  }, 180_000); // nine processes through npx: about 1 s each, several on a busy machine
});
