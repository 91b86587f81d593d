/**
 * The chaos suite (npm run chaos, and its smoke run in npm test).
 *
 * Switchboard on standalone workerd with on-disk Durable Object storage. Many
 * users × devices connect, drop (clean close, or abrupt: the TCP socket is
 * destroyed without a close frame) and resume with `?since=<last seq seen>`,
 * deduplicating by seq exactly as the SDK does, while stored pushes go in. The
 * workerd process is SIGKILLed and restarted on the same data dir mid-run (at
 * least twice). Then every device catches up, and a checker asserts for every
 * device that every seq the push API answered (HTTP 200) was received exactly
 * once after dedupe, in order.
 *
 * A push whose HTTP call failed (workerd was killed under it) was never
 * answered: it may or may not be stored. Pushers retry a failed push once with
 * the same `id` (as a real pusher would), which either stores it or answers the
 * original seq with `duplicate: true`; one still unanswered at the end is
 * accepted if received and never required — but every seq must still be unique
 * and in order, and every seq the log holds must map to one id.
 */
import { Api } from "./api.ts";
import { check } from "./chaos/checker.ts";
import { Device } from "./chaos/device.ts";
import type { ChaosReport, PushRecord } from "./chaos/report.ts";
import { rng, type Rng } from "./random.ts";
import { eventually, sleep } from "./time.ts";
import { startService } from "./service.ts";
import { claimsFor, hs256 } from "./tokens.ts";

export { chaosFailures, printChaos, type ChaosReport, type DeviceReport } from "./chaos/report.ts";

export interface ChaosOptions {
  seed: number;
  users: number;
  devicesPerUser: number;
  /** Seconds of chaos (pushes + drops), before the catch-up phase. */
  seconds: number;
  /** SIGKILL + restart cycles during the chaos phase (≥ 2). */
  kills: number;
  /** Target stored pushes per second, all users together. */
  pushRate: number;
  log: (line: string) => void;
  /** Self-test of the checker: the client silently drops this many arriving frames (must be reported as lost). */
  injectLoss?: number;
}

const SECRET = "chaos-jwt-secret-0123456789abcdef";
const API_KEY = "chaos-api-key-0123456789abcdef";
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const r: Rng = rng(o.seed);
  const svc = await startService({
    kind: "workerd",
    knobs: { JWT_SECRET: SECRET, API_KEY, HEARTBEAT_INTERVAL: "3", STALE_AFTER: "10", REAP_INTERVAL: "60", STATS_SHARDS: "4" },
  });
  const api = new Api(svc.base, API_KEY);
  const users = Array.from({ length: o.users }, (_, i) => `chaos-${o.seed}-${i}`);
  const devices: Device[] = [];
  for (const user of users) {
    const token = await hs256(claimsFor(user, 3600), SECRET);
    for (let d = 0; d < o.devicesPerUser; d++) devices.push(new Device(user, `dev${d}`, token));
  }
  for (let i = 0; i < (o.injectLoss ?? 0); i++) {
    const d = devices[i % devices.length];
    if (d !== undefined) d.swallow++;
  }
  const pushes: PushRecord[] = [];
  const report: ChaosReport = {
    seed: o.seed,
    seconds: 0,
    pushes: { attempted: 0, answered: 0, duplicateAnswers: 0, failedOnce: 0, retriedAnswered: 0, unanswered: 0 },
    unansweredReceived: 0,
    storedUnansweredNotReceived: 0,
    restarts: 0,
    unexpectedExits: 0,
    devices: [],
    lost: 0,
    duplicated: 0,
    reordered: 0,
    notRecovered: 0,
    integrity: [],
    flagged: [],
  };
  let stop = false;
  let down = false;
  const tasks: Array<Promise<void>> = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    // ---- devices: connect, drop, resume
    for (const d of devices) {
      tasks.push(
        (async () => {
          const dr = rng(o.seed * 31 + devices.indexOf(d));
          await sleep(dr.int(0, 500));
          while (!stop) {
            if (d.ws === undefined && !d.connecting) {
              const ok = await d.connect(svc.wsBase);
              if (!ok) {
                await sleep(dr.int(50, down ? 400 : 200));
                continue;
              }
            }
            // Stay connected a while, then maybe drop.
            await sleep(dr.int(200, 2500));
            if (stop) break;
            const roll = dr();
            if (roll < 0.35) d.drop("clean");
            else if (roll < 0.7) d.drop("abrupt");
            // Offline for a moment before resuming.
            if (d.ws === undefined || roll < 0.7) await sleep(dr.int(0, 1200));
          }
        })(),
      );
    }
    timers.push(
      setInterval(() => {
        for (const d of devices) d.heartbeat();
      }, 3000),
      setInterval(() => {
        for (const d of devices) d.ack();
      }, 700),
    );

    // ---- pushers
    let counter = 0;
    const retries: PushRecord[] = [];
    const pushOnce = async (rec: PushRecord) => {
      const res = await api.push(rec.user, { data: { id: rec.id, at: Date.now() }, id: rec.id });
      if (res.ok && res.body.seq !== null) {
        if (rec.seq !== undefined && rec.seq !== res.body.seq) {
          report.integrity.push(`${rec.id}: answered seq ${rec.seq}, then ${res.body.seq} on retry`);
        }
        rec.seq = res.body.seq;
        if (res.body.duplicate) rec.duplicateAnswer = true;
        return true;
      }
      return false;
    };
    const pushers = 6;
    const interval = (1000 * pushers) / o.pushRate;
    for (let p = 0; p < pushers; p++) {
      tasks.push(
        (async () => {
          const pr = rng(o.seed * 97 + p);
          while (!stop) {
            const retry = retries.length > 0 && !down && pr.chance(0.5) ? retries.shift() : undefined;
            if (retry !== undefined) {
              if (await pushOnce(retry)) report.pushes.retriedAnswered++;
              continue;
            }
            const user = pr.pick(users);
            const rec: PushRecord = { user, id: `c${o.seed}-${++counter}`, seq: undefined, duplicateAnswer: false, failedOnce: false };
            pushes.push(rec);
            report.pushes.attempted++;
            const ok = await pushOnce(rec);
            if (!ok) {
              rec.failedOnce = true;
              report.pushes.failedOnce++;
              // Retry later with the same id, once.
              if (pr.chance(0.7)) retries.push(rec);
            }
            await sleep(pr.int(0, Math.max(1, Math.round(interval * 2))));
          }
        })(),
      );
    }

    // ---- the killer
    const killAt = Array.from({ length: o.kills }, (_, i) => ((i + 1) * o.seconds * 1000) / (o.kills + 1) + r.int(-500, 500));
    const t0 = Date.now();
    for (const at of killAt) {
      await sleep(Math.max(0, at - (Date.now() - t0)));
      o.log(`  chaos: SIGKILL workerd (pid ${String(svc.pid)}) at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      down = true;
      await svc.kill("SIGKILL");
      await sleep(r.int(200, 1500));
      await svc.restart();
      down = false;
      report.restarts++;
      o.log(`  chaos: workerd restarted on the same data dir (pid ${String(svc.pid)})`);
    }
    await sleep(Math.max(0, o.seconds * 1000 - (Date.now() - t0)));
    stop = true;
    await Promise.all(tasks);
    // Last retries for pushes that never got an answer.
    for (const rec of retries.splice(0)) if (await pushOnce(rec)) report.pushes.retriedAnswered++;

    // ---- catch-up: every device resumes and must reach its user's head
    o.log("  chaos: catch-up");
    const logs = new Map<string, { head: number; messages: Array<{ id: string; seq: number }> }>();
    for (const user of users) {
      const page = await api.messages(user, 0, 1000);
      if (!page.ok) report.integrity.push(`GET messages for ${user}: ${page.status} ${page.error}`);
      else logs.set(user, page.body);
    }
    const deadline = Date.now() + 30_000;
    for (const d of devices) {
      const head = logs.get(d.user)?.head ?? 0;
      // Not caught up by the deadline: the checker below names what is missing.
      await eventually(
        `${d.user}'s device to reach seq ${head}`,
        async () => {
          if (d.lastSeq >= head) return true;
          if (d.ws === undefined && !d.connecting) await d.connect(svc.wsBase);
          return undefined;
        },
        Math.max(0, deadline - Date.now()),
        50,
      ).catch(() => undefined);
    }
    for (const d of devices) d.drop("clean");

    // ---- the checker
    check(report, users, pushes, logs, devices);
  } finally {
    stop = true;
    for (const t of timers) clearInterval(t);
    for (const d of devices) d.ws?.terminate();
    report.unexpectedExits = svc.unexpectedExits().length;
    report.flagged = svc.flagged.slice(0, 50);
    await svc.stop();
  }
  report.seconds = (Date.now() - started) / 1000;
  return report;
}
