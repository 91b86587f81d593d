/**
 * Web Push's knobs: the VAPID key pair and contact (RFC 8292). All three set =
 * Web Push is on; none set = it is off and its routes answer `webpush_disabled`;
 * some set, or a malformed key, = a configuration error (fail closed, like
 * src/config.ts), so a deployment never half-sends.
 */
import { text, type Vars } from "../util/vars.ts";

/** Values shipped in `.dev.vars` for `npm run dev`; the private key is refused outside dev mode (and by `npm run serve`). */
export const DEV_VAPID_PUBLIC_KEY = "BLm4UFVHTAwhCI6_L_7xpwFZrYvicbIpfl9YsnmfyAbP1ECiVDxVlBP4oIbKhcFEZbNpfbjJ3TXS5LlWdASA8nQ";
export const DEV_VAPID_PRIVATE_KEY = "qt3k6hDl9FOVdOOU9Hq1oOJ7iY7ifyGMwqXJKuNEnF4";
export const DEV_VAPID_SUBJECT = "mailto:dev@switchboard.invalid";

export interface WebPushConfig {
  /** base64url of the 65-byte uncompressed P-256 point: what the page passes to pushManager.subscribe. */
  publicKey: string;
  /** base64url of the 32-byte private scalar (JWK `d`), as `web-push generate-vapid-keys` prints it. */
  privateKey: string;
  /** `mailto:` or `https:` contact the push service may use (RFC 8292 §2.1). */
  subject: string;
}

/** base64url (padding tolerated) → bytes; undefined when it is not base64url. */
export function base64UrlBytes(value: string): Uint8Array | undefined {
  const unpadded = value.replace(/=+$/, "");
  if (!/^[A-Za-z0-9_-]*$/.test(unpadded) || unpadded.length % 4 === 1) return undefined;
  const binary = atob(
    unpadded
      .replace(/-/g, "+")
      .replace(/_/g, "/")
      .padEnd(Math.ceil(unpadded.length / 4) * 4, "="),
  );
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export function bytesToBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** An uncompressed SEC1 point on P-256 is 65 bytes starting 0x04 (RFC 8291 §3.1; RFC 8292 §3.2). */
export function isUncompressedP256(bytes: Uint8Array | undefined): boolean {
  return bytes !== undefined && bytes.byteLength === 65 && bytes[0] === 0x04;
}

export type WebPushConfigResult = { ok: true; config: WebPushConfig | undefined } | { ok: false; problem: string };

/**
 * The VAPID knobs, checked for shape. That the private key belongs to the
 * public one is checked when the signing key is first imported
 * (src/webpush/vapid.ts): WebCrypto does that asynchronously.
 */
export function parseWebPushConfig(vars: Vars): WebPushConfigResult {
  const publicKey = text(vars, "VAPID_PUBLIC_KEY");
  const privateKey = text(vars, "VAPID_PRIVATE_KEY");
  const subject = text(vars, "VAPID_SUBJECT");
  if (publicKey === undefined && privateKey === undefined && subject === undefined) return { ok: true, config: undefined };
  const missing = [
    ["VAPID_PUBLIC_KEY", publicKey],
    ["VAPID_PRIVATE_KEY", privateKey],
    ["VAPID_SUBJECT", subject],
  ]
    .filter(([, v]) => v === undefined)
    .map(([name]) => name);
  if (publicKey === undefined || privateKey === undefined || subject === undefined) {
    return { ok: false, problem: `${missing.join(" and ")} not set (Web Push needs VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT)` };
  }
  if (!isUncompressedP256(base64UrlBytes(publicKey))) {
    return { ok: false, problem: "VAPID_PUBLIC_KEY must be base64url of a 65-byte uncompressed P-256 point (web-push generate-vapid-keys)" };
  }
  if (base64UrlBytes(privateKey)?.byteLength !== 32) {
    return { ok: false, problem: "VAPID_PRIVATE_KEY must be base64url of a 32-byte P-256 private key (web-push generate-vapid-keys)" };
  }
  if (!/^(mailto:\S+@\S+|https:\/\/\S+)$/.test(subject)) {
    return { ok: false, problem: "VAPID_SUBJECT must be a mailto: or https: URL (RFC 8292 §2.1)" };
  }
  if (text(vars, "DEV_MODE") !== "1" && privateKey === DEV_VAPID_PRIVATE_KEY) {
    return { ok: false, problem: "VAPID_PRIVATE_KEY is the development default; generate your own (npx web-push generate-vapid-keys)" };
  }
  return { ok: true, config: { publicKey: publicKey.replace(/=+$/, ""), privateKey: privateKey.replace(/=+$/, ""), subject } };
}
