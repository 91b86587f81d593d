/**
 * UserHub: the one Durable Object per userId. It owns every WebSocket of that
 * user (hibernatable, so an idle user costs no duration), the user's message
 * log, and per-device cursors. The Worker reaches it by RPC (push, presence,
 * kick, messages) and by `fetch` only for the WebSocket upgrade.
 */
import { DurableObject } from "cloudflare:workers";
import { configFrom, type Config } from "../config";
import {
  CloseCode,
  encodeError,
  encodeMessage,
  encodeWelcome,
  exceedsFrameLimit,
  FrameError,
  MAX_CLIENT_FRAME_BYTES,
  parseClientFrame,
  PING,
  PONG,
} from "../protocol";
import { MessageLog, toMessageView } from "./log";
import { missedFrames, resumePoint } from "./resume";
import { jsonError } from "../http/errors";
import {
  CONNECT_HEADER,
  parseConnectParams,
  type KickRequest,
  type MessagesPage,
  type PresenceView,
  type PushRequest,
  type PushResult,
  type SessionView,
} from "./rpc";
import { LAST_SEEN_WRITE_MS, readAttachment, writeAttachment, type Session } from "./session";
import { isOpen, tryClose, trySend } from "./sockets";
import { Alarm } from "../util/alarm";
import { RecentIds } from "./recentIds";
import { FrameBudget } from "./frameBudget";
import { PresenceReporter } from "./presenceReporter";
import { leaseRenewalDue } from "../stats/shardKey";
import { SendBacklog } from "./sendBacklog";
import { nativeFrameFor, pusherEventFrameFor, type FrameFor, type PusherEvent } from "../pusher/deliver";
import * as pusher from "../pusher/hub";

export class UserHub extends DurableObject<Env> {
  private readonly config: Config;
  private readonly log: MessageLog;
  /** Cache of attachments; rebuilt lazily after the object wakes from hibernation. */
  private readonly sessions = new WeakMap<WebSocket, Session>();
  private readonly recentLive = new RecentIds();
  private readonly budgets = new FrameBudget();
  private readonly backlog: SendBacklog;
  /** Highest ack seen per session while awake: a repeated ack costs no row write. */
  private readonly acked = new WeakMap<WebSocket, number>();
  private readonly alarmClock: Alarm;
  private readonly presence: PresenceReporter;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const result = configFrom(env);
    // The Worker refuses every request when misconfigured, so no request
    // reaches here without a config; a throw is the right failure otherwise.
    if (!result.ok) throw new Error(`switchboard misconfigured: ${result.problem}`);
    this.config = result.config;
    this.log = new MessageLog(ctx.storage.sql, this.config.maxStoredPerUser);
    this.backlog = new SendBacklog(this.config.maxSessionBacklogBytes);
    this.alarmClock = new Alarm(ctx.storage);
    this.presence = new PresenceReporter(ctx, env, this.config, () => this.planAlarm(Date.now(), this.openSockets().length));
    // Heartbeats are answered by the runtime without waking the object, and
    // the time of the last one is kept for presence (getWebSocketAutoResponseTimestamp).
    // One pair per object: the dialect of its sockets picks it (src/pusher/hub.ts).
    pusher.chooseHeartbeat(ctx);
    ctx.blockConcurrencyWhile(() => this.alarmClock.load());
  }

  // ---- sessions ----

  private sessionOf(ws: WebSocket): Session | undefined {
    let session = this.sessions.get(ws);
    if (session === undefined) {
      session = readAttachment(ws);
      if (session !== undefined) this.sessions.set(ws, session);
    }
    return session;
  }

  private openSockets(): WebSocket[] {
    return this.ctx.getWebSockets().filter(isOpen);
  }

  private lastSeenAt(ws: WebSocket, session: Session): number {
    const pong = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
    return Math.max(pong, session.lastFrameAt, session.connectedAt);
  }

  /**
   * Close sessions that are stale (silent past STALE_AFTER) or whose token has
   * expired; return the live ones. Used by presence and by the reaper alarm.
   */
  private sweep(now: number): Array<{ ws: WebSocket; session: Session }> {
    const live: Array<{ ws: WebSocket; session: Session }> = [];
    let closed = false;
    for (const ws of this.openSockets()) {
      const session = this.sessionOf(ws);
      if (session === undefined) {
        tryClose(ws, CloseCode.InternalError, "session state lost");
        closed = true;
      } else if (session.expiresAt <= now) {
        pusher.closeFor(ws, session, CloseCode.PolicyViolation, session.pusher ? "no signin or subscription in time" : "token expired");
        closed = true;
      } else if (now - this.lastSeenAt(ws, session) > this.config.staleAfterMs) {
        pusher.closeFor(ws, session, CloseCode.Stale, "no heartbeat");
        closed = true;
      } else if (pusher.isCounted(session)) {
        live.push({ ws, session });
      }
    }
    if (closed) this.sessionsChanged(live.length);
    return live;
  }

  /** The number of open sessions changed: tell the stats shard and re-plan the alarm. */
  private sessionsChanged(open: number): void {
    pusher.chooseHeartbeat(this.ctx);
    this.presence.report(open - pusher.unauthenticated(this.ctx, (ws) => this.sessionOf(ws)));
    this.planAlarm(Date.now(), open);
  }

  /**
   * The alarm serves four jobs: reaping stale sessions (every REAP_INTERVAL
   * while any is open — the only timer that wakes an idle user), closing
   * sessions at token expiry, purging the log, and retrying a presence report.
   */
  private planAlarm(now: number, open: number): void {
    let next = this.log.purgeDueAt(now) ?? Number.POSITIVE_INFINITY;
    next = Math.min(next, this.presence.retryAt() ?? Number.POSITIVE_INFINITY);
    if (open > 0) {
      next = Math.min(next, now + this.config.reapIntervalMs);
      for (const ws of this.openSockets()) {
        const session = this.sessionOf(ws);
        if (session !== undefined) next = Math.min(next, session.expiresAt);
      }
    }
    this.alarmClock.ensureBy(now, next);
  }

  // ---- connect (the only fetch) ----

  override async fetch(request: Request): Promise<Response> {
    const params = parseConnectParams(request.headers.get(CONNECT_HEADER));
    if (params === undefined || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return jsonError(400, "bad_request", "not a connect request");
    }
    const now = Date.now();
    const open = this.openSockets();
    if (open.length >= this.config.maxSessionsPerUser) {
      return jsonError(429, "too_many_sessions", `user already has ${open.length} sessions (MAX_SESSIONS_PER_USER)`);
    }
    if (request.headers.get(pusher.PUSHER_CONNECT_HEADER) === pusher.PUSHER_DIALECT) {
      const accepted = pusher.acceptPusher(this.ctx, params.userId, now, this.config.staleAfterMs, (s) => [deviceTag(s.device), sessionTag(s.sessionId)]);
      this.sessions.set(accepted.ws, accepted.session);
      this.presence.setUser(params.userId);
      this.planAlarm(now, open.length + 1);
      return accepted.response;
    }
    const { 0: client, 1: server } = new WebSocketPair();
    const session: Session = {
      sessionId: crypto.randomUUID(),
      userId: params.userId,
      device: params.device,
      connectedAt: now,
      expiresAt: params.expiresAt,
      lastFrameAt: now,
    };
    this.presence.setUser(params.userId);
    this.ctx.acceptWebSocket(server, [deviceTag(session.device), sessionTag(session.sessionId)]);
    writeAttachment(server, session);
    this.sessions.set(server, session);

    // From here to the end of the replay nothing awaits, so a concurrent push
    // lands either in the log before the replay reads it, or after this socket
    // is in getWebSockets(): never both, never neither.
    const { head, from, recovered } = resumePoint(this.log, session.device, params.since, now);
    server.send(encodeWelcome({ sessionId: session.sessionId, userId: session.userId, device: session.device, head, recovered }));
    for (const frame of missedFrames(this.log, session.device, from, now, this.config.maxStoredPerUser)) {
      this.backlog.admit(server, frame.length, now);
      server.send(frame);
    }
    this.sessionsChanged(open.length + 1);
    const headers = params.subprotocol ? { "Sec-WebSocket-Protocol": "switchboard.v1" } : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  // ---- RPC ----

  async push(req: PushRequest): Promise<PushResult> {
    const now = Date.now();
    if (req.ttl === 0) return this.pushLive(req, now);

    const entry = {
      id: req.id,
      dataJson: req.dataJson,
      sentAt: now,
      expiresAt: now + req.ttl * 1000,
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
          sessions: this.openSockets().length,
          stored: true,
          duplicate: true,
        };
      }
      message = this.log.append(entry);
    }
    const { delivered, sessions } = this.deliver(req, nativeFrameFor(this.ctx, encodeMessage(message, req.dataJson)), now);
    const purgeAt = this.log.purgeDueAt(now);
    if (purgeAt !== undefined && this.alarmClock.laterThan(purgeAt)) this.alarmClock.ensureBy(now, purgeAt);
    return { id: req.id, seq: message.seq, delivered, sessions, stored: true, duplicate: false };
  }

  private pushLive(req: PushRequest, now: number): PushResult {
    // Live-only pushes touch no storage, so their idempotency is best effort:
    // remembered in memory for a few minutes (lost if the object is evicted).
    const seen = this.recentLive.get(req.id, now);
    if (seen !== undefined) return { ...seen, delivered: 0, sessions: this.openSockets().length, duplicate: true };
    const { delivered, sessions } = this.deliver(req, nativeFrameFor(this.ctx, encodeMessage({ id: req.id, seq: null, sentAt: now }, req.dataJson)), now);
    const result: PushResult = { id: req.id, seq: null, delivered, sessions, stored: false, duplicate: false };
    this.recentLive.set(req.id, result, now);
    return result;
  }

  /** Pusher events (src/pusher/http.ts): each to its channel's Pusher sockets and, live-only, to native sessions. */
  async pusherEvents(userId: string, events: PusherEvent[]): Promise<{ delivered: number }> {
    const now = Date.now();
    let delivered = 0;
    for (const e of events) delivered += this.deliver({ exceptSession: e.exceptSocketId }, pusherEventFrameFor(e, crypto.randomUUID(), now), now).delivered;
    return { delivered };
  }

  private deliver(target: Target, frameOrFor: string | FrameFor, now: number): { delivered: number; sessions: number } {
    let delivered = 0;
    let sessions = 0;
    let tooSlow = 0;
    const sockets = this.ctx.getWebSockets();
    const fixed = typeof frameOrFor === "string" ? frameOrFor : undefined;
    const untargeted = fixed !== undefined && target.device === undefined && target.exceptDevice === undefined && target.exceptSession === undefined;
    for (const ws of sockets) {
      if (!isOpen(ws)) continue;
      let frame = fixed;
      if (!untargeted) {
        const s = this.sessionOf(ws);
        // Sockets still authenticating (Pusher) count nowhere and get nothing.
        if (s === undefined || !pusher.isCounted(s)) continue;
        sessions++;
        if (target.device !== undefined && s.device !== target.device) continue;
        if (target.exceptDevice !== undefined && s.device === target.exceptDevice) continue;
        if (target.exceptSession !== undefined && s.sessionId === target.exceptSession) continue;
        frame ??= typeof frameOrFor === "string" ? frameOrFor : frameOrFor(s);
        if (frame === undefined) continue;
      } else sessions++;
      if (frame === undefined) continue;
      if (!this.backlog.admit(ws, frame.length, now)) {
        // Stored messages wait in the log for its resume; nothing is lost.
        pusher.closeFor(ws, this.sessionOf(ws), CloseCode.TooSlow, "too slow: not reading");
        tooSlow++;
        continue;
      }
      if (trySend(ws, frame)) delivered++;
      if (!untargeted) pusher.askForProof(ws, this.sessionOf(ws), frame.length, this.config.maxSessionBacklogBytes);
    }
    if (tooSlow > 0) this.sessionsChanged(this.openSockets().length);
    return { delivered, sessions };
  }

  private deviceOfSession(sessionId: string): string | undefined {
    const ws = this.ctx.getWebSockets(sessionTag(sessionId))[0];
    return ws === undefined ? undefined : this.sessionOf(ws)?.device;
  }

  async presenceOf(userId: string): Promise<PresenceView> {
    const now = Date.now();
    const sessions: SessionView[] = this.sweep(now).map(({ ws, session }) => ({
      sessionId: session.sessionId,
      device: session.device,
      connectedAt: session.connectedAt,
      lastSeenAt: this.lastSeenAt(ws, session),
    }));
    return { userId, online: sessions.length > 0, sessions };
  }

  async kick(req: KickRequest): Promise<{ closed: number }> {
    let sockets = this.openSockets();
    if (req.session !== undefined) sockets = this.ctx.getWebSockets(sessionTag(req.session)).filter(isOpen);
    else if (req.device !== undefined) sockets = this.ctx.getWebSockets(deviceTag(req.device)).filter(isOpen);
    for (const ws of sockets) pusher.closeFor(ws, this.sessionOf(ws), CloseCode.Kicked, "closed by server");
    if (sockets.length > 0) this.sessionsChanged(this.openSockets().length);
    return { closed: sockets.length };
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
        pusher.closeFor(ws, session, CloseCode.RateLimited, "too many frames");
        return;
      }
      this.backlog.heard(ws);
      if (now - session.lastFrameAt > LAST_SEEN_WRITE_MS) {
        session.lastFrameAt = now;
        writeAttachment(ws, session);
      }
      if (session.pusher !== undefined) {
        if (await pusher.onPusherMessage(ws, session, message, this.env)) this.sessionsChanged(this.openSockets().length);
        return;
      }
      if (typeof message !== "string") {
        if (message.byteLength > MAX_CLIENT_FRAME_BYTES) tryClose(ws, CloseCode.MessageTooBig, "frame too large");
        else trySend(ws, encodeError(FrameError.Binary, "binary frames are not supported"));
        return;
      }
      if (exceedsFrameLimit(message)) {
        tryClose(ws, CloseCode.MessageTooBig, "frame too large");
        return;
      }
      // A "ping" that reached us was sent while the object was awake in a way
      // the auto-response did not catch; answer it the same.
      if (message === PING) {
        trySend(ws, PONG);
        return;
      }
      const parsed = parseClientFrame(message);
      if (!parsed.ok) {
        trySend(ws, encodeError(parsed.code, parsed.message));
        return;
      }
      // The only client frame today is the cumulative ack.
      if (parsed.frame.seq > this.log.head) {
        trySend(ws, encodeError(FrameError.BadAck, `ack.seq is beyond head (${this.log.head})`));
        return;
      }
      // The SDK also acks to say "still reading" while it receives live-only
      // messages; an ack that moves nothing needs no write.
      if (parsed.frame.seq > (this.acked.get(ws) ?? -1)) {
        this.acked.set(ws, parsed.frame.seq);
        this.log.ack(session.device, parsed.frame.seq, now);
      }
    } catch (err) {
      console.error("switchboard: webSocketMessage failed", err);
      trySend(ws, encodeError(FrameError.Internal, "internal error"));
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      // The hibernation API does not complete the closing handshake for us.
      tryClose(ws, code, reason);
      const session = this.sessionOf(ws);
      if (session !== undefined) this.budgets.forget(session.sessionId);
      this.sessionsChanged(this.openSockets().filter((other) => other !== ws).length);
    } catch (err) {
      console.error("switchboard: webSocketClose failed", err);
    }
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    try {
      console.warn("switchboard: socket error", error);
      tryClose(ws, CloseCode.InternalError, "socket error");
      this.sessionsChanged(this.openSockets().filter((other) => other !== ws).length);
    } catch (err) {
      console.error("switchboard: webSocketError failed", err);
    }
  }

  // ---- alarm: reaping, token expiry, retention, presence retries ----

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.alarmClock.fired();
    const live = this.sweep(now);
    this.log.purge(now);
    // While anyone is online, re-report even when nothing changed, once every
    // LEASE_RENEW_REAPS alarms: it renews the shard's lease on this user, so a
    // shard that lost its data heals within LEASE_RENEW_REAPS × REAP_INTERVAL.
    // (Not every alarm: each report is a request and a row written, which at
    // scale was most of the bill.) Nobody online while the shard was last told
    // otherwise means the sockets died without close events (the process was
    // killed): report the 0. Otherwise only a failed report repeats.
    const renew = live.length > 0 && leaseRenewalDue(now, this.config.reapIntervalMs);
    const ghost = live.length === 0 && this.presence.reportedOnline;
    if (renew || ghost || this.presence.retryAt() !== undefined) await this.presence.flush(live.length);
    this.planAlarm(now, live.length);
  }
}

type Target = Pick<PushRequest, "device" | "exceptDevice" | "exceptSession">;
function deviceTag(device: string): string {
  return `d:${device}`;
}
function sessionTag(sessionId: string): string {
  return `s:${sessionId}`;
}
