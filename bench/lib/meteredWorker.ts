/**
 * The metered build the billing probe runs (bench/billing-probe.ts): the
 * Worker's index.ts, replaced in a scratch copy of src/, wrapping both Durable
 * Object classes (imported from the real index.ts, renamed probedIndex.ts, so
 * that files moving inside src/ don't break it) so that every handler prints one METER line — rows read and
 * written by its `sql.exec` cursors, and its `setAlarm` calls (each billed as
 * one row written) — plus two probe-only hooks: an audit round now
 * (`/__probe/audit`) and a user's database size (`/__probe/size?user=`).
 */
export const METERED_INDEX = `import real, { UserHub as BaseHub, StatsShard as BaseShard } from "./probedIndex";

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
    try { await super.webSocketMessage(ws, message); } finally { report("UserHub", typeof message === "string" && message.includes('"auth"') ? "refresh (incoming message)" : typeof message === "string" && message.includes("ack") ? "ack (incoming message)" : "other incoming message: " + String(message).slice(0, 20), this.meter, this.ctx.id.toString()); }
  }
  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try { await super.webSocketClose(ws, code, reason); } finally { report("UserHub", "close (incoming)", this.meter, this.ctx.id.toString()); }
  }
  override async alarm(): Promise<void> {
    try { await super.alarm(); } finally { report("UserHub", "alarm", this.meter, this.ctx.id.toString()); }
  }
  /** Probe hook: this object's SQLite database size, in bytes (what storage bills). */
  async probeSize(): Promise<number> {
    try { return this.ctx.storage.sql.databaseSize; } finally { report("UserHub", "probe: size", this.meter, this.ctx.id.toString()); }
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
  /** Probe hook: one audit round now, as if every online user had been quiet for longer than the interval. */
  async probeAudit(): Promise<number> {
    try {
      await (this as unknown as { audit(now: number): Promise<void> }).audit(Date.now() + 400 * 86_400_000);
      return this.ctx.storage.sql.databaseSize;
    } finally { report("StatsShard", "audit round (per shard)", this.meter, this.ctx.id.toString()); }
  }
  override async alarm(): Promise<void> {
    try { await super.alarm(); } finally { report("StatsShard", "alarm (audit round, webhooks)", this.meter, this.ctx.id.toString()); }
  }
}

// Probe hooks (this build only): an audit round now, and a user's database size.
export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__probe/audit") return Response.json(await (env.STATS_SHARD.getByName("shard-0") as unknown as { probeAudit(): Promise<number> }).probeAudit());
    if (url.pathname === "/__probe/size") return Response.json(await (env.USER_HUB.getByName(url.searchParams.get("user") ?? "") as unknown as { probeSize(): Promise<number> }).probeSize());
    return real.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
`;
