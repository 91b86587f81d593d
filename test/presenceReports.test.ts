/**
 * What a user's object tells its stats shard, and how often: the reporter
 * under a shard stand-in that records every report it is sent.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { configFrom } from "../src/config";
import { PresenceReporter, REPORT_LINGER_MS } from "../src/hub/presenceReporter";
import { hubOf, uniqueUser } from "./helpers";

interface Sent {
  userId: string;
  sessions: number;
  version: number;
}

/** An env whose STATS_SHARD records reports (and fails them while `failing` is set). */
function recordingEnv(): { env: Env; sent: Sent[]; failing: { on: boolean } } {
  const sent: Sent[] = [];
  const failing = { on: false };
  const shard = {
    report: async (userId: string, sessions: number, version: number) => {
      if (failing.on) throw new Error("shard unavailable");
      sent.push({ userId, sessions, version });
    },
  };
  const fake = { ...env, STATS_SHARD: { getByName: () => shard } };
  return { env: fake as unknown as Env, sent, failing };
}

/** The linger is the reporter's own setTimeout: run it on the fake clock (the reports themselves are promises, not timers). */
const afterLinger = () => vi.advanceTimersByTimeAsync(REPORT_LINGER_MS);

function config() {
  const result = configFrom(env);
  if (!result.ok) throw new Error(result.problem);
  return result.config;
}

describe("presence reports", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("changes within the linger go as one report of the latest count; a count the shard already has is not sent again", async () => {
    const user = uniqueUser("rep");
    await runInDurableObject(hubOf(user), async (_instance, state) => {
      const { env: fake, sent } = recordingEnv();
      const reporter = new PresenceReporter(state, fake, config(), () => {});

      // Two devices coming back a few milliseconds apart (separate events): one report.
      reporter.report(1);
      await vi.advanceTimersByTimeAsync(REPORT_LINGER_MS / 10);
      reporter.report(2);
      expect(sent).toEqual([]);
      await afterLinger();
      expect(sent.map((s) => [s.userId, s.sessions])).toEqual([[user, 2]]);

      // A phone that drops and reconnects within the linger: the shard already has 2.
      reporter.report(1);
      reporter.report(2);
      await afterLinger();
      expect(sent).toHaveLength(1);

      // A real change after that is sent, with a newer version.
      reporter.report(0);
      await afterLinger();
      expect(sent.map((s) => s.sessions)).toEqual([2, 0]);
      expect(sent[1]!.version).toBeGreaterThan(sent[0]!.version);
    });
  });

  it("a failed report is kept for the retry, even when the count then returns to the last one acknowledged", async () => {
    const user = uniqueUser("rep");
    await runInDurableObject(hubOf(user), async (_instance, state) => {
      const { env: fake, sent, failing } = recordingEnv();
      let alarmsAsked = 0;
      const reporter = new PresenceReporter(state, fake, config(), () => alarmsAsked++);
      reporter.report(1);
      await afterLinger();
      expect(sent.map((s) => s.sessions)).toEqual([1]);

      failing.on = true;
      reporter.report(0);
      await afterLinger();
      expect(alarmsAsked).toBe(1);
      expect(reporter.retryAt()).toBeDefined();

      // The retry (the alarm's flush) reports even though the count is back to 1:
      // the shard may have applied the failed report.
      failing.on = false;
      await reporter.flush(1);
      expect(sent.map((s) => s.sessions)).toEqual([1, 1]);
      expect(reporter.retryAt()).toBeUndefined();
    });
  });

  it("an instance that has reported nothing yet (a restart) always sends, whatever the count", async () => {
    const user = uniqueUser("rep");
    await runInDurableObject(hubOf(user), async (_instance, state) => {
      const { env: fake, sent } = recordingEnv();
      const reporter = new PresenceReporter(state, fake, config(), () => {});
      expect(reporter.reportedSinceStart).toBe(false);
      await reporter.flush(0);
      expect(sent.map((s) => s.sessions)).toEqual([0]);
      expect(reporter.reportedSinceStart).toBe(true);
    });
  });
});
