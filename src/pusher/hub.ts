/**
 * Where the user's object (src/hub/userHub.ts) meets the Pusher dialect: the
 * few decisions the hub asks of it — how to accept a Pusher socket, which
 * heartbeat the runtime answers, which sockets count, which code a Pusher
 * socket is closed with — so the hub itself stays one dialect-free core.
 */
import type { Config } from "../config";
import { jsonError } from "../http/errors";
import type { Session } from "../hub/session";
import { deviceTag, sessionTag, writeAttachment } from "../hub/session";
import { isOpen, tryClose, trySend } from "../hub/sockets";
import { CloseCode, exceedsFrameLimit, MAX_CLIENT_FRAME_BYTES, PING, PONG } from "../protocol";
import { pusherConfigFrom } from "./config";
import { encodeConnectionEstablished, encodePusherError, PUSHER_PING, PUSHER_PONG, PusherCode } from "./protocol";
import { PUSHER_CONNECT_HEADER, PUSHER_DIALECT } from "./connect";
import { pusherEventFrameFor, type FrameFor, type PusherEvent } from "./deliver";
import { isPusherSession, newPusherSession, onPusherFrame, type PusherSession } from "./socket";
import { PUSHER_TAG, pusherCloseCode } from "./state";

export { isCounted } from "./socket";
export { nativeFrameFor, type FrameFor, type PusherEvent } from "./deliver";

/** Was this upgrade routed here by the Pusher route (src/pusher/connect.ts)? */
export function isPusherConnect(request: Request): boolean {
  return request.headers.get(PUSHER_CONNECT_HEADER) === PUSHER_DIALECT;
}

/** A Pusher event's encoder, with a fresh message id for native sessions. */
export function eventFrameFor(e: PusherEvent, now: number): FrameFor {
  return pusherEventFrameFor(e, crypto.randomUUID(), now);
}

/**
 * pusher-js pings after min(120 s, activity_timeout) of silence; a third of
 * STALE_AFTER leaves two missed heartbeats before the reaper calls it stale.
 */
export function activityTimeoutS(staleAfterMs: number): number {
  return Math.max(1, Math.min(120, Math.floor(staleAfterMs / 3000)));
}

/**
 * Accept an upgrade the Worker routed here for the Pusher dialect. The
 * session counts nowhere and gets no push until it authenticates; the hub
 * must plan its alarm afterwards (earliestDeadline). Sockets still
 * authenticating count against MAX_SESSIONS_PER_USER here, with the live ones:
 * the Worker cannot authenticate a Pusher upgrade, so this bounds what anyone
 * can open to one user's object.
 */
export function acceptPusher(
  ctx: DurableObjectState,
  userId: string,
  now: number,
  config: Pick<Config, "staleAfterMs" | "maxSessionsPerUser">,
  remember: (ws: WebSocket, session: Session) => void,
): Response {
  const open = ctx.getWebSockets().filter(isOpen).length;
  if (open >= config.maxSessionsPerUser) {
    return jsonError(429, "too_many_sessions", `user already has ${open} sockets (MAX_SESSIONS_PER_USER)`);
  }
  const session = newPusherSession(userId, now);
  const { 0: client, 1: server } = new WebSocketPair();
  ctx.acceptWebSocket(server, [deviceTag(session.device), sessionTag(session.sessionId), PUSHER_TAG]);
  writeAttachment(server, session);
  remember(server, session);
  server.send(encodeConnectionEstablished(session.pusher.socketId, activityTimeoutS(config.staleAfterMs)));
  chooseHeartbeat(ctx);
  return new Response(null, { status: 101, webSocket: client });
}

/** The earliest auth deadline of the Pusher sockets still authenticating (+Infinity if none): the hub's alarm must fire by then. */
export function earliestDeadline(ctx: DurableObjectState, sessionOf: (ws: WebSocket) => Session | undefined): number {
  let next = Number.POSITIVE_INFINITY;
  for (const ws of ctx.getWebSockets(PUSHER_TAG)) {
    const session = isOpen(ws) ? sessionOf(ws) : undefined;
    if (session?.pusher !== undefined && !session.pusher.authed) next = Math.min(next, session.expiresAt);
  }
  return next;
}

/**
 * The runtime answers one request/response pair per object without waking it
 * (setWebSocketAutoResponse). Pusher heartbeats get it when every open socket
 * of the user speaks Pusher; otherwise native heartbeats keep it and a
 * Pusher ping wakes the object (answered in onPusherMessage). Measured cost:
 * docs/pusher.md, "Heartbeats".
 */
/** The request this object instance last set (or found) as its auto-response. */
const heartbeatSet = new WeakMap<DurableObjectState, string>();
export function chooseHeartbeat(ctx: DurableObjectState): void {
  // Every connect and close asks, and most users never open a Pusher socket:
  // with none, the answer is native without listing the others.
  const pusher = ctx.getWebSockets(PUSHER_TAG).filter(isOpen).length;
  const open = pusher === 0 ? 0 : ctx.getWebSockets().filter(isOpen).length;
  const [request, response] = open > 0 && pusher === open ? [PUSHER_PING, PUSHER_PONG] : [PING, PONG];
  // The runtime keeps the pair across hibernation; this instance's memory of it saves the native read.
  if (heartbeatSet.get(ctx) === request) return;
  if (ctx.getWebSocketAutoResponse()?.request !== request) ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(request, response));
  heartbeatSet.set(ctx, request);
}

/**
 * pusher-js sends nothing while it keeps receiving (any frame resets its
 * activity timer, so it never pings), but the hub's slow-consumer guard
 * (src/hub/sendBacklog.ts) needs a frame back as proof that a client reads.
 * pusher-js answers a server's `pusher:ping` with `pusher:pong`: ask once
 * per quarter of MAX_SESSION_BACKLOG sent unanswered, and a reading client
 * is never taken for a stalled one.
 */
const unanswered = new WeakMap<WebSocket, number>();
/** The server's ping: the same bytes pusher-js sends (protocol.ts). */
const SERVER_PING = PUSHER_PING;
export function askForProof(ws: WebSocket, session: Session | undefined, bytes: number, limitBytes: number): void {
  if (session?.pusher === undefined || limitBytes === 0) return;
  const before = unanswered.get(ws) ?? 0;
  const after = before + bytes;
  unanswered.set(ws, after);
  const quarter = limitBytes / 4;
  if (Math.floor(after / quarter) > Math.floor(before / quarter)) trySend(ws, SERVER_PING);
}

/** Close a session for one of the hub's reasons, in the session's dialect (pusher-js reads the code as advice). */
export function closeFor(ws: WebSocket, session: Session | undefined, code: number, reason: string): void {
  tryClose(ws, session?.pusher === undefined ? code : pusherCloseCode(code), reason);
}

/**
 * A frame from a Pusher socket, after the hub's frame budget; `authenticated`
 * runs when the socket just authenticated (the hub then re-counts). Never throws.
 */
export async function onPusherMessage(
  ws: WebSocket,
  session: Session,
  message: string | ArrayBuffer,
  env: object,
  authenticated: () => void,
): Promise<void> {
  if (await pusherFrame(ws, session, message, env)) authenticated();
}

async function pusherFrame(ws: WebSocket, session: Session, message: string | ArrayBuffer, env: object): Promise<boolean> {
  if (!isPusherSession(session)) return false;
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
