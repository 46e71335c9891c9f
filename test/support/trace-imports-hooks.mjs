// The resolve hook of trace-imports.mjs (module hooks run in a thread of their own).
import { appendFileSync } from "node:fs";

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (process.env.DPOOL_TRACE_IMPORTS) appendFileSync(process.env.DPOOL_TRACE_IMPORTS, `${resolved.url}\n`);
  return resolved;
}
