/**
 * What a STOMP client may send, after the hub's own checks (session known,
 * frame budget). One WebSocket message may hold several frames and EOL
 * heart-beats, or part of a frame (stompjs `splitLargeFrames`): the rest waits
 * for the next message. Never throws; every refusal is ERROR + close (spec).
 */
import type { HubServices } from "../hub/dialect";
import { missedMessages, resumePoint } from "../hub/resume";
import { writeAttachment } from "../hub/session";
import { tryClose, trySend } from "../hub/sockets";
import { CloseCode, DEVICE_MAX, isDevice, MAX_CLIENT_FRAME_BYTES, nameRule } from "@switchboard/protocol";
import { encodeFrame, parseFrames, STOMP_VERSIONS, toBytes, type ClientFrame, type StompVersion } from "./frame";
import { HEARTBEAT, messageFrame, refuse, SERVER_NAME, StompClose, type StompSession } from "./messages";
import { ACK_MODES, destinationFor, isUserQueue, MAX_SUB_ID, MAX_SUBSCRIPTIONS } from "./state";
import { stompHeartbeatMs } from "./heartbeat";

/**
 * What is left of an unfinished frame, per socket. Memory only: a frame split
 * across messages arrives within milliseconds, and an object with an
 * unanswered message in flight is not hibernated; if it is evicted anyway the
 * client's next message starts a frame and is refused (ERROR + close), never misread.
 */
const pending = new WeakMap<WebSocket, Uint8Array>();
const EMPTY = new Uint8Array(0);
const ONLY_EOLS = /^(\r?\n)+$/;

export function onStompMessage(ws: WebSocket, session: StompSession, message: string | ArrayBuffer, hub: HubServices): void {
  try {
    // A bare EOL reached us (another dialect holds the runtime's auto-response, or it came as binary): answer it the same.
    if (typeof message === "string" && ONLY_EOLS.test(message) && !pending.has(ws)) {
      trySend(ws, HEARTBEAT);
      return;
    }
    const bytes = toBytes(message);
    const before = pending.get(ws) ?? EMPTY;
    if (before.length + bytes.length > MAX_CLIENT_FRAME_BYTES) {
      pending.delete(ws);
      refuse(ws, session.state, CloseCode.MessageTooBig, `frame too large (over ${MAX_CLIENT_FRAME_BYTES} bytes)`);
      return;
    }
    const parsed = parseFrames(before, bytes, session.state.connected ? session.state.version : undefined);
    for (const frame of parsed.frames) {
      if (!onFrame(ws, session, frame, hub)) {
        pending.delete(ws);
        return;
      }
    }
    if (!parsed.ok) {
      pending.delete(ws);
      refuse(ws, session.state, StompClose.ProtocolError, parsed.error);
      return;
    }
    if (parsed.rest.length > 0) pending.set(ws, parsed.rest.slice());
    else pending.delete(ws);
  } catch (err) {
    console.error("switchboard: stomp frame failed", err);
    refuse(ws, session.state, CloseCode.InternalError, "internal error");
  }
}

/** Handle one frame; false when the socket was closed (stop reading frames). */
function onFrame(ws: WebSocket, session: StompSession, frame: ClientFrame, hub: HubServices): boolean {
  const state = session.state;
  const h = frame.headers;
  const fail = (message: string, code: number = StompClose.ProtocolError): boolean => {
    refuse(ws, state, code, message);
    return false;
  };
  if (frame.command === "CONNECT" || frame.command === "STOMP") {
    if (state.connected) return fail("already connected");
    return connect(ws, session, frame, hub);
  }
  if (!state.connected) return fail(`${frame.command} before CONNECT`);
  let ok = true;
  switch (frame.command) {
    case "SUBSCRIBE":
      ok = subscribe(ws, session, frame, hub);
      break;
    case "UNSUBSCRIBE": {
      const id = h.get("id");
      if (id === undefined) return fail("UNSUBSCRIBE needs an id header");
      const before = state.subs.length;
      state.subs = state.subs.filter((s) => s.id !== id);
      if (state.subs.length !== before) writeAttachment(ws, session);
      break;
    }
    case "ACK": {
      const seq = ackedSeq(frame, hub);
      if (seq === false) return fail("ACK needs an id header (1.2) or message-id (1.0, 1.1)");
      if (seq !== undefined && seq <= hub.log.head) hub.log.ack(session.device, seq, hub.now);
      break;
    }
    case "NACK":
      // The cursor stays: the message comes again at the device's next resume.
      break;
    case "DISCONNECT":
      receipt(ws, frame, state.version);
      tryClose(ws, CloseCode.Normal, "disconnected");
      return false;
    case "SEND":
      return fail("SEND is not supported: messages are pushed through the HTTP API");
    case "BEGIN":
    case "COMMIT":
    case "ABORT":
      return fail("transactions are not supported");
  }
  if (ok) receipt(ws, frame, state.version);
  return ok;
}

function receipt(ws: WebSocket, frame: ClientFrame, version: StompVersion): void {
  const id = frame.headers.get("receipt");
  if (id !== undefined) trySend(ws, encodeFrame("RECEIPT", [["receipt-id", id]], version));
}

/** The highest version both sides speak (spec: a missing accept-version means 1.0). */
function negotiate(acceptVersion: string | undefined): StompVersion | undefined {
  const offered = (acceptVersion ?? "1.0").split(",").map((v) => v.trim());
  return STOMP_VERSIONS.find((v) => offered.includes(v));
}

function connect(ws: WebSocket, session: StompSession, frame: ClientFrame, hub: HubServices): boolean {
  const state = session.state;
  const version = negotiate(frame.headers.get("accept-version"));
  if (version === undefined) {
    trySend(
      ws,
      encodeFrame(
        "ERROR",
        [
          ["version", STOMP_VERSIONS.join(",")],
          ["message", "supported versions are 1.2, 1.1, 1.0"],
        ],
        undefined,
      ),
    );
    tryClose(ws, StompClose.ProtocolError, "no common STOMP version");
    return false;
  }
  // The Worker already took the device from this header (or ?device=) when it routed the socket; this only re-checks it.
  const device = frame.headers.get("device");
  if (device !== undefined && !isDevice(device)) {
    refuse(ws, state, StompClose.ProtocolError, nameRule("device", DEVICE_MAX));
    return false;
  }
  if (device !== undefined) session.device = device;
  const { from } = resumePoint(hub.log, session.device, undefined, hub.now);
  state.connected = true;
  state.version = version;
  state.from = from;
  session.expiresAt = state.tokenExpiresAt;
  writeAttachment(ws, session);
  const beat = stompHeartbeatMs(hub.config);
  trySend(
    ws,
    encodeFrame(
      "CONNECTED",
      [
        ["version", version],
        ["heart-beat", `${beat},${beat}`],
        ["session", session.sessionId],
        ["server", SERVER_NAME],
        ["user-name", session.userId],
      ],
      version,
    ),
  );
  receipt(ws, frame, version);
  hub.sessionsChanged();
  return true;
}

function subscribe(ws: WebSocket, session: StompSession, frame: ClientFrame, hub: HubServices): boolean {
  const state = session.state;
  const id = frame.headers.get("id");
  const destination = frame.headers.get("destination");
  const ack = ACK_MODES.find((a) => a === (frame.headers.get("ack") ?? "auto"));
  const fail = (message: string): boolean => {
    refuse(ws, state, StompClose.ProtocolError, message);
    return false;
  };
  if (id === undefined || id.length > MAX_SUB_ID) return fail(`SUBSCRIBE needs an id header of at most ${MAX_SUB_ID} characters`);
  if (destination === undefined) return fail("SUBSCRIBE needs a destination header");
  if (!isUserQueue(destination)) return fail(`destination not allowed: ${destination.slice(0, 100)} (only /user/queue/{name})`);
  if (ack === undefined) return fail("ack must be auto, client or client-individual");
  if (state.subs.some((s) => s.id === id)) return fail(`subscription id already in use: ${id}`);
  if (state.subs.length >= MAX_SUBSCRIPTIONS) return fail(`at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`);
  const sub = { id, destination, ack };
  state.subs.push(sub);
  writeAttachment(ws, session);
  // No await from here to the last replayed frame: a push lands either in the
  // log before this reads it, or after the subscription exists (hub/resume.ts).
  let last: number | undefined;
  for (const m of missedMessages(hub.log, session.device, state.from, hub.now, hub.config.maxStoredPerUser)) {
    if (destinationFor(m.event) !== destination) continue;
    hub.sendCounted(ws, messageFrame(m, sub, state));
    last = m.seq;
  }
  if (ack === "auto" && last !== undefined) hub.log.ack(session.device, last, hub.now);
  return true;
}

/** The seq an ACK acknowledges; undefined for a live-only message or an unknown id; false when the frame names none. */
function ackedSeq(frame: ClientFrame, hub: HubServices): number | undefined | false {
  const id = frame.headers.get("id");
  if (id !== undefined && /^\d{1,16}$/.test(id)) return Number(id);
  if (id !== undefined && id.startsWith("live:")) return undefined;
  // STOMP 1.0 and 1.1 acknowledge by message-id (the push id).
  const messageId = frame.headers.get("message-id") ?? id;
  if (messageId === undefined) return false;
  return hub.log.findById(messageId, hub.now)?.seq;
}
