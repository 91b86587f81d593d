/**
 * Per-session token bucket for client frames (burst = 2 s worth). Kept in
 * memory: a bucket lost to hibernation just starts full again, and hibernation
 * only happens when the client is quiet anyway.
 */
export class FrameBudget {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  take(sessionId: string, now: number, perSecond: number): boolean {
    const burst = perSecond * 2;
    const bucket = this.#buckets.get(sessionId) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.#buckets.set(sessionId, bucket);
      return false;
    }
    bucket.tokens -= 1;
    this.#buckets.set(sessionId, bucket);
    return true;
  }

  forget(sessionId: string): void {
    this.#buckets.delete(sessionId);
  }
}
