/**
 * One Web Push request (RFC 8030 §5): the notification's plaintext, encrypted
 * for the subscription (RFC 8291 aes128gcm, by @block65/webcrypto-web-push's
 * encryptNotification), and the VAPID authorization (RFC 8292).
 *
 * The library's buildPushPayload/vapidHeaders are not used: vapidHeaders
 * refuses http endpoints (the local fake push service of DEV_MODE=1) and
 * re-imports the signing key per push; buildPushPayload turns `ttl: 0` into
 * 60 and has no `very-low` urgency. The JWT is signed with jose (the
 * project's JWT library), the key imported once per isolate.
 */
import { encryptNotification } from "@block65/webcrypto-web-push";
import { importJWK, SignJWT, type CryptoKey as JoseKey } from "jose";
import type { WebPushConfig } from "./config";
import { base64UrlBytes, bytesToBase64Url } from "./config";
import type { WebPushSubscription } from "./subscription";

/**
 * RFC 8291 §4: a push service need only accept 4096 octets of body; aes128gcm
 * spends 86 on its header (RFC 8188 §2.1 with a 65-byte key id), 1 on the
 * padding delimiter and 16 on the tag. A plaintext longer than this is sent
 * in its truncated form.
 */
export const MAX_PLAINTEXT_BYTES = 4096 - 86 - 1 - 16;

/** RFC 8292 §2: `exp` no more than 24 hours ahead; 12 h leaves room for clock skew. */
const JWT_LIFETIME_S = 12 * 60 * 60;

export type Urgency = "very-low" | "low" | "normal" | "high";
const URGENCIES: readonly string[] = ["very-low", "low", "normal", "high"] satisfies Urgency[];

/** A stored urgency read back: narrowed, never cast (an unknown value sends no Urgency header, i.e. "normal"). */
export function asUrgency(value: unknown): Urgency | undefined {
  return typeof value === "string" && URGENCIES.includes(value) ? (value as Urgency) : undefined;
}

/** What a notification says about one message. */
export interface NotificationMessage {
  id: string;
  seq: number;
  event?: string | undefined;
  /** The push's `data` as JSON text. */
  dataJson: string;
}

/**
 * The plaintext the service worker receives: `{"id","seq","event"?,"data"}`,
 * or `{"id","seq","event"?,"truncated":true}` when that would exceed
 * MAX_PLAINTEXT_BYTES (or `truncated` is asked, after a 413) — the page then
 * reads the message by `seq` from its socket's resume or its own server.
 */
export function notificationText(m: NotificationMessage, truncated: boolean): { text: string; truncated: boolean } {
  const head = `{"id":${JSON.stringify(m.id)},"seq":${m.seq}${m.event === undefined ? "" : `,"event":${JSON.stringify(m.event)}`}`;
  if (!truncated) {
    const full = `${head},"data":${m.dataJson}}`;
    if (new TextEncoder().encode(full).byteLength <= MAX_PLAINTEXT_BYTES) return { text: full, truncated: false };
  }
  return { text: `${head},"truncated":true}`, truncated: true };
}

const signingKeys = new WeakMap<WebPushConfig, Promise<JoseKey | Uint8Array>>();

function signingKey(config: WebPushConfig): Promise<JoseKey | Uint8Array> {
  let key = signingKeys.get(config);
  if (key === undefined) {
    const point = base64UrlBytes(config.publicKey) ?? new Uint8Array(65);
    key = importJWK(
      { kty: "EC", crv: "P-256", x: bytesToBase64Url(point.slice(1, 33)), y: bytesToBase64Url(point.slice(33, 65)), d: config.privateKey },
      "ES256",
    );
    // A failed import (a private key that does not match the public one) is retried next time, not cached.
    key.catch(() => signingKeys.delete(config));
    signingKeys.set(config, key);
  }
  return key;
}

/** `Authorization: vapid t=<JWT>, k=<public key>` (RFC 8292 §3). */
export async function vapidAuthorization(config: WebPushConfig, endpoint: string, nowMs: number): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  const jwt = await new SignJWT({ sub: config.subject })
    .setProtectedHeader({ typ: "JWT", alg: "ES256" })
    .setAudience(new URL(endpoint).origin)
    .setExpirationTime(now + JWT_LIFETIME_S)
    .sign(await signingKey(config));
  return `vapid t=${jwt}, k=${config.publicKey}`;
}

export interface PushOptions {
  /** Seconds the push service may keep it (the message's remaining ttl). */
  ttl: number;
  urgency?: Urgency | undefined;
  topic?: string | undefined;
}

/** The notification encrypted for the subscription (RFC 8291), padded to the 4096-byte record: the push service sees no size. */
export async function encryptFor(sub: WebPushSubscription, plaintext: string): Promise<Uint8Array> {
  return encryptNotification(
    { endpoint: sub.endpoint, expirationTime: sub.expirationTime, keys: { p256dh: sub.p256dh, auth: sub.auth } },
    new TextEncoder().encode(plaintext),
  );
}

/** The request for one encrypted notification to one subscription. */
export async function webPushRequest(config: WebPushConfig, sub: WebPushSubscription, body: Uint8Array, options: PushOptions, nowMs: number): Promise<Request> {
  const headers = new Headers({
    TTL: String(Math.max(0, Math.floor(options.ttl))),
    "Content-Encoding": "aes128gcm",
    "Content-Type": "application/octet-stream",
    Authorization: await vapidAuthorization(config, sub.endpoint, nowMs),
  });
  if (options.urgency !== undefined) headers.set("Urgency", options.urgency);
  if (options.topic !== undefined) headers.set("Topic", options.topic);
  return new Request(sub.endpoint, { method: "POST", headers, body });
}
