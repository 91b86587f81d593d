/**
 * npm run cost:measure (this probe, then the model) — or alone:
 *   node bench/billing-probe.ts [--out FILE]   (~45 s; default bench/results/billing-probe.json)
 *
 * What each event costs in billed units, measured on the current code rather
 * than guessed: the units bench/cost-model.ts prices (docs/cost-model.md).
 *
 * Runs a metered build of the Worker (a scratch copy of src/ whose index.ts
 * wraps both Durable Object classes: every `sql.exec` cursor is kept and its
 * rowsRead / rowsWritten summed per handler, every `setAlarm` counted — each is
 * billed as one row written) on standalone workerd with the default timers and
 * one stats shard, and drives each event the model needs: first connects, a
 * stored push, a live push, an ack, heartbeat pings, a token refresh on open
 * sockets (and the expiry alarm it leaves behind), an idle stretch long enough
 * for every object to hibernate, one stats-audit round (triggered through a
 * probe-only hook instead of waiting an interval), a reconnect (close, then
 * connect again), and each user's database size. Requests are not metered:
 * the pricing page defines them (one per RPC call, alarm, HTTP request; 1/20
 * per incoming WebSocket message), and the model applies that.
 *
 * Writes bench/results/billing-probe.json with the commit it ran at, whether
 * src/ was dirty and a hash of src/ (bench/lib/provenance.ts): the model reads
 * its units from there and warns when src/ has changed since.
 */
import { randomBytes } from "node:crypto";
import { renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { encodeAck, encodeAuth } from "@switchboard/protocol";
import WebSocket from "ws";
import { hookCleanup, tempDir } from "../scripts/lib/janitor.ts";
import { startService } from "../scripts/lib/service.ts";
import { bundleWithEsbuild, scratchSource } from "./lib/bundle.ts";
import { clientToken } from "../scripts/lib/tokens.ts";
import { table } from "./lib/stats.ts";
import { ROOT } from "../tools/lib/workerd.ts";
import { provenance, type Provenance } from "./lib/provenance.ts";
import { METERED_INDEX } from "./lib/meteredWorker.ts";

interface MeterLine {
  id: string;
  cls: string;
  event: string;
  read: number;
  written: number;
  alarms: number;
  statements: Array<[string, number]>;
}

/** Rows and alarms per invocation of one handler (averaged over the run's invocations). */
export interface HandlerUnits {
  invocations: number;
  rowsRead: number;
  rowsWritten: number;
  setAlarms: number;
}

/** What bench/cost-model.ts reads. Requests are the pricing page's rules, applied by the model. */
export interface ProbeUnits {
  /** A user's object woken from hibernation (its constructor). */
  wake: HandlerUnits;
  /** A brand-new user's object (creates its tables). */
  firstEverWake: HandlerUnits;
  /** The connect handler of a new device / of a device that was here before. */
  firstConnect: HandlerUnits;
  reconnect: HandlerUnits;
  /** The close handler (incoming close). */
  close: HandlerUnits;
  /** Presence reports (RPCs to the shard) per connect and per close, spaced apart (none coalesced). */
  reportsPerConnect: number;
  reportsPerClose: number;
  /** One report as the shard handles it. */
  shardReport: HandlerUnits;
  storedPush: HandlerUnits;
  livePush: HandlerUnits;
  ack: HandlerUnits;
  /** Fraction of heartbeat pings that reached (woke) an object: 0 when auto-response answered them all. */
  pingWakeFraction: number;
  /** Token refresh on an open socket: whether this code has it, and its handler's units. */
  refreshSupported: boolean;
  refresh: HandlerUnits;
  /** Expiry-alarm firings per refreshed session before the old exp passed (the alarm a refresh leaves behind), and their units. */
  expiryAlarmsPerRefresh: number;
  expiryAlarm: HandlerUnits;
  /** Per audited user: its object's audit handler, and the shard's share of the round (rows per user audited). */
  audit: HandlerUnits;
  auditShardRowsReadPerUser: number;
  auditShardRowsWrittenPerUser: number;
  /** SQLite database size, bytes: a user who only ever connected (2 devices), one with a stored message acked, and the shard per online user. */
  bytesIdleUser: number;
  bytesUserWithMessages: number;
  bytesShardPerUser: number;
}

export interface ProbeResult {
  provenance: Provenance & { at: string };
  units: ProbeUnits;
  pingsSent: number;
  pingWakes: number;
  table: string;
  statementTable: string;
}

const IDLE_USERS = 4;
const PUSH_USERS = 2;
const REFRESH_USERS = 2;
const DEVICES = 2;
/** The refreshed sessions' first tokens expire this soon (s; device d's 2d s later), so any alarm they leave falls inside the run. */
const SHORT_TOKEN_S = 12;
/** Long enough for every object to hibernate (workerd evicts after ~10 s without events) and the short tokens to pass exp. */
const IDLE_S = 16;

const none: HandlerUnits = { invocations: 0, rowsRead: 0, rowsWritten: 0, setAlarms: 0 };

function unitsOf(lines: readonly MeterLine[]): HandlerUnits {
  if (lines.length === 0) return none;
  const sum = (f: (m: MeterLine) => number) => lines.reduce((n, m) => n + f(m), 0) / lines.length;
  return { invocations: lines.length, rowsRead: sum((m) => m.read), rowsWritten: sum((m) => m.written), setAlarms: sum((m) => m.alarms) };
}

export async function probe(argv: string[]): Promise<ProbeResult> {
  hookCleanup();
  let out = join(ROOT, "bench/results/billing-probe.json");
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out" && argv[i + 1] !== undefined) out = resolve(argv[++i] as string);
    else throw new Error(`unknown option ${argv[i]}`);
  }
  const measured = provenance();
  const src = scratchSource("metered");
  renameSync(join(src, "index.ts"), join(src, "probedIndex.ts"));
  writeFileSync(join(src, "index.ts"), METERED_INDEX);
  const script = await bundleWithEsbuild(join(src, "index.ts"), join(tempDir("bench-bundle-metered"), "index.js"));
  const secrets = { apiKey: `probe-${randomBytes(12).toString("hex")}`, jwtSecret: `probe-${randomBytes(24).toString("hex")}` };
  // Default timers (STATS_AUDIT_INTERVAL included: the audit round is triggered by a hook, not waited for).
  const server = await startService({
    kind: "workerd",
    label: "metered",
    script,
    knobs: { JWT_SECRET: secrets.jwtSecret, API_KEY: secrets.apiKey, STATS_SHARDS: "1" },
    nofile: 4096,
  });
  const meters: MeterLine[] = [];
  const constructed = new Set<string>();
  const phaseOf = new Map<MeterLine, string>();
  let phase = "start";
  server.child?.stdout?.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      const i = line.indexOf("METER ");
      if (i < 0) continue;
      const m = JSON.parse(line.slice(i + 6)) as MeterLine;
      // An object's first construction creates its tables; later ones are wakes from hibernation.
      if (m.event === "constructor (wake)") {
        m.event = constructed.has(m.id) ? "constructor (wake from hibernation)" : "constructor (first ever: creates tables)";
        constructed.add(m.id);
      }
      meters.push(m);
      phaseOf.set(m, phase);
    }
  });
  const settle = () => new Promise((r) => setTimeout(r, 400));
  const wsBase = server.base.replace("http", "ws");
  const open = (userId: string, device: string, ttlS: number) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`${wsBase}/v1/connect?device=${device}`, {
        headers: { Authorization: `Bearer ${clientToken(secrets.jwtSecret, userId, ttlS)}` },
        perMessageDeflate: false,
      });
      ws.once("message", () => resolve(ws));
      ws.once("error", reject);
    });
  const push = async (userId: string, body: object) => {
    const res = await fetch(`${server.base}/v1/users/${userId}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${secrets.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`push: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as { seq: number | null };
  };
  const hook = async (path: string): Promise<number> => {
    const res = await fetch(`${server.base}${path}`);
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as number;
  };
  const group = (name: string, n: number) => Array.from({ length: n }, (_, i) => `probe-${name}-${i}`);
  const idleUsers = group("idle", IDLE_USERS);
  const pushUsers = group("push", PUSH_USERS);
  const refreshUsers = group("refresh", REFRESH_USERS);
  const sockets = new Map<string, WebSocket[]>();
  const all = () => [...sockets.values()].flat();
  let pingsSent = 0;
  const ping = () => {
    for (const ws of all()) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      ws.send("ping");
      pingsSent++;
    }
  };
  const MONTH_S = 30 * 86_400;
  let bytesShard = 0;
  let bytesIdle: number[] = [];
  let bytesPushed: number[] = [];
  let refreshedOpenAfterExp = 0;
  try {
    phase = "connect";
    for (const userId of [...idleUsers, ...pushUsers]) {
      const list: WebSocket[] = [];
      for (let d = 0; d < DEVICES; d++) list.push(await open(userId, `dev${d}`, MONTH_S));
      sockets.set(userId, list);
    }
    await settle();
    phase = "stored push";
    let lastSeq = 0;
    for (const userId of pushUsers) lastSeq = (await push(userId, { data: { n: 1 } })).seq ?? 0;
    await settle();
    phase = "live push";
    for (const userId of pushUsers) await push(userId, { data: { n: 2 }, ttl: 0 });
    await settle();
    phase = "ack";
    for (const userId of pushUsers) for (const ws of sockets.get(userId) ?? []) ws.send(encodeAck(lastSeq));
    await settle();
    phase = "refresh connect";
    for (const userId of refreshUsers) {
      const list: WebSocket[] = [];
      // Staggered exps, as sessions' are in steady state: each refresh then moves the user's earliest exp.
      for (let d = 0; d < DEVICES; d++) list.push(await open(userId, `dev${d}`, SHORT_TOKEN_S + 2 * d));
      sockets.set(userId, list);
    }
    await settle();
    // A fresh token for the same user on each open socket (the SDK does this ahead of exp).
    phase = "refresh";
    for (let d = 0; d < DEVICES; d++) {
      for (const userId of refreshUsers) sockets.get(userId)?.[d]?.send(encodeAuth(clientToken(secrets.jwtSecret, userId, MONTH_S)));
      await settle();
    }
    // Idle: heartbeats only (auto-answered, they never wake an object); every object
    // hibernates, and the alarm the short tokens left fires (early, after a refresh).
    phase = "idle";
    process.stderr.write(`billing-probe: ${IDLE_S} s idle with heartbeats…\n`);
    const idleStart = Date.now();
    while (Date.now() - idleStart < IDLE_S * 1000) {
      ping();
      await new Promise((r) => setTimeout(r, 4000));
    }
    refreshedOpenAfterExp = refreshUsers.flatMap((u) => sockets.get(u) ?? []).filter((ws) => ws.readyState === WebSocket.OPEN).length;
    phase = "audit";
    bytesShard = await hook("/__probe/audit");
    await settle();
    // A reconnect: the close reported, then the connect (spaced apart, so neither is coalesced away).
    phase = "reconnect: close";
    for (const userId of idleUsers) (sockets.get(userId) ?? [])[0]?.close(1000, "reconnect");
    await new Promise((r) => setTimeout(r, 1000));
    phase = "reconnect: connect";
    for (const userId of idleUsers) {
      const list = sockets.get(userId) ?? [];
      list[0] = await open(userId, "dev0", MONTH_S);
    }
    await new Promise((r) => setTimeout(r, 1000));
    phase = "size";
    bytesIdle = await Promise.all(idleUsers.map((u) => hook(`/__probe/size?user=${u}`)));
    bytesPushed = await Promise.all(pushUsers.map((u) => hook(`/__probe/size?user=${u}`)));
    phase = "close";
    for (const ws of all()) ws.close(1000, "probe done");
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    for (const ws of all()) ws.terminate();
    await server.stop();
  }

  const where = (cls: string, event: string | RegExp, phases?: string[]) =>
    meters.filter(
      (m) =>
        m.cls === cls &&
        (typeof event === "string" ? m.event === event : event.test(m.event)) &&
        (phases === undefined || phases.includes(phaseOf.get(m) ?? "")),
    );
  const reportsIn = (p: string) => where("StatsShard", "report (RPC from a user's object)", [p]).length;
  const audits = where("UserHub", "audit (RPC from its stats shard)");
  const round = where("StatsShard", "audit round (per shard)");
  const refreshed = REFRESH_USERS * DEVICES;
  const reconnects = IDLE_USERS;
  const pingWakes = where("UserHub", /^other incoming message: ping/).length;
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  const onlineAtAudit = IDLE_USERS + PUSH_USERS + (refreshedOpenAfterExp > 0 ? REFRESH_USERS : 0);
  const units: ProbeUnits = {
    wake: unitsOf(where("UserHub", "constructor (wake from hibernation)")),
    firstEverWake: unitsOf(where("UserHub", "constructor (first ever: creates tables)")),
    firstConnect: unitsOf(where("UserHub", "connect", ["connect"])),
    reconnect: unitsOf(where("UserHub", "connect", ["reconnect: connect"])),
    close: unitsOf(where("UserHub", "close (incoming)")),
    reportsPerConnect: reportsIn("reconnect: connect") / reconnects,
    reportsPerClose: reportsIn("reconnect: close") / reconnects,
    shardReport: unitsOf(where("StatsShard", "report (RPC from a user's object)")),
    storedPush: unitsOf(where("UserHub", "push (stored)")),
    livePush: unitsOf(where("UserHub", "push (live)", ["live push"])),
    ack: unitsOf(where("UserHub", "ack (incoming message)")),
    pingWakeFraction: pingsSent === 0 ? 0 : pingWakes / pingsSent,
    refreshSupported: refreshedOpenAfterExp === refreshed,
    refresh: unitsOf(where("UserHub", "refresh (incoming message)")),
    expiryAlarmsPerRefresh: where("UserHub", "alarm", ["refresh", "idle"]).length / refreshed,
    expiryAlarm: unitsOf(where("UserHub", "alarm", ["refresh", "idle"])),
    audit: unitsOf(audits),
    auditShardRowsReadPerUser: audits.length === 0 ? 0 : round.reduce((n, m) => n + m.read, 0) / audits.length,
    auditShardRowsWrittenPerUser: audits.length === 0 ? 0 : round.reduce((n, m) => n + m.written + m.alarms, 0) / audits.length,
    bytesIdleUser: mean(bytesIdle),
    bytesUserWithMessages: mean(bytesPushed),
    bytesShardPerUser: bytesShard / onlineAtAudit,
  };

  // Per (class, handler): the table a person reads.
  const groups = new Map<string, { cls: string; event: string; lines: MeterLine[]; phases: Set<string> }>();
  for (const m of meters) {
    const key = `${m.cls}|${m.event}`;
    const g = groups.get(key) ?? { cls: m.cls, event: m.event, lines: [], phases: new Set<string>() };
    g.lines.push(m);
    g.phases.add(phaseOf.get(m) ?? "?");
    groups.set(key, g);
  }
  const text = table(
    ["object", "handler", "invocations", "rows read each", "SQL rows written each", "setAlarm each (1 row written)", "seen during"],
    [...groups.values()].map((g) => {
      const u = unitsOf(g.lines);
      return [g.cls, g.event, String(u.invocations), u.rowsRead.toFixed(2), u.rowsWritten.toFixed(2), u.setAlarms.toFixed(2), [...g.phases].join(", ")];
    }),
  );
  const byStatement = new Map<string, { cls: string; statement: string; executions: number; written: number }>();
  for (const m of meters) {
    for (const [statement, written] of m.statements ?? []) {
      const key = `${m.cls}|${statement}`;
      const g = byStatement.get(key) ?? { cls: m.cls, statement, executions: 0, written: 0 };
      g.executions++;
      g.written += written;
      byStatement.set(key, g);
    }
  }
  const statementText = table(
    ["object", "statement that wrote", "executions", "rows written each"],
    [...byStatement.values()].map((g) => [
      g.cls,
      g.statement.length > 110 ? `${g.statement.slice(0, 107)}…` : g.statement,
      String(g.executions),
      (g.written / g.executions).toFixed(2),
    ]),
  );
  const at = new Date().toISOString();
  console.log(`\nBilling probe at ${measured.commit.slice(0, 12)}${measured.dirty ? " (src/ dirty)" : ""}, ${at}`);
  console.log(
    `\nBilled storage units per Durable Object handler (${IDLE_USERS + PUSH_USERS + REFRESH_USERS} users × ${DEVICES} sessions; default timers; 1 stats shard)\n`,
  );
  console.log(text);
  console.log("\nRows written per statement (whole run)\n");
  console.log(statementText);
  console.log("\nUnits the cost model reads (per event):\n");
  console.log(JSON.stringify(units, null, 2));
  console.log(
    `\nheartbeat pings that reached (woke) an object: ${pingWakes} of ${pingsSent}; token refresh ${units.refreshSupported ? "kept" : "did NOT keep"} the sessions open past their first exp`,
  );
  const result: ProbeResult = { provenance: { ...measured, at }, units, pingsSent, pingWakes, table: text, statementTable: statementText };
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`results in ${out}`);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  probe(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error("billing-probe failed:", err);
      process.exit(1);
    },
  );
}
