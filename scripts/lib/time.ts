export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Poll `f` until it gives a value (not undefined), every `everyMs`; throw naming `what` after
 * `ms`. For waiting on another process's doing without a sleep standing in for synchronisation.
 */
export async function eventually<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
