/**
 * Counts after a crash: /v1/stats must come back to the truth after workerd
 * dies with sessions open, within REAP_INTERVAL (+ slack), not a lease.
 *
 * Users × devices connect; /v1/stats must show them all. Then workerd is
 * SIGKILLed *as a crash* (the supervisor sees an unexpected exit and restarts
 * it on the same data dir), so no close event ever reports the drop. After the
 * restart a third of the users reconnect all their devices, a third one
 * device, and a third never come back. Presence must be right at once (it is
 * read from live sockets). /v1/stats must reach exactly the live count — the
 * users that never came back counted 0 — within REAP_INTERVAL + slack of the
 * crash: their objects' reaper alarms survive the restart, find no sockets
 * while the shard was last told "online", and report the 0. Then everyone left
 * closes cleanly and the counts must reach 0.
 */
import WebSocket from "ws";
import { Api, type Stats } from "./api.ts";
import { eventually, sleep } from "./time.ts";
import { startService } from "./service.ts";
import { Supervisor } from "../../tools/lib/supervisor.ts";
import { claimsFor, hs256 } from "./tokens.ts";

const SECRET = "chaos-crash-jwt-secret-0123456789";
const API_KEY = "chaos-crash-api-key-0123456789";

export interface CrashCountsOptions {
  users: number;
  devicesPerUser: number;
  log: (line: string) => void;
  /** REAP_INTERVAL for this workerd, seconds (the config's minimum is 60). */
  reapIntervalSeconds?: number;
  /** Allowed beyond REAP_INTERVAL, seconds. */
  slackSeconds?: number;
}

export interface CrashCountsResult {
  pass: boolean;
  failures: string[];
  sessionsOpened: number;
  statsBeforeCrash: Stats | string;
  /** Read right after the restart: still counting the dead sessions (what finding 3 was). */
  statsAfterRestart: Stats | string;
  expected: Stats;
  statsFinal: Stats | string;
  /** ms from the crash until /v1/stats equalled the live count (undefined: never, within the deadline). */
  convergedMs: number | undefined;
  deadlineMs: number;
  restartMs: number | undefined;
  presenceWrong: string[];
  /** ms from the last clean close until /v1/stats read 0. */
  zeroAfterLeaveMs: number | undefined;
  seconds: number;
}

const same = (a: Stats | string, b: Stats): boolean => typeof a !== "string" && a.onlineUsers === b.onlineUsers && a.sessions === b.sessions;
const show = (s: Stats | string): string => (typeof s === "string" ? s : `${s.onlineUsers} users / ${s.sessions} sessions`);

function open(url: string, token: string): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: false, handshakeTimeout: 10_000 });
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      if (!ok) ws.terminate();
      resolve(ok ? ws : undefined);
    };
    ws.once("message", () => finish(true)); // the welcome
    ws.once("error", () => finish(false));
    ws.once("close", () => finish(false));
    ws.once("unexpected-response", (_req, res) => {
      res.resume();
      finish(false);
    });
  });
}

export async function runCrashCounts(o: CrashCountsOptions): Promise<CrashCountsResult> {
  const started = Date.now();
  const reap = o.reapIntervalSeconds ?? 60;
  const slack = o.slackSeconds ?? 20;
  const svc = await startService({ kind: "workerd", knobs: { JWT_SECRET: SECRET, API_KEY, REAP_INTERVAL: String(reap), STATS_SHARDS: "4" } });
  const supervisor = new Supervisor(svc, { log: o.log });
  const api = new Api(svc.base, API_KEY);
  const failures: string[] = [];
  const sockets = new Set<WebSocket>();
  const beat = setInterval(() => {
    for (const ws of sockets) if (ws.readyState === WebSocket.OPEN) ws.send("ping");
  }, 20_000);
  const users = Array.from({ length: o.users }, (_, i) => `crash-${i}`);
  const tokens = new Map<string, string>();
  for (const u of users) tokens.set(u, await hs256(claimsFor(u, 3600), SECRET));
  const connect = async (user: string, device: number): Promise<WebSocket | undefined> => {
    const ws = await eventually(
      `${user}/d${device} to connect`,
      () => open(`${svc.wsBase}/v1/connect?device=d${device}`, tokens.get(user) ?? ""),
      2000,
      200,
    ).catch(() => undefined);
    if (ws === undefined) {
      failures.push(`${user}/d${device} could not connect`);
      return undefined;
    }
    sockets.add(ws);
    ws.once("close", () => sockets.delete(ws));
    return ws;
  };
  const pollStats = async (want: Stats, ms: number): Promise<{ at: number | undefined; last: Stats | string }> => {
    let last: Stats | string = "not read";
    const at = await eventually(
      `/v1/stats to read ${show(want)}`,
      async () => {
        const s = await api.stats();
        last = s.ok ? s.body : `${s.status} ${s.error}`;
        return same(last, want) ? Date.now() : undefined;
      },
      ms,
      500,
    ).catch(() => undefined);
    return { at, last };
  };

  const result: CrashCountsResult = {
    pass: false,
    failures,
    sessionsOpened: 0,
    statsBeforeCrash: "not read",
    statsAfterRestart: "not read",
    expected: { onlineUsers: 0, sessions: 0 },
    statsFinal: "not read",
    convergedMs: undefined,
    deadlineMs: (reap + slack) * 1000,
    restartMs: undefined,
    presenceWrong: [],
    zeroAfterLeaveMs: undefined,
    seconds: 0,
  };
  try {
    // ---- everyone online
    const all = users.flatMap((u) => Array.from({ length: o.devicesPerUser }, (_, d) => [u, d] as const));
    for (let i = 0; i < all.length; i += 32) await Promise.all(all.slice(i, i + 32).map(([u, d]) => connect(u, d)));
    result.sessionsOpened = sockets.size;
    const everyone: Stats = { onlineUsers: o.users, sessions: o.users * o.devicesPerUser };
    const before = await pollStats(everyone, 15_000);
    result.statsBeforeCrash = before.last;
    if (before.at === undefined) failures.push(`before the crash /v1/stats read ${show(before.last)}, expected ${show(everyone)}`);
    o.log(`  crash-counts: ${sockets.size} sessions over ${o.users} users open; stats ${show(before.last)}`);

    // ---- the crash: SIGKILL as an unexpected exit; the supervisor restarts workerd
    const crashAt = Date.now();
    o.log(`  crash-counts: SIGKILL workerd (pid ${String(svc.pid)}) with every session open (REAP_INTERVAL ${reap} s)`);
    await svc.crash();
    for (const ws of sockets) ws.terminate();
    await eventually("the supervisor's restart", () => supervisor.restarts.length > 0, crashAt + 30_000 - Date.now(), 50).catch(() => undefined);
    await supervisor.settled();
    if (supervisor.restarts.length === 0) {
      failures.push("the supervisor did not restart workerd within 30 s");
      return result;
    }
    result.restartMs = Date.now() - crashAt;
    const right = await api.stats();
    result.statsAfterRestart = right.ok ? right.body : `${right.status} ${right.error}`;
    o.log(
      `  crash-counts: workerd back after ${result.restartMs} ms; stats right after the restart: ${show(result.statsAfterRestart)} (the dead sessions, not yet reported)`,
    );

    // ---- a third come back with every device, a third with one, a third never
    const third = Math.ceil(o.users / 3);
    const live = new Map<string, number>();
    for (const [i, u] of users.entries()) live.set(u, i < third ? o.devicesPerUser : i < 2 * third ? 1 : 0);
    const back = users.flatMap((u) => Array.from({ length: live.get(u) ?? 0 }, (_, d) => [u, d] as const));
    for (let i = 0; i < back.length; i += 32) await Promise.all(back.slice(i, i + 32).map(([u, d]) => connect(u, d)));
    result.expected = { onlineUsers: [...live.values()].filter((n) => n > 0).length, sessions: [...live.values()].reduce((a, b) => a + b, 0) };
    o.log(
      `  crash-counts: ${sockets.size} sessions back over ${result.expected.onlineUsers} users; ${users.length - result.expected.onlineUsers} users never return`,
    );

    // Presence is read from live sockets: right at once.
    for (const u of users) {
      const p = await api.presence(u);
      const n = p.ok ? p.body.sessions.length : -1;
      if (n !== live.get(u)) result.presenceWrong.push(`${u}: presence ${p.ok ? n : `${p.status}`}, live ${String(live.get(u))}`);
    }
    if (result.presenceWrong.length > 0)
      failures.push(`presence wrong after the restart for ${result.presenceWrong.length} users: ${result.presenceWrong.slice(0, 3).join("; ")}`);

    // ---- /v1/stats must reach the live count within REAP_INTERVAL + slack of the crash
    const conv = await pollStats(result.expected, Math.max(0, crashAt + result.deadlineMs - Date.now()));
    result.statsFinal = conv.last;
    if (conv.at === undefined) {
      failures.push(
        `/v1/stats read ${show(conv.last)} ${((Date.now() - crashAt) / 1000).toFixed(1)} s after the crash, expected ${show(result.expected)} within REAP_INTERVAL + ${slack} s`,
      );
    } else {
      result.convergedMs = conv.at - crashAt;
      o.log(
        `  crash-counts: stats reached the live count (${show(result.expected)}) ${(result.convergedMs / 1000).toFixed(1)} s after the crash (limit ${reap + slack} s)`,
      );
      // …and stays there (no late ghost report, no double count).
      await sleep(2000);
      const again = await api.stats();
      const still = again.ok ? again.body : `${again.status} ${again.error}`;
      if (!same(still, result.expected)) failures.push(`/v1/stats moved to ${show(still)} after converging to ${show(result.expected)}`);
    }

    // ---- everyone left: 0
    const leftAt = Date.now();
    for (const ws of sockets) ws.close(1000, "bye");
    const zero = await pollStats({ onlineUsers: 0, sessions: 0 }, 15_000);
    if (zero.at === undefined) failures.push(`after everyone left, /v1/stats read ${show(zero.last)}`);
    else result.zeroAfterLeaveMs = zero.at - leftAt;
    result.statsFinal = zero.last;
    if (svc.unexpectedExits().length !== 1) failures.push(`workerd exited unexpectedly ${svc.unexpectedExits().length} times (1 expected: the crash)`);
  } finally {
    clearInterval(beat);
    for (const ws of sockets) ws.terminate();
    supervisor.stop();
    await svc.stop();
    result.seconds = (Date.now() - started) / 1000;
    result.pass = failures.length === 0;
  }
  return result;
}

export function printCrashCounts(r: CrashCountsResult, log: (line: string) => void): void {
  log(
    `crash counts: ${r.pass ? "ok" : "FAILED"} — ${r.sessionsOpened} sessions open, SIGKILL, supervisor restart in ${String(r.restartMs)} ms; ` +
      `stats just after the restart ${show(r.statsAfterRestart)}; live ${show(r.expected)}; ` +
      `stats = live ${r.convergedMs === undefined ? "NEVER" : `after ${(r.convergedMs / 1000).toFixed(1)} s`} (limit ${(r.deadlineMs / 1000).toFixed(0)} s); ` +
      `0 ${r.zeroAfterLeaveMs === undefined ? "NEVER" : `${(r.zeroAfterLeaveMs / 1000).toFixed(1)} s`} after everyone left; ${r.seconds.toFixed(1)} s`,
  );
  for (const f of r.failures) log(`  ${f}`);
}
