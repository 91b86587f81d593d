/**
 * GET /metrics on `npm run serve`, read with a real Prometheus text-format
 * parser (parse-prometheus-text-format, prom2json's output): behind the API
 * key or METRICS_TOKEN; sessions and online users by dialect from the socket
 * census; pushes, deliveries, connects, refusals and closes counted where they
 * happen. A fresh process, so every counter starts at zero and the exact
 * figures below are this test's own traffic.
 */
import parsePrometheusTextFormat, { type ParsedFamily } from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../scripts/lib/time.ts";
import { clientToken } from "../../scripts/lib/tokens.ts";
import { isOpen, openSession, type Session } from "../../scripts/lib/wsSession.ts";
import { type Service, startService } from "../../scripts/lib/service.ts";

const SECRETS = {
  JWT_SECRET: "serve-metrics-jwt-secret-0123456789",
  API_KEY: "serve-metrics-api-key-0123",
  METRICS_TOKEN: "serve-metrics-scrape-token-0123",
  PUSHER_APP_ID: "metrics-app",
  PUSHER_KEY: "metrics-key",
  PUSHER_SECRET: "serve-metrics-pusher-secret-0123",
  EVENT_LOG: "json",
};
let run: Service;
const sockets: Session[] = [];
beforeAll(async () => {
  run = await startService({ kind: "serve", env: SECRETS });
}, 120_000);
afterAll(async () => {
  for (const s of sockets) s.ws.terminate();
  await run?.stop();
});

async function scrape(token: string = SECRETS.METRICS_TOKEN): Promise<ParsedFamily[]> {
  const res = await fetch(`${run.base}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  // Every line is a comment or a sample the grammar allows.
  for (const line of text.trimEnd().split("\n")) {
    expect(line).toMatch(/^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+="[^"\\]*"(,[a-z_]+="[^"\\]*")*\})? -?[0-9.e+]+)$/);
  }
  return parsePrometheusTextFormat(text);
}

function value(families: ParsedFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.find((f) => f.name === name);
  const sample = family?.metrics.find(
    (m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v) && Object.keys(m.labels ?? {}).length === Object.keys(labels).length,
  );
  return sample?.value === undefined ? undefined : Number(sample.value);
}

const ws = () => run.base.replace("http", "ws");
async function open(url: string): Promise<Session> {
  const s = await openSession(url);
  if (!isOpen(s)) throw new Error(`refused: ${JSON.stringify(s)}`);
  sockets.push(s);
  return s;
}
const push = (user: string, body: unknown) =>
  fetch(`${run.base}/v1/users/${user}/messages`, {
    method: "POST",
    headers: { Authorization: `Bearer ${SECRETS.API_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });

describe("GET /metrics", () => {
  it("answers 401 without the API key or METRICS_TOKEN, and the exposition to either", async () => {
    expect((await fetch(`${run.base}/metrics`)).status).toBe(401);
    expect((await fetch(`${run.base}/metrics`, { headers: { Authorization: "Bearer not-the-key-0123456789" } })).status).toBe(401);
    const families = await scrape(SECRETS.API_KEY);
    expect(families.find((f) => f.name === "switchboard_pushes_total")).toMatchObject({ type: "COUNTER" });
    expect(families.find((f) => f.name === "switchboard_sessions")).toMatchObject({ type: "GAUGE" });
    expect(value(families, "switchboard_refusals_total", { code: "unauthorized" })).toBe(2);
  });

  it("counts sessions and users by dialect, pushes, deliveries, connects, refusals and closes", async () => {
    const token = (user: string) => clientToken(SECRETS.JWT_SECRET, user);
    const a1 = await open(`${ws()}/v1/connect?device=a1&token=${token("m-a")}`);
    await open(`${ws()}/v1/connect?device=a2&token=${token("m-a")}`);
    await open(`${ws()}/v1/connect?token=${token("m-b")}`);
    await open(`${ws()}/pusher/users/m-c/app/${SECRETS.PUSHER_KEY}?protocol=7&client=js&version=8.6.0&flash=false`);
    expect((await push("m-a", { data: { n: 1 } })).status).toBe(200);
    expect((await push("m-b", { data: { n: 2 }, ttl: 0 })).status).toBe(200);
    expect((await push("m-a", { data: { n: 3 }, nope: true })).status).toBe(400);
    expect((await openSession(`${ws()}/v1/connect?token=bad`)).kind).toBe("refused");

    let families = await eventually("both dialects counted", async () => {
      const f = await scrape();
      return value(f, "switchboard_sessions", { dialect: "pusher" }) === 1 ? f : undefined;
    });
    expect(value(families, "switchboard_sessions", { dialect: "native" })).toBe(3);
    expect(value(families, "switchboard_online_users", { dialect: "native" })).toBe(2);
    expect(value(families, "switchboard_online_users", { dialect: "pusher" })).toBe(1);
    expect(value(families, "switchboard_open_sockets")).toBe(4);
    expect(value(families, "switchboard_connects_total", { dialect: "native" })).toBe(3);
    expect(value(families, "switchboard_connects_total", { dialect: "pusher" })).toBe(1);
    expect(value(families, "switchboard_pushes_total", { kind: "stored" })).toBe(1);
    expect(value(families, "switchboard_pushes_total", { kind: "live" })).toBe(1);
    expect(value(families, "switchboard_deliveries_total")).toBe(3);
    expect(value(families, "switchboard_refusals_total", { code: "bad_request" })).toBe(1);
    expect(value(families, "switchboard_refusals_total", { code: "unauthorized" })).toBe(3);
    expect(value(families, "switchboard_connection_cap")).toBeGreaterThan(0);

    a1.ws.close(4000, "bye");
    families = await eventually("the close counted", async () => {
      const f = await scrape();
      return value(f, "switchboard_closes_total", { code: "4000" }) === 1 ? f : undefined;
    });
    expect(value(families, "switchboard_sessions", { dialect: "native" })).toBe(2);
    expect(value(families, "switchboard_online_users", { dialect: "native" })).toBe(2);
  });

  it("with EVENT_LOG=json, logs each event as one JSON line (what Workers Logs indexes on Cloudflare)", () => {
    const events = run
      .output()
      .split("\n")
      .flatMap((line) => {
        const json = line.slice(line.indexOf("{"));
        try {
          return [JSON.parse(json) as Record<string, unknown>];
        } catch {
          return [];
        }
      })
      .filter((e) => typeof e.event === "string");
    expect(events).toContainEqual({ event: "pushes", kind: "stored", count: 1, delivered: 2 });
    expect(events).toContainEqual({ event: "pushes", kind: "live", count: 1, delivered: 1 });
    expect(events).toContainEqual({ event: "refusals", code: "bad_request", count: 1, field: "nope" });
    expect(events).toContainEqual({ event: "closes", code: "4000", count: 1 });
    expect(events.filter((e) => e.event === "connects")).toHaveLength(4);
  });
});
