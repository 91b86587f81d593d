/**
 * Where a connecting device picks up. With `?since=N` it is N; otherwise a
 * known device resumes after its last cumulative ack and a new one starts at
 * head. `recovered` is false when anything after that point is gone (trimmed,
 * expired) or the point is beyond head: the client must resync.
 */
import { replayableTo, type MessageLog, type StoredMessage } from "./log";

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

/** Messages a device missed after `from`, oldest first, honouring each message's targeting (each dialect encodes them). */
export function missedMessages(log: MessageLog, device: string, from: number, now: number, limit: number): StoredMessage[] {
  if (from >= log.head) return [];
  return log.after(from, now, limit).filter((m) => replayableTo(m, device));
}
