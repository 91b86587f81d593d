/**
 * GET /v1/connect: every refusal happens here, before the upgrade and (but for
 * the session cap, which only the user's object knows) before any Durable
 * Object is touched.
 */
import type { Context, MiddlewareHandler } from "hono";
import { verifyClientToken } from "../auth/jwt";
import type { Config } from "../config";
import { CONNECT_HEADER, type ConnectParams } from "../hub/rpc";
import { BEARER_PROTOCOL_PREFIX, isDevice, parseSeq, SUBPROTOCOL } from "@switchboard/protocol";
import type { AppEnv } from "./env";
import { jsonError, refuse, refuseWith, type ErrorBody } from "./errors";
import { DEVICE_RULE } from "./params";

/** Everything /v1/connect reads from its query string. */
export const CONNECT_QUERY = ["device", "since", "token"] as const;

/** `Authorization: Bearer <x>` → x. The scheme is case-insensitive (RFC 9110 §11.1). */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return /^Bearer +(\S+) *$/i.exec(header)?.[1];
}

/** Sec-WebSocket-Protocol is a comma-separated token list (RFC 6455 §4.1). */
export function offeredProtocols(header: string | undefined): string[] {
  return (header ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
}

/** The request's own origin; undefined when the runtime's URL does not parse (two Host headers make `a, b` its host). */
function sameOrigin(requestUrl: string): string | undefined {
  try {
    return new URL(requestUrl).origin;
  } catch {
    return undefined;
  }
}

export function originAllowed(origin: string | undefined, requestUrl: string, config: Config): boolean {
  // Non-browser clients send no Origin; the token is their credential.
  if (origin === undefined) return true;
  if (origin === sameOrigin(requestUrl)) return true;
  return config.allowedOrigins.has(origin);
}

/** The 426 for a plain request to an upgrade route (RFC 9110 §15.5.22: it names the protocol to switch to). */
export function upgradeRequired(): Response {
  const body: ErrorBody = { error: { code: "upgrade_required", message: "this endpoint only accepts WebSocket upgrades" } };
  return new Response(JSON.stringify(body), {
    status: 426,
    headers: { Upgrade: "websocket", "Content-Type": "application/json" },
  });
}

/**
 * The refusals every client upgrade route shares, in this order: not an
 * upgrade (426), then (the route's query validator) an unknown query
 * parameter, then a foreign Origin (403). The query comes before the token
 * check, so a typo (`?devcie=`) is named even with a good token; only names
 * are echoed, never values (the token may be one).
 */
export const upgradeOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") refuseWith(upgradeRequired());
  await next();
};

export const allowedOrigin: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!originAllowed(c.req.header("Origin"), c.req.url, c.var.config)) {
    refuse(403, "origin_not_allowed", "Origin is not allowed (ALLOWED_ORIGINS)", "Origin");
  }
  await next();
};

/** GET /v1/connect, past upgradeOnly, its query validator and allowedOrigin (src/http/app.ts). */
export async function connect(c: Context<AppEnv>, config: Config): Promise<Response> {
  const protocols = offeredProtocols(c.req.header("Sec-WebSocket-Protocol"));
  if (protocols.length > 0 && !protocols.includes(SUBPROTOCOL)) {
    return jsonError(400, "bad_subprotocol", `subprotocols must include ${SUBPROTOCOL}`, "Sec-WebSocket-Protocol");
  }
  const fromProtocol = protocols.find((p) => p.startsWith(BEARER_PROTOCOL_PREFIX))?.slice(BEARER_PROTOCOL_PREFIX.length);
  // Never log the query string: it may hold the token.
  const token = bearerToken(c.req.header("Authorization")) ?? fromProtocol ?? c.req.query("token");
  if (token === undefined || token === "") return jsonError(401, "unauthorized", "missing token");
  const verified = await verifyClientToken(token, config);
  if (!verified.ok) return jsonError(401, "unauthorized", verified.reason);

  const deviceParam = c.req.query("device");
  if (deviceParam !== undefined && !isDevice(deviceParam)) {
    return jsonError(400, "bad_request", DEVICE_RULE, "device");
  }
  const sinceParam = c.req.query("since");
  const since = sinceParam === undefined ? undefined : parseSeq(sinceParam);
  if (sinceParam !== undefined && since === undefined) {
    return jsonError(400, "bad_request", "since must be an integer from 0 to 2^53-1", "since");
  }

  const params: ConnectParams = {
    userId: verified.identity.userId,
    device: deviceParam ?? crypto.randomUUID(),
    since,
    expiresAt: verified.identity.expiresAt,
    subprotocol: protocols.length > 0 ? SUBPROTOCOL : undefined,
  };
  const headers = new Headers({ Upgrade: "websocket", [CONNECT_HEADER]: JSON.stringify(params) });
  return c.env.USER_HUB.getByName(params.userId).fetch("https://user-hub/connect", { headers });
}
