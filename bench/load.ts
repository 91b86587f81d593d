/**
 * The load generator: a separate Node process (so its CPU never counts as the
 * server's), driven by bench/run.ts over IPC. It holds the WebSocket sessions
 * (`ws`, no compression), pushes over a keep-alive pool (`undici` Pool), checks
 * every delivery (right id, right payload, once per session) and reads the
 * server's CPU time from /proc around each measured window.
 *
 * Started as: node bench/load.ts   (with an IPC channel; see startLoadGenerator in run.ts)
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import WebSocket from "ws";
import { signJwt } from "./lib/jwt.ts";
import { cpuSeconds } from "./lib/proc.ts";
import type {
  CloseResult,
  Command,
  ConnectArgs,
  ConnectResult,
  Percentiles,
  PushArgs,
  PushResult,
  Reply,
  Request,
  Target,
} from "./lib/messages.ts";

// ---- sessions ----

interface Sock {
  ws: WebSocket;
  user: UserEntry;
  pos: number;
  open: boolean;
}

interface UserEntry {
  id: string;
  socks: Sock[];
}

interface Group {
  target: Target;
  users: UserEntry[];
}

const groups = new Map<string, Group>();

/** Loopback source addresses, round-robin, so many sockets never run out of ephemeral ports. */
const SOURCE_ADDRESSES = Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 2}`);
let sourceNext = 0;

// ---- deliveries ----

interface Pending {
  /** When the push was sent (open mode: scheduled), performance.now() ms. */
  t0: number;
  user: UserEntry;
  /** Which of the user's sockets got it. */
  got: Uint8Array;
  expected: number;
  received: number;
  /** The payload marker the frame must carry. */
  k: number;
}

const pending = new Map<string, Pending>();
let outstanding = 0;

/** Per-phase counters, reset by each push command. */
const phase = {
  deliveries: 0,
  duplicates: 0,
  corrupt: 0,
  unexpected: 0,
  latencies: [] as number[],
  lastDeliveryAt: 0,
};

function onFrame(sock: Sock, text: string): void {
  let frame: { type?: unknown; id?: unknown; data?: { k?: unknown } };
  try {
    frame = JSON.parse(text) as typeof frame;
  } catch {
    phase.corrupt++;
    return;
  }
  if (frame.type !== "message") return; // welcome (product): handled by connect
  const p = typeof frame.id === "string" ? pending.get(frame.id) : undefined;
  if (p === undefined) {
    phase.unexpected++;
    return;
  }
  if (p.user !== sock.user || sock.pos >= p.got.length) {
    phase.unexpected++;
    return;
  }
  if (p.got[sock.pos] === 1) {
    phase.duplicates++;
    return;
  }
  if (frame.data?.k !== p.k) {
    phase.corrupt++;
    return;
  }
  p.got[sock.pos] = 1;
  p.received++;
  outstanding--;
  phase.deliveries++;
  const now = performance.now();
  phase.lastDeliveryAt = now;
  phase.latencies.push(now - p.t0);
  if (p.received === p.expected) pending.delete(frame.id as string);
}

// ---- connect ----

function connectOne(target: Target, user: UserEntry, pos: number): Promise<Sock> {
  const base = target.base.replace(/^http/, "ws");
  let url: string;
  const headers: Record<string, string> = {};
  if (target.kind === "product") {
    url = `${base}/v1/connect?device=d${pos}`;
    headers.Authorization = `Bearer ${signJwt(target.jwtSecret ?? "", user.id)}`;
  } else {
    url = `${base}/v1/connect?user=${encodeURIComponent(user.id)}`;
  }
  const localAddress = SOURCE_ADDRESSES[sourceNext++ % SOURCE_ADDRESSES.length];
  const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: 30_000, localAddress });
  const sock: Sock = { ws, user, pos, open: false };
  return new Promise((resolve, reject) => {
    let settled = false;
    const ready = () => {
      if (settled) return;
      settled = true;
      sock.open = true;
      resolve(sock);
    };
    ws.on("message", (data: WebSocket.RawData) => {
      const text = data.toString();
      if (!settled) {
        // The product greets every session first; anything else is a failure.
        if (text.startsWith('{"type":"welcome"')) ready();
        else {
          settled = true;
          ws.terminate();
          reject(new Error(`first frame was not welcome: ${text.slice(0, 80)}`));
        }
        return;
      }
      onFrame(sock, text);
    });
    ws.on("open", () => {
      if (target.kind === "baseline") ready();
    });
    ws.on("error", (err: Error) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
    ws.on("close", () => {
      if (sock.open) {
        sock.open = false;
        unexpectedCloses++;
      }
      if (!settled) {
        settled = true;
        reject(new Error("closed before ready"));
      }
    });
  });
}

let unexpectedCloses = 0;

async function connect(a: ConnectArgs): Promise<ConnectResult> {
  let group = groups.get(a.group);
  if (group === undefined) {
    group = { target: a.target, users: [] };
    groups.set(a.group, group);
  }
  const jobs: Array<{ user: UserEntry; pos: number }> = [];
  for (let i = a.firstUser; i < a.firstUser + a.users; i++) {
    const user: UserEntry = { id: `${a.userPrefix}${i}`, socks: [] };
    group.users.push(user);
    for (let pos = 0; pos < a.sessionsPerUser; pos++) jobs.push({ user, pos });
  }
  const errors: string[] = [];
  let opened = 0;
  let failed = 0;
  const cpu0 = cpuSeconds(a.target.pid);
  const load0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      if (job === undefined) break;
      try {
        const sock = await connectOne(a.target, job.user, job.pos);
        job.user.socks[job.pos] = sock;
        opened++;
      } catch (err) {
        failed++;
        if (errors.length < 5) errors.push(String((err as Error).message ?? err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(a.concurrency, jobs.length) }, worker));
  const wallMs = performance.now() - t0;
  const serverCpuS = cpuSeconds(a.target.pid) - cpu0;
  const load = process.cpuUsage(load0);
  // A failed slot leaves a hole: compact so positions stay dense.
  for (const user of group.users) {
    user.socks = user.socks.filter((s): s is Sock => s !== undefined);
    user.socks.forEach((s, i) => (s.pos = i));
  }
  return { opened, failed, errors, wallMs, serverCpuS, loadCpuS: (load.user + load.system) / 1e6 };
}

// ---- push ----

const pools = new Map<string, Pool>();
function poolFor(base: string, connections: number): Pool {
  const key = `${base}#${connections}`;
  let pool = pools.get(key);
  if (pool === undefined) {
    pool = new Pool(base, { connections, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 });
    pools.set(key, pool);
  }
  return pool;
}

const RUN = randomBytes(4).toString("hex");
let pushCounter = 0;

function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { n: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { n: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}

async function push(a: PushArgs): Promise<PushResult> {
  const group = groups.get(a.group);
  if (group === undefined) throw new Error(`no group ${a.group}`);
  const users = group.users.slice(a.fromUser ?? 0, a.toUser ?? group.users.length);
  if (users.length === 0) throw new Error("no users to push to");
  const target = a.target;
  const pool = poolFor(target.base, a.connections);
  const filler = "x".repeat(a.payloadBytes);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (target.kind === "product") headers.authorization = `Bearer ${target.apiKey ?? ""}`;

  phase.deliveries = 0;
  phase.duplicates = 0;
  phase.corrupt = 0;
  phase.unexpected = 0;
  phase.latencies = [];
  phase.lastDeliveryAt = 0;
  let pushes = 0;
  let errors = 0;
  let expected = 0;
  let deliveredMismatch = 0;
  let lagged = 0;
  let inFlight = 0;
  const errorSamples: string[] = [];
  let nextUser = 0;

  const pushOne = async (t0: number): Promise<void> => {
    const user = users[nextUser++ % users.length] as UserEntry;
    const n = ++pushCounter;
    const id = `b${RUN}-${n}`;
    const data = { k: n, text: filler };
    let body: string;
    if (target.kind === "product") {
      body = JSON.stringify(a.ttl === undefined ? { data, id } : { data, id, ttl: a.ttl });
    } else {
      // The baseline relays the body as the frame: make it the product's frame shape.
      body = JSON.stringify({ type: "message", id, seq: null, sentAt: Date.now(), data });
    }
    const open = user.socks.filter((s) => s.open).length;
    const p: Pending = { t0, user, got: new Uint8Array(user.socks.length), expected: open, received: 0, k: n };
    pending.set(id, p);
    outstanding += open;
    expected += open;
    inFlight++;
    try {
      const res = await pool.request({ path: `/v1/users/${encodeURIComponent(user.id)}/messages`, method: "POST", headers, body });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 120)}`);
      const answer = JSON.parse(text) as { delivered?: unknown };
      if (typeof answer.delivered === "number") deliveredMismatch += answer.delivered - open;
      pushes++;
    } catch (err) {
      errors++;
      if (errorSamples.length < 5) errorSamples.push(String((err as Error).message ?? err));
      // Expect nothing from a push that failed.
      const left = p.expected - p.received;
      outstanding -= left;
      expected -= p.expected;
      p.expected = p.received;
      if (p.received === p.expected) pending.delete(id);
    } finally {
      inFlight--;
    }
  };

  const cpu0 = cpuSeconds(target.pid);
  const load0 = process.cpuUsage();
  const start = performance.now();
  const deadline = start + a.durationMs;
  const max = a.maxPushes ?? Number.POSITIVE_INFINITY;
  let issued = 0;
  if (a.mode === "closed") {
    const worker = async () => {
      while (performance.now() < deadline && issued < max) {
        issued++;
        await pushOne(performance.now());
      }
    };
    await Promise.all(Array.from({ length: a.concurrency }, worker));
  } else {
    const rate = a.rate ?? 100;
    const interval = 1000 / rate;
    const total = Math.min(max, Math.floor((a.durationMs / 1000) * rate));
    const running: Array<Promise<void>> = [];
    while (issued < total) {
      const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
      while (issued < due) {
        if (inFlight >= a.concurrency) {
          lagged++;
          break;
        }
        // Latency counts from the scheduled time, so a late send is not hidden (no coordinated omission).
        running.push(pushOne(start + issued * interval));
        issued++;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(running);
  }
  const answeredAt = performance.now();
  const drainDeadline = answeredAt + (a.drainMs ?? 5000);
  while (outstanding > 0 && performance.now() < drainDeadline) await new Promise((r) => setTimeout(r, 2));
  const end = Math.max(answeredAt, outstanding > 0 ? answeredAt : phase.lastDeliveryAt);
  const serverCpuS = cpuSeconds(target.pid) - cpu0;
  const load = process.cpuUsage(load0);
  const lost = outstanding;
  // Forget what never came, so the next phase starts clean.
  pending.clear();
  outstanding = 0;
  if (phase.unexpected > 0 && errorSamples.length < 5) errorSamples.push(`${phase.unexpected} frames with unknown ids`);
  return {
    pushes,
    errors,
    errorSamples,
    expected,
    deliveries: phase.deliveries,
    lost,
    duplicates: phase.duplicates,
    corrupt: phase.corrupt,
    deliveredMismatch,
    lagged,
    wallMs: end - start,
    serverCpuS,
    loadCpuS: (load.user + load.system) / 1e6,
    latency: percentiles(phase.latencies),
  };
}

// ---- close ----

async function close(name: string): Promise<CloseResult> {
  const group = groups.get(name);
  groups.delete(name);
  if (group === undefined) return { closed: 0, wallMs: 0 };
  const t0 = performance.now();
  const waits: Array<Promise<void>> = [];
  for (const user of group.users) {
    for (const sock of user.socks) {
      sock.open = false; // expected from here on
      waits.push(
        new Promise<void>((resolve) => {
          if (sock.ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            sock.ws.terminate();
            resolve();
          }, 10_000);
          sock.ws.once("close", () => {
            clearTimeout(timer);
            resolve();
          });
          try {
            sock.ws.close(1000, "bench done");
          } catch {
            sock.ws.terminate();
          }
        }),
      );
    }
  }
  await Promise.all(waits);
  return { closed: waits.length, wallMs: performance.now() - t0 };
}

// ---- IPC ----

async function handle(c: Command): Promise<unknown> {
  switch (c.cmd) {
    case "connect":
      return connect(c.args);
    case "push":
      return push(c.args);
    case "close":
      return close(c.args.group);
    case "groups":
      return {
        unexpectedCloses,
        groups: [...groups].map(([name, g]) => ({ name, users: g.users.length, open: g.users.reduce((n, u) => n + u.socks.filter((s) => s.open).length, 0) })),
      };
    case "exit":
      setImmediate(() => {
        for (const pool of pools.values()) void pool.destroy();
        for (const g of groups.values()) for (const u of g.users) for (const s of u.socks) s.ws.terminate();
        process.exit(0);
      });
      return null;
  }
}

if (process.send !== undefined) {
  process.on("message", (msg: Request) => {
    handle(msg).then(
      (result) => process.send?.({ seq: msg.seq, ok: true, result } satisfies Reply),
      (err: unknown) => process.send?.({ seq: msg.seq, ok: false, error: String((err as Error)?.stack ?? err) } satisfies Reply),
    );
  });
  // The orchestrator went away: don't linger holding thousands of sockets.
  process.on("disconnect", () => process.exit(0));
}
