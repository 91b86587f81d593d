export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Poll `f` until it gives a value (neither undefined nor false), every `everyMs`; throw naming
 * `what` after `ms`. The one wait loop of the tests and the harness: for waiting on another
 * process's, or another object's, doing without a sleep standing in for synchronisation.
 */
export async function eventually<T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, ms = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
