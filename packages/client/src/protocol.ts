/**
 * The parts of the wire contract (API.md) the client needs. The server's
 * src/protocol.ts takes its frame types from here; the constants are repeated
 * there rather than imported (the server's carry its own policy notes), and a
 * unit test keeps the two in step. This module must stay free of dependencies:
 * the SDK ships with none.
 */

export const SUBPROTOCOL = "switchboard.v1";
export const BEARER_PROTOCOL_PREFIX = "bearer.";
export const CONNECT_PATH = "/v1/connect";
export const PING = "ping";
export const PONG = "pong";

/** Close codes the server sends, and what the SDK does after each. */
export const CloseCode = {
  /** Normal close: reconnect with backoff unless the app closed the client. */
  Normal: 1000,
  /** The server is stopping or restarting (`npm run serve`'s drain): reconnect with backoff and resume. */
  GoingAway: 1001,
  /**
   * Never sent on the wire (RFC 6455 §7.4.1). The SDK reports it when it gave
   * up on a connection itself: heartbeat or connect timeout, network failure.
   */
  Abnormal: 1006,
  /** Token expired or refused: reconnect only with a fresh token. */
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  InternalError: 1011,
  /** Closed through the server API: never reconnect. */
  Kicked: 4001,
  Stale: 4002,
  /** The server saw no frame from us while it sent MAX_SESSION_BACKLOG bytes (we weren't reading). */
  TooSlow: 4008,
  /**
   * A token sent on an open session (`auth` frame) was refused: invalid,
   * expired, or for another user. The session is closed; reconnect with a
   * fresh token from getToken, never with the refused one.
   */
  TokenRefused: 4003,
  RateLimited: 4029,
} as const;

/**
 * Sent by the SDK when it abandons a socket that is still open as far as the
 * browser knows (no pong). 4000-4999 is private use; the server ignores it.
 */
export const CLIENT_GIVE_UP_CODE = 4000;

export interface WelcomeFrame {
  type: "welcome";
  sessionId: string;
  userId: string;
  device: string;
  head: number;
  recovered: boolean;
  /**
   * The heartbeat cadence, in seconds: the longest the client may stay silent.
   * It pings after this much silence in both directions. Absent from servers
   * older than the field (then the client keeps its own default).
   */
  heartbeat?: number;
}

/** The answer to an `auth` frame the server accepted: the session now ends at `expiresAt` (ms since the epoch). */
export interface RefreshedFrame {
  type: "refreshed";
  expiresAt: number;
}

export interface MessageFrame {
  type: "message";
  id: string;
  /** null for live-only pushes (ttl 0): never stored, never replayed. */
  seq: number | null;
  sentAt: number;
  /** What the message is, when the push named it. */
  event?: string;
  data: unknown;
}

export interface ErrorFrame {
  type: "error";
  code: string;
  message: string;
}

export type ServerFrame = WelcomeFrame | MessageFrame | RefreshedFrame | ErrorFrame;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const isSeq = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * Narrow a parsed frame. Anything that does not match the contract exactly is
 * undefined, so a server bug or a proxy mangling frames surfaces as an `error`
 * event instead of a half-typed object deep in the app.
 */
export function parseServerFrame(value: unknown): ServerFrame | undefined {
  if (!isRecord(value)) return undefined;
  switch (value.type) {
    case "welcome": {
      const { sessionId, userId, device, head, recovered, heartbeat } = value;
      if (
        typeof sessionId === "string" &&
        typeof userId === "string" &&
        typeof device === "string" &&
        isSeq(head) &&
        typeof recovered === "boolean" &&
        (heartbeat === undefined || (Number.isSafeInteger(heartbeat) && (heartbeat as number) >= 1))
      ) {
        const frame: WelcomeFrame = { type: "welcome", sessionId, userId, device, head, recovered };
        if (typeof heartbeat === "number") frame.heartbeat = heartbeat;
        return frame;
      }
      return undefined;
    }
    case "message": {
      const { id, seq, sentAt, event, data } = value;
      if (typeof id === "string" && (seq === null || (isSeq(seq) && seq >= 1)) && typeof sentAt === "number" && "data" in value) {
        if (typeof event === "string") return { type: "message", id, seq, sentAt, event, data };
        return { type: "message", id, seq, sentAt, data };
      }
      return undefined;
    }
    case "refreshed": {
      const { expiresAt } = value;
      if (typeof expiresAt === "number" && Number.isFinite(expiresAt)) return { type: "refreshed", expiresAt };
      return undefined;
    }
    case "error": {
      const { code, message } = value;
      if (typeof code === "string" && typeof message === "string") return { type: "error", code, message };
      return undefined;
    }
    default:
      return undefined;
  }
}

/** A received frame's data: the frame, PONG, or why it is off contract (a message for the `error` event). */
// oxlint-disable-next-line typescript/no-redundant-type-constituents -- PONG is named for the reader: every other string is an error message.
export function decodeServerFrame(data: unknown): ServerFrame | typeof PONG | string {
  if (data === PONG) return PONG;
  if (typeof data !== "string") return "unexpected non-text frame";
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return "frame is not JSON";
  }
  return parseServerFrame(parsed) ?? "frame does not match the protocol";
}

export function encodeAck(seq: number): string {
  return JSON.stringify({ type: "ack", seq });
}

/** A fresh token for the same user, sent on an open session: it moves the session's end to the token's `exp`. */
export interface AuthFrame {
  type: "auth";
  token: string;
}

export function encodeAuth(token: string): string {
  return JSON.stringify({ type: "auth", token } satisfies AuthFrame);
}

/** Client frames are limited to this many UTF-8 bytes (the server closes 1009 beyond). */
export const MAX_CLIENT_FRAME_BYTES = 4096;

/**
 * The connect URL from the service's URL (or the connect URL itself),
 * resolved against the page's location in browsers; http(s) becomes ws(s).
 */
export function connectUrl(base: string | URL, params: { device: string | undefined; since: number | undefined; token: string | undefined }): string {
  const location = (globalThis as { location?: { href?: unknown } }).location;
  const url = new URL(String(base), typeof location?.href === "string" ? location.href : undefined);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  if (!url.pathname.endsWith(CONNECT_PATH)) url.pathname = `${url.pathname.replace(/\/+$/, "")}${CONNECT_PATH}`;
  if (params.device !== undefined) url.searchParams.set("device", params.device);
  if (params.since !== undefined) url.searchParams.set("since", String(params.since));
  if (params.token !== undefined) url.searchParams.set("token", params.token);
  return url.toString();
}
