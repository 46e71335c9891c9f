// The bench's figures and the tables (Markdown) printed from them: one column per size, a table
// for SQLite and, when the run had a PostgreSQL server, one for PostgreSQL.
import type { Sample, Series } from "./stats.ts";

/** The figures of one size on one store (test/bench/size.ts writes them step by step). */
export interface SizeFigures {
  /** The store measured: SQLite unless said (results files before PostgreSQL was measured say nothing). */
  store?: "sqlite" | "postgres";
  scale: number;
  shape: { projects: number; members: number; tasks: number; openTasks: number; entries: number; goods: number };
  rows: Readonly<Record<string, number>>;
  generate: { wallMs: number; cpuMs: number };
  fileBytes: number;
  bytesPerEntry: number;
  openMs?: number;
  cheapest?: { write: Series; read: Series };
  mix?: { commands: Record<string, Series>; reads: Series; writes: Series; all: Series; refused: string[] };
  ratios?: {
    writesVsCheapestWrite: number;
    meBalanceVsCheapestRead: number;
    writesCpuVsCheapestWrite: number;
    meBalanceCpuVsCheapestRead: number;
    /** `me balance` answered as on Discord (not stored); the two above are as on Matrix. */
    meBalanceDiscordVsCheapestRead?: number;
    meBalanceDiscordCpuVsCheapestRead?: number;
  };
  single?: Record<string, Sample & { runs: number; ok: boolean; message?: string }>;
  audit?: { balanced: boolean; entries: number; accounts: number };
  round?: { requests: number; newMembers: number; units: number; wallMs: number; cpuMs: number; ok: boolean; message?: string; winners?: number };
  exec?: { runs: number[]; medianMs: number; bareNodeMs?: number; ok: boolean; message?: string };
  peakRssMB?: number;
  /** The peak so far after each step. */
  peakRssMBAfter?: Record<string, number>;
  fileBytesAfter?: number;
  /** PostgreSQL: the generated pool copied into it by `dpool migrate-to-postgres`'s code (both audits agreed). */
  copy?: { wallMs: number; cpuMs: number; rows: number; balanced: boolean };
  /** SQLite's figures hold PostgreSQL's beside them, on the same pool, when a server answered. */
  postgres?: SizeFigures | Failed;
  error?: string;
}

type Failed = { scale: number; error: string };

export interface Results {
  readonly machine: { nproc: number; cpu: string; mhz?: number | undefined; memoryGB: number; node: string; os: string };
  readonly command: string;
  /** The PostgreSQL server measured (its version and where), or why none was. Older results files lack it. */
  readonly postgres?: { readonly server: string } | { readonly skipped: string };
  readonly sizes: ReadonlyArray<SizeFigures | Failed>;
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number | undefined) =>
  n === undefined
    ? "-"
    : n >= 10_000
      ? `${(n / 1000).toFixed(1)} s`
      : n >= 1000
        ? `${(n / 1000).toFixed(2)} s`
        : n >= 100
          ? `${n.toFixed(0)} ms`
          : n >= 1
            ? `${n.toFixed(1)} ms`
            : `${(n * 1000).toFixed(1)} µs`;
const pct = (r: number | undefined) =>
  r === undefined ? "-" : r >= 0.1 ? `${(r * 100).toFixed(0)}%` : r >= 0.001 ? `${(r * 100).toFixed(1)}%` : `${(r * 100).toFixed(3)}%`;

/** The tables: SQLite's, and PostgreSQL's when the run measured it. */
export function formatTable(r: Results): string {
  const machine = `Machine: ${r.machine.nproc} cores (nproc), ${r.machine.cpu}${r.machine.mhz ? ` at ${r.machine.mhz} MHz` : ""}, ${r.machine.memoryGB} GB, node ${r.machine.node}, ${r.machine.os}. Command: \`${r.command}\`.`;
  const parts = [machine, "", "SQLite (the file, in this process):", "", storeTable(r.sizes, "sqlite")];
  if (r.sizes.some((s) => "postgres" in s && s.postgres)) {
    const server = r.postgres && "server" in r.postgres ? r.postgres.server : "PostgreSQL";
    parts.push(
      "",
      `PostgreSQL (${server}; the same generated pool copied into a new database, through the PostgreSQL store; CPU and peak RSS are the bench process's own, the server's are not counted):`,
      "",
      storeTable(
        r.sizes.map((s) => ("postgres" in s && s.postgres ? s.postgres : { scale: s.scale, error: "not measured" })),
        "postgres",
      ),
    );
  } else if (r.postgres && "skipped" in r.postgres) parts.push("", `PostgreSQL: not measured (${r.postgres.skipped}).`);
  return parts.join("\n");
}

/** One store's table: a row per measure, a column per size, the issue's target last. */
function storeTable(all: ReadonlyArray<SizeFigures | Failed>, store: "sqlite" | "postgres"): string {
  const pg = store === "postgres";
  const sizes = all.map((s) => ("shape" in s ? s : undefined));
  const head = ["measure", ...all.map((s) => ("shape" in s ? `${int(s.shape.entries)} entries (${s.scale * 100}%)` : `size ${s.scale}`)), "target"];
  const rows: string[][] = [];
  const row = (label: string, f: (s: SizeFigures) => string, target = "") => rows.push([label, ...sizes.map((s) => (s ? safe(() => f(s)) : "failed")), target]);
  const cmd = (s: SizeFigures, name: string) => s.mix?.commands[name];
  const single = (s: SizeFigures, label: string) => {
    const x = s.single?.[label];
    return !x ? "-" : x.ok ? `${ms(x.wallMs)} (CPU ${ms(x.cpuMs)})` : `fails: ${x.message ?? "?"}`;
  };
  row("members / open tasks / goods", (s) => `${int(s.shape.members)} / ${int(s.shape.openTasks)} / ${int(s.shape.goods)}`);
  if (pg)
    row(
      "copying the pool into PostgreSQL (`dpool migrate-to-postgres`)",
      (s) => `${ms(s.copy!.wallMs)} (CPU ${ms(s.copy!.cpuMs)}), ${int(s.copy!.rows)} rows${s.copy!.balanced ? "" : ", NOT balanced"}`,
    );
  else row("generating the pool (bulk inserts)", (s) => `${ms(s.generate.wallMs)} (CPU ${ms(s.generate.cpuMs)})`);
  row(
    pg ? "database size (pg_database_size), bytes per ledger entry" : "file size, bytes per ledger entry",
    (s) => `${(s.fileBytes / 2 ** 20).toFixed(0)} MB, ${int(s.bytesPerEntry)} B`,
  );
  row("opening the store (a restart)", (s) => ms(s.openMs));
  row(
    pg ? "cheapest write (1-row insert, own tx: BEGIN, INSERT, COMMIT)" : "cheapest write (1-row insert, own IMMEDIATE tx)",
    (s) => `${int(s.cheapest!.write.perSec)}/s, p50 ${ms(s.cheapest!.write.p50Ms)}, CPU ${ms(s.cheapest!.write.cpuMs)}`,
  );
  row(
    pg ? "cheapest read (prepared point select by key, one round trip)" : "cheapest read (point select by key)",
    (s) => `${int(s.cheapest!.read.perSec)}/s, CPU ${ms(s.cheapest!.read.cpuMs)}`,
  );
  row("mix 70/30: commands/s", (s) => `${s.mix!.all.perSec.toFixed(1)}/s (${s.mix!.all.count} commands)`);
  row("mix reads: p50 / p99 / CPU", (s) => `${ms(s.mix!.reads.p50Ms)} / ${ms(s.mix!.reads.p99Ms)} / ${ms(s.mix!.reads.cpuMs)}`);
  row("mix writes: p50 / p99 / CPU", (s) => `${ms(s.mix!.writes.p50Ms)} / ${ms(s.mix!.writes.p99Ms)} / ${ms(s.mix!.writes.cpuMs)}`, "CPU flat");
  for (const name of [
    "me balance",
    "me balance (Discord)",
    "task list <project>",
    "task show",
    "good show",
    "task claim",
    "task done",
    "task verify",
    "good request",
  ]) {
    row(
      `\`${name}\`: p50 / p99 / CPU`,
      (s) => {
        const c = cmd(s, name);
        return c ? `${ms(c.p50Ms)} / ${ms(c.p99Ms)} / ${ms(c.cpuMs)}` : "-";
      },
      name === "good show" ? "CPU flat" : "",
    );
  }
  row(
    "**dispatcher writes / cheapest write** (time; CPU)",
    (s) => `**${pct(s.ratios!.writesVsCheapestWrite)}**; ${pct(s.ratios!.writesCpuVsCheapestWrite)}`,
    ">= 50%",
  );
  row(
    "**`me balance` / cheapest read** (time; CPU)",
    (s) => `**${pct(s.ratios!.meBalanceVsCheapestRead)}**; ${pct(s.ratios!.meBalanceCpuVsCheapestRead)}`,
    ">= 25%",
  );
  row(
    "**`me balance` (Discord) / cheapest read** (time; CPU)",
    (s) => `**${pct(s.ratios!.meBalanceDiscordVsCheapestRead)}**; ${pct(s.ratios!.meBalanceDiscordCpuVsCheapestRead)}`,
    ">= 25%",
  );
  row("`pool summary` largest project", (s) => single(s, "pool summary (largest project)"), "< 100 ms");
  row("`pool summary` whole pool", (s) => single(s, "pool summary (whole pool)"), "< 1 s");
  row("`task list` over all open tasks (its first page)", (s) => single(s, "task list (all open tasks)"), "< 50 ms");
  row("`kind list`", (s) => single(s, "kind list"), "< 10 ms");
  row("`pool audit` (balanced?)", (s) => `${single(s, "pool audit")}${s.audit ? (s.audit.balanced ? ", balanced" : ", NOT balanced") : ""}`, "< 200 ms");
  row(
    "closing a round of N requests",
    (s) => (s.round ? (s.round.ok ? `${int(s.round.requests)}: ${ms(s.round.wallMs)} (CPU ${ms(s.round.cpuMs)})` : `fails: ${s.round.message}`) : "-"),
    "100k < 500 ms",
  );
  row(
    pg ? "`dpool exec` with DPOOL_DATABASE_URL, start to answer (median of 5)" : "`dpool exec` start to answer (median of 5)",
    (s) =>
      s.exec
        ? s.exec.ok
          ? `${ms(s.exec.medianMs)} (bare node + ${pg ? "connect" : "open"} + select: ${ms(s.exec.bareNodeMs)})`
          : `fails: ${s.exec.message}`
        : "-",
    "< 0.3 s",
  );
  row(
    pg ? "peak RSS of the measuring process, not the server's (after the mix)" : "peak RSS of the measuring process (after the mix)",
    (s) => (s.peakRssMB === undefined ? "-" : `${s.peakRssMB.toFixed(0)} MB (${s.peakRssMBAfter?.mix ?? "-"} MB)`),
    "< 300 MB",
  );
  row("commands refused in the mix", (s) => String(s.mix?.refused.length ?? "-"), "0");
  const errors = all.filter((s) => "error" in s && s.error).map((s) => `size ${s.scale}: ${(s as { error: string }).error}`);
  const line = (cells: string[]) => `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line), ...(errors.length > 0 ? ["", ...errors] : [])].join("\n");
}

function safe(f: () => string): string {
  try {
    return f();
  } catch {
    return "-";
  }
}
