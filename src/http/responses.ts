/**
 * The answers of the HTTP API as valibot schemas, in one place. Nothing
 * validates answers at run time: these exist so that the OpenAPI document
 * (openapi.ts) is generated from schemas, like the request bodies are. The
 * checks at the bottom make the build fail when a schema here, a request
 * schema in schemas.ts, and the types the Worker and @switchboard/server share
 * (@switchboard/protocol's http.ts) stop describing the same JSON.
 */
import * as v from "valibot";
import type * as wire from "@switchboard/protocol";
import type { BatchBody, BroadcastBody, PushBody } from "./schemas";

const count = (what: string) => v.pipe(v.number(), v.integer(), v.minValue(0), v.description(what));
const epochMs = (what: string) => v.pipe(v.number(), v.description(`${what}, ms since the epoch`));

export const PushResult = v.object({
  id: v.pipe(v.string(), v.description("the push's idempotency key (the given one, or a UUID)")),
  seq: v.pipe(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1))), v.description("the stored message's seq; null when live-only (ttl 0)")),
  delivered: count("sessions that got it now"),
  sessions: count("sessions the user has"),
  stored: v.boolean(),
  duplicate: v.pipe(v.boolean(), v.description("the id was pushed before: not delivered again, seq is the first push's")),
  webpush: v.optional(count("present when the push asked for webpush: the offline devices a Web Push was queued for")),
});

export const BatchFailure = v.object({
  userId: v.string(),
  error: v.object({ code: v.string(), message: v.string() }),
});

export const BatchResult = v.object({
  id: v.pipe(v.string(), v.description("the one id every user's push carries")),
  results: v.array(v.union([v.object({ userId: v.string(), ...PushResult.entries }), BatchFailure])),
});

export const BroadcastResult = v.object({
  id: v.string(),
  users: count("users the message reached"),
  sessions: count("sessions the message reached"),
  failedUsers: count("users whose push failed"),
  failedShards: count("stats shards that did not answer (their users were not reached)"),
  webpush: v.optional(count("present when the broadcast asked for webpush: the offline devices a Web Push was queued for")),
});

export const SessionView = v.object({
  sessionId: v.string(),
  device: v.string(),
  connectedAt: epochMs("when the session connected"),
  lastSeenAt: epochMs("the session's last frame"),
});

export const PresenceView = v.object({ userId: v.string(), online: v.boolean(), sessions: v.array(SessionView) });

export const KickResult = v.object({ closed: count("sessions closed (close code 4001)") });

export const StoredMessage = v.object({
  id: v.string(),
  seq: v.pipe(v.number(), v.integer(), v.minValue(1)),
  data: v.pipe(v.unknown(), v.description("the pushed data, as it was pushed")),
  sentAt: epochMs("when it was pushed"),
  expiresAt: epochMs("when it is dropped"),
  device: v.optional(v.string()),
  exceptDevice: v.optional(v.string()),
  exceptSession: v.optional(v.string()),
  event: v.optional(v.string()),
});

export const MessagesPage = v.object({
  head: v.pipe(v.number(), v.integer(), v.minValue(0), v.description("the user's latest seq")),
  messages: v.array(StoredMessage),
});

export const StatsResult = v.object({ onlineUsers: count("users with a session now"), sessions: count("live sessions") });

export const ErrorBody = v.object({
  error: v.object({
    code: v.pipe(v.string(), v.description("stable, machine-readable: bad_request, unauthorized, not_found, unavailable, …")),
    message: v.string(),
    field: v.optional(v.pipe(v.string(), v.description("the request field at fault"))),
  }),
});

export const Health = v.object({ ok: v.literal(true) });

export const WebPushKey = v.object({
  publicKey: v.pipe(
    v.string(),
    v.description("the VAPID public key: base64url of a 65-byte uncompressed P-256 point, for pushManager.subscribe({applicationServerKey})"),
  ),
});

export const WebPushStored = v.object({ userId: v.string(), device: v.string(), stored: v.literal(true) });

export const WebPushRemoved = v.object({
  userId: v.string(),
  device: v.string(),
  removed: v.pipe(v.boolean(), v.description("false when the device had no subscription")),
});

export const DevToken = v.object({
  token: v.pipe(v.string(), v.description("an HS256 client token for the user")),
  userId: v.string(),
  expiresAt: epochMs("when the token expires"),
});

// ---- compile-time: schemas, request bodies and the shared wire types agree ----

/**
 * true when A and B have the same keys and are assignable both ways (the key
 * check catches an optional field only one side has; exactOptionalPropertyTypes
 * is off, so `?: T` and `?: T | undefined` are the same).
 */
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Same<A, B> = Mutual<A, B> extends true ? Mutual<keyof A, keyof B> : false;
function agree<T extends true>(): T | undefined {
  return undefined;
}
type Out<S extends v.GenericSchema> = v.InferOutput<S>;

agree<Same<Out<typeof PushResult>, wire.PushResult>>();
agree<Same<Out<typeof BatchResult>, wire.BatchResult>>();
agree<Same<Out<typeof BroadcastResult>, wire.BroadcastResult>>();
agree<Same<Out<typeof PresenceView>, wire.PresenceView>>();
agree<Same<Out<typeof KickResult>, wire.KickResult>>();
agree<Same<Out<typeof MessagesPage>, wire.MessagesPage>>();
agree<Same<Out<typeof StatsResult>, wire.StatsResult>>();
agree<Same<Out<typeof ErrorBody>, wire.ErrorBody>>();
agree<Same<Omit<PushBody, "data">, wire.PushOptions>>();
agree<Same<Omit<BatchBody, "data" | "userIds">, wire.PushOptions>>();
agree<Same<Omit<BroadcastBody, "data">, wire.BroadcastOptions>>();
