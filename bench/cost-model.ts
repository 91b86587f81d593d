/**
 * npm run bench -- --cost-model [--users N] [--pushes N] [--heartbeat S] [--reap S] [--sessions N] [--reconnects N] [--spans N] [--live-share F]
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
  wake: { read: 3, written: 0 },
  /** Insert-first (255a12e): the row and its unique index on id; 2 rows read by the insert's checks. */
  storedPush: { read: 2, written: 2 },
  /** The stored row deleted at expiry (DELETE counts as rows written: row + index). */
  storedExpiry: { read: 1, written: 2 },
  livePush: { read: 0, written: 0 },
  ack: { read: 1, written: 1 },
  /** First connect of a device: cursor row (+index), half the time a setAlarm, and once per user the user_id meta row (+index) over 1.5 devices. */
  connectNewDevice: { read: 0, written: 3.8 },
  /** Reconnect of a known device: no row; sometimes a setAlarm. */
  reconnect: { read: 0, written: 0.5 },
  /** One presence report into the user's stats shard (connect, close, every LEASE_RENEW_REAPS-th reaper alarm): the upsert of its row. */
  shardReport: { read: 1.5, written: 1 },
  /**
   * The user object's `reported_online` meta row, per online span: the user's first
   * session opens, INSERT (row + the meta table's primary-key index: 2 rows); the
   * last one closes, DELETE (measured: 1 row).
   */
  onlineSpan: { read: 0, written: 3 },
  /** The reaper alarm in the user's object: purge scans + 1 setAlarm. */
  reaperAlarm: { read: 9, written: 1 },
  /** A stats shard's lease sweep (every REAP_INTERVAL while anyone is online): two scans of its table, 1 setAlarm. */
  shardSweepReadPerUser: 2,
};

/** Stats shards (STATS_SHARDS). */
const SHARDS = 16;

// ---- wall-clock seconds an object is active per event (assumptions; duration is a small line either way) ----
const ACTIVE_S = { push: 0.005, ack: 0.002, connect: 0.01, close: 0.005, reaper: 0.01 };

// ---- Worker CPU per request (ms), upper bounds from the bench: all of workerd's CPU per push / connect ----
const WORKER_CPU_MS = { push: 1.2, connect: 4.2 };

export interface Workload {
  users: number;
  sessionsPerUser: number;
  pushes: number;
  /** Share of pushes sent with ttl 0 (live-only). */
  liveShare: number;
  /** Reconnects per session per day (network changes, app restarts). */
  reconnectsPerDay: number;
  /**
   * Online spans per user per day: how often the user's session count goes 0 → ≥ 1
   * (each span writes and deletes the `reported_online` row). A reconnect makes a
   * span only when it was the user's only session.
   */
  spansPerDay: number;
  /** Client heartbeat interval, s (SDK default 25). */
  heartbeatS: number;
  /** Whether app-level pings answered by setWebSocketAutoResponse count as billed incoming messages. */
  heartbeatsBilled: boolean;
  /** REAP_INTERVAL, s. */
  reapS: number;
  /** Reaper alarms per lease renewal (LEASE_RENEW_REAPS = 6 since 255a12e; 1 before). */
  reapsPerRenewal: number;
  /** The shard's partial index on seen_at (dropped in 255a12e) doubled the rows each report writes. */
  leaseIndex: boolean;
}

export const DEFAULT: Workload = {
  users: 1e6,
  sessionsPerUser: 1.5,
  pushes: 100e6,
  liveShare: 0,
  reconnectsPerDay: 4,
  // 1.5 sessions per user: say half the users have one device, half two. A one-device
  // user's every reconnect is a span (4 a day); a two-device user's almost never.
  spansPerDay: 2,
  heartbeatS: 25,
  heartbeatsBilled: true,
  reapS: 600,
  reapsPerRenewal: 6,
  leaseIndex: false,
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
  const spans = w.users * w.spansPerDay * 30;
  const shardSweeps = SHARDS * (MONTH_S / w.reapS);
  // Every push finds the object hibernated (a few pushes per user per day); so does every reaper alarm.
  const wakes = w.pushes + reaps + connects;

  const workerRequests = w.pushes + connects;
  const workerCpuMs = w.pushes * WORKER_CPU_MS.push + connects * WORKER_CPU_MS.connect;
  const wsIncoming = acks + connects /* close frames */ + (w.heartbeatsBilled ? pings : 0);
  const doRequests = {
    pushes: w.pushes,
    connects,
    presenceReports: connects * 2 + renewals,
    reaperAlarms: reaps + shardSweeps,
    wsMessages: wsIncoming / PRICE.wsMessagesPerRequest,
  };
  const doRequestsTotal = Object.values(doRequests).reduce((a, b) => a + b, 0);
  const gbS = (w.pushes * ACTIVE_S.push + acks * ACTIVE_S.ack + connects * (ACTIVE_S.connect + ACTIVE_S.close) + reaps * ACTIVE_S.reaper) * PRICE.doGb;
  const rowsWritten = {
    storedPushes: stored * (UNITS.storedPush.written + UNITS.storedExpiry.written),
    acks: acks * UNITS.ack.written,
    connects: newDevices * UNITS.connectNewDevice.written + connects * UNITS.reconnect.written,
    presenceReports: (connects * 2 + renewals) * (w.leaseIndex ? UNITS.shardReport.written + 1 : UNITS.shardReport.written),
    reaperAlarms: (reaps + shardSweeps) * UNITS.reaperAlarm.written,
    onlineFlag: spans * UNITS.onlineSpan.written,
  };
  const rowsWrittenTotal = Object.values(rowsWritten).reduce((a, b) => a + b, 0);
  const rowsRead =
    wakes * UNITS.wake.read +
    stored * (UNITS.storedPush.read + UNITS.storedExpiry.read) +
    acks * UNITS.ack.read +
    (connects * 2 + renewals) * UNITS.shardReport.read +
    reaps * UNITS.reaperAlarm.read +
    // Without the seen_at index the sweep scans every row of every shard (with it, ~0).
    (w.leaseIndex ? 0 : shardSweeps * (w.users / SHARDS) * UNITS.shardSweepReadPerUser);
  // Storage: ~16 KB per user's database (empty SQLite ≈ 12 KB + 4 small tables) + a day of stored messages (~300 B each).
  const storageGb = (w.users * 16e3 + (stored / 30) * 300) / 1e9;

  const lines: Line[] = [
    { item: "Workers Paid plan (minimum)", quantity: 1, unit: "month", cost: PRICE.workersBase },
    { item: "Workers requests (pushes + WebSocket upgrades)", quantity: workerRequests, unit: "requests", cost: over(workerRequests, PRICE.workersRequestsIncluded, PRICE.workersPerMillionRequests) },
    { item: "Workers CPU time", quantity: workerCpuMs, unit: "CPU-ms", cost: over(workerCpuMs, PRICE.workersCpuMsIncluded, PRICE.workersPerMillionCpuMs) },
    { item: "DO requests: push RPCs", quantity: doRequests.pushes, unit: "requests", cost: 0 },
    { item: "DO requests: connects (upgrade fetch)", quantity: doRequests.connects, unit: "requests", cost: 0 },
    { item: "DO requests: presence reports to stats shards", quantity: doRequests.presenceReports, unit: "requests", cost: 0 },
    { item: "DO requests: reaper alarms (users' objects; stats shards' lease sweeps)", quantity: doRequests.reaperAlarms, unit: "requests", cost: 0 },
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
    { item: "SQLite rows written: `reported_online` flag (set and cleared once per online span)", quantity: rowsWritten.onlineFlag, unit: "rows", cost: 0 },
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
    ["as configured today (REAP_INTERVAL 600 s, lease renewed every 6th alarm, no seen_at index, heartbeat 25 s billed)", {}],
    ["heartbeats not billed as requests (if auto-responses are exempt)", { heartbeatsBilled: false }],
    ["heartbeat 60 s", { heartbeatS: 60 }],
    ["heartbeat 120 s", { heartbeatS: 120 }],
    ["REAP_INTERVAL 1800 s", { reapS: 1800 }],
    ["REAP_INTERVAL 3600 s", { reapS: 3600 }],
    ["REAP_INTERVAL 3600 s + heartbeat 60 s", { reapS: 3600, heartbeatS: 60 }],
    ["every reconnect takes the user offline (6 online spans a day: upper bound on `reported_online` rows)", { spansPerDay: 6 }],
    ["all pushes live-only (ttl 0)", { liveShare: 1 }],
    ["before 255a12e: lease renewed on every reaper alarm, index on seen_at (no `reported_online` rows)", { reapsPerRenewal: 1, leaseIndex: true, spansPerDay: 0 }],
  ];
  const rows = cases.map(([name, delta]) => {
    const b = bill({ ...base, ...delta });
    return `| ${name} | ${money(b.total)} | ${money(b.parts.reaper ?? 0)} | ${money(b.parts.heartbeats ?? 0)} |`;
  });
  return [`| variant | total / month | of which reaper + lease | of which heartbeats |`, `|---|---|---|---|`, ...rows].join("\n");
}

/** Marginal unit costs at this workload (allowances already used up): what one more push or user adds. */
export function unitCosts(w: Workload): string {
  const base = bill(w).total;
  const live = w.pushes * w.liveShare;
  const more = 1e6;
  const perStored = bill({ ...w, pushes: w.pushes + more, liveShare: live / (w.pushes + more) }).total - base;
  const perLive = bill({ ...w, pushes: w.pushes + more, liveShare: (live + more) / (w.pushes + more) }).total - base;
  const users = 10_000;
  const perUser = (bill({ ...w, users: w.users + users }).total - base) / users;
  const idle = { ...w, reconnectsPerDay: 0, spansPerDay: 1 / 30 };
  const perIdleUser = (bill({ ...idle, users: w.users + users }).total - bill(idle).total) / users;
  const row = (what: string, cost: number) => `| ${what} | $${cost.toFixed(cost < 0.1 ? 4 : 2)} |`;
  return [
    `| unit | cost |`,
    `|---|---|`,
    row("1 M stored pushes (default ttl; insert, expiry delete, one ack per session)", perStored),
    row("1 M live-only pushes (ttl 0)", perLive),
    row(`one connected user for a month (${w.sessionsPerUser} sessions, ${w.reconnectsPerDay} reconnects/session/day, heartbeat ${w.heartbeatS} s, no pushes)`, perUser),
    row(`one idle connected user for a month (same, never reconnecting: heartbeats, reaper alarms, lease renewals only)`, perIdleUser),
  ].join("\n");
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
      case "--spans":
        w.spansPerDay = v;
        break;
      case "--live-share":
        w.liveShare = v;
        break;
      default:
        throw new Error(`unknown option ${argv[i]}`);
    }
    i++;
  }
  console.log(`Workload: ${w.users.toLocaleString("en-US")} users connected all month, ${w.sessionsPerUser} sessions each, ${(w.pushes / 1e6).toFixed(0)} M pushes/month (${Math.round((1 - w.liveShare) * 100)}% stored), ${w.reconnectsPerDay} reconnects per session per day, ${w.spansPerDay} online spans per user per day, heartbeat ${w.heartbeatS} s, REAP_INTERVAL ${w.reapS} s, lease renewed every ${w.reapsPerRenewal} reaper alarm(s)\n`);
  console.log(markdown(w));
  console.log("\nUnit costs (marginal)\n");
  console.log(unitCosts(w));
  console.log("\nSensitivity\n");
  console.log(sensitivity(w));
}

if (import.meta.url === `file://${process.argv[1]}`) costModel(process.argv.slice(2));
