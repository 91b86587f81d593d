/**
 * Socket helpers that never throw: a WebSocket handler that throws loses the
 * rest of its work, and `send`/`close` throw on sockets that are already closing.
 */
import { CloseCode } from "@switchboard/protocol";

/** WebSocket.OPEN; the constant is not on the global in every runtime version. */
const OPEN = 1;

export function isOpen(ws: WebSocket): boolean {
  return ws.readyState === OPEN;
}

/** Send if open; report whether the frame was handed to the socket. */
export function trySend(ws: WebSocket, frame: string | ArrayBuffer): boolean {
  if (ws.readyState !== OPEN) return false;
  try {
    ws.send(frame);
    return true;
  } catch {
    return false;
  }
}

/**
 * Codes an endpoint must never send (RFC 6455 §7.4.1): 1004 (reserved, no
 * meaning yet), 1005 "no status", 1006 "abnormal", 1015 "TLS failure".
 * workerd's close() throws on each, so a client that closed with one would
 * never get its close answered (fuzz finding for 1004).
 */
const RESERVED = new Set([1004, 1005, 1006, 1015]);

/** A code that is legal to send back when reciprocating the peer's close. */
export function echoableCode(code: number): number {
  if (RESERVED.has(code)) return CloseCode.Normal;
  if (code === 1000 || (code >= 1001 && code <= 1014) || (code >= 3000 && code <= 4999)) return code;
  return CloseCode.Normal;
}

/** Bytes of a close reason we send: within the 123 that RFC 6455 §5.5 leaves beside the code. */
const MAX_REASON_BYTES = 120;

/**
 * The reason cut to MAX_REASON_BYTES of UTF-8 on a character boundary. A cut
 * by UTF-16 length let a reason naming a client's non-ASCII input (a STOMP
 * destination) exceed 123 bytes: workerd's close() then throws, and the
 * socket stayed open after its ERROR.
 */
function closeReason(reason: string): string {
  // At most 3 UTF-8 bytes per UTF-16 unit: short reasons need no encoding.
  if (reason.length * 3 <= MAX_REASON_BYTES) return reason;
  const bytes = new TextEncoder().encode(reason);
  if (bytes.byteLength <= MAX_REASON_BYTES) return reason;
  let end = MAX_REASON_BYTES;
  // Back off continuation bytes (10xxxxxx) to the first byte of the character cut in two.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/** Close, with a legal code and a reason that fits the close frame. */
export function tryClose(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(echoableCode(code), closeReason(reason));
  } catch {
    // Already closed or closing: nothing left to do.
  }
}
