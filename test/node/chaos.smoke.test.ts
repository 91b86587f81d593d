/**
 * A short run of the chaos suite (scripts/chaos.ts): users × devices churning
 * (clean and abrupt drops, resume with since, SDK-style dedupe) while stored
 * pushes go in, workerd SIGKILLed and restarted twice on the same data dir.
 * Zero answered seqs may be lost or reordered, and the log must agree with
 * every answer. Then a small mass disconnect: counts and presence back to 0.
 * Alongside (it mostly waits for REAP_INTERVAL, 60 s): counts after a crash —
 * workerd SIGKILLed with sessions open, restarted by the supervisor; /v1/stats
 * must reach the live count within REAP_INTERVAL + 20 s.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { runMass } from "../../scripts/lib/chaosExtras.ts";
import { chaosFailures, printChaos, runChaos } from "../../scripts/lib/chaosRun.ts";
import { printCrashCounts, runCrashCounts, type CrashCountsResult } from "../../scripts/lib/crashCounts.ts";

describe("chaos (smoke)", () => {
  const crashLines: string[] = [];
  let crash: Promise<CrashCountsResult | Error>;
  beforeAll(() => {
    crash = runCrashCounts({ users: 24, devicesPerUser: 2, log: (l) => crashLines.push(l) }).catch((err: unknown) =>
      err instanceof Error ? err : new Error(String(err)),
    );
  });

  it("no answered push is lost across drops and two SIGKILL+restarts", async () => {
    const lines: string[] = [];
    const report = await runChaos({ seed: 20261123, users: 4, devicesPerUser: 2, seconds: 14, kills: 2, pushRate: 25, log: (l) => lines.push(l) });
    printChaos(report, (l) => lines.push(l));
    if (chaosFailures(report).length > 0) console.log(lines.join("\n"));
    expect(report.restarts).toBe(2);
    expect(report.pushes.answered).toBeGreaterThan(100);
    expect(report.lost).toBe(0);
    expect(report.reordered).toBe(0);
    expect(report.integrity).toEqual([]);
    expect(report.unexpectedExits).toBe(0);
    expect(chaosFailures(report)).toEqual([]);
  });

  it("a mass disconnect leaves the service running with presence and counts back to zero", async () => {
    const lines: string[] = [];
    const mass = await runMass({ sessions: 400, perUser: 4, idleSeconds: 0, log: (l) => lines.push(l) });
    if (!mass.pass) console.log(lines.join("\n"));
    expect(mass.result?.opened).toBe(400);
    expect(mass.restarts).toBe(0);
    expect(mass.pass).toBe(true);
  });

  it("after a SIGKILL with sessions open, /v1/stats reaches the live count within REAP_INTERVAL", async () => {
    const result = await crash;
    if (result instanceof Error) throw result;
    printCrashCounts(result, (l) => crashLines.push(l));
    if (!result.pass) console.log(crashLines.join("\n"));
    expect(result.sessionsOpened).toBe(48);
    expect(result.statsAfterRestart).toEqual({ onlineUsers: 24, sessions: 48 }); // the dead sessions, before the alarms
    expect(result.expected).toEqual({ onlineUsers: 16, sessions: 24 });
    expect(result.convergedMs).toBeLessThanOrEqual(result.deadlineMs);
    expect(result.zeroAfterLeaveMs).toBeDefined();
    expect(result.failures).toEqual([]);
  });
});
