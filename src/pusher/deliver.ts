/**
 * Per-dialect encoders for the hub's delivery loop: given a session, the frame
 * it gets for a push (or undefined: it gets nothing). The hub's targeting,
 * backlog and counting stay dialect-free; only the bytes differ.
 */
import type { Session } from "../hub/session";
import { encodeMessage } from "../protocol";
import { serverToUserChannel } from "./channels";
import { encodeChannelEvent, encodeNativeForPusher } from "./protocol";
import { PUSHER_TAG } from "./state";

export type FrameFor = (session: Session) => string | undefined;

/**
 * A native push: native sessions get the message frame; an authenticated
 * Pusher socket gets it once, as event `switchboard:message`, on
 * `#server-to-user-{id}` when subscribed there, else on its first per-user
 * channel; a Pusher socket on no channel yet gets nothing.
 */
export function nativeFrameFor(ctx: DurableObjectState, nativeFrame: string): string | FrameFor {
  // No Pusher socket: the one frame for everyone (the hub's untargeted fast path).
  if (ctx.getWebSockets(PUSHER_TAG).length === 0) return nativeFrame;
  let forPusher: Map<string, string> | undefined;
  return (session) => {
    const p = session.pusher;
    if (p === undefined) return nativeFrame;
    if (!p.authed) return undefined;
    const own = serverToUserChannel(session.userId);
    const channel = p.channels.includes(own) ? own : p.channels[0];
    if (channel === undefined) return undefined;
    forPusher ??= new Map();
    let frame = forPusher.get(channel);
    if (frame === undefined) {
      frame = encodeNativeForPusher(channel, nativeFrame);
      forPusher.set(channel, frame);
    }
    return frame;
  };
}

/** What a Pusher event is, once it reaches the user's object. */
export interface PusherEvent {
  event: string;
  channel: string;
  data: string;
  /** Pusher's "exclude the sender": this socket_id gets nothing. */
  exceptSocketId?: string | undefined;
}

/**
 * A Pusher event: Pusher sockets subscribed to its channel get
 * `{"event","channel","data"}`; native sessions get a live-only message whose
 * data is that same object (`data` still the string the API was given).
 */
export function pusherEventFrameFor(e: PusherEvent, id: string, now: number): FrameFor {
  const pusherFrame = encodeChannelEvent(e.event, e.channel, e.data);
  let native: string | undefined;
  return (session) => {
    const p = session.pusher;
    if (p !== undefined) return p.channels.includes(e.channel) ? pusherFrame : undefined;
    native ??= encodeMessage({ id, seq: null, sentAt: now }, JSON.stringify({ event: e.event, channel: e.channel, data: e.data }));
    return native;
  };
}
