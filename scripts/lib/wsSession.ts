/**
 * A client session over the `ws` package that records every frame and the
 * close, with awaitable helpers; and `openSession`, which resolves to either
 * an open session or the HTTP refusal (status + body) of the upgrade.
 */
import WebSocket from "ws";

export type Frame = { type: string; [key: string]: unknown };

export interface Refused {
  kind: "refused";
  status: number;
  body: string;
  /** The refusal's response headers (lower-case names). */
  headers?: Record<string, string | string[] | undefined>;
}

export interface Failed {
  kind: "failed";
  error: string;
}

export interface OpenOptions {
  headers?: Record<string, string>;
  protocols?: string[];
  timeoutMs?: number;
  /** Keep only counts and seqs, not every frame (for thousands of sessions). */
  light?: boolean;
}

export class Session {
  readonly kind = "open";
  readonly frames: Frame[] = [];
  /** Seqs of message frames, in arrival order. */
  readonly seqs: number[] = [];
  /** Raw text frames that were not JSON (e.g. "pong"). */
  readonly other: string[] = [];
  messageCount = 0;
  welcome: Frame | undefined;
  closed: { code: number; reason: string; at: number } | undefined;
  protocol: string;
  #waiters: Array<() => void> = [];
  readonly light: boolean;
  readonly ws: WebSocket;

  constructor(ws: WebSocket, light: boolean) {
    this.ws = ws;
    this.light = light;
    this.protocol = ws.protocol;
    ws.on("message", (data: WebSocket.RawData, isBinary: boolean) => {
      const text = isBinary ? "" : data.toString();
      let frame: Frame | undefined;
      if (text.startsWith("{")) {
        try {
          frame = JSON.parse(text) as Frame;
        } catch {
          frame = undefined;
        }
      }
      if (frame === undefined) {
        if (!this.light) this.other.push(isBinary ? "<binary>" : text);
      } else {
        if (frame.type === "welcome" && this.welcome === undefined) this.welcome = frame;
        if (frame.type === "message") {
          this.messageCount++;
          if (typeof frame.seq === "number") this.seqs.push(frame.seq);
        }
        if (!this.light || frame.type !== "message") this.frames.push(frame);
      }
      this.#wake();
    });
    ws.on("close", (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString(), at: Date.now() };
      this.#wake();
    });
    ws.on("error", () => {
      // surfaced as a close (1006)
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Wait until `predicate` holds; false on timeout (never throws). */
  async until(predicate: () => boolean, timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  errors(): Frame[] {
    return this.frames.filter((f) => f.type === "error");
  }

  messages(): Frame[] {
    return this.frames.filter((f) => f.type === "message");
  }

  send(data: string | Buffer, opts: { binary?: boolean; fin?: boolean } = {}): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    try {
      this.ws.send(data, opts);
      return true;
    } catch {
      return false;
    }
  }

  close(code = 1000, reason = "bye"): void {
    try {
      this.ws.close(code, reason);
    } catch {
      // already closing
    }
  }

  /** Drop the TCP connection without a close frame. */
  terminate(): void {
    this.ws.terminate();
  }

  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string; at: number } | undefined> {
    await this.until(() => this.closed !== undefined, timeoutMs);
    return this.closed;
  }
}

export type OpenResult = Session | Refused | Failed;

export function openSession(url: string, o: OpenOptions = {}): Promise<OpenResult> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (r: OpenResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const ws = new WebSocket(url, o.protocols ?? [], {
      headers: o.headers,
      handshakeTimeout: o.timeoutMs ?? 10_000,
      perMessageDeflate: false,
      maxPayload: 64 * 1024 * 1024,
    });
    // Attach the recorder before any frame can arrive (welcome comes right after 101).
    const session = new Session(ws, o.light ?? false);
    const timer = setTimeout(
      () => {
        ws.terminate();
        settle({ kind: "failed", error: "handshake timeout" });
      },
      (o.timeoutMs ?? 10_000) + 1000,
    );
    ws.once("open", () => {
      session.protocol = ws.protocol;
      settle(session);
    });
    ws.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        settle({ kind: "refused", status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), headers: res.headers });
        ws.terminate();
      });
      res.on("error", () => settle({ kind: "refused", status: res.statusCode ?? 0, body: "" }));
    });
    ws.once("error", (err: Error) => settle({ kind: "failed", error: err.message }));
  });
}

export function isOpen(r: OpenResult): r is Session {
  return r.kind === "open";
}
