/**
 * Slow-consumer guard. The Workers runtime gives a server-side WebSocket no
 * `bufferedAmount` (the typings declare it; workerd returns undefined), so a
 * client that stops reading makes every frame sent to it wait in the
 * runtime's memory for as long as the connection lives (measured by the
 * chaos suite: RSS grew ~2–3 bytes per byte pushed to the stalled session).
 *
 * The only proof that a client reads is a frame from it that reaches the
 * object (the SDK acks within a second of receiving anything). Heartbeat
 * pings don't count: the runtime answers them without us, and a client can
 * keep sending while its receive window is full. So: bytes sent to a session
 * since it last sent us a frame, and when the first of those was sent. Over
 * the limit for longer than the grace period, the session is closed with 4008
 * and resumes from its cursor when it reconnects, losing nothing stored.
 *
 * Kept in memory: a socket's count restarts at 0 after hibernation, which
 * only ever delays a close; and hibernation needs a quiet object anyway.
 */
export const BACKLOG_GRACE_MS = 10_000;

interface Backlog {
  bytes: number;
  since: number;
}

export class SendBacklog {
  readonly #bySocket = new WeakMap<WebSocket, Backlog>();

  constructor(private readonly limitBytes: number) {}

  /**
   * Count a frame about to be sent. False when the session has been over its
   * limit for longer than the grace period: close it instead of sending.
   * (A frame's length in UTF-16 units stands in for its bytes; exact for ASCII.)
   */
  admit(ws: WebSocket, frameLength: number, now: number): boolean {
    if (this.limitBytes === 0) return true;
    const backlog = this.#bySocket.get(ws);
    if (backlog === undefined) {
      this.#bySocket.set(ws, { bytes: frameLength, since: now });
      return true;
    }
    if (backlog.bytes > this.limitBytes && now - backlog.since > BACKLOG_GRACE_MS) return false;
    backlog.bytes += frameLength;
    return true;
  }

  /** The client sent a frame: it is reading. */
  heard(ws: WebSocket): void {
    this.#bySocket.delete(ws);
  }
}
