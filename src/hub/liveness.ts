/**
 * Which of a user's open sockets are still sessions. A socket stops being one
 * when its token expires (close 1008), when the client has been silent past
 * STALE_AFTER (close 4002: the client vanished without a close — a half-open
 * TCP connection the runtime still reports as open), or when its attachment
 * is unreadable (close 1011).
 *
 * There is no timer for this by default (docs/cost-model.md: a per-user timer
 * was most of an idle user's bill). The object sweeps whenever it is awake
 * anyway — connect, push, presence, kick, frames, audits and alarms — so a
 * half-open session never blocks a connect, never counts as delivered and
 * never appears in presence. What is not woken keeps counting it in
 * /v1/stats until its shard's next audit (STATS_AUDIT_INTERVAL).
 */
import { CloseCode } from "@switchboard/protocol";
import type { Session } from "./session";
import { isOpen, tryClose } from "./sockets";
import { dialectTag, type Dialects } from "./dialect";

export interface LiveSession {
  ws: WebSocket;
  session: Session;
}

export interface SweepInput {
  now: number;
  staleAfterMs: number;
  dialects: Dialects;
  sessionOf(ws: WebSocket): Session | undefined;
  /** The runtime's record of the last heartbeat it answered for this socket (ms), if any. */
  pongAt(ws: WebSocket): number | undefined;
}

/** When the client last showed it is there: a heartbeat, a frame, or its connect. */
export function lastSeenAt(session: Session, pongAt: number | undefined): number {
  return Math.max(pongAt ?? 0, session.lastFrameAt, session.connectedAt);
}

/** Close what is no longer a session; return the live ones and how many were closed. */
export function sweepSockets(sockets: readonly WebSocket[], input: SweepInput): { live: LiveSession[]; closed: number } {
  const live: LiveSession[] = [];
  let closed = 0;
  for (const ws of sockets) {
    if (!isOpen(ws)) continue;
    const session = input.sessionOf(ws);
    if (session === undefined) {
      tryClose(ws, CloseCode.InternalError, "session state lost");
      closed++;
      continue;
    }
    const dialect = input.dialects.of(session);
    if (session.expiresAt <= input.now) {
      // For a socket still authenticating in band, expiresAt is its deadline (a Pusher socket is closed 4009).
      dialect.close(ws, session, CloseCode.PolicyViolation, dialect.isCounted(session) ? "token expired" : dialect.deadlineReason);
      closed++;
    } else if (isStale(ws, session, input)) {
      dialect.close(ws, session, CloseCode.Stale, "no heartbeat");
      closed++;
    } else if (dialect.isCounted(session)) {
      live.push({ ws, session });
    }
  }
  return { live, closed };
}

function isStale(ws: WebSocket, session: Session, input: SweepInput): boolean {
  const limit = input.now - input.staleAfterMs;
  // The attachment alone often proves liveness; ask the runtime only when it doesn't.
  if (session.lastFrameAt >= limit || session.connectedAt >= limit) return false;
  return lastSeenAt(session, input.pongAt(ws)) < limit;
}

/** The earliest deadline of the sockets still authenticating in band (+Infinity if none): the alarm must fire by then. */
export function earliestDeadline(ctx: DurableObjectState, dialects: Dialects, sessionOf: (ws: WebSocket) => Session | undefined): number {
  let next = Number.POSITIVE_INFINITY;
  for (const dialect of dialects.others) {
    if (!dialect.authenticatesInBand) continue;
    for (const ws of ctx.getWebSockets(dialectTag(dialect.name))) {
      const session = isOpen(ws) ? sessionOf(ws) : undefined;
      if (session !== undefined && !dialect.isCounted(session)) next = Math.min(next, session.expiresAt);
    }
  }
  return next;
}
