#!/usr/bin/env node
// The `dpool` command (npx dpool exec -- ...): loads the TypeScript sources through tsx.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli.ts");
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  // main tells every failure itself; this is the last net: one line, never a stack trace.
  process.stderr.write(`dpool: unexpected error: ${String(e instanceof Error ? e.message : e).split("\n")[0]}\n`);
  process.exitCode = 1;
}
