/**
 * The runtime answers one request/response pair per object without waking it
 * (setWebSocketAutoResponse), and keeps the time of the last one per socket
 * (getWebSocketAutoResponseTimestamp, read for presence). A dialect's pair is
 * chosen when every open socket of the user speaks that dialect; otherwise
 * the default dialect's pair is kept and the other dialects' heartbeats wake
 * the object (each dialect answers its own in onMessage). Measured cost of
 * the Pusher case: docs/pusher.md, "Heartbeats".
 */
import { dialectTag, type Dialects } from "./dialect";
import { isOpen } from "./sockets";

/** The request this object instance last set (or found) as its auto-response. */
const heartbeatSet = new WeakMap<DurableObjectState, string>();

export function chooseHeartbeat(ctx: DurableObjectState, dialects: Dialects): void {
  // Every connect and close asks, and most users only ever open default sockets:
  // with no other dialect's socket open, the answer needs no list of all sockets.
  let pair = dialects.default.heartbeat;
  let open: number | undefined;
  for (const d of dialects.others) {
    const count = ctx.getWebSockets(dialectTag(d.name)).filter(isOpen).length;
    if (count === 0) continue;
    open ??= ctx.getWebSockets().filter(isOpen).length;
    if (count === open) pair = d.heartbeat;
    break;
  }
  // The runtime keeps the pair across hibernation; this instance's memory of it saves the native read.
  if (heartbeatSet.get(ctx) === pair.request) return;
  if (ctx.getWebSocketAutoResponse()?.request !== pair.request) {
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(pair.request, pair.response));
  }
  heartbeatSet.set(ctx, pair.request);
}
