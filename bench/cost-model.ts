/**
 * node bench/cost-model.ts [--users N] [--pushes N] [--heartbeat S] [--reap S] [--sessions N] [--reconnects N] [--live-share F]
 *
 * Monthly Cloudflare bill for Switchboard under a workload, from Cloudflare's
 * published prices (Workers Paid / Standard, Durable Objects, SQLite-backed
 * storage) and per-event billed units measured by bench/billing-probe.ts.
 * Prints the Markdown tables used in docs/cost-model.md.
 */

// ---- prices (developers.cloudflare.com, see docs/cost-model.md for the pages) ----
const PRICE = {
  workersBase: 5, // $/month, Workers Paid minimum
  workersRequestsIncluded: 10e6,
  workersPerMillionRequests: 0.3,
  workersCpuMsIncluded: 30e6,
  workersPerMillionCpuMs: 0.02,
  doRequestsIncluded: 1e6,
  doPerMillionRequests: 0.15,
  /** Incoming WebSocket messages are billed at 20:1 as DO requests. */
  wsMessagesPerRequest: 20,
  doGbSecondsIncluded: 400e3,
  doPerMillionGbSeconds: 12.5,
  /** Duration is billed for 128 MB per object, whatever it uses. */
  doGb: 0.128,
  rowsReadIncluded: 25e9,
  perMillionRowsRead: 0.001,
  rowsWrittenIncluded: 50e6,
  perMillionRowsWritten: 1.0,
  storageGbIncluded: 5,
  perGbMonth: 0.2,
};

// ---- billed units per event, measured by bench/billing-probe.ts (bench/results/billing-probe.json) ----
// rows written include index entries (a row in `messages` has a unique index on id; `cursors`
// and `users` have a TEXT primary key, i.e. an index) and each setAlarm (billed as 1 row).
const UNITS = {
  /** UserHub woken from hibernation: its constructor reads the log's bounds and meta. */
  wake: { read: 2, written: 0 },
  storedPush: { read: 1, written: 2 },
  /** The stored row deleted at expiry (DELETE counts as rows written: row + index). */
  storedExpiry: { read: 1, written: 2 },
  livePush: { read: 0, written: 0 },
  ack: { read: 1, written: 1 },
  /** First connect of a device: cursor row (+index); half the time a setAlarm. */
  connectNewDevice: { read: 0, written: 3.5 },
  /** Reconnect of a known device: no row; sometimes a setAlarm. */
  reconnect: { read: 0, written: 0.5 },
  /** One presence report into the user's stats shard (connect, close, every reaper alarm). */
  shardReport: { read: 1.6, written: 2 },
  /** The reaper alarm in the user's object: purge scans + 1 setAlarm. */
  reaperAlarm: { read: 9, written: 1 },
};

// ---- wall-clock seconds an object is active per event (assumptions; duration is a small line either way) ----
const ACTIVE_S = { push: 0.005, ack: 0.002, connect: 0.01, close: 0.005, reaper: 0.01 };

// ---- Worker CPU per request (ms), upper bounds from the bench: all of workerd's CPU per push / connect ----
const WORKER_CPU_MS = { push: 0.6, connect: 3.5 };

export interface Workload {
  users: number;
  sessionsPerUser: number;
  pushes: number;
  /** Share of pushes sent with ttl 0 (live-only). */
  liveShare: number;
  /** Reconnects per session per day (network changes, app restarts). */
  reconnectsPerDay: number;
  /** Client heartbeat interval, s (SDK default 25). */
  heartbeatS: number;
  /** Whether app-level pings answered by setWebSocketAutoResponse count as billed incoming messages. */
  heartbeatsBilled: boolean;
  /** REAP_INTERVAL, s. */
  reapS: number;
  /** Reaper alarms per lease renewal (1 = today: every alarm reports to the shard). */
  reapsPerRenewal: number;
  /** The shard's partial index on seen_at (today) doubles the rows each report writes; P4 drops it. */
  leaseIndex: boolean;
}

export const DEFAULT: Workload = {
  users: 1e6,
  sessionsPerUser: 1.5,
  pushes: 100e6,
  liveShare: 0,
  reconnectsPerDay: 4,
  heartbeatS: 25,
  heartbeatsBilled: true,
  reapS: 600,
  reapsPerRenewal: 1,
  leaseIndex: true,
};

const MONTH_S = 30 * 86_400;

interface Line {
  item: string;
  quantity: number;
  unit: string;
  cost: number;
}

const over = (q: number, included: number, perMillion: number) => (Math.max(0, q - included) / 1e6) * perMillion;

export function bill(w: Workload): { lines: Line[]; total: number; parts: Record<string, number> } {
  const sessions = w.users * w.sessionsPerUser;
  const stored = w.pushes * (1 - w.liveShare);
  const live = w.pushes * w.liveShare;
  const connects = sessions * w.reconnectsPerDay * 30;
  const newDevices = sessions; // each device's first connect, once
  const acks = stored * w.sessionsPerUser;
  const pings = sessions * (MONTH_S / w.heartbeatS);
  const reaps = w.users * (MONTH_S / w.reapS);
  const renewals = reaps / w.reapsPerRenewal;
  // Every push finds the object hibernated (a few pushes per user per day); so does every reaper alarm.
  const wakes = w.pushes + reaps + connects;

  const workerRequests = w.pushes + connects;
  const workerCpuMs = w.pushes * WORKER_CPU_MS.push + connects * WORKER_CPU_MS.connect;
  const wsIncoming = acks + connects /* close frames */ + (w.heartbeatsBilled ? pings : 0);
  const doRequests = {
    pushes: w.pushes,
    connects,
    presenceReports: connects * 2 + renewals,
    reaperAlarms: reaps,
    wsMessages: wsIncoming / PRICE.wsMessagesPerRequest,
  };
  const doRequestsTotal = Object.values(doRequests).reduce((a, b) => a + b, 0);
  const gbS = (w.pushes * ACTIVE_S.push + acks * ACTIVE_S.ack + connects * (ACTIVE_S.connect + ACTIVE_S.close) + reaps * ACTIVE_S.reaper) * PRICE.doGb;
  const rowsWritten = {
    storedPushes: stored * (UNITS.storedPush.written + UNITS.storedExpiry.written),
    acks: acks * UNITS.ack.written,
    connects: newDevices * UNITS.connectNewDevice.written + connects * UNITS.reconnect.written,
    presenceReports: (connects * 2 + renewals) * (w.leaseIndex ? UNITS.shardReport.written : UNITS.shardReport.written - 1),
    reaperAlarms: reaps * UNITS.reaperAlarm.written,
  };
  const rowsWrittenTotal = Object.values(rowsWritten).reduce((a, b) => a + b, 0);
  const rowsRead =
    wakes * UNITS.wake.read +
    stored * (UNITS.storedPush.read + UNITS.storedExpiry.read) +
    acks * UNITS.ack.read +
    (connects * 2 + renewals) * UNITS.shardReport.read +
    reaps * UNITS.reaperAlarm.read;
  // Storage: ~16 KB per user's database (empty SQLite ≈ 12 KB + 4 small tables) + a day of stored messages (~300 B each).
  const storageGb = (w.users * 16e3 + (stored / 30) * 300) / 1e9;

  const lines: Line[] = [
    { item: "Workers Paid plan (minimum)", quantity: 1, unit: "month", cost: PRICE.workersBase },
    { item: "Workers requests (pushes + WebSocket upgrades)", quantity: workerRequests, unit: "requests", cost: over(workerRequests, PRICE.workersRequestsIncluded, PRICE.workersPerMillionRequests) },
    { item: "Workers CPU time", quantity: workerCpuMs, unit: "CPU-ms", cost: over(workerCpuMs, PRICE.workersCpuMsIncluded, PRICE.workersPerMillionCpuMs) },
    { item: "DO requests: push RPCs", quantity: doRequests.pushes, unit: "requests", cost: 0 },
    { item: "DO requests: connects (upgrade fetch)", quantity: doRequests.connects, unit: "requests", cost: 0 },
    { item: "DO requests: presence reports to stats shards", quantity: doRequests.presenceReports, unit: "requests", cost: 0 },
    { item: "DO requests: reaper alarms", quantity: doRequests.reaperAlarms, unit: "requests", cost: 0 },
    {
      item: `DO requests: incoming WS messages ÷ 20 (acks, closes${w.heartbeatsBilled ? `, heartbeats every ${w.heartbeatS} s` : ""})`,
      quantity: doRequests.wsMessages,
      unit: "requests",
      cost: 0,
    },
    { item: "DO duration (128 MB × active wall time)", quantity: gbS, unit: "GB-s", cost: over(gbS, PRICE.doGbSecondsIncluded, PRICE.doPerMillionGbSeconds) },
    { item: "SQLite rows written: stored pushes (insert + expiry)", quantity: rowsWritten.storedPushes, unit: "rows", cost: 0 },
    { item: "SQLite rows written: acks (device cursors)", quantity: rowsWritten.acks, unit: "rows", cost: 0 },
    { item: "SQLite rows written: connects", quantity: rowsWritten.connects, unit: "rows", cost: 0 },
    { item: "SQLite rows written: presence reports (shard upserts)", quantity: rowsWritten.presenceReports, unit: "rows", cost: 0 },
    { item: "SQLite rows written: reaper setAlarm", quantity: rowsWritten.reaperAlarms, unit: "rows", cost: 0 },
    { item: "SQLite rows read", quantity: rowsRead, unit: "rows", cost: over(rowsRead, PRICE.rowsReadIncluded, PRICE.perMillionRowsRead) },
    { item: "SQLite storage", quantity: storageGb, unit: "GB-month", cost: Math.max(0, storageGb - PRICE.storageGbIncluded) * PRICE.perGbMonth },
  ];
  // Requests and rows written share one included allowance each: spread it pro rata over their lines.
  const share = (names: string, total: number, included: number, perMillion: number) => {
    const billable = over(total, included, perMillion);
    for (const l of lines) if (l.item.startsWith(names)) l.cost = total === 0 ? 0 : (billable * l.quantity) / total;
  };
  share("DO requests", doRequestsTotal, PRICE.doRequestsIncluded, PRICE.doPerMillionRequests);
  share("SQLite rows written", rowsWrittenTotal, PRICE.rowsWrittenIncluded, PRICE.perMillionRowsWritten);
  const total = lines.reduce((a, l) => a + l.cost, 0);
  const sum = (prefix: string) => lines.filter((l) => l.item.includes(prefix)).reduce((a, l) => a + l.cost, 0);
  return {
    lines,
    total,
    parts: {
      reaper: sum("reaper") + (sum("presence reports") * renewals) / (connects * 2 + renewals),
      heartbeats: w.heartbeatsBilled ? (sum("incoming WS") * pings) / wsIncoming : 0,
      pushes: sum("push") + sum("Workers") - PRICE.workersBase,
    },
  };
}

const money = (x: number) => (x >= 100 ? `$${Math.round(x).toLocaleString("en-US")}` : `$${x.toFixed(2)}`);
const qty = (x: number) => (x >= 1e9 ? `${(x / 1e9).toFixed(2)} B` : x >= 1e6 ? `${(x / 1e6).toFixed(1)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(1));

export function markdown(w: Workload): string {
  const b = bill(w);
  const rows = b.lines.map((l) => `| ${l.item} | ${qty(l.quantity)} ${l.unit} | ${money(l.cost)} |`);
  return [`| line | quantity / month | cost / month |`, `|---|---|---|`, ...rows, `| **total** | | **${money(b.total)}** |`].join("\n");
}

function sensitivity(base: Workload): string {
  const cases: Array<[string, Partial<Workload>]> = [
    ["as configured today (REAP_INTERVAL 600 s, lease renewed every alarm, heartbeat 25 s billed)", {}],
    ["heartbeats not billed as requests (if auto-responses are exempt)", { heartbeatsBilled: false }],
    ["heartbeat 60 s", { heartbeatS: 60 }],
    ["heartbeat 120 s", { heartbeatS: 120 }],
    ["REAP_INTERVAL 1800 s", { reapS: 1800 }],
    ["REAP_INTERVAL 3600 s", { reapS: 3600 }],
    ["P4: no index on the shard's seen_at (1 row per report, not 2)", { leaseIndex: false }],
    ["P3: lease renewed every 6th reaper alarm (hourly)", { reapsPerRenewal: 6 }],
    ["P3 + P4", { reapsPerRenewal: 6, leaseIndex: false }],
    ["P3 + P4 + REAP_INTERVAL 3600 s (lease renewed every 6 h)", { reapS: 3600, reapsPerRenewal: 6, leaseIndex: false }],
    ["P3 + P4 + REAP_INTERVAL 3600 s + heartbeat 60 s", { reapS: 3600, reapsPerRenewal: 6, leaseIndex: false, heartbeatS: 60 }],
    ["all pushes live-only (ttl 0)", { liveShare: 1 }],
  ];
  const rows = cases.map(([name, delta]) => {
    const b = bill({ ...base, ...delta });
    return `| ${name} | ${money(b.total)} | ${money(b.parts.reaper ?? 0)} | ${money(b.parts.heartbeats ?? 0)} |`;
  });
  return [`| variant | total / month | of which reaper + lease | of which heartbeats |`, `|---|---|---|---|`, ...rows].join("\n");
}

export function costModel(argv: string[]): void {
  const w: Workload = { ...DEFAULT };
  for (let i = 0; i < argv.length; i++) {
    const v = Number(argv[i + 1]);
    switch (argv[i]) {
      case "--users":
        w.users = v;
        break;
      case "--pushes":
        w.pushes = v;
        break;
      case "--heartbeat":
        w.heartbeatS = v;
        break;
      case "--reap":
        w.reapS = v;
        break;
      case "--sessions":
        w.sessionsPerUser = v;
        break;
      case "--reconnects":
        w.reconnectsPerDay = v;
        break;
      case "--live-share":
        w.liveShare = v;
        break;
      default:
        throw new Error(`unknown option ${argv[i]}`);
    }
    i++;
  }
  console.log(`Workload: ${w.users.toLocaleString("en-US")} users connected all month, ${w.sessionsPerUser} sessions each, ${(w.pushes / 1e6).toFixed(0)} M pushes/month (${Math.round((1 - w.liveShare) * 100)}% stored), ${w.reconnectsPerDay} reconnects per session per day, heartbeat ${w.heartbeatS} s, REAP_INTERVAL ${w.reapS} s\n`);
  console.log(markdown(w));
  console.log("\nSensitivity\n");
  console.log(sensitivity(w));
}

if (import.meta.url === `file://${process.argv[1]}`) costModel(process.argv.slice(2));
