#!/usr/bin/env node
// `npm start` (and a service's ExecStart): the bot from the compiled program in dist/, built
// first when it is missing or older than the sources (bin/build.js), never at each start.
import * as nodeModule from "node:module";
import { ensureBuilt } from "./build.js";

// Node 22 and later keep the compiled code of dist/ between starts (Node 20 has no such cache).
nodeModule.enableCompileCache?.();

try {
  ensureBuilt();
} catch (e) {
  process.stderr.write(`d-pool could not start: ${String(e instanceof Error ? e.message : e).split("\n")[0]}\n`);
  process.exit(1);
}
const { runFromCommandLine } = await import("../dist/src/main.js");
runFromCommandLine();
