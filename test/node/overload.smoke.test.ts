/**
 * The overload bench (bench/overload.ts) at a cap of 20: 30 SDK clients
 * against `npm run serve` with SWITCHBOARD_NOFILE=1100 through a burst, a cut
 * of every socket and a drain. What must hold whatever the box's speed:
 * workerd never restarts, the cap is never exceeded, the excess is refused and
 * retried until every remaining client is in, /healthz answers every probe,
 * and every stored push reaches every client that ends open exactly once, in
 * order. (The run at 400 is in docs/operations.md, "Overload".)
 */
import { describe, expect, it } from "vitest";
import { overload } from "../../bench/overload.ts";

describe("a storm at 1.5× the session cap (smoke)", () => {
  it("keeps workerd up, holds the cap, retries the excess, and loses or repeats nothing", async () => {
    const r = await overload(["--cap", "20"]);
    expect(r.clients).toBe(30);
    expect(r.workerdRestarts).toBe(0);
    expect(r.workerdPidEnd).toBe(r.workerdPidStart);
    expect(r.emfileLines).toBe(0);
    expect(r.peakOpen).toBeLessThanOrEqual(20);
    expect(r.refusedAttempts).toBeGreaterThan(0);
    expect(r.healthFailed).toBe(0);
    expect(r.healthOk).toBeGreaterThan(0);
    expect(r.endedOpen).toBe(20);
    expect(r.pushes).toBeGreaterThan(0);
    expect({ lost: r.lost, duplicated: r.duplicated, reordered: r.reordered, leftDuplicated: r.leftDuplicated, leftReordered: r.leftReordered }).toEqual({
      lost: 0,
      duplicated: 0,
      reordered: 0,
      leftDuplicated: 0,
      leftReordered: 0,
    });
  }, 300_000);
});
