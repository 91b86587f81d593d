/** What the Worker and a user's object exchange over RPC (plain structured-clone data). */

export interface PushRequest {
  userId: string;
  id: string;
  /** `data`, already serialized to JSON by the Worker. */
  dataJson: string;
  /** Seconds to keep for offline devices; 0 = live-only. */
  ttl: number;
  /** What the message is (PushBody.event). */
  event?: string | undefined;
  device?: string | undefined;
  exceptDevice?: string | undefined;
  exceptSession?: string | undefined;
  /** Also notify the targeted devices that have no live session, by Web Push (src/webpush/). */
  webpush?: WebPushOptIn | undefined;
}

/** A push's `webpush` opt-in, as the Worker validated it (`true` arrives as `{}`). */
export interface WebPushOptIn {
  urgency?: "very-low" | "low" | "normal" | "high" | undefined;
  topic?: string | undefined;
}

/** A device's subscription, validated by the Worker (src/webpush/subscription.ts). */
export type { WebPushSubscription } from "../webpush/subscription.ts";

// The answers the Worker passes through as they are: one definition, shared
// with @switchboard/server (and checked against src/http/responses.ts).
export type { PresenceView, PushResult, SessionView } from "@switchboard/protocol";
import type { StoredMessage } from "@switchboard/protocol";

export interface KickRequest {
  device?: string | undefined;
  session?: string | undefined;
}

/**
 * A stored message as the object hands it to the Worker. `data` stays the JSON
 * text it was stored as: parsing it here and structured-cloning it over RPC
 * overflowed the stack on deeply nested data (fuzz finding: 3,000 nested
 * objects were accepted by the push, then every read of the log answered 500).
 * The Worker splices the text into its answer unparsed.
 */
export interface MessageView extends Omit<StoredMessage, "data"> {
  /** `data` as the JSON text it was stored as; the Worker splices it in as `data`. */
  dataJson: string;
}

/** An event on a named channel (Pusher's HTTP API, src/pusher/http.ts), as it reaches the user's object. */
export interface ChannelEvent {
  event: string;
  channel: string;
  /** The event's data: the string the API was given, delivered as it is. */
  data: string;
  /** This session gets nothing (Pusher's socket_id "exclude the sender"). */
  exceptSession?: string | undefined;
}

export interface MessagesPage {
  head: number;
  messages: MessageView[];
}

/** Carries ConnectParams (JSON) from the Worker to the object on the upgrade request. */
export const CONNECT_HEADER = "X-Switchboard-Connect";

/** What the Worker tells the object about a connection it has authenticated. */
export interface ConnectParams {
  userId: string;
  device: string;
  since: number | undefined;
  expiresAt: number;
  /** The subprotocol to answer on the 101 (the Worker chose it from the client's offer), if any. */
  subprotocol: string | undefined;
  /** The socket's dialect (Dialect.name); absent = the default (native). */
  dialect?: string | undefined;
}

/** The Worker wrote this header; still narrow it rather than trust its shape. */
export function parseConnectParams(raw: string | null): ConnectParams | undefined {
  if (raw === null) return undefined;
  let p: unknown;
  try {
    p = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof p !== "object" || p === null) return undefined;
  const { userId, device, since, expiresAt, subprotocol, dialect } = p as Record<string, unknown>;
  if (typeof userId !== "string" || typeof device !== "string" || typeof expiresAt !== "number") return undefined;
  return {
    userId,
    device,
    since: typeof since === "number" ? since : undefined,
    expiresAt,
    subprotocol: typeof subprotocol === "string" ? subprotocol : undefined,
    dialect: typeof dialect === "string" ? dialect : undefined,
  };
}
