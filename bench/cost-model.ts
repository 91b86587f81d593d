/**
 * npm run cost [-- --users N --sessions N --heartbeat S --audit S --reap S --token-ttl S --reconnects N]
 * npm run cost:measure      (the billing probe at the current code, ~30 s, then this)
 *
 * Monthly Cloudflare bill for Switchboard, from Cloudflare's published prices
 * and the billed units per event that bench/billing-probe.ts measured
 * (bench/results/billing-probe.json: read here, never copied into constants).
 * Every incoming text frame is billed at 20:1 — heartbeats included: the
 * pricing page exempts only WebSocket protocol pings, and auto-response saves
 * duration, not the request (docs/cost-model.md). Prints its assumptions, the
 * idle bill line by line, the heartbeat floor and what sits above it, variants,
 * reference workloads with pushes, hosted anchors for the same connections, and
 * ends with the line `idle: $N per 1M connected users per month, every text
 * frame billed`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../src/config.ts";
import type { HandlerUnits, ProbeResult, ProbeUnits } from "./billing-probe.ts";
import { srcCommitsSince, srcHash } from "./lib/provenance.ts";
import { ROOT } from "../tools/lib/workerd.ts";

// ---- command line: the only place argv is read ----
const MAIN = import.meta.url === `file://${process.argv[1]}`;
const ARGV = MAIN ? process.argv.slice(2) : [];

// ---- prices: Workers Paid, read 2026-12-01 ----
const SOURCES = {
  workers: "https://developers.cloudflare.com/workers/platform/pricing/ (Workers Paid: $5/month; 10 M requests + $0.30/M; 30 M CPU-ms + $0.02/M)",
  durableObjects:
    "https://developers.cloudflare.com/durable-objects/platform/pricing/ (1 M requests + $0.15/M, incl. RPC calls, alarm invocations and incoming WebSocket messages at 20:1 — only protocol pings exempt; 400 k GB-s + $12.50/M GB-s, billed only while a handler runs)",
  sqlite:
    "same page, SQLite storage (25 B rows read + $0.001/M; 50 M rows written + $1.00/M, each setAlarm() billed as one row written; 5 GB + $0.20/GB-month)",
  aws: "https://aws.amazon.com/api-gateway/pricing/ (WebSocket APIs: $0.25 per million connection-minutes, before messages)",
} as const;

const PRICE = {
  workersBase: 5,
  workersRequestsIncluded: 10e6,
  workersPerMillionRequests: 0.3,
  workersCpuMsIncluded: 30e6,
  workersPerMillionCpuMs: 0.02,
  doRequestsIncluded: 1e6,
  doPerMillionRequests: 0.15,
  wsMessagesPerRequest: 20,
  doGbSecondsIncluded: 400e3,
  doPerMillionGbSeconds: 12.5,
  doGb: 0.128,
  rowsReadIncluded: 25e9,
  perMillionRowsRead: 0.001,
  rowsWrittenIncluded: 50e6,
  perMillionRowsWritten: 1.0,
  storageGbIncluded: 5,
  perGbMonth: 0.2,
  awsPerMillionConnectionMinutes: 0.25,
};

// ---- assumptions the probe cannot measure (said so in the output) ----
/** Wall seconds a handler keeps its object busy (duration is billed only then); small either way. */
const ACTIVE_S = 0.005;
/** Worker CPU per request (ms): upper bounds from the bench (all of workerd's CPU per push / connect). */
const WORKER_CPU_MS = { push: 1.2, connect: 3.8 };
/** A stored message's later purge: its row and its index entry deleted (deletes are rows written). */
const PURGE_ROWS_WRITTEN = 2;
/** A stats shard's row for a user (user_id + three integers), bytes: an estimate, the shard's own size being mostly fixed. */
const SHARD_BYTES_PER_USER = 100;
const MONTH_S = 30 * 86_400;
/** The SDK refreshes a token when 75–90 % of its lifetime has passed (packages/client/src/tokenRefresh.ts): 82.5 % on average. */
const REFRESH_AT = 0.825;

// ---- units: from the probe's output, for the code it ran at ----
const PROBE_PATH = join(ROOT, "bench/results/billing-probe.json");

export function readProbe(path = PROBE_PATH): ProbeResult {
  const probe = JSON.parse(readFileSync(path, "utf8")) as Partial<ProbeResult>;
  if (probe.units === undefined || probe.provenance === undefined) throw new Error(`${path} predates the units the model reads: run npm run cost:measure`);
  return probe as ProbeResult;
}

/** Where the units come from, and a warning when src/ is not what the probe measured. */
export function provenanceNote(probe: ProbeResult): string[] {
  const p = probe.provenance;
  const lines = [
    `Units from bench/results/billing-probe.json: commit ${p.commit.slice(0, 12)}${p.dirty ? " with uncommitted src/ changes" : p.treeDirty ? " (src/ clean; other files uncommitted)" : " (clean tree)"}, measured ${p.at}.`,
  ];
  if (srcHash() !== p.srcHash) {
    const since = srcCommitsSince(p.commit);
    lines.push(
      `WARNING: src/ has changed since the probe ran (${since.length > 0 ? `${since.length} commit(s) touching src/ since, and/or ` : ""}uncommitted edits); the units may be stale — run npm run cost:measure.`,
    );
  }
  return lines;
}

/** The [vars] a deployment ships with (wrangler.toml): `KEY = "value"` lines. */
function wranglerVars(): Record<string, string> {
  const text = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const section = text.split(/^\[vars\]\s*$/m)[1]?.split(/^\[/m)[0] ?? "";
  const vars: Record<string, string> = {};
  for (const m of section.matchAll(/^([A-Z_]+)\s*=\s*"([^"]*)"/gm)) vars[m[1] as string] = m[2] as string;
  return vars;
}

/** The knobs as deployed by default: wrangler.toml's [vars] read by src/config.ts itself. */
function deployed(): { heartbeatS: number; auditS: number; shards: number; heartbeatFromCode: boolean } {
  const parsed = parseConfig({ ...wranglerVars(), JWT_SECRET: "x".repeat(32), API_KEY: "y".repeat(16) });
  if (!parsed.ok) throw new Error(`src/config.ts refused wrangler.toml's [vars]: ${parsed.problem}`);
  // HEARTBEAT_INTERVAL: the silence the server advertises (cadence decision: 90 s).
  const heartbeatMs = (parsed.config as unknown as Record<string, unknown>).heartbeatIntervalMs;
  const fromCode = typeof heartbeatMs === "number";
  return {
    heartbeatS: fromCode ? heartbeatMs / 1000 : 90,
    auditS: parsed.config.statsAuditIntervalMs / 1000,
    shards: parsed.config.statsShards,
    heartbeatFromCode: fromCode,
  };
}

export interface Workload {
  users: number;
  sessionsPerUser: number;
  /** Seconds of silence after which a session sends its one text ping (HEARTBEAT_INTERVAL). */
  heartbeatS: number;
  /** STATS_AUDIT_INTERVAL, s. */
  auditS: number;
  /** REAP_INTERVAL, s (0 = off, the default without webhooks). */
  reapS: number;
  /** Credential lifetime, s; each session refreshes on its open socket at REFRESH_AT of it (0 = outlives the month). */
  tokenTtlS: number;
  /** Reconnects per session per day (network changes, app restarts, deploys). */
  reconnectsPerDay: number;
  storedPushes: number;
  livePushes: number;
}

export function idleWorkload(): Workload {
  const d = deployed();
  return {
    users: 1e6,
    sessionsPerUser: 2,
    heartbeatS: d.heartbeatS,
    auditS: d.auditS,
    reapS: 0,
    tokenTtlS: 86_400,
    reconnectsPerDay: 0,
    storedPushes: 0,
    livePushes: 0,
  };
}

export function parseWorkload(argv: string[]): Workload {
  const w = idleWorkload();
  const keys: Record<string, keyof Workload> = {
    "--users": "users",
    "--sessions": "sessionsPerUser",
    "--heartbeat": "heartbeatS",
    "--audit": "auditS",
    "--reap": "reapS",
    "--token-ttl": "tokenTtlS",
    "--reconnects": "reconnectsPerDay",
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = keys[argv[i] ?? ""];
    const v = Number(argv[i + 1]);
    if (key === undefined || !Number.isFinite(v) || v < 0) throw new Error(`bad option ${argv[i]} ${argv[i + 1]} (see bench/cost-model.ts)`);
    if ((key === "heartbeatS" || key === "auditS" || key === "users" || key === "sessionsPerUser") && v === 0) throw new Error(`${argv[i]} must be > 0`);
    w[key] = v;
  }
  return w;
}

// ---- the bill ----

export type Group = "heartbeats" | "credentials" | "reconnects" | "audits" | "reaper" | "pushes" | "storage" | "plan";

interface Usage {
  group: Group;
  item: string;
  doRequests?: number;
  workerRequests?: number;
  workerCpuMs?: number;
  rowsRead?: number;
  rowsWritten?: number;
  gbS?: number;
  storageGb?: number;
  fixed?: number;
}

export interface Line extends Usage {
  cost: number;
}

/** Rows a handler reads and writes (setAlarm is a row written), times n. */
const rows = (u: HandlerUnits, n: number) => ({ rowsRead: u.rowsRead * n, rowsWritten: (u.rowsWritten + u.setAlarms) * n });
const busy = (handlers: number) => handlers * ACTIVE_S * PRICE.doGb;

/**
 * Refresh units: measured when the probed code has refresh; else (marked ASSUMED in the output)
 * what issue 21's refresh does: the frame wakes the object and the alarm moves to the new
 * earliest exp (one setAlarm), leaving no alarm behind.
 */
function refreshUnits(u: ProbeUnits): { refresh: HandlerUnits; alarmsPerRefresh: number; alarm: HandlerUnits } {
  if (u.refreshSupported) return { refresh: u.refresh, alarmsPerRefresh: u.expiryAlarmsPerRefresh, alarm: u.expiryAlarm };
  return { refresh: { ...u.refresh, setAlarms: 1 }, alarmsPerRefresh: 0, alarm: u.expiryAlarm };
}

export function usage(w: Workload, u: ProbeUnits): Usage[] {
  const sessions = w.users * w.sessionsPerUser;
  const out: Usage[] = [{ group: "plan", item: "Workers Paid plan (minimum)", fixed: PRICE.workersBase }];
  const pings = sessions * (MONTH_S / w.heartbeatS);
  out.push({
    group: "heartbeats",
    item: `heartbeat pings: one text frame per ${w.heartbeatS} s of silence per session, ÷ 20`,
    doRequests: pings / PRICE.wsMessagesPerRequest,
    ...rows(u.wake, pings * u.pingWakeFraction),
  });

  if (w.tokenTtlS > 0 && w.tokenTtlS < MONTH_S) {
    const r = refreshUnits(u);
    const refreshes = sessions * (MONTH_S / (w.tokenTtlS * REFRESH_AT));
    const alarms = refreshes * r.alarmsPerRefresh;
    // Each refresh frame wakes the object (hibernated in between); so does each alarm.
    out.push({
      group: "credentials",
      item: `token refresh frames (1 per session every ${Math.round(w.tokenTtlS * REFRESH_AT)} s), ÷ 20`,
      doRequests: refreshes / PRICE.wsMessagesPerRequest,
      ...sum(rows(u.wake, refreshes), rows(r.refresh, refreshes)),
      gbS: busy(refreshes),
    });
    out.push({
      group: "credentials",
      item: "expiry alarms a refresh leaves behind (per session), each re-planning",
      doRequests: alarms,
      ...sum(rows(u.wake, alarms), rows(r.alarm, alarms)),
      gbS: busy(alarms),
    });
  }

  const connects = sessions * w.reconnectsPerDay * 30;
  if (connects > 0) {
    const reports = connects * (u.reportsPerConnect + u.reportsPerClose);
    out.push({
      group: "reconnects",
      item: `reconnects (${w.reconnectsPerDay}/session/day): Worker request + object request + close; SDK's first ping and the close frame ÷ 20`,
      workerRequests: connects,
      workerCpuMs: connects * WORKER_CPU_MS.connect,
      doRequests: connects + (2 * connects) / PRICE.wsMessagesPerRequest,
      ...sum(rows(u.wake, connects), rows(u.reconnect, connects), rows(u.close, connects)),
      gbS: busy(2 * connects),
    });
    out.push({
      group: "reconnects",
      item: `presence reports to the shard (${u.reportsPerClose} per close + ${u.reportsPerConnect} per connect)`,
      doRequests: reports,
      ...rows(u.shardReport, reports),
      gbS: busy(reports),
    });
  }

  // A healthy idle user never reports, so every round audits every online user.
  const audits = w.users * (MONTH_S / w.auditS);
  const rounds = deployed().shards * (MONTH_S / w.auditS);
  out.push({
    group: "audits",
    item: `stats audits (each quiet online user once per ${w.auditS} s) + each shard's alarm`,
    doRequests: audits + rounds,
    rowsRead: audits * (u.wake.rowsRead + u.audit.rowsRead + u.auditShardRowsReadPerUser),
    rowsWritten: audits * (u.audit.rowsWritten + u.audit.setAlarms + u.auditShardRowsWrittenPerUser) + rounds,
    gbS: busy(audits + rounds),
  });
  if (w.reapS > 0) {
    const reaps = w.users * (MONTH_S / w.reapS);
    out.push({
      group: "reaper",
      item: `reaper alarms (REAP_INTERVAL ${w.reapS} s), each re-armed`,
      doRequests: reaps,
      rowsRead: reaps * u.wake.rowsRead,
      rowsWritten: reaps,
      gbS: busy(reaps),
    });
  }

  if (w.storedPushes + w.livePushes > 0) {
    const pushes = w.storedPushes + w.livePushes;
    const acks = w.storedPushes * w.sessionsPerUser;
    out.push({
      group: "pushes",
      item: "pushes: Worker request + RPC to the user's object (woken)",
      workerRequests: pushes,
      workerCpuMs: pushes * WORKER_CPU_MS.push,
      doRequests: pushes,
      ...sum(rows(u.wake, pushes), rows(u.storedPush, w.storedPushes), rows(u.livePush, w.livePushes)),
      gbS: busy(pushes),
    });
    out.push({
      group: "pushes",
      item: "stored messages: acks (each session's, ÷ 20) and the later purge",
      doRequests: acks / PRICE.wsMessagesPerRequest,
      rowsRead: acks * u.ack.rowsRead,
      rowsWritten: acks * (u.ack.rowsWritten + u.ack.setAlarms) + w.storedPushes * PURGE_ROWS_WRITTEN,
      gbS: busy(acks),
    });
  }
  const storedBytes = (w.storedPushes / 30) * Math.max(0, u.bytesUserWithMessages - u.bytesIdleUser);
  out.push({
    group: "storage",
    item: `SQLite storage: ${Math.round(u.bytesIdleUser / 1024)} KB per user's object (measured) + the shards' rows`,
    storageGb: (w.users * (u.bytesIdleUser + SHARD_BYTES_PER_USER) + storedBytes) / 1e9,
  });
  return out;
}

function sum(a: { rowsRead: number; rowsWritten: number }, ...more: Array<{ rowsRead: number; rowsWritten: number }>) {
  return more.reduce((acc, b) => ({ rowsRead: acc.rowsRead + b.rowsRead, rowsWritten: acc.rowsWritten + b.rowsWritten }), a);
}

const over = (q: number, included: number, perMillion: number) => (Math.max(0, q - included) / 1e6) * perMillion;

/**
 * Price every line. An allowance is shared by all lines of its kind, so each
 * line is charged its share of the billable part; heartbeats come first
 * (the floor is what they cost by themselves, allowance included).
 */
export function bill(w: Workload, u: ProbeUnits): { lines: Line[]; total: number; floor: number } {
  const us = usage(w, u);
  const total = (f: (x: Usage) => number) => us.reduce((n, x) => n + f(x), 0);
  const meters: Array<[(x: Usage) => number, number, number]> = [
    [(x) => x.doRequests ?? 0, PRICE.doRequestsIncluded, PRICE.doPerMillionRequests],
    [(x) => x.workerRequests ?? 0, PRICE.workersRequestsIncluded, PRICE.workersPerMillionRequests],
    [(x) => x.workerCpuMs ?? 0, PRICE.workersCpuMsIncluded, PRICE.workersPerMillionCpuMs],
    [(x) => x.rowsRead ?? 0, PRICE.rowsReadIncluded, PRICE.perMillionRowsRead],
    [(x) => x.rowsWritten ?? 0, PRICE.rowsWrittenIncluded, PRICE.perMillionRowsWritten],
    [(x) => x.gbS ?? 0, PRICE.doGbSecondsIncluded, PRICE.doPerMillionGbSeconds],
  ];
  const lines: Line[] = us.map((x) => ({ ...x, cost: x.fixed ?? 0 }));
  for (const [f, included, perMillion] of meters) {
    const all = total(f);
    const billable = over(all, included, perMillion);
    if (all > 0) for (const l of lines) l.cost += (billable * f(l)) / all;
  }
  const storage = total((x) => x.storageGb ?? 0);
  for (const l of lines)
    if (l.storageGb !== undefined && storage > 0) l.cost += (Math.max(0, storage - PRICE.storageGbIncluded) * PRICE.perGbMonth * l.storageGb) / storage;
  const hb = us.find((x) => x.group === "heartbeats");
  const floor = over(hb?.doRequests ?? 0, PRICE.doRequestsIncluded, PRICE.doPerMillionRequests);
  return { lines, total: lines.reduce((a, l) => a + l.cost, 0), floor };
}

// ---- output ----

export const money = (x: number) => (x >= 100 ? `$${Math.round(x).toLocaleString("en-US")}` : `$${x.toFixed(2)}`);
const qty = (x: number) =>
  x >= 1e9 ? `${(x / 1e9).toFixed(2)} B` : x >= 1e6 ? `${(x / 1e6).toFixed(1)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(1);

function quantities(l: Usage): string {
  const parts: string[] = [];
  if (l.workerRequests) parts.push(`${qty(l.workerRequests)} Worker req`);
  if (l.doRequests) parts.push(`${qty(l.doRequests)} DO req`);
  if (l.rowsWritten) parts.push(`${qty(l.rowsWritten)} rows written`);
  if (l.rowsRead) parts.push(`${qty(l.rowsRead)} rows read`);
  if (l.storageGb) parts.push(`${l.storageGb.toFixed(1)} GB-month`);
  return parts.join(", ") || "—";
}

export function markdown(w: Workload, u: ProbeUnits): string {
  const b = bill(w, u);
  const rowsOut = b.lines.filter((l) => l.fixed !== undefined || quantities(l) !== "—").map((l) => `| ${l.item} | ${quantities(l)} | ${money(l.cost)} |`);
  return [`| line | quantity / month | cost / month |`, `|---|---|---|`, ...rowsOut, `| **total** | | **${money(b.total)}** |`].join("\n");
}

export function assumptions(w: Workload, u: ProbeUnits, heartbeatFromCode = true): string[] {
  return [
    `- users: ${qty(w.users)}; sessions per user: ${w.sessionsPerUser} (${qty(w.users * w.sessionsPerUser)} connections), healthy and idle all month`,
    `- heartbeat cadence: one text ping per ${w.heartbeatS} s of silence per session (HEARTBEAT_INTERVAL ${heartbeatFromCode ? "as deployed by default" : "from the cadence decision — not yet in src/config.ts at this commit"}), billed at 20:1`,
    `- credential lifetime: ${w.tokenTtlS === 0 ? "outlives the month" : `${w.tokenTtlS / 3600} h, refreshed on the open socket at ~${REFRESH_AT * 100} % of it (no reconnect)`}${u.refreshSupported ? "" : " — refresh NOT in the probed code: ASSUMED 1 frame, 1 wake and 1 setAlarm (the alarm moved) per refresh"}`,
    `- reconnects per session per day: ${w.reconnectsPerDay}`,
    `- audit interval: STATS_AUDIT_INTERVAL ${w.auditS} s${w.reapS > 0 ? `; REAP_INTERVAL ${w.reapS} s` : "; no reaper (REAP_INTERVAL off)"}`,
    `- not measured (assumed): ${ACTIVE_S * 1000} ms busy per handler; Worker CPU ${WORKER_CPU_MS.connect} ms/connect, ${WORKER_CPU_MS.push} ms/push; ${SHARD_BYTES_PER_USER} B per user in a shard; ${PURGE_ROWS_WRITTEN} rows written per stored message purged`,
  ];
}

function variants(base: Workload, u: ProbeUnits): string {
  const rowsOut: Array<[string, Partial<Workload>]> = [
    ["the headline", {}],
    ["STATS_AUDIT_INTERVAL 3600 s (the old default)", { auditS: 3600 }],
    ["STATS_AUDIT_INTERVAL 21600 s", { auditS: 21_600 }],
    ["STATS_AUDIT_INTERVAL 86400 s", { auditS: 86_400 }],
    ["heartbeat 25 s (the old SDK default)", { heartbeatS: 25 }],
    ["heartbeat 60 s", { heartbeatS: 60 }],
    ["1 reconnect per session per day", { reconnectsPerDay: 1 }],
    ["1 h credentials, refreshed", { tokenTtlS: 3600 }],
    ["credentials outlive the month", { tokenTtlS: 0 }],
    ["webhooks on (REAP_INTERVAL 600 s)", { reapS: 600 }],
  ];
  const out = rowsOut.map(([name, d]) => {
    const b = bill({ ...base, ...d }, u);
    return `| ${name} | ${money(b.floor)} | ${money(b.total - b.floor)} | ${money(b.total)} |`;
  });
  return [`| idle variant | heartbeat floor | everything else | total |`, `|---|---|---|---|`, ...out].join("\n");
}

/** Hosted anchors for the same connections open all month (list prices read 2026-12-01, docs/cost-model.md). */
export function anchors(connections: number): string {
  const aws = ((connections * MONTH_S) / 60 / 1e6) * PRICE.awsPerMillionConnectionMinutes;
  return [
    `| service | ${qty(connections)} connections all month | source |`,
    `|---|---|---|`,
    `| AWS API Gateway WebSockets | ${money(aws)} in connection-minutes alone ($0.25 per million), before messages | https://aws.amazon.com/api-gateway/pricing/ |`,
    `| Pusher Channels | plans are sized by concurrent connections; this is past every listed plan (Enterprise, by quote) | https://pusher.com/channels/pricing |`,
    `| Ably | ${money((connections / 1000) * 20)} at its listed overage of $20.00 per 1,000 peak connections, before messages (an Enterprise quote at this size) | https://ably.com/pricing/calculator |`,
  ].join("\n");
}

export function costModel(argv: string[]): void {
  const probe = readProbe();
  const u = probe.units;
  const w = parseWorkload(argv);
  const fromCode = deployed().heartbeatFromCode;
  console.log("Prices (Workers Paid), with their sources:");
  for (const s of Object.values(SOURCES)) console.log(`- ${s}`);
  console.log("");
  for (const line of provenanceNote(probe)) console.log(line);
  const idle = { ...w, storedPushes: 0, livePushes: 0 };
  const b = bill(idle, u);
  console.log(`\n### Idle: ${qty(w.users)} users × ${w.sessionsPerUser} healthy idle sessions, every text frame billed\n`);
  console.log(markdown(idle, u));
  const rest = b.total - b.floor;
  console.log(`\nheartbeat floor: ${money(b.floor)}; everything else: ${money(rest)} = ${((100 * rest) / b.floor).toFixed(1)} % of the floor (target ≤ 10 %)`);
  console.log(`\n### Idle variants\n`);
  console.log(variants(idle, u));
  for (const [name, d] of [
    ["+ 100 M stored pushes", { storedPushes: 100e6 }],
    ["+ 100 M stored and 100 M live-only pushes", { storedPushes: 100e6, livePushes: 100e6 }],
  ] as Array<[string, Partial<Workload>]>) {
    console.log(`\n### ${name}\n`);
    console.log(markdown({ ...idle, ...d }, u));
  }
  console.log(`\n### Hosted anchors, same connections\n`);
  console.log(anchors(w.users * w.sessionsPerUser));
  console.log(`\nAssumptions:`);
  for (const line of assumptions(idle, u, fromCode)) console.log(line);
  // The headline is for 1 M users whatever --users says (the plan minimum and allowances don't scale).
  const headline = w.users === 1e6 ? b.total : bill({ ...idle, users: 1e6 }, u).total;
  console.log(`\nidle: ${money(headline)} per 1M connected users per month, every text frame billed`);
}

if (MAIN) costModel((await import("./lib/options.ts")).costArgs(ARGV));
