// Imports point inward: adapters -> commands -> src/services -> src/core. The core and the
// services never touch a platform SDK, the database driver or SQL; only db/ does.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..", "..");

function files(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)].map((m) => {
    const spec = m[1]!;
    return spec.startsWith(".") ? relative(root, resolve(root, file, "..", spec)) : spec;
  });
}

const PLATFORM_OR_DRIVER = /^(discord\.js|@discordjs\/|matrix-bot-sdk|@vector-im\/matrix-bot-sdk|better-sqlite3|drizzle-orm|pg$|node-cron)/;

describe("import direction", () => {
  it("GIVEN a known file THEN the scanner sees its imports (so the checks below are not vacuous)", () => {
    expect(imports("src/services/pools.ts")).toEqual(expect.arrayContaining(["src/core/ledger.ts", "src/result.ts"]));
    expect(imports("adapters/console/repl.ts")).toEqual(expect.arrayContaining(["commands/dispatch.ts", "node:readline"]));
  });

  it("GIVEN src/core THEN it imports only itself and zod", () => {
    for (const f of files("src/core")) {
      for (const i of imports(f)) {
        const ok = i.startsWith("src/core/") || i === "zod";
        expect(ok, `${f} imports ${i}`).toBe(true);
      }
    }
  });

  it("GIVEN src/services and src/*.ts (but the wiring) THEN no commands, adapters, db, SQL driver or platform SDK", () => {
    const wiring = new Set(["src/app.ts", "src/main.ts", "src/cli.ts", "src/cli-data.ts", "src/clockwork.ts", "src/delivery.ts", "src/log.ts", "src/lifecycle.ts"]);
    for (const f of files("src").filter((x) => !wiring.has(x))) {
      for (const i of imports(f)) {
        expect(i.startsWith("commands/") || i.startsWith("adapters/") || i.startsWith("db/") || PLATFORM_OR_DRIVER.test(i), `${f} imports ${i}`).toBe(false);
      }
    }
  });

  it("GIVEN commands/ THEN no adapters, db, driver or platform SDK", () => {
    for (const f of files("commands")) {
      for (const i of imports(f)) {
        expect(i.startsWith("adapters/") || i.startsWith("db/") || PLATFORM_OR_DRIVER.test(i), `${f} imports ${i}`).toBe(false);
      }
    }
  });

  it("GIVEN adapters/ THEN no db or SQL driver", () => {
    for (const f of files("adapters")) {
      for (const i of imports(f)) {
        expect(i.startsWith("db/") || /^(better-sqlite3|drizzle-orm|pg$)/.test(i), `${f} imports ${i}`).toBe(false);
      }
    }
  });

  it("GIVEN src/ THEN no function reads the system clock except the clock module and the wiring", () => {
    // The deliverer's leases and retries are about this process, not the pool: wall-clock time.
    const allowed = new Set(["src/clock.ts", "src/cli.ts", "src/main.ts", "src/delivery.ts"]);
    for (const f of files("src").filter((x) => !allowed.has(x))) {
      const text = readFileSync(join(root, f), "utf8");
      expect(/Date\.now\(\)|new Date\(\)/.test(text), `${f} reads the system time`).toBe(false);
    }
  });
});
