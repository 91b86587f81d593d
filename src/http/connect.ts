/**
 * GET /v1/connect: every refusal happens here, before the upgrade and (but for
 * the session cap, which only the user's object knows) before any Durable
 * Object is touched.
 */
import type { Context } from "hono";
import { verifyClientToken } from "../auth/jwt";
import type { Config } from "../config";
import { CONNECT_HEADER, type ConnectParams } from "../hub/rpc";
import { BEARER_PROTOCOL_PREFIX, isDevice, parseSeq, SUBPROTOCOL } from "@switchboard/protocol";
import type { AppEnv } from "./env";
import { jsonError } from "./errors";
import { queryProblem } from "./query";

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

/**
 * The refusals every client upgrade route shares (/v1/connect, /v1/stomp): not
 * an upgrade (426), an unknown query parameter (400), a foreign Origin (403).
 */
export function upgradeRefusal(c: Context<AppEnv>, config: Config, query: readonly string[]): Response | undefined {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    return new Response(JSON.stringify({ error: { code: "upgrade_required", message: "this endpoint only accepts WebSocket upgrades" } }), {
      status: 426,
      headers: { Upgrade: "websocket", "Content-Type": "application/json" },
    });
  }
  // Before the token check, so a typo (`?devcie=`) is named even with a good token;
  // only names are echoed, never values (the token may be one).
  const badQuery = queryProblem(c.req.url, query);
  if (badQuery !== undefined) return badQuery;
  if (!originAllowed(c.req.header("Origin"), c.req.url, config)) {
    return jsonError(403, "origin_not_allowed", "Origin is not allowed (ALLOWED_ORIGINS)", "Origin");
  }
  return undefined;
}

export async function connect(c: Context<AppEnv>, config: Config): Promise<Response> {
  const refused = upgradeRefusal(c, config, CONNECT_QUERY);
  if (refused !== undefined) return refused;

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
    return jsonError(400, "bad_request", "device must be 1-64 characters of A-Z a-z 0-9 . _ : @ -", "device");
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
