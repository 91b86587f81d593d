/** Reading and driving a user's Web Push outbox from a test: its rows, and its alarm. */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { api, eventually, hubOf } from "../helpers";
import type { Subscriber } from "./fakePushService";

export type OutboxRow = { device: string; message_id: string; attempts: number; due_at: number; expires_at: number; truncated: number };

function table(state: DurableObjectState, name: string): boolean {
  return state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = ?", name).toArray().length > 0;
}

export function outbox(userId: string): Promise<OutboxRow[]> {
  return runInDurableObject(hubOf(userId), (_i, state) =>
    table(state, "webpush_outbox")
      ? state.storage.sql.exec<OutboxRow>("SELECT device, message_id, attempts, due_at, expires_at, truncated FROM webpush_outbox ORDER BY device").toArray()
      : [],
  );
}

export function subscribedDevices(userId: string): Promise<string[]> {
  return runInDurableObject(hubOf(userId), (_i, state) =>
    table(state, "webpush_subscriptions")
      ? state.storage.sql
          .exec<{ device: string }>("SELECT device FROM webpush_subscriptions ORDER BY device")
          .toArray()
          .map((r) => r.device)
      : [],
  );
}

export async function register(userId: string, device: string, sub: Subscriber): Promise<void> {
  const res = await api(`/users/${userId}/devices/${device}/webpush`, { method: "PUT", json: sub.subscription });
  if (res.status !== 200) throw new Error(`registration answered ${res.status}: ${await res.text()}`);
}

/**
 * Run the user's alarm until every row that is due now has been attempted
 * (the alarm is planned for "now" when a push queues one, so the runtime may
 * beat us to it; either way each row is attempted once per run).
 */
export async function sendDue(userId: string): Promise<void> {
  await eventually(`the outbox of ${userId} to have nothing due`, async () => {
    const now = Date.now();
    if (!(await outbox(userId)).some((r) => r.due_at <= now)) return true;
    await runDurableObjectAlarm(hubOf(userId));
    return false;
  });
}

/** Make every queued row due now (a retry's backoff is not waited out on the wall clock), then send. */
export async function sendRetries(userId: string): Promise<void> {
  await runInDurableObject(hubOf(userId), (_i, state) => {
    if (table(state, "webpush_outbox")) state.storage.sql.exec("UPDATE webpush_outbox SET due_at = ?", Date.now() - 1);
  });
  await sendDue(userId);
}
