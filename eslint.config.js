// ESLint (flat config) with typescript-eslint's type-aware rules: `npm run lint`, run by .ci/run
// before the tests. The type information comes from tsconfig.json through the project service;
// the few JavaScript files outside it (entry points, a loader hook) get a default project.
// The rule set is typescript-eslint's recommendedTypeChecked, all as errors, with these
// exceptions, each explained where it is made: require-await everywhere; the no-unsafe-* rules
// in plain JavaScript and in tests; no-explicit-any, unbound-method, no-unsafe-enum-comparison
// and restrict-template-expressions in tests. A finding that is right to keep gets an
// `eslint-disable-next-line <rule> -- <reason>` on its line (unused ones are errors).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["node_modules/", "dist/", ".dist-*/", "coverage/", "data/", ".tmp/", "db/migrations/"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      parserOptions: {
        projectService: {
          allowDefaultProject: ["eslint.config.js", ".dependency-cruiser.mjs", "bin/*.js", "adapters/matrix/no-crypto/*.js", "test/support/*.mjs"],
          // Those files are plain JavaScript outside tsconfig.json, nine of them now (bin/ has
          // four scripts); typescript-eslint refuses more than eight by default, for speed.
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 16,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // The three the project asked for: a promise nobody awaits or catches, a promise where a
      // plain value is expected (an async listener, a promise in a condition), a switch over a
      // union that forgets a member.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false }],
      // tsc's noUnusedLocals/noUnusedParameters already report these, with `_` prefixes allowed.
      "@typescript-eslint/no-unused-vars": "off",
      // Off: the store (db/sqlite-store.ts) implements
      // an async Store interface with synchronous better-sqlite3 calls, and a few command handlers
      // are async for the same reason; their `async` is the contract, not a missing await.
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    // Plain JavaScript files (entry points, the build, a loader hook) have no declared types, so
    // every JSON.parse and import is `any` there; the promise rules still apply.
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    rules: {
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        URL: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
      },
    },
  },
  {
    files: ["test/**/*.ts"],
    rules: {
      // vitest's `expect(fn).toThrow` style and `vi.fn()` methods are passed around unbound.
      "@typescript-eslint/unbound-method": "off",
      // Tests read replies, JSON bodies of the fake servers and raw database rows as `any` and
      // check them with expect(); typing each would add casts, not safety. The promise and
      // switch rules stay on in tests.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-enum-comparison": "off",
      "@typescript-eslint/restrict-template-expressions": "off",
    },
  },
  {
    // CommonJS: the stand-in for the Matrix crypto package is loaded with require().
    files: ["adapters/matrix/no-crypto/*.js"],
    languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } },
  },
);
