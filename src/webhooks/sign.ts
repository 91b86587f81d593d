/**
 * Webhook signatures, Stripe-style: `Switchboard-Signature: t=<unix s>,v1=<hex>`
 * where hex = HMAC-SHA256(WEBHOOK_SECRET, `${t}.${body}`). Signing the timestamp
 * with the body lets receivers refuse replays older than a few minutes.
 */
import { hmacHex } from "../util/hmac";

const encoder = new TextEncoder();

export async function signatureHeader(secret: string, timestamp: number, body: string): Promise<string> {
  return `t=${timestamp},v1=${await hmacHex(secret, `${timestamp}.${body}`)}`;
}

/** What a receiver runs (exported for tests and for the README's example). */
export async function verifySignature(secret: string, header: string, body: string, nowSeconds: number, toleranceSeconds = 300): Promise<boolean> {
  const parts = new Map(header.split(",").map((kv) => kv.split("=", 2) as [string, string]));
  const t = Number(parts.get("t"));
  const v1 = parts.get("v1");
  if (!Number.isInteger(t) || v1 === undefined || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const want = await hmacHex(secret, `${t}.${body}`);
  if (want.length !== v1.length) return false;
  return crypto.subtle.timingSafeEqual(encoder.encode(want), encoder.encode(v1));
}
