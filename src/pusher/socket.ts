/**
 * The per-socket Pusher state machine: what a Pusher socket's frames do.
 * The hub hands every text frame of a Pusher session here (after its own
 * frame budget and size checks) and learns back only whether the socket just
 * became authenticated (it then counts in presence and stats). Never throws.
 */
import type { Session } from "../hub/session";
import { writeAttachment } from "../hub/session";
import { trySend, tryClose } from "../hub/sockets";
import { isUserId } from "@switchboard/protocol";
import { channelAuth, sameText, userAuth } from "./auth";
import { channelRefusal, serverToUserChannel, userChannel } from "./channels";
import { AUTH_DEADLINE_MS, type PusherConfig } from "./config";
import {
  encodePusherError,
  encodeSigninSuccess,
  encodeSubscriptionError,
  encodeSubscriptionSucceeded,
  parsePusherFrame,
  PUSHER_PING,
  PUSHER_PONG,
  PusherCode,
} from "./protocol";
import { MAX_CHANNELS_PER_SOCKET, newSocketId, PUSHER_DIALECT, type PusherState } from "./state";

export type PusherSession = Session<PusherState>;

/** Counted in presence and stats, and sent pushes: once authenticated. */
export function isCounted(session: PusherSession): boolean {
  return session.state.authed;
}

/**
 * A new Pusher session: its socket_id is its sessionId (so the API's
 * `socket_id` exclusion is the hub's except-session), its device a name of its
 * own (Pusher has no devices), and its expiresAt the auth deadline until it
 * authenticates (the hub's reaper closes expired sessions; 1008 becomes 4009).
 */
export function newPusherSession(userId: string, now: number): PusherSession {
  const socketId = newSocketId();
  return {
    sessionId: socketId,
    userId,
    device: `pusher:${socketId}`,
    connectedAt: now,
    expiresAt: now + AUTH_DEADLINE_MS,
    lastFrameAt: now,
    dialect: PUSHER_DIALECT,
    state: { socketId, signedIn: false, authed: false, channels: [] },
  };
}

function authenticate(ws: WebSocket, session: PusherSession): boolean {
  const first = !session.state.authed;
  session.state.authed = true;
  session.expiresAt = Number.POSITIVE_INFINITY;
  writeAttachment(ws, session);
  return first;
}

/** Handle one text frame; resolves to true when the socket just became authenticated. */
export async function onPusherFrame(ws: WebSocket, session: PusherSession, text: string, config: PusherConfig): Promise<boolean> {
  try {
    // A pusher:ping that reached us (another dialect holds the auto-response): same answer.
    if (text === PUSHER_PING) {
      trySend(ws, PUSHER_PONG);
      return false;
    }
    const parsed = parsePusherFrame(text);
    if (!parsed.ok) {
      trySend(ws, encodePusherError(null, parsed.message));
      return false;
    }
    const frame = parsed.frame;
    switch (frame.event) {
      case "pusher:ping":
        trySend(ws, PUSHER_PONG);
        return false;
      case "pusher:pong":
        return false;
      case "client-event":
        trySend(ws, encodePusherError(PusherCode.ClientEventRejected, `client events are not supported (${frame.name})`));
        return false;
      case "pusher:signin":
        return await signin(ws, session, frame.data.auth, frame.data.user_data, config);
      case "pusher:subscribe":
        return await subscribe(ws, session, frame.data.channel, frame.data.auth ?? "", config);
      case "pusher:unsubscribe": {
        const before = session.state.channels.length;
        session.state.channels = session.state.channels.filter((c) => c !== frame.data.channel);
        if (session.state.channels.length !== before) writeAttachment(ws, session);
        return false;
      }
    }
  } catch (err) {
    console.error("switchboard: pusher frame failed", err);
    trySend(ws, encodePusherError(null, "internal error"));
    return false;
  }
}

async function signin(ws: WebSocket, session: PusherSession, auth: string, userData: string, config: PusherConfig): Promise<boolean> {
  const refuse = (message: string) => {
    trySend(ws, encodePusherError(PusherCode.Unauthorized, message));
    tryClose(ws, PusherCode.Unauthorized, message);
    return false;
  };
  const expected = await userAuth(config.key, config.secret, session.state.socketId, userData);
  if (!sameText(auth, expected)) return refuse("invalid signin: bad auth signature");
  let id: unknown;
  try {
    id = (JSON.parse(userData) as { id?: unknown } | null)?.id;
  } catch {
    return refuse("invalid signin: user_data is not JSON");
  }
  if (!isUserId(id) || id !== session.userId) return refuse("invalid signin: user_data.id is not this connection's user");
  session.state.signedIn = true;
  const first = authenticate(ws, session);
  trySend(ws, encodeSigninSuccess(userData));
  return first;
}

async function subscribe(ws: WebSocket, session: PusherSession, channel: string, auth: string, config: PusherConfig): Promise<boolean> {
  const refuse = (status: 401 | 403, message: string) => {
    trySend(ws, encodeSubscriptionError(channel, status, message));
    return false;
  };
  const refusal = channelRefusal(channel, session.userId, config.userChannels);
  if (refusal !== undefined) return refuse(refusal.status, refusal.message);
  const kind = userChannel(channel, config.userChannels)?.kind;
  if (kind === "server-to-user") {
    // pusher-js subscribes it with auth "" right after signin_success: the signin is its auth.
    if (!session.state.signedIn || channel !== serverToUserChannel(session.userId)) return refuse(401, "sign in first (pusher:signin)");
  } else {
    const expected = await channelAuth(config.key, config.secret, session.state.socketId, channel);
    if (!sameText(auth, expected)) return refuse(401, "invalid channel auth signature");
  }
  if (!session.state.channels.includes(channel)) {
    if (session.state.channels.length >= MAX_CHANNELS_PER_SOCKET) return refuse(403, "too many subscriptions on one socket");
    session.state.channels.push(channel);
  }
  const first = authenticate(ws, session);
  trySend(ws, encodeSubscriptionSucceeded(channel));
  return first;
}
