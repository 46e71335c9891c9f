#!/usr/bin/env node
// The `dpool` command (npx dpool exec -- ...): loads the TypeScript sources through tsx.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli.ts");
process.exitCode = await main(process.argv.slice(2));
