/**
 * @switchboard/server: call Switchboard's server API, mint client tokens and
 * verify webhooks. fetch and WebCrypto only, so it runs unchanged in Node 20+,
 * Bun, Deno and Cloudflare Workers; no runtime dependencies.
 */
export { Switchboard, type MessagesOptions, type SwitchboardOptions } from "./switchboard.ts";
export { INVALID_ARGUMENT, SwitchboardError, type SwitchboardErrorInit } from "./errors.ts";
export type { FetchLike, RetryOptions } from "./transport.ts";
export { mintClientToken, type MintClientTokenOptions } from "./token.ts";
export { SIGNATURE_HEADER, verifyWebhook, type VerifyWebhookOptions, type WebhookHeaders } from "./webhook.ts";
export type {
  BatchEntry,
  BatchFailure,
  BatchResult,
  BroadcastOptions,
  BroadcastResult,
  DeliveryOptions,
  ErrorBody,
  KickResult,
  KickTarget,
  MessagesPage,
  PresenceView,
  PushOptions,
  PushResult,
  SessionView,
  StatsResult,
  StoredMessage,
  TargetOptions,
  WebPushOptions,
} from "@switchboard/protocol";
