/**
 * The BASELINE Worker: the least a Worker + Durable Object can do to push to
 * every WebSocket of a user, on the same runtime, compatibility date and
 * storage mode as Switchboard. It is the runtime's own limit, against which
 * the bench states Switchboard's figures as ratios.
 *
 *   GET  /v1/connect?user=U            → the user's object accepts a hibernatable socket
 *   POST /v1/users/U/messages  (body)  → the user's object sends the body, as is, to every socket
 *
 * No auth, no validation, no storage. Three knobs (text bindings), used only by
 * the profiling variants of the bench:
 *   HOP   = "rpc" (default) | "fetch"  — how the Worker reaches the object
 *   STORE = "0" (default)   | "1"      — also INSERT each push into the object's SQLite
 *   CONNECT_WRITE = "0" (default) | "1" — a connect also writes what a first connect must
 *     (a row in a table created on first need, and an alarm an hour out): the runtime's
 *     own floor for a durable first connect
 */
import { DurableObject } from "cloudflare:workers";

export class Hub extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.store = env.STORE === "1";
    this.connectWrite = env.CONNECT_WRITE === "1";
    this.seq = 0;
    if (this.store) {
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS m (seq INTEGER PRIMARY KEY, data TEXT NOT NULL)");
      this.seq = ctx.storage.sql.exec("SELECT coalesce(max(seq), 0) AS s FROM m").one().s;
    }
  }

  async fetch(request) {
    if (request.headers.get("Upgrade") === "websocket") {
      const { 0: client, 1: server } = new WebSocketPair();
      this.ctx.acceptWebSocket(server);
      if (this.connectWrite) {
        const sql = this.ctx.storage.sql;
        sql.exec("CREATE TABLE IF NOT EXISTS c (device TEXT PRIMARY KEY, at INTEGER NOT NULL)");
        sql.exec("INSERT OR REPLACE INTO c (device, at) VALUES (?, ?)", crypto.randomUUID(), Date.now());
        // In the same turn as the row, so one commit carries both (as Switchboard's first connect).
        void this.ctx.storage.setAlarm(Date.now() + 3_600_000);
      }
      return new Response(null, { status: 101, webSocket: client });
    }
    // HOP=fetch: the push arrives as a request.
    const n = this.push(await request.text());
    return new Response(String(n));
  }

  alarm() {}

  /** Complete the closing handshake (the hibernation API leaves it to the object). */
  webSocketClose(ws, code, reason) {
    try {
      ws.close(code === 1005 || code === 1006 || code === 1015 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }

  push(frame) {
    if (this.store) this.ctx.storage.sql.exec("INSERT INTO m (seq, data) VALUES (?, ?)", ++this.seq, frame);
    let n = 0;
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(frame);
        n++;
      } catch {
        // closing
      }
    }
    return n;
  }
}

const PUSH = /^\/v1\/users\/([^/]+)\/messages$/;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return new Response("ok");
    if (url.pathname === "/v1/connect") {
      return env.HUB.getByName(url.searchParams.get("user") ?? "").fetch(request);
    }
    const m = PUSH.exec(url.pathname);
    if (m !== null && request.method === "POST") {
      const stub = env.HUB.getByName(m[1]);
      const body = await request.text();
      if (env.HOP === "fetch") {
        const res = await stub.fetch("https://hub/push", { method: "POST", body });
        return Response.json({ delivered: Number(await res.text()) });
      }
      return Response.json({ delivered: await stub.push(body) });
    }
    return new Response("not found", { status: 404 });
  },
};
