/**
 * The idle phase of the bench: memory per hibernated session, connect rate,
 * and a push to each of a sample of hibernated users, on fresh servers.
 * workerd holds 2 fds per socket, plus 3 per object while it is awake (its
 * SQLite files); when the hard open-file limit can't hold them all in one
 * process, the sessions are spread over several identical ones (users routed
 * by index), and figures are summed over them.
 */
import { performance } from "node:perf_hooks";
import type { LoadGenerator } from "./driver.ts";
import { checkConnect, machineBusy, STOP_GRACE_MS, summarize, targetOf, type Kind, type Secrets } from "./measure.ts";
import type { Sizes } from "./options.ts";
import type { Service } from "../../scripts/lib/service.ts";
import { fmt } from "./stats.ts";
import { eventually } from "../../scripts/lib/time.ts";

export interface IdleContext {
  lg: LoadGenerator;
  sizes: Sizes;
  secrets: Secrets;
  problems: string[];
  notes: string[];
  log: (msg: string) => void;
  start: (kind: Kind, name: string) => Promise<Service>;
  /** Every server started, so the run stops them all however it ends. */
  servers: Service[];
}

export type IdleResult = Awaited<ReturnType<typeof idlePhase>>;

export async function idlePhase(c: IdleContext, kind: Kind) {
  const { lg, sizes, secrets, problems, notes, log, servers } = c;
  const fdsPerSession = 2 + 3 / sizes.idleSessionsPerUser;
  const probe = await c.start(kind, `${kind}-idle-0`);
  const shards: Service[] = [probe];
  servers.push(probe);
  const lim = probe.limits();
  const perProcess = Math.floor((Math.min(lim?.soft ?? 1024, sizes.nofile) - 512) / fdsPerSession / sizes.idleSessionsPerUser) * sizes.idleSessionsPerUser;
  const processes = Math.max(1, Math.ceil(sizes.idleSessions / perProcess));
  if (processes > 1)
    notes.push(
      `idle phase: ${kind} spread over ${processes} workerd processes (open-file limit ${lim?.soft}/${lim?.hard}, ~${fdsPerSession} fds per session while objects are awake)`,
    );
  for (let i = 1; i < processes; i++) {
    const S = await c.start(kind, `${kind}-idle-${i}`);
    shards.push(S);
    servers.push(S);
  }
  const totalUsers = Math.ceil(sizes.idleSessions / sizes.idleSessionsPerUser);
  await new Promise((r) => setTimeout(r, 300));
  const before = shards.map((S) => ({ rss: S.rss() ?? 0, fds: S.fds() ?? 0 }));
  const t0 = performance.now();
  // Users i, i+k, i+2k… go to process i: connect to all processes at once.
  const parts = await Promise.all(
    shards.map((S, i) => {
      const users = Math.floor(totalUsers / processes) + (i < totalUsers % processes ? 1 : 0);
      return lg.connect({
        target: targetOf(S, secrets),
        group: `${kind}:idle:${i}`,
        userPrefix: `idle-${i}-`,
        firstUser: 0,
        users,
        sessionsPerUser: sizes.idleSessionsPerUser,
        concurrency: Math.max(4, Math.floor(sizes.connectConcurrency / processes)),
      });
    }),
  );
  const connectWallMs = performance.now() - t0;
  parts.forEach((c, i) => checkConnect(`${kind} idle[${i}]`, c, problems));
  const opened = parts.reduce((n, c) => n + c.opened, 0);
  const connectCpuS = parts.reduce((n, c) => n + c.serverCpuS, 0);
  const awake = shards.map((S) => ({ rss: S.rss() ?? 0, fds: S.fds() ?? 0 }));
  // Wait until the objects hibernate: workerd evicts idle objects and closes
  // their database files, so the fd count falls to the sockets' own.
  const s0 = performance.now();
  let last = awake.reduce((n, a) => n + a.fds, 0);
  let stableSince = s0;
  const awakeFds = last;
  // Not settled within settleMaxMs: the figures below say how far it got.
  await eventually(
    "the objects to hibernate",
    () => {
      const f = shards.reduce((n, S) => n + (S.fds() ?? 0), 0);
      if (f === last) return f < awakeFds && performance.now() - stableSince > 2000;
      last = f;
      stableSince = performance.now();
      return false;
    },
    sizes.settleMaxMs,
    500,
  ).catch(() => undefined);
  const settleMs = performance.now() - s0;
  const idle = shards.map((S) => ({ rss: S.rss() ?? 0, fds: S.fds() ?? 0 }));
  const sum = (xs: Array<{ rss: number; fds: number }>, f: "rss" | "fds") => xs.reduce((n, x) => n + x[f], 0);
  const fdsPerSessionIdle = (sum(idle, "fds") - sum(before, "fds")) / Math.max(1, opened);
  const hibernated = fdsPerSessionIdle <= 2.2;
  if (!hibernated && sizes.settleMaxMs > 0)
    notes.push(`${kind}: objects did not all hibernate within ${sizes.settleMaxMs} ms (${fmt(fdsPerSessionIdle)} fds/session)`);
  // Wake a sample of hibernated users with one live push each, checked like any other.
  const wakeUsers = Math.min(sizes.wakeSample, Math.floor(totalUsers / processes));
  const busy = machineBusy();
  const wake = await lg.push({
    target: targetOf(shards[0] as Service, secrets),
    group: `${kind}:idle:0`,
    toUser: wakeUsers,
    ttl: 0,
    mode: "closed",
    concurrency: 8,
    durationMs: 60_000,
    maxPushes: wakeUsers,
    payloadBytes: sizes.payloadBytes,
    connections: 8,
  });
  const wakeSummary = summarize(wake, busy());
  if (wake.errors > 0) problems.push(`${kind}: ${wake.errors} push errors waking idle users (${wake.errorSamples.join("; ")})`);
  const m = {
    sessions: opened,
    users: totalUsers,
    sessionsPerUser: sizes.idleSessionsPerUser,
    processes,
    connect: {
      opened,
      failed: parts.reduce((n, c) => n + c.failed, 0),
      wallMs: connectWallMs,
      serverCpuS: connectCpuS,
      perS: opened / (connectWallMs / 1000),
      cpuPerConnectMs: (connectCpuS / Math.max(1, opened)) * 1000,
    },
    rssBeforeMB: sum(before, "rss") / 2 ** 20,
    rssAwakeMB: sum(awake, "rss") / 2 ** 20,
    rssIdleMB: sum(idle, "rss") / 2 ** 20,
    awakeKBPerSession: (sum(awake, "rss") - sum(before, "rss")) / 1024 / Math.max(1, opened),
    idleKBPerSession: (sum(idle, "rss") - sum(before, "rss")) / 1024 / Math.max(1, opened),
    fdsBefore: sum(before, "fds"),
    fdsAwake: sum(awake, "fds"),
    fdsIdle: sum(idle, "fds"),
    fdsPerSessionIdle,
    settleMs,
    hibernated,
    openFileLimit: lim,
    wake: wakeSummary,
  };
  log(
    `${kind}: ${opened} idle sessions over ${processes} process(es) at ${fmt(m.connect.perS)}/s (${fmt(m.connect.cpuPerConnectMs)} ms CPU each); ` +
      `RSS +${fmt(m.idleKBPerSession)} KB/session hibernated (+${fmt(m.awakeKBPerSession)} awake), ${fmt(fdsPerSessionIdle)} fds/session, settled in ${fmt(settleMs / 1000)} s; ` +
      `waking push ${fmt(wakeSummary.cpuPerPushUs)} µs CPU`,
  );
  // Stop the servers first (at once: their data dirs are thrown away), then drop
  // the client side: closing 10,000 sessions gracefully wakes every hibernated
  // object (~25 s for Switchboard) and measures nothing.
  await Promise.all(shards.map((S) => S.stop(STOP_GRACE_MS)));
  for (let i = 0; i < shards.length; i++) await lg.close(`${kind}:idle:${i}`);
  return m;
}
