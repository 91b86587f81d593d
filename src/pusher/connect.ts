/**
 * GET /pusher/users/{userId}/app/{key}: where pusher-js dials when an app
 * sets `wsPath: "/pusher/users/" + encodeURIComponent(userId)`. The userId in
 * the path only routes the socket to that user's object; Pusher's own signin
 * (or a per-user channel's auth) proves it there, within the auth deadline.
 * Refusals that Pusher reports over the socket (unknown key 4001, old
 * protocol 4007) are sent from the Worker without touching any object.
 */
import type { Context } from "hono";
import { CONNECT_HEADER, type ConnectParams } from "../hub/rpc";
import { tryClose, trySend } from "../hub/sockets";
import { isUserId } from "@switchboard/protocol";
import { AUTH_DEADLINE_MS } from "./config";
import type { PusherEnv } from "./http";
import { encodePusherError, PROTOCOL_VERSION, PusherCode } from "./protocol";
import { PUSHER_DIALECT } from "./state";

/** Accept the upgrade here, say why (if Pusher would), and close: no object is involved. */
function refuseOverSocket(code: number, message: string | undefined): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  if (message !== undefined) trySend(server, encodePusherError(code as PusherCode, message));
  tryClose(server, code, message ?? "refused");
  return new Response(null, { status: 101, webSocket: client });
}

/** Past withPusherConfig, upgradeOnly and allowedOrigin (src/pusher/http.ts). */
export async function pusherConnect(c: Context<PusherEnv>): Promise<Response> {
  const userId = c.req.param("userId");
  // Not a user this deployment could have: closed before any frame, with a
  // code (4009) after which pusher-js does not retry.
  if (userId === undefined || !isUserId(userId)) return refuseOverSocket(PusherCode.Unauthorized, undefined);
  if (c.req.param("key") !== c.var.pusher.key) return refuseOverSocket(PusherCode.AppNotFound, "App key not in this app (PUSHER_KEY)");
  const protocol = Number(c.req.query("protocol") ?? "");
  if (!Number.isInteger(protocol) || protocol < PROTOCOL_VERSION) {
    return refuseOverSocket(PusherCode.UnsupportedProtocol, `unsupported protocol version; ${PROTOCOL_VERSION} or later`);
  }
  const params: ConnectParams = {
    userId,
    // The object names the session (newPusherSession); these are placeholders the native path would use.
    device: "pusher",
    since: undefined,
    expiresAt: Date.now() + AUTH_DEADLINE_MS,
    subprotocol: undefined,
    dialect: PUSHER_DIALECT,
  };
  const headers = new Headers({ Upgrade: "websocket", [CONNECT_HEADER]: JSON.stringify(params) });
  return c.env.USER_HUB.getByName(userId).fetch("https://user-hub/connect", { headers });
}
