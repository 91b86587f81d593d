/**
 * The one heart-beat period STOMP advertises in CONNECTED (`heart-beat:S,S`),
 * derived from the config. The client then beats a bare EOL every max(cx, S)
 * (spec "Heart-beating"), which the runtime echoes without waking the object
 * (src/hub/heartbeat.ts); stompjs tolerates 2S of silence, Spring 3S. A third
 * of STALE_AFTER leaves two missed beats before the sweep calls a socket stale
 * — the rule the Pusher dialect's activity_timeout follows (src/pusher/dialect.ts).
 */
import type { Config } from "../config";

export function stompHeartbeatMs(config: Pick<Config, "staleAfterMs">): number {
  return Math.max(1000, Math.min(120_000, Math.floor(config.staleAfterMs / 3000) * 1000));
}
