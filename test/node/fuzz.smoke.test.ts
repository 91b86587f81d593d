/**
 * A short run of the abuse suite (scripts/fuzz.ts): the same arbitraries and
 * oracle at a fraction of the volume, against standalone workerd. Asserts what
 * the full run asserts — no 5xx, no crash, every refusal documented, the JWT
 * table, mid-session expiry, the limits table (session cap at 5) — and that the
 * service still delivers afterwards. Fixed seed: a failure prints its replay
 * command (`npm run fuzz -- --seed 20261123 --only LANE --path P`).
 *
 * Then the checkers' self-test: with a deliberately wrong oracle
 * (`--inject-oracle`: bodies and frames over 1 KiB "must" be refused, workerd
 * "must" close on the RFC 6455 slips it tolerates) the push-body, ws-frames and
 * ws-raw lanes must each fail; push-body must shrink to a body just over
 * 1 KiB, and its printed path must replay it.
 */
import { describe, expect, it } from "vitest";
import { failures, printReport, runFuzz } from "../../scripts/lib/fuzz/run.ts";

const SEED = 20261123;

describe("fuzz (smoke)", () => {
  it("bad inputs get documented refusals; the JWT table and limits hold; the service still delivers", async () => {
    const lines: string[] = [];
    const report = await runFuzz({
      seed: SEED,
      scale: 0.06,
      log: (line) => lines.push(line),
      expiryInSeconds: 3,
      limits: "light",
    });
    printReport(report, (line) => lines.push(line));
    const problems = failures(report);
    if (problems.length > 0) console.log(lines.join("\n"));
    expect(report.inputs).toBeGreaterThan(500);
    expect(report.lanes.map((l) => l.name)).toContain("ws-frames");
    expect(report.lanes.map((l) => l.name)).toContain("stomp-frames");
    expect(report.jwt.length).toBeGreaterThan(40);
    expect(report.limits.length).toBeGreaterThan(8);
    expect(report.health.every((h) => h.pass)).toBe(true);
    expect(problems).toEqual([]);
  });

  it("a wrong oracle is caught by each checker, shrunk to the smallest failing input, and replays from the printed seed and path", async () => {
    const base = { seed: SEED, scale: 1, log: () => {}, injectOracle: true };
    const first = await runFuzz({ ...base, only: ["push-body", "ws-frames", "ws-raw"] });
    const lane = (name: string) => first.lanes.find((l) => l.name === name);
    expect(lane("ws-frames")?.failure?.violation).toMatch(/expected close 1009/);
    // Shrunk to the one frame that fails, not the batch it came in.
    expect(lane("ws-frames")?.failure?.counterexample).toMatch(/^1 frame\(s\)/);
    expect(lane("ws-raw")?.failure?.violation).toMatch(/kept the connection open/);
    const failure = lane("push-body")?.failure;
    expect(failure).toBeDefined();
    if (failure === undefined) return;
    expect(failure.violation).toMatch(/expected 413/);
    // Shrunk: the body is just over the (injected) 1 KiB limit, not one of the 60-200 KB bodies that also fail.
    const size = Number(/\((\d+) chars\)/.exec(failure.counterexample)?.[1] ?? Number.NaN);
    expect(size).toBeGreaterThan(1000);
    expect(size).toBeLessThan(1100);
    expect(failure.replay).toBe(`npm run fuzz -- --seed ${SEED} --only push-body --path ${failure.path} --inject-oracle`);
    const again = await runFuzz({ ...base, only: ["push-body"], path: failure.path });
    expect(again.lanes[0]?.runs).toBe(1);
    expect(again.lanes[0]?.failure?.counterexample).toBe(failure.counterexample);
  });
});
