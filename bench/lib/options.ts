/** The bench's sizes (full and smoke) and its command line (see the header of bench/run.ts). */

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

export function parseArgs(argv: string[]) {
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

/** `--name N` from argv: a positive integer, or `fallback` when absent (bench/connect.ts, bench/storm.ts). */
export function intOption(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer`);
  return n;
}
