/**
 * Switchboard client SDK: one connection per device that reconnects with
 * full-jitter backoff, detects dead connections with a heartbeat, resumes
 * without loss or duplicates, and acks in batches. No runtime dependencies.
 */
export { connect, SwitchboardClient } from "./client.ts";
export {
  INVALID_ARGUMENT,
  SwitchboardError,
  type AuthTransport,
  type CloseEvent,
  type ConnectionState,
  type ConnectOptions,
  type EnvironmentEvents,
  type HeartbeatOptions,
  type OpenEvent,
  type ResyncEvent,
  type SwitchboardErrorKind,
  type SwitchboardEvents,
  type SwitchboardMessage,
  type TokenRequest,
} from "./types.ts";
export { backoffCeiling, fullJitterDelay, resolveBackoff, type BackoffOptions } from "./backoff.ts";
export { CLIENT_GIVE_UP_CODE, CloseCode, SUBPROTOCOL } from "@switchboard/protocol";
export type { SocketInit, WebSocketFactory, WebSocketLike } from "./socket.ts";
export type { SeqStorage } from "./storage.ts";
export {
  disableWebPush,
  enableWebPush,
  installWebPush,
  markShown,
  parseWebPushNotification,
  SHOWN_MESSAGE,
  type PushHandlerOptions,
  type PushManagerLike,
  type ServiceWorkerLike,
  type WebPushNotification,
  type WebPushOptions,
} from "./webpush.ts";
