/**
 * Webhook verification: `Switchboard-Signature: t=<unix s>,v1=<hex>`, where
 * hex = HMAC-SHA256(secret, `${t}.${rawBody}`) (src/webhooks/sign.ts). The
 * MAC is checked with crypto.subtle.verify, which compares in constant time
 * (unlike `===` on the hex), and the timestamp bounds replays.
 */

import { invalidArgument } from "./errors.ts";
import { checkArity, checkOptions, integer, nonEmptyString, type Check } from "./validate.ts";

export const SIGNATURE_HEADER = "Switchboard-Signature";

/** A Headers object, a plain record (Node's IncomingHttpHeaders), or the header's value itself. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined> | string;

export interface VerifyWebhookOptions {
  /** Accept a timestamp at most this far from now, in seconds. Default 300. */
  toleranceSeconds?: number;
  /** Seconds since the epoch; default now. */
  now?: number;
}

const VERIFY_OPTIONS = { toleranceSeconds: integer(0), now: integer(0) } satisfies Record<keyof VerifyWebhookOptions, Check>;

const encoder = new TextEncoder();

/**
 * The caller's own arguments: a wrong one is a bug in the receiving code
 * (an unset secret, a body already parsed to an object, a misspelt option),
 * so it throws invalid_argument instead of rejecting every webhook as forged.
 */
function checkVerifyArguments(secret: unknown, headers: unknown, rawBody: unknown, options: unknown): void {
  nonEmptyString(secret, "secret");
  if (typeof headers !== "string" && (typeof headers !== "object" || headers === null || Array.isArray(headers))) {
    throw invalidArgument("headers", "headers must be a Headers, a record of headers or the header's value");
  }
  if (typeof rawBody !== "string" && !(rawBody instanceof Uint8Array)) {
    throw invalidArgument("rawBody", "rawBody must be the body as received, a string or a Uint8Array (not parsed JSON)");
  }
  checkOptions(options, "", VERIFY_OPTIONS);
}

function headerValue(headers: WebhookHeaders): string | undefined {
  if (typeof headers === "string") return headers;
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(SIGNATURE_HEADER) ?? undefined;
  const wanted = SIGNATURE_HEADER.toLowerCase();
  for (const [name, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (name.toLowerCase() === wanted) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

function hexBytes(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (hex.length !== 64 || !/^[0-9a-f]+$/i.test(hex)) return undefined;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/**
 * True when the body is the one Switchboard signed with `secret`, recently
 * enough. What came over the network (a missing or malformed header, a
 * changed body) is false, never a throw; the caller's own arguments are
 * checked (see checkVerifyArguments).
 */
export async function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  rawBody: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): Promise<boolean> {
  checkArity(arguments, 4, "verifyWebhook(secret, headers, rawBody, options)");
  checkVerifyArguments(secret, headers, rawBody, options);
  const header = headerValue(headers);
  if (typeof header !== "string") return false;
  let t: number | undefined;
  const macs: Uint8Array<ArrayBuffer>[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t" && /^\d+$/.test(value)) t = Number(value);
    else if (key === "v1") {
      const mac = hexBytes(value);
      if (mac !== undefined) macs.push(mac);
    }
  }
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (t === undefined || macs.length === 0 || Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false;
  const body = typeof rawBody === "string" ? encoder.encode(rawBody) : rawBody;
  const signed = new Uint8Array(encoder.encode(`${t}.`).byteLength + body.byteLength);
  signed.set(encoder.encode(`${t}.`));
  signed.set(body, signed.byteLength - body.byteLength);
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  for (const mac of macs) {
    if (await crypto.subtle.verify("HMAC", key, mac, signed)) return true;
  }
  return false;
}
