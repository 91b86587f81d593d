/** What bench/run.ts (the orchestrator) and bench/load.ts (the load generator) say to each other over IPC. */

/** One server under test, as the load generator sees it. */
export interface Target {
  /** "product" (Switchboard) or "baseline" (bench/baseline/worker.js); decides URLs, auth and bodies. */
  kind: "product" | "baseline";
  /** http://127.0.0.1:port */
  base: string;
  /** The workerd process, for /proc CPU readings. */
  pid: number;
  apiKey?: string;
  jwtSecret?: string;
}

export interface ConnectArgs {
  target: Target;
  /** Name of the session group (users and their sockets) kept in the load generator. */
  group: string;
  /** userIds are `${userPrefix}${i}` for i in [firstUser, firstUser + users). */
  userPrefix: string;
  firstUser: number;
  users: number;
  sessionsPerUser: number;
  /** Handshakes in flight at once. */
  concurrency: number;
}

export interface ConnectResult {
  opened: number;
  failed: number;
  /** A few failure reasons, for the log. */
  errors: string[];
  wallMs: number;
  serverCpuS: number;
  loadCpuS: number;
}

export interface PushArgs {
  target: Target;
  group: string;
  /** Push to users [fromUser, toUser) of the group (indices), round-robin. Default: all. */
  fromUser?: number;
  toUser?: number;
  /** undefined = the server's default (stored); 0 = live-only. */
  ttl?: number;
  /** "closed": `concurrency` pushes in flight all the time (saturation); "open": a fixed offered rate. */
  mode: "closed" | "open";
  concurrency: number;
  /** Pushes per second (open mode). */
  rate?: number;
  durationMs: number;
  /** Stop after this many pushes even if time is left. */
  maxPushes?: number;
  /** Bytes of filler text in each push's data. */
  payloadBytes: number;
  /** Keep-alive HTTP connections in the pool. */
  connections: number;
  /** How long to wait for missing deliveries after the last answer. */
  drainMs?: number;
}

export interface Percentiles {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface PushResult {
  pushes: number;
  /** Non-2xx answers or transport errors. */
  errors: number;
  errorSamples: string[];
  /** Frames each pushed message should reach (sessions of the user when it was pushed). */
  expected: number;
  deliveries: number;
  /** expected − received, after the drain wait. */
  lost: number;
  duplicates: number;
  /** Frames with a wrong payload, or not JSON. */
  corrupt: number;
  /** Sum over answers of (sessions the server said it delivered to − sessions we had): nonzero = disagreement. */
  deliveredMismatch: number;
  /** Open mode: pushes sent late because `concurrency` were already in flight. */
  lagged: number;
  wallMs: number;
  serverCpuS: number;
  loadCpuS: number;
  /** push→receive, ms, per delivery (open mode: from the scheduled send time). */
  latency: Percentiles;
}

export interface CloseResult {
  closed: number;
  wallMs: number;
}

export type Command =
  { cmd: "connect"; args: ConnectArgs } | { cmd: "push"; args: PushArgs } | { cmd: "close"; args: { group: string } } | { cmd: "groups" } | { cmd: "exit" };

export type Request = Command & { seq: number };
export type Reply = { seq: number; ok: true; result: unknown } | { seq: number; ok: false; error: string };
