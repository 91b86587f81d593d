/**
 * What a native (switchboard.v1) client may send once the hub's per-socket
 * checks have passed (session known, frame budget, liveness): a text ack, or
 * a fresh token (tokenRefresh.ts).
 * The Pusher dialect's counterpart is src/pusher/socket.ts (onPusherFrame).
 * Never throws for bad input: the client gets an error frame or a close.
 */
import { CloseCode, encodeError, exceedsFrameLimit, FrameError, MAX_CLIENT_FRAME_BYTES, parseClientFrame, PING, PONG } from "@switchboard/protocol";
import type { HubServices } from "../hub/dialect";
import type { Session } from "../hub/session";
import { tryClose, trySend } from "../hub/sockets";
import { refreshSession } from "./tokenRefresh";

/** Highest ack seen per socket while awake: a repeated ack costs no row write. */
const acked = new WeakMap<WebSocket, number>();

export async function onNativeMessage(ws: WebSocket, session: Session, message: string | ArrayBuffer, hub: HubServices): Promise<void> {
  if (typeof message !== "string") {
    if (message.byteLength > MAX_CLIENT_FRAME_BYTES) tryClose(ws, CloseCode.MessageTooBig, "frame too large");
    else trySend(ws, encodeError(FrameError.Binary, "binary frames are not supported"));
    return;
  }
  if (exceedsFrameLimit(message)) {
    tryClose(ws, CloseCode.MessageTooBig, "frame too large");
    return;
  }
  // A "ping" that reached us was sent while the object was awake in a way
  // the auto-response did not catch; answer it the same.
  if (message === PING) {
    trySend(ws, PONG);
    return;
  }
  const parsed = parseClientFrame(message);
  if (!parsed.ok) {
    trySend(ws, encodeError(parsed.code, parsed.message));
    return;
  }
  if (parsed.frame.type === "auth") {
    const outcome = await refreshSession(ws, session, parsed.frame.token, hub.config);
    if (outcome === "refreshed") hub.expiryChanged();
    else if (outcome === "refused") hub.sessionsChanged();
    return;
  }
  const { log, now } = hub;
  if (parsed.frame.seq > log.head) {
    trySend(ws, encodeError(FrameError.BadAck, `ack.seq is beyond head (${log.head})`));
    return;
  }
  // The SDK also acks to say "still reading" while it receives live-only
  // messages; an ack that moves nothing needs no write.
  if (parsed.frame.seq > (acked.get(ws) ?? -1)) {
    acked.set(ws, parsed.frame.seq);
    log.ack(session.device, parsed.frame.seq, now);
  }
}
