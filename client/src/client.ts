import { fullJitterDelay, resolveBackoff, type BackoffOptions, type ResolvedBackoff } from "./backoff.ts";
import { Emitter } from "./emitter.ts";
import {
  BEARER_PROTOCOL_PREFIX,
  CLIENT_GIVE_UP_CODE,
  CloseCode,
  CONNECT_PATH,
  encodeAck,
  parseServerFrame,
  PING,
  PONG,
  SUBPROTOCOL,
  type MessageFrame,
  type WelcomeFrame,
} from "./protocol.ts";
import { defaultWebSocketFactory, isNodeLike, OPEN, type WebSocketFactory, type WebSocketLike } from "./socket.ts";
import { jwtSubject, readSeq, storageKey, writeSeq, type SeqStorage } from "./storage.ts";

export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

export interface TokenRequest {
  /** "connect" for the first attempt, "reconnect" for later ones, "expired" after the server closed with 1008. */
  reason: "connect" | "reconnect" | "expired";
  /** After 1008: the token the server refused. Returning it again does not reconnect. */
  rejected?: string;
}

/** How the token travels (API.md, "Authentication"). */
export type AuthTransport = "protocol" | "header" | "query";

export interface HeartbeatOptions {
  /** Send `ping` this often, in ms. Default 25 000 (the server drops a session silent for 90 s). */
  intervalMs?: number;
  /** Drop the connection if nothing (no `pong`, no frame) arrives this long after a ping. Default 10 000. */
  timeoutMs?: number;
}

/**
 * Where browser lifecycle events come from: `online` (reconnect now instead
 * of waiting out the backoff; probe an open socket) and `pagehide` (flush the
 * pending ack). Defaults to globalThis when it has addEventListener (browsers).
 */
export interface EnvironmentEvents {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

export interface ConnectOptions {
  /** The service (`https://sb.example.com`) or its connect URL (`wss://sb.example.com/v1/connect`). */
  url: string | URL;
  /** A fixed token. With it, a 1008 close (token expired) ends the client. */
  token?: string;
  /** Called before every connection attempt, so an expired token is replaced on reconnect. */
  getToken?: (request: TokenRequest) => string | Promise<string>;
  /** A stable name for this browser/phone (1-64 of A-Z a-z 0-9 . _ : @ -). Without it the server assigns one per client. */
  device?: string;
  /** Resume after this seq on the first connect (later connects use the last seq seen). */
  since?: number;
  /** Default: "header" in Node, "protocol" elsewhere (browsers cannot set headers). */
  auth?: AuthTransport;
  /** Default: the global WebSocket. See WebSocketFactory for the `ws` package. */
  createWebSocket?: WebSocketFactory;
  /** `false` disables the heartbeat (then a dead network is only noticed by the OS, after minutes). */
  heartbeat?: HeartbeatOptions | false;
  backoff?: BackoffOptions;
  /** Acks are sent at most once per this many ms (the server rate-limits client frames). Default 1000. */
  ackDelayMs?: number;
  /** Give up on an attempt that has no `welcome` after this many ms. Default 15 000. */
  connectTimeoutMs?: number;
  /** Persist the last seq (e.g. `localStorage`) so a reload resumes; needs `device`. */
  storage?: SeqStorage;
  /** Storage key prefix; the key is `<prefix>:<userId>:<device>`. Default "switchboard.seq". */
  storagePrefix?: string;
  /** Math.random's contract; injectable for tests. */
  random?: () => number;
  /** `null` disables; see EnvironmentEvents. */
  environment?: EnvironmentEvents | null;
}

export interface OpenEvent {
  sessionId: string;
  userId: string;
  device: string;
  /** The user's latest seq when this session started. */
  head: number;
  /** False: messages were lost for this device; a `resync` event follows. */
  recovered: boolean;
  /** The `since` this connection asked for; undefined when it let the server use the device's cursor. */
  since: number | undefined;
}

export interface SwitchboardMessage {
  id: string;
  /** null for live-only pushes, which are never replayed and never deduplicated. */
  seq: number | null;
  data: unknown;
  sentAt: number;
}

export interface CloseEvent {
  /** The server's close code, or 1006 when the SDK gave up itself (heartbeat, connect timeout) or the network failed. */
  code: number;
  reason: string;
  wasClean: boolean;
  willReconnect: boolean;
  /** When willReconnect: the delay before the next attempt, in ms. */
  retryInMs?: number;
}

export interface ResyncEvent {
  sessionId: string;
  head: number;
  since: number | undefined;
}

export type SwitchboardErrorKind = "transport" | "frame" | "protocol" | "token" | "config";

export class SwitchboardError extends Error {
  override readonly name = "SwitchboardError";
  /** transport: socket error; frame: an `error` frame; protocol: a frame off contract; token: getToken failed; config: cannot connect at all. */
  readonly kind: SwitchboardErrorKind;
  /** The server's error code for `frame` errors (bad_ack, …). */
  readonly code: string | undefined;

  constructor(kind: SwitchboardErrorKind, message: string, options?: { code?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.code = options?.code;
  }
}

export interface SwitchboardEvents {
  open: OpenEvent;
  message: SwitchboardMessage;
  close: CloseEvent;
  error: SwitchboardError;
  resync: ResyncEvent;
}

const DEVICE_RE = /^[A-Za-z0-9._:@-]{1,64}$/;

function noop(): void {}

function numberField(event: unknown, key: string): number | undefined {
  if (typeof event !== "object" || event === null || !(key in event)) return undefined;
  const value: unknown = (event as Record<string, unknown>)[key];
  return typeof value === "number" ? value : undefined;
}

function stringField(event: unknown, key: string): string | undefined {
  if (typeof event !== "object" || event === null || !(key in event)) return undefined;
  const value: unknown = (event as Record<string, unknown>)[key];
  return typeof value === "string" ? value : undefined;
}

function booleanField(event: unknown, key: string): boolean | undefined {
  if (typeof event !== "object" || event === null || !(key in event)) return undefined;
  const value: unknown = (event as Record<string, unknown>)[key];
  return typeof value === "boolean" ? value : undefined;
}

function defaultEnvironment(): EnvironmentEvents | null {
  const g = globalThis as { addEventListener?: unknown; removeEventListener?: unknown };
  if (typeof g.addEventListener !== "function" || typeof g.removeEventListener !== "function") return null;
  return globalThis as unknown as EnvironmentEvents;
}

type Timer = ReturnType<typeof setTimeout>;
type Interval = ReturnType<typeof setInterval>;

export class SwitchboardClient extends Emitter<SwitchboardEvents> {
  readonly #url: string | URL;
  readonly #staticToken: string | undefined;
  readonly #getToken: ((request: TokenRequest) => string | Promise<string>) | undefined;
  readonly #auth: AuthTransport;
  readonly #createWebSocket: WebSocketFactory;
  readonly #heartbeat: Required<HeartbeatOptions> | false;
  readonly #backoff: ResolvedBackoff;
  readonly #ackDelayMs: number;
  readonly #connectTimeoutMs: number;
  readonly #storage: SeqStorage | undefined;
  readonly #storagePrefix: string;
  readonly #random: () => number;
  readonly #environment: EnvironmentEvents | null;

  #state: ConnectionState = "connecting";
  #device: string | undefined;
  #ws: WebSocketLike | undefined;
  #welcome: WelcomeFrame | undefined;
  #sinceSent: number | undefined;
  #lastSeq: number | undefined;
  #ackedSeq = 0;
  /**
   * A live-only message arrived since the last ack. The server closes (4008) a
   * session that receives MAX_SESSION_BACKLOG bytes without a frame back, so
   * the ack doubles as "still reading" even when no seq moved.
   */
  #unackedLive = false;
  #storageKey: string | undefined;
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
  #pingTimer: Interval | undefined;
  #pongTimer: Timer | undefined;
  #ackTimer: Timer | undefined;

  readonly #onOnline = (): void => {
    if (this.#reconnectTimer !== undefined) {
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = undefined;
      void this.#connect();
    } else if (this.#state === "open") {
      // A network change (wifi → cellular) can leave a socket that looks open
      // but is dead; probing now beats waiting for the next heartbeat.
      this.#ping();
    }
  };
  readonly #onPageHide = (): void => this.#flushAck();

  constructor(options: ConnectOptions) {
    super();
    if ((options.token === undefined) === (options.getToken === undefined)) {
      throw new TypeError("switchboard: pass exactly one of token and getToken");
    }
    if (options.device !== undefined && !DEVICE_RE.test(options.device)) {
      throw new TypeError("switchboard: device must be 1-64 characters of A-Z a-z 0-9 . _ : @ -");
    }
    if (options.since !== undefined && !(Number.isSafeInteger(options.since) && options.since >= 0)) {
      throw new TypeError("switchboard: since must be an integer from 0 to 2^53-1");
    }
    this.#url = options.url;
    this.#staticToken = options.token;
    this.#getToken = options.getToken;
    this.#device = options.device;
    this.#auth = options.auth ?? (isNodeLike() ? "header" : "protocol");
    this.#createWebSocket = options.createWebSocket ?? defaultWebSocketFactory;
    this.#heartbeat =
      options.heartbeat === false
        ? false
        : { intervalMs: options.heartbeat?.intervalMs ?? 25_000, timeoutMs: options.heartbeat?.timeoutMs ?? 10_000 };
    this.#backoff = resolveBackoff(options.backoff);
    this.#ackDelayMs = options.ackDelayMs ?? 1000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
    this.#storage = options.storage;
    this.#storagePrefix = options.storagePrefix ?? "switchboard.seq";
    this.#random = options.random ?? Math.random;
    this.#environment = options.environment === undefined ? defaultEnvironment() : options.environment;
    this.#lastSeq = options.since;

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
    return this.#lastSeq;
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
    if (this.#state === "closed") return;
    this.#flushAck();
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

    this.#loadStoredSeq(token);
    this.#sinceSent = this.#lastSeq;
    const url = this.#connectUrl(token);
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
      this.#socketEnded(numberField(event, "code") ?? CloseCode.Abnormal, stringField(event, "reason") ?? "", booleanField(event, "wasClean") ?? false);
    };
    this.#connectTimer = setTimeout(() => this.#abandon("connect timeout"), this.#connectTimeoutMs);
  }

  #connectUrl(token: string): string {
    const location = (globalThis as { location?: { href?: unknown } }).location;
    const url = new URL(String(this.#url), typeof location?.href === "string" ? location.href : undefined);
    if (url.protocol === "http:") url.protocol = "ws:";
    else if (url.protocol === "https:") url.protocol = "wss:";
    if (!url.pathname.endsWith(CONNECT_PATH)) url.pathname = `${url.pathname.replace(/\/+$/, "")}${CONNECT_PATH}`;
    if (this.#device !== undefined) url.searchParams.set("device", this.#device);
    if (this.#sinceSent !== undefined) url.searchParams.set("since", String(this.#sinceSent));
    if (this.#auth === "query") url.searchParams.set("token", token);
    return url.toString();
  }

  #loadStoredSeq(token: string): void {
    if (this.#storage === undefined || this.#device === undefined) return;
    const userId = jwtSubject(token);
    if (userId === undefined) {
      this.#storageKey = undefined;
      return;
    }
    const key = storageKey(this.#storagePrefix, userId, this.#device);
    if (key === this.#storageKey) return;
    this.#storageKey = key;
    const stored = readSeq(this.#storage, key);
    if (stored !== undefined && (this.#lastSeq === undefined || stored > this.#lastSeq)) this.#lastSeq = stored;
  }

  // ---- socket events ----

  #onSocketOpen(ws: WebSocketLike): void {
    if (this.#ws !== ws || this.#heartbeat === false) return;
    this.#pingTimer = setInterval(() => this.#ping(), this.#heartbeat.intervalMs);
  }

  #ping(): void {
    const ws = this.#ws;
    if (ws === undefined || ws.readyState !== OPEN || this.#heartbeat === false) return;
    try {
      ws.send(PING);
    } catch {
      return;
    }
    // Browsers answer protocol-level pings without telling the page, so only
    // an application-level pong proves the path still works both ways.
    this.#pongTimer ??= setTimeout(() => this.#abandon("heartbeat timeout"), this.#heartbeat.timeoutMs);
  }

  #onSocketMessage(ws: WebSocketLike, event: unknown): void {
    if (this.#ws !== ws) return;
    // Any frame proves the connection alive, not just a pong.
    if (this.#pongTimer !== undefined) {
      clearTimeout(this.#pongTimer);
      this.#pongTimer = undefined;
    }
    const data = typeof event === "object" && event !== null && "data" in event ? event.data : undefined;
    if (data === PONG) return;
    if (typeof data !== "string") {
      this.emit("error", new SwitchboardError("protocol", "unexpected non-text frame"));
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      this.emit("error", new SwitchboardError("protocol", "frame is not JSON"));
      return;
    }
    const frame = parseServerFrame(parsed);
    if (frame === undefined) {
      this.emit("error", new SwitchboardError("protocol", "frame does not match the protocol"));
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
      case "error":
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
    if (!frame.recovered && this.#lastSeq !== undefined && this.#lastSeq > frame.head) {
      // Asked to resume beyond head: the user's log was reset. Seqs restart
      // from head + 1 and must not be dropped as duplicates of the old ones.
      this.#lastSeq = frame.head;
      this.#persist();
    }
    this.#ackedSeq = Math.min(this.#ackedSeq, frame.head);
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
    this.#scheduleAck();
  }

  #onMessage(frame: MessageFrame): void {
    if (frame.seq !== null) {
      // Replay and live delivery can overlap around a reconnect (and a resume
      // point may be older than what the app already has): seq is the truth.
      if (this.#lastSeq !== undefined && frame.seq <= this.#lastSeq) return;
      this.#lastSeq = frame.seq;
    } else {
      this.#unackedLive = true;
    }
    this.#scheduleAck();
    this.emit("message", { id: frame.id, seq: frame.seq, data: frame.data, sentAt: frame.sentAt });
  }

  // ---- acks ----

  #scheduleAck(): void {
    if (this.#state !== "open" || this.#ackTimer !== undefined) return;
    if (!this.#unackedLive && (this.#lastSeq === undefined || this.#lastSeq <= this.#ackedSeq)) return;
    // A throttle, not a debounce: under a steady stream a debounce would never fire.
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = undefined;
      this.#flushAck();
    }, this.#ackDelayMs);
  }

  #flushAck(): void {
    if (this.#ackTimer !== undefined) {
      clearTimeout(this.#ackTimer);
      this.#ackTimer = undefined;
    }
    this.#persist();
    // With no stored message seen yet, 0 acks nothing and still says "reading".
    const seq = this.#lastSeq ?? 0;
    const ws = this.#ws;
    if ((seq <= this.#ackedSeq && !this.#unackedLive) || ws === undefined || ws.readyState !== OPEN || this.#welcome === undefined) return;
    try {
      ws.send(encodeAck(seq));
      this.#ackedSeq = Math.max(this.#ackedSeq, seq);
      this.#unackedLive = false;
    } catch {
      // The socket is going away; the next connection acks instead.
    }
  }

  #persist(): void {
    if (this.#storage !== undefined && this.#storageKey !== undefined && this.#lastSeq !== undefined) {
      writeSeq(this.#storage, this.#storageKey, this.#lastSeq);
    }
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
    const ws = this.#ws;
    if (ws !== undefined) detach(ws);
    this.#persist();
    this.#clearSocketTimers();
    this.#ws = undefined;
    const lived = this.#welcomedAt !== undefined ? Date.now() - this.#welcomedAt : 0;
    this.#welcome = undefined;
    this.#welcomedAt = undefined;
    if (this.#state === "closed") return;
    if (lived >= this.#backoff.resetAfterMs) this.#attempt = 0;

    if (code === CloseCode.Kicked) {
      this.#finish();
      this.emit("close", { code, reason, wasClean, willReconnect: false });
      return;
    }
    if (code === CloseCode.PolicyViolation) {
      if (this.#getToken === undefined) {
        this.#finish();
        this.emit("close", { code, reason, wasClean, willReconnect: false });
        return;
      }
      this.#rejectedToken = this.#token;
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
    for (const t of [this.#connectTimer, this.#pongTimer, this.#ackTimer]) if (t !== undefined) clearTimeout(t);
    if (this.#pingTimer !== undefined) clearInterval(this.#pingTimer);
    this.#connectTimer = this.#pongTimer = this.#ackTimer = undefined;
    this.#pingTimer = undefined;
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

/**
 * Stop listening to a socket we are done with. No-ops rather than null: the
 * `ws` package throws an unhandled 'error' event when no listener is left.
 */
function detach(ws: WebSocketLike): void {
  ws.onopen = noop;
  ws.onmessage = noop;
  ws.onerror = noop;
  ws.onclose = noop;
}

/** Connect now and keep connected until close(); see ConnectOptions. */
export function connect(options: ConnectOptions): SwitchboardClient {
  return new SwitchboardClient(options);
}
