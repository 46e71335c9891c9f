#!/usr/bin/env node
// The `dpool` command (npx dpool exec -- ...): runs the compiled program in dist/, building it
// first when it is missing or older than the sources (bin/build.js), never at each start.
import * as nodeModule from "node:module";
import { ensureBuilt } from "./build.js";

// Node 22 and later keep the compiled code of dist/ between starts (Node 20 has no such cache).
nodeModule.enableCompileCache?.();

try {
  ensureBuilt();
} catch (e) {
  process.stderr.write(`dpool: ${String(e instanceof Error ? e.message : e).split("\n")[0]}\n`);
  process.exit(1);
}
try {
  const { main } = await import("../dist/src/cli.js");
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  // main tells every failure itself; this is the last net: one line, never a stack trace.
  process.stderr.write(`dpool: unexpected error: ${String(e instanceof Error ? e.message : e).split("\n")[0]}\n`);
  process.exitCode = 1;
}
