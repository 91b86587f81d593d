import { vi } from "vitest";

/**
 * Run `f` with Date `ms` ahead of now. The Durable Objects under test run in the test's isolate,
 * on the same Date (what test/slowConsumer.test.ts relies on), so TTLs and grace periods pass
 * without waiting for them. Date keeps ticking from there (shouldAdvanceTime), so deadlines in
 * the waits inside `f` still expire; timers stay real, so sockets and I/O behave as ever.
 */
export async function later<T>(ms: number, f: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
  try {
    vi.setSystemTime(Date.now() + ms);
    return await f();
  } finally {
    vi.useRealTimers();
  }
}

/**
 * Run `body` with Date frozen at `at(offsetMs)` from now, as `body` moves it (in the test and in
 * every object: one isolate); timers stay real. For a sequence of instants, where `later` is one.
 */
export async function onFakeClock(body: (at: (offsetMs: number) => void) => Promise<void>): Promise<void> {
  const t0 = Date.now();
  vi.useFakeTimers({ toFake: ["Date"] });
  try {
    await body((offsetMs) => vi.setSystemTime(t0 + offsetMs));
  } finally {
    vi.useRealTimers();
  }
}
