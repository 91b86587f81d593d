/**
 * The Pusher dialect's encoder for the hub's deliveries: the frame a Pusher
 * socket gets for a message (or undefined: it gets nothing).
 */
import type { Encoder, Outgoing } from "../hub/dialect";
import { encodeMessage } from "@switchboard/protocol";
import { serverToUserChannel } from "./channels";
import { encodeChannelEvent, encodeNativeForPusher } from "./protocol";
import type { PusherState } from "./state";

/**
 * A channel event (Pusher's HTTP API) goes to the sockets subscribed to its
 * channel as `{"event","channel","data"}`. Any other message goes to an
 * authenticated socket once, as event `switchboard:message`, on
 * `#server-to-user-{id}` when subscribed there, else on its first per-user
 * channel; a socket on no channel yet gets nothing.
 */
export function pusherEncoder(message: Outgoing): Encoder<PusherState> {
  const channelEvent = message.channel;
  if (channelEvent !== undefined) {
    const frame = encodeChannelEvent(channelEvent.event, channelEvent.name, channelEvent.data);
    return (session) => (session.state.channels.includes(channelEvent.name) ? frame : undefined);
  }
  let nativeFrame: string | undefined;
  const byChannel = new Map<string, string>();
  return (session) => {
    const p = session.state;
    if (!p.authed) return undefined;
    const own = serverToUserChannel(session.userId);
    const channel = p.channels.includes(own) ? own : p.channels[0];
    if (channel === undefined) return undefined;
    let frame = byChannel.get(channel);
    if (frame === undefined) {
      nativeFrame ??= encodeMessage(message, message.dataJson);
      frame = encodeNativeForPusher(channel, nativeFrame, message.event);
      byChannel.set(channel, frame);
    }
    return frame;
  };
}
