/** The native dialect's connection: where it is, what it is called, its heartbeat and its frame limit (docs/protocol.md). */

export const CONNECT_PATH = "/v1/connect";
export const SUBPROTOCOL = "switchboard.v1";
/** A browser cannot set headers on a WebSocket: its token rides as a second subprotocol, `bearer.<jwt>`. */
export const BEARER_PROTOCOL_PREFIX = "bearer.";
/** Heartbeat strings, not JSON; the server's runtime answers them itself (setWebSocketAutoResponse). */
export const PING = "ping";
export const PONG = "pong";

/** Client frames are limited to this many UTF-8 bytes (the server closes 1009 beyond). */
export const MAX_CLIENT_FRAME_BYTES = 4096;

/**
 * Is a text frame over MAX_CLIENT_FRAME_BYTES in UTF-8? A UTF-16 unit encodes
 * to 1-3 bytes, so the length alone decides most frames without encoding them.
 */
export function exceedsFrameLimit(text: string): boolean {
  if (text.length > MAX_CLIENT_FRAME_BYTES) return true;
  if (text.length * 3 <= MAX_CLIENT_FRAME_BYTES) return false;
  return new TextEncoder().encode(text).byteLength > MAX_CLIENT_FRAME_BYTES;
}
