// `node --import ./test/support/trace-imports.mjs ...`: the process appends the URL of every
// module it imports (ES module resolution, which is how our code reaches every package) to the
// file named by DPOOL_TRACE_IMPORTS, one a line. Plain JavaScript: it runs without tsx.
import { register } from "node:module";

register(new URL("./trace-imports-hooks.mjs", import.meta.url));
