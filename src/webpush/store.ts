/**
 * The user's Web Push subscriptions, one per device, in the user's object's
 * SQLite. The table is created by the first registration, so a user who never
 * registers one never has it (src/util/tables.ts).
 */
import type { WebPushSubscription } from "./subscription";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS webpush_subscriptions (
  device TEXT PRIMARY KEY,
  endpoint TEXT NOT NULL,
  p256dh TEXT NOT NULL,
  auth TEXT NOT NULL,
  expiration_time INTEGER,
  updated_at INTEGER NOT NULL
);
`;

/** Devices with a subscription, per user: a bound on what one user's registrations can make us store and fan out to. */
export const MAX_SUBSCRIPTIONS_PER_USER = 100;

type Row = { device: string; endpoint: string; p256dh: string; auth: string; expiration_time: number | null };

export class SubscriptionStore {
  #exists: boolean;

  constructor(
    private readonly sql: SqlStorage,
    tables: ReadonlySet<string>,
  ) {
    this.#exists = tables.has("webpush_subscriptions");
  }

  /** Store (or replace) the device's subscription; false when the user is at MAX_SUBSCRIPTIONS_PER_USER. */
  put(device: string, sub: WebPushSubscription, now: number): boolean {
    if (!this.#exists) {
      this.sql.exec(SCHEMA);
      this.#exists = true;
    }
    const { n } = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM webpush_subscriptions WHERE device != ?", device).one();
    if (n >= MAX_SUBSCRIPTIONS_PER_USER) return false;
    this.sql.exec(
      `INSERT INTO webpush_subscriptions (device, endpoint, p256dh, auth, expiration_time, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(device) DO UPDATE SET endpoint = excluded.endpoint, p256dh = excluded.p256dh, auth = excluded.auth,
         expiration_time = excluded.expiration_time, updated_at = excluded.updated_at`,
      device,
      sub.endpoint,
      sub.p256dh,
      sub.auth,
      sub.expirationTime,
      now,
    );
    return true;
  }

  /** Remove the device's subscription (only if it is still the one at `endpoint`, when given); true if one was removed. */
  remove(device: string, endpoint?: string): boolean {
    if (!this.#exists) return false;
    const rows =
      endpoint === undefined
        ? this.sql.exec("DELETE FROM webpush_subscriptions WHERE device = ? RETURNING device", device)
        : this.sql.exec("DELETE FROM webpush_subscriptions WHERE device = ? AND endpoint = ? RETURNING device", device, endpoint);
    return rows.toArray().length > 0;
  }

  get(device: string): WebPushSubscription | undefined {
    if (!this.#exists) return undefined;
    const row = this.sql.exec<Row>("SELECT * FROM webpush_subscriptions WHERE device = ?", device).toArray()[0];
    return row === undefined ? undefined : { endpoint: row.endpoint, p256dh: row.p256dh, auth: row.auth, expirationTime: row.expiration_time };
  }

  /** Every device with a subscription that has not passed its browser-given expirationTime. */
  devices(now: number): string[] {
    if (!this.#exists) return [];
    return this.sql
      .exec<{ device: string }>("SELECT device FROM webpush_subscriptions WHERE expiration_time IS NULL OR expiration_time > ?", now)
      .toArray()
      .map((r) => r.device);
  }
}
