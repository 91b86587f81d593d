import { describe, expect, it } from "vitest";
import * as server from "@switchboard/protocol";
import { encodeAck, encodeAuth, FrameError, parseClientFrame, parseServerFrame } from "@switchboard/protocol";

// Moved from packages/client/test/transport.test.ts, where the SDK's copy of the frames met the server's.
describe("the client parses what the server encodes", () => {
  it("parses what the server encodes", () => {
    const welcome = { sessionId: "s", userId: "u", device: "d", head: 4, recovered: true, heartbeat: 90 };
    expect(parseServerFrame(JSON.parse(server.encodeWelcome(welcome)))).toEqual({ type: "welcome", ...welcome });
    const message = server.encodeMessage({ id: "m", seq: 5, sentAt: 1 }, '{"a":[1,2]}');
    expect(parseServerFrame(JSON.parse(message))).toEqual({ type: "message", id: "m", seq: 5, sentAt: 1, data: { a: [1, 2] } });
    const live = server.encodeMessage({ id: "m", seq: null, sentAt: 1 }, "null");
    expect(parseServerFrame(JSON.parse(live))).toEqual({ type: "message", id: "m", seq: null, sentAt: 1, data: null });
    expect(parseServerFrame(JSON.parse(server.encodeRefreshed(1_800_000_000_000)))).toEqual({ type: "refreshed", expiresAt: 1_800_000_000_000 });
    expect(parseServerFrame(JSON.parse(server.encodeError(server.FrameError.BadAck, "no")))).toEqual({
      type: "error",
      code: "bad_ack",
      message: "no",
    });
  });

  it("and the server accepts the SDK's ack and auth frames", () => {
    expect(server.parseClientFrame(JSON.stringify({ type: "ack", seq: 12 }))).toEqual({ ok: true, frame: { type: "ack", seq: 12 } });
    expect(server.parseClientFrame(encodeAuth("a.b.c"))).toEqual({ ok: true, frame: { type: "auth", token: "a.b.c" } });
    expect(server.parseClientFrame('{"type":"auth","token":""}')).toMatchObject({ ok: false, code: "bad_auth" });
    expect(server.parseClientFrame('{"type":"auth"}')).toMatchObject({ ok: false, code: "bad_auth" });
  });
});

describe("the server's client-frame parser", () => {
  // The codes and messages the valibot parser (before the wire became one package) answered; docs/protocol.md lists the codes.
  it.each([
    ["not JSON", "{", FrameError.BadJson, "frame is not valid JSON"],
    ["an array", "[]", FrameError.BadFrame, "frame must be a JSON object"],
    ["null", "null", FrameError.BadFrame, "frame must be a JSON object"],
    ["a number", "7", FrameError.BadFrame, "frame must be a JSON object"],
    ["no type", '{"seq":1}', FrameError.UnknownType, "frame has no type"],
    ["a type that is not a string", '{"type":1}', FrameError.UnknownType, "frame has no type"],
    ["an unknown type, cut to 32 characters", JSON.stringify({ type: "x".repeat(40) }), FrameError.UnknownType, `unknown frame type: ${"x".repeat(32)}`],
    ["an ack without seq", '{"type":"ack"}', FrameError.BadAck, "ack.seq must be an integer from 0 to 2^53-1"],
    ["an ack with a negative seq", '{"type":"ack","seq":-1}', FrameError.BadAck, "ack.seq must be an integer from 0 to 2^53-1"],
    ["an ack with a fractional seq", '{"type":"ack","seq":1.5}', FrameError.BadAck, "ack.seq must be an integer from 0 to 2^53-1"],
    ["an ack with a string seq", '{"type":"ack","seq":"3"}', FrameError.BadAck, "ack.seq must be an integer from 0 to 2^53-1"],
    ["an ack past 2^53-1", '{"type":"ack","seq":9007199254740992}', FrameError.BadAck, "ack.seq must be an integer from 0 to 2^53-1"],
    ["an auth with a number token", '{"type":"auth","token":5}', FrameError.BadAuth, "auth.token must be a non-empty string"],
  ])("refuses %s", (_, text, code, message) => {
    expect(parseClientFrame(text)).toEqual({ ok: false, code, message });
  });

  it("keeps only the fields a frame has", () => {
    expect(parseClientFrame('{"type":"ack","seq":9007199254740991,"extra":1}')).toEqual({ ok: true, frame: { type: "ack", seq: 9007199254740991 } });
    expect(parseClientFrame('{"type":"auth","token":"t","seq":2}')).toEqual({ ok: true, frame: { type: "auth", token: "t" } });
  });

  it("reads the client's encoders", () => {
    expect(parseClientFrame(encodeAck(0))).toEqual({ ok: true, frame: { type: "ack", seq: 0 } });
    expect(encodeAck(3)).toBe('{"type":"ack","seq":3}');
    expect(encodeAuth("a.b.c")).toBe('{"type":"auth","token":"a.b.c"}');
  });
});
