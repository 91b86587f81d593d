/**
 * WebSocket client frames as fast-check arbitraries, each with the contract's
 * expected answer (docs/protocol.md): `ping` → `pong`; JSON that is
 * not a frame → an `error` frame with a documented code, socket open; a valid
 * ack → nothing; a frame over 4 KiB (text or binary) → close 1009.
 * And protocol-level abuse for a raw socket (bad close codes, unmasked frames,
 * reserved opcodes, oversized control frames, absurd lengths).
 */
import fc from "fast-check";
import { MAX_FRAME_BYTES } from "../contract.ts";
import { closePayload, encodeFrame } from "../rawWs.ts";
import { int, pick } from "./arb.ts";

export interface FrameCase {
  name: string;
  /** One message: a string, or a Buffer sent as text (binary:false) or binary, optionally in fragments. */
  data: string | Buffer;
  binary: boolean;
  fragments?: number;
  /** Expected answer. */
  expect: { error?: string; pong?: boolean; close?: number; closeOrError?: { codes: number[]; error: string } };
}

/** The contract's answer to one client frame, as the server will see its bytes. */
export function frameExpect(wire: Buffer, binary: boolean, head: number, maxBytes = MAX_FRAME_BYTES): FrameCase["expect"] {
  if (wire.length > maxBytes) return { close: 1009 };
  if (binary) return { error: "binary_not_supported" };
  const text = wire.toString("utf8");
  if (!Buffer.from(text, "utf8").equals(wire)) {
    // Invalid UTF-8 in a text frame: RFC 6455 says fail the connection (1007); a lenient decode gives bad_json-ish answers.
    return { closeOrError: { codes: [1007, 1002], error: "*" } };
  }
  if (text === "ping") return { pong: true };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { error: "bad_json" };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return { error: "bad_frame" };
  const o = v as Record<string, unknown>;
  // A fuzzed token is never valid: a string one ends the session (4003), anything else is bad_auth.
  if (o.type === "auth") return typeof o.token === "string" && o.token !== "" ? { close: 4003 } : { error: "bad_auth" };
  if (o.type !== "ack") return { error: "unknown_type" };
  const seq = o.seq;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) return { error: "bad_ack" };
  if (seq > head) return { error: "bad_ack" };
  return {};
}

const junkText: fc.Arbitrary<string> = fc.oneof(
  pick(["", " ", "{", "}", "[", "nul", "pong", "PING", "ping ", " ping", "ping\n", "Ping", "pingping", "{'type':'ack'}", "{type:ack}"]),
  pick<unknown>([null, 1, "ack", [], [1, 2], true, -0, 1e308, {}, { type: null }, { type: 1 }, { type: ["ack"] }]).map((v) => JSON.stringify(v)),
  pick(["ack ", "Ack", "ACK", "acks", "", "message", "welcome", "error", "__proto__", "constructor", "x".repeat(100), "auth", "Auth", "refreshed"]).map(
    (type) => JSON.stringify({ type, seq: 1 }),
  ),
  pick<unknown>([undefined, null, 1, "", [], {}, true]).map((token) => JSON.stringify({ type: "auth", token })),
  pick<unknown>([-1, 0.5, "1", null, true, [], {}, 1e20, 2 ** 53, Number.MAX_SAFE_INTEGER, -0, 0, 1, 3, 5, 6, 1000]).map((seq) =>
    JSON.stringify({ type: "ack", seq }),
  ),
  fc.constant('{"type":"ack"}'),
  pick(["1e0", "5.0", "0x1", "01", "NaN", "Infinity", "-0", "5e-1", "9007199254740993"]).map((s) => `{"type":"ack","seq":${s}}`),
  fc.array(int(0, 0xffff), { minLength: 1, maxLength: 60 }).map((units) => String.fromCharCode(...units)),
  fc.constant('{"type":"ack","seq":1,"__proto__":{"type":"x"}}'),
  pick([100, 1000, 2000]).map((n) => "[".repeat(n)),
  fc.tuple(int(0, 5), int(0, 100)).map(([seq, z]) => `{"type":"ack","seq":${seq},"extra":"${"z".repeat(z)}"}`),
);

type Shape = Omit<FrameCase, "expect">;

const shapes: fc.Arbitrary<Shape> = fc.oneof(
  { arbitrary: junkText.map((data): Shape => ({ name: "text", data, binary: false })), weight: 12 },
  pick([0, 1, 10, 4096, 4097, 10_000])
    .chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))
    .map((b): Shape => ({ name: `binary:${b.length}`, data: Buffer.from(b), binary: true })),
  pick([4095, 4096, 4097, 5000, 65_536, 1_000_000]).map((n): Shape => ({ name: `big-text:${n}`, data: "a".repeat(n), binary: false })),
  // Multi-byte text around the byte limit: fewer UTF-16 units than bytes.
  fc.tuple(pick(["é", "€", "😀"]), int(-1, 1), int(0, 3)).map(([ch, d, tail]): Shape => {
    const data = ch.repeat(Math.floor(4096 / Buffer.byteLength(ch)) + d) + "a".repeat(tail);
    return { name: `multibyte:${Buffer.byteLength(data)}B`, data, binary: false };
  }),
  pick([
    Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.from([0xff]),
    Buffer.from([0xc0, 0xaf]),
    Buffer.concat([Buffer.from('{"type":"ack","seq":'), Buffer.from([0xf8]), Buffer.from("1}")]),
  ]).map((data): Shape => ({ name: "invalid-utf8", data, binary: false })),
  // A lone surrogate in a JS string: the client library encodes it as U+FFFD.
  pick(['{"type":"\ud800"}', "\udfff", '{"type":"ack","seq":"\ud83d"}']).map((data): Shape => ({ name: "lone-surrogate", data, binary: false })),
  fc
    .tuple(int(0, 5), int(2, 5))
    .map(([seq, fragments]): Shape => ({ name: "fragmented-ack", data: JSON.stringify({ type: "ack", seq }), binary: false, fragments })),
  fc
    .tuple(pick([3000, 4097, 9000]), int(2, 6))
    .map(([n, fragments]): Shape => ({ name: `fragmented-text:${n}`, data: "b".repeat(n), binary: false, fragments })),
  fc.constant<Shape>({ name: "ping", data: "ping", binary: false }),
);

/** One client frame with its expected answer, on a session whose user has `head` stored messages. */
export function frameArb(head: number, maxBytes = MAX_FRAME_BYTES): fc.Arbitrary<FrameCase> {
  return shapes.map((s) => ({ ...s, expect: frameExpect(typeof s.data === "string" ? Buffer.from(s.data, "utf8") : s.data, s.binary, head, maxBytes) }));
}

export interface RawFrameCase {
  name: string;
  bytes: Buffer[];
  /** The server must close (some close code, or drop TCP). */
  mustClose: boolean;
  /** The close code the client sent, which the server may echo (docs/protocol.md: echoed except reserved codes). */
  sentClose?: number;
}

const CLOSE_CODES = [
  1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1014, 1015, 1016, 999, 0, 2999, 3000, 4000, 4001, 4029, 4999, 5000, 65_535,
];
const frame = encodeFrame;

export const rawFrameArb: fc.Arbitrary<RawFrameCase> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(pick(CLOSE_CODES), pick([Buffer.alloc(0), Buffer.from("bye"), Buffer.from([0xff, 0xfe]), Buffer.from("r".repeat(123)), Buffer.from("é")]))
      .map(([code, reason]): RawFrameCase => ({
        name: `close:${code}:${reason.length}`,
        bytes: [frame({ opcode: 8, payload: closePayload(code, reason) })],
        mustClose: true,
        sentClose: code,
      })),
  },
  fc.constant<RawFrameCase>({ name: "close:1-byte", bytes: [frame({ opcode: 8, payload: Buffer.from([3]) })], mustClose: true }),
  // RFC 6455 §5.1 says a server MUST close on an unmasked client frame; workerd tolerates it (runtime behaviour).
  fc.constant<RawFrameCase>({ name: "unmasked-text", bytes: [frame({ opcode: 1, payload: Buffer.from("ping"), masked: false })], mustClose: false }),
  int(1, 7).map((rsv): RawFrameCase => ({
    name: "rsv-bits",
    bytes: [frame({ opcode: 1, rsv, payload: Buffer.from('{"type":"ack","seq":0}') })],
    mustClose: true,
  })),
  pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]).map((opcode): RawFrameCase => ({
    name: `opcode:${opcode}`,
    bytes: [frame({ opcode, payload: Buffer.from("x") })],
    mustClose: true,
  })),
  // RFC 6455 §5.5 caps control frames at 125 bytes; workerd tolerates 126 (runtime behaviour, harmless).
  fc.constant<RawFrameCase>({ name: "ping-126", bytes: [frame({ opcode: 9, payload: Buffer.alloc(126, 1) })], mustClose: false }),
  fc.constant<RawFrameCase>({ name: "fragmented-ping", bytes: [frame({ opcode: 9, fin: false, payload: Buffer.from("a") })], mustClose: true }),
  fc.constant<RawFrameCase>({ name: "orphan-continuation", bytes: [frame({ opcode: 0, payload: Buffer.from("abc") })], mustClose: true }),
  fc.constant<RawFrameCase>({
    name: "text-inside-fragmented",
    bytes: [frame({ opcode: 1, fin: false, payload: Buffer.from("{") }), frame({ opcode: 1, payload: Buffer.from("}") })],
    mustClose: true,
  }),
  pick([2n ** 63n, 2n ** 40n, 2n ** 32n, 100_000_000n]).map((len): RawFrameCase => ({
    name: `huge-length:${len}`,
    bytes: [frame({ opcode: 1, payload: Buffer.from("x"), declaredLength: len })],
    mustClose: len >= 2n ** 63n,
  })),
  fc.constant<RawFrameCase>({
    name: "ping-payload+pong",
    bytes: [frame({ opcode: 9, payload: Buffer.from("hello") }), frame({ opcode: 10, payload: Buffer.from("x") })],
    mustClose: false,
  }),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b): RawFrameCase => ({ name: "garbage", bytes: [Buffer.from(b)], mustClose: false })),
);

/** A short, printable description of a frame case (for counterexamples). */
export function describeFrame(c: FrameCase): string {
  const wire = typeof c.data === "string" ? Buffer.from(c.data, "utf8") : c.data;
  const enc = c.binary ? "hex" : "utf8";
  const shown = wire.length > 80 ? `${wire.subarray(0, 80).toString(enc)}…(${wire.length} bytes)` : wire.toString(enc);
  return `${c.name}${c.binary ? " binary" : ""}${c.fragments === undefined ? "" : ` in ${c.fragments} fragments`} ${JSON.stringify(shown)}`;
}
