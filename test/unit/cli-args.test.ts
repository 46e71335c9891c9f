// `dpool exec`'s own options: --at is read strictly, and refused values are echoed cut and escaped.
import { describe, expect, it } from "vitest";
import { parseCliArgs } from "../../src/cli.ts";
import { unsafeChar } from "../../src/core/clean-text.ts";

const parse = (...argv: string[]) => parseCliArgs([...argv, "--", "pool", "info"], {});

describe("dpool exec --at", () => {
  it.each([
    ["2026-11-27T09:00:00Z", "2026-11-27T09:00:00.000Z"],
    ["2026-11-27T09:00+01:00", "2026-11-27T08:00:00.000Z"],
    ["2026-11-27", "2026-11-27T00:00:00.000Z"],
    ["2028-02-29T12:00Z", "2028-02-29T12:00:00.000Z"],
  ])("GIVEN --at %s THEN the moment is %s", (at, iso) => {
    const r = parse("--at", at);
    expect(r.ok && r.opts.at?.toISOString()).toBe(iso);
  });

  it.each([
    ["2026-02-30", "(February 2026 has 28 days)"],
    ["2026-02-30T09:00:00Z", "(February 2026 has 28 days)"],
    ["2026-13-01", "(there is no month 13: months go from 01 to 12)"],
    ["2026-11-27T24:61Z", "(24:61 is not a time of day: hours go from 00 to 23, minutes and seconds from 00 to 59)"],
    ["2026-11-27T09:00", "(a time needs its zone: Z for UTC, or an offset such as +01:00)"],
    ["yesterday", ""],
  ])("GIVEN the impossible --at %s THEN one line showing the format, and why", (at, why) => {
    const r = parse("--at", at);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem).toBe(`--at takes an ISO time such as 2026-11-27T09:00:00Z or a date such as 2026-11-27, not "${at}"${why ? ` ${why}` : ""}`);
  });

  it.each([
    ["--at", `2026\u001b[2J${"9".repeat(100)}`],
    ["--as", "al\u202eice"],
    ["--room", "\u0007lobby"],
    [`--\u001b]0;x\u0007`, "1"],
  ])("GIVEN %s with control or direction characters THEN the refusal shows them escaped, at most 60 characters", (flag, value) => {
    const r = parseCliArgs([flag, value, "--", "pool", "info"], {});
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(unsafeChar(r.problem)).toBeNull();
    expect(r.problem).toMatch(/\\u00(1b|07)|\\u202e/);
    expect(r.problem.length).toBeLessThan(200);
  });
});
