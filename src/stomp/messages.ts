/**
 * The STOMP frames the server sends (MESSAGE, ERROR) and the constants the
 * dialect and its frame handler share.
 */
import type { Outgoing } from "../hub/dialect";
import type { Session } from "../hub/session";
import { tryClose, trySend } from "../hub/sockets";
import { encodeFrame } from "./frame";
import { destinationFor, type StompState, type Subscription } from "./state";

export type StompSession = Session<StompState>;

/**
 * The close codes only STOMP sockets get (the hub's own, CloseCode, apply too;
 * docs/stomp.md has the table, with which ones stompjs apps should not
 * reconnect after: it reconnects after any close). RFC 6455 §7.4.1 names both.
 */
export const StompClose = {
  /** 1002 protocol error: a frame the spec or this server refuses. A client bug: do not reconnect as is. */
  ProtocolError: 1002,
  /** 1013 try again later: the user is at MAX_SESSIONS_PER_USER (relayed connects; a direct one gets HTTP 429). */
  TryAgainLater: 1013,
} as const;

/** A socket that sends no CONNECT within this is closed (1008) and never counted. */
export const STOMP_CONNECT_DEADLINE_MS = 10_000;
/** The server's `server` header in CONNECTED. */
export const SERVER_NAME = "switchboard/1";
/** A bare EOL: the heart-beat stompjs and Spring send (stompjs: `webSocket.send("\n")`). */
export const HEARTBEAT = "\n";

/** Header values of a MESSAGE, for one subscription. */
export function messageFrame(message: Pick<Outgoing, "id" | "seq" | "dataJson" | "event">, sub: Subscription, state: StompState): string {
  const headers: [string, string][] = [
    ["destination", sub.destination],
    ["subscription", sub.id],
    ["message-id", message.id],
    ["content-type", "application/json"],
  ];
  if (message.seq !== null) headers.push(["seq", String(message.seq)]);
  if (sub.ack !== "auto") headers.push(["ack", ackValue(message)]);
  return encodeFrame("MESSAGE", headers, state.version, message.dataJson);
}

/** The `ack` header: a stored message's seq (ACK moves the cursor to it); a live-only one's id (its ACK moves nothing). */
function ackValue(message: Pick<Outgoing, "id" | "seq">): string {
  return message.seq === null ? `live:${message.id}` : String(message.seq);
}

export function subscriptionFor(state: StompState, message: Pick<Outgoing, "event">): Subscription | undefined {
  const destination = destinationFor(message.event);
  return state.subs.find((s) => s.destination === destination);
}

export function errorFrame(message: string, state: StompState | undefined, extra: [string, string][] = []): string {
  const version = state?.connected ? state.version : undefined;
  // Before CONNECTED nothing is escaped (the client's version is not known yet): a line break would end the header.
  const text = version === undefined || version === "1.0" ? message.replace(/[\r\n]/g, " ") : message;
  return encodeFrame("ERROR", [["message", text.slice(0, 200)], ...extra], version);
}

/** ERROR, then close: a STOMP server MUST close after an ERROR (spec "ERROR"). */
export function refuse(ws: WebSocket, state: StompState | undefined, code: number, message: string): void {
  trySend(ws, errorFrame(message, state));
  tryClose(ws, code, message);
}
