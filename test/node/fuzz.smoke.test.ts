/**
 * A short run of the abuse suite (scripts/fuzz.ts): the same generators and
 * oracle at a fraction of the volume, against standalone workerd. Asserts what
 * the full run asserts — no 5xx, no crash, every refusal documented, the JWT
 * table, mid-session expiry, the limits table (session cap at 5) — and that the
 * service still delivers afterwards. Fixed seed: a failure replays with
 * `npm run fuzz -- --seed 20261123`.
 */
import { describe, expect, it } from "vitest";
import { failures, printReport, runFuzz } from "../../scripts/lib/fuzzRun.ts";

describe("fuzz (smoke)", () => {
  it("bad inputs get documented refusals; the JWT table and limits hold; the service still delivers", async () => {
    const lines: string[] = [];
    const report = await runFuzz({
      seed: 20261123,
      scale: 0.06,
      ports: [9250, 9251],
      log: (line) => lines.push(line),
      expiryInSeconds: 3,
      limits: "light",
    });
    printReport(report, (line) => lines.push(line));
    const problems = failures(report);
    if (problems.length > 0) console.log(lines.join("\n"));
    expect(report.inputs).toBeGreaterThan(500);
    expect(report.jwt.length).toBeGreaterThan(40);
    expect(report.limits.length).toBeGreaterThan(8);
    expect(report.health.every((h) => h.pass)).toBe(true);
    expect(problems).toEqual([]);
  });
});
