/**
 * Close codes and what a client does after each, as data: the client SDK
 * reads its reconnect decision from CLOSE_CODES, and docs/protocol.md lists
 * the same table. 1005, 1006 and 1015 are reserved (RFC 6455 §7.4.1): never
 * sent, never echoed.
 */

export const CloseCode = {
  /** Normal close. Reconnect only if the app still wants a connection. */
  Normal: 1000,
  /** The server is shutting down or restarting (RFC 6455 §7.4.1, `npm run serve`'s drain). Reconnect with backoff and resume with since. */
  GoingAway: 1001,
  /**
   * Never sent on the wire (RFC 6455 §7.4.1). The client SDK reports it when it
   * gave up on a connection itself: heartbeat or connect timeout, network failure.
   */
  Abnormal: 1006,
  /** Token expired or otherwise unacceptable. Reconnect with a fresh token. */
  PolicyViolation: 1008,
  /** A client frame over MAX_CLIENT_FRAME_BYTES. A client bug: reconnect with backoff. */
  MessageTooBig: 1009,
  /** Server error. Reconnect with backoff. */
  InternalError: 1011,
  /** Closed through the server API (kick). Do not reconnect. */
  Kicked: 4001,
  /** No heartbeat or frame for STALE_AFTER seconds. Reconnect with backoff. */
  Stale: 4002,
  /**
   * An `auth` frame's token was refused (invalid, expired, or for another
   * user): the session ends. Reconnect with a fresh token, never that one.
   */
  TokenRefused: 4003,
  /**
   * The client stopped reading: over MAX_SESSION_BACKLOG bytes were sent to it
   * with no frame back for 10 s. Reconnect with backoff and resume with since.
   */
  TooSlow: 4008,
  /** The client sent frames faster than allowed. Reconnect with backoff. */
  RateLimited: 4029,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * - `backoff`: reconnect after a full-jitter delay and resume with since.
 * - `with-fresh-token`: reconnect only with a token other than the refused one (getToken).
 * - `never`: the server meant it; stay closed.
 */
export type ReconnectAdvice = "backoff" | "with-fresh-token" | "never";

export interface CloseCodeInfo {
  name: keyof typeof CloseCode;
  reconnect: ReconnectAdvice;
}

export const CLOSE_CODES: { readonly [C in CloseCode]: CloseCodeInfo } = {
  [CloseCode.Normal]: { name: "Normal", reconnect: "backoff" },
  [CloseCode.GoingAway]: { name: "GoingAway", reconnect: "backoff" },
  [CloseCode.Abnormal]: { name: "Abnormal", reconnect: "backoff" },
  [CloseCode.PolicyViolation]: { name: "PolicyViolation", reconnect: "with-fresh-token" },
  [CloseCode.MessageTooBig]: { name: "MessageTooBig", reconnect: "backoff" },
  [CloseCode.InternalError]: { name: "InternalError", reconnect: "backoff" },
  [CloseCode.Kicked]: { name: "Kicked", reconnect: "never" },
  [CloseCode.Stale]: { name: "Stale", reconnect: "backoff" },
  [CloseCode.TokenRefused]: { name: "TokenRefused", reconnect: "with-fresh-token" },
  [CloseCode.TooSlow]: { name: "TooSlow", reconnect: "backoff" },
  [CloseCode.RateLimited]: { name: "RateLimited", reconnect: "backoff" },
};

/** The advice for any code a socket closed with; one this table does not know (a proxy's, a newer server's) is retried with backoff. */
export function reconnectAdvice(code: number): ReconnectAdvice {
  return (CLOSE_CODES as Partial<Record<number, CloseCodeInfo>>)[code]?.reconnect ?? "backoff";
}

/**
 * Sent by the client SDK when it abandons a socket that is still open as far
 * as the runtime knows (no pong). 4000-4999 is private use; the server ignores it.
 */
export const CLIENT_GIVE_UP_CODE = 4000;
