/**
 * The native dialect (`/v1/connect`, @switchboard/protocol): the Worker authenticated
 * the upgrade, so a socket is a session from its first byte; it is greeted
 * with `welcome` and the messages its device missed, and may send acks.
 */
import { cadenceOf } from "../hub/cadence";
import type { Dialect } from "../hub/dialect";
import { missedMessages, resumePoint } from "../hub/resume";
import { newSession } from "../hub/session";
import { tryClose } from "../hub/sockets";
import { encodeMessage, encodeWelcome, PING, PONG } from "@switchboard/protocol";
import { onNativeMessage } from "./frames";

export const NATIVE_DIALECT = "native";

export const nativeDialect: Dialect<undefined> = {
  name: NATIVE_DIALECT,
  authenticatesInBand: false,
  deadlineReason: "token expired",
  heartbeat: { request: PING, response: PONG },

  newSession: (params, now) => newSession(params, now, NATIVE_DIALECT, undefined, params.expiresAt),

  opened(ws, session, params, hub) {
    // From the accept to the end of the replay nothing awaits, so a concurrent
    // push lands either in the log before the replay reads it, or after this
    // socket is in getWebSockets(): never both, never neither.
    const { head, from, recovered } = resumePoint(hub.log, session.device, params.since, hub.now);
    const heartbeat = cadenceOf(hub.config).silenceS;
    ws.send(encodeWelcome({ sessionId: session.sessionId, userId: session.userId, device: session.device, head, recovered, heartbeat }));
    for (const m of missedMessages(hub.log, session.device, from, hub.now, hub.config.maxStoredPerUser)) {
      hub.sendCounted(ws, encodeMessage(m, m.dataJson));
    }
  },

  // Native sockets keep no state of their own (their attachment has no "native" key).
  readState: () => undefined,
  isCounted: () => true,
  onMessage: onNativeMessage,

  encoder(message) {
    let frame: string | undefined;
    return () => (frame ??= encodeMessage(message, message.dataJson));
  },

  close: (ws, _session, code, reason) => tryClose(ws, code, reason),
};
