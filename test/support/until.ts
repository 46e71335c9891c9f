// Waits for something to become true in an end-to-end test: polls `check` every 25 ms, and
// fails naming `what` after `ms`. Never a fixed sleep as an assertion.
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
