/**
 * npm run bench — Switchboard against a minimal BASELINE Worker on the same
 * runtime (standalone workerd, same compatibility date, on-disk Durable
 * Object storage), driven by the same load from a separate process.
 *
 *   npm run bench                      # full run (≈ 4 min), writes bench/results/latest.json
 *   npm run bench -- --rounds 5        # more paired rounds
 *   npm run bench -- --smoke           # tiny sizes, seconds; used by test/node/bench.smoke.test.ts
 *   npm run bench -- --out FILE        # where to write the JSON
 *   npm run bench -- --skip-memory     # leave out the 10,000-idle-session phase
 *   npm run bench -- --patch NAME.diff [--patch …]   # Switchboard built from a scratch copy of src/ with
 *                                      # bench/patches/NAME.diff applied (to measure a proposed change; see bench/patches/README.md)
 *   npm run bench -- --profile         # CPU/push of src/ variants with one piece stubbed (bench/profile.ts)
 *   npm run bench -- --billing-probe   # billed units (rows, alarms, requests) per handler (bench/billing-probe.ts)
 *   npm run bench -- --cost-model      # the monthly bill for a workload (bench/cost-model.ts)
 *   npm run bench -- --connect         # CPU per connect and connect rate, paired rounds (bench/connect.ts)
 *   npm run bench -- --storm [--users U --devices K]   # a reconnect storm through the SDK (bench/storm.ts)
 *
 * See docs/benchmark.md for what each figure means and how to read it.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { ROOT, WORKERD } from "../scripts/lib/workerd.ts";
import { COMPATIBILITY_DATE } from "../scripts/lib/wranglerConfig.ts";
import { LoadGenerator } from "./lib/driver.ts";
import { machineBusy, type PushSummary, summarize, targetOf } from "./lib/measure.ts";
import type { ConnectResult, PushArgs } from "./lib/messages.ts";
import { BASELINE_SCRIPT, buildProduct, hookCleanup, type Server, startServer } from "./lib/servers.ts";
import { fmt, median, table } from "./lib/stats.ts";

// ---- options ----

interface Sizes {
  rounds: number;
  /** Users for the small half of the 10× scale comparison; the throughput runs use usersLarge. */
  usersSmall: number;
  usersLarge: number;
  sessionsPerUser: number;
  connectConcurrency: number;
  windowMs: number;
  warmupMs: number;
  liveConcurrency: number;
  storedConcurrency: number;
  connections: number;
  payloadBytes: number;
  latencyRate: number;
  latencyWindowMs: number;
  fanoutSessions: number;
  fanoutConcurrency: number;
  fanoutWindowMs: number;
  idleSessions: number;
  idleSessionsPerUser: number;
  /** Hibernated users woken by one push each, after the idle measurement. */
  wakeSample: number;
  /** Longest wait for the idle objects to hibernate (evicted; fds drop to the sockets' own). */
  settleMaxMs: number;
  /** Open-file limit asked for, for workerd and the load generator. */
  nofile: number;
}

const FULL: Sizes = {
  rounds: 5,
  usersSmall: 100,
  usersLarge: 1000,
  sessionsPerUser: 2,
  connectConcurrency: 192,
  windowMs: 1500,
  warmupMs: 300,
  liveConcurrency: 48,
  storedConcurrency: 96,
  connections: 48,
  payloadBytes: 64,
  latencyRate: 200,
  latencyWindowMs: 2000,
  fanoutSessions: 1000,
  fanoutConcurrency: 4,
  fanoutWindowMs: 1500,
  idleSessions: 10_000,
  idleSessionsPerUser: 2,
  wakeSample: 200,
  settleMaxMs: 25_000,
  nofile: 65_536,
};

const SMOKE: Sizes = {
  ...FULL,
  rounds: 1,
  usersSmall: 3,
  usersLarge: 12,
  connectConcurrency: 16,
  windowMs: 300,
  warmupMs: 100,
  liveConcurrency: 8,
  storedConcurrency: 8,
  connections: 8,
  latencyRate: 50,
  latencyWindowMs: 400,
  fanoutSessions: 20,
  fanoutConcurrency: 2,
  fanoutWindowMs: 300,
  idleSessions: 40,
  wakeSample: 5,
  settleMaxMs: 0,
};

function parseArgs(argv: string[]) {
  const o = { smoke: false, profile: false, skipMemory: false, rounds: undefined as number | undefined, out: undefined as string | undefined, echo: false, patches: [] as string[] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--smoke") o.smoke = true;
    else if (a === "--profile") o.profile = true;
    else if (a === "--skip-memory") o.skipMemory = true;
    else if (a === "--echo") o.echo = true;
    else if (a === "--rounds") o.rounds = Number(argv[++i]);
    else if (a === "--out") o.out = argv[++i];
    else if (a === "--patch") o.patches.push(argv[++i] ?? "");
    else throw new Error(`unknown option ${a} (see the header of bench/run.ts)`);
  }
  return o;
}

// ---- measurements ----

/** Servers are stopped with sockets open; workerd would drain them for ~5 s first. */
const STOP_GRACE_MS = 500;

const T0 = performance.now();
function log(msg: string): void {
  process.stderr.write(`bench [${((performance.now() - T0) / 1000).toFixed(0).padStart(3)} s] ${msg}\n`);
}

function checkConnect(what: string, r: ConnectResult, problems: string[]): void {
  if (r.failed > 0) problems.push(`${what}: ${r.failed} connects failed (${r.errors.join("; ")})`);
}

// ---- the run ----

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes("--profile")) {
    const { profile } = await import("./profile.ts");
    await profile(argv.filter((a) => a !== "--profile"));
    return;
  }
  if (argv.includes("--billing-probe")) {
    const { probe } = await import("./billing-probe.ts");
    await probe(argv.filter((a) => a !== "--billing-probe"));
    return;
  }
  if (argv.includes("--connect")) {
    const { connectBench, printConnect } = await import("./connect.ts");
    printConnect(await connectBench(argv.filter((a) => a !== "--connect")));
    return;
  }
  if (argv.includes("--storm")) {
    const { storm, printStorm } = await import("./storm.ts");
    printStorm(await storm(argv.filter((a) => a !== "--storm")));
    return;
  }
  if (argv.includes("--cost-model")) {
    const { costModel } = await import("./cost-model.ts");
    costModel(argv.filter((a) => a !== "--cost-model"));
    return;
  }
  const opts = parseArgs(process.argv.slice(2));
  const sizes: Sizes = { ...(opts.smoke ? SMOKE : FULL) };
  if (opts.rounds !== undefined && Number.isInteger(opts.rounds) && opts.rounds > 0) sizes.rounds = opts.rounds;
  const out = resolve(opts.out ?? (opts.smoke ? join(tmpdir(), `switchboard-bench-smoke-${process.pid}.json`) : join(ROOT, "bench/results/latest.json")));
  hookCleanup();
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const loadStart = loadavg();
  const problems: string[] = [];
  const notes: string[] = [];

  const secrets = { apiKey: `bench-api-${randomBytes(12).toString("hex")}`, jwtSecret: `bench-jwt-${randomBytes(24).toString("hex")}` };
  const knobs = {
    JWT_SECRET: secrets.jwtSecret,
    API_KEY: secrets.apiKey,
    DEV_MODE: "0",
    // The fan-out user has fanoutSessions sessions; the default cap is 100.
    MAX_SESSIONS_PER_USER: String(Math.max(100, sizes.fanoutSessions + 16)),
  };

  log(`building the Worker with wrangler${opts.patches.length > 0 ? ` with ${opts.patches.join(", ")} applied to a scratch copy of src/` : ""}…`);
  const productScript = buildProduct(opts.patches);
  const startProduct = (name: string) => startServer({ name, kind: "product", script: productScript, knobs, nofile: sizes.nofile, echo: opts.echo });
  const startBaseline = (name: string) => startServer({ name, kind: "baseline", script: BASELINE_SCRIPT, nofile: sizes.nofile, echo: opts.echo });

  const P = await startProduct("product");
  const B = await startBaseline("baseline");
  const lg = LoadGenerator.start(sizes.nofile);
  const servers: Server[] = [P, B];
  const limits = { product: P.limits(), baseline: B.limits(), loadGenerator: undefined as { soft: number; hard: number } | undefined };
  log(`product pid ${P.pid} on ${P.base}, baseline pid ${B.pid} on ${B.base}; open-file limits ${JSON.stringify(limits.product)}`);

  const T = { product: targetOf(P, secrets), baseline: targetOf(B, secrets) };
  const kinds = ["product", "baseline"] as const;
  type Kind = (typeof kinds)[number];
  /** Round r runs product first when r is even, baseline first when odd: drift cancels in the median. */
  const order = (r: number): Kind[] => (r % 2 === 0 ? ["product", "baseline"] : ["baseline", "product"]);

  const raw = {
    connect: {} as Record<string, ConnectResult & { perS: number; cpuPerConnectMs: number }>,
    scaleSmall: { product: [] as PushSummary[], baseline: [] as PushSummary[] },
    live: { product: [] as PushSummary[], baseline: [] as PushSummary[] },
    stored: { product: [] as PushSummary[], baseline: [] as PushSummary[] },
    latency: { product: [] as PushSummary[], baseline: [] as PushSummary[] },
    fanout: { product: [] as PushSummary[], baseline: [] as PushSummary[] },
    memory: {} as Record<string, unknown>,
  };

  const connect = async (kind: Kind, label: string, group: string, prefix: string, first: number, users: number, spu: number) => {
    const r = await lg.connect({ target: T[kind], group, userPrefix: prefix, firstUser: first, users, sessionsPerUser: spu, concurrency: sizes.connectConcurrency });
    groupUsers.set(group, (groupUsers.get(group) ?? 0) + users);
    checkConnect(`${kind} ${label}`, r, problems);
    raw.connect[`${kind}:${label}`] = { ...r, perS: r.opened / (r.wallMs / 1000), cpuPerConnectMs: (r.serverCpuS / Math.max(1, r.opened)) * 1000 };
    log(`${kind}: connected ${r.opened} sessions (${label}) at ${fmt(r.opened / (r.wallMs / 1000))}/s`);
    return r;
  };

  /** Users connected per group, and when each group's users were last all pushed to. */
  const groupUsers = new Map<string, number>();
  const allTouchedAt = new Map<string, number>();
  /**
   * One measured window, after (1) a sweep that pushes once to every user in
   * range if any may have hibernated (workerd evicts an object ~10 s after its
   * last event; waking costs ~3 ms of CPU, which must not land in the window)
   * and (2) a short warm-up.
   */
  const measure = async (kind: Kind, a: Omit<PushArgs, "target">): Promise<PushSummary> => {
    const from = a.fromUser ?? 0;
    const to = a.toUser ?? groupUsers.get(a.group) ?? 0;
    const key = `${a.group}:${from}:${to}`;
    const warmConcurrency = Math.min(a.concurrency, 64);
    if (performance.now() - (allTouchedAt.get(key) ?? -Infinity) > 5000) {
      const sweep = await lg.push({ ...a, target: T[kind], mode: "closed", concurrency: warmConcurrency, durationMs: 120_000, maxPushes: to - from, drainMs: 5000 });
      if (sweep.errors > 0 || sweep.lost > 0) problems.push(`${kind}: sweep of ${a.group}: ${sweep.errors} errors, ${sweep.lost} lost`);
    }
    await lg.push({ ...a, target: T[kind], durationMs: sizes.warmupMs, mode: "closed", concurrency: warmConcurrency, drainMs: 3000 });
    const busy = machineBusy();
    const r = await lg.push({ ...a, target: T[kind] });
    const s = summarize(r, busy());
    if (r.pushes >= to - from) allTouchedAt.set(key, performance.now());
    if (r.errors > 0) problems.push(`${kind}: ${r.errors} push errors (${r.errorSamples.join("; ")})`);
    return s;
  };

  const idlePhase = async (kind: Kind) => {
    const fdsPerSession = 2 + 3 / sizes.idleSessionsPerUser;
    const probe = kind === "product" ? await startProduct(`${kind}-idle-0`) : await startBaseline(`${kind}-idle-0`);
    const shards: Server[] = [probe];
    servers.push(probe);
    const lim = probe.limits();
    const perProcess = Math.floor((Math.min(lim?.soft ?? 1024, sizes.nofile) - 512) / fdsPerSession / sizes.idleSessionsPerUser) * sizes.idleSessionsPerUser;
    const processes = Math.max(1, Math.ceil(sizes.idleSessions / perProcess));
    if (processes > 1) notes.push(`idle phase: ${kind} spread over ${processes} workerd processes (open-file limit ${lim?.soft}/${lim?.hard}, ~${fdsPerSession} fds per session while objects are awake)`);
    for (let i = 1; i < processes; i++) {
      const S = kind === "product" ? await startProduct(`${kind}-idle-${i}`) : await startBaseline(`${kind}-idle-${i}`);
      shards.push(S);
      servers.push(S);
    }
    const totalUsers = Math.ceil(sizes.idleSessions / sizes.idleSessionsPerUser);
    await new Promise((r) => setTimeout(r, 300));
    const before = shards.map((S) => ({ rss: S.rss(), fds: S.fds() }));
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
    const awake = shards.map((S) => ({ rss: S.rss(), fds: S.fds() }));
    // Wait until the objects hibernate: workerd evicts idle objects and closes
    // their database files, so the fd count falls to the sockets' own.
    const s0 = performance.now();
    let last = awake.reduce((n, a) => n + a.fds, 0);
    let stableSince = s0;
    const awakeFds = last;
    while (performance.now() - s0 < sizes.settleMaxMs) {
      await new Promise((r) => setTimeout(r, 500));
      const f = shards.reduce((n, S) => n + S.fds(), 0);
      if (f !== last) {
        last = f;
        stableSince = performance.now();
      } else if (f < awakeFds && performance.now() - stableSince > 2000) break;
    }
    const settleMs = performance.now() - s0;
    const idle = shards.map((S) => ({ rss: S.rss(), fds: S.fds() }));
    const sum = (xs: Array<{ rss: number; fds: number }>, f: "rss" | "fds") => xs.reduce((n, x) => n + x[f], 0);
    const fdsPerSessionIdle = (sum(idle, "fds") - sum(before, "fds")) / Math.max(1, opened);
    const hibernated = fdsPerSessionIdle <= 2.2;
    if (!hibernated && sizes.settleMaxMs > 0) notes.push(`${kind}: objects did not all hibernate within ${sizes.settleMaxMs} ms (${fmt(fdsPerSessionIdle)} fds/session)`);
    // Wake a sample of hibernated users with one live push each, checked like any other.
    const wakeUsers = Math.min(sizes.wakeSample, Math.floor(totalUsers / processes));
    const busy = machineBusy();
    const wake = await lg.push({
      target: targetOf(shards[0] as Server, secrets),
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
  };

  const groupOf = (kind: Kind, name: string) => `${kind}:${name}`;
  const common = { payloadBytes: sizes.payloadBytes, connections: sizes.connections };

  try {
    // 1. Few users: the small half of the 10× comparison.
    for (const kind of kinds) await connect(kind, "small", groupOf(kind, "users"), "user-", 0, sizes.usersSmall, sizes.sessionsPerUser);
    for (let r = 0; r < sizes.rounds; r++) {
      for (const kind of order(r)) {
        const s = await measure(kind, { group: groupOf(kind, "users"), toUser: sizes.usersSmall, ttl: 0, mode: "closed", concurrency: sizes.liveConcurrency, durationMs: sizes.windowMs, ...common });
        raw.scaleSmall[kind].push(s);
        log(`round ${r + 1} ${kind} live @${sizes.usersSmall} users: ${fmt(s.cpuPerPushUs)} µs CPU/push, ${fmt(s.pushesPerS)} pushes/s`);
      }
    }

    // 2. 10× the users: throughput (live, stored) and latency.
    for (const kind of kinds) {
      await connect(kind, "large", groupOf(kind, "users"), "user-", sizes.usersSmall, sizes.usersLarge - sizes.usersSmall, sizes.sessionsPerUser);
    }
    for (const [name, ttl, concurrency] of [
      ["live", 0, sizes.liveConcurrency],
      ["stored", undefined, sizes.storedConcurrency],
    ] as const) {
      for (let r = 0; r < sizes.rounds; r++) {
        for (const kind of order(r)) {
          const s = await measure(kind, { group: groupOf(kind, "users"), ttl, mode: "closed", concurrency, durationMs: sizes.windowMs, ...common });
          raw[name][kind].push(s);
          log(`round ${r + 1} ${kind} ${name} @${sizes.usersLarge} users: ${fmt(s.cpuPerPushUs)} µs CPU/push, ${fmt(s.pushesPerS)} pushes/s, ${fmt(s.deliveriesPerS)} deliveries/s, lost ${s.lost}`);
        }
      }
    }
    for (let r = 0; r < sizes.rounds; r++) {
      for (const kind of order(r)) {
        const s = await measure(kind, {
          group: groupOf(kind, "users"),
          // Each user at most once per window: the window's users stay awake between rounds.
          toUser: Math.min(sizes.usersLarge, Math.floor((sizes.latencyRate * sizes.latencyWindowMs) / 1000)),
          ttl: 0,
          mode: "open",
          rate: sizes.latencyRate,
          concurrency: 512,
          durationMs: sizes.latencyWindowMs,
          ...common,
        });
        raw.latency[kind].push(s);
        log(`round ${r + 1} ${kind} latency @${sizes.latencyRate}/s: p50 ${fmt(s.latency.p50)} ms, p99 ${fmt(s.latency.p99)} ms`);
      }
    }

    // 3. Fan-out: one user with many sessions.
    for (const kind of kinds) await connect(kind, "fanout", groupOf(kind, "fanout"), "fan-", 0, 1, sizes.fanoutSessions);
    for (let r = 0; r < sizes.rounds; r++) {
      for (const kind of order(r)) {
        const s = await measure(kind, { group: groupOf(kind, "fanout"), ttl: 0, mode: "closed", concurrency: sizes.fanoutConcurrency, durationMs: sizes.fanoutWindowMs, ...common });
        raw.fanout[kind].push(s);
        log(`round ${r + 1} ${kind} fan-out 1×${sizes.fanoutSessions}: ${fmt(s.deliveriesPerS)} deliveries/s, ${fmt(s.cpuPerDeliveryUs)} µs CPU/delivery`);
      }
    }
    const groups = await lg.groups();
    if (groups.unexpectedCloses > 0) problems.push(`${groups.unexpectedCloses} sessions closed unexpectedly`);
    // Servers first, at once (a graceful close of every session measures nothing and took ~10 s).
    await Promise.all([P.stop(STOP_GRACE_MS), B.stop(STOP_GRACE_MS)]);
    for (const kind of kinds) {
      const c1 = await lg.close(groupOf(kind, "fanout"));
      const c2 = await lg.close(groupOf(kind, "users"));
      log(`${kind}: stopped; dropped ${c1.closed + c2.closed} client sessions`);
    }

    // 4. Idle sessions: memory per hibernated session, connect rate, and a push
    //    to each of a sample of hibernated users, on fresh servers. workerd
    //    holds 2 fds per socket, plus 3 per object while it is awake (its
    //    SQLite files); when the hard open-file limit can't hold them all in
    //    one process, the sessions are spread over several identical ones
    //    (users routed by index), and figures are summed over them.
    if (!opts.skipMemory) {
      for (const kind of kinds) raw.memory[kind] = await idlePhase(kind);
    }
  } finally {
    await lg.exit();
    for (const s of servers) await s.stop();
  }

  // ---- summary ----
  type Row = { metric: string; unit: string; product: number; baseline: number; ratio: number; target?: string; met?: boolean; note?: string };
  const rows: Row[] = [];
  const ratioMedian = (p: number[], b: number[]) => median(p.map((x, i) => x / (b[i] ?? Number.NaN)));
  const pick = (list: PushSummary[], f: (s: PushSummary) => number) => list.map(f);
  const addPaired = (metric: string, unit: string, src: { product: PushSummary[]; baseline: PushSummary[] }, f: (s: PushSummary) => number, target?: { op: "<=" | ">="; limit: number }) => {
    const p = pick(src.product, f);
    const b = pick(src.baseline, f);
    const ratio = ratioMedian(p, b);
    const row: Row = { metric, unit, product: median(p), baseline: median(b), ratio };
    if (target !== undefined) {
      row.target = `${target.op === "<=" ? "≤" : "≥"} ${target.limit}×`;
      row.met = target.op === "<=" ? ratio <= target.limit : ratio >= target.limit;
    }
    rows.push(row);
  };
  addPaired(`live push: server CPU per push (${sizes.usersLarge} users × ${sizes.sessionsPerUser})`, "µs", raw.live, (s) => s.cpuPerPushUs, { op: "<=", limit: 1.25 });
  addPaired("live push: throughput at saturation", "pushes/s", raw.live, (s) => s.pushesPerS, { op: ">=", limit: 0.8 });
  addPaired("live push: deliveries", "deliveries/s", raw.live, (s) => s.deliveriesPerS);
  addPaired("stored push: server CPU per push", "µs", raw.stored, (s) => s.cpuPerPushUs, { op: "<=", limit: 2 });
  addPaired("stored push: throughput at saturation", "pushes/s", raw.stored, (s) => s.pushesPerS);
  addPaired("stored push: deliveries", "deliveries/s", raw.stored, (s) => s.deliveriesPerS);
  addPaired(`latency p50 @ ${sizes.latencyRate} pushes/s (live)`, "ms", raw.latency, (s) => s.latency.p50, { op: "<=", limit: 1.5 });
  addPaired(`latency p99 @ ${sizes.latencyRate} pushes/s (live)`, "ms", raw.latency, (s) => s.latency.p99);
  addPaired(`fan-out 1 user × ${sizes.fanoutSessions} sessions: deliveries`, "deliveries/s", raw.fanout, (s) => s.deliveriesPerS, { op: ">=", limit: 0.8 });
  addPaired("fan-out: server CPU per delivery", "µs", raw.fanout, (s) => s.cpuPerDeliveryUs);
  // 10× users: each server against itself, paired by round.
  const growth = (kind: Kind) => median(raw.live[kind].map((s, i) => s.cpuPerPushUs / (raw.scaleSmall[kind][i]?.cpuPerPushUs ?? Number.NaN)));
  const gp = growth("product");
  const gb = growth("baseline");
  rows.push({
    metric: `CPU per live push, ${sizes.usersLarge} users ÷ ${sizes.usersSmall} users (10×)`,
    unit: "×",
    product: gp,
    baseline: gb,
    ratio: gp / gb,
    target: "flat (≤ 1.15×, or ≤ baseline's growth × 1.1)",
    met: gp <= 1.15 || gp <= gb * 1.1,
  });
  const mem = raw.memory as Partial<Record<Kind, Awaited<ReturnType<typeof idlePhase>>>>;
  if (mem.product !== undefined && mem.baseline !== undefined) {
    const mp = mem.product;
    const mb = mem.baseline;
    rows.push({ metric: `idle memory per hibernated session (${mp.sessions} sessions)`, unit: "KB", product: mp.idleKBPerSession, baseline: mb.idleKBPerSession, ratio: mp.idleKBPerSession / mb.idleKBPerSession, target: "≤ 1.2×", met: mp.idleKBPerSession / mb.idleKBPerSession <= 1.2 });
    rows.push({ metric: "memory per session right after connect (objects awake)", unit: "KB", product: mp.awakeKBPerSession, baseline: mb.awakeKBPerSession, ratio: mp.awakeKBPerSession / mb.awakeKBPerSession });
    rows.push({ metric: "connect rate (new users, 2 sessions each)", unit: "sessions/s", product: mp.connect.perS, baseline: mb.connect.perS, ratio: mp.connect.perS / mb.connect.perS });
    rows.push({ metric: "server CPU per connect", unit: "ms", product: mp.connect.cpuPerConnectMs, baseline: mb.connect.cpuPerConnectMs, ratio: mp.connect.cpuPerConnectMs / mb.connect.cpuPerConnectMs });
    rows.push({ metric: "fds per idle session (workerd)", unit: "fds", product: mp.fdsPerSessionIdle, baseline: mb.fdsPerSessionIdle, ratio: mp.fdsPerSessionIdle / mb.fdsPerSessionIdle });
    rows.push({ metric: "server CPU per push to a hibernated user (wakes it)", unit: "µs", product: mp.wake.cpuPerPushUs, baseline: mb.wake.cpuPerPushUs, ratio: mp.wake.cpuPerPushUs / mb.wake.cpuPerPushUs });
  }

  const all = [...raw.scaleSmall.product, ...raw.scaleSmall.baseline, ...raw.live.product, ...raw.live.baseline, ...raw.stored.product, ...raw.stored.baseline, ...raw.latency.product, ...raw.latency.baseline, ...raw.fanout.product, ...raw.fanout.baseline, ...kinds.flatMap((k) => (mem[k] === undefined ? [] : [mem[k].wake]))];
  const losses = {
    pushes: all.reduce((n, s) => n + s.pushes, 0),
    deliveries: all.reduce((n, s) => n + s.deliveries, 0),
    expected: all.reduce((n, s) => n + s.expected, 0),
    lost: all.reduce((n, s) => n + s.lost, 0),
    duplicates: all.reduce((n, s) => n + s.duplicates, 0),
    corrupt: all.reduce((n, s) => n + s.corrupt, 0),
    errors: all.reduce((n, s) => n + s.errors, 0),
    deliveredMismatch: all.reduce((n, s) => n + Math.abs(s.deliveredMismatch), 0),
  };
  if (losses.lost > 0) problems.push(`${losses.lost} deliveries lost`);
  if (losses.duplicates > 0) problems.push(`${losses.duplicates} duplicate deliveries`);
  if (losses.corrupt > 0) problems.push(`${losses.corrupt} corrupt frames`);
  const loadBound = [...raw.live.baseline, ...raw.live.product].filter((s) => s.loadUtil > 0.9).length;
  if (loadBound > 0) notes.push(`${loadBound} live throughput windows had the load generator above 90% of a core: throughput there may be the load generator's limit, CPU/push is not affected`);

  const header = ["metric", "unit", "Switchboard", "baseline", "ratio", "target", "met"];
  const text = table(
    header,
    rows.map((r) => [r.metric, r.unit, fmt(r.product), fmt(r.baseline), Number.isFinite(r.ratio) ? `${r.ratio.toFixed(3)}×` : "–", r.target ?? "", r.met === undefined ? "" : r.met ? "yes" : "NO"]),
  );
  const durationS = (performance.now() - started) / 1000;
  const result = {
    version: 1,
    startedAt,
    durationS,
    smoke: opts.smoke,
    patches: opts.patches,
    environment: {
      node: process.version,
      workerd: execFileSync(WORKERD, ["--version"], { encoding: "utf8" }).trim(),
      compatibilityDate: COMPATIBILITY_DATE,
      commit: gitCommit(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      loadavgStart: loadStart,
      loadavgEnd: loadavg(),
      openFileLimits: limits,
      storage: "on-disk SQLite (workerd localDisk), temp dir",
    },
    sizes,
    summary: rows,
    losses,
    problems,
    notes,
    raw,
    table: text,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  const what = opts.patches.length > 0 ? `Switchboard + ${opts.patches.join(" + ")}` : "Switchboard";
  console.log(`\n${what} vs baseline (medians of ${sizes.rounds} paired round${sizes.rounds === 1 ? "" : "s"}; ratio = Switchboard ÷ baseline)\n`);
  console.log(text);
  console.log(`\ndeliveries checked: ${losses.deliveries} of ${losses.expected} expected; lost ${losses.lost}, duplicates ${losses.duplicates}, corrupt ${losses.corrupt}, push errors ${losses.errors}`);
  for (const n of notes) console.log(`note: ${n}`);
  for (const p of problems) console.log(`PROBLEM: ${p}`);
  console.log(`\n${fmt(durationS)} s; results in ${out}`);
  if (problems.length > 0) process.exitCode = 1;
}

function gitCommit(): string | undefined {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    console.error("bench failed:", err);
    process.exit(1);
  },
);
