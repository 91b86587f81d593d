/** The bench's sizes (full and smoke) and its command line (see the header of bench/run.ts). */
import { type CliSpec, type OptionSpec, parseCommandLine, usageError } from "../../tools/lib/cli.ts";

export interface Sizes {
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

export const FULL: Sizes = {
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

export const SMOKE: Sizes = {
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

export type BenchOptions = ReturnType<typeof parseArgs>;

/** A workload number of `npm run cost` (bench/cost-model.ts reads them; `npm run bench -- --cost-model` too). */
const costOption = (value: "N" | "S", help: string) => ({ type: "string", value, number: { min: 0 }, help: `${help} (--cost-model)` }) as const;
const COST_OPTIONS = {
  users: costOption("N", "connected users"),
  sessions: costOption("N", "sessions per user"),
  heartbeat: costOption("S", "client heartbeat interval, seconds"),
  audit: costOption("S", "STATS_AUDIT_INTERVAL, seconds"),
  reap: costOption("S", "REAP_INTERVAL, seconds"),
  "token-ttl": costOption("S", "client token lifetime, seconds"),
  reconnects: costOption("N", "reconnects per session per day"),
} satisfies Record<string, OptionSpec>;

export const COST_CLI = {
  command: "npm run cost --",
  summary: "The monthly Cloudflare bill for the reference workloads, from published prices and bench/results/billing-probe.json (docs/cost-model.md).",
  options: Object.fromEntries(Object.entries(COST_OPTIONS).map(([k, o]) => [k, { ...o, help: o.help.replace(" (--cost-model)", "") }])) as typeof COST_OPTIONS,
} satisfies CliSpec;

/** `npm run cost`'s arguments, checked (--help, usage errors), for bench/cost-model.ts's own reader. */
export function costArgs(argv: readonly string[]): string[] {
  parseCommandLine(COST_CLI, argv);
  return [...argv];
}

/** The bench's modes: at most one, and the options each accepts. */
const MODES = {
  default: ["smoke", "rounds", "out", "skip-memory", "echo"],
  profile: ["rounds", "users", "only", "out", "window"],
  "billing-probe": ["out"],
  "cost-model": Object.keys(COST_OPTIONS),
  connect: ["rounds", "users", "concurrency", "no-pin"],
  storm: ["users", "devices"],
  drain: ["sessions", "drain-ms"],
  overload: ["cap"],
} as const;
export type BenchMode = keyof typeof MODES;

export const BENCH_CLI = {
  command: "npm run bench --",
  summary:
    "Switchboard against a minimal baseline Worker on standalone workerd (docs/benchmark.md). With no mode: the full paired run (≈ 4 min), written to bench/results/latest.json.",
  options: {
    profile: { type: "boolean", help: "mode: CPU per push of src/ variants with one piece stubbed (bench/profile.ts)" },
    "billing-probe": { type: "boolean", help: "mode: billed units per handler (bench/billing-probe.ts)" },
    "cost-model": { type: "boolean", help: "mode: the monthly bill for a workload (as npm run cost)" },
    connect: { type: "boolean", help: "mode: CPU per connect and connect rate (bench/connect.ts)" },
    storm: { type: "boolean", help: "mode: a reconnect storm through the SDK (bench/storm.ts)" },
    drain: { type: "boolean", help: "mode: how long npm run serve takes to close every session 1001 (bench/drain.ts)" },
    overload: { type: "boolean", help: "mode: a reconnect storm at 1.5× npm run serve's session cap (bench/overload.ts)" },
    smoke: { type: "boolean", help: "tiny sizes, seconds (test/node/bench.smoke.test.ts)" },
    rounds: { type: "string", value: "N", int: { min: 1 }, help: "paired rounds (default run, --profile, --connect)" },
    out: { type: "string", value: "FILE", help: "where to write the JSON (default run, --profile, --billing-probe)" },
    "skip-memory": { type: "boolean", help: "leave out the 10,000-idle-session phase" },
    echo: { type: "boolean", help: "echo the servers' output" },
    only: { type: "string", value: "A,B", help: "only these variants (--profile)" },
    window: { type: "string", value: "MS", int: { min: 1 }, help: "measuring window, ms (--profile)" },
    concurrency: { type: "string", value: "N", int: { min: 1 }, help: "connects in flight (--connect)" },
    "no-pin": { type: "boolean", help: "do not pin servers and load to separate CPUs (--connect)" },
    devices: { type: "string", value: "K", int: { min: 1 }, help: "devices per user (--storm)" },
    "drain-ms": { type: "string", value: "MS", int: { min: 1 }, help: "SWITCHBOARD_DRAIN_MS for the run (--drain)" },
    cap: { type: "string", value: "N", int: { min: 1 }, help: "the session cap, MAX_CONNECTIONS (--overload)" },
    ...COST_OPTIONS,
    sessions: { ...COST_OPTIONS.sessions, help: "sessions per user (--cost-model); sessions to drain (--drain)" },
    users: { type: "string", value: "N", int: { min: 1 }, help: "users (--profile, --connect, --storm, --cost-model)" },
  },
  notes: ["Each mode accepts only its own options; see the header of each mode's file for what it measures."],
} satisfies CliSpec;

/**
 * The bench's command line: which mode, with its options checked (a usage
 * error, exit 2, for one that belongs to another mode), and the raw
 * arguments for the mode's own reader.
 */
export function benchCommandLine(argv: readonly string[]): { mode: BenchMode; args: string[] } {
  const { values } = parseCommandLine(BENCH_CLI, argv);
  const given = Object.keys(values);
  const modes = given.filter((k): k is Exclude<BenchMode, "default"> => k !== "default" && k in MODES);
  if (modes.length > 1) usageError(BENCH_CLI, `one mode at a time (got --${modes.join(" and --")})`);
  const mode: BenchMode = modes[0] ?? "default";
  const allowed: readonly string[] = MODES[mode];
  const stray = given.find((k) => k !== mode && !allowed.includes(k));
  if (stray !== undefined) usageError(BENCH_CLI, `--${stray} is not an option of ${mode === "default" ? "the default run" : `--${mode}`}`);
  return { mode, args: argv.filter((a) => a !== `--${mode}`) };
}

export function parseArgs(argv: string[]) {
  const { values } = parseCommandLine(BENCH_CLI, argv);
  return {
    smoke: values.smoke === true,
    skipMemory: values["skip-memory"] === true,
    rounds: values.rounds === undefined ? undefined : Number(values.rounds),
    out: values.out,
    echo: values.echo === true,
  };
}

/** `--name N` from argv: a positive integer, or `fallback` when absent (bench/connect.ts, bench/storm.ts). */
export function intOption(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer`);
  return n;
}
