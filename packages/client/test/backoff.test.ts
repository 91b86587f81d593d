import { describe, expect, it } from "vitest";
import { backoffCeiling, fullJitterDelay, resolveBackoff } from "../src/backoff.ts";
import { seededRandom } from "./fakeSocket.ts";

describe("full-jitter backoff (Brooker 2015: sleep = random(0, min(cap, base * 2^attempt)))", () => {
  const opts = resolveBackoff({ baseMs: 500, maxMs: 30_000 });

  it("doubles the window per attempt up to the cap", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 100, 10_000].map((n) => backoffCeiling(n, opts))).toEqual([
      500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000,
    ]);
  });

  it("stays within [0, ceiling) for the extremes of random()", () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      expect(fullJitterDelay(attempt, opts, () => 0)).toBe(0);
      const top = fullJitterDelay(attempt, opts, () => 0.999_999_9);
      expect(top).toBeLessThan(backoffCeiling(attempt, opts));
      expect(top).toBeGreaterThanOrEqual(backoffCeiling(attempt, opts) - 1);
    }
  });

  it("spreads delays over the whole window (full jitter, not equal jitter or none)", () => {
    const random = seededRandom(42);
    for (const attempt of [0, 3, 8]) {
      const ceiling = backoffCeiling(attempt, opts);
      const samples = Array.from({ length: 2000 }, () => fullJitterDelay(attempt, opts, random));
      for (const s of samples) {
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThan(ceiling);
      }
      // Uniform over [0, ceiling): every tenth of the window gets a share of
      // the samples, including the lower half that equal jitter never uses.
      const deciles = new Array<number>(10).fill(0);
      for (const s of samples) deciles[Math.floor((s / ceiling) * 10)]! += 1;
      for (const count of deciles) expect(count).toBeGreaterThan(2000 / 10 / 2);
      const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
      expect(mean / ceiling).toBeGreaterThan(0.45);
      expect(mean / ceiling).toBeLessThan(0.55);
    }
  });

  it("rejects a window that cannot work", () => {
    const invalid = (field: string) => expect.objectContaining({ code: "invalid_argument", field });
    expect(() => resolveBackoff({ baseMs: 0 })).toThrow(invalid("backoff.baseMs"));
    expect(() => resolveBackoff({ baseMs: 1000, maxMs: 10 })).toThrow(invalid("backoff.maxMs"));
    expect(() => resolveBackoff({ baseMS: 100 } as never)).toThrow(invalid("backoff.baseMS"));
  });
});
