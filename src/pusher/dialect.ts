/**
 * The Pusher dialect as the hub sees it (src/hub/dialect.ts): a socket is
 * accepted unauthenticated (the Worker cannot check a Pusher upgrade), greeted
 * with `pusher:connection_established`, and becomes a session at its first
 * valid signin or per-user subscription (socket.ts), within the auth deadline.
 */
import { cadenceOf } from "../hub/cadence";
import type { Dialect, HubServices } from "../hub/dialect";
import { tryClose, trySend } from "../hub/sockets";
import { CloseCode, exceedsFrameLimit, MAX_CLIENT_FRAME_BYTES } from "@switchboard/protocol";
import { pusherConfigFrom } from "./config";
import { pusherEncoder } from "./deliver";
import { encodeConnectionEstablished, encodePusherError, PUSHER_PING, PUSHER_PONG, PusherCode } from "./protocol";
import { isCounted, newPusherSession, onPusherFrame, type PusherSession } from "./socket";
import { PUSHER_DIALECT, pusherCloseCode, readPusherState, type PusherState } from "./state";

/**
 * pusher-js sends nothing while it keeps receiving: every frame resets its
 * activity timer, so it never pings. Two things need a frame back from it,
 * and a server's `pusher:ping`, which pusher-js answers with `pusher:pong`,
 * gets one:
 * - staleness: a socket the hub has not heard from for STALE_AFTER is taken
 *   for a vanished client (closed 4201) however much it was sent, so ping a
 *   receiving socket once it has been silent for the cadence (STALE_AFTER is
 *   at least twice that), at most once per cadence;
 * - the slow-consumer guard (src/hub/sendBacklog.ts) needs proof that a
 *   client reads: ping once per quarter of MAX_SESSION_BACKLOG sent
 *   unanswered, so a reading client is never taken for a stalled one.
 * Both are kept in memory only: an object that hibernated forgets them, and
 * the worst that costs is one ping more.
 */
const unanswered = new WeakMap<WebSocket, number>();
const pingedAt = new WeakMap<WebSocket, number>();
/** The server's ping: the same bytes pusher-js sends (protocol.ts). */
const SERVER_PING = PUSHER_PING;

/** Has the client been silent for a whole cadence (since it was last heard, or last pinged)? */
function silentForCadence(ws: WebSocket, session: PusherSession, hub: HubServices): boolean {
  const limit = hub.now - cadenceOf(hub.config).silenceMs;
  const pinged = pingedAt.get(ws) ?? 0;
  // This runs on every delivery: the attachment and the last ping usually settle it, so the
  // runtime's heartbeat timestamp is read only when they don't (as hub/liveness.ts does).
  if (Math.max(session.lastFrameAt, session.connectedAt, pinged) > limit) return false;
  return Math.max(hub.lastHeardAt(ws, session), pinged) <= limit;
}

/** Did `bytes` more, sent unanswered, cross a quarter of MAX_SESSION_BACKLOG? */
function crossedBacklogQuarter(ws: WebSocket, bytes: number, hub: HubServices): boolean {
  const limitBytes = hub.config.maxSessionBacklogBytes;
  if (limitBytes === 0) return false;
  const before = unanswered.get(ws) ?? 0;
  const after = before + bytes;
  unanswered.set(ws, after);
  const quarter = limitBytes / 4;
  return Math.floor(after / quarter) > Math.floor(before / quarter);
}

export const pusherDialect: Dialect<PusherState> = {
  name: PUSHER_DIALECT,
  authenticatesInBand: true,
  deadlineReason: "no signin or subscription in time",
  // Measured cost of the choice between this pair and the native one: docs/pusher.md, "Heartbeats".
  heartbeat: { request: PUSHER_PING, response: PUSHER_PONG },

  newSession: (params, now) => newPusherSession(params.userId, now),

  opened(ws, session, _params, hub) {
    // activity_timeout is the deployment's cadence: pusher-js pings after min(its own
    // activityTimeout, 120 s by default, this) seconds of silence; STALE_AFTER is at least twice it.
    ws.send(encodeConnectionEstablished(session.state.socketId, cadenceOf(hub.config).silenceS));
  },

  readState: readPusherState,
  isCounted,

  async onMessage(ws, session, message, hub) {
    if (await pusherFrame(ws, session, message, hub.env)) hub.sessionsChanged();
  },

  encoder: pusherEncoder,

  afterSend(ws, session, _message, bytes, hub) {
    // Both checks run: the backlog count must move on every send.
    const crossed = crossedBacklogQuarter(ws, bytes, hub);
    if (!silentForCadence(ws, session, hub) && !crossed) return;
    pingedAt.set(ws, hub.now);
    trySend(ws, SERVER_PING);
  },

  // pusher-js reads the code as advice (whether to reconnect): the hub's codes become Pusher's.
  close: (ws, _session, code, reason) => tryClose(ws, pusherCloseCode(code), reason),
};

/** One frame; resolves to true when the socket just authenticated (the hub then re-counts). Never throws. */
async function pusherFrame(ws: WebSocket, session: PusherSession, message: string | ArrayBuffer, env: object): Promise<boolean> {
  unanswered.delete(ws);
  const tooBig = typeof message === "string" ? exceedsFrameLimit(message) : message.byteLength > MAX_CLIENT_FRAME_BYTES;
  if (tooBig) {
    tryClose(ws, CloseCode.MessageTooBig, "frame too large");
    return false;
  }
  if (typeof message !== "string") {
    trySend(ws, encodePusherError(null, "binary frames are not supported"));
    return false;
  }
  const config = pusherConfigFrom(env);
  if (!config.ok || config.config === undefined) {
    // The Worker accepts Pusher sockets only when configured; the config went away since.
    tryClose(ws, PusherCode.Unauthorized, "the Pusher dialect is not configured");
    return false;
  }
  return onPusherFrame(ws, session, message, config.config);
}
