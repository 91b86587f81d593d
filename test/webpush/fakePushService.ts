/**
 * A fake push service (RFC 8030) inside the test isolate: it intercepts the
 * user objects' outbound fetch (they run in this isolate, as
 * test/webhooks.test.ts relies on), and for each request does what a browser's
 * push service and the browser together do — checks the VAPID authorization
 * (RFC 8292: an ES256 JWT for the endpoint's origin, expiring within 24 h, `k`
 * the server's key) and decrypts the body with the subscriber's private key
 * (RFC 8291 aes128gcm, with http_ece, the reference implementation). Each
 * endpoint answers with the statuses it is scripted with, in turn.
 */
import { Buffer } from "node:buffer";
import { createECDH } from "node:crypto";
import { decrypt } from "http_ece";
import { decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import { vi } from "vitest";
import { base64UrlBytes, bytesToBase64Url } from "../../src/webpush/config";
import { env } from "cloudflare:workers";

export interface Subscriber {
  /** What the page would send to the registration route (PushSubscription.toJSON()). */
  subscription: { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };
  /** Decrypt a body sent to this subscriber, as its browser would. */
  open(body: Uint8Array): string;
}

export function subscriber(origin = "https://push.example.test"): Subscriber {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = bytesToBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  const endpoint = `${origin}/send/${crypto.randomUUID()}`;
  return {
    subscription: { endpoint, expirationTime: null, keys: { p256dh: bytesToBase64Url(ecdh.getPublicKey()), auth } },
    open: (body) => new TextDecoder().decode(decrypt(Buffer.from(body), { version: "aes128gcm", privateKey: ecdh, authSecret: auth })),
  };
}

/** One scripted answer; `before` runs while the request is in flight (the sender is awaiting it). */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  before?: () => Promise<void>;
}

export interface Delivery {
  endpoint: string;
  headers: Record<string, string>;
  bodyBytes: number;
  /** The decrypted notification. */
  text: string;
  /** The VAPID JWT's claims, after its signature was verified against `k`. */
  claims: { aud?: unknown; exp?: unknown; sub?: unknown };
  /** What the fake answered. */
  status: number;
}

export class FakePushService {
  readonly deliveries: Delivery[] = [];
  readonly problems: string[] = [];
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly scripts = new Map<string, Answer[]>();

  constructor() {
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => this.receive(new Request(input, init)));
  }

  add(sub: Subscriber, answers: Array<number | Answer> = [201]): void {
    this.subscribers.set(sub.subscription.endpoint, sub);
    this.scripts.set(
      sub.subscription.endpoint,
      answers.map((a) => (typeof a === "number" ? { status: a } : a)),
    );
  }

  to(sub: Subscriber): Delivery[] {
    return this.deliveries.filter((d) => d.endpoint === sub.subscription.endpoint);
  }

  private async receive(request: Request): Promise<Response> {
    const sub = this.subscribers.get(request.url);
    if (sub === undefined) {
      this.problems.push(`request to an unknown endpoint ${request.url}`);
      return new Response(null, { status: 404 });
    }
    const body = new Uint8Array(await request.arrayBuffer());
    const headers = Object.fromEntries(request.headers);
    const { claims, problem } = await this.checkVapid(headers.authorization ?? "", new URL(request.url).origin);
    if (problem !== undefined) this.problems.push(problem);
    let text = "";
    try {
      text = sub.open(body);
    } catch (err) {
      this.problems.push(`could not decrypt: ${String(err)}`);
    }
    const script = this.scripts.get(request.url) ?? [];
    const answer = script.length > 1 ? (script.shift() ?? { status: 201 }) : (script[0] ?? { status: 201 });
    await answer.before?.();
    this.deliveries.push({ endpoint: request.url, headers, bodyBytes: body.byteLength, text, claims, status: answer.status });
    return new Response(null, { status: answer.status, headers: answer.headers });
  }

  private async checkVapid(authorization: string, origin: string): Promise<{ claims: Delivery["claims"]; problem?: string }> {
    const m = /^vapid t=([^,\s]+), *k=([A-Za-z0-9_-]+)$/.exec(authorization);
    if (m?.[1] === undefined || m[2] === undefined) return { claims: {}, problem: `Authorization is not vapid t=, k=: ${authorization}` };
    if (m[2] !== env.VAPID_PUBLIC_KEY) return { claims: {}, problem: "k is not the deployment's VAPID public key" };
    const point = base64UrlBytes(m[2]) ?? new Uint8Array(65);
    const key = await importJWK({ kty: "EC", crv: "P-256", x: bytesToBase64Url(point.slice(1, 33)), y: bytesToBase64Url(point.slice(33, 65)) }, "ES256");
    if (decodeProtectedHeader(m[1]).alg !== "ES256") return { claims: {}, problem: "VAPID JWT is not ES256" };
    try {
      const { payload } = await jwtVerify(m[1], key, { audience: origin, algorithms: ["ES256"], requiredClaims: ["exp", "sub"] });
      const exp = payload.exp ?? 0;
      if (exp > Date.now() / 1000 + 24 * 3600) return { claims: payload, problem: "VAPID exp is more than 24 h ahead" };
      return { claims: payload };
    } catch (err) {
      return { claims: {}, problem: `VAPID JWT refused: ${String(err)}` };
    }
  }
}
