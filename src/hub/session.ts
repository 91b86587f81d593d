/**
 * Per-socket state. It lives in the WebSocket's attachment so that it survives
 * hibernation (the runtime keeps attachments with the socket while the object
 * is evicted); the in-memory copy is only a cache of it.
 */
import { isDevice, isUserId } from "../protocol";
import { readPusherState, type PusherState } from "../pusher/state";

export interface Session {
  sessionId: string;
  userId: string;
  device: string;
  connectedAt: number;
  /** When the client's token expires (ms): the session is closed with 1008 then. */
  expiresAt: number;
  /** Last client frame (ms), written back at most every LAST_SEEN_WRITE_MS. */
  lastFrameAt: number;
  /** Present on Pusher-dialect sockets only (src/pusher/): the socket speaks that protocol. */
  pusher?: PusherState | undefined;
}

/** Writing the attachment costs a serialization; a stale-by-30s value is fine for a 90 s staleness rule. */
export const LAST_SEEN_WRITE_MS = 30_000;

const num = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

/** Read an attachment written by any earlier version of this code; undefined if unusable. */
export function readAttachment(ws: WebSocket): Session | undefined {
  let raw: unknown;
  try {
    raw = ws.deserializeAttachment();
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null) return undefined;
  const a = raw as Record<string, unknown>;
  if (typeof a.sessionId !== "string" || !isUserId(a.userId) || !isDevice(a.device) || !num(a.connectedAt)) {
    return undefined;
  }
  // A Pusher socket whose state is unreadable must not turn into a native one.
  const pusher = a.pusher === undefined ? undefined : readPusherState(a.pusher);
  if (a.pusher !== undefined && pusher === undefined) return undefined;
  return {
    sessionId: a.sessionId,
    userId: a.userId,
    device: a.device,
    connectedAt: a.connectedAt,
    expiresAt: num(a.expiresAt) ? a.expiresAt : Number.POSITIVE_INFINITY,
    lastFrameAt: num(a.lastFrameAt) ? a.lastFrameAt : a.connectedAt,
    ...(pusher === undefined ? {} : { pusher }),
  };
}

export function writeAttachment(ws: WebSocket, session: Session): void {
  ws.serializeAttachment(session satisfies Session);
}

/** Socket tags: getWebSockets(tag) finds a device's or a session's sockets without reading attachments. */
export function deviceTag(device: string): string {
  return `d:${device}`;
}
export function sessionTag(sessionId: string): string {
  return `s:${sessionId}`;
}
