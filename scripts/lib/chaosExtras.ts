/**
 * The extra chaos sections: a mass disconnect (a network blip dropping
 * thousands of sessions at once) under supervision, and a slow consumer.
 * Each runs on its own workerd with on-disk storage.
 */
import { Api } from "./api.ts";
import { massDisconnect, type MassResult } from "./massDrop.ts";
import { eventually } from "./time.ts";
import { startService } from "./service.ts";
import { slowConsumer, type SlowResult } from "./slowConsumer.ts";
import { Supervisor } from "../../tools/lib/supervisor.ts";
import { claimsFor, hs256 } from "./tokens.ts";

const SECRET = "chaos-extra-jwt-secret-0123456789";
/** Seconds; the config's minimum. */
const REAP_INTERVAL = 60;
const API_KEY = "chaos-extra-api-key-0123456789";

export interface MassCheck {
  pass: boolean;
  detail: string;
  result: MassResult | undefined;
  restarts: number;
}

export async function runMass(o: {
  sessions: number;
  perUser: number;
  idleSeconds: number;
  log: (l: string) => void;
  /** workerd's open-file limit (lower it to reproduce fd exhaustion with fewer sessions). */
  nofile?: number;
}): Promise<MassCheck> {
  const svc = await startService({
    kind: "workerd",
    knobs: { JWT_SECRET: SECRET, API_KEY, REAP_INTERVAL: String(REAP_INTERVAL) },
    nofile: o.nofile,
  });
  const supervisor = new Supervisor(svc, { log: o.log });
  const api = new Api(svc.base, API_KEY);
  try {
    const result = await massDisconnect(svc, api, {
      sessions: o.sessions,
      perUser: o.perUser,
      how: "terminate",
      concurrency: 64,
      token: (u) => hs256(claimsFor(u, 3600), SECRET),
      log: o.log,
      settleSeconds: 45,
      idleSeconds: o.idleSeconds,
      userPrefix: "blip",
    });
    await supervisor.settled();
    const restarted = supervisor.restarts.length;
    const crashes = supervisor.restarts.map(
      (r) =>
        `${r.after.signal ?? `code ${String(r.after.code)}`}: ${(r.after.tail.filter((l) => l.trim() !== "" && !l.startsWith("stack:")).slice(-1)[0] ?? "").slice(0, 100)}`,
    );
    if (supervisor.gaveUp || !svc.running) {
      return {
        pass: false,
        detail: `workerd is down: the supervisor gave up after ${restarted} restart(s) (${crashes.join("; ")})`,
        result,
        restarts: restarted,
      };
    }
    if (restarted > 0) {
      // workerd died (while the sessions connected, or in the drop) and the supervisor brought
      // it back. Presence must be right at once (it is read from live sockets); /v1/stats within
      // REAP_INTERVAL (+ slack) of the last crash, when each user object's reaper alarm, which
      // survives the restart, reports the 0 the lost close events never did
      // (docs/guarantees.md, "Mass disconnect").
      const crashedAt = supervisor.restarts[restarted - 1]?.after.at ?? Date.now();
      const users = Math.ceil(o.sessions / o.perUser);
      const presenceWrong: string[] = [];
      for (let i = 0; i < users; i += Math.max(1, Math.floor(users / 50))) {
        const p = await api.presence(`blip-${i}`);
        if (!p.ok || p.body.sessions.length > 0) presenceWrong.push(`blip-${i}`);
      }
      let stats = await api.stats();
      const backToZero = () => stats.ok && stats.body.sessions === 0 && stats.body.onlineUsers === 0;
      const left = crashedAt + (REAP_INTERVAL + 20) * 1000 - Date.now();
      await eventually("/v1/stats back to 0", async () => backToZero() || ((stats = await api.stats()), backToZero()), Math.max(0, left), 1000).catch(
        () => undefined,
      );
      const statsOk = backToZero();
      const detail =
        `workerd exited ${restarted}× ${result.survived ? "before" : "after"} the drop (${crashes.join("; ")}) and was restarted by the supervisor ` +
        `(down ${supervisor.restarts.map((r) => `${r.downMs} ms`).join(", ")}); ${result.opened} sessions had opened (${result.openFailures} failed); ` +
        `presence of sampled users ${presenceWrong.length === 0 ? "correct (0)" : `WRONG for ${presenceWrong.length}`}; ` +
        `stats ${JSON.stringify(stats.ok ? stats.body : stats.status)} ${((Date.now() - crashedAt) / 1000).toFixed(1)} s after the last crash` +
        `${statsOk ? "" : " — not back to 0 within REAP_INTERVAL + 20 s"}`;
      o.log(`  mass: ${detail}`);
      return { pass: presenceWrong.length === 0 && statsOk, detail, result, restarts: restarted };
    }
    return { pass: result.pass, detail: `${result.detail}; peak workerd fds ${result.peakFds}`, result, restarts: restarted };
  } finally {
    supervisor.stop();
    await svc.stop();
  }
}

export interface SlowCheck {
  pass: boolean;
  detail: string;
  result: SlowResult;
  /** RSS growth per byte pushed while one reader was stalled. */
  rssPerPushedByte: number;
}

export async function runSlow(o: { pushes: number; rate: number; log: (l: string) => void }): Promise<SlowCheck> {
  const svc = await startService({ kind: "workerd", knobs: { JWT_SECRET: SECRET, API_KEY, MAX_STORED_PER_USER: "5000" } });
  const api = new Api(svc.base, API_KEY);
  try {
    const result = await slowConsumer(svc, api, {
      user: "slow-user",
      token: await hs256(claimsFor("slow-user", 3600), SECRET),
      messageBytes: 32_768,
      pushes: o.pushes,
      concurrency: 8,
      rate: o.rate,
      log: o.log,
    });
    // What must hold: the other session is not stalled, and the stalled client, once it reads
    // (or resumes), misses nothing. Memory growth is measured and reported, not asserted.
    const pass = result.healthyReceived === result.pushed && result.stalledCaughtUp;
    const rssPerPushedByte = (result.rssPeak - result.rssStart) / Math.max(1, result.pushedBytes);
    return { pass, detail: `${result.detail}; RSS grew ${rssPerPushedByte.toFixed(2)} B per byte pushed`, result, rssPerPushedByte };
  } finally {
    await svc.stop();
  }
}
