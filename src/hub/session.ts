/**
 * Per-socket state. It lives in the WebSocket's attachment so that it survives
 * hibernation (the runtime keeps attachments with the socket while the object
 * is evicted); the in-memory copy is only a cache of it.
 *
 * The attachment holds the hub's fields, and a dialect's own state under a key
 * named after the dialect (as partyserver keeps `__pk` apart from user data):
 * `{sessionId, userId, ..., pusher: {...}}`. The default dialect keeps none.
 */
import { isDevice, isUserId } from "@switchboard/protocol";
import type { Dialects } from "./dialect";
import type { ConnectParams } from "./rpc";

export interface Session<S = unknown> {
  sessionId: string;
  userId: string;
  device: string;
  connectedAt: number;
  /** When the client's token expires (ms): the session is closed with 1008 then. For a socket not yet authenticated, its deadline. */
  expiresAt: number;
  /** Last client frame (ms), written back at most every LAST_SEEN_WRITE_MS. */
  lastFrameAt: number;
  /** The socket's dialect (Dialect.name), chosen at its upgrade. */
  dialect: string;
  /** The dialect's own state (undefined for a dialect that keeps none). */
  state: S;
}

/** A new socket's session: the hub's fields from its ConnectParams, the dialect's own state, and when it must have authenticated (or its token's expiry). */
export function newSession<S>(params: Pick<ConnectParams, "userId" | "device">, now: number, dialect: string, state: S, expiresAt: number): Session<S> {
  return { sessionId: crypto.randomUUID(), userId: params.userId, device: params.device, connectedAt: now, expiresAt, lastFrameAt: now, dialect, state };
}

/** Writing the attachment costs a serialization; a stale-by-30s value is fine for the default 180 s staleness rule. */
export const LAST_SEEN_WRITE_MS = 30_000;

/**
 * How stale lastFrameAt may get: 30 s, or a quarter of STALE_AFTER when that
 * is shorter. With STALE_AFTER at its minimum (10 s), a client answering
 * every 5 s would otherwise never move it and be closed as silent.
 */
export function lastSeenWriteMs(staleAfterMs: number): number {
  return Math.min(LAST_SEEN_WRITE_MS, staleAfterMs / 4);
}

/** The hub's own attachment fields: no dialect may be named after one of them. */
const CORE_FIELDS = new Set(["sessionId", "userId", "device", "connectedAt", "expiresAt", "lastFrameAt"]);

const num = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

/** Read an attachment written by any earlier version of this code; undefined if unusable. */
export function readAttachment(ws: WebSocket, dialects: Dialects): Session | undefined {
  let raw: unknown;
  try {
    raw = ws.deserializeAttachment();
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null) return undefined;
  const a = raw as Record<string, unknown>;
  if (typeof a.sessionId !== "string" || !isUserId(a.userId) || !isDevice(a.device) || !num(a.connectedAt)) {
    return undefined;
  }
  // The first dialect whose key is present owns the socket; a socket whose
  // dialect state is unreadable must not turn into a default one.
  let dialect = dialects.default;
  let state: unknown = undefined;
  for (const d of dialects.others) {
    if (a[d.name] === undefined || CORE_FIELDS.has(d.name)) continue;
    state = d.readState(a[d.name]);
    if (state === undefined) return undefined;
    dialect = d;
    break;
  }
  return {
    sessionId: a.sessionId,
    userId: a.userId,
    device: a.device,
    connectedAt: a.connectedAt,
    expiresAt: num(a.expiresAt) ? a.expiresAt : Number.POSITIVE_INFINITY,
    lastFrameAt: num(a.lastFrameAt) ? a.lastFrameAt : a.connectedAt,
    dialect: dialect.name,
    state,
  };
}

export function writeAttachment(ws: WebSocket, session: Session): void {
  const { dialect, state, ...core } = session;
  ws.serializeAttachment(state === undefined ? core : { ...core, [dialect]: state });
}

/** Socket tags: getWebSockets(tag) finds a device's or a session's sockets without reading attachments. */
export function deviceTag(device: string): string {
  return `d:${device}`;
}
export function sessionTag(sessionId: string): string {
  return `s:${sessionId}`;
}
