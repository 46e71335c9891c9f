// Compiles the program (src, commands, adapters, db) to JavaScript in dist/, so that `dpool` and
// `npm start` start without compiling TypeScript (tsx took a second or two at every start), then
// bundles its two entry points (bin/bundle.js), so that they start without resolving and reading
// hundreds of modules one by one.
//   node bin/build.js          build now (npm run build; `npm ci` runs it as `prepare`)
//   import { ensureBuilt }     build only when dist/ is missing or older than the sources
// dist/.build.json lists every source file with its size and modification time as of the build:
// any file added, removed or changed since makes the next start build again (a few seconds). The
// build goes to a folder of its own and its files are moved into dist/ one by one (each move is
// atomic), under a lock, so that processes starting at the same moment build once and never run
// a half-written file.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DIST = join(ROOT, "dist");
const STAMP = join(DIST, ".build.json");
const LOCK = join(ROOT, ".dist-lock");
/** What the build reads: the program's folders (migrations included) and the compiler settings. */
const SOURCE_DIRS = ["src", "commands", "adapters", "db"];
const SOURCE_FILES = ["tsconfig.json", "tsconfig.build.json", "bin/build.js", "bin/bundle.js"];
/** Files other than TypeScript that the program reads at run time, copied beside its code (those that exist). */
const ASSETS = ["db/migrations", "db/pg-migrations"];
const LOCK_WAIT_MS = 180_000;

function walk(dir, out) {
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      // A dependency folder (adapters/matrix/no-crypto is a package of its own) is not ours to build.
      if (entry.name !== "node_modules") walk(path, out);
    } else out.push(path);
  }
  return out;
}

/** Every source file with its size and modification time: the build's fingerprint. */
function sources() {
  const files = [...SOURCE_DIRS.flatMap((d) => walk(d, [])), ...SOURCE_FILES].sort();
  return Object.fromEntries(
    files.map((f) => {
      const s = statSync(join(ROOT, f));
      return [f, `${s.size}:${s.mtimeMs}`];
    }),
  );
}

/** True when dist/ holds a build of exactly the sources there are now. */
export function isFresh() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(STAMP, "utf8")).sources;
  } catch {
    return false;
  }
  const now = sources();
  const names = Object.keys(now);
  return names.length === Object.keys(stamp).length && names.every((f) => stamp[f] === now[f]);
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Takes the build lock (a folder: creating it is atomic), waiting for another build to end. */
function lock() {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, "pid"), String(process.pid));
      return true;
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
    }
    // Another process builds. If it died, its lock is taken over; otherwise wait for it.
    let holder = NaN;
    try {
      holder = Number(readFileSync(join(LOCK, "pid"), "utf8"));
    } catch {
      // the lock is being made or removed right now
    }
    if (Number.isInteger(holder) && holder > 0 && !processAlive(holder)) {
      rmSync(LOCK, { recursive: true, force: true });
      continue;
    }
    if (Date.now() >= deadline)
      throw new Error(`another build has held ${relative(ROOT, LOCK)} for ${LOCK_WAIT_MS / 1000} s; if no build runs, delete that folder`);
    sleep(100);
  }
}

function unlock() {
  rmSync(LOCK, { recursive: true, force: true });
}

function moveInto(from, to) {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory()) {
      mkdirSync(dst, { recursive: true });
      moveInto(src, dst);
    } else renameSync(src, dst);
  }
}

/** Deletes what an earlier build left in dist/ that this build did not write (a removed source). */
function prune(dir, keep) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      prune(path, keep);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
    } else if (!keep.has(path) && path !== STAMP) rmSync(path);
  }
}

function listFiles(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) listFiles(path, out);
    else out.push(path);
  }
  return out;
}

/** Compiles the sources into dist/ (always). Throws with a one-line reason when it cannot. */
export function build() {
  const require = createRequire(import.meta.url);
  // Loaded here, not at the top: every start imports this file to check dist/, and child_process
  // (with net and dgram behind it) costs a start that builds nothing a few milliseconds.
  const { spawnSync } = require("node:child_process");
  let tsc;
  try {
    tsc = require.resolve("typescript/bin/tsc");
  } catch {
    throw new Error("TypeScript is not installed: run npm ci (it installs the development dependencies too)");
  }
  const before = sources();
  const tmp = join(ROOT, `.dist-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    const r = spawnSync(process.execPath, [tsc, "-p", join(ROOT, "tsconfig.build.json"), "--outDir", tmp], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0 || !existsSync(join(tmp, "src"))) {
      const why = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n")[0] || r.error?.message || `tsc exited with ${r.status}`;
      throw new Error(`compiling the TypeScript sources failed: ${why}`);
    }
    for (const dir of ASSETS) if (existsSync(join(ROOT, dir))) cpSync(join(ROOT, dir), join(tmp, dir), { recursive: true });
    const b = spawnSync(process.execPath, [join(ROOT, "bin", "bundle.js"), tmp], { cwd: ROOT, encoding: "utf8" });
    if (b.status !== 0) {
      const why = (b.stderr ?? "").trim().split("\n")[0] || b.error?.message || `bin/bundle.js exited with ${b.status}`;
      throw new Error(`bundling the compiled program failed: ${why}`);
    }
    mkdirSync(DIST, { recursive: true });
    const keep = new Set(listFiles(tmp).map((f) => join(DIST, relative(tmp, f))));
    moveInto(tmp, DIST);
    prune(DIST, keep);
    // Last: the stamp says dist/ is complete. Sources changed during the build differ from it.
    writeFileSync(STAMP, `${JSON.stringify({ builtAt: new Date().toISOString(), sources: before }, null, 1)}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Builds dist/ unless it is a build of the current sources; `say` hears one line when it does.
 * Processes starting together build once: the others wait for the lock and find dist/ fresh.
 */
export function ensureBuilt(say = (line) => process.stderr.write(`${line}\n`)) {
  if (isFresh()) return false;
  lock();
  try {
    if (isFresh()) return false;
    say("dpool: compiling the program into dist/ (first start, or the sources changed; a few seconds)");
    build();
    return true;
  } finally {
    unlock();
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isEntry) {
  try {
    lock();
    try {
      build();
    } finally {
      unlock();
    }
    process.stdout.write(`dpool: compiled into ${relative(process.cwd(), DIST) || "."}/\n`);
  } catch (e) {
    process.stderr.write(`dpool: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
