/**
 * npm run cost [-- --users N --sessions N --heartbeat S --audit S --reap S --token-ttl S --reconnects N]
 *
 * Monthly Cloudflare bill for Switchboard, from Cloudflare's published prices
 * and the billed units per event that bench/billing-probe.ts measures
 * (bench/results/billing-probe.json). Prints the table for the reference
 * workloads — 1 M idle connected users; + 100 M stored pushes; + 100 M
 * live-only pushes — each in two readings of heartbeat billing, and ends with
 * the line `idle: $N per 1M connected users per month` (free-ping reading).
 */

// ---- prices: Workers Paid, read 2026-12-01 ----
const SOURCES = {
  workers: "https://developers.cloudflare.com/workers/platform/pricing/ (Workers Paid: $5/month; 10 M requests + $0.30/M; 30 M CPU-ms + $0.02/M)",
  durableObjects:
    "https://developers.cloudflare.com/durable-objects/platform/pricing/ (1 M requests + $0.15/M, incl. RPC calls, alarm invocations and incoming WebSocket messages at 20:1; 400 k GB-s + $12.50/M GB-s, billed only while a handler runs or the object cannot hibernate)",
  sqlite:
    "same page, SQLite storage (25 B rows read + $0.001/M; 50 M rows written + $1.00/M, each setAlarm() billed as one row written; 5 GB + $0.20/GB-month)",
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
};

// ---- billed units per event (bench/billing-probe.ts; rows include index entries) ----
export const UNITS = {
  /** A user's object woken from hibernation: its constructor reads the log's bounds and meta. */
  wake: { read: 3, written: 0 },
  storedPush: { read: 2, written: 2 },
  storedExpiry: { read: 1, written: 2 },
  ack: { read: 1, written: 1 },
  /** A device's first connect: its resume cursor (row + index). */
  newDevice: { read: 0, written: 2 },
  /** A session's token-expiry alarm, armed when it is the user's earliest: one setAlarm (1 row). */
  expiryAlarm: { written: 1 },
  /** One presence report into the user's stats shard (an upsert of its row). */
  shardReport: { read: 1.5, written: 1 },
  /** One audit of a quiet online user: the RPC (a request) and, unchanged, no write; the shard's scan reads its rows. */
  audit: { read: 3, written: 0 },
  /** One reaper alarm (only with REAP_INTERVAL > 0): the invocation (a request) and its re-arm (1 row). */
  reaper: { read: 9, written: 1 },
};

/** Wall seconds an object is busy per event (duration is billed only then; assumptions, small either way). */
const ACTIVE_S = { push: 0.005, ack: 0.002, connect: 0.01, close: 0.005, audit: 0.003, alarm: 0.005 };
/** Worker CPU per request (ms): upper bounds, all of workerd's CPU per push / connect in the bench. */
const WORKER_CPU_MS = { push: 1.2, connect: 3.8 };
const MONTH_S = 30 * 86_400;
const SHARDS = 16;

export interface Workload {
  users: number;
  sessionsPerUser: number;
  storedPushes: number;
  livePushes: number;
  /** SDK heartbeat interval, s (25 by default). */
  heartbeatS: number;
  heartbeatsBilled: boolean;
  /** STATS_AUDIT_INTERVAL, s. */
  auditS: number;
  /** REAP_INTERVAL, s (0 = off, the default without webhooks). */
  reapS: number;
  /** Client token lifetime, s (a session is closed 1008 at exp and the SDK reconnects with a new token); 0 = outlives the month. */
  tokenTtlS: number;
  /** Other reconnects per session per day (network changes, app restarts). */
  reconnectsPerDay: number;
}

export const IDLE: Workload = {
  users: 1e6,
  sessionsPerUser: 2,
  storedPushes: 0,
  livePushes: 0,
  heartbeatS: 25,
  heartbeatsBilled: false,
  auditS: 3600,
  reapS: 0,
  tokenTtlS: 0,
  reconnectsPerDay: 0,
};

interface Line {
  item: string;
  quantity: number;
  unit: string;
  cost: number;
}

const over = (q: number, included: number, perMillion: number) => (Math.max(0, q - included) / 1e6) * perMillion;

export function bill(w: Workload): { lines: Line[]; total: number } {
  const sessions = w.users * w.sessionsPerUser;
  const expiries = w.tokenTtlS > 0 ? sessions * (MONTH_S / w.tokenTtlS) : 0;
  const connects = expiries + sessions * w.reconnectsPerDay * 30;
  const pings = sessions * (MONTH_S / w.heartbeatS);
  const acks = w.storedPushes * w.sessionsPerUser;
  // A quiet online user is audited once per interval; one that changed (connect, close) is skipped that round.
  const audits = w.users * (MONTH_S / w.auditS);
  const reaps = w.reapS > 0 ? w.users * (MONTH_S / w.reapS) : 0;
  // Each connect and each close is one report (coalesced: several within one report's flight count once).
  const reports = connects * 2;
  const expiryAlarms = expiries / w.sessionsPerUser;
  const shardAlarms = SHARDS * (MONTH_S / w.auditS);
  const pushes = w.storedPushes + w.livePushes;
  const wakes = pushes + audits + reaps + expiryAlarms + connects / w.sessionsPerUser;

  const workerRequests = pushes + connects;
  const workerCpuMs = pushes * WORKER_CPU_MS.push + connects * WORKER_CPU_MS.connect;
  const wsIncoming = acks + connects + (w.heartbeatsBilled ? pings : 0);
  const req = {
    pushes,
    connects,
    reports,
    audits: audits + shardAlarms,
    alarms: reaps + expiryAlarms,
    ws: wsIncoming / PRICE.wsMessagesPerRequest,
  };
  const reqTotal = Object.values(req).reduce((a, b) => a + b, 0);
  const gbS =
    (pushes * ACTIVE_S.push + acks * ACTIVE_S.ack + connects * (ACTIVE_S.connect + ACTIVE_S.close) + audits * ACTIVE_S.audit + (reaps + expiryAlarms) * ACTIVE_S.alarm) *
    PRICE.doGb;
  const written = {
    pushes: w.storedPushes * (UNITS.storedPush.written + UNITS.storedExpiry.written) + acks * UNITS.ack.written,
    connects: expiryAlarms * UNITS.expiryAlarm.written,
    reports: reports * UNITS.shardReport.written,
    timers: reaps * UNITS.reaper.written + shardAlarms,
  };
  const writtenTotal = Object.values(written).reduce((a, b) => a + b, 0);
  const rowsRead =
    wakes * UNITS.wake.read +
    w.storedPushes * (UNITS.storedPush.read + UNITS.storedExpiry.read) +
    acks * UNITS.ack.read +
    reports * UNITS.shardReport.read +
    audits * UNITS.audit.read +
    reaps * UNITS.reaper.read;
  // ~16 KB per user's database (an empty SQLite ≈ 12 KB + small tables) + a day of stored messages (~300 B each).
  const storageGb = (w.users * 16e3 + (w.storedPushes / 30) * 300) / 1e9;

  const lines: Line[] = [
    { item: "Workers Paid plan (minimum)", quantity: 1, unit: "month", cost: PRICE.workersBase },
    { item: "Workers requests (pushes, WebSocket upgrades)", quantity: workerRequests, unit: "requests", cost: over(workerRequests, PRICE.workersRequestsIncluded, PRICE.workersPerMillionRequests) },
    { item: "Workers CPU", quantity: workerCpuMs, unit: "CPU-ms", cost: over(workerCpuMs, PRICE.workersCpuMsIncluded, PRICE.workersPerMillionCpuMs) },
    { item: "DO requests: pushes", quantity: req.pushes, unit: "requests", cost: 0 },
    { item: "DO requests: connects (token-expiry reconnects and others)", quantity: req.connects, unit: "requests", cost: 0 },
    { item: "DO requests: presence reports (connects, closes)", quantity: req.reports, unit: "requests", cost: 0 },
    { item: `DO requests: stats audits (each quiet online user once per ${w.auditS} s) and shard alarms`, quantity: req.audits, unit: "requests", cost: 0 },
    { item: `DO requests: alarms (token expiry${w.reapS > 0 ? `, reaper every ${w.reapS} s` : ""})`, quantity: req.alarms, unit: "requests", cost: 0 },
    { item: `DO requests: incoming WebSocket messages ÷ 20 (acks, closes${w.heartbeatsBilled ? `, heartbeats every ${w.heartbeatS} s` : "; heartbeats free"})`, quantity: req.ws, unit: "requests", cost: 0 },
    { item: "DO duration (128 MB × busy time)", quantity: gbS, unit: "GB-s", cost: over(gbS, PRICE.doGbSecondsIncluded, PRICE.doPerMillionGbSeconds) },
    { item: "SQLite rows written: stored pushes, expiry, acks", quantity: written.pushes, unit: "rows", cost: 0 },
    { item: "SQLite rows written: token-expiry alarms", quantity: written.connects, unit: "rows", cost: 0 },
    { item: "SQLite rows written: presence reports", quantity: written.reports, unit: "rows", cost: 0 },
    { item: "SQLite rows written: timer re-arms (reaper, shard alarms)", quantity: written.timers, unit: "rows", cost: 0 },
    { item: "SQLite rows read", quantity: rowsRead, unit: "rows", cost: over(rowsRead, PRICE.rowsReadIncluded, PRICE.perMillionRowsRead) },
    { item: "SQLite storage", quantity: storageGb, unit: "GB-month", cost: Math.max(0, storageGb - PRICE.storageGbIncluded) * PRICE.perGbMonth },
  ];
  const share = (prefix: string, total: number, included: number, perMillion: number) => {
    const billable = over(total, included, perMillion);
    for (const l of lines) if (l.item.startsWith(prefix)) l.cost = total === 0 ? 0 : (billable * l.quantity) / total;
  };
  share("DO requests", reqTotal, PRICE.doRequestsIncluded, PRICE.doPerMillionRequests);
  share("SQLite rows written", writtenTotal, PRICE.rowsWrittenIncluded, PRICE.perMillionRowsWritten);
  return { lines, total: lines.reduce((a, l) => a + l.cost, 0) };
}

export const money = (x: number) => (x >= 100 ? `$${Math.round(x).toLocaleString("en-US")}` : `$${x.toFixed(2)}`);
const qty = (x: number) => (x >= 1e9 ? `${(x / 1e9).toFixed(2)} B` : x >= 1e6 ? `${(x / 1e6).toFixed(1)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(1));

export function markdown(w: Workload): string {
  const b = bill(w);
  const rows = b.lines.filter((l) => l.quantity > 0).map((l) => `| ${l.item} | ${qty(l.quantity)} ${l.unit} | ${money(l.cost)} |`);
  return [`| line | quantity / month | cost / month |`, `|---|---|---|`, ...rows, `| **total** | | **${money(b.total)}** |`].join("\n");
}

export function references(base: Workload): Array<[string, Workload]> {
  return [
    ["1 M idle connected users (2 sessions each, heartbeat, nothing pushed)", base],
    ["+ 100 M stored pushes", { ...base, storedPushes: 100e6 }],
    ["+ 100 M stored and 100 M live-only pushes", { ...base, storedPushes: 100e6, livePushes: 100e6 }],
  ];
}

function summary(base: Workload): string {
  const rows = references(base).map(([name, w]) => `| ${name} | ${money(bill({ ...w, heartbeatsBilled: false }).total)} | ${money(bill({ ...w, heartbeatsBilled: true }).total)} |`);
  const variants: Array<[string, Partial<Workload>]> = [
    ["idle, STATS_AUDIT_INTERVAL 600 s", { auditS: 600 }],
    ["idle, STATS_AUDIT_INTERVAL 21600 s", { auditS: 21_600 }],
    ["idle, webhooks on (REAP_INTERVAL 600 s, the default with WEBHOOK_URL)", { reapS: 600 }],
    ["idle, REAP_INTERVAL 3600 s", { reapS: 3600 }],
    ["idle, 24 h client tokens (a 1008 and a reconnect per session per day)", { tokenTtlS: 86_400 }],
    ["idle, 1 h client tokens", { tokenTtlS: 3600 }],
    ["idle, heartbeat 60 s", { heartbeatS: 60 }],
  ];
  const more = variants.map(([name, d]) => `| ${name} | ${money(bill({ ...base, ...d, heartbeatsBilled: false }).total)} | ${money(bill({ ...base, ...d, heartbeatsBilled: true }).total)} |`);
  return [`| workload | heartbeats free | heartbeats billed (1/20 request each) |`, `|---|---|---|`, ...rows, ...more].join("\n");
}

/** Hosted anchors for 1 M connections open all month, list prices read 2026-12-01 (see docs/cost-model.md). */
export function anchors(): string {
  const connectionMinutes = 1e6 * 30 * 24 * 60;
  const aws = (connectionMinutes / 1e6) * 0.25; // $0.25 per million connection-minutes
  return [
    `| service | what 1 M connections all month cost | source |`,
    `|---|---|---|`,
    `| AWS API Gateway WebSockets | ${money(aws)} in connection-minutes alone ($0.25 per million), before messages | https://aws.amazon.com/api-gateway/pricing/ |`,
    `| Pusher Channels | plans are sized by concurrent connections; 1 M is past every listed plan (Enterprise, by quote) | https://pusher.com/channels/pricing |`,
    `| Ably | ${money(20 * 1000)}: its listed overage rate of $20.00 per 1,000 peak connections, before messages and channels (1 M needs an Enterprise quote) | https://ably.com/pricing/calculator |`,
  ].join("\n");
}

export function parseWorkload(argv: string[]): Workload {
  const w: Workload = { ...IDLE };
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
    (w as unknown as Record<string, number>)[key] = v;
  }
  return w;
}

export function costModel(argv: string[]): void {
  const w = parseWorkload(argv);
  console.log("Prices (Workers Paid), with their sources:");
  for (const s of Object.values(SOURCES)) console.log(`- ${s}`);
  for (const [name, ref] of references(w)) {
    console.log(`\n### ${name} — heartbeats free\n`);
    console.log(markdown(ref));
  }
  console.log(`\n### The same workloads in both readings of heartbeat billing, and variants\n`);
  console.log(summary(w));
  console.log(`\n### Hosted anchors\n`);
  console.log(anchors());
  const idle = bill({ ...w, users: 1e6, storedPushes: 0, livePushes: 0, heartbeatsBilled: false }).total;
  console.log(`\nidle: ${money(idle)} per 1M connected users per month`);
}

if (import.meta.url === `file://${process.argv[1]}`) costModel((await import("./lib/options.ts")).costArgs(process.argv.slice(2)));
