/**
 * GET /v1/stomp: the STOMP dialect's upgrade. Refusals that need no frame
 * are HTTP answers: the ones every upgrade route shares (not an upgrade 426,
 * unknown query 400, a foreign Origin 403) by the route's middleware in
 * src/http/app.ts, then here an offered subprotocol list without a STOMP
 * version (400).
 *
 * A STOMP client names its token in the CONNECT frame (`Authorization:
 * Bearer`, or `passcode`), after the upgrade, yet the socket must live in its
 * user's object, which only the token names. So:
 * - with `?token=`, the token is checked here and the upgrade goes straight to
 *   the user's object (nothing in between; the object hibernates end to end);
 * - otherwise this Worker accepts the socket, reads the CONNECT frame, checks
 *   its token, opens the socket to the user's object and relays both ways.
 *   The object still hibernates (heart-beats are echoed by the runtime through
 *   the relay); the relay costs this Worker's CPU per frame (docs/stomp.md).
 * A bad token gets ERROR + close 1008 either way (a browser cannot read a 401).
 */
import type { Context } from "hono";
import { verifyClientToken } from "../auth/jwt";
import type { Config } from "../config";
import { bearerToken, offeredProtocols } from "../http/connect";
import type { AppEnv } from "../http/env";
import { jsonError } from "../http/errors";
import { DEVICE_RULE } from "../http/params";
import { CONNECT_HEADER, type ConnectParams } from "../hub/rpc";
import { echoableCode, tryClose, trySend } from "../hub/sockets";
import { CloseCode, isDevice, MAX_CLIENT_FRAME_BYTES } from "@switchboard/protocol";
import { parseFrames, toBytes, type ClientFrame } from "./frame";
import { errorFrame, STOMP_CONNECT_DEADLINE_MS, StompClose } from "./messages";
import { STOMP_DIALECT } from "./state";

export const STOMP_QUERY = ["device", "token"] as const;
/** Offered by stompjs (`new WebSocket(url, ["v12.stomp","v11.stomp","v10.stomp"])`), highest first. */
export const STOMP_SUBPROTOCOLS = ["v12.stomp", "v11.stomp", "v10.stomp"] as const;

/** Past upgradeOnly, its query validator and allowedOrigin (src/http/app.ts). */
export async function stompConnect(c: Context<AppEnv>, config: Config): Promise<Response> {
  // A browser fails the connection when it offered subprotocols and none is answered (WHATWG WebSockets);
  // Spring's Java client offers none, and gets none.
  const offered = offeredProtocols(c.req.header("Sec-WebSocket-Protocol"));
  const subprotocol = STOMP_SUBPROTOCOLS.find((p) => offered.includes(p));
  if (offered.length > 0 && subprotocol === undefined) {
    return jsonError(400, "bad_subprotocol", `subprotocols must include one of ${STOMP_SUBPROTOCOLS.join(", ")}`, "Sec-WebSocket-Protocol");
  }
  const device = c.req.query("device");
  if (device !== undefined && !isDevice(device)) return jsonError(400, "bad_request", DEVICE_RULE, "device");

  // Never log the query string: it may hold the token.
  const queryToken = c.req.query("token");
  if (queryToken !== undefined && queryToken !== "") {
    const verified = await verifyClientToken(queryToken, config);
    if (!verified.ok) return refuseInBand(subprotocol, `unauthorized: ${verified.reason}`);
    const params = stompParams(verified.identity.userId, device ?? crypto.randomUUID(), verified.identity.expiresAt, subprotocol);
    return toUserHub(c.env, params);
  }
  return relay(c.env, config, subprotocol, device);
}

function stompParams(userId: string, device: string, expiresAt: number, subprotocol: string | undefined): ConnectParams {
  return { userId, device, since: undefined, expiresAt, subprotocol, dialect: STOMP_DIALECT };
}

function toUserHub(env: Env, params: ConnectParams): Promise<Response> {
  const headers = new Headers({ Upgrade: "websocket", [CONNECT_HEADER]: JSON.stringify(params) });
  return env.USER_HUB.getByName(params.userId).fetch("https://user-hub/connect", { headers });
}

function upgraded(client: WebSocket, subprotocol: string | undefined): Response {
  return new Response(null, { status: 101, webSocket: client, headers: subprotocol === undefined ? undefined : { "Sec-WebSocket-Protocol": subprotocol } });
}

function refuse(ws: WebSocket, code: number, message: string): void {
  trySend(ws, errorFrame(message, undefined));
  tryClose(ws, code, message);
}

/** Accept, and answer the client's first frame with ERROR + close (the local runtime holds a close sent before any client frame). */
function refuseInBand(subprotocol: string | undefined, message: string): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  const timer = setTimeout(() => refuse(server, CloseCode.PolicyViolation, message), STOMP_CONNECT_DEADLINE_MS);
  server.addEventListener("message", () => {
    clearTimeout(timer);
    refuse(server, CloseCode.PolicyViolation, message);
  });
  server.addEventListener("close", () => clearTimeout(timer));
  return upgraded(client, subprotocol);
}

/** The CONNECT frame's token: `Authorization: Bearer <jwt>` (what a Spring ChannelInterceptor reads), else `passcode`. */
function connectToken(frame: ClientFrame): string | undefined {
  const auth = frame.headers.get("Authorization") ?? frame.headers.get("authorization");
  return bearerToken(auth) ?? frame.headers.get("passcode");
}

/**
 * Binary messages reach a Worker's own socket as Blob under the standard
 * binaryType default (the hibernation API hands a Durable Object ArrayBuffers):
 * ask for ArrayBuffers, and still convert a Blob should one come.
 */
function arrayBuffers(ws: WebSocket): void {
  (ws as WebSocket & { binaryType?: "blob" | "arraybuffer" }).binaryType = "arraybuffer";
}
async function asSendable(data: unknown): Promise<string | ArrayBuffer> {
  if (typeof data === "string" || data instanceof ArrayBuffer) return data;
  if (data instanceof Blob) return data.arrayBuffer();
  return "";
}

function relay(env: Env, config: Config, subprotocol: string | undefined, queryDevice: string | undefined): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  arrayBuffers(server);
  // Messages are handled one after another even when one must be converted (Blob) first.
  let inOrder: Promise<void> = Promise.resolve();
  let phase: "waiting" | "linking" | "linked" | "closed" = "waiting";
  let upstream: WebSocket | undefined;
  const early: (string | ArrayBuffer)[] = [];
  let earlyBytes = 0;
  let pending = new Uint8Array(0);
  const fail = (code: number, message: string) => {
    phase = "closed";
    refuse(server, code, message);
  };
  const timer = setTimeout(() => {
    if (phase === "waiting" || phase === "linking") fail(CloseCode.PolicyViolation, "no CONNECT in time");
  }, STOMP_CONNECT_DEADLINE_MS);

  const link = async (frame: ClientFrame): Promise<void> => {
    const token = connectToken(frame);
    if (token === undefined || token === "") return fail(CloseCode.PolicyViolation, "unauthorized: missing token (Authorization: Bearer, passcode or ?token=)");
    const verified = await verifyClientToken(token, config);
    if (!verified.ok) return fail(CloseCode.PolicyViolation, `unauthorized: ${verified.reason}`);
    const device = frame.headers.get("device") ?? queryDevice ?? crypto.randomUUID();
    if (!isDevice(device)) return fail(StompClose.ProtocolError, DEVICE_RULE);
    const response = await toUserHub(env, stompParams(verified.identity.userId, device, verified.identity.expiresAt, subprotocol));
    const ws = response.webSocket;
    if (response.status !== 101 || ws === null) {
      const why = await errorMessage(response);
      return fail(response.status === 429 ? StompClose.TryAgainLater : CloseCode.InternalError, why);
    }
    ws.accept();
    arrayBuffers(ws);
    upstream = ws;
    ws.addEventListener("message", (ev) => {
      try {
        server.send(typeof ev.data === "string" ? ev.data : (ev.data as ArrayBuffer));
      } catch {
        // The client is gone; its close event closes upstream.
      }
    });
    ws.addEventListener("close", (ev) => {
      phase = "closed";
      tryClose(server, echoableCode(ev.code), ev.reason);
    });
    ws.addEventListener("error", () => tryClose(server, CloseCode.InternalError, "upstream error"));
    if (phase !== "linking") {
      tryClose(ws, CloseCode.Normal, "client went away");
      return;
    }
    phase = "linked";
    clearTimeout(timer);
    // Upstream gone already: its close event (above) closes the client; a failed send is no error of ours.
    for (const m of early.splice(0)) if (!trySend(ws, m)) break;
  };

  const onMessage = (data: string | ArrayBuffer): void => {
    if (phase === "linked") {
      try {
        upstream?.send(data);
      } catch {
        tryClose(server, CloseCode.InternalError, "upstream gone");
      }
      return;
    }
    if (phase === "closed") return;
    const bytes = toBytes(data);
    earlyBytes += bytes.length;
    if (earlyBytes > MAX_CLIENT_FRAME_BYTES) return fail(CloseCode.MessageTooBig, `frame too large (over ${MAX_CLIENT_FRAME_BYTES} bytes)`);
    early.push(data);
    if (phase === "linking") return;
    const parsed = parseFrames(pending, bytes, undefined);
    if (!parsed.ok) return fail(StompClose.ProtocolError, parsed.error);
    const first = parsed.frames[0];
    if (first === undefined) {
      pending = parsed.rest.slice();
      return;
    }
    if (first.command !== "CONNECT" && first.command !== "STOMP") return fail(StompClose.ProtocolError, `${first.command} before CONNECT`);
    phase = "linking";
    link(first).catch((err: unknown) => {
      console.error("switchboard: stomp relay failed", err);
      fail(CloseCode.InternalError, "internal error");
    });
  };
  server.addEventListener("message", (ev) => {
    const data: unknown = ev.data;
    inOrder = inOrder
      .then(async () => onMessage(await asSendable(data)))
      .catch((err: unknown) => console.error("switchboard: stomp relay message failed", err));
  });
  server.addEventListener("close", (ev) => {
    phase = "closed";
    clearTimeout(timer);
    if (upstream !== undefined) tryClose(upstream, echoableCode(ev.code), ev.reason);
  });
  return upgraded(client, subprotocol);
}

async function errorMessage(response: Response): Promise<string> {
  try {
    const body: unknown = await response.json();
    const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
    if (typeof message === "string") return message;
  } catch {
    // Not our JSON error: say only the status.
  }
  return `refused (${response.status})`;
}
