/**
 * npm run bench -- --connect [--rounds N] [--users U] — the cost of a connect:
 * U users × 2 sessions connected through real sockets, Switchboard against the
 * baseline Worker, in paired rounds (order alternating, so drift cancels in the
 * median). Two kinds, each its own figure:
 * - first connects: new users, new devices (each writes its device's resume
 *   cursor and arms the token-expiry alarm: the two writes a connect can make);
 * - reconnects: the same users and devices coming back to cold objects, after
 *   every object was evicted (what every deploy does to the whole user base:
 *   every WebSocket is dropped, every object restarts, and everyone comes back).
 * Reports server CPU per connect and sessions/s, and their ratios. A third
 * server, the baseline with CONNECT_WRITE=1 (a row and an alarm written on
 * every connect), gives the runtime's own floor for a first connect that
 * must be durable, against the same baseline.
 *
 * On a machine with 2+ CPUs the servers are pinned to CPU 0 and the load
 * generator to CPU 1 (--no-pin to turn it off): sharing a core with the
 * clients made the same code's ratio swing by ±0.4× between runs.
 */
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { LoadGenerator } from "./lib/driver.ts";
import { targetOf } from "./lib/measure.ts";
import { pinToCpus } from "./lib/proc.ts";
import { hookCleanup } from "../scripts/lib/janitor.ts";
import { startService } from "../scripts/lib/service.ts";
import { intOption } from "./lib/options.ts";
import { fmt, median, table } from "./lib/stats.ts";

export interface Series {
  product: { cpuPerConnectMs: number[]; perS: number[] };
  baseline: { cpuPerConnectMs: number[]; perS: number[] };
  cpuRatio: number;
  rateRatio: number;
}

export interface ConnectFigures {
  rounds: number;
  usersPerRound: number;
  sessionsPerUser: number;
  /** Servers on CPU 0, load generator on CPU 1. */
  pinned: boolean;
  first: Series;
  reconnect: Series;
  /** The baseline writing a row and an alarm on each (first) connect. */
  floor: { cpuPerConnectMs: number[]; perS: number[]; cpuRatio: number; rateRatio: number };
}

const series = (): Series => ({
  product: { cpuPerConnectMs: [], perS: [] },
  baseline: { cpuPerConnectMs: [], perS: [] },
  cpuRatio: Number.NaN,
  rateRatio: Number.NaN,
});

/** workerd destroys an idle object 10 s after its last event (server.c++, handleShutdown). */
const EVICTED_AFTER_MS = 11_500;

export async function connectBench(argv: string[]): Promise<ConnectFigures> {
  hookCleanup();
  const rounds = intOption(argv, "--rounds", 7);
  const users = intOption(argv, "--users", 300);
  const sessionsPerUser = 2;
  const concurrency = intOption(argv, "--concurrency", 64);
  const secrets = { apiKey: `bench-api-${randomBytes(12).toString("hex")}`, jwtSecret: `bench-jwt-${randomBytes(24).toString("hex")}` };
  const knobs = { JWT_SECRET: secrets.jwtSecret, API_KEY: secrets.apiKey, DEV_MODE: "0" };
  const P = await startService({ kind: "workerd", label: "connect-product", knobs, nofile: 65_536 });
  const B = await startService({ kind: "baseline", label: "connect-baseline", nofile: 65_536 });
  const F = await startService({ kind: "baseline", label: "connect-floor", text: { CONNECT_WRITE: "1" }, nofile: 65_536 });
  const lg = LoadGenerator.start(65_536);
  const T = { product: targetOf(P, secrets), baseline: targetOf(B, secrets), floor: targetOf(F, secrets) };
  const pinned = !argv.includes("--no-pin") && availableParallelism() >= 2 && [P, B, F].every((s) => pinToCpus(s.pid as number, "0")) && pinToCpus(lg.pid, "1");
  const figures: ConnectFigures = {
    rounds,
    usersPerRound: users,
    sessionsPerUser,
    pinned,
    first: series(),
    reconnect: series(),
    floor: { cpuPerConnectMs: [], perS: [], cpuRatio: Number.NaN, rateRatio: Number.NaN },
  };
  try {
    // One unmeasured round each: the first connects pay for JIT and SQLite warm-up.
    for (const kind of ["product", "baseline", "floor"] as const) {
      await lg.connect({ target: T[kind], group: `warm-${kind}`, userPrefix: "warm-", firstUser: 0, users: 50, sessionsPerUser, concurrency });
      await lg.close(`warm-${kind}`);
    }
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (["product", "baseline"] as const) : (["baseline", "product"] as const);
      for (const kind of order) {
        for (const which of ["first", "reconnect"] as const) {
          const group = `c${r}-${kind}-${which}`;
          const res = await lg.connect({ target: T[kind], group, userPrefix: `r${r}-`, firstUser: 0, users, sessionsPerUser, concurrency });
          if (res.failed > 0) throw new Error(`${kind}: ${res.failed} connects failed: ${res.errors.join("; ")}`);
          figures[which][kind].cpuPerConnectMs.push((res.serverCpuS / res.opened) * 1000);
          figures[which][kind].perS.push(res.opened / (res.wallMs / 1000));
          await lg.close(group);
          // workerd evicts an object 10 s after its last event: the reconnect finds them cold,
          // as after a deploy or a restart.
          await new Promise((done) => setTimeout(done, which === "first" ? EVICTED_AFTER_MS : 500));
        }
      }
      const group = `c${r}-floor`;
      const res = await lg.connect({ target: T.floor, group, userPrefix: `r${r}-`, firstUser: 0, users, sessionsPerUser, concurrency });
      if (res.failed > 0) throw new Error(`floor: ${res.failed} connects failed: ${res.errors.join("; ")}`);
      figures.floor.cpuPerConnectMs.push((res.serverCpuS / res.opened) * 1000);
      figures.floor.perS.push(res.opened / (res.wallMs / 1000));
      await lg.close(group);
    }
  } finally {
    await lg.exit();
    await Promise.all([P.stop(500), B.stop(500), F.stop(500)]);
  }
  const ratios = (a: number[], b: number[]) => median(a.map((x, i) => x / (b[i] ?? Number.NaN)));
  for (const f of [figures.first, figures.reconnect]) {
    f.cpuRatio = ratios(f.product.cpuPerConnectMs, f.baseline.cpuPerConnectMs);
    f.rateRatio = ratios(f.product.perS, f.baseline.perS);
  }
  figures.floor.cpuRatio = ratios(figures.floor.cpuPerConnectMs, figures.first.baseline.cpuPerConnectMs);
  figures.floor.rateRatio = ratios(figures.floor.perS, figures.first.baseline.perS);
  return figures;
}

export function printConnect(figures: ConnectFigures): void {
  const rows: string[][] = [];
  for (const [label, f] of [
    ["first connect", figures.first],
    ["reconnect", figures.reconnect],
  ] as const) {
    rows.push([
      `${label}: server CPU per connect (ms)`,
      fmt(median(f.product.cpuPerConnectMs)),
      fmt(median(f.baseline.cpuPerConnectMs)),
      `${f.cpuRatio.toFixed(3)}×`,
      "≤ 1.5×",
      f.cpuRatio <= 1.5 ? "yes" : "no",
    ]);
    rows.push([
      `${label}: connect rate (sessions/s)`,
      fmt(median(f.product.perS)),
      fmt(median(f.baseline.perS)),
      `${f.rateRatio.toFixed(3)}×`,
      "≥ 0.67×",
      f.rateRatio >= 0.67 ? "yes" : "no",
    ]);
  }
  const fl = figures.floor;
  rows.push([
    "first connect, runtime floor (baseline + a row + an alarm): CPU (ms)",
    fmt(median(fl.cpuPerConnectMs)),
    fmt(median(figures.first.baseline.cpuPerConnectMs)),
    `${fl.cpuRatio.toFixed(3)}×`,
    "",
    "",
  ]);
  rows.push([
    "first connect, runtime floor: connect rate (sessions/s)",
    fmt(median(fl.perS)),
    fmt(median(figures.first.baseline.perS)),
    `${fl.rateRatio.toFixed(3)}×`,
    "",
    "",
  ]);
  const f = figures;
  // The spread says how far one run's median can be trusted.
  const perRound = (label: string, s: Series) => {
    const cpu = s.product.cpuPerConnectMs.map((x, i) => x / (s.baseline.cpuPerConnectMs[i] ?? Number.NaN));
    const rate = s.product.perS.map((x, i) => x / (s.baseline.perS[i] ?? Number.NaN));
    const list = (xs: number[]) => xs.map((x) => `${x.toFixed(2)}×`).join(" ");
    return `${label}: per-round CPU ratios ${list(cpu)}; rate ratios ${list(rate)}\n`;
  };
  process.stdout.write(
    `connect: ${f.rounds} paired rounds of ${f.usersPerRound} new users × ${f.sessionsPerUser} sessions (median of per-round ratios)` +
      `${f.pinned ? "; servers pinned to CPU 0, load generator to CPU 1" : "; unpinned"}\n` +
      table(["figure", "Switchboard", "baseline", "ratio", "target", "met"], rows) +
      "\n" +
      perRound("first connect", f.first) +
      perRound("reconnect", f.reconnect),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = performance.now();
  const f = await connectBench(process.argv.slice(2));
  printConnect(f);
  process.stderr.write(`connect bench: ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  process.exit(0);
}
