/** Idempotency keys of recent live-only pushes, in memory only (they touch no storage). */
import type { PushResult } from "./rpc";

const KEEP_MS = 5 * 60_000;
const MAX_KEYS = 4096;

export class RecentIds {
  readonly #seen = new Map<string, { result: PushResult; at: number }>();

  get(id: string, now: number): PushResult | undefined {
    const hit = this.#seen.get(id);
    if (hit === undefined) return undefined;
    if (now - hit.at > KEEP_MS) {
      this.#seen.delete(id);
      return undefined;
    }
    return hit.result;
  }

  set(id: string, result: PushResult, now: number): void {
    this.#seen.set(id, { result, at: now });
    // Maps iterate in insertion order, so the first key is the oldest.
    if (this.#seen.size > MAX_KEYS) {
      const oldest = this.#seen.keys().next();
      if (oldest.done !== true) this.#seen.delete(oldest.value);
    }
  }
}
