/**
 * The JSON shapes of Switchboard's HTTP API, defined once. The Worker imports
 * these too (src/hub/rpc.ts, src/http/api.ts), and src/http/responses.ts
 * checks at compile time that its valibot schemas (which the OpenAPI document
 * is generated from) and the request schemas the router validates with
 * describe exactly these types. This file has no imports, so the package
 * ships it as it is.
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
