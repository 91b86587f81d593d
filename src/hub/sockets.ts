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

/** Close (reasons are truncated to the 123-byte limit of RFC 6455 §5.5). */
export function tryClose(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(echoableCode(code), reason.slice(0, 120));
  } catch {
    // Already closed or closing: nothing left to do.
  }
}
