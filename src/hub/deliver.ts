/**
 * One push to the user's live sessions: targeting, the slow-consumer guard,
 * and the frame each session gets — the same bytes for all, or one per
 * dialect (src/pusher/deliver.ts). Never throws.
 */
import { CloseCode } from "../protocol";
import { askForProof, closeFor } from "../pusher/hub";
import type { FrameFor } from "../pusher/deliver";
import type { LiveSession } from "./liveness";
import type { PushRequest } from "./rpc";
import type { SendBacklog } from "./sendBacklog";
import { trySend } from "./sockets";

export type Target = Pick<PushRequest, "device" | "exceptDevice" | "exceptSession">;

export function deliverTo(
  live: readonly LiveSession[],
  target: Target,
  frameFor: string | FrameFor,
  now: number,
  backlog: SendBacklog,
  maxBacklogBytes: number,
): { delivered: number; tooSlow: number } {
  let delivered = 0;
  let tooSlow = 0;
  for (const { ws, session } of live) {
    if (target.device !== undefined && session.device !== target.device) continue;
    if (target.exceptDevice !== undefined && session.device === target.exceptDevice) continue;
    if (target.exceptSession !== undefined && session.sessionId === target.exceptSession) continue;
    const frame = typeof frameFor === "string" ? frameFor : frameFor(session);
    if (frame === undefined) continue;
    if (!backlog.admit(ws, frame.length, now)) {
      // Stored messages wait in the log for its resume; nothing is lost.
      closeFor(ws, session, CloseCode.TooSlow, "too slow: not reading");
      tooSlow++;
      continue;
    }
    if (trySend(ws, frame)) delivered++;
    askForProof(ws, session, frame.length, maxBacklogBytes);
  }
  return { delivered, tooSlow };
}
