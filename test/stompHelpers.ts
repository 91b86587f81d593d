/** A raw STOMP client for in-runtime tests: real upgrades through the Worker, frames written by hand. */
import { SocketRecorder } from "./socketRecorder";
import { tokenFor, worker } from "./helpers";

export interface StompFrame {
  command: string;
  headers: Record<string, string>;
  body: string;
}

/** Server frames are text, one whole frame per message (or a bare EOL heart-beat). */
export function parseServerFrame(text: string): StompFrame | undefined {
  if (/^(\r?\n)*$/.test(text)) return undefined;
  const nul = text.indexOf("\0");
  const blank = text.indexOf("\n\n");
  const [command = "", ...lines] = text.slice(0, blank).split("\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    const key = line.slice(0, colon);
    if (!(key in headers)) headers[key] = line.slice(colon + 1);
  }
  return { command, headers, body: text.slice(blank + 2, nul) };
}

export function frame(command: string, headers: Record<string, string> = {}, body = ""): string {
  return `${command}\n${Object.entries(headers)
    .map(([k, v]) => `${k}:${v}\n`)
    .join("")}\n${body}\0`;
}

export class StompClient extends SocketRecorder<StompFrame> {
  constructor(
    ws: WebSocket,
    readonly response: Response,
  ) {
    super(ws, 5000);
  }
  protected parse(text: string): StompFrame | undefined {
    return parseServerFrame(text);
  }
  send(data: string | ArrayBuffer): void {
    this.ws.send(data);
  }
  of(command: string): StompFrame[] {
    return this.frames.filter((f) => f.command === command);
  }
  async next(command: string, n = 1): Promise<StompFrame[]> {
    await this.until(() => this.of(command).length >= n, `${n} ${command}`);
    return this.of(command);
  }
  bodies(): unknown[] {
    return this.of("MESSAGE").map((m) => JSON.parse(m.body));
  }
}

export interface StompOpen {
  query?: Record<string, string>;
  protocols?: string;
  origin?: string;
}

export async function openStomp(opts: StompOpen = {}): Promise<StompClient> {
  const headers = new Headers({ Upgrade: "websocket" });
  if (opts.protocols !== undefined) headers.set("Sec-WebSocket-Protocol", opts.protocols);
  if (opts.origin !== undefined) headers.set("Origin", opts.origin);
  const response = await worker(`/v1/stomp?${new URLSearchParams(opts.query ?? {})}`, { headers });
  if (response.status !== 101 || response.webSocket === null) throw new Error(`stomp answered ${response.status}: ${await response.text()}`);
  return new StompClient(response.webSocket, response);
}

/** Open, CONNECT with `Authorization: Bearer`, and wait for CONNECTED. */
export async function stompSession(userId: string, headers: Record<string, string> = {}, opts: StompOpen = {}): Promise<StompClient> {
  const client = await openStomp(opts);
  client.send(
    frame("CONNECT", { "accept-version": "1.2,1.1,1.0", "heart-beat": "10000,10000", Authorization: `Bearer ${await tokenFor(userId)}`, ...headers }),
  );
  await client.next("CONNECTED");
  return client;
}
