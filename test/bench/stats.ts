// Figures of a series of timed operations: wall time and CPU time per operation.
import { performance } from "node:perf_hooks";
import { mulberry32 } from "../../src/core/random.ts";

export interface Series {
  readonly count: number;
  /** Operations per second of wall time, one after the other. */
  readonly perSec: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** CPU time (user + system) of this process per operation. */
  readonly cpuMs: number;
}

export interface Sample {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Times one call: wall clock and this process's CPU (process.cpuUsage). */
export async function timed<T>(fn: () => T | Promise<T>): Promise<{ value: T } & Sample> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, wallMs, cpuMs: (c.user + c.system) / 1000 };
}

export function series(samples: readonly Sample[]): Series {
  const walls = samples.map((s) => s.wallMs).sort((a, b) => a - b);
  const n = walls.length;
  const total = walls.reduce((a, b) => a + b, 0);
  const cpu = samples.reduce((a, s) => a + s.cpuMs, 0);
  const pct = (p: number) => (n === 0 ? 0 : walls[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)]!);
  return {
    count: n,
    perSec: n === 0 || total === 0 ? 0 : n / (total / 1000),
    meanMs: n === 0 ? 0 : total / n,
    p50Ms: pct(50),
    p99Ms: pct(99),
    maxMs: n === 0 ? 0 : walls[n - 1]!,
    cpuMs: n === 0 ? 0 : cpu / n,
  };
}

/** A deterministic generator for the bench's choices. */
export const seeded = mulberry32;
