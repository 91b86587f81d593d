/**
 * GET /metrics: the process's counters (src/metrics/events.ts) and its live
 * sockets and users by dialect (src/util/socketCensus.ts), in the Prometheus
 * text format, behind `Authorization: Bearer` with API_KEY or METRICS_TOKEN.
 * Built at scrape time from memory: no object is asked, nothing is stored,
 * so a scrape costs one Worker request. Standalone workerd only gives the
 * whole process's picture (one isolate); on Cloudflare use EVENT_LOG=json.
 */
import type { Context } from "hono";
import { COUNTERS, counterSnapshot } from "../metrics/events";
import { CONTENT_TYPE, exposition, type Family } from "../metrics/exposition";
import { objectsWithSockets, openSocketTotal, socketsByDialect } from "../util/socketCensus";
import type { AppEnv } from "./env";

/** Past the metrics key and noQuery (src/http/app.ts). */
export function metrics(c: Context<AppEnv>): Response {
  const byDialect = [...socketsByDialect().entries()].sort(([a], [b]) => a.localeCompare(b));
  const families: Family[] = [
    {
      name: "switchboard_sessions",
      help: "Open WebSockets held by this process, by dialect (Pusher sockets still signing in included).",
      type: "gauge",
      samples: byDialect.map(([dialect, v]) => ({ labels: { dialect }, value: v.sockets })),
    },
    {
      name: "switchboard_online_users",
      help: "Users with at least one open WebSocket in this process, by dialect.",
      type: "gauge",
      samples: byDialect.map(([dialect, v]) => ({ labels: { dialect }, value: v.users })),
    },
    {
      name: "switchboard_open_sockets",
      help: "Open WebSockets held by this process, all dialects.",
      type: "gauge",
      samples: [{ labels: {}, value: openSocketTotal() }],
    },
    {
      name: "switchboard_users_with_sockets",
      help: "Users with at least one open WebSocket, all dialects.",
      type: "gauge",
      samples: [{ labels: {}, value: objectsWithSockets() }],
    },
    {
      name: "switchboard_connection_cap",
      help: "MAX_CONNECTIONS: upgrades beyond it get 503 (0 = no cap).",
      type: "gauge",
      samples: [{ labels: {}, value: c.var.config.maxConnections }],
    },
  ];
  const counters = new Map(counterSnapshot().map((f) => [f.name, f.samples]));
  for (const [name, meta] of Object.entries(COUNTERS) as Array<[keyof typeof COUNTERS, (typeof COUNTERS)[keyof typeof COUNTERS]]>) {
    families.push({ name, help: meta.help, type: "counter", samples: counters.get(name) ?? (meta.labels.length === 0 ? [{ labels: {}, value: 0 }] : []) });
  }
  return c.body(exposition(families), 200, { "Content-Type": CONTENT_TYPE });
}
