/**
 * node bench/billing-probe.ts — what each event costs in billed units, measured
 * rather than guessed, for docs/cost-model.md.
 *
 * Runs a metered build of the Worker (a scratch copy of src/ whose index.ts
 * wraps both Durable Object classes: every `sql.exec` cursor is kept and its
 * rowsRead / rowsWritten summed per handler, every `setAlarm` counted — each is
 * billed as one row written) on standalone workerd with the default timers
 * (no REAP_INTERVAL) and STATS_AUDIT_INTERVAL=60 (its minimum, so an audit
 * falls inside the run), and drives one of each event: connect, stored push,
 * live push, ack, heartbeat ping, an idle stretch with heartbeats only, close.
 * Prints, per handler invocation: rows read, rows written, setAlarm calls,
 * and the invocation itself (one DO request, or 1/20 for an incoming
 * WebSocket message); then the units the idle stretch cost per idle
 * user-hour, split into timer-driven (alarms, setAlarm, rows written by a
 * timer: 0 for a healthy idle user) and audits. Takes ~2.5 min.
 *
 *   npm run bench -- --billing-probe [--patch NAME.diff …]   (proposed changes from bench/patches/, applied to the scratch copy)
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import WebSocket from "ws";
import { applyPatch, bundleWithEsbuild, hookCleanup, scratchSource, startServer, tempDir } from "./lib/servers.ts";
import { clientToken } from "../scripts/lib/tokens.ts";
import { table } from "./lib/stats.ts";
import { ROOT } from "../scripts/lib/workerd.ts";

const METERED_INDEX = `import { UserHub as BaseHub } from "./hub/userHub";
import { StatsShard as BaseShard } from "./stats/statsShard";
import { app } from "./http/app";

interface Meter { cursors: Array<{ query: string; cursor: { rowsRead: number; rowsWritten: number } }>; alarms: number }

function instrument(ctx: DurableObjectState): Meter {
  const m: Meter = { cursors: [], alarms: 0 };
  const sql = ctx.storage.sql;
  const exec = sql.exec.bind(sql);
  Object.defineProperty(sql, "exec", {
    configurable: true,
    writable: true,
    value: (query: string, ...bindings: unknown[]) => {
      const cursor = exec(query, ...(bindings as []));
      m.cursors.push({ query, cursor });
      return cursor;
    },
  });
  const setAlarm = ctx.storage.setAlarm.bind(ctx.storage);
  Object.defineProperty(ctx.storage, "setAlarm", {
    configurable: true,
    writable: true,
    value: (at: number | Date, options?: DurableObjectSetAlarmOptions) => {
      m.alarms++;
      return setAlarm(at, options);
    },
  });
  return m;
}

function report(cls: string, event: string, m: Meter, id: string): void {
  let read = 0;
  let written = 0;
  // Statements that wrote, with what they wrote (writes made after a handler returned, e.g.
  // after an awaited RPC, land in the next handler's line; by statement they are exact).
  const statements: Array<[string, number]> = [];
  for (const { query, cursor } of m.cursors) {
    read += cursor.rowsRead;
    written += cursor.rowsWritten;
    if (cursor.rowsWritten > 0) statements.push([query.replace(/\\s+/g, " ").trim(), cursor.rowsWritten]);
  }
  const alarms = m.alarms;
  m.cursors = [];
  m.alarms = 0;
  console.log("METER " + JSON.stringify({ cls, event, read, written, alarms, id, statements }));
}

export class UserHub extends BaseHub {
  readonly meter: Meter;
  constructor(ctx: DurableObjectState, env: Env) {
    const m = instrument(ctx);
    super(ctx, env);
    this.meter = m;
    report("UserHub", "constructor (wake)", m, this.ctx.id.toString());
  }
  override async fetch(request: Request): Promise<Response> {
    try { return await super.fetch(request); } finally { report("UserHub", "connect", this.meter, this.ctx.id.toString()); }
  }
  override async push(req: Parameters<BaseHub["push"]>[0]) {
    try { return await super.push(req); } finally { report("UserHub", req.ttl === 0 ? "push (live)" : "push (stored)", this.meter, this.ctx.id.toString()); }
  }
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    try { await super.webSocketMessage(ws, message); } finally { report("UserHub", typeof message === "string" && message.includes("ack") ? "ack (incoming message)" : "other incoming message: " + String(message).slice(0, 20), this.meter, this.ctx.id.toString()); }
  }
  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try { await super.webSocketClose(ws, code, reason); } finally { report("UserHub", "close (incoming)", this.meter, this.ctx.id.toString()); }
  }
  override async alarm(): Promise<void> {
    try { await super.alarm(); } finally { report("UserHub", "alarm", this.meter, this.ctx.id.toString()); }
  }
  override async audit() {
    try { return await super.audit(); } finally { report("UserHub", "audit (RPC from its stats shard)", this.meter, this.ctx.id.toString()); }
  }
}

export class StatsShard extends BaseShard {
  readonly meter: Meter;
  constructor(ctx: DurableObjectState, env: Env) {
    const m = instrument(ctx);
    super(ctx, env);
    this.meter = m;
    report("StatsShard", "constructor (wake)", m, this.ctx.id.toString());
  }
  override async report(userId: string, sessions: number, version: number): Promise<void> {
    try { await super.report(userId, sessions, version); } finally { report("StatsShard", "report (RPC from a user's object)", this.meter, this.ctx.id.toString()); }
  }
  override async alarm(): Promise<void> {
    try { await super.alarm(); } finally { report("StatsShard", "alarm (audit round, webhooks)", this.meter, this.ctx.id.toString()); }
  }
}

export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
`;

interface MeterLine {
  id: string;
  cls: string;
  event: string;
  read: number;
  written: number;
  alarms: number;
  statements: Array<[string, number]>;
}

/** STATS_AUDIT_INTERVAL for the run (the config's minimum): one audit round falls in the idle stretch. */
const AUDIT_S = 60;
/** The idle stretch: long enough for the audit round after the one that skips users just heard from. */
const IDLE_S = 140;
const IDLE = "idle (heartbeats only)";

export async function probe(argv: string[]): Promise<void> {
  hookCleanup();
  // --patch NAME (repeatable): apply bench/patches/NAME to the scratch tree first.
  const patches: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--patch" && argv[i + 1] !== undefined) patches.push(argv[++i] as string);
    else throw new Error(`unknown option ${argv[i]}`);
  }
  const src = scratchSource("metered");
  for (const patch of patches) applyPatch(dirname(src), patch);
  writeFileSync(join(src, "index.ts"), METERED_INDEX);
  const script = await bundleWithEsbuild(join(src, "index.ts"), join(tempDir("bench-bundle-metered"), "index.js"));
  const secrets = { apiKey: `probe-${randomBytes(12).toString("hex")}`, jwtSecret: `probe-${randomBytes(24).toString("hex")}` };
  const server = await startServer({
    name: "metered",
    kind: "product",
    script,
    knobs: { JWT_SECRET: secrets.jwtSecret, API_KEY: secrets.apiKey, STATS_AUDIT_INTERVAL: String(AUDIT_S), STATS_SHARDS: "1" },
    nofile: 4096,
  });
  const meters: MeterLine[] = [];
  const constructed = new Set<string>();
  const phaseOf = new Map<MeterLine, string>();
  let phase = "start";
  server.child.stdout?.on("data", (chunk: Buffer) => {
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
  const USERS = 4;
  const users = Array.from({ length: USERS }, (_, i) => `probe-user-${i}`);
  const sockets: WebSocket[] = [];
  let pingsSent = 0;
  const push = async (userId: string, body: object) => {
    const res = await fetch(`${server.base}/v1/users/${userId}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${secrets.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`push: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as { seq: number | null };
  };
  try {
    phase = "connect";
    for (const userId of users) {
      for (let d = 0; d < 2; d++) {
        const ws = new WebSocket(`${server.base.replace("http", "ws")}/v1/connect?device=dev${d}`, {
          // A token that outlives the run: its expiry alarm is set at connect, and never fires here.
          headers: { Authorization: `Bearer ${clientToken(secrets.jwtSecret, userId, 30 * 86_400)}` },
          perMessageDeflate: false,
        });
        await new Promise<void>((resolve, reject) => {
          ws.once("message", () => resolve());
          ws.once("error", reject);
        });
        sockets.push(ws);
      }
    }
    await settle();
    phase = "stored push";
    let lastSeq = 0;
    for (const userId of users) lastSeq = (await push(userId, { data: { n: 1 } })).seq ?? 0;
    await settle();
    phase = "live push";
    for (const userId of users) await push(userId, { data: { n: 2 }, ttl: 0 });
    await settle();
    phase = "ack";
    for (const ws of sockets) ws.send(JSON.stringify({ type: "ack", seq: lastSeq }));
    await settle();
    phase = "heartbeat";
    for (const ws of sockets) ws.send("ping");
    pingsSent += sockets.length;
    await settle();
    // Idle: heartbeats only (auto-answered, they never wake an object). Whatever
    // a user's object does now is timer-driven — or the shard's audit.
    phase = IDLE;
    process.stderr.write(`billing-probe: ${IDLE_S} s idle with heartbeats…\n`);
    const idleStart = Date.now();
    while (Date.now() - idleStart < IDLE_S * 1000) {
      await new Promise((r) => setTimeout(r, 10_000));
      for (const ws of sockets) ws.send("ping");
      pingsSent += sockets.length;
    }
    await settle();
    phase = "close";
    for (const ws of sockets) ws.close(1000, "probe done");
    await new Promise((r) => setTimeout(r, 1500));
    // The last close's report to the shard is awaited, and the user's object clears its
    // reported_online row after it answers, outside any handler: one more (live) push per
    // user runs a handler on each object, whose meter line carries that write.
    phase = "after close (flush)";
    for (const userId of users) await push(userId, { data: { n: 3 }, ttl: 0 });
    await settle();
  } finally {
    for (const ws of sockets) ws.terminate();
    await server.stop();
  }

  // Aggregate per (class, event).
  const groups = new Map<string, { cls: string; event: string; n: number; read: number; written: number; alarms: number; phases: Set<string> }>();
  for (const m of meters) {
    const event = phaseOf.get(m) === "after close (flush)" ? `${m.event}, after the close (carries the close's late writes)` : m.event;
    const key = `${m.cls}|${event}`;
    const g = groups.get(key) ?? { cls: m.cls, event, n: 0, read: 0, written: 0, alarms: 0, phases: new Set<string>() };
    g.n++;
    g.read += m.read;
    g.written += m.written;
    g.alarms += m.alarms;
    g.phases.add(phaseOf.get(m) ?? "?");
    groups.set(key, g);
  }
  const rows = [...groups.values()].map((g) => ({
    object: g.cls,
    event: g.event,
    invocations: g.n,
    rowsReadEach: g.read / g.n,
    rowsWrittenEach: g.written / g.n,
    setAlarmEach: g.alarms / g.n,
    phases: [...g.phases].join(", "),
  }));
  const text = table(
    ["object", "handler", "invocations", "rows read each", "SQL rows written each", "setAlarm each (1 row written)", "seen during"],
    rows.map((r) => [r.object, r.event, String(r.invocations), r.rowsReadEach.toFixed(2), r.rowsWrittenEach.toFixed(2), r.setAlarmEach.toFixed(2), r.phases]),
  );
  console.log(`\nBilled storage units per Durable Object handler (${USERS} users × 2 sessions; default timers, STATS_AUDIT_INTERVAL=${AUDIT_S} s; 1 stats shard)\n`);
  console.log(text);
  // Rows written by statement, over the whole run: exact per statement whichever handler's line carried them.
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
  const statements = [...byStatement.values()].map((g) => ({ object: g.cls, statement: g.statement, executions: g.executions, rowsWrittenEach: g.written / g.executions }));
  const statementText = table(
    ["object", "statement that wrote", "executions", "rows written each"],
    statements.map((r) => [r.object, r.statement.length > 110 ? `${r.statement.slice(0, 107)}…` : r.statement, String(r.executions), r.rowsWrittenEach.toFixed(2)]),
  );
  console.log("\nRows written per statement (whole run)\n");
  console.log(statementText);
  // Per idle user-hour: what the idle stretch cost, by kind.
  const idle = meters.filter((m) => phaseOf.get(m) === IDLE);
  const userHours = (USERS * IDLE_S) / 3600;
  const hubTimer = idle.filter((m) => m.cls === "UserHub" && (m.event === "alarm" || m.event.startsWith("constructor")) && !m.event.startsWith("audit"));
  const hubAlarms = idle.filter((m) => m.cls === "UserHub" && m.event === "alarm").length;
  const timerWrites = idle.filter((m) => m.cls === "UserHub" && !m.event.startsWith("audit")).reduce((n, m) => n + m.written + m.alarms, 0);
  const audits = idle.filter((m) => m.event.startsWith("audit"));
  const auditWrites = audits.reduce((n, m) => n + m.written + m.alarms, 0);
  const shardAlarmWrites = idle.filter((m) => m.cls === "StatsShard").reduce((n, m) => n + m.written + m.alarms, 0);
  const idleUnits = {
    userHours,
    userObjectAlarmsFired: hubAlarms / userHours,
    userObjectSetAlarms: idle.filter((m) => m.cls === "UserHub").reduce((n, m) => n + m.alarms, 0) / userHours,
    userObjectTimerRowsWritten: timerWrites / userHours,
    userObjectWakesNotByAudit: hubTimer.length / userHours,
    auditRequests: audits.length / userHours,
    auditRowsWritten: auditWrites / userHours,
    /** The shard's own alarm re-arms in the stretch: per shard (16 by default), not per user. */
    shardAlarmRowsWritten: shardAlarmWrites,
    auditRequestsPerUserHourAtDefault: (audits.length / userHours) * (AUDIT_S / 3600),
  };
  console.log(`\nIdle stretch: ${IDLE_S} s × ${USERS} users (2 sessions each, heartbeats only) = ${userHours.toFixed(3)} user-hours. Per idle user-hour:`);
  console.log(
    table(
      ["unit", "per idle user-hour"],
      [
        ["user-object alarms fired (timer-driven requests)", idleUnits.userObjectAlarmsFired.toFixed(3)],
        ["user-object setAlarm calls (each 1 row written)", idleUnits.userObjectSetAlarms.toFixed(3)],
        ["user-object rows written by timers", idleUnits.userObjectTimerRowsWritten.toFixed(3)],
        [`audit requests at STATS_AUDIT_INTERVAL=${AUDIT_S} s`, idleUnits.auditRequests.toFixed(3)],
        ["audit requests at the default 3600 s (scaled)", idleUnits.auditRequestsPerUserHourAtDefault.toFixed(3)],
        ["rows written by audits in the user objects", idleUnits.auditRowsWritten.toFixed(3)],
        ["rows written by the shard's own alarms in the stretch (per shard, not per user)", String(idleUnits.shardAlarmRowsWritten)],
      ],
    ),
  );
  const pingWakes = meters.filter((m) => m.event.startsWith("other incoming message")).length;
  console.log(`\nheartbeat pings that reached the object (woke it): ${pingWakes} of ${pingsSent} sent`);
  const out = join(ROOT, `bench/results/billing-probe${patches.length > 0 ? `-${patches.map((p) => p.split("-")[0]).join("-")}` : ""}.json`);
  writeFileSync(out, `${JSON.stringify({ at: new Date().toISOString(), patches, users: USERS, sessionsPerUser: 2, rows, statements, idleUnits, pingWakes, pingsSent, table: text, statementTable: statementText }, null, 2)}\n`);
  console.log(`results in ${out}`);
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
