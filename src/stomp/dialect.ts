/**
 * The STOMP 1.2 dialect (`/v1/stomp`, docs/stomp.md) as the hub sees it. The
 * Worker has checked the token (src/stomp/connect.ts) before the socket gets
 * here; the socket becomes a session when its CONNECT frame is answered with
 * CONNECTED, within STOMP_CONNECT_DEADLINE_MS. Frames are handled in
 * src/stomp/frames.ts.
 */
import type { Dialect } from "../hub/dialect";
import { newSession } from "../hub/session";
import { onStompMessage } from "./frames";
import { HEARTBEAT, messageFrame, refuse, STOMP_CONNECT_DEADLINE_MS, subscriptionFor } from "./messages";
import { readStompState, STOMP_DIALECT, type StompState } from "./state";

export const stompDialect: Dialect<StompState> = {
  name: STOMP_DIALECT,
  authenticatesInBand: true,
  deadlineReason: "no CONNECT in time",
  heartbeat: { request: HEARTBEAT, response: HEARTBEAT },

  // Until CONNECTED, expiresAt is the CONNECT deadline; the token's own expiry waits in the state.
  newSession: (params, now) =>
    newSession(
      params,
      now,
      STOMP_DIALECT,
      { connected: false, version: "1.2", tokenExpiresAt: params.expiresAt, from: 0, subs: [] },
      now + STOMP_CONNECT_DEADLINE_MS,
    ),

  // The client speaks first (CONNECT).
  opened() {},

  readState: readStompState,
  isCounted: (session) => session.state.connected,
  onMessage: onStompMessage,

  encoder(message) {
    const frames = new Map<string, string>();
    return (session) => {
      const state = session.state;
      if (!state.connected) return undefined;
      const sub = subscriptionFor(state, message);
      if (sub === undefined) return undefined;
      const key = `${sub.id}\n${sub.ack}\n${state.version}`;
      let frame = frames.get(key);
      if (frame === undefined) {
        frame = messageFrame(message, sub, state);
        frames.set(key, frame);
      }
      return frame;
    };
  },

  afterSend(_ws, session, message, _bytes, hub) {
    // ack:auto counts as delivered when sent: the device's cursor moves past it.
    if (message.seq !== null && subscriptionFor(session.state, message)?.ack === "auto") hub.log.ack(session.device, message.seq, hub.now);
  },

  close: (ws, session, code, reason) => refuse(ws, session.state, code, reason),
};
