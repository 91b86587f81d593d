/**
 * What a native (switchboard.v1) client may send once the hub's per-socket
 * checks have passed (session known, frame budget, liveness): a text ack.
 * The Pusher dialect's counterpart is src/pusher/socket.ts (onPusherFrame).
 * Never throws for bad input: the client gets an error frame or a close.
 */
import { CloseCode, encodeError, exceedsFrameLimit, FrameError, MAX_CLIENT_FRAME_BYTES, parseClientFrame, PING, PONG } from "../protocol";
import type { MessageLog } from "../hub/log";
import type { Session } from "../hub/session";
import { tryClose, trySend } from "../hub/sockets";

/** Highest ack seen per socket while awake: a repeated ack costs no row write. */
const acked = new WeakMap<WebSocket, number>();

export function onNativeMessage(ws: WebSocket, session: Session, message: string | ArrayBuffer, log: MessageLog, now: number): void {
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
  // The only client frame today is the cumulative ack.
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
