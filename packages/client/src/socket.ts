/**
 * The WebSocket surface the SDK uses, and how it makes one.
 *
 * Browsers, Node 22's global WebSocket (undici) and the `ws` package all offer
 * these members. Handlers take `never` so that each implementation's own event
 * types are accepted; the SDK reads events as `unknown` and narrows them.
 */
import type { EnvironmentEvents } from "./types.ts";

export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** WebSocket.OPEN in every implementation (WHATWG, undici, ws). */
export const OPEN = 1;

export interface SocketInit {
  /** Subprotocols to offer: always "switchboard.v1", plus "bearer.<jwt>" in protocol auth. */
  protocols: string[];
  /** Extra handshake headers: `Authorization` in header auth, else empty. */
  headers: Record<string, string>;
}

/**
 * Makes the socket for one connection attempt. The default uses the global
 * WebSocket. For the `ws` package:
 *
 *     createWebSocket: (url, { protocols, headers }) => new WS(url, protocols, { headers })
 */
export type WebSocketFactory = (url: string, init: SocketInit) => WebSocketLike;

/** Node 22's global WebSocket is undici's, whose second argument may be an init dictionary. */
type UndiciWebSocketConstructor = new (url: string, init: { protocols: string[]; headers: Record<string, string> }) => WebSocketLike;
type StandardWebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

export const defaultWebSocketFactory: WebSocketFactory = (url, init) => {
  const Ctor: unknown = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof Ctor !== "function") {
    throw new Error("switchboard: no global WebSocket here (Node < 22?); pass createWebSocket, e.g. with the `ws` package");
  }
  if (Object.keys(init.headers).length === 0) {
    return new (Ctor as StandardWebSocketConstructor)(url, init.protocols);
  }
  // Only header auth gets here, and it is only the default in Node, where the
  // global is undici's: it takes { protocols, headers } (verified on Node
  // 22.23 / undici 6.28). A browser would stringify the object into a bogus
  // subprotocol, which is why browsers use protocol auth.
  return new (Ctor as UndiciWebSocketConstructor)(url, { protocols: init.protocols, headers: init.headers });
};

/** True in Node (and runtimes that mimic its `process.versions.node`), where header auth works. */
export function isNodeLike(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return typeof proc?.versions?.node === "string" && typeof (globalThis as { document?: unknown }).document === "undefined";
}

function field(event: unknown, key: string): unknown {
  if (typeof event !== "object" || event === null || !(key in event)) return undefined;
  return (event as Record<string, unknown>)[key];
}

/** A close event's code, reason and wasClean, read defensively (implementations differ). */
export function closeDetails(event: unknown): { code: number | undefined; reason: string; wasClean: boolean } {
  const code = field(event, "code");
  const reason = field(event, "reason");
  return {
    code: typeof code === "number" ? code : undefined,
    reason: typeof reason === "string" ? reason : "",
    wasClean: field(event, "wasClean") === true,
  };
}

function noop(): void {}

/**
 * Stop listening to a socket we are done with. No-ops rather than null: the
 * `ws` package throws an unhandled 'error' event when no listener is left.
 */
export function detach(ws: WebSocketLike): void {
  ws.onopen = noop;
  ws.onmessage = noop;
  ws.onerror = noop;
  ws.onclose = noop;
}

/** The page's lifecycle events in browsers (globalThis has addEventListener); none elsewhere. */
export function defaultEnvironment(): EnvironmentEvents | null {
  const g = globalThis as { addEventListener?: unknown; removeEventListener?: unknown };
  if (typeof g.addEventListener !== "function" || typeof g.removeEventListener !== "function") return null;
  return globalThis;
}
