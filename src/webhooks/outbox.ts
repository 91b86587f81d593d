/**
 * A stats shard's webhook outbox: `user.online` / `user.offline` events stored
 * in the shard's SQLite and sent from its alarm, so a slow or failing receiver
 * never blocks a socket and an eviction mid-retry loses nothing.
 *
 * - `user.offline` waits WEBHOOK_OFFLINE_GRACE; if the user comes back within
 *   it, both the pending offline and the new online event are dropped (a quick
 *   reconnect sends nothing).
 * - Each event has a stable id (header `Switchboard-Event-Id`) that receivers
 *   use to drop the duplicates at-least-once delivery implies.
 * - Failures retry with exponential backoff and full jitter, up to MAX_ATTEMPTS
 *   (about a day), then the event is logged and dropped.
 */
import { signatureHeader } from "./sign";
import { count } from "../metrics/events";

export type WebhookType = "user.online" | "user.offline";

export interface WebhookEvent {
  id: string;
  type: WebhookType;
  userId: string;
  /** When the transition happened (ms). */
  at: number;
}

type OutboxRow = { event_id: string; body: string; attempts: number };

export const MAX_ATTEMPTS = 16;
const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 3 * 60 * 60_000;
const SEND_TIMEOUT_MS = 10_000;
const BATCH = 50;

/**
 * Exponential backoff with full jitter (M. Brooker, "Exponential Backoff And
 * Jitter", AWS Architecture Blog, 2015): uniform over [0, min(cap, base·2^n)],
 * so a receiver coming back up is not hit by every shard at once.
 */
export function backoffMs(attempts: number, random: number = Math.random()): number {
  const cap = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempts);
  return Math.max(BASE_DELAY_MS, Math.round(random * cap));
}

export class Outbox {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS outbox (
      event_id TEXT PRIMARY KEY,
      user_id TEXT NOT NULL,
      type TEXT NOT NULL,
      body TEXT NOT NULL,
      due_at INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0
    )`);
    sql.exec("CREATE INDEX IF NOT EXISTS outbox_due ON outbox(due_at)");
  }

  /** Record a transition. Returns when the alarm should run for it. */
  transition(userId: string, online: boolean, now: number, graceMs: number): number | undefined {
    if (online) {
      // Back within the grace period: the offline event was never sent; drop it
      // and say nothing about coming back either.
      const pending = this.sql
        .exec("DELETE FROM outbox WHERE user_id = ? AND type = 'user.offline' AND attempts = 0 AND due_at > ? RETURNING event_id", userId, now)
        .toArray();
      if (pending.length > 0) return undefined;
      return this.enqueue({ id: crypto.randomUUID(), type: "user.online", userId, at: now }, now);
    }
    return this.enqueue({ id: crypto.randomUUID(), type: "user.offline", userId, at: now }, now + graceMs);
  }

  private enqueue(event: WebhookEvent, dueAt: number): number {
    this.sql.exec(
      "INSERT INTO outbox (event_id, user_id, type, body, due_at) VALUES (?, ?, ?, ?, ?)",
      event.id,
      event.userId,
      event.type,
      JSON.stringify(event),
      dueAt,
    );
    return dueAt;
  }

  nextDue(): number | undefined {
    return this.sql.exec<{ due: number | null }>("SELECT min(due_at) AS due FROM outbox").one().due ?? undefined;
  }

  /** Send every due event once; reschedule failures. */
  async deliver(url: string, secret: string, now: number): Promise<void> {
    const due = this.sql.exec<OutboxRow>("SELECT event_id, body, attempts FROM outbox WHERE due_at <= ? ORDER BY due_at LIMIT ?", now, BATCH).toArray();
    await Promise.all(due.map((row) => this.sendOne(url, secret, row)));
  }

  private async sendOne(url: string, secret: string, row: OutboxRow): Promise<void> {
    let ok = false;
    // A timer we clear ourselves, not AbortSignal.timeout(): a pending timer
    // keeps the object from going idle (workerd waits for it before evicting),
    // so every delivery would hold the shard awake for SEND_TIMEOUT_MS.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error("webhook receiver timed out")), SEND_TIMEOUT_MS);
    try {
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "Switchboard-Event-Id": row.event_id,
          "Switchboard-Signature": await signatureHeader(secret, timestamp, row.body),
        },
        body: row.body,
        signal: abort.signal,
      });
      ok = response.ok;
      await response.body?.cancel();
    } catch (err) {
      console.warn("switchboard: webhook delivery failed", row.event_id, err);
    } finally {
      clearTimeout(timer);
    }
    if (ok) {
      count("switchboard_webhooks_total", { outcome: "delivered" });
      this.sql.exec("DELETE FROM outbox WHERE event_id = ?", row.event_id);
      return;
    }
    const attempts = row.attempts + 1;
    count("switchboard_webhooks_total", { outcome: attempts >= MAX_ATTEMPTS ? "dropped" : "retry" }, 1, { eventId: row.event_id, attempts });
    if (attempts >= MAX_ATTEMPTS) {
      console.error("switchboard: webhook dropped after retries", row.event_id, row.body);
      this.sql.exec("DELETE FROM outbox WHERE event_id = ?", row.event_id);
      return;
    }
    this.sql.exec("UPDATE outbox SET attempts = ?, due_at = ? WHERE event_id = ?", attempts, Date.now() + backoffMs(attempts), row.event_id);
  }
}
