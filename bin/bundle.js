// Bundles the compiled program's entry points (src/cli.js: dpool; src/main.js: npm start) with
// esbuild, each over its own compiled file, their shared code in chunks/ beside src/, so that a
// start reads a few files instead of some 900 modules (ours, drizzle's, zod's, pino's): resolving,
// reading and compiling them one by one took more of `dpool exec`'s time than the command.
//   node bin/bundle.js <folder>     the folder tsc compiled into; run by bin/build.js
// Only code is moved: dynamic import() stays dynamic (the console, each chat platform and its SDK
// load only when used), and packages stay in node_modules except the few pure-JavaScript ones
// listed below and what they import. Every other package (better-sqlite3 and canvas are native;
// discord.js and the Matrix SDK load with their adapter) is imported from node_modules as before.
import { readFile, rm } from "node:fs/promises";
import { cpSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

/** Packages our code imports that go into the bundle (with everything they import in turn). */
const BUNDLED_PACKAGES = new Set(["drizzle-orm", "zod", "pino", "pino-pretty"]);
const ENTRIES = ["src/cli.js", "src/main.js"];

const packageName = (specifier) =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");

/**
 * Bundles <dir>/src/cli.js and <dir>/src/main.js in place: the two files are replaced by their
 * bundles and the code they share goes to <dir>/chunks/. Every output file lies one folder below
 * <dir>, as the compiled files of src/ and db/ do; a module's `import.meta.url` is rewritten to
 * its own compiled file's address relative to that depth, so that what it finds beside itself
 * (db/migrations) is found from the bundle too.
 */
export async function bundle(dir) {
  const root = resolve(dir);
  const out = `${root}.bundle`;
  await rm(out, { recursive: true, force: true });
  try {
    await build({
      entryPoints: ENTRIES.map((f) => join(root, f)),
      outbase: root,
      outdir: out,
      entryNames: "[dir]/[name]",
      chunkNames: "chunks/[name]-[hash]",
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target: "node20",
      logLevel: "error",
      // Bundled CommonJS (pino) calls require() for Node's own modules: an ES module has none.
      banner: { js: 'import { createRequire as __dpoolCreateRequire } from "node:module";\nconst require = __dpoolCreateRequire(import.meta.url);' },
      plugins: [
        {
          name: "dpool",
          setup(b) {
            b.onResolve({ filter: /^[^./]/ }, (args) => {
              if (args.path.startsWith("node:")) return { path: args.path, external: true };
              // What a bundled package imports is bundled with it; our code picks from the list.
              if (args.importer.includes("/node_modules/")) return undefined;
              return BUNDLED_PACKAGES.has(packageName(args.path)) ? undefined : { path: args.path, external: true };
            });
            // zod's index brings its error messages in some forty languages (half of its code,
            // about 10 ms of every start); d-pool words its own messages: English only.
            b.onLoad({ filter: /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
              contents: 'export { default as en } from "./en.js";',
              loader: "js",
              resolveDir: dirname(args.path),
            }));
            b.onLoad({ filter: /\.js$/ }, async (args) => {
              const own = relative(root, args.path);
              if (own.startsWith("..") || isAbsolute(own)) return undefined;
              const text = await readFile(args.path, "utf8");
              if (!text.includes("import.meta.url")) return undefined;
              const address = JSON.stringify(`../${own.split("\\").join("/")}`);
              return { contents: text.replaceAll("import.meta.url", `new URL(${address}, import.meta.url).href`), loader: "js" };
            });
          },
        },
      ],
    });
    cpSync(out, root, { recursive: true });
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isEntry) {
  try {
    if (!process.argv[2]) throw new Error("usage: node bin/bundle.js <folder tsc compiled into>");
    await bundle(process.argv[2]);
  } catch (e) {
    // esbuild's own message starts with a count ("Build failed with 1 error:"): say the first one.
    const first = e?.errors?.[0];
    const why = first
      ? `${first.location ? `${first.location.file}:${first.location.line}: ` : ""}${first.text}`
      : String(e instanceof Error ? e.message : e).split("\n")[0];
    process.stderr.write(`${why}\n`);
    process.exitCode = 1;
  }
}
