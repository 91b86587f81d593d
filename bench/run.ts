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
 *   npm run bench -- --profile         # CPU/push of src/ variants with one piece stubbed (bench/profile.ts)
 *   npm run bench -- --billing-probe   # billed units (rows, alarms, requests) per handler (bench/billing-probe.ts)
 *   npm run bench -- --cost-model      # the monthly bill for a workload (bench/cost-model.ts)
 *   npm run bench -- --connect         # CPU per connect and connect rate, paired rounds (bench/connect.ts)
 *   npm run bench -- --storm [--users U --devices K]   # a reconnect storm through the SDK (bench/storm.ts)
 *   npm run bench -- --overload [--cap C]               # a storm at 1.5× serve's session cap (bench/overload.ts)
 *   npm run bench -- --drain [--sessions N]             # SIGTERM with N sessions open: the 1001s and the exit (bench/drain.ts)
 *
 * See docs/benchmark.md for what each figure means and how to read it.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { ROOT } from "../tools/lib/workerd.ts";
import { LoadGenerator } from "./lib/driver.ts";
import { idlePhase, type IdleContext } from "./lib/idle.ts";
import { checkConnect, KINDS, type Kind, machineBusy, type PushSummary, STOP_GRACE_MS, summarize, targetOf } from "./lib/measure.ts";
import type { PushArgs } from "./lib/messages.ts";
import { benchCommandLine, FULL, parseArgs, SMOKE, type Sizes } from "./lib/options.ts";
import { hookCleanup } from "../scripts/lib/janitor.ts";
import { builtWorker, type Service, startService } from "../scripts/lib/service.ts";
import { fmt } from "./lib/stats.ts";
import { summarizeRun, type RawResults } from "./lib/summary.ts";

const T0 = performance.now();
function log(msg: string): void {
  process.stderr.write(`bench [${((performance.now() - T0) / 1000).toFixed(0).padStart(3)} s] ${msg}\n`);
}

// ---- the run ----

async function main(): Promise<void> {
  const { mode, args } = benchCommandLine(process.argv.slice(2));
  if (mode === "profile") {
    const { profile } = await import("./profile.ts");
    await profile(args);
    return;
  }
  if (mode === "billing-probe") {
    const { probe } = await import("./billing-probe.ts");
    await probe(args);
    return;
  }
  if (mode === "connect") {
    const { connectBench, printConnect } = await import("./connect.ts");
    printConnect(await connectBench(args));
    return;
  }
  if (mode === "drain") {
    const { drainBench } = await import("./drain.ts");
    await drainBench(args);
    return;
  }
  if (mode === "overload") {
    const { overload, printOverload } = await import("./overload.ts");
    printOverload(await overload(args));
    return;
  }
  if (mode === "storm") {
    const { storm, printStorm } = await import("./storm.ts");
    printStorm(await storm(args));
    return;
  }
  if (mode === "cost-model") {
    const { costModel } = await import("./cost-model.ts");
    costModel(args);
    return;
  }
  const opts = parseArgs(args);
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
    // The load generator's sessions send no frames, so after STALE_AFTER (90 s) the first ones
    // were closed as stale (4002) mid-run on a busy machine, where connecting alone took that long.
    STALE_AFTER: "3600",
  };

  log("building the Worker with wrangler…");
  const productScript = builtWorker();
  const startProduct = (name: string) => startService({ kind: "workerd", label: name, script: productScript, knobs, nofile: sizes.nofile, echo: opts.echo });
  const startBaseline = (name: string) => startService({ kind: "baseline", label: name, nofile: sizes.nofile, echo: opts.echo });

  const P = await startProduct("product");
  const B = await startBaseline("baseline");
  // The price of durability: the baseline that also INSERTs each push as one SQLite row
  // (STORE=1), against which a stored push is compared too.
  const BS = await startService({
    kind: "baseline",
    label: "baseline-store",
    text: { STORE: "1" },
    nofile: sizes.nofile,
    echo: opts.echo,
  });
  const lg = LoadGenerator.start(sizes.nofile);
  const servers: Service[] = [P, B, BS];
  const limits = { product: P.limits(), baseline: B.limits(), loadGenerator: undefined as { soft: number; hard: number } | undefined };
  log(`product pid ${P.pid} on ${P.base}, baseline pid ${B.pid} on ${B.base}; open-file limits ${JSON.stringify(limits.product)}`);

  const T = { product: targetOf(P, secrets), baseline: targetOf(B, secrets), baselineStore: targetOf(BS, secrets) };
  type Measured = keyof typeof T;
  const kinds = KINDS;
  /** Round r runs product first when r is even, baseline first when odd: drift cancels in the median. */
  const order = (r: number): Kind[] => (r % 2 === 0 ? ["product", "baseline"] : ["baseline", "product"]);

  const raw: RawResults = {
    connect: {},
    scaleSmall: { product: [], baseline: [] },
    live: { product: [], baseline: [] },
    stored: { product: [], baseline: [] },
    storedRow: [],
    latency: { product: [], baseline: [] },
    fanout: { product: [], baseline: [] },
    memory: {},
  };

  const connect = async (kind: Measured, label: string, group: string, prefix: string, first: number, users: number, spu: number) => {
    const r = await lg.connect({
      target: T[kind],
      group,
      userPrefix: prefix,
      firstUser: first,
      users,
      sessionsPerUser: spu,
      concurrency: sizes.connectConcurrency,
    });
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
  const measure = async (kind: Measured, a: Omit<PushArgs, "target">): Promise<PushSummary> => {
    const from = a.fromUser ?? 0;
    const to = a.toUser ?? groupUsers.get(a.group) ?? 0;
    const key = `${a.group}:${from}:${to}`;
    const warmConcurrency = Math.min(a.concurrency, 64);
    if (performance.now() - (allTouchedAt.get(key) ?? -Infinity) > 5000) {
      const sweep = await lg.push({
        ...a,
        target: T[kind],
        mode: "closed",
        concurrency: warmConcurrency,
        durationMs: 120_000,
        maxPushes: to - from,
        drainMs: 5000,
      });
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

  const idle: IdleContext = {
    lg,
    sizes,
    secrets,
    problems,
    notes,
    log,
    start: (kind, name) => (kind === "product" ? startProduct(name) : startBaseline(name)),
    servers,
  };

  const groupOf = (kind: Measured, name: string) => `${kind}:${name}`;
  const common = { payloadBytes: sizes.payloadBytes, connections: sizes.connections };

  try {
    // 1. Few users: the small half of the 10× comparison.
    for (const kind of kinds) await connect(kind, "small", groupOf(kind, "users"), "user-", 0, sizes.usersSmall, sizes.sessionsPerUser);
    for (let r = 0; r < sizes.rounds; r++) {
      for (const kind of order(r)) {
        const s = await measure(kind, {
          group: groupOf(kind, "users"),
          toUser: sizes.usersSmall,
          ttl: 0,
          mode: "closed",
          concurrency: sizes.liveConcurrency,
          durationMs: sizes.windowMs,
          ...common,
        });
        raw.scaleSmall[kind].push(s);
        log(`round ${r + 1} ${kind} live @${sizes.usersSmall} users: ${fmt(s.cpuPerPushUs)} µs CPU/push, ${fmt(s.pushesPerS)} pushes/s`);
      }
    }

    // 2. 10× the users: throughput (live, stored) and latency.
    for (const kind of kinds) {
      await connect(kind, "large", groupOf(kind, "users"), "user-", sizes.usersSmall, sizes.usersLarge - sizes.usersSmall, sizes.sessionsPerUser);
    }
    await connect("baselineStore", "large", groupOf("baselineStore", "users"), "user-", 0, sizes.usersLarge, sizes.sessionsPerUser);
    for (const [name, ttl, concurrency] of [
      ["live", 0, sizes.liveConcurrency],
      ["stored", undefined, sizes.storedConcurrency],
    ] as const) {
      for (let r = 0; r < sizes.rounds; r++) {
        // Stored rounds also measure the storing baseline, in a rotating place.
        const round: Measured[] = name === "stored" ? [...order(r), "baselineStore"] : order(r);
        for (const kind of name === "stored" ? [...round.slice(r % 3), ...round.slice(0, r % 3)] : round) {
          const s = await measure(kind, { group: groupOf(kind, "users"), ttl, mode: "closed", concurrency, durationMs: sizes.windowMs, ...common });
          if (kind === "baselineStore") raw.storedRow.push(s);
          else raw[name][kind].push(s);
          log(
            `round ${r + 1} ${kind} ${name} @${sizes.usersLarge} users: ${fmt(s.cpuPerPushUs)} µs CPU/push, ${fmt(s.pushesPerS)} pushes/s, ${fmt(s.deliveriesPerS)} deliveries/s, lost ${s.lost}`,
          );
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
        const s = await measure(kind, {
          group: groupOf(kind, "fanout"),
          ttl: 0,
          mode: "closed",
          concurrency: sizes.fanoutConcurrency,
          durationMs: sizes.fanoutWindowMs,
          ...common,
        });
        raw.fanout[kind].push(s);
        log(`round ${r + 1} ${kind} fan-out 1×${sizes.fanoutSessions}: ${fmt(s.deliveriesPerS)} deliveries/s, ${fmt(s.cpuPerDeliveryUs)} µs CPU/delivery`);
      }
    }
    const groups = await lg.groups();
    if (groups.unexpectedCloses > 0) problems.push(`${groups.unexpectedCloses} sessions closed unexpectedly`);
    // Servers first, at once (a graceful close of every session measures nothing and took ~10 s).
    await Promise.all([P.stop(STOP_GRACE_MS), B.stop(STOP_GRACE_MS), BS.stop(STOP_GRACE_MS)]);
    log(`baseline-store: stopped; dropped ${(await lg.close(groupOf("baselineStore", "users"))).closed} client sessions`);
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
      for (const kind of kinds) raw.memory[kind] = await idlePhase(idle, kind);
    }
  } finally {
    await lg.exit();
    for (const s of servers) await s.stop();
  }

  const result = summarizeRun({ raw, sizes, problems, notes, started, startedAt, loadStart, limits, opts, commit: gitCommit() });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nSwitchboard vs baseline (medians of ${sizes.rounds} paired round${sizes.rounds === 1 ? "" : "s"}; ratio = Switchboard ÷ baseline)\n`);
  console.log(result.table);
  const { losses } = result;
  console.log(
    `\ndeliveries checked: ${losses.deliveries} of ${losses.expected} expected; lost ${losses.lost}, duplicates ${losses.duplicates}, corrupt ${losses.corrupt}, push errors ${losses.errors}`,
  );
  for (const n of notes) console.log(`note: ${n}`);
  for (const p of problems) console.log(`PROBLEM: ${p}`);
  console.log(`\n${fmt(result.durationS)} s; results in ${out}`);
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
