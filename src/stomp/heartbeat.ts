/**
 * The one heart-beat period STOMP advertises in CONNECTED (`heart-beat:S,S`):
 * the deployment's cadence (src/hub/cadence.ts, HEARTBEAT_INTERVAL), as the
 * native welcome's `heartbeat` and Pusher's activity_timeout are. The client
 * then beats a bare EOL every max(cx, S) (spec "Heart-beating"), which the
 * runtime echoes without waking the object (src/hub/heartbeat.ts); stompjs
 * tolerates 2S of silence, Spring 3S, and STALE_AFTER (≥ 2 × the cadence)
 * leaves a missed beat before the sweep calls a socket stale.
 */
import type { Config } from "../config";
import { cadenceOf } from "../hub/cadence";

export function stompHeartbeatMs(config: Pick<Config, "heartbeatIntervalMs" | "staleAfterMs">): number {
  return cadenceOf(config).silenceMs;
}
