/**
 * A push service (RFC 8030) on loopback, for real-process tests: it mints
 * subscriptions as a browser would (a P-256 ECDH key pair and a 16-byte auth
 * secret), and for every POST to one of their endpoints checks the VAPID
 * authorization (RFC 8292: ES256 JWT, `aud` = this origin, `exp` within 24 h,
 * `k` = the expected key) and decrypts the body (RFC 8291 aes128gcm, with
 * http_ece) as the browser would. Its endpoints are http:// URLs, which the
 * Worker accepts only under DEV_MODE=1.
 */
import { createECDH, randomBytes, type ECDH } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { importJWK, jwtVerify } from "jose";

// http_ece is CommonJS without types: the one function used here.
const ece = createRequire(import.meta.url)("http_ece") as {
  decrypt(buffer: Buffer, params: { version: "aes128gcm"; privateKey: ECDH; authSecret: string }): Buffer;
};

export interface FakeSubscription {
  endpoint: string;
  expirationTime: null;
  keys: { p256dh: string; auth: string };
}

export interface Received {
  endpoint: string;
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
  /** The decrypted notification, or undefined when it could not be decrypted (see problems). */
  text: string | undefined;
  claims: Record<string, unknown>;
  status: number;
}

interface Subscriber {
  ecdh: ECDH;
  auth: string;
  answers: number[];
}

export class FakePushService {
  readonly received: Received[] = [];
  readonly problems: string[] = [];
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly server: Server;
  readonly origin: string;
  private readonly vapidPublicKey: string;

  private constructor(server: Server, origin: string, vapidPublicKey: string) {
    this.server = server;
    this.origin = origin;
    this.vapidPublicKey = vapidPublicKey;
  }

  /** Listen on an ephemeral loopback port; pushes must be signed by `vapidPublicKey`'s private key. */
  static async start(vapidPublicKey: string): Promise<FakePushService> {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const { port } = server.address() as AddressInfo;
    const fake = new FakePushService(server, `http://127.0.0.1:${port}`, vapidPublicKey);
    server.on("request", (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        void fake.receive(`${fake.origin}${req.url ?? ""}`, req.method ?? "", req.headers, Buffer.concat(chunks)).then((status) => {
          res.writeHead(status).end();
        });
      });
    });
    return fake;
  }

  /** A new subscription, answering `answers` in turn (the last one repeats). */
  subscribe(answers: number[] = [201]): FakeSubscription {
    const ecdh = createECDH("prime256v1");
    ecdh.generateKeys();
    const auth = randomBytes(16).toString("base64url");
    const endpoint = `${this.origin}/push/${randomBytes(12).toString("hex")}`;
    this.subscribers.set(endpoint, { ecdh, auth, answers: [...answers] });
    return { endpoint, expirationTime: null, keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth } };
  }

  to(sub: FakeSubscription): Received[] {
    return this.received.filter((r) => r.endpoint === sub.endpoint);
  }

  close(): Promise<void> {
    return new Promise((done) => this.server.close(() => done()));
  }

  private async receive(endpoint: string, method: string, headers: Received["headers"], body: Buffer): Promise<number> {
    const sub = this.subscribers.get(endpoint);
    if (sub === undefined || method !== "POST") {
      this.problems.push(`${method} to an unknown endpoint ${endpoint}`);
      return 404;
    }
    const claims = await this.checkVapid(String(headers.authorization ?? ""));
    let text: string | undefined;
    try {
      text = ece.decrypt(body, { version: "aes128gcm", privateKey: sub.ecdh, authSecret: sub.auth }).toString("utf8");
    } catch (err) {
      this.problems.push(`could not decrypt: ${String(err)}`);
    }
    const status = (sub.answers.length > 1 ? sub.answers.shift() : sub.answers[0]) ?? 201;
    this.received.push({ endpoint, headers, bodyBytes: body.byteLength, text, claims, status });
    return status;
  }

  private async checkVapid(authorization: string): Promise<Record<string, unknown>> {
    const m = /^vapid t=([^,\s]+), *k=([A-Za-z0-9_-]+)$/.exec(authorization);
    if (m?.[1] === undefined || m[2] === undefined) {
      this.problems.push(`Authorization is not "vapid t=…, k=…": ${authorization}`);
      return {};
    }
    if (m[2] !== this.vapidPublicKey) this.problems.push("k is not the expected VAPID public key");
    const point = Buffer.from(m[2], "base64url");
    const key = await importJWK(
      { kty: "EC", crv: "P-256", x: point.subarray(1, 33).toString("base64url"), y: point.subarray(33, 65).toString("base64url") },
      "ES256",
    );
    try {
      const { payload } = await jwtVerify(m[1], key, { audience: this.origin, algorithms: ["ES256"], requiredClaims: ["exp", "sub"] });
      if ((payload.exp ?? 0) > Date.now() / 1000 + 24 * 3600) this.problems.push("VAPID exp is more than 24 h ahead");
      return payload;
    } catch (err) {
      this.problems.push(`VAPID JWT refused: ${String(err)}`);
      return {};
    }
  }
}
