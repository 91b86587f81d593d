/**
 * The heartbeat cadence every dialect advertises, from one knob
 * (HEARTBEAT_INTERVAL): the longest a client may stay silent before it sends
 * a heartbeat. The native welcome says it as `heartbeat`, the Pusher dialect
 * as `activity_timeout`, STOMP as the client's heart-beat in CONNECTED.
 *
 * Every text frame a client sends is a billed request (20:1), and Cloudflare
 * is reported to close a WebSocket silent for 100 s in both directions, so the
 * cadence is the longest silence that stays under that (docs/operations.md).
 */
import type { Config } from "../config";

export interface Cadence {
  /** Longest silence (in both directions) before a client sends a heartbeat, in seconds. */
  silenceS: number;
  /** The same in ms. */
  silenceMs: number;
  /** A session silent this long (ms) is stale and closed (4002 and its dialect's equivalents). */
  staleAfterMs: number;
}

/** A dialect's cadence: what it advertises, and when the hub calls its sessions stale. */
export function cadenceOf(config: Pick<Config, "heartbeatIntervalMs" | "staleAfterMs">): Cadence {
  return {
    silenceS: Math.round(config.heartbeatIntervalMs / 1000),
    silenceMs: config.heartbeatIntervalMs,
    staleAfterMs: config.staleAfterMs,
  };
}
