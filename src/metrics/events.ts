/**
 * Operational events, counted where they happen: pushes, deliveries,
 * connects, refusals, closes, webhook and Web Push outcomes, alarm runs. Each is a counter
 * increment in module state (no storage, no request, nothing on the push path
 * but an addition) and, when EVENT_LOG=json, one JSON log line (Workers Logs
 * indexes JSON fields, so `wrangler tail` and the dashboard can filter on
 * `event`).
 *
 * The counters are per isolate. On standalone workerd the Worker and its
 * objects share one isolate (as the socket census relies on:
 * src/util/socketCensus.ts), so GET /metrics (src/http/metrics.ts) shows the
 * process's totals since it started. On Cloudflare an isolate sees a fraction
 * of the traffic: use the log lines there.
 */
export type Labels = Readonly<Record<string, string>>;

/** Every counter, its help text, and its label names (the exposition's contract). */
export const COUNTERS = {
  switchboard_pushes_total: { help: "Pushes accepted by a user's object, by kind (live, stored, channel_event).", labels: ["kind"] },
  switchboard_deliveries_total: { help: "Frames handed to open sockets by pushes.", labels: [] },
  switchboard_connects_total: { help: "WebSocket upgrades accepted, by dialect.", labels: ["dialect"] },
  switchboard_refusals_total: { help: "HTTP refusals (4xx/5xx error bodies), by error code.", labels: ["code"] },
  switchboard_closes_total: { help: "WebSocket closes seen by the user's object, by close code (1006: dropped without a close frame).", labels: ["code"] },
  switchboard_webhooks_total: { help: "Webhook delivery attempts, by outcome (delivered, retry, dropped).", labels: ["outcome"] },
  switchboard_webpush_total: {
    help: "Web Push notifications by outcome (queued, sent, retry, truncated, gone, refused, dropped, expired, skipped_online, unusable, queue_full).",
    labels: ["outcome"],
  },
  switchboard_alarms_total: { help: "Alarm runs, by object (user, stats).", labels: ["object"] },
} as const;
export type CounterName = keyof typeof COUNTERS;

const values = new Map<CounterName, Map<string, { labels: Labels; value: number }>>();
let logJson = false;

/** EVENT_LOG=json turns the per-event log lines on (src/config.ts); called wherever the config is read. */
export function setEventLog(on: boolean): void {
  logJson = on;
}

function key(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k] ?? ""}`)
    .join(",");
}

/** Count one event (or `by` of them); with EVENT_LOG=json also log it, with `fields` for context. */
export function count(name: CounterName, labels: Labels = {}, by = 1, fields: Readonly<Record<string, unknown>> = {}): void {
  let family = values.get(name);
  if (family === undefined) {
    family = new Map();
    values.set(name, family);
  }
  const k = key(labels);
  const entry = family.get(k);
  if (entry === undefined) family.set(k, { labels, value: by });
  else entry.value += by;
  if (logJson) console.log(JSON.stringify({ event: name.replace(/^switchboard_|_total$/g, ""), ...labels, count: by, ...fields }));
}

/** A snapshot of every counter with at least one sample. */
export function counterSnapshot(): Array<{ name: CounterName; samples: Array<{ labels: Labels; value: number }> }> {
  return [...values.entries()].map(([name, family]) => ({ name, samples: [...family.values()].map((s) => ({ labels: s.labels, value: s.value })) }));
}
