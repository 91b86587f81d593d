/**
 * STOMP frames (stomp-specification-1.2): a parser that keeps what is left of
 * an unfinished frame for the next WebSocket message, and an encoder.
 *
 * Layout: COMMAND EOL, `key:value` EOL lines, a blank line, the body, NUL;
 * EOL is LF or CR LF, and EOLs may follow the NUL (heart-beats). The parser
 * works on bytes because `content-length` counts UTF-8 octets, and a body
 * with a `content-length` may itself hold NULs.
 */

export const STOMP_VERSIONS = ["1.2", "1.1", "1.0"] as const;
export type StompVersion = (typeof STOMP_VERSIONS)[number];

export const CLIENT_COMMANDS = ["CONNECT", "STOMP", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK", "BEGIN", "COMMIT", "ABORT", "DISCONNECT"] as const;
export type ClientCommand = (typeof CLIENT_COMMANDS)[number];
const isClientCommand = (c: string): c is ClientCommand => (CLIENT_COMMANDS as readonly string[]).includes(c);

export interface ClientFrame {
  command: ClientCommand;
  /** First occurrence wins (spec: "Repeated Header Entries"); values are never trimmed. */
  headers: ReadonlyMap<string, string>;
  body: Uint8Array;
}

export type ParseOutcome = { ok: true; frames: ClientFrame[]; rest: Uint8Array } | { ok: false; frames: ClientFrame[]; error: string };

const NUL = 0;
const LF = 10;
const CR = 13;
const MAX_HEADERS = 64;

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const encoder = new TextEncoder();

/** Which escapes a frame's headers use: none for CONNECT/CONNECTED and STOMP 1.0; 1.1 lacks `\r`. */
function escapesFor(command: string, version: StompVersion | undefined): "none" | "1.1" | "1.2" {
  if (command === "CONNECT" || command === "STOMP" || command === "CONNECTED" || version === undefined || version === "1.0") return "none";
  return version;
}

/** Undo header escaping; undefined when an escape is not defined for the version (a fatal error, spec "Value Encoding"). */
export function unescapeHeader(raw: string, mode: "none" | "1.1" | "1.2"): string | undefined {
  if (mode === "none" || !raw.includes("\\")) return raw;
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = raw[++i];
    if (next === "n") out += "\n";
    else if (next === "c") out += ":";
    else if (next === "\\") out += "\\";
    else if (next === "r" && mode === "1.2") out += "\r";
    else return undefined;
  }
  return out;
}

export function escapeHeader(value: string, mode: "none" | "1.1" | "1.2"): string {
  if (mode === "none") return value;
  let out = value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/:/g, "\\c");
  if (mode === "1.2") out = out.replace(/\r/g, "\\r");
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** One line ending at `lf` (exclusive), without a trailing CR, as text; undefined if not UTF-8. */
function lineAt(buf: Uint8Array, start: number, lf: number): string | undefined {
  const end = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
  try {
    return decoder.decode(buf.subarray(start, end));
  } catch {
    return undefined;
  }
}

/**
 * No EOL ends the command or header lines yet: wait for the rest of a split
 * frame — unless a NUL already came, which ends a frame and is never inside a
 * header (its content-length body comes after the blank line). Then the
 * client wrote a frame without its EOLs (e.g. bare CR line ends) and hears so
 * now, rather than never.
 */
function unfinished(buf: Uint8Array, start: number, frames: ClientFrame[]): ParseOutcome {
  if (buf.indexOf(NUL, start) >= 0)
    return { ok: false, frames, error: "frame ended (NUL) before its headers did: lines end with LF or CR LF, then a blank line" };
  return { ok: true, frames, rest: buf.subarray(start) };
}

/**
 * Parse every whole frame in `pending + chunk`; what remains of an unfinished
 * frame comes back as `rest`. `version` selects the header escaping (undefined
 * before CONNECTED). Never throws.
 */
export function parseFrames(pending: Uint8Array, chunk: Uint8Array, version: StompVersion | undefined): ParseOutcome {
  const buf = concat(pending, chunk);
  const frames: ClientFrame[] = [];
  let pos = 0;
  for (;;) {
    // Heart-beats and the EOLs that may follow a NUL.
    while (pos < buf.length && (buf[pos] === LF || (buf[pos] === CR && buf[pos + 1] === LF))) pos += buf[pos] === CR ? 2 : 1;
    if (pos >= buf.length || (buf[pos] === CR && pos === buf.length - 1)) return { ok: true, frames, rest: buf.subarray(pos) };
    const start = pos;
    let lf = buf.indexOf(LF, pos);
    if (lf < 0) return unfinished(buf, start, frames);
    const command = lineAt(buf, pos, lf);
    if (command === undefined) return { ok: false, frames, error: "frame is not UTF-8" };
    if (!isClientCommand(command)) return { ok: false, frames, error: `unknown command: ${command.slice(0, 32)}` };
    const mode = escapesFor(command, version);
    const headers = new Map<string, string>();
    let count = 0;
    pos = lf + 1;
    for (;;) {
      lf = buf.indexOf(LF, pos);
      if (lf < 0) return unfinished(buf, start, frames);
      const line = lineAt(buf, pos, lf);
      pos = lf + 1;
      if (line === undefined) return { ok: false, frames, error: "header is not UTF-8" };
      if (line === "") break;
      if (++count > MAX_HEADERS) return { ok: false, frames, error: `more than ${MAX_HEADERS} headers` };
      const colon = line.indexOf(":");
      if (colon <= 0) return { ok: false, frames, error: `malformed header line: ${line.slice(0, 32)}` };
      const key = unescapeHeader(line.slice(0, colon), mode);
      const value = unescapeHeader(line.slice(colon + 1), mode);
      if (key === undefined || value === undefined) return { ok: false, frames, error: "undefined escape sequence in a header" };
      if (!headers.has(key)) headers.set(key, value);
    }
    const declared = headers.get("content-length");
    let bodyEnd: number;
    if (declared !== undefined) {
      if (!/^\d{1,9}$/.test(declared)) return { ok: false, frames, error: "content-length must be a non-negative integer" };
      bodyEnd = pos + Number(declared);
      if (buf.length <= bodyEnd) return { ok: true, frames, rest: buf.subarray(start) };
      if (buf[bodyEnd] !== NUL) return { ok: false, frames, error: "no NUL after content-length octets of body" };
    } else {
      bodyEnd = buf.indexOf(NUL, pos);
      if (bodyEnd < 0) return { ok: true, frames, rest: buf.subarray(start) };
    }
    frames.push({ command, headers, body: buf.subarray(pos, bodyEnd) });
    pos = bodyEnd + 1;
  }
}

export type ServerCommand = "CONNECTED" | "MESSAGE" | "RECEIPT" | "ERROR";

/** A frame for the client; `content-length` is added (in UTF-8 octets) whenever there is a body. */
export function encodeFrame(command: ServerCommand, headers: ReadonlyArray<readonly [string, string]>, version: StompVersion | undefined, body = ""): string {
  const mode = escapesFor(command, version);
  let out = `${command}\n`;
  for (const [k, v] of headers) out += `${escapeHeader(k, mode)}:${escapeHeader(v, mode)}\n`;
  if (body !== "") out += `content-length:${utf8Length(body)}\n`;
  return `${out}\n${body}\0`;
}

/** UTF-8 octets of a string, without encoding it (surrogate pairs count 4). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export function toBytes(message: string | ArrayBuffer): Uint8Array {
  return typeof message === "string" ? encoder.encode(message) : new Uint8Array(message);
}
