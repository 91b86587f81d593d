/**
 * The JSON shapes of Switchboard's HTTP API and its error codes, defined once.
 * The server SDK's methods take and answer these types; the Worker's valibot
 * schemas (src/http/schemas.ts, src/http/responses.ts, which the OpenAPI
 * document is generated from) are checked at compile time to describe
 * exactly these types.
 */

/** Options of a push, a batch push and a broadcast. */
export interface DeliveryOptions {
  /** Idempotency key (1-128 of A-Z a-z 0-9 . _ : @ -). The SDK makes one when absent, so a retry is never a second message. */
  id?: string | undefined;
  /** Seconds to keep the message for offline devices (0-604800); 0 = live-only. */
  ttl?: number | undefined;
  /**
   * What the message is (1-64 of A-Z a-z 0-9 . _ : @ -): native frames carry it, a STOMP
   * client gets it on `/user/queue/{event}` (none: `/user/queue/messages`), a Pusher client
   * as the event name (none: `switchboard:message`).
   */
  event?: string | undefined;
  /**
   * Also notify the targeted devices that have no live session, through their
   * browser's push service (docs/webpush.md). Needs a ttl above 0.
   */
  webpush?: boolean | WebPushOptions | undefined;
}

/** RFC 8030 §5.3 Urgency and §5.4 Topic of a push's Web Push notifications. */
export interface WebPushOptions {
  urgency?: "very-low" | "low" | "normal" | "high" | undefined;
  /** Replaces an undelivered notification with the same topic (1-32 of A-Z a-z 0-9 - _). */
  topic?: string | undefined;
}

/** Which of the user's sessions a push reaches (and which replay it later). */
export interface TargetOptions {
  /** Only this device's sessions. */
  device?: string | undefined;
  /** All but this device's sessions. */
  exceptDevice?: string | undefined;
  /** All but this one session. */
  exceptSession?: string | undefined;
}

export type PushOptions = DeliveryOptions & TargetOptions;
export type BroadcastOptions = DeliveryOptions;

export interface PushResult {
  id: string;
  /** null when live-only (ttl 0). */
  seq: number | null;
  /** Sessions that got it now. */
  delivered: number;
  /** Sessions the user has. */
  sessions: number;
  stored: boolean;
  /** The same id was pushed before: not delivered again; seq is the first push's. */
  duplicate: boolean;
  /** Present when the push asked for `webpush`: the offline devices a Web Push was queued for. */
  webpush?: number;
}

export interface BatchFailure {
  userId: string;
  error: { code: string; message: string };
}

/** One user's outcome in a batch: the one-user answer plus userId, or why that user failed. */
export type BatchEntry = ({ userId: string } & PushResult) | BatchFailure;

export interface BatchResult {
  /** The one id every user's push carries: retry with it and each user sees a duplicate, not a second message. */
  id: string;
  results: BatchEntry[];
}

export interface BroadcastResult {
  id: string;
  users: number;
  sessions: number;
  failedUsers: number;
  failedShards: number;
  /** Present when the broadcast asked for `webpush`: the offline devices (of the users it reached) a Web Push was queued for. */
  webpush?: number;
}

export interface SessionView {
  sessionId: string;
  device: string;
  /** ms since the epoch */
  connectedAt: number;
  /** ms since the epoch */
  lastSeenAt: number;
}

export interface PresenceView {
  userId: string;
  online: boolean;
  sessions: SessionView[];
}

export interface KickResult {
  closed: number;
}

/**
 * Which sessions a kick closes, always spelled out: one device's, one
 * session, or all of them. An empty or misspelt target is refused, never
 * read as "all" (`kickAll(userId)` says it outright).
 */
export type KickTarget = { device: string } | { session: string } | { all: true };

export interface StoredMessage {
  id: string;
  seq: number;
  data: unknown;
  /** ms since the epoch */
  sentAt: number;
  /** ms since the epoch */
  expiresAt: number;
  device?: string;
  exceptDevice?: string;
  exceptSession?: string;
  event?: string;
}

export interface MessagesPage {
  /** The user's latest seq. */
  head: number;
  messages: StoredMessage[];
}

export interface StatsResult {
  onlineUsers: number;
  sessions: number;
}

/** The body of every refusal. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** The `error.code` of every refusal the Worker answers (docs/http-api.md). */
export const HttpErrorCode = {
  BadRequest: "bad_request",
  BadJson: "bad_json",
  BadSubprotocol: "bad_subprotocol",
  Unauthorized: "unauthorized",
  OriginNotAllowed: "origin_not_allowed",
  NotFound: "not_found",
  WebPushDisabled: "webpush_disabled",
  MethodNotAllowed: "method_not_allowed",
  TooManySubscriptions: "too_many_subscriptions",
  PayloadTooLarge: "payload_too_large",
  UnsupportedMediaType: "unsupported_media_type",
  UpgradeRequired: "upgrade_required",
  TooManySessions: "too_many_sessions",
  Misconfigured: "misconfigured",
  Internal: "internal",
  Unavailable: "unavailable",
  OverCapacity: "over_capacity",
} as const;
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

/**
 * Each code's statuses, and whether asking again can succeed: only the 503s
 * (the user's object briefly unavailable, the deployment over its socket
 * capacity), which come with Retry-After. A 4xx is the caller's to fix; a 500
 * is a bug that does not go away by asking again.
 */
export const HTTP_ERRORS: { readonly [C in HttpErrorCode]: { statuses: readonly number[]; retry: boolean } } = {
  [HttpErrorCode.BadRequest]: { statuses: [400], retry: false },
  [HttpErrorCode.BadJson]: { statuses: [400], retry: false },
  [HttpErrorCode.BadSubprotocol]: { statuses: [400], retry: false },
  [HttpErrorCode.Unauthorized]: { statuses: [401], retry: false },
  [HttpErrorCode.OriginNotAllowed]: { statuses: [403], retry: false },
  [HttpErrorCode.NotFound]: { statuses: [404], retry: false },
  // 404 on the Web Push routes; 400 naming `webpush` on a push that asks for it.
  [HttpErrorCode.WebPushDisabled]: { statuses: [404, 400], retry: false },
  [HttpErrorCode.MethodNotAllowed]: { statuses: [405], retry: false },
  [HttpErrorCode.TooManySubscriptions]: { statuses: [409], retry: false },
  [HttpErrorCode.PayloadTooLarge]: { statuses: [413], retry: false },
  [HttpErrorCode.UnsupportedMediaType]: { statuses: [415], retry: false },
  [HttpErrorCode.UpgradeRequired]: { statuses: [426], retry: false },
  [HttpErrorCode.TooManySessions]: { statuses: [429], retry: false },
  [HttpErrorCode.Misconfigured]: { statuses: [500], retry: false },
  [HttpErrorCode.Internal]: { statuses: [500], retry: false },
  [HttpErrorCode.Unavailable]: { statuses: [503], retry: true },
  [HttpErrorCode.OverCapacity]: { statuses: [503], retry: true },
};

/** Statuses whose refusals are worth asking again (with the same idempotency key). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set(Object.values(HTTP_ERRORS).flatMap((e) => (e.retry ? e.statuses : [])));
