/**
 * Client → server frames: their shapes, the client's encoders (checked with
 * `satisfies`) and the server's parser, which takes the text, parses it to
 * `unknown` and narrows it by hand (this package has no dependencies).
 */
import { FrameError } from "./serverFrames.ts";

/** The client's position: every stored message up to `seq` is handled (docs/protocol.md, "Acks"). */
export interface AckFrame {
  type: "ack";
  seq: number;
}

/** A fresh token for the same user, sent on an open session: it moves the session's end to the token's `exp`. */
export interface AuthFrame {
  type: "auth";
  token: string;
}

export type ClientFrame = AckFrame | AuthFrame;

export function encodeAck(seq: number): string {
  return JSON.stringify({ type: "ack", seq } satisfies AckFrame);
}

export function encodeAuth(token: string): string {
  return JSON.stringify({ type: "auth", token } satisfies AuthFrame);
}

export type ParsedClientFrame = { ok: true; frame: ClientFrame } | { ok: false; code: FrameError; message: string };

/** Narrow a text frame (already known not to be the heartbeat) into a ClientFrame; unknown fields are dropped. */
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
  const frame = raw as Record<string, unknown>;
  const type = frame.type;
  switch (type) {
    case "ack": {
      const seq = frame.seq;
      if (!Number.isSafeInteger(seq) || (seq as number) < 0) {
        return { ok: false, code: FrameError.BadAck, message: "ack.seq must be an integer from 0 to 2^53-1" };
      }
      return { ok: true, frame: { type: "ack", seq: seq as number } satisfies AckFrame };
    }
    case "auth": {
      const token = frame.token;
      if (typeof token !== "string" || token.length < 1) {
        return { ok: false, code: FrameError.BadAuth, message: "auth.token must be a non-empty string" };
      }
      return { ok: true, frame: { type: "auth", token } satisfies AuthFrame };
    }
    default:
      return {
        ok: false,
        code: FrameError.UnknownType,
        message: typeof type === "string" ? `unknown frame type: ${type.slice(0, 32)}` : "frame has no type",
      };
  }
}
