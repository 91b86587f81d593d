/**
 * A Pusher socket's own state, kept in its attachment under the key "pusher"
 * next to the hub's session fields (so it survives hibernation), and read back
 * defensively.
 */
import { dialectTag } from "../hub/dialect";
import { CloseCode } from "@switchboard/protocol";
import { MAX_CHANNEL_NAME } from "./channels";
import { PusherCode } from "./protocol";

export interface PusherState {
  /** Pusher's socket_id (`\d+.\d+`); also the hub's sessionId for this socket. */
  socketId: string;
  /** A valid pusher:signin was seen. */
  signedIn: boolean;
  /**
   * A valid signin or subscription was seen: from then on the socket receives
   * pushes and counts in presence and stats; before, it has until the session's
   * expiresAt (the auth deadline) and counts nowhere.
   */
  authed: boolean;
  /** Channels subscribed (all of them this user's). */
  channels: string[];
}

/** The dialect's name: its ConnectParams.dialect, and its attachment key (attachments written before the interface used it too). */
export const PUSHER_DIALECT = "pusher";
/** Tag on every Pusher socket (the hub adds it): ctx.getWebSockets(PUSHER_TAG) finds them without reading attachments. */
export const PUSHER_TAG = dialectTag(PUSHER_DIALECT);

/** Subscriptions one socket may hold: more than every per-user channel a deployment could define. */
export const MAX_CHANNELS_PER_SOCKET = 32;

const SOCKET_ID = /^\d{1,20}\.\d{1,20}$/;

export function isSocketId(value: unknown): value is string {
  return typeof value === "string" && SOCKET_ID.test(value);
}

/** `\d+.\d+`, 64 random bits: unique without coordination (the SDKs check the shape, nothing else). */
export function newSocketId(): string {
  const [a = 0, b = 0] = crypto.getRandomValues(new Uint32Array(2));
  return `${a}.${b}`;
}

export function readPusherState(raw: unknown): PusherState | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const p = raw as Record<string, unknown>;
  if (!isSocketId(p.socketId)) return undefined;
  const channels = Array.isArray(p.channels)
    ? p.channels.filter((c): c is string => typeof c === "string" && c.length <= MAX_CHANNEL_NAME).slice(0, MAX_CHANNELS_PER_SOCKET)
    : [];
  return { socketId: p.socketId, signedIn: p.signedIn === true, authed: p.authed === true, channels };
}

/**
 * The code a Pusher socket is closed with when the hub closes it for a reason
 * of its own: pusher-js decides by the code whether to reconnect
 * (protocol.ts getCloseAction), so the hub's native codes are translated to
 * the Pusher code with the same advice.
 */
export function pusherCloseCode(native: number): number {
  switch (native) {
    case CloseCode.Kicked:
    case CloseCode.PolicyViolation:
      return PusherCode.Unauthorized;
    case CloseCode.Stale:
      return PusherCode.PongNotReceived;
    case CloseCode.TooSlow:
    case CloseCode.RateLimited:
      return PusherCode.OverCapacity;
    default:
      return native;
  }
}
