/**
 * Where a connecting device picks up. With `?since=N` it is N; otherwise a
 * known device resumes after its last cumulative ack and a new one starts at
 * head. `recovered` is false when anything after that point is gone (trimmed,
 * expired) or the point is beyond head: the client must resync.
 */
import { encodeMessage } from "../protocol";
import { replayableTo, type MessageLog } from "./log";

export interface ResumePoint {
  head: number;
  from: number;
  recovered: boolean;
}

/** Synchronous on purpose: the caller replays in the same turn (see UserHub.fetch). */
export function resumePoint(log: MessageLog, device: string, since: number | undefined, now: number): ResumePoint {
  const head = log.head;
  if (since !== undefined) {
    const from = Math.min(since, head);
    log.ensureCursor(device, from, now);
    return { head, from, recovered: log.isComplete(since, now) };
  }
  const cursor = log.cursor(device);
  if (cursor === undefined) {
    log.ensureCursor(device, head, now);
    return { head, from: head, recovered: true };
  }
  return { head, from: Math.min(cursor, head), recovered: log.isComplete(cursor, now) };
}

/** Message frames a device missed after `from`, oldest first, honouring each message's targeting. */
export function missedFrames(log: MessageLog, device: string, from: number, now: number, limit: number): string[] {
  if (from >= log.head) return [];
  const frames: string[] = [];
  for (const m of log.after(from, now, limit)) {
    if (replayableTo(m, device)) frames.push(encodeMessage(m, m.dataJson));
  }
  return frames;
}
