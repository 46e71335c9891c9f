// docs/economics.md explains every rule of the pool; its generated parts (the policy keys and the
// worked examples) match the code. When the sync test fails, run `npm run docs` and commit
// docs/economics.md.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { POLICY_KEY_NAMES, POLICY_KEYS } from "../../src/core/policy.ts";
import { WEIGHT_ONE } from "../../src/core/weights.ts";
import {
  AUCTION_CASES,
  chargeExamples,
  daysToCap,
  ECONOMICS_FILE,
  ECONOMICS_SECTION_NAMES,
  economicsMarkers,
  findsToFloor,
  headingAnchor,
  KEY_SECTIONS,
  marketSteps,
  policyUnit,
  renderPolicyKeysMarkdown,
  replaceEconomicsSection,
  runAuctionCase,
  staleEconomicsSections,
  updateEconomics,
} from "../../scripts/economics-doc.ts";
import { README_FILE } from "../../scripts/gen-docs.ts";

const doc = readFileSync(ECONOMICS_FILE, "utf8");

/** The headings of the document (any level), as their anchors. */
const anchors = new Set([...doc.matchAll(/^#{1,4} (.+)$/gm)].map((m) => headingAnchor(m[1]!)));

/** The document with every generated section cut out: what was written by hand. */
function handWritten(text: string): string {
  let out = text;
  for (const name of ECONOMICS_SECTION_NAMES) out = replaceEconomicsSection(out, name, "");
  return out;
}

describe("docs/economics.md", () => {
  it("is in sync with POLICY_KEYS and the core's rules (run npm run docs if not)", () => {
    expect(staleEconomicsSections(doc)).toEqual([]);
    expect(doc).toBe(updateEconomics(doc));
  });

  it("lists every policy key with its unit, default, meaning and whose rule it is", () => {
    const table = renderPolicyKeysMarkdown();
    for (const k of POLICY_KEY_NAMES) {
      const row = table.split("\n").find((l) => l.startsWith(`| \`${k}\` |`));
      expect(row, k).toBeDefined();
      expect(row).toContain(`| ${policyUnit(k)} |`);
      expect(row).toContain(POLICY_KEYS[k].ours ? "| ours |" : "| Siefkes' |");
      expect(doc).toContain(row!);
    }
  });

  it("explains every policy key in a section of its own words, and the table links to that section", () => {
    const prose = handWritten(doc);
    for (const k of POLICY_KEY_NAMES) {
      const section = KEY_SECTIONS[k];
      expect(section, `${k} has no section in KEY_SECTIONS (scripts/economics-doc.ts)`).toBeDefined();
      expect(anchors.has(headingAnchor(section!)), `heading "${section}" for ${k}`).toBe(true);
      expect(prose, `${k} is named in the hand-written text`).toContain(`\`${k}\``);
    }
  });

  it("links only to headings that exist", () => {
    const links = [...doc.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(20);
    for (const l of links) expect(anchors.has(l), `#${l}`).toBe(true);
  });

  it("marks rules as Siefkes' or ours throughout", () => {
    const prose = handWritten(doc);
    expect(prose.match(/\(ours\b/g)?.length ?? 0).toBeGreaterThan(15);
    expect(prose.match(/\(Siefkes'/g)?.length ?? 0).toBeGreaterThan(8);
  });

  it("points only to files inside the repository", () => {
    for (const m of doc.matchAll(/`((?:src|test|scripts|commands|db|adapters)\/[\w./-]+\.ts)`/g)) {
      expect(() => readFileSync(new URL(`../../${m[1]}`, import.meta.url)), m[1]).not.toThrow();
    }
    expect(doc).not.toMatch(/MODEL\.md|\/work\/|\.\.\/shared/);
  });
});

describe("the worked examples say what the rules do", () => {
  const W = (w: number) => Math.round(w * WEIGHT_ONE);

  it("GIVEN the default policy THEN a task at 1.00 reaches the cap 4.00 after 15 full days, and the text says so", () => {
    expect(daysToCap(W(1))).toBe(15);
    expect(doc).toContain("1.00 after 15 days");
  });

  it("GIVEN a market at 1.00 and a verified claim at 4.00 THEN 1.75 (the number the market test checks)", () => {
    const steps = marketSteps();
    expect(steps[0]!.weight).toBe(W(1));
    expect(steps[1]!.weight).toBe(W(1.75));
    expect(doc).toContain("moves a market at 1.00 to 1.75");
    expect(findsToFloor(W(1))).toBe(28);
  });

  it("GIVEN 2 cakes of effort 2 and bids 1.8, 1.5, 1.2 THEN 1.8 and 1.5 win at clearing 1.20, 2.40 wh each", () => {
    const r = runAuctionCase(AUCTION_CASES[0]!);
    expect(r.clearing).toBe(W(1.2));
    expect(r.unitCost).toBe(2400);
    expect(r.winners.map((w) => w.member)).toEqual([1, 2]);
    expect(r.losers.map((w) => w.member)).toEqual([3]);
  });

  it("GIVEN one bidder asking for 3 of 2 units THEN their own losing unit sets the price they pay", () => {
    const r = runAuctionCase(AUCTION_CASES[1]!);
    expect(r.clearing).toBe(W(1.8));
    expect(r.winners).toEqual([{ request: 1, member: 1, units: 2 }]);
  });

  it("GIVEN a winner who cannot pay THEN they are skipped and the price falls to 1.00", () => {
    const r = runAuctionCase(AUCTION_CASES[3]!);
    expect(r.skipped.map((s) => s.member)).toEqual([2]);
    expect(r.clearing).toBe(WEIGHT_ONE);
  });

  it("GIVEN the charge examples THEN each is rounded once and none with an effort is free", () => {
    const results = chargeExamples().map((e) => e.computed);
    expect(results).toEqual([
      "2.662 wh credited",
      "refused: more than the cap of 4 h without hours: from the verifier",
      "6.00 wh",
      "1.50 wh (not 1000 x 0.002)",
      "0.015 wh (not 10 x 0.002)",
      "0.001 wh: never free",
      "allowed: yes",
      "allowed: no",
      "allowed: yes",
      "allowed: yes",
    ]);
  });
});

describe("economics-doc generator", () => {
  it("is idempotent and leaves the text outside the markers alone", () => {
    const text = ["intro", ...ECONOMICS_SECTION_NAMES.map((n) => `${economicsMarkers(n).start}\nold\n${economicsMarkers(n).end}`), "end", ""].join("\n");
    const once = updateEconomics(text);
    expect(updateEconomics(once)).toBe(once);
    expect(once.startsWith("intro\n")).toBe(true);
    expect(once.endsWith("\nend\n")).toBe(true);
    expect(once).not.toContain("\nold\n");
    expect(once).toContain(renderPolicyKeysMarkdown());
  });

  it("GIVEN a default changed in the document by hand THEN the policy-keys section is reported stale", () => {
    const edited = doc.replace("| `weightCap` | multiplier (1.00 = plain hours) | `4.00` |", "| `weightCap` | multiplier (1.00 = plain hours) | `5.00` |");
    expect(edited).not.toBe(doc);
    expect(staleEconomicsSections(edited)).toEqual(["policy-keys"]);
  });

  it("refuses a document without markers, or with one twice", () => {
    expect(() => updateEconomics("no markers here")).toThrow(/markers/);
    const { start, end } = economicsMarkers("charges");
    expect(() => replaceEconomicsSection(`${start}${end}${start}${end}`, "charges", "x")).toThrow(/twice/);
  });

  it("makes GitHub's anchors", () => {
    expect(headingAnchor("How a kind's market weight moves")).toBe("how-a-kinds-market-weight-moves");
    expect(headingAnchor("Scarce goods: rounds and the auction")).toBe("scarce-goods-rounds-and-the-auction");
    expect(headingAnchor("Siefkes' rules and ours at a glance")).toBe("siefkes-rules-and-ours-at-a-glance");
  });
});

describe("README.md", () => {
  it("links docs/economics.md where it explains the economics", () => {
    const readme = readFileSync(README_FILE, "utf8");
    const model = readme.slice(readme.indexOf("## The model in plain words"), readme.indexOf("## Command reference"));
    expect(model).toContain("](docs/economics.md");
  });
});
