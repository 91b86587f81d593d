/**
 * Server → client frames: their shapes, the server's encoders (checked with
 * `satisfies`) and the client's parser, which takes `unknown` and narrows it.
 */
import { PONG } from "./socket.ts";

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

export interface WelcomeFrame {
  type: "welcome";
  sessionId: string;
  userId: string;
  device: string;
  head: number;
  recovered: boolean;
  /**
   * The heartbeat cadence, in seconds: the longest the client may stay silent.
   * It pings after this much silence in both directions. Absent from servers
   * older than the field (then the client keeps its own default).
   */
  heartbeat?: number;
}

/** The answer to an `auth` frame the server accepted: the session now ends at `expiresAt` (ms since the epoch). */
export interface RefreshedFrame {
  type: "refreshed";
  expiresAt: number;
}

export interface MessageFrame {
  type: "message";
  id: string;
  /** null for live-only pushes (ttl 0): never stored, never replayed. */
  seq: number | null;
  sentAt: number;
  /** What the message is, when the push named it. */
  event?: string;
  data: unknown;
}

/** The server sends only the codes it defines; a client reads any string (a newer server may add codes). */
export interface ErrorFrame<Code extends string = FrameError> {
  type: "error";
  code: Code;
  message: string;
}

/** What the server sends. */
export type ServerFrame = WelcomeFrame | MessageFrame | RefreshedFrame | ErrorFrame;
/** What a client accepts: ServerFrame, with error codes this version may not know. */
export type ReceivedServerFrame = WelcomeFrame | MessageFrame | RefreshedFrame | ErrorFrame<string>;

// ---- Encoders (the server) ----

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

// ---- Parsers (the client) ----

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const isSeq = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * Narrow a parsed frame. Anything that does not match the contract exactly is
 * undefined, so a server bug or a proxy mangling frames surfaces as an `error`
 * event instead of a half-typed object deep in the app.
 */
export function parseServerFrame(value: unknown): ReceivedServerFrame | undefined {
  if (!isRecord(value)) return undefined;
  switch (value.type) {
    case "welcome": {
      const { sessionId, userId, device, head, recovered, heartbeat } = value;
      if (
        typeof sessionId === "string" &&
        typeof userId === "string" &&
        typeof device === "string" &&
        isSeq(head) &&
        typeof recovered === "boolean" &&
        (heartbeat === undefined || (Number.isSafeInteger(heartbeat) && (heartbeat as number) >= 1))
      ) {
        const frame: WelcomeFrame = { type: "welcome", sessionId, userId, device, head, recovered };
        if (typeof heartbeat === "number") frame.heartbeat = heartbeat;
        return frame;
      }
      return undefined;
    }
    case "message": {
      const { id, seq, sentAt, event, data } = value;
      if (typeof id === "string" && (seq === null || (isSeq(seq) && seq >= 1)) && typeof sentAt === "number" && "data" in value) {
        if (typeof event === "string") return { type: "message", id, seq, sentAt, event, data };
        return { type: "message", id, seq, sentAt, data };
      }
      return undefined;
    }
    case "refreshed": {
      const { expiresAt } = value;
      if (typeof expiresAt === "number" && Number.isFinite(expiresAt)) return { type: "refreshed", expiresAt };
      return undefined;
    }
    case "error": {
      const { code, message } = value;
      if (typeof code === "string" && typeof message === "string") return { type: "error", code, message };
      return undefined;
    }
    default:
      return undefined;
  }
}

/** A received frame's data: the frame, PONG, or why it is off contract (a message for the `error` event). */
// oxlint-disable-next-line typescript/no-redundant-type-constituents -- PONG is named for the reader: every other string is an error message.
export function decodeServerFrame(data: unknown): ReceivedServerFrame | typeof PONG | string {
  if (data === PONG) return PONG;
  if (typeof data !== "string") return "unexpected non-text frame";
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return "frame is not JSON";
  }
  return parseServerFrame(parsed) ?? "frame does not match the protocol";
}
