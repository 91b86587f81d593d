/**
 * HTTP/1.1 over a bare TCP socket, for inputs that fetch/undici refuse to send:
 * raw bytes in the request target and header values, invalid UTF-8 bodies,
 * chunked bodies without a length, upgrade requests that are answered with a
 * refusal. One request per connection (`Connection: close`).
 */
import { connect } from "node:net";

export type Bytes = string | Buffer;

export interface RawRequest {
  method: string;
  /** Request target, sent as given (a string is sent as UTF-8). */
  target: Bytes;
  headers?: Array<[string, Bytes]>;
  body?: Bytes;
  /** Send the body with Transfer-Encoding: chunked (in `chunkSize` pieces) instead of Content-Length. */
  chunked?: boolean;
  chunkSize?: number;
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The socket ended before a full response (status 0), or timed out. */
  error?: string;
}

const CRLF = "\r\n";

function toBuf(b: Bytes): Buffer {
  return typeof b === "string" ? Buffer.from(b, "utf8") : b;
}

export function encodeRequest(host: string, r: RawRequest): Buffer {
  const parts: Buffer[] = [Buffer.from(`${r.method} `), toBuf(r.target), Buffer.from(` HTTP/1.1${CRLF}Host: ${host}${CRLF}`)];
  const names = new Set((r.headers ?? []).map(([n]) => n.toLowerCase()));
  for (const [name, value] of r.headers ?? []) parts.push(Buffer.from(`${name}: `), toBuf(value), Buffer.from(CRLF));
  if (!names.has("connection")) parts.push(Buffer.from(`Connection: close${CRLF}`));
  const body = r.body === undefined ? undefined : toBuf(r.body);
  if (body !== undefined && r.chunked === true) {
    parts.push(Buffer.from(`Transfer-Encoding: chunked${CRLF}${CRLF}`));
    const size = Math.max(1, r.chunkSize ?? 8192);
    for (let i = 0; i < body.length; i += size) {
      const piece = body.subarray(i, i + size);
      parts.push(Buffer.from(`${piece.length.toString(16)}${CRLF}`), piece, Buffer.from(CRLF));
    }
    parts.push(Buffer.from(`0${CRLF}${CRLF}`));
  } else if (body !== undefined) {
    if (!names.has("content-length")) parts.push(Buffer.from(`Content-Length: ${body.length}${CRLF}`));
    parts.push(Buffer.from(CRLF), body);
  } else {
    parts.push(Buffer.from(CRLF));
  }
  return Buffer.concat(parts);
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = data.indexOf(CRLF, i);
    if (eol < 0) break;
    const size = Number.parseInt(data.subarray(i, eol).toString("latin1").split(";")[0] ?? "", 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(data.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** Send one request; resolve with the response (status 101 resolves at the headers and drops the socket). */
export function rawRequest(port: number, r: RawRequest): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    let done = false;
    let status = 0;
    let headers: Record<string, string> = {};
    let headerEnd = -1;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const all = Buffer.concat(chunks);
      let body: Buffer = headerEnd >= 0 ? all.subarray(headerEnd + 4) : Buffer.alloc(0);
      if (headers["transfer-encoding"]?.toLowerCase().includes("chunked") === true) body = dechunk(body);
      const res: RawResponse = { status, headers, body };
      if (error !== undefined) res.error = error;
      resolve(res);
    };
    const timer = setTimeout(() => finish("timeout"), r.timeoutMs ?? 15_000);
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (headerEnd < 0) {
        const all = Buffer.concat(chunks);
        headerEnd = all.indexOf("\r\n\r\n");
        if (headerEnd >= 0) {
          const lines = all.subarray(0, headerEnd).toString("latin1").split(CRLF);
          status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
          headers = {};
          for (const line of lines.slice(1)) {
            const colon = line.indexOf(":");
            if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
          }
          if (status === 101) finish();
        }
      }
      if (headerEnd >= 0 && headers["content-length"] !== undefined) {
        const want = headerEnd + 4 + Number(headers["content-length"]);
        if (Buffer.concat(chunks).length >= want) finish();
      }
    });
    socket.on("end", () => finish(status === 0 ? "connection closed before a response" : undefined));
    socket.on("close", () => finish(status === 0 ? "connection closed before a response" : undefined));
    socket.on("error", (err) => finish(status === 0 ? `socket error: ${err.message}` : undefined));
    socket.write(encodeRequest(`127.0.0.1:${port}`, r));
  });
}

/** The app's refusal body `{error:{code,message,field?}}`, or undefined if the body is not that shape. */
export function errorShape(body: Buffer): { code: string; message: string; field?: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const error: unknown = (parsed as Record<string, unknown>).error;
  if (typeof error !== "object" || error === null) return undefined;
  const { code, message, field } = error as Record<string, unknown>;
  if (typeof code !== "string" || typeof message !== "string") return undefined;
  if (field !== undefined && typeof field !== "string") return undefined;
  return field === undefined ? { code, message } : { code, message, field };
}
