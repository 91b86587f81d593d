/**
 * One message to the user's live sessions: targeting, the slow-consumer guard,
 * and the frame each session gets — asked of its dialect, once per dialect per
 * delivery (an encoder may cache, so N native sessions share one frame). Never throws.
 */
import { CloseCode } from "@switchboard/protocol";
import type { AnyDialect, Dialects, Encoder, HubServices, Outgoing } from "./dialect";
import type { LiveSession } from "./liveness";
import type { PushRequest } from "./rpc";
import type { SendBacklog } from "./sendBacklog";
import { trySend } from "./sockets";

export type Target = Pick<PushRequest, "device" | "exceptDevice" | "exceptSession">;

export interface DeliverInput {
  dialects: Dialects;
  backlog: SendBacklog;
  hub: HubServices;
}

export function deliverTo(live: readonly LiveSession[], target: Target, message: Outgoing, input: DeliverInput): { delivered: number; tooSlow: number } {
  let delivered = 0;
  let tooSlow = 0;
  const encoders = new Map<AnyDialect, Encoder<unknown>>();
  for (const { ws, session } of live) {
    if (target.device !== undefined && session.device !== target.device) continue;
    if (target.exceptDevice !== undefined && session.device === target.exceptDevice) continue;
    if (target.exceptSession !== undefined && session.sessionId === target.exceptSession) continue;
    const dialect = input.dialects.of(session);
    let encode = encoders.get(dialect);
    if (encode === undefined) {
      encode = dialect.encoder(message);
      encoders.set(dialect, encode);
    }
    const frame = encode(session);
    if (frame === undefined) continue;
    if (!input.backlog.admit(ws, frame.length, input.hub.now)) {
      // Stored messages wait in the log for its resume; nothing is lost.
      dialect.close(ws, session, CloseCode.TooSlow, "too slow: not reading");
      tooSlow++;
      continue;
    }
    if (trySend(ws, frame)) delivered++;
    dialect.afterSend?.(ws, session, message, frame.length, input.hub);
  }
  return { delivered, tooSlow };
}
