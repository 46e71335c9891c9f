// The layer rules, checked by dependency-cruiser: `npm run arch`, run by .ci/run before the tests.
// Imports point inward:
//   src/core        the pure domain: imports nothing of the project but src/core (and zod)
//   src/services    the use cases: src/core plus the kernel (the Store interface in src/store.ts,
//                   src/errors.ts, src/result.ts, src/clock.ts); never commands, adapters or db
//   db/             the Store implementations (drizzle; better-sqlite3, pg): the only place with SQL
//   db/schema.ts    the tables; src/store.ts names their rows (drizzle's $inferSelect), types only
//   commands/       the command table: src/services, src/core and the kernel; never adapters or db
//   adapters/       platform code (discord, matrix, console): each on its own, never db/
//   src/*.ts        the wiring (app.ts, main.ts, cli.ts, ...): the one layer that may reach db/
//                   and the adapters, to plug them together
// plus no cycles (type-only ones included), no module nobody imports that imports nothing, and
// the platform SDKs and the SQL drivers only in their own folder. Imports are resolved with
// tsconfig.json (`.ts` suffixes, allowImportingTsExtensions); an import that does not resolve is
// an error, so no rule below can pass by seeing no edges.
// test/unit/architecture.test.ts runs this through the tool's API and keeps the checks it can't
// make (which files read the system clock).

/** The wiring: the only modules of src/ that may import commands/, db/ or adapters/. */
const WIRING = "^src/(app|main|cli|cli-data|clockwork|delivery|lifecycle|log)[.]ts$";
/** What every layer may lean on: the Store interface, the refusal union, Result, the clock. */
const KERNEL = "^src/(store|errors|result|clock)[.]ts$";
const SQL = "^node_modules/(better-sqlite3|drizzle-orm|pg)/";
/** The tables, whose inferred rows are the Store interface's rows. */
const SCHEMA = "^db/schema[.]ts$";
const DISCORD = "^node_modules/(discord[.]js|@discordjs/[^/]+|discord-api-types)/";
const MATRIX = "^node_modules/@vector-im/matrix-bot-sdk/";

/** @type {import("dependency-cruiser").IConfiguration} */
export default {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment:
        "A module imports one that imports it back (perhaps through others). Move what both need into a small module " +
        "of its own (as src/services/announce.ts and posting.ts, commands/ref-words.ts did). Type-only cycles count too.",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-orphans",
      severity: "error",
      comment:
        "A module of src/, commands/, adapters/ or db/ that nothing imports and that imports nothing: dead code, " +
        "or a file that belongs elsewhere. Declaration files (.d.ts) and the Matrix crypto stand-in (a package of " +
        "its own, installed by package.json) are not modules of the program.",
      from: {
        orphan: true,
        path: "^(src|commands|adapters|db)/",
        pathNot: ["[.]d[.]ts$", "^adapters/matrix/no-crypto/"],
      },
      to: {},
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "An import the tool cannot resolve: a typo, a missing package, or a resolution setting broken (then every rule here would see too little).",
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: "core-is-pure",
      severity: "error",
      comment: "src/core is the pure domain: it imports only src/core and zod (no node builtins, no kernel, no services, no SQL, no SDK).",
      from: { path: "^src/core/" },
      to: { pathNot: ["^src/core/", "^node_modules/zod/"] },
    },
    {
      name: "services-inward",
      severity: "error",
      comment:
        "src/services sees the domain core and the kernel (the Store interface, errors, Result, clock) and node's " +
        "builtins; never commands/, adapters/, db/ or the wiring. The store's implementation comes in as a Tx.",
      from: { path: "^src/services/" },
      to: {
        dependencyTypesNot: ["core"],
        pathNot: ["^src/(core|services)/", KERNEL, "^node_modules/zod/"],
      },
    },
    {
      name: "kernel-inward",
      severity: "error",
      comment:
        "The kernel (store interface, errors, Result, clock) is what every layer leans on: it sees only src/core and " +
        "itself, and the types of db/schema.ts (rule schema-types-only).",
      from: { path: KERNEL },
      to: { dependencyTypesNot: ["core"], pathNot: ["^src/core/", KERNEL, "^node_modules/zod/", SCHEMA] },
    },
    {
      name: "src-inward",
      severity: "error",
      comment:
        "The modules of src/ that are no wiring (the kernel, schedules.ts, secrets.ts) import no commands/, " +
        "adapters/ or db/: the wiring hands them what they need. The one exception, db/schema.ts's types, is the " +
        "next rule's.",
      from: { path: "^src/[^/]+[.]ts$", pathNot: WIRING },
      to: { path: "^(commands|adapters|db)/", pathNot: SCHEMA },
    },
    {
      name: "schema-types-only",
      severity: "error",
      comment:
        "src/store.ts's rows are the schema's tables' rows as drizzle infers them ($inferSelect), not copies kept " +
        "in step by hand; so it imports db/schema.ts, but with `import type` only: erased when compiled, it loads " +
        "no drizzle and no SQL, and the services still get the database only as a Tx. Moving the tables into src/ " +
        "instead would put drizzle (SQL) outside db/.",
      from: { path: "^src/[^/]+[.]ts$", pathNot: WIRING },
      to: { path: SCHEMA, dependencyTypesNot: ["type-only"] },
    },
    {
      name: "db-implements-store",
      severity: "error",
      comment:
        "db/ implements the Store interface with drizzle and better-sqlite3: it sees src/core, the kernel and itself, " +
        "never services, commands, adapters or the wiring.",
      from: { path: "^db/" },
      to: { path: ["^src/services/", "^commands/", "^adapters/", WIRING] },
    },
    {
      name: "commands-not-outward",
      severity: "error",
      comment:
        "The command table uses src/services, src/core and the kernel; never an adapter, db/ or the wiring (the " +
        "dispatcher gets the store and the logger handed in). Logger's type from src/log.ts is allowed: types only.",
      from: { path: "^commands/" },
      to: { path: ["^adapters/", "^db/", WIRING], pathNot: "^src/log[.]ts$" },
    },
    {
      name: "commands-log-types-only",
      severity: "error",
      comment: "commands/ may name the Logger type of src/log.ts, not load the logger (pino) itself.",
      from: { path: "^commands/" },
      to: { path: "^src/log[.]ts$", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "adapters-not-to-db-or-app",
      severity: "error",
      comment:
        "Adapters are platform code: they reach the store only through what the app hands them (the Engine, the " +
        "Store interface), never db/ itself, and they do not import the wiring that starts them (app, main, cli).",
      from: { path: "^adapters/" },
      to: { path: ["^db/", "^src/(app|main|cli|cli-data|clockwork|schedules)[.]ts$"] },
    },
    {
      name: "adapters-apart",
      severity: "error",
      comment: "Each adapter stands alone: discord, matrix and console import nothing of one another (what they share lives in commands/ or src/).",
      from: { path: "^adapters/([^/]+)/" },
      to: { path: "^adapters/", pathNot: "^adapters/$1/" },
    },
    {
      name: "sql-only-in-db",
      severity: "error",
      comment:
        "better-sqlite3, pg and drizzle-orm (all SQL) are imported in db/ only; the wiring reaches them through db/ " + "(app.ts, cli-data.ts, main.ts).",
      from: { pathNot: "^db/" },
      to: { path: SQL },
    },
    {
      name: "discord-sdk-only-in-its-adapter",
      severity: "error",
      comment:
        "discord.js and discord-api-types are imported in adapters/discord only. The wiring (src/main.ts) loads the " +
        "adapter with a dynamic import when Discord is configured, so it needs no allowance here.",
      from: { pathNot: "^adapters/discord/" },
      to: { path: DISCORD },
    },
    {
      name: "matrix-sdk-only-in-its-adapter",
      severity: "error",
      comment: "@vector-im/matrix-bot-sdk is imported in adapters/matrix only (src/main.ts loads that adapter with a dynamic import).",
      from: { pathNot: "^adapters/matrix/" },
      to: { path: MATRIX },
    },
  ],
  options: {
    // The program's code; tests and the compiled dist/ are not cruised (tests import SDKs and db/
    // on purpose, to fake a platform or read a database file).
    exclude: { path: "^(dist|test|[.]dist-[^/]*|[.]tmp)/" },
    doNotFollow: { path: "node_modules" },
    // Type-only imports count as dependencies (a type cycle is still a tangle), marked "type-only".
    tsPreCompilationDeps: true,
    // Resolves `import ... from "./x.ts"` with the compiler's settings (allowImportingTsExtensions).
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
