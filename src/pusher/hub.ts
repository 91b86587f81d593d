/**
 * Where the user's object (src/hub/userHub.ts) meets the Pusher dialect: the
 * few decisions the hub asks of it — how to accept a Pusher socket, which
 * heartbeat the runtime answers, which sockets count, which code a Pusher
 * socket is closed with — so the hub itself stays one dialect-free core.
 */
import type { Session } from "../hub/session";
import { writeAttachment } from "../hub/session";
import { isOpen, tryClose, trySend } from "../hub/sockets";
import { CloseCode, exceedsFrameLimit, MAX_CLIENT_FRAME_BYTES, PING, PONG } from "../protocol";
import { pusherConfigFrom } from "./config";
import { encodeConnectionEstablished, encodePusherError, PUSHER_PING, PUSHER_PONG, PusherCode } from "./protocol";
import { isPusherSession, newPusherSession, onPusherFrame, type PusherSession } from "./socket";
import { PUSHER_TAG, pusherCloseCode } from "./state";

export { PUSHER_CONNECT_HEADER, PUSHER_DIALECT } from "./connect";
export { isCounted } from "./socket";

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
 * must plan its alarm afterwards (the session's expiresAt is the auth deadline).
 */
export function acceptPusher(
  ctx: DurableObjectState,
  userId: string,
  now: number,
  staleAfterMs: number,
  tags: (session: Session) => string[],
): { response: Response; ws: WebSocket; session: PusherSession } {
  const { 0: client, 1: server } = new WebSocketPair();
  const session = newPusherSession(userId, now);
  ctx.acceptWebSocket(server, [...tags(session), PUSHER_TAG]);
  writeAttachment(server, session);
  server.send(encodeConnectionEstablished(session.pusher.socketId, activityTimeoutS(staleAfterMs)));
  chooseHeartbeat(ctx);
  return { response: new Response(null, { status: 101, webSocket: client }), ws: server, session };
}

/**
 * The runtime answers one request/response pair per object without waking it
 * (setWebSocketAutoResponse). Pusher heartbeats get it when every open socket
 * of the user speaks Pusher; otherwise native heartbeats keep it and a
 * Pusher ping wakes the object (answered in onPusherMessage). Measured cost:
 * docs/pusher.md, "Heartbeats".
 */
export function chooseHeartbeat(ctx: DurableObjectState): void {
  const open = ctx.getWebSockets().filter(isOpen).length;
  const pusher = ctx.getWebSockets(PUSHER_TAG).filter(isOpen).length;
  const [request, response] = open > 0 && pusher === open ? [PUSHER_PING, PUSHER_PONG] : [PING, PONG];
  if (ctx.getWebSocketAutoResponse()?.request === request) return;
  ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(request, response));
}

/** Open Pusher sockets that have not authenticated yet: the hub leaves them out of presence and stats. */
export function unauthenticated(ctx: DurableObjectState, sessionOf: (ws: WebSocket) => Session | undefined): number {
  let n = 0;
  for (const ws of ctx.getWebSockets(PUSHER_TAG)) {
    if (isOpen(ws) && sessionOf(ws)?.pusher?.authed !== true) n++;
  }
  return n;
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
const SERVER_PING = '{"event":"pusher:ping","data":{}}';
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
 * A frame from a Pusher socket, after the hub's frame budget. Resolves to
 * true when the socket just authenticated (the hub then re-counts). Never throws.
 */
export async function onPusherMessage(ws: WebSocket, session: Session, message: string | ArrayBuffer, env: object): Promise<boolean> {
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
