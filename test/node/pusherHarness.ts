/**
 * The real Pusher libraries against Switchboard on standalone workerd:
 * pusher-js (its Node build) dials the Worker as an app configures it
 * (docs/pusher.md), the `pusher` server SDK signs and sends the API calls, and
 * auth strings come from the SDK's own authenticateUser / authorizeChannel.
 */
import PusherJsModule, { type Options } from "pusher-js";
import PusherServer from "pusher";
import { hs256, claimsFor } from "../../scripts/lib/tokens.ts";
import type { Service } from "../../scripts/lib/service.ts";
import { eventually } from "../../scripts/lib/time.ts";

export const APP_ID = "node-test-app";
export const KEY = "node-test-key";
export const SECRET = "node-test-secret-0123456789";
export const API_KEY = "node-test-api-key-0123456789";
export const JWT_SECRET = "node-test-jwt-secret-0123456789abcdef";

/** The knobs of a Switchboard with the Pusher dialect on (startService({ kind: "workerd", knobs: PUSHER_KNOBS })). */
export const PUSHER_KNOBS = { JWT_SECRET, API_KEY, PUSHER_APP_ID: APP_ID, PUSHER_KEY: KEY, PUSHER_SECRET: SECRET };

export function server(service: Service, secret = SECRET): PusherServer {
  return new PusherServer({ appId: APP_ID, key: KEY, secret, host: "127.0.0.1", port: String(service.port), useTLS: false });
}

let counter = 0;
export function uniqueUser(prefix = "pu"): string {
  counter++;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

// pusher-js's Node build is a CommonJS bundle whose module.exports is the class; its
// typings describe an ES module with a default export (nodenext sees the namespace).
type PusherCtor = typeof PusherJsModule.default;
export type PusherClient = InstanceType<PusherCtor>;
const PusherJs = PusherJsModule as unknown as PusherCtor;

export interface ClientOptions {
  key?: string;
  /** Sign in as this id instead of the path's user (to test refusals). */
  signinAs?: string;
  /** Return this auth string from the user-auth handler. */
  badUserAuth?: string;
}

/**
 * A pusher-js client configured as docs/pusher.md says; the user- and
 * channel-auth handlers stand in for the app's backend and use the real SDK.
 */
export function client(service: Service, userId: string, o: ClientOptions = {}): PusherClient {
  const sdk = server(service);
  const options: Options = {
    cluster: "switchboard", // pusher-js 8 requires one; wsHost overrides it
    wsHost: "127.0.0.1",
    wsPort: service.port,
    forceTLS: false,
    enabledTransports: ["ws"],
    wsPath: `/pusher/users/${encodeURIComponent(userId)}`,
    userAuthentication: {
      endpoint: "/unused",
      transport: "ajax",
      customHandler: ({ socketId }, callback) => {
        const auth = sdk.authenticateUser(socketId, { id: o.signinAs ?? userId });
        callback(null, o.badUserAuth === undefined ? auth : { ...auth, auth: o.badUserAuth });
      },
    },
    channelAuthorization: {
      endpoint: "/unused",
      transport: "ajax",
      customHandler: ({ socketId, channelName }, callback) => callback(null, sdk.authorizeChannel(socketId, channelName)),
    },
  };
  return new PusherJs(o.key ?? KEY, options);
}

export async function connected(p: PusherClient): Promise<string> {
  await eventually("connected", () => p.connection.state === "connected");
  return p.connection.socket_id;
}

/** Connect, sign in, and wait until #server-to-user-{id} is subscribed (pusher-js does it after signin_success). */
export async function signedIn(p: PusherClient): Promise<void> {
  await connected(p);
  p.signin();
  await eventually("signed in and subscribed", () => p.user.serverToUserChannel?.subscribed === true);
}

/** The errors pusher-js emitted on its connection (pusher:error frames and refused closes). */
export function errorsOf(p: PusherClient): Array<{ type?: string; data?: { code?: number }; error?: { data?: { code?: number } } }> {
  const list: Array<{ type?: string; data?: { code?: number } }> = [];
  p.connection.bind("error", (e: { type?: string; data?: { code?: number } }) => list.push(e));
  return list;
}

export function nativeToken(userId: string): Promise<string> {
  return hs256(claimsFor(userId, 3600), JWT_SECRET);
}

export async function nativePush(service: Service, userId: string, data: unknown): Promise<Response> {
  return fetch(`${service.base}/v1/users/${encodeURIComponent(userId)}/messages`, {
    method: "POST",
    headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({ data, ttl: 0 }),
  });
}

export async function presence(service: Service, userId: string): Promise<{ online: boolean; sessions: Array<{ sessionId: string }> }> {
  const res = await fetch(`${service.base}/v1/users/${encodeURIComponent(userId)}/presence`, { headers: { Authorization: `Bearer ${API_KEY}` } });
  return (await res.json()) as { online: boolean; sessions: Array<{ sessionId: string }> };
}
