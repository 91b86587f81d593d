/**
 * WebSocket frame fuzz. Client frames are generated with their expected answer
 * from the contract (README "WebSocket protocol"): `ping` → `pong`; JSON that is
 * not a frame → an `error` frame with a documented code, socket open; a valid
 * ack → nothing; a frame over 4 KiB (text or binary) → close 1009. Frames go in
 * batches, each followed by a sentinel frame whose error answer marks the end of
 * the batch, so every answer is attributed to its batch.
 *
 * Protocol-level abuse (bad close codes, unmasked frames, reserved opcodes,
 * oversized control frames, absurd lengths) goes over a raw socket: the server
 * may close however RFC 6455 lets it, but must not crash, hang or 5xx.
 */
import { DOCUMENTED_CLOSE, FRAME_ERRORS, MAX_FRAME_BYTES, RUNTIME_CLOSE } from "./contract.ts";
import { closePayload, encodeFrame, rawWsExchange } from "./rawWs.ts";
import type { Rng } from "./rng.ts";
import { isOpen, openSession, type Frame, type Session } from "./wsSession.ts";

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
export function frameExpect(wire: Buffer, binary: boolean, head: number): FrameCase["expect"] {
  if (wire.length > MAX_FRAME_BYTES) return { close: 1009 };
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
  if (o.type !== "ack") return { error: "unknown_type" };
  const seq = o.seq;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) return { error: "bad_ack" };
  if (seq > head) return { error: "bad_ack" };
  return {};
}

function junkText(r: Rng): string {
  const k = r.int(0, 9);
  switch (k) {
    case 0:
      return r.pick(["", " ", "{", "}", "[", "nul", "pong", "PING", "ping ", " ping", "ping\n", "Ping", "pingping", "{'type':'ack'}", "{type:ack}"]);
    case 1:
      return JSON.stringify(r.pick<unknown>([null, 1, "ack", [], [1, 2], true, -0, 1e308, { }, { type: null }, { type: 1 }, { type: ["ack"] }]));
    case 2:
      return JSON.stringify({ type: r.pick(["ack ", "Ack", "ACK", "acks", "", "message", "welcome", "error", "__proto__", "constructor", "x".repeat(100)]), seq: 1 });
    case 3:
      return JSON.stringify({
        type: "ack",
        seq: r.pick<unknown>([-1, 0.5, "1", null, true, [], {}, 1e20, 2 ** 53, Number.MAX_SAFE_INTEGER, -0, 0, 1, 3, 5, 6, 1000]),
      });
    case 4:
      return '{"type":"ack"}';
    case 5:
      return `{"type":"ack","seq":${r.pick(["1e0", "5.0", "0x1", "01", "NaN", "Infinity", "-0", "5e-1", "9007199254740993"])}}`;
    case 6: {
      let s = "";
      for (let i = r.int(1, 60); i > 0; i--) s += String.fromCharCode(r.int(0, 0xffff));
      return s;
    }
    case 7:
      return '{"type":"ack","seq":1,"__proto__":{"type":"x"}}';
    case 8:
      return `${"[".repeat(r.pick([100, 1000, 2000]))}`;
    default:
      return `{"type":"ack","seq":${r.int(0, 5)},"extra":"${"z".repeat(r.int(0, 100))}"}`;
  }
}

export function frameCases(r: Rng, n: number, head: number): FrameCase[] {
  const out: FrameCase[] = [];
  for (let i = 0; i < n; i++) {
    const k = r.int(0, 19);
    let data: string | Buffer;
    let binary = false;
    let fragments: number | undefined;
    let name: string;
    if (k <= 11) {
      data = junkText(r);
      name = "text";
    } else if (k === 12) {
      data = Buffer.from(Array.from({ length: r.pick([0, 1, 10, 4096, 4097, 10_000]) }, () => r.int(0, 255)));
      binary = true;
      name = `binary:${data.length}`;
    } else if (k === 13) {
      const n2 = r.pick([4095, 4096, 4097, 5000, 65_536, 1_000_000]);
      data = "a".repeat(n2);
      name = `big-text:${n2}`;
    } else if (k === 14) {
      // Multi-byte text around the byte limit: fewer UTF-16 units than bytes.
      const ch = r.pick(["é", "€", "😀"]);
      const bytes = Buffer.byteLength(ch);
      const units = Math.floor(4096 / bytes) + r.int(-1, 1);
      data = ch.repeat(units) + "a".repeat(r.int(0, 3));
      name = `multibyte:${Buffer.byteLength(data)}B`;
    } else if (k === 15) {
      data = r.pick([
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from([0xff]),
        Buffer.from([0xc0, 0xaf]),
        Buffer.concat([Buffer.from('{"type":"ack","seq":'), Buffer.from([0xf8]), Buffer.from("1}")]),
      ]);
      name = "invalid-utf8";
    } else if (k === 16) {
      // A lone surrogate in a JS string: the client library encodes it as U+FFFD.
      data = r.pick(['{"type":"\ud800"}', "\udfff", '{"type":"ack","seq":"\ud83d"}']);
      name = "lone-surrogate";
    } else if (k === 17) {
      data = JSON.stringify({ type: "ack", seq: r.int(0, 5) });
      fragments = r.int(2, 5);
      name = "fragmented-ack";
    } else if (k === 18) {
      data = "b".repeat(r.pick([3000, 4097, 9000]));
      fragments = r.int(2, 6);
      name = `fragmented-text:${data.length}`;
    } else {
      data = "ping";
      name = "ping";
    }
    const wire = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    out.push({ name, data, binary: binary || false, fragments, expect: frameExpect(wire, binary, head) });
  }
  return out;
}

export interface FrameFuzzStats {
  frames: number;
  violations: Array<{ name: string; detail: string }>;
  closes: Map<number, number>;
  errorCodes: Map<string, number>;
  reconnects: number;
}

function sendCase(s: Session, c: FrameCase): void {
  const wire = typeof c.data === "string" ? Buffer.from(c.data, "utf8") : c.data;
  if (c.fragments === undefined || c.fragments < 2 || wire.length < c.fragments) {
    if (typeof c.data === "string") s.send(c.data);
    else s.send(c.data, { binary: c.binary });
    return;
  }
  const size = Math.ceil(wire.length / c.fragments);
  for (let i = 0; i < wire.length; i += size) {
    s.send(wire.subarray(i, i + size), { binary: c.binary, fin: i + size >= wire.length });
  }
}

const bump = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);

/**
 * Run `cases` over one lane (a session that is reopened after each expected
 * close). `open` opens a fresh session of the lane's user.
 */
export async function runFrameLane(
  cases: FrameCase[],
  open: () => Promise<Session | string>,
  stats: FrameFuzzStats,
  laneId: number,
): Promise<void> {
  let session: Session | string = await open();
  let sentinel = 0;
  let i = 0;
  const fail = (name: string, detail: string) => stats.violations.push({ name, detail });
  while (i < cases.length) {
    if (typeof session === "string") {
      fail("open", `lane ${laneId}: could not open a session: ${session}`);
      return;
    }
    const s = session;
    // A batch: frames up to (not including) the next one expected to close.
    const batch: FrameCase[] = [];
    while (i < cases.length && batch.length < 25) {
      const c = cases[i] as FrameCase;
      if (c.expect.close !== undefined || c.expect.closeOrError !== undefined) {
        if (batch.length === 0) {
          batch.push(c);
          i++;
        }
        break;
      }
      batch.push(c);
      i++;
    }
    const closer = batch.length === 1 && batch[0]?.expect.close !== undefined ? batch[0] : undefined;
    const lenientCase = batch.length === 1 && batch[0]?.expect.closeOrError !== undefined ? batch[0] : undefined;
    const errorsBefore = s.errors().length;
    const pongsBefore = s.other.filter((t) => t === "pong").length;
    for (const c of batch) sendCase(s, c);
    stats.frames += batch.length;
    if (closer !== undefined) {
      const closed = await s.waitClosed(5000);
      const want = [closer.expect.close ?? 0];
      if (closed === undefined) {
        fail(closer.name, `expected close ${want.join("/")}, socket still open`);
        s.terminate();
      } else {
        bump(stats.closes, closed.code);
        if (!want.includes(closed.code)) fail(closer.name, `closed with ${closed.code} (${closed.reason}), expected ${want.join("/")}`);
      }
      stats.reconnects++;
      session = await open();
      continue;
    }
    sentinel++;
    const tag = `sentinel-${laneId}-${sentinel}`;
    s.send(JSON.stringify({ type: tag }));
    stats.frames++;
    const marker = (e: Frame) => typeof e.message === "string" && e.message.endsWith(tag);
    const ok = await s.until(() => s.errors().some(marker) || s.closed !== undefined, 10_000);
    if (lenientCase !== undefined && s.closed !== undefined && [1007, 1002].includes(s.closed.code)) {
      bump(stats.closes, s.closed.code);
      stats.reconnects++;
      session = await open();
      continue;
    }
    if (!ok || s.closed !== undefined) {
      fail(batch.map((c) => c.name).join(","), s.closed ? `socket closed unexpectedly ${s.closed.code} ${s.closed.reason}` : "no answer to the batch within 10 s");
      stats.reconnects++;
      session = await open();
      continue;
    }
    const got = s.errors().slice(errorsBefore).filter((e) => !marker(e));
    if (lenientCase !== undefined) {
      // Invalid UTF-8 in a text frame: RFC 6455 says close 1007; workerd decodes it leniently (U+FFFD), so
      // one documented error answer is also fine.
      bump(stats.errorCodes, got.length === 1 ? String(got[0]?.code) : `lenient:${got.length}`);
      if (got.length !== 1 || !FRAME_ERRORS.has(String(got[0]?.code)) || got[0]?.code === "internal") {
        fail(lenientCase.name, `invalid UTF-8 frame answered ${JSON.stringify(got.map((e) => e.code))}`);
      }
      continue;
    }
    // pongs are answered by the runtime, so they may trail the sentinel: wait for them a little.
    const wantPongs = batch.filter((c) => c.expect.pong === true).length;
    if (wantPongs > 0) await s.until(() => s.other.filter((t) => t === "pong").length - pongsBefore >= wantPongs, 2000);
    const pongs = s.other.filter((t) => t === "pong").length - pongsBefore;
    const want = batch.map((c) => c.expect.error).filter((e): e is string => e !== undefined);
    const gotCodes = got.map((e) => String(e.code));
    for (const code of gotCodes) {
      bump(stats.errorCodes, code);
      if (!FRAME_ERRORS.has(code)) fail("frame", `undocumented error code ${code}`);
      if (code === "internal") fail("frame", "server answered a client frame with `internal`");
    }
    const a = [...want].sort().join(",");
    const b = [...gotCodes].sort().join(",");
    if (a !== b) fail(batch.map((c) => c.name).join(","), `errors ${b || "<none>"}, expected ${a || "<none>"}`);
    if (pongs < wantPongs) fail("ping", `${pongs} pongs for ${wantPongs} pings`);
  }
  if (typeof session !== "string") session.close();
}

// ---------------------------------------------------------------- raw protocol abuse

export interface RawFrameCase {
  name: string;
  bytes: Buffer[];
  /** The server must close (some close code, or drop TCP). */
  mustClose: boolean;
  /** The close code the client sent, which the server may echo (README: echoed except reserved codes). */
  sentClose?: number;
}

export function rawFrameCases(r: Rng, n: number): RawFrameCase[] {
  const out: RawFrameCase[] = [];
  const closeCodes = [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1014, 1015, 1016, 999, 0, 2999, 3000, 4000, 4001, 4029, 4999, 5000, 65_535];
  for (let i = 0; i < n; i++) {
    const k = r.int(0, 13);
    let c: RawFrameCase;
    if (k <= 2) {
      const code = r.pick(closeCodes);
      const reason = r.pick([Buffer.alloc(0), Buffer.from("bye"), Buffer.from([0xff, 0xfe]), Buffer.from("r".repeat(123)), Buffer.from("é")]);
      c = { name: `close:${code}:${reason.length}`, bytes: [encodeFrame({ opcode: 8, payload: closePayload(code, reason) })], mustClose: true, sentClose: code };
    } else if (k === 3) {
      c = { name: "close:1-byte", bytes: [encodeFrame({ opcode: 8, payload: Buffer.from([3]) })], mustClose: true };
    } else if (k === 4) {
      // RFC 6455 §5.1 says a server MUST close on an unmasked client frame; workerd tolerates it (runtime behaviour).
      c = { name: "unmasked-text", bytes: [encodeFrame({ opcode: 1, payload: Buffer.from("ping"), masked: false })], mustClose: false };
    } else if (k === 5) {
      c = { name: "rsv-bits", bytes: [encodeFrame({ opcode: 1, rsv: r.int(1, 7), payload: Buffer.from('{"type":"ack","seq":0}') })], mustClose: true };
    } else if (k === 6) {
      const opcode = r.pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]);
      c = { name: `opcode:${opcode}`, bytes: [encodeFrame({ opcode, payload: Buffer.from("x") })], mustClose: true };
    } else if (k === 7) {
      // RFC 6455 §5.5 caps control frames at 125 bytes; workerd tolerates 126 (runtime behaviour, harmless).
      c = { name: "ping-126", bytes: [encodeFrame({ opcode: 9, payload: Buffer.alloc(126, 1) })], mustClose: false };
    } else if (k === 8) {
      c = { name: "fragmented-ping", bytes: [encodeFrame({ opcode: 9, fin: false, payload: Buffer.from("a") })], mustClose: true };
    } else if (k === 9) {
      c = { name: "orphan-continuation", bytes: [encodeFrame({ opcode: 0, payload: Buffer.from("abc") })], mustClose: true };
    } else if (k === 10) {
      c = {
        name: "text-inside-fragmented",
        bytes: [encodeFrame({ opcode: 1, fin: false, payload: Buffer.from("{") }), encodeFrame({ opcode: 1, payload: Buffer.from("}") })],
        mustClose: true,
      };
    } else if (k === 11) {
      const len = r.pick([2n ** 63n, 2n ** 40n, 2n ** 32n, 100_000_000n]);
      c = { name: `huge-length:${len}`, bytes: [encodeFrame({ opcode: 1, payload: Buffer.from("x"), declaredLength: len })], mustClose: len >= 2n ** 63n };
    } else if (k === 12) {
      c = { name: "ping-payload+pong", bytes: [encodeFrame({ opcode: 9, payload: Buffer.from("hello") }), encodeFrame({ opcode: 10, payload: Buffer.from("x") })], mustClose: false };
    } else {
      c = { name: "garbage", bytes: [Buffer.from(Array.from({ length: r.int(1, 64) }, () => r.int(0, 255)))], mustClose: false };
    }
    out.push(c);
  }
  return out;
}

/** RFC 6455 §7.4.1 codes that must never appear in a close frame. */
const RESERVED_CLOSE = new Set([1004, 1005, 1006, 1015]);

export async function runRawFrameCase(
  port: number,
  token: string,
  c: RawFrameCase,
): Promise<{ violation?: string; close?: number | "tcp" | "none" }> {
  const bytes = c.mustClose ? c.bytes : [...c.bytes, encodeFrame({ opcode: 8, payload: closePayload(1000, "done") })];
  const res = await rawWsExchange(port, "/v1/connect?device=raw", [["Authorization", `Bearer ${token}`]], bytes, 2500);
  if (res.status !== 101) return { violation: `handshake answered ${res.status}` };
  const close = res.closeCode ?? (res.ended && !res.timedOut ? "tcp" : "none");
  if (c.mustClose && close === "none") {
    return {
      violation: c.sentClose !== undefined ? `server never answered the client's close ${c.sentClose}` : "server kept the connection open after a protocol error",
      close,
    };
  }
  if (typeof close === "number" && close === c.sentClose && RESERVED_CLOSE.has(close)) {
    return { violation: `server echoed the reserved close code ${close} (README: reserved codes are never echoed)`, close };
  }
  if (typeof close === "number" && close !== c.sentClose && !DOCUMENTED_CLOSE.has(close) && !RUNTIME_CLOSE.has(close)) {
    return { violation: `close code ${close} is neither documented nor an RFC 6455 protocol-error code`, close };
  }
  return { close };
}

/** Open a session for `user` on `base` with `token`; the string is why it failed. */
export async function openFor(wsBase: string, token: string, device: string, since?: number): Promise<Session | string> {
  const q = new URLSearchParams({ device });
  if (since !== undefined) q.set("since", String(since));
  const r = await openSession(`${wsBase}/v1/connect?${q}`, { headers: { Authorization: `Bearer ${token}` } });
  if (!isOpen(r)) return r.kind === "refused" ? `refused ${r.status}: ${r.body}` : r.error;
  const welcomed = await r.until(() => r.welcome !== undefined, 5000);
  return welcomed ? r : "no welcome";
}
