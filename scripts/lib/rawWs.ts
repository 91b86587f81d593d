/**
 * WebSocket at the byte level: a real handshake over a bare socket, then
 * hand-made frames (bad close codes, unmasked frames, reserved opcodes and
 * bits, oversized control frames, absurd lengths). Reads back the server's
 * frames until it closes.
 */
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { encodeRequest } from "./rawHttp.ts";

export interface FrameSpec {
  fin?: boolean;
  rsv?: number;
  opcode: number;
  payload?: Buffer;
  masked?: boolean;
  /** Lie about the length in the header (payload is still what is sent). */
  declaredLength?: bigint;
}

export function encodeFrame(f: FrameSpec): Buffer {
  const payload = f.payload ?? Buffer.alloc(0);
  const masked = f.masked ?? true;
  const len = f.declaredLength ?? BigInt(payload.length);
  const head: number[] = [((f.fin ?? true) ? 0x80 : 0) | (((f.rsv ?? 0) & 7) << 4) | (f.opcode & 0xf)];
  let ext = Buffer.alloc(0);
  if (len < 126n) head.push((masked ? 0x80 : 0) | Number(len));
  else if (len < 65536n) {
    head.push((masked ? 0x80 : 0) | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(Number(len));
  } else {
    head.push((masked ? 0x80 : 0) | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(len);
  }
  if (!masked) return Buffer.concat([Buffer.from(head), ext, payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = (body[i] ?? 0) ^ (mask[i % 4] ?? 0);
  return Buffer.concat([Buffer.from(head), ext, mask, body]);
}

export function closePayload(code: number | undefined, reason: Buffer | string = ""): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code & 0xffff);
  return Buffer.concat([b, typeof reason === "string" ? Buffer.from(reason) : reason]);
}

export interface RawWsResult {
  /** Handshake status (101 when upgraded). */
  status: number;
  /** Close code from the server's close frame; undefined if it sent none. */
  closeCode: number | undefined;
  /** Server frames seen (text/binary/pong). */
  frames: number;
  texts: string[];
  /** The server ended the TCP connection (or we timed out and gave up). */
  ended: boolean;
  timedOut: boolean;
}

/** Parse as many complete server frames as `buf` holds (server frames are unmasked). */
function parseFrames(buf: Buffer): { frames: Array<{ opcode: number; payload: Buffer }>; rest: Buffer } {
  const frames: Array<{ opcode: number; payload: Buffer }> = [];
  let i = 0;
  for (;;) {
    if (buf.length - i < 2) break;
    const b0 = buf[i] ?? 0;
    const b1 = buf[i + 1] ?? 0;
    let len = b1 & 0x7f;
    let off = i + 2;
    if (len === 126) {
      if (buf.length < off + 2) break;
      len = buf.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      if (buf.length < off + 8) break;
      len = Number(buf.readBigUInt64BE(off));
      off += 8;
    }
    if (buf.length < off + len) break;
    frames.push({ opcode: b0 & 0xf, payload: buf.subarray(off, off + len) });
    i = off + len;
  }
  return { frames, rest: buf.subarray(i) };
}

/**
 * Handshake with `headers` on `target`, then write `frames` (each a Buffer of
 * bytes) and read until the server closes or `timeoutMs` passes.
 */
export function rawWsExchange(port: number, target: string, headers: Array<[string, string]>, frames: Buffer[], timeoutMs = 3000): Promise<RawWsResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let buf: Buffer = Buffer.alloc(0);
    let upgraded = false;
    const result: RawWsResult = { status: 0, closeCode: undefined, frames: 0, texts: [], ended: false, timedOut: false };
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => {
      result.timedOut = true;
      finish();
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        result.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(buf.subarray(0, end).toString("latin1"))?.[1] ?? 0);
        buf = buf.subarray(end + 4);
        if (result.status !== 101) {
          finish();
          return;
        }
        upgraded = true;
        for (const f of frames) socket.write(f);
      }
      const parsed = parseFrames(buf);
      buf = parsed.rest;
      for (const f of parsed.frames) {
        if (f.opcode === 8) {
          result.closeCode = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005;
          // Answer the close so the server can finish cleanly; the exchange is over (workerd keeps
          // the TCP connection until the client drops it, so don't wait for that).
          socket.write(encodeFrame({ opcode: 8, payload: f.payload.subarray(0, 2) }));
          setTimeout(finish, 50);
        } else {
          result.frames++;
          if (f.opcode === 1) result.texts.push(f.payload.toString("utf8"));
        }
      }
    });
    socket.on("end", () => {
      result.ended = true;
      finish();
    });
    socket.on("close", () => {
      result.ended = true;
      finish();
    });
    socket.on("error", () => finish());
    const all: Array<[string, string]> = [
      ["Upgrade", "websocket"],
      ["Connection", "Upgrade"],
      ["Sec-WebSocket-Key", randomBytes(16).toString("base64")],
      ["Sec-WebSocket-Version", "13"],
      ...headers,
    ];
    socket.write(encodeRequest(`127.0.0.1:${port}`, { method: "GET", target, headers: all }));
  });
}
