// The repository explains itself: no code, test or script cites a file outside it (a model
// document, a shared folder beside the checkout). The rules of the pool are explained in
// docs/economics.md, and that is where comments point.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..", "..");
const DIRS = ["src", "commands", "adapters", "db", "test", "scripts", "bin"];
const TEXT = /\.(ts|js|mjs|cjs|json|sql|md|txt)$/;

function files(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules") return [];
    return statSync(join(root, path)).isDirectory() ? files(path) : TEXT.test(name) ? [path] : [];
  });
}

// Built from pieces, so that this file does not match itself.
const OUTSIDE: ReadonlyArray<readonly [RegExp, string]> = [
  [new RegExp(["MODEL", "md"].join("\\."), "i"), "a model document outside the repository (docs/economics.md explains the model)"],
  [new RegExp(["\\.\\.", "shared"].join("/")), "a shared folder beside the checkout"],
  [new RegExp(["", "work", ""].join("/")), "a path of the machine the project was written on"],
  [new RegExp(["\\bSTACK", "md\\b"].join("\\.")), "a stack document outside the repository"],
];

/** Every reference to something outside the repository in one text, as "line: why". */
function outsideReferences(text: string): string[] {
  return text.split("\n").flatMap((line, i) => OUTSIDE.filter(([re]) => re.test(line)).map(([, why]) => `${i + 1}: ${why}`));
}

describe("the repository is self-contained", () => {
  it("GIVEN lines citing outside files THEN the scanner finds each (so the check below is not vacuous)", () => {
    const cited = [
      `// see ${["MODEL", "md"].join(".")}, "Goods"`,
      `import x from "${["..", "shared", "x.ts"].join("/")}";`,
      `// ${["", "work", "shared", "STACK"].join("/")}.md`,
    ];
    for (const line of cited) expect(outsideReferences(line), line).not.toEqual([]);
    expect(outsideReferences('// docs/economics.md, "Scarce goods: rounds and the auction"')).toEqual([]);
    expect(outsideReferences('const MODELS = ["per-unit", "flat-rate"] as const;')).toEqual([]);
  });

  it("GIVEN src, commands, adapters, db, test, scripts and bin THEN no file points outside the repository", () => {
    const all = DIRS.flatMap((d) => files(d));
    expect(all.length).toBeGreaterThan(100);
    expect(all).toContain(join("src", "core", "auction.ts"));
    const found = all.flatMap((f) => outsideReferences(readFileSync(join(root, f), "utf8")).map((r) => `${f}:${r}`));
    expect(found).toEqual([]);
  });
});
