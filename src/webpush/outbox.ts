/**
 * The user's Web Push outbox: one row per (device, message) still to be sent,
 * in the user's object's SQLite, sent from its alarm — so a push answers
 * without waiting for any push service, and an eviction mid-retry loses
 * nothing. Outcomes (RFC 8030 §5, §7.2; pushpad's status-code guide, see
 * docs/webpush.md):
 *
 * - 2xx: sent, row gone.
 * - 404 / 410: the subscription is gone; it is deleted with every row for the device.
 * - 413: resent once in the truncated form; a second 413 drops it.
 * - 429, 5xx, a network error or timeout: retried with backoff (full jitter),
 *   never sooner than `Retry-After`, and dropped rather than sent past the
 *   message's expiry.
 * - any other status: dropped (a retry would get the same answer).
 *
 * Before each attempt the device is looked at again: if it now has a live
 * session it got (or gets, on resume) the message over its socket, and the row
 * is dropped. Every attempt's outcome is logged, with the endpoint's origin
 * only (the full URL is a capability).
 */
import { count } from "../metrics/events";
import { backoffMs } from "../webhooks/outbox";
import type { WebPushConfig } from "./config";
import { asUrgency, encryptFor, notificationText, webPushRequest, type Urgency } from "./request";
import type { SubscriptionStore } from "./store";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS webpush_outbox (
  device TEXT NOT NULL,
  message_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event TEXT,
  body TEXT NOT NULL,
  truncated INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  urgency TEXT,
  topic TEXT,
  due_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (device, message_id)
);
CREATE INDEX IF NOT EXISTS webpush_outbox_due ON webpush_outbox(due_at);
`;

/**
 * Notifications queued per device; beyond it the oldest are dropped (logged).
 * A device that far behind is told by the newest, and replays the rest over
 * its socket when it connects.
 */
export const MAX_QUEUED_PER_DEVICE = 100;
/** Attempts per notification before it is dropped (its TTL usually ends it sooner). */
export const MAX_ATTEMPTS = 12;
/** Notifications sent per alarm run; the rest wait for the next run (planned at once). */
const BATCH = 50;
const SEND_TIMEOUT_MS = 10_000;
/** A Retry-After beyond this is read as this: a push service asking for days means "give up", which the TTL decides. */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60_000;

type Row = {
  device: string;
  message_id: string;
  seq: number;
  event: string | null;
  body: string;
  truncated: number;
  expires_at: number;
  urgency: string | null;
  topic: string | null;
  attempts: number;
};

export interface Notification {
  id: string;
  seq: number;
  event?: string | undefined;
  dataJson: string;
  expiresAt: number;
  urgency?: Urgency | undefined;
  topic?: string | undefined;
}

export interface SendDeps {
  config: WebPushConfig;
  store: SubscriptionStore;
  /** Does the device have a live session now? */
  isLive(device: string): boolean;
  /** fetch() for client-supplied URLs (src/util/egress.ts). */
  fetch(request: Request, init: RequestInit): Promise<Response>;
}

/** `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in ms from now; undefined if absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS) : undefined;
}

/**
 * Each logged outcome and its `switchboard_webpush_total` label. A network error is
 * not counted by itself: the same attempt ends in "retrying" or "dropped", counted then.
 */
const OUTCOME_LABEL = {
  expired: "expired",
  skipped: "skipped_online",
  "unusable subscription": "unusable",
  "network error": undefined,
  sent: "sent",
  "subscription gone": "gone",
  "too large; resending truncated": "truncated",
  refused: "refused",
  "dropped: would outlive its ttl or retries": "dropped",
  retrying: "retry",
} as const;

function log(outcome: keyof typeof OUTCOME_LABEL, row: Row, details: Record<string, unknown> = {}): void {
  const label = OUTCOME_LABEL[outcome];
  if (label !== undefined) count("switchboard_webpush_total", { outcome: label });
  const line = JSON.stringify({ webpush: outcome, device: row.device, id: row.message_id, seq: row.seq, attempt: row.attempts + 1, ...details });
  if (outcome === "sent" || outcome === "skipped") console.log("switchboard:", line);
  else console.warn("switchboard:", line);
}

export class WebPushOutbox {
  #exists: boolean;

  constructor(
    private readonly sql: SqlStorage,
    tables: ReadonlySet<string>,
  ) {
    this.#exists = tables.has("webpush_outbox");
  }

  /** Queue one notification per device, due now. Returns how many were queued. */
  enqueue(devices: readonly string[], n: Notification, now: number): number {
    if (devices.length === 0) return 0;
    if (!this.#exists) {
      this.sql.exec(SCHEMA);
      this.#exists = true;
    }
    const { text, truncated } = notificationText(n, false);
    let queued = 0;
    for (const device of devices) {
      this.makeRoom(device);
      queued += this.sql
        .exec(
          `INSERT INTO webpush_outbox (device, message_id, seq, event, body, truncated, expires_at, urgency, topic, due_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING device`,
          device,
          n.id,
          n.seq,
          n.event ?? null,
          text,
          truncated ? 1 : 0,
          n.expiresAt,
          n.urgency ?? null,
          n.topic ?? null,
          now,
        )
        .toArray().length;
    }
    if (queued > 0) count("switchboard_webpush_total", { outcome: "queued" }, queued);
    return queued;
  }

  /** Keep the device's queue under MAX_QUEUED_PER_DEVICE before one more is added: the oldest go. */
  private makeRoom(device: string): void {
    const { n } = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM webpush_outbox WHERE device = ?", device).one();
    if (n < MAX_QUEUED_PER_DEVICE) return;
    const dropped = this.sql
      .exec<{ message_id: string }>(
        `DELETE FROM webpush_outbox WHERE device = ? AND message_id IN
           (SELECT message_id FROM webpush_outbox WHERE device = ? ORDER BY seq LIMIT ?) RETURNING message_id`,
        device,
        device,
        n - MAX_QUEUED_PER_DEVICE + 1,
      )
      .toArray();
    if (dropped.length > 0) count("switchboard_webpush_total", { outcome: "queue_full" }, dropped.length);
    console.warn("switchboard:", JSON.stringify({ webpush: "queue full: oldest dropped", device, dropped: dropped.map((r) => r.message_id) }));
  }

  nextDue(): number | undefined {
    if (!this.#exists) return undefined;
    return this.sql.exec<{ due: number | null }>("SELECT min(due_at) AS due FROM webpush_outbox").one().due ?? undefined;
  }

  /** Drop every pending notification of a device (its subscription is gone). */
  forget(device: string): void {
    if (this.#exists) this.sql.exec("DELETE FROM webpush_outbox WHERE device = ?", device);
  }

  /** Send every due notification once (in parallel, at most BATCH); reschedule or drop by outcome. */
  async deliver(deps: SendDeps, now: number): Promise<void> {
    if (!this.#exists) return;
    const due = this.sql.exec<Row>("SELECT * FROM webpush_outbox WHERE due_at <= ? ORDER BY due_at LIMIT ?", now, BATCH).toArray();
    await Promise.all(due.map((row) => this.sendOne(deps, row)));
  }

  /**
   * The subscription sent to is dead: delete it and everything queued for the
   * device — unless the device registered a new one while this request was in
   * flight: then the row is sent again, to the new one, at the next alarm.
   */
  private unsubscribe(deps: SendDeps, row: Row, endpoint: string): void {
    if (deps.store.remove(row.device, endpoint)) this.forget(row.device);
    else this.sql.exec("UPDATE webpush_outbox SET due_at = ? WHERE device = ? AND message_id = ?", Date.now(), row.device, row.message_id);
  }

  private drop(row: Row): void {
    this.sql.exec("DELETE FROM webpush_outbox WHERE device = ? AND message_id = ?", row.device, row.message_id);
  }

  private async sendOne(deps: SendDeps, row: Row): Promise<void> {
    const now = Date.now();
    if (row.expires_at <= now) {
      log("expired", row);
      return this.drop(row);
    }
    if (deps.isLive(row.device)) {
      log("skipped", row, { reason: "device online: delivered over its socket" });
      return this.drop(row);
    }
    const sub = deps.store.get(row.device);
    if (sub === undefined) return this.drop(row); // unsubscribed since it was queued
    const origin = new URL(sub.endpoint).origin;

    let body: Uint8Array;
    try {
      body = await encryptFor(sub, row.body);
    } catch (err) {
      // The subscription's keys cannot be used (p256dh passed the shape check but is not on the curve): they never will be.
      log("unusable subscription", row, { origin, error: String(err) });
      return this.unsubscribe(deps, row, sub.endpoint);
    }
    let request: Request;
    try {
      const ttl = Math.ceil((row.expires_at - now) / 1000);
      request = await webPushRequest(deps.config, sub, body, { ttl, urgency: asUrgency(row.urgency), topic: row.topic ?? undefined }, now);
    } catch (err) {
      // Our VAPID key cannot sign (a private key that does not match VAPID_PUBLIC_KEY): an operator's error, logged loudly.
      console.error("switchboard: webpush cannot sign with VAPID_PRIVATE_KEY", err);
      return this.drop(row);
    }
    let status: number | undefined;
    let retryAfter: number | undefined;
    const abort = new AbortController();
    // Our own timer, cleared on the answer (not AbortSignal.timeout): a pending timer keeps the object awake.
    const timer = setTimeout(() => abort.abort(new Error("push service timed out")), SEND_TIMEOUT_MS);
    try {
      const response = await deps.fetch(request, { signal: abort.signal });
      status = response.status;
      retryAfter = retryAfterMs(response.headers.get("Retry-After"), Date.now());
      await response.body?.cancel();
    } catch (err) {
      log("network error", row, { origin, error: String(err) });
    } finally {
      clearTimeout(timer);
    }

    if (status !== undefined && status >= 200 && status < 300) {
      log("sent", row, { origin, status });
      return this.drop(row);
    }
    if (status === 404 || status === 410) {
      log("subscription gone", row, { origin, status });
      return this.unsubscribe(deps, row, sub.endpoint);
    }
    if (status === 413 && row.truncated === 0) {
      log("too large; resending truncated", row, { origin, status });
      const { text } = notificationText({ id: row.message_id, seq: row.seq, event: row.event ?? undefined, dataJson: "null" }, true);
      this.sql.exec(
        "UPDATE webpush_outbox SET body = ?, truncated = 1, attempts = attempts + 1, due_at = ? WHERE device = ? AND message_id = ?",
        text,
        Date.now(),
        row.device,
        row.message_id,
      );
      return;
    }
    const retryable = status === undefined || status === 429 || status >= 500;
    if (!retryable) {
      log("refused", row, { origin, status });
      return this.drop(row);
    }
    const attempts = row.attempts + 1;
    const at = Date.now() + Math.max(retryAfter ?? 0, backoffMs(attempts));
    if (attempts >= MAX_ATTEMPTS || at >= row.expires_at) {
      log("dropped: would outlive its ttl or retries", row, { origin, status });
      return this.drop(row);
    }
    log("retrying", row, { origin, status, at });
    this.sql.exec("UPDATE webpush_outbox SET attempts = ?, due_at = ? WHERE device = ? AND message_id = ?", attempts, at, row.device, row.message_id);
  }
}
