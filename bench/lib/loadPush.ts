/** The load generator's pushes: closed- or open-loop over a keep-alive pool, then a drain that counts every delivery or loss. */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import { counts, groups, pending, phase, type Pending, type UserEntry } from "./loadState.ts";
import type { Percentiles, PushArgs, PushResult } from "./messages.ts";
import { cpuSeconds } from "./proc.ts";
import { eventually } from "../../scripts/lib/time.ts";

export const pools = new Map<string, Pool>();
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

export async function push(a: PushArgs): Promise<PushResult> {
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
    counts.outstanding += open;
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
      counts.outstanding -= left;
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
  // Deliveries still outstanding at the deadline are counted as such below.
  await eventually("the outstanding deliveries", () => counts.outstanding === 0, drainDeadline - performance.now(), 2).catch(() => undefined);
  const end = Math.max(answeredAt, counts.outstanding > 0 ? answeredAt : phase.lastDeliveryAt);
  const serverCpuS = cpuSeconds(target.pid) - cpu0;
  const load = process.cpuUsage(load0);
  const lost = counts.outstanding;
  // Forget what never came, so the next phase starts clean.
  pending.clear();
  counts.outstanding = 0;
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
