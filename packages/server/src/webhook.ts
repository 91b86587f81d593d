/**
 * Webhook verification: `Switchboard-Signature: t=<unix s>,v1=<hex>`, where
 * hex = HMAC-SHA256(secret, `${t}.${rawBody}`) (src/webhooks/sign.ts). The
 * MAC is checked with crypto.subtle.verify, which compares in constant time
 * (unlike `===` on the hex), and the timestamp bounds replays.
 */

export const SIGNATURE_HEADER = "Switchboard-Signature";

/** A Headers object, a plain record (Node's IncomingHttpHeaders), or the header's value itself. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined> | string;

export interface VerifyWebhookOptions {
  /** Accept a timestamp at most this far from now, in seconds. Default 300. */
  toleranceSeconds?: number;
  /** Seconds since the epoch; default now. */
  now?: number;
}

const encoder = new TextEncoder();

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

/** True when the body is the one Switchboard signed with `secret`, recently enough. Never throws for bad input. */
export async function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  rawBody: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): Promise<boolean> {
  const header = headerValue(headers);
  if (header === undefined || typeof secret !== "string" || secret === "") return false;
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
