/**
 * Reconnect delays: capped exponential backoff with "full jitter", from Marc
 * Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/):
 *
 *     sleep = random_between(0, min(cap, base * 2 ** attempt))
 *
 * When a deploy or an outage drops every client at once, un-jittered backoff
 * brings them all back in synchronized waves; full jitter spreads each wave
 * over the whole window, which the article shows minimises both total work
 * and completion time among the variants it compares.
 */
import { checkBackoffOptions } from "./validate.ts";

export interface BackoffOptions {
  /** First window, in ms: attempt 0 waits uniformly in [0, baseMs). Default 500. */
  baseMs?: number;
  /** The window never grows past this, in ms. Default 30 000. */
  maxMs?: number;
  /**
   * A connection that stayed up (welcome received) at least this long resets
   * the attempt count; a shorter one does not, so a server that accepts and
   * then immediately closes cannot pull clients into a tight loop. Default 10 000.
   */
  resetAfterMs?: number;
  /** Give up after this many consecutive failed attempts. Default: never. */
  maxAttempts?: number;
}

export interface ResolvedBackoff {
  baseMs: number;
  maxMs: number;
  resetAfterMs: number;
  maxAttempts: number;
}

/** The options with their defaults; a window that cannot work (0 < baseMs <= maxMs) or an unknown key is invalid_argument. */
export function resolveBackoff(options: BackoffOptions | undefined): ResolvedBackoff {
  if (options !== undefined) checkBackoffOptions(options);
  const baseMs = options?.baseMs ?? 500;
  const maxMs = options?.maxMs ?? 30_000;
  return {
    baseMs,
    maxMs,
    resetAfterMs: options?.resetAfterMs ?? 10_000,
    maxAttempts: options?.maxAttempts ?? Number.POSITIVE_INFINITY,
  };
}

/** The upper bound of the window for a 0-based attempt: min(cap, base * 2^attempt). */
export function backoffCeiling(attempt: number, options: ResolvedBackoff): number {
  // 2 ** 1100 is Infinity and Math.min handles it, but cap the exponent so the
  // arithmetic stays in ordinary floats however long a client keeps trying.
  return Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 52));
}

/** Full jitter: uniform in [0, ceiling). `random` is Math.random's contract. */
export function fullJitterDelay(attempt: number, options: ResolvedBackoff, random: () => number): number {
  return Math.floor(random() * backoffCeiling(attempt, options));
}
