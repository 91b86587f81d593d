/**
 * Pusher's signatures (pusher-http-node lib/auth.js, lib/requests.js): the
 * user and channel auth strings a socket presents, and the signed query of the
 * HTTP API. Every comparison is constant-time.
 */
import { hex, hmacHex } from "../util/hmac";

const encoder = new TextEncoder();

/** Hex MD5 of the body (`body_md5`). workerd's digest supports "MD5" (a non-standard extension; the SDKs still sign with it). */
export async function md5Hex(body: string): Promise<string> {
  return hex(await crypto.subtle.digest("MD5", encoder.encode(body)));
}

export function sameText(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  // timingSafeEqual needs equal lengths; only the length can leak (hex of a fixed-size MAC).
  return x.byteLength === y.byteLength && crypto.subtle.timingSafeEqual(x, y);
}

/** `key:hex(HMAC-SHA256(secret, socket_id + "::user::" + user_data))`. */
export function userAuth(key: string, secret: string, socketId: string, userData: string): Promise<string> {
  return hmacHex(secret, `${socketId}::user::${userData}`).then((mac) => `${key}:${mac}`);
}

/** `key:hex(HMAC-SHA256(secret, socket_id + ":" + channel))` (private channels). */
export function channelAuth(key: string, secret: string, socketId: string, channel: string): Promise<string> {
  return hmacHex(secret, `${socketId}:${channel}`).then((mac) => `${key}:${mac}`);
}

export type SignatureCheck = { ok: true } | { ok: false; message: string; field: string };

/** Pusher allows a request's auth_timestamp to be this far from the server's clock. */
export const MAX_CLOCK_SKEW_S = 600;

/**
 * Verify a signed API request: `auth_key`, `auth_timestamp` (±600 s),
 * `auth_version=1.0`, `body_md5` (when there is a body) and `auth_signature` =
 * hex HMAC-SHA256(secret, METHOD\npath\nsorted k=v&… of the other params).
 */
export async function verifyRequest(
  o: { key: string; secret: string },
  method: string,
  path: string,
  params: URLSearchParams,
  body: string,
  nowS: number,
): Promise<SignatureCheck> {
  const key = params.get("auth_key");
  if (key === null || !sameText(key, o.key)) return { ok: false, message: "unknown auth_key", field: "auth_key" };
  const ts = params.get("auth_timestamp");
  if (ts === null || !/^\d{1,12}$/.test(ts)) return { ok: false, message: "auth_timestamp is missing or not Unix seconds", field: "auth_timestamp" };
  if (Math.abs(nowS - Number(ts)) > MAX_CLOCK_SKEW_S) {
    return { ok: false, message: `auth_timestamp is more than ${MAX_CLOCK_SKEW_S} s from the server's clock`, field: "auth_timestamp" };
  }
  if (params.get("auth_version") !== "1.0") return { ok: false, message: "auth_version must be 1.0", field: "auth_version" };
  const bodyMd5 = params.get("body_md5");
  if (body !== "" || bodyMd5 !== null) {
    if (bodyMd5 === null || !sameText(bodyMd5.toLowerCase(), await md5Hex(body))) {
      return { ok: false, message: "body_md5 does not match the body", field: "body_md5" };
    }
  }
  const signature = params.get("auth_signature");
  if (signature === null) return { ok: false, message: "auth_signature is missing", field: "auth_signature" };
  const signed = [...params.entries()]
    .filter(([k]) => k !== "auth_signature")
    .map(([k, v]) => [k.toLowerCase(), v] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const expected = await hmacHex(o.secret, `${method.toUpperCase()}\n${path}\n${signed}`);
  if (!sameText(signature.toLowerCase(), expected)) return { ok: false, message: "auth_signature does not match", field: "auth_signature" };
  return { ok: true };
}
