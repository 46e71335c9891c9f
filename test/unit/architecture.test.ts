// Imports point inward: adapters -> commands -> src/services -> src/core; the core and the
// services never touch a platform SDK, the database driver or SQL; only db/ does; no cycles.
// The rules live in .dependency-cruiser.mjs (`npm run arch`, run by .ci/run); these tests run
// them through dependency-cruiser's API, show on a scratch tree that they do catch a breach,
// and check what the tool cannot see (which files read the system clock).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { cruise, type ICruiseResult } from "dependency-cruiser";
import extractDepcruiseOptions from "dependency-cruiser/config-utl/extract-depcruise-options";
import extractTSConfig from "dependency-cruiser/config-utl/extract-ts-config";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..", "..");
/** What `npm run arch` cruises (package.json's script). */
const CRUISED = ["src", "commands", "adapters", "db", "scripts", "bin"];

function files(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** Cruises `dirs` of `base` with the project's rules and `base`'s tsconfig.json. */
async function cruiseWithRules(base: string, dirs: readonly string[]): Promise<ICruiseResult> {
  const options = await extractDepcruiseOptions(join(root, ".dependency-cruiser.mjs"));
  const tsConfig = join(base, "tsconfig.json");
  const out = await cruise([...dirs], { ...options, baseDir: base, tsConfig: { fileName: tsConfig } }, {}, { tsConfig: extractTSConfig(tsConfig) });
  if (typeof out.output === "string") throw new Error("dependency-cruiser answered text, not a cruise result");
  return out.output;
}

const violations = (r: ICruiseResult) =>
  r.summary.violations.map((v) => `${v.rule.name}: ${[v.from, ...(v.cycle?.map((c) => c.name) ?? [v.to])].join(" -> ")}`);

describe("layer rules (dependency-cruiser, .dependency-cruiser.mjs)", () => {
  const scratch = mkdtempSync(join(tmpdir(), "dpool-arch-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("GIVEN the program's code THEN every import resolves (.ts suffixes too) and no rule is broken", async () => {
    const r = await cruiseWithRules(root, CRUISED);
    expect(violations(r)).toEqual([]);
    // Not vacuous: the tool follows `.ts`-suffixed imports to the files they name.
    const pools = r.modules.find((m) => m.source === "src/services/pools.ts");
    expect(pools?.dependencies.map((d) => d.resolved)).toEqual(expect.arrayContaining(["src/core/ledger.ts", "src/result.ts", "src/store.ts"]));
    const repl = r.modules.find((m) => m.source === "adapters/console/repl.ts");
    expect(repl?.dependencies.map((d) => d.resolved)).toEqual(expect.arrayContaining(["commands/dispatch.ts"]));
    expect(r.modules.filter((m) => m.source.startsWith("src/core/")).length).toBeGreaterThan(10);
    expect(r.modules.some((m) => m.couldNotResolve)).toBe(false);
  });

  it("GIVEN a scratch tree where the core imports db/, services import each other and commands reach an adapter THEN each is reported", async () => {
    const put = (path: string, text: string) => {
      mkdirSync(dirname(join(scratch, path)), { recursive: true });
      writeFileSync(join(scratch, path), text);
    };
    put("tsconfig.json", readFileSync(join(root, "tsconfig.json"), "utf8"));
    put("db/client.ts", "export const open = () => 1;\n");
    put("src/core/rule.ts", 'import { open } from "../../db/client.ts";\nexport const rule = () => open();\n');
    put("src/services/a.ts", 'import { b } from "./b.ts";\nimport { rule } from "../core/rule.ts";\nexport const a = (): number => b() + rule();\n');
    put("src/services/b.ts", 'import type { a } from "./a.ts";\nexport const b = (): number => 1;\nexport type A = typeof a;\n');
    put("adapters/console/show.ts", "export const show = (s: string) => s;\n");
    put(
      "commands/run.ts",
      'import { show } from "../adapters/console/show.ts";\nimport { a } from "../src/services/a.ts";\nexport const run = () => show(String(a()));\n',
    );
    const found = violations(await cruiseWithRules(scratch, ["src", "commands", "adapters", "db"]));
    expect(found).toEqual(
      expect.arrayContaining([
        "core-is-pure: src/core/rule.ts -> db/client.ts",
        expect.stringMatching(/^no-circular: src\/services\/(a|b)\.ts -> /),
        "commands-not-outward: commands/run.ts -> adapters/console/show.ts",
      ]),
    );
    expect(found).toHaveLength(3);
  });
});

describe("what the tool cannot see", () => {
  it("GIVEN src/ THEN no function reads the system clock except the clock module and the wiring", () => {
    // The deliverer's leases and retries are about this process, not the pool: wall-clock time.
    const allowed = new Set(["src/clock.ts", "src/cli.ts", "src/main.ts", "src/delivery.ts"]);
    const readers = files("src").filter((f) => !allowed.has(f) && /Date\.now\(\)|new Date\(\)/.test(readFileSync(join(root, f), "utf8")));
    expect(files("src").length).toBeGreaterThan(20);
    expect(readers, "these read the system time").toEqual([]);
  });
});
