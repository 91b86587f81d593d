/**
 * The connection state machine: connecting → open → reconnecting → … →
 * closed. Resume bookkeeping lives in cursor.ts, the heartbeat in heartbeat.ts,
 * token refresh on an open session in tokenRefresh.ts.
 */
import { fullJitterDelay, resolveBackoff, type ResolvedBackoff } from "./backoff.ts";
import { ResumeCursor } from "./cursor.ts";
import { Emitter } from "./emitter.ts";
import { Heartbeat } from "./heartbeat.ts";
import { TokenRefresher } from "./tokenRefresh.ts";
import {
  BEARER_PROTOCOL_PREFIX,
  CLIENT_GIVE_UP_CODE,
  CloseCode,
  decodeServerFrame,
  PING,
  PONG,
  reconnectAdvice,
  SUBPROTOCOL,
  type MessageFrame,
  type WelcomeFrame,
} from "@switchboard/protocol";
import { connectUrl } from "./connectUrl.ts";
import { closeDetails, defaultEnvironment, defaultWebSocketFactory, detach, isNodeLike, OPEN } from "./socket.ts";
import type { WebSocketFactory, WebSocketLike } from "./socket.ts";
import {
  SwitchboardError,
  type AuthTransport,
  type ConnectionState,
  type ConnectOptions,
  type EnvironmentEvents,
  type SwitchboardEvents,
  type TokenRequest,
} from "./types.ts";
import { checkCloseReason, checkConnectOptions, CLIENT_EVENTS } from "./validate.ts";

type Timer = ReturnType<typeof setTimeout>;

export class SwitchboardClient extends Emitter<SwitchboardEvents> {
  readonly #url: string | URL;
  readonly #staticToken: string | undefined;
  readonly #getToken: ((request: TokenRequest) => string | Promise<string>) | undefined;
  readonly #auth: AuthTransport;
  readonly #createWebSocket: WebSocketFactory;
  readonly #heartbeat: Heartbeat;
  readonly #refresher: TokenRefresher;
  readonly #cursor: ResumeCursor;
  readonly #backoff: ResolvedBackoff;
  readonly #connectTimeoutMs: number;
  readonly #random: () => number;
  readonly #environment: EnvironmentEvents | null;

  #state: ConnectionState = "connecting";
  #device: string | undefined;
  #ws: WebSocketLike | undefined;
  #welcome: WelcomeFrame | undefined;
  #sinceSent: number | undefined;
  /** Consecutive attempts that did not lead to a connection lasting resetAfterMs. */
  #attempt = 0;
  #attemptsMade = 0;
  #welcomedAt: number | undefined;
  #token: string | undefined;
  #rejectedToken: string | undefined;
  /** Bumped per attempt and on close(), so a getToken that resolves late is ignored. */
  #generation = 0;

  #reconnectTimer: Timer | undefined;
  #connectTimer: Timer | undefined;

  readonly #onOnline = (): void => {
    if (this.#reconnectTimer !== undefined) {
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = undefined;
      void this.#connect();
    } else if (this.#state === "open") {
      // A network change (wifi → cellular) can leave a socket that looks open
      // but is dead; probing now beats waiting for the next heartbeat.
      this.#heartbeat.probe();
    }
  };
  readonly #onPageHide = (): void => this.#cursor.flushAck();

  constructor(options: ConnectOptions) {
    super(CLIENT_EVENTS);
    checkConnectOptions(options);
    this.#url = options.url;
    this.#staticToken = options.token;
    this.#getToken = options.getToken;
    this.#device = options.device;
    this.#auth = options.auth ?? (isNodeLike() ? "header" : "protocol");
    this.#createWebSocket = options.createWebSocket ?? defaultWebSocketFactory;
    this.#heartbeat = new Heartbeat(
      options.heartbeat,
      () => this.#send(PING),
      () => this.#abandon("heartbeat timeout"),
    );
    const getToken = options.getToken;
    this.#refresher = new TokenRefresher({
      getToken: async () => (getToken === undefined ? Promise.reject(new Error("no getToken")) : getToken({ reason: "refresh" })),
      send: (text) => this.#welcome !== undefined && this.#send(text),
      accepted: (token) => (this.#token = token),
      // Reconnect now; the next attempt asks getToken again and connects as the new user.
      userChanged: () => this.#abandon("getToken returned a token for another user"),
      error: (err) => this.emit("error", err),
      random: () => this.#random(),
    });
    this.#cursor = new ResumeCursor(
      {
        since: options.since,
        storage: options.storage,
        storagePrefix: options.storagePrefix ?? "switchboard.seq",
        ackDelayMs: options.ackDelayMs ?? 1000,
      },
      { open: () => this.#state === "open", send: (text) => this.#welcome !== undefined && this.#send(text) },
    );
    this.#backoff = resolveBackoff(options.backoff);
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
    this.#random = options.random ?? Math.random;
    this.#environment = options.environment === undefined ? defaultEnvironment() : options.environment;

    this.#environment?.addEventListener("online", this.#onOnline);
    this.#environment?.addEventListener("pagehide", this.#onPageHide);
    // The first attempt starts after connect() returns, so that listeners
    // added right after it see every event, even a synchronous failure.
    queueMicrotask(() => void this.#connect());
  }

  get state(): ConnectionState {
    return this.#state;
  }
  /** The highest seq delivered to the app (and acked, or about to be). */
  get lastSeq(): number | undefined {
    return this.#cursor.lastSeq;
  }
  get sessionId(): string | undefined {
    return this.#state === "open" ? this.#welcome?.sessionId : undefined;
  }
  /** The device name in use: the option, or the one the server assigned on first connect. */
  get device(): string | undefined {
    return this.#device;
  }

  /** Close for good: flushes the pending ack, closes with 1000, never reconnects. */
  close(reason = "client closed"): void {
    checkCloseReason(reason);
    if (this.#state === "closed") return;
    this.#cursor.flushAck();
    const ws = this.#ws;
    this.#finish();
    if (ws !== undefined) {
      detach(ws);
      try {
        ws.close(CloseCode.Normal, reason);
      } catch {
        // Already closing: nothing left to tell the server.
      }
    }
    this.emit("close", { code: CloseCode.Normal, reason, wasClean: true, willReconnect: false });
  }

  #isClosed(): boolean {
    return this.#state === "closed";
  }

  // ---- connecting ----

  async #connect(): Promise<void> {
    if (this.#state === "closed") return;
    const generation = ++this.#generation;
    this.#reconnectTimer = undefined;
    this.#state = this.#attemptsMade === 0 ? "connecting" : "reconnecting";
    const rejected = this.#rejectedToken;
    let token: string;
    try {
      token = await (this.#getToken === undefined
        ? (this.#staticToken ?? "")
        : this.#getToken({
            reason: rejected !== undefined ? "expired" : this.#attemptsMade === 0 ? "connect" : "reconnect",
            ...(rejected !== undefined ? { rejected } : {}),
          }));
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#attemptsMade++;
      this.emit("error", new SwitchboardError("token", "getToken failed", { cause: err }));
      this.#retryLater(CloseCode.Abnormal, "getToken failed");
      return;
    }
    if (generation !== this.#generation) return;
    this.#attemptsMade++;
    if (typeof token !== "string" || token === "") {
      this.emit("error", new SwitchboardError("token", "getToken returned no token"));
      this.#retryLater(CloseCode.Abnormal, "no token");
      return;
    }
    if (rejected !== undefined && token === rejected) {
      // Connecting with the token the server just refused would only be
      // refused again; keep asking, with backoff, until a fresh one comes.
      this.emit("error", new SwitchboardError("token", "getToken returned the token the server refused (1008)"));
      this.#retryLater(CloseCode.PolicyViolation, "token not refreshed");
      return;
    }
    this.#rejectedToken = undefined;
    this.#token = token;

    this.#cursor.load(token, this.#device);
    this.#sinceSent = this.#cursor.lastSeq;
    const url = connectUrl(this.#url, {
      device: this.#device,
      since: this.#sinceSent,
      token: this.#auth === "query" ? token : undefined,
    });
    const protocols = [SUBPROTOCOL];
    const headers: Record<string, string> = {};
    if (this.#auth === "protocol") protocols.push(`${BEARER_PROTOCOL_PREFIX}${token}`);
    else if (this.#auth === "header") headers.Authorization = `Bearer ${token}`;

    let ws: WebSocketLike;
    try {
      ws = this.#createWebSocket(url, { protocols, headers });
    } catch (err) {
      // A constructor throws for a bad URL or a missing WebSocket: no retry fixes that.
      this.emit("error", new SwitchboardError("config", err instanceof Error ? err.message : "cannot create a WebSocket", { cause: err }));
      // A listener may have closed the client (a method call, so TypeScript
      // does not keep the narrowing of #state from above).
      if (this.#isClosed()) return;
      this.#finish();
      this.emit("close", { code: CloseCode.Abnormal, reason: "cannot create a WebSocket", wasClean: false, willReconnect: false });
      return;
    }
    this.#ws = ws;
    this.#welcome = undefined;
    this.#welcomedAt = undefined;
    ws.onopen = () => this.#onSocketOpen(ws);
    ws.onmessage = (event: unknown) => this.#onSocketMessage(ws, event);
    ws.onerror = () => {
      if (this.#ws === ws) this.emit("error", new SwitchboardError("transport", "WebSocket error"));
    };
    ws.onclose = (event: unknown) => {
      if (this.#ws !== ws) return;
      const { code, reason, wasClean } = closeDetails(event);
      this.#socketEnded(code ?? CloseCode.Abnormal, reason, wasClean);
    };
    this.#connectTimer = setTimeout(() => this.#abandon("connect timeout"), this.#connectTimeoutMs);
  }

  // ---- socket events ----

  #onSocketOpen(ws: WebSocketLike): void {
    if (this.#ws === ws) this.#heartbeat.opened();
  }

  /** Send on the current socket when it is open; false when not sent. */
  #send(text: string): boolean {
    const ws = this.#ws;
    if (ws === undefined || ws.readyState !== OPEN) return false;
    try {
      ws.send(text);
      // A ping is not activity: the heartbeat waits for its answer instead.
      if (text !== PING) this.#heartbeat.activity();
      return true;
    } catch {
      // The socket is going away; what it did not carry the next one will.
      return false;
    }
  }

  #onSocketMessage(ws: WebSocketLike, event: unknown): void {
    if (this.#ws !== ws) return;
    this.#heartbeat.alive();
    const data = typeof event === "object" && event !== null && "data" in event ? event.data : undefined;
    const frame = decodeServerFrame(data);
    if (frame === PONG) return;
    if (typeof frame === "string") {
      this.emit("error", new SwitchboardError("protocol", frame));
      return;
    }
    switch (frame.type) {
      case "welcome":
        this.#onWelcome(frame);
        return;
      case "message":
        if (this.#welcome === undefined) {
          this.emit("error", new SwitchboardError("protocol", "message before welcome"));
          return;
        }
        this.#onMessage(frame);
        return;
      case "refreshed":
        this.#refresher.refreshed(frame.expiresAt);
        return;
      case "error":
        this.#refresher.frameError(frame.code);
        this.emit("error", new SwitchboardError("frame", frame.message, { code: frame.code }));
        return;
    }
  }

  #onWelcome(frame: WelcomeFrame): void {
    if (this.#welcome !== undefined) {
      this.emit("error", new SwitchboardError("protocol", "second welcome on one connection"));
      return;
    }
    if (this.#connectTimer !== undefined) {
      clearTimeout(this.#connectTimer);
      this.#connectTimer = undefined;
    }
    this.#welcome = frame;
    this.#welcomedAt = Date.now();
    this.#state = "open";
    // Reconnect as the same device even when the server picked the name, so
    // its cursor and targeting keep applying.
    this.#device ??= frame.device;
    this.#cursor.welcomed(frame);
    this.#heartbeat.advertised(frame.heartbeat);
    if (this.#getToken !== undefined && this.#token !== undefined) this.#refresher.start(this.#token);
    const since = this.#sinceSent;
    this.emit("open", {
      sessionId: frame.sessionId,
      userId: frame.userId,
      device: frame.device,
      head: frame.head,
      recovered: frame.recovered,
      since,
    });
    // An open listener may have closed the client already.
    if (!frame.recovered && this.#welcome === frame) {
      this.emit("resync", { sessionId: frame.sessionId, head: frame.head, since });
    }
    this.#cursor.scheduleAck();
  }

  #onMessage(frame: MessageFrame): void {
    if (!this.#cursor.accept(frame.seq)) return;
    this.#cursor.scheduleAck();
    const { id, seq, event, data, sentAt } = frame;
    this.emit("message", event === undefined ? { id, seq, data, sentAt } : { id, seq, event, data, sentAt });
  }

  // ---- ending a connection ----

  /** Give up on a socket the runtime still thinks is fine (no pong, no welcome). */
  #abandon(reason: string): void {
    const ws = this.#ws;
    if (ws === undefined) return;
    detach(ws);
    try {
      ws.close(CLIENT_GIVE_UP_CODE, reason);
    } catch {
      // Closing a half-dead socket may throw in some implementations; it is dropped either way.
    }
    this.#socketEnded(CloseCode.Abnormal, reason, false);
  }

  #socketEnded(code: number, reason: string, wasClean: boolean): void {
    const refused = this.#refresher.pending;
    const ws = this.#ws;
    if (ws !== undefined) detach(ws);
    this.#cursor.persist();
    this.#clearSocketTimers();
    this.#ws = undefined;
    const lived = this.#welcomedAt !== undefined ? Date.now() - this.#welcomedAt : 0;
    this.#welcome = undefined;
    this.#welcomedAt = undefined;
    if (this.#state === "closed") return;
    if (lived >= this.#backoff.resetAfterMs) this.#attempt = 0;

    const advice = reconnectAdvice(code);
    if (advice === "never") {
      this.#finish();
      this.emit("close", { code, reason, wasClean, willReconnect: false });
      return;
    }
    if (advice === "with-fresh-token") {
      if (this.#getToken === undefined) {
        this.#finish();
        this.emit("close", { code, reason, wasClean, willReconnect: false });
        return;
      }
      // 4003 refused the token a refresh sent; 1008, the session's own.
      this.#rejectedToken = code === CloseCode.TokenRefused ? (refused ?? this.#token) : this.#token;
    }
    this.#retryLater(code, reason, wasClean);
  }

  /** Schedule the next attempt with full-jitter backoff, or give up after maxAttempts. */
  #retryLater(code: number, reason: string, wasClean = false): void {
    // An `error` listener may have closed the client just before this.
    if (this.#state === "closed") return;
    if (this.#attempt >= this.#backoff.maxAttempts) {
      this.#finish();
      this.emit("close", { code, reason, wasClean, willReconnect: false });
      return;
    }
    const delay = fullJitterDelay(this.#attempt, this.#backoff, this.#random);
    this.#attempt++;
    this.#state = "reconnecting";
    this.#reconnectTimer = setTimeout(() => void this.#connect(), delay);
    this.emit("close", { code, reason, wasClean, willReconnect: true, retryInMs: delay });
  }

  #clearSocketTimers(): void {
    if (this.#connectTimer !== undefined) clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#heartbeat.stop();
    this.#refresher.stop();
    this.#cursor.cancelAck();
  }

  #finish(): void {
    this.#state = "closed";
    this.#generation++;
    this.#clearSocketTimers();
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#ws = undefined;
    this.#welcome = undefined;
    this.#environment?.removeEventListener("online", this.#onOnline);
    this.#environment?.removeEventListener("pagehide", this.#onPageHide);
  }
}

/** Connect now and keep connected until close(); see ConnectOptions. */
export function connect(options: ConnectOptions): SwitchboardClient {
  return new SwitchboardClient(options);
}
