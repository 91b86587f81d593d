/** The SDK's public types: options, events and its one error class. */
import type { BackoffOptions } from "./backoff.ts";
import type { WebSocketFactory } from "./socket.ts";
import type { SeqStorage } from "./storage.ts";

export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

export interface TokenRequest {
  /**
   * "connect" for the first attempt, "reconnect" for later ones, "expired" after the server
   * closed with 1008 or refused a refreshed token (4003), "refresh" ahead of `exp` on an open
   * session (the token must be for the same user and expire later than the current one).
   */
  reason: "connect" | "reconnect" | "expired" | "refresh";
  /** After 1008 or 4003: the token the server refused. Returning it again does not reconnect. */
  rejected?: string;
}

/** How the token travels (docs/protocol.md, "Connect"). */
export type AuthTransport = "protocol" | "header" | "query";

export interface HeartbeatOptions {
  /**
   * A ceiling, in ms, on the silence (no frame either way) after which a `ping` goes out.
   * Default: none — the server's advertised cadence (welcome.heartbeat), or 25 000 with a
   * server too old to advertise one. A longer value than the server's is ignored.
   */
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
  /**
   * Called before every connection attempt, so an expired token is replaced on reconnect,
   * and ahead of the token's `exp` on an open session (reason "refresh"), which then
   * continues with the new token without reconnecting.
   */
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
  /** What the message is, when the push named it (`event`); absent otherwise. */
  event?: string;
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

export type SwitchboardErrorKind = "transport" | "frame" | "protocol" | "token" | "config" | "argument";

/**
 * The code of an option or argument the SDK refused (unknown, wrong type, out
 * of range): thrown by connect(), close(), on()/once()/off(), with kind
 * "argument" and `field` naming it. Nothing was opened, sent or registered.
 */
export const INVALID_ARGUMENT = "invalid_argument";

export class SwitchboardError extends Error {
  override readonly name = "SwitchboardError";
  /**
   * transport: socket error; frame: an `error` frame; protocol: a frame off
   * contract; token: getToken failed; config: cannot connect at all;
   * argument: a call refused at once (thrown, never emitted).
   */
  readonly kind: SwitchboardErrorKind;
  /** The server's error code for `frame` errors (bad_ack, …); `invalid_argument` for `argument` errors. */
  readonly code: string | undefined;
  /** For `argument` errors: the option or argument at fault (`device`, `heartbeat.intervalMs`). */
  readonly field: string | undefined;

  constructor(kind: SwitchboardErrorKind, message: string, options?: { code?: string; field?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.code = options?.code;
    this.field = options?.field;
  }
}

export interface SwitchboardEvents {
  open: OpenEvent;
  message: SwitchboardMessage;
  close: CloseEvent;
  error: SwitchboardError;
  resync: ResyncEvent;
}
