// End-to-end tests run what users run: the compiled program in dist/ (bin/dpool.js,
// bin/start.js). Built here once before a test file's processes start, so that no process under
// test spends its first seconds compiling (nor says so on stderr).
import { join } from "node:path";
import { DIST, ensureBuilt, ROOT } from "../../bin/build.js";

/** Makes dist/ a build of the current sources (a few seconds when it was not). */
export function buildOnce(): void {
  ensureBuilt(() => undefined);
}

/** `npm start` without npm in between: the bot's entry point, as a service runs it. */
export const START = join(ROOT, "bin", "start.js");
/**
 * The compiled bot itself, without bin/start.js's check of the sources: for tests that restart
 * the bot many times while other work may be changing the sources (each start would build again).
 */
export const MAIN = join(DIST, "src", "main.js");
/** What `npx dpool` runs. */
export const DPOOL = join(ROOT, "bin", "dpool.js");
