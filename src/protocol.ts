/**
 * The wire protocol: every frame, close code and error code Switchboard speaks.
 * Outgoing frames are built here and checked with `satisfies`; incoming frames
 * arrive as `unknown` and are narrowed by `parseClientFrame`.
 */
import * as v from "valibot";
import type { AuthFrame, ErrorFrame as ClientErrorFrame, MessageFrame, RefreshedFrame, WelcomeFrame } from "../packages/client/src/protocol.ts";

export const SUBPROTOCOL = "switchboard.v1";
export const BEARER_PROTOCOL_PREFIX = "bearer.";
/** Heartbeat strings, answered by the runtime itself (setWebSocketAutoResponse). */
export const PING = "ping";
export const PONG = "pong";

/** Client frames larger than this close the socket with 1009. */
export const MAX_CLIENT_FRAME_BYTES = 4096;

/**
 * Is a text frame over MAX_CLIENT_FRAME_BYTES in UTF-8? A UTF-16 unit encodes
 * to 1-3 bytes, so the length alone decides most frames without encoding them.
 */
export function exceedsFrameLimit(text: string): boolean {
  if (text.length > MAX_CLIENT_FRAME_BYTES) return true;
  if (text.length * 3 <= MAX_CLIENT_FRAME_BYTES) return false;
  return new TextEncoder().encode(text).byteLength > MAX_CLIENT_FRAME_BYTES;
}

/**
 * Close codes, and what a client should do after each (the SDK follows this).
 * 1005, 1006 and 1015 are reserved (RFC 6455 §7.4.1): never sent, never echoed.
 */
export const CloseCode = {
  /** Normal close. Reconnect only if the app still wants a connection. */
  Normal: 1000,
  /** Token expired or otherwise unacceptable. Reconnect with a fresh token. */
  PolicyViolation: 1008,
  /** A client frame over 4 KiB. A client bug: reconnect with backoff. */
  MessageTooBig: 1009,
  /** Server error. Reconnect with backoff. */
  InternalError: 1011,
  /** Closed through the server API (kick). Do not reconnect. */
  Kicked: 4001,
  /** No heartbeat or frame for STALE_AFTER seconds. Reconnect with backoff. */
  Stale: 4002,
  /**
   * An `auth` frame's token was refused (invalid, expired, or for another
   * user): the session ends. Reconnect with a fresh token, never that one.
   */
  TokenRefused: 4003,
  /**
   * The client stopped reading: over MAX_SESSION_BACKLOG bytes were sent to it
   * with no frame back for 10 s. Reconnect with backoff and resume with since.
   */
  TooSlow: 4008,
  /** The client sent frames faster than allowed. Reconnect with backoff. */
  RateLimited: 4029,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Codes after which a client must not reconnect on its own (4001), or only with a new token (1008, 4003). */
export const NO_AUTO_RECONNECT: readonly number[] = [CloseCode.Kicked, CloseCode.PolicyViolation, CloseCode.TokenRefused];

/** Codes of `error` frames sent for bad client frames; the socket stays open. */
export const FrameError = {
  BadJson: "bad_json",
  BadFrame: "bad_frame",
  UnknownType: "unknown_type",
  Binary: "binary_not_supported",
  BadAck: "bad_ack",
  BadAuth: "bad_auth",
  Internal: "internal",
} as const;
export type FrameError = (typeof FrameError)[keyof typeof FrameError];

// ---- Names (contract: "Names") ----

const NAME_CHARS = /^[A-Za-z0-9._:@-]+$/;
export const USER_ID_MAX = 128;
export const DEVICE_MAX = 64;
export const MESSAGE_ID_MAX = 128;
/** Largest integer a JSON number carries exactly (2^53 - 1). */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

export function isName(value: unknown, max: number): value is string {
  return typeof value === "string" && value.length >= 1 && value.length <= max && NAME_CHARS.test(value);
}
export const isUserId = (value: unknown): value is string => isName(value, USER_ID_MAX);
export const isDevice = (value: unknown): value is string => isName(value, DEVICE_MAX);
export const isMessageId = (value: unknown): value is string => isName(value, MESSAGE_ID_MAX);

/** A `since`-like query value: decimal digits only, 0 … 2^53-1; anything else is undefined. */
export function parseSeq(raw: string): number | undefined {
  if (!/^\d{1,16}$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

// ---- Server → client frames ----

// The frame shapes are written once, in the client SDK's protocol module (it has
// no dependencies, so the server takes them without pulling anything in);
// packages/client/test/transport.test.ts round-trips this module's encoders through its parser.
export type { AuthFrame, MessageFrame, RefreshedFrame, WelcomeFrame };

/** The server's error frames carry only the codes it defines. */
export interface ErrorFrame extends ClientErrorFrame {
  code: FrameError;
}

export type ServerFrame = WelcomeFrame | MessageFrame | RefreshedFrame | ErrorFrame;

/** The server always says its cadence (`heartbeat`, seconds); only older servers leave it out. */
export function encodeWelcome(frame: Omit<WelcomeFrame, "type" | "heartbeat"> & { heartbeat: number }): string {
  return JSON.stringify({ type: "welcome", ...frame } satisfies WelcomeFrame);
}

export function encodeRefreshed(expiresAt: number): string {
  return JSON.stringify({ type: "refreshed", expiresAt } satisfies RefreshedFrame);
}

export function encodeError(code: FrameError, message: string): string {
  return JSON.stringify({ type: "error", code, message } satisfies ErrorFrame);
}

/**
 * A message frame with `data` spliced in as already-serialized JSON. The pusher's
 * `data` is serialized once at the edge and stored as text; parsing it again
 * per push (or per replayed row) only to re-serialize it would double the JSON
 * work on the hottest path.
 */
export function encodeMessage(head: Omit<MessageFrame, "type" | "data">, dataJson: string): string {
  const frame: Omit<MessageFrame, "data"> = { type: "message", id: head.id, seq: head.seq, sentAt: head.sentAt };
  if (head.event !== undefined) frame.event = head.event;
  const json = JSON.stringify(frame);
  return withData(json, dataJson);
}

/**
 * Append `"data": <dataJson>` to a serialized JSON object without parsing the
 * data: it was validated once, at push time, and a reparse of deeply nested
 * data can overflow the stack.
 */
export function withData(objectJson: string, dataJson: string): string {
  return `${objectJson.slice(0, -1)},"data":${dataJson}}`;
}

// ---- Client → server frames ----

const AckFrameSchema = v.object({
  type: v.literal("ack"),
  seq: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
});
export type AckFrame = v.InferOutput<typeof AckFrameSchema>;

const AuthFrameSchema = v.object({
  type: v.literal("auth"),
  token: v.pipe(v.string(), v.minLength(1)),
});

export type ClientFrame = AckFrame | AuthFrame;

export type ParsedClientFrame = { ok: true; frame: ClientFrame } | { ok: false; code: FrameError; message: string };

/** Narrow a text frame (already known not to be the heartbeat) into a ClientFrame. */
export function parseClientFrame(text: string): ParsedClientFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: FrameError.BadJson, message: "frame is not valid JSON" };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, code: FrameError.BadFrame, message: "frame must be a JSON object" };
  }
  const type: unknown = (raw as Record<string, unknown>).type;
  switch (type) {
    case "ack": {
      const ack = v.safeParse(AckFrameSchema, raw);
      if (!ack.success) return { ok: false, code: FrameError.BadAck, message: "ack.seq must be an integer from 0 to 2^53-1" };
      return { ok: true, frame: ack.output };
    }
    case "auth": {
      const auth = v.safeParse(AuthFrameSchema, raw);
      if (!auth.success) return { ok: false, code: FrameError.BadAuth, message: "auth.token must be a non-empty string" };
      return { ok: true, frame: auth.output satisfies AuthFrame };
    }
    default:
      return {
        ok: false,
        code: FrameError.UnknownType,
        message: typeof type === "string" ? `unknown frame type: ${type.slice(0, 32)}` : "frame has no type",
      };
  }
}
