/**
 * The Pusher Channels protocol (version 7), as far as this dialect speaks it:
 * every frame a Pusher socket is sent is built here (checked with
 * `satisfies`), and every frame it sends arrives as `unknown` and is narrowed
 * here with valibot. Pusher frames are `{event, channel?, data}`; `data` is
 * itself JSON text for the events Pusher encodes that way (pusher-js parses it).
 */
import * as v from "valibot";

export const PROTOCOL_VERSION = 7;

/**
 * The exact heartbeat pusher-js sends after `activity_timeout` of silence, and
 * the exact answer. The runtime can answer it without waking the object
 * (setWebSocketAutoResponse), byte for byte, so both are fixed strings.
 */
export const PUSHER_PING = '{"event":"pusher:ping","data":{}}';
export const PUSHER_PONG = '{"event":"pusher:pong","data":{}}';

/**
 * Close and error codes (Pusher protocol; what pusher-js does after each is
 * its `getCloseAction`: 4000-4099 no reconnect, 4100-4199 back off, 4200-4299
 * reconnect at once).
 */
export const PusherCode = {
  /** Unknown app key. */
  AppNotFound: 4001,
  /** Protocol version below 7. */
  UnsupportedProtocol: 4007,
  /** No valid signin or subscription in time, a bad signin, or closed through the API (terminate, kick). */
  Unauthorized: 4009,
  /** Too slow or too many frames: back off, then reconnect (and sign in again). */
  OverCapacity: 4100,
  /** No heartbeat within STALE_AFTER: reconnect at once. */
  PongNotReceived: 4201,
  /** Client events are not supported; the socket stays open. */
  ClientEventRejected: 4301,
} as const;
export type PusherCode = (typeof PusherCode)[keyof typeof PusherCode];

// ---- Server → client ----

export interface ConnectionEstablishedFrame {
  event: "pusher:connection_established";
  /** JSON text of `{socket_id, activity_timeout}`. */
  data: string;
}
export interface ErrorFrame {
  event: "pusher:error";
  data: { code: number | null; message: string };
}
export interface SigninSuccessFrame {
  event: "pusher:signin_success";
  /** JSON text of `{user_data}` (user_data being the JSON text the client signed). */
  data: string;
}
export interface SubscriptionSucceededFrame {
  event: "pusher_internal:subscription_succeeded";
  channel: string;
  data: string;
}
export interface SubscriptionErrorFrame {
  event: "pusher:subscription_error";
  channel: string;
  data: { type: "AuthError"; error: string; status: 401 | 403 };
}
export interface ChannelEventFrame {
  event: string;
  channel: string;
  /** As given to the HTTP API: a string (usually JSON text) that pusher-js parses when it can. */
  data: string;
}
export type PusherServerFrame =
  ConnectionEstablishedFrame | ErrorFrame | SigninSuccessFrame | SubscriptionSucceededFrame | SubscriptionErrorFrame | ChannelEventFrame;

export function encodeConnectionEstablished(socketId: string, activityTimeout: number): string {
  return JSON.stringify({
    event: "pusher:connection_established",
    data: JSON.stringify({ socket_id: socketId, activity_timeout: activityTimeout }),
  } satisfies ConnectionEstablishedFrame);
}

export function encodePusherError(code: PusherCode | null, message: string): string {
  return JSON.stringify({ event: "pusher:error", data: { code, message } } satisfies ErrorFrame);
}

export function encodeSigninSuccess(userData: string): string {
  return JSON.stringify({ event: "pusher:signin_success", data: JSON.stringify({ user_data: userData }) } satisfies SigninSuccessFrame);
}

export function encodeSubscriptionSucceeded(channel: string): string {
  return JSON.stringify({ event: "pusher_internal:subscription_succeeded", channel, data: "{}" } satisfies SubscriptionSucceededFrame);
}

export function encodeSubscriptionError(channel: string, status: 401 | 403, error: string): string {
  return JSON.stringify({
    event: "pusher:subscription_error",
    channel,
    data: { type: "AuthError", error, status },
  } satisfies SubscriptionErrorFrame);
}

export function encodeChannelEvent(event: string, channel: string, data: string): string {
  return JSON.stringify({ event, channel, data } satisfies ChannelEventFrame);
}

/**
 * A native message delivered to a Pusher socket: event `switchboard:message`
 * (not `pusher:`-prefixed, so pusher-js hands it to the app's bindings) whose
 * data is the JSON text of the native message frame without `type`
 * (`{id, seq, sentAt, data}`), spliced in unparsed.
 */
export const NATIVE_MESSAGE_EVENT = "switchboard:message";
export function encodeNativeForPusher(channel: string, messageFrameJson: string, event = NATIVE_MESSAGE_EVENT): string {
  // `{"type":"message",…}` → `{…}`: the frame starts with exactly that prefix (encodeMessage).
  const body = `{${messageFrameJson.slice('{"type":"message",'.length)}`;
  return JSON.stringify({ event, channel, data: body } satisfies ChannelEventFrame);
}

// ---- Client → server ----

const Str = v.pipe(v.string(), v.maxLength(4096));
const SigninSchema = v.object({ event: v.literal("pusher:signin"), data: v.object({ auth: Str, user_data: Str }) });
const SubscribeSchema = v.object({
  event: v.literal("pusher:subscribe"),
  data: v.object({ channel: Str, auth: v.optional(Str), channel_data: v.optional(v.unknown()) }),
});
const UnsubscribeSchema = v.object({ event: v.literal("pusher:unsubscribe"), data: v.object({ channel: Str }) });

export type PusherClientFrame =
  | { event: "pusher:ping" }
  | { event: "pusher:pong" }
  | v.InferOutput<typeof SigninSchema>
  | v.InferOutput<typeof SubscribeSchema>
  | v.InferOutput<typeof UnsubscribeSchema>
  | { event: "client-event"; name: string };

export type ParsedPusherFrame = { ok: true; frame: PusherClientFrame } | { ok: false; message: string };

/** Events whose `data` pusher-js may send as a JSON string rather than an object. */
function dataObject(raw: Record<string, unknown>): Record<string, unknown> {
  if (typeof raw.data !== "string") return raw;
  try {
    return { ...raw, data: JSON.parse(raw.data) as unknown };
  } catch {
    return raw;
  }
}

export function parsePusherFrame(text: string): ParsedPusherFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, message: "frame is not valid JSON" };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { ok: false, message: "frame must be a JSON object" };
  const obj = raw as Record<string, unknown>;
  const event = obj.event;
  if (typeof event !== "string") return { ok: false, message: "frame has no event" };
  switch (event) {
    case "pusher:ping":
      return { ok: true, frame: { event } };
    case "pusher:pong":
      return { ok: true, frame: { event } };
    case "pusher:signin": {
      const r = v.safeParse(SigninSchema, dataObject(obj));
      return r.success ? { ok: true, frame: r.output } : { ok: false, message: "pusher:signin needs data.auth and data.user_data (strings)" };
    }
    case "pusher:subscribe": {
      const r = v.safeParse(SubscribeSchema, dataObject(obj));
      return r.success ? { ok: true, frame: r.output } : { ok: false, message: "pusher:subscribe needs data.channel (a string)" };
    }
    case "pusher:unsubscribe": {
      const r = v.safeParse(UnsubscribeSchema, dataObject(obj));
      return r.success ? { ok: true, frame: r.output } : { ok: false, message: "pusher:unsubscribe needs data.channel (a string)" };
    }
    default:
      if (event.startsWith("client-")) return { ok: true, frame: { event: "client-event", name: event.slice(0, 200) } };
      return { ok: false, message: `unsupported event: ${event.slice(0, 64)}` };
  }
}
