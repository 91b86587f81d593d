/**
 * UserHub: the one Durable Object per userId. It owns every WebSocket of that
 * user (hibernatable, so an idle user costs no duration), the user's message
 * log, and per-device cursors. The Worker reaches it by RPC (push, presence,
 * kick, messages) and by `fetch` only for the WebSocket upgrade.
 */
import { DurableObject } from "cloudflare:workers";
import { configFrom, type Config } from "../config";
import { CloseCode, encodeError, FrameError } from "@switchboard/protocol";
import { MessageLog, toMessageView } from "./log";
import { jsonError } from "../http/errors";
import {
  CONNECT_HEADER,
  parseConnectParams,
  type ChannelEvent,
  type KickRequest,
  type MessagesPage,
  type PresenceView,
  type PushRequest,
  type PushResult,
  type SessionView,
} from "./rpc";
import { deviceTag, lastSeenWriteMs, readAttachment, sessionTag, writeAttachment, type Session } from "./session";
import { isOpen, tryClose, trySend } from "./sockets";
import { earliestDeadline, lastSeenAt, sweepSockets, type LiveSession } from "./liveness";
import { Alarm } from "../util/alarm";
import { tableNames } from "../util/tables";
import { RecentIds } from "./recentIds";
import { FrameBudget } from "./frameBudget";
import { PresenceReporter } from "./presenceReporter";
import { SendBacklog } from "./sendBacklog";
import { deliverTo, type Target } from "./deliver";
import { dialectTag, type Dialects, type HubServices, type Outgoing } from "./dialect";
import { chooseHeartbeat } from "./heartbeat";
import { reportSockets } from "../util/socketCensus";
import { count, setEventLog } from "../metrics/events";
import { UserWebPush } from "../webpush/userWebPush";
import type { WebPushSubscription } from "../webpush/subscription";

/** Frames sweep the user's sockets at most this often (ms); stale means silent for ≥ 10 s anyway. */
const FRAME_SWEEP_MS = 10_000;

/**
 * The hub speaks no dialect itself: the composition root (src/userHub.ts)
 * subclasses it with the set of dialects, so nothing here imports one.
 */
export class UserHubCore extends DurableObject<Env> {
  private readonly config: Config;
  private readonly dialects: Dialects;
  private readonly log: MessageLog;
  /** Cache of attachments; rebuilt lazily after the object wakes from hibernation. */
  private readonly sessions = new WeakMap<WebSocket, Session>();
  private readonly recentLive = new RecentIds();
  private readonly budgets = new FrameBudget();
  private readonly backlog: SendBacklog;
  private readonly alarmClock: Alarm;
  private readonly presence: PresenceReporter;
  /** Device subscriptions and the notification outbox (src/webpush/). */
  private readonly webPush: UserWebPush;
  /** When frames last triggered a sweep (a frame-triggered sweep is rate-limited; see webSocketMessage). */
  private lastFrameSweepAt = 0;

  constructor(ctx: DurableObjectState, env: Env, dialects: Dialects) {
    super(ctx, env);
    this.dialects = dialects;
    const result = configFrom(env);
    // The Worker refuses every request when misconfigured, so no request
    // reaches here without a config; a throw is the right failure otherwise.
    if (!result.ok) throw new Error(`switchboard misconfigured: ${result.problem}`);
    this.config = result.config;
    setEventLog(this.config.eventLog);
    const tables = tableNames(ctx.storage.sql);
    this.log = new MessageLog(ctx.storage.sql, this.config.maxStoredPerUser, tables);
    this.backlog = new SendBacklog(this.config.maxSessionBacklogBytes);
    this.webPush = new UserWebPush(ctx.storage.sql, tables);
    this.alarmClock = new Alarm(ctx.storage);
    this.presence = new PresenceReporter(ctx, env, this.config, () => this.planAlarm(Date.now(), this.liveSessions()), tables);
    // Heartbeats are answered by the runtime without waking the object (one pair, picked by the sockets'
    // dialects: heartbeat.ts); the last one's time is kept for presence (getWebSocketAutoResponseTimestamp).
    chooseHeartbeat(ctx, dialects);
  }

  // ---- sessions ----

  private sessionOf(ws: WebSocket): Session | undefined {
    let session = this.sessions.get(ws);
    if (session === undefined) {
      session = readAttachment(ws, this.dialects);
      if (session !== undefined) this.sessions.set(ws, session);
    }
    return session;
  }

  private openSockets(): WebSocket[] {
    return this.ctx.getWebSockets().filter(isOpen);
  }

  private pongAt(ws: WebSocket): number | undefined {
    return this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime();
  }

  /**
   * Close sockets that are no longer sessions (liveness.ts) and return the
   * live ones; a change is reported to the stats shard.
   */
  private sweep(now: number): LiveSession[] {
    const { live, closed } = sweepSockets(this.ctx.getWebSockets(), {
      now,
      staleAfterMs: this.config.staleAfterMs,
      dialects: this.dialects,
      sessionOf: (ws) => this.sessionOf(ws),
      pongAt: (ws) => this.pongAt(ws),
    });
    if (closed > 0) this.sessionsChanged(live);
    return live;
  }

  /** Open sessions without sweeping (for planning, where closing would recurse). */
  private liveSessions(): LiveSession[] {
    const live: LiveSession[] = [];
    for (const ws of this.openSockets()) {
      const session = this.sessionOf(ws);
      if (session !== undefined && this.dialects.of(session).isCounted(session)) live.push({ ws, session });
    }
    return live;
  }

  /** The set of open sessions changed: tell the stats shard and re-plan the alarm. */
  private sessionsChanged(live: readonly LiveSession[]): void {
    this.census();
    chooseHeartbeat(this.ctx, this.dialects);
    this.presence.report(live.length);
    this.planAlarm(Date.now(), live);
  }

  /** Every open socket (any dialect, signed in or not) holds descriptors: the process's session cap counts them. */
  private census(): void {
    const byDialect: Record<string, number> = {};
    for (const ws of this.openSockets()) {
      const session = this.sessionOf(ws);
      const name = session === undefined ? "unknown" : this.dialects.of(session).name;
      byDialect[name] = (byDialect[name] ?? 0) + 1;
    }
    reportSockets(this.ctx.id.toString(), byDialect);
  }

  /**
   * The one alarm serves: closing sessions at token expiry, purging the log,
   * retrying a presence report, and — only when REAP_INTERVAL is set (it is by
   * default with webhooks) — reaping half-open sessions. A healthy idle user
   * with long-lived tokens and no stored messages has no alarm at all.
   */
  private planAlarm(now: number, live: readonly LiveSession[]): void {
    this.alarmClock.ensureBy(now, this.alarmDue(now, live));
  }

  /** The earliest time anything needs the alarm (+Infinity: nothing). */
  private alarmDue(now: number, live: readonly LiveSession[]): number {
    let next = this.log.purgeDueAt(now) ?? Number.POSITIVE_INFINITY;
    next = Math.min(next, this.presence.retryAt() ?? Number.POSITIVE_INFINITY);
    next = Math.min(next, this.webPush.nextDue(this.config) ?? Number.POSITIVE_INFINITY);
    for (const { session } of live) next = Math.min(next, session.expiresAt);
    next = Math.min(
      next,
      earliestDeadline(this.ctx, this.dialects, (ws) => this.sessionOf(ws)),
    );
    if (live.length > 0 && this.config.reapIntervalMs > 0) next = Math.min(next, now + this.config.reapIntervalMs);
    return next;
  }

  /** What a dialect may use of the hub while it handles one socket. */
  private services(now: number): HubServices {
    return {
      env: this.env,
      config: this.config,
      log: this.log,
      now,
      sendCounted: (ws, frame) => {
        this.backlog.admit(ws, frame.length, now);
        return trySend(ws, frame);
      },
      lastHeardAt: (ws, session) => lastSeenAt(session, this.pongAt(ws)),
      sessionsChanged: () => this.sessionsChanged(this.liveSessions()),
      expiryChanged: () => this.alarmClock.moveTo(now, this.alarmDue(now, this.liveSessions())),
    };
  }

  // ---- connect (the only fetch) ----

  override async fetch(request: Request): Promise<Response> {
    const params = parseConnectParams(request.headers.get(CONNECT_HEADER));
    const dialect = params === undefined ? undefined : this.dialects.get(params.dialect);
    if (params === undefined || dialect === undefined || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return jsonError(400, "bad_request", "not a connect request");
    }
    const now = Date.now();
    // Sweep first: a half-open session must not hold a slot (429).
    const live = this.sweep(now);
    if (live.length >= this.config.maxSessionsPerUser) {
      return jsonError(429, "too_many_sessions", `user already has ${live.length} sessions (MAX_SESSIONS_PER_USER)`);
    }
    if (dialect.authenticatesInBand) {
      // Sockets still authenticating count here too: the Worker could not
      // authenticate the upgrade, so this bounds what anyone can open to one user's object.
      const open = this.openSockets().length;
      if (open >= this.config.maxSessionsPerUser) {
        return jsonError(429, "too_many_sessions", `user already has ${open} sockets (MAX_SESSIONS_PER_USER)`);
      }
    }
    const { 0: client, 1: server } = new WebSocketPair();
    const session = dialect.newSession(params, now);
    this.presence.setUser(params.userId);
    const tags = [deviceTag(session.device), sessionTag(session.sessionId)];
    if (dialect !== this.dialects.default) tags.push(dialectTag(dialect.name));
    this.ctx.acceptWebSocket(server, tags);
    writeAttachment(server, session);
    this.sessions.set(server, session);
    dialect.opened(server, session, params, this.services(now));
    count("switchboard_connects_total", { dialect: dialect.name });
    if (dialect.isCounted(session)) {
      live.push({ ws: server, session });
      this.sessionsChanged(live);
    } else {
      // Not a session yet: nothing to report, but the heartbeat pair and its deadline may change.
      this.census();
      chooseHeartbeat(this.ctx, this.dialects);
      this.planAlarm(now, live);
    }
    const headers = params.subprotocol === undefined ? undefined : { "Sec-WebSocket-Protocol": params.subprotocol };
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  // ---- RPC ----

  async push(req: PushRequest): Promise<PushResult> {
    const now = Date.now();
    const live = this.sweep(now);
    if (req.ttl === 0) return this.pushLive(req, now, live);

    const entry = {
      id: req.id,
      dataJson: req.dataJson,
      sentAt: now,
      expiresAt: now + req.ttl * 1000,
      event: req.event,
      device: req.device,
      exceptDevice: req.exceptDevice,
      exceptSession: req.exceptSession,
      exceptSessionDevice: req.exceptSession === undefined ? undefined : this.deviceOfSession(req.exceptSession),
    };
    // Insert first: a new id costs one statement. Only when the id is taken is
    // its row examined: a duplicate within retention, or a stale key to release.
    let message = this.log.tryAppend(entry);
    if (message === undefined) {
      const existing = this.log.findById(req.id, now);
      if (existing !== undefined) {
        return {
          id: req.id,
          seq: existing.seq,
          delivered: 0,
          sessions: live.length,
          stored: true,
          duplicate: true,
          ...(req.webpush === undefined ? {} : { webpush: 0 }),
        };
      }
      message = this.log.append(entry);
    }
    const { delivered, sessions } = this.deliver(
      req,
      { id: message.id, seq: message.seq, sentAt: message.sentAt, dataJson: req.dataJson, event: req.event },
      now,
      live,
    );
    const purgeAt = this.log.purgeDueAt(now);
    if (purgeAt !== undefined && this.alarmClock.laterThan(purgeAt)) this.alarmClock.ensureBy(now, purgeAt);
    count("switchboard_pushes_total", { kind: "stored" }, 1, { delivered });
    const result: PushResult = { id: req.id, seq: message.seq, delivered, sessions, stored: true, duplicate: false };
    if (req.webpush !== undefined) {
      // Sent from the alarm, not here: the answer never waits for a push service.
      result.webpush = this.webPush.enqueue(this.config, { ...entry, seq: message.seq, event: req.event }, req.webpush, live, now);
      if (result.webpush > 0) this.alarmClock.ensureBy(now, now);
    }
    return result;
  }

  private pushLive(req: PushRequest, now: number, live: LiveSession[]): PushResult {
    // Live-only pushes touch no storage, so their idempotency is best effort:
    // remembered in memory for a few minutes (lost if the object is evicted).
    const seen = this.recentLive.get(req.id, now);
    if (seen !== undefined) return { ...seen, delivered: 0, sessions: live.length, duplicate: true };
    const { delivered, sessions } = this.deliver(req, { id: req.id, seq: null, sentAt: now, dataJson: req.dataJson, event: req.event }, now, live);
    const result: PushResult = { id: req.id, seq: null, delivered, sessions, stored: false, duplicate: false };
    count("switchboard_pushes_total", { kind: "live" }, 1, { delivered });
    this.recentLive.set(req.id, result, now);
    return result;
  }

  /**
   * Channel events (Pusher's HTTP API, src/pusher/http.ts), live-only: dialects
   * with channels send each on its channel; the others get a message whose
   * data is `{event, channel, data}` (`data` still the string the API was given).
   */
  async channelEvents(_userId: string, events: ChannelEvent[]): Promise<{ delivered: number }> {
    const now = Date.now();
    const live = this.sweep(now);
    const sent = events.map((e) => {
      const message: Outgoing = {
        id: crypto.randomUUID(),
        seq: null,
        sentAt: now,
        dataJson: JSON.stringify({ event: e.event, channel: e.channel, data: e.data }),
        channel: { name: e.channel, event: e.event, data: e.data },
      };
      return this.deliver({ exceptSession: e.exceptSession }, message, now, live);
    });
    count("switchboard_pushes_total", { kind: "channel_event" }, events.length);
    return { delivered: sent.reduce((n, r) => n + r.delivered, 0) };
  }

  private deliver(target: Target, message: Outgoing, now: number, live: LiveSession[]): { delivered: number; sessions: number } {
    const { delivered, tooSlow } = deliverTo(live, target, message, { dialects: this.dialects, backlog: this.backlog, hub: this.services(now) });
    if (tooSlow > 0) this.sessionsChanged(this.liveSessions());
    if (delivered > 0) count("switchboard_deliveries_total", {}, delivered);
    return { delivered, sessions: live.length };
  }

  private deviceOfSession(sessionId: string): string | undefined {
    const ws = this.ctx.getWebSockets(sessionTag(sessionId))[0];
    return ws === undefined ? undefined : this.sessionOf(ws)?.device;
  }

  /** A device's Web Push subscription stored (or replaced); false when the user is at MAX_SUBSCRIPTIONS_PER_USER. */
  async putWebPush(device: string, sub: WebPushSubscription): Promise<{ stored: boolean }> {
    return { stored: this.webPush.register(device, sub, Date.now()) };
  }
  async deleteWebPush(device: string): Promise<{ removed: boolean }> {
    return { removed: this.webPush.unregister(device) };
  }

  async presenceOf(userId: string): Promise<PresenceView> {
    const now = Date.now();
    const sessions: SessionView[] = this.sweep(now).map(({ ws, session }) => ({
      sessionId: session.sessionId,
      device: session.device,
      connectedAt: session.connectedAt,
      lastSeenAt: lastSeenAt(session, this.pongAt(ws)),
    }));
    return { userId, online: sessions.length > 0, sessions };
  }

  async kick(req: KickRequest): Promise<{ closed: number }> {
    const live = this.sweep(Date.now());
    const targets = live.filter(
      ({ session }) => (req.session === undefined || session.sessionId === req.session) && (req.device === undefined || session.device === req.device),
    );
    for (const { ws, session } of targets) this.dialects.of(session).close(ws, session, CloseCode.Kicked, "closed by server");
    if (targets.length > 0) this.sessionsChanged(live.filter((s) => !targets.includes(s)));
    return { closed: targets.length };
  }

  /**
   * The process is stopping (`npm run serve` on SIGTERM, src/http/admin.ts): close every socket
   * 1001 so clients reconnect and resume at once, rather than wait out a dead TCP connection.
   */
  async goingAway(): Promise<{ closed: number }> {
    const open = this.openSockets();
    for (const ws of open) {
      const session = this.sessionOf(ws);
      if (session === undefined) tryClose(ws, CloseCode.GoingAway, "server going away");
      else this.dialects.of(session).close(ws, session, CloseCode.GoingAway, "server going away");
    }
    this.census();
    return { closed: open.length };
  }

  /**
   * A stats shard asks for this user's live count (its audit of users it has
   * not heard from for STATS_AUDIT_INTERVAL): sweep, and answer with a version
   * newer than any report already sent, so the shard orders it with them.
   */
  async audit(): Promise<{ sessions: number; version: number }> {
    const live = this.sweep(Date.now());
    return { sessions: live.length, version: this.presence.nextVersion() };
  }

  async messages(since: number, limit: number): Promise<MessagesPage> {
    const now = Date.now();
    return {
      head: this.log.head,
      messages: this.log.after(since, now, limit).map(toMessageView),
    };
  }

  // ---- WebSocket events (never throw) ----

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    try {
      const session = this.sessionOf(ws);
      if (session === undefined) {
        tryClose(ws, CloseCode.InternalError, "session state lost");
        return;
      }
      const now = Date.now();
      if (!this.budgets.take(session.sessionId, now, this.config.maxFramesPerSecond)) {
        this.dialects.of(session).close(ws, session, CloseCode.RateLimited, "too many frames");
        return;
      }
      this.backlog.heard(ws);
      // Awake anyway: sweep the user's other sockets, at most every FRAME_SWEEP_MS
      // (a sweep reads every socket; acks can come at 20/s per session).
      if (now - this.lastFrameSweepAt > FRAME_SWEEP_MS) {
        this.lastFrameSweepAt = now;
        this.sweep(now);
      }
      if (now - session.lastFrameAt > lastSeenWriteMs(this.config.staleAfterMs)) {
        session.lastFrameAt = now;
        writeAttachment(ws, session);
      }
      await this.dialects.of(session).onMessage(ws, session, message, this.services(now));
    } catch (err) {
      console.error("switchboard: webSocketMessage failed", err);
      trySend(ws, encodeError(FrameError.Internal, "internal error"));
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      count("switchboard_closes_total", { code: String(code) });
      // The hibernation API does not complete the closing handshake for us.
      tryClose(ws, code, reason);
      const session = this.sessionOf(ws);
      if (session !== undefined) this.budgets.forget(session.sessionId);
      this.sessionsChanged(this.liveSessions().filter((other) => other.ws !== ws));
    } catch (err) {
      console.error("switchboard: webSocketClose failed", err);
    }
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    try {
      console.warn("switchboard: socket error", error);
      count("switchboard_closes_total", { code: "1006" });
      tryClose(ws, CloseCode.InternalError, "socket error");
      this.sessionsChanged(this.liveSessions().filter((other) => other.ws !== ws));
    } catch (err) {
      console.error("switchboard: webSocketError failed", err);
    }
  }

  // ---- alarm: token expiry, retention, presence retries, (optional) reaping ----

  override async alarm(): Promise<void> {
    count("switchboard_alarms_total", { object: "user" });
    const now = Date.now();
    this.alarmClock.fired();
    const live = this.sweep(now);
    this.log.purge(now);
    // A failed report is retried; and the first alarm after a restart reports
    // once even if nothing changed, because a process that died with sessions
    // open never ran their close events (the shard still counts them).
    if (this.presence.retryAt() !== undefined || !this.presence.reportedSinceStart) await this.presence.flush(live.length);
    await this.webPush.sendDue(this.config, this.env, () => this.liveSessions(), now);
    this.planAlarm(Date.now(), this.liveSessions());
  }
}
