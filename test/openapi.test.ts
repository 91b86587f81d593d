/** GET /openapi.json: public, and it describes exactly the routes the router serves. */
import { describe, expect, it } from "vitest";
import { app } from "../src/http/app";
import { worker } from "./helpers";

/**
 * Routes whose contract is not this document's: the Pusher dialect (/pusher/*,
 * /apps/*) speaks Pusher's own protocol, documented by Pusher. Anything else
 * the router serves must be in the document.
 */
const EXCLUDED = [/^\/pusher(\/|$)/, /^\/apps(\/|$)/];

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { security?: unknown[]; "x-dev-only"?: boolean; responses: Record<string, unknown> }>>;
  components: {
    responses: Record<string, { headers?: Record<string, unknown> }>;
    securitySchemes: Record<string, { type: string; scheme?: string }>;
    schemas: Record<string, unknown>;
  };
}

async function document(): Promise<Doc> {
  const res = await worker("/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toContain("application/json");
  return (await res.json()) as Doc;
}

/** The router's routes as "METHOD /path/{param}", middleware (method ALL) left out. */
function routerRoutes(): string[] {
  const routes = new Set<string>();
  for (const r of app.routes) {
    if (r.method === "ALL" || EXCLUDED.some((re) => re.test(r.path))) continue;
    routes.add(`${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
  }
  return [...routes].sort();
}

describe("/openapi.json", () => {
  it("is public (no API key) and OpenAPI 3.1", async () => {
    const doc = await document();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("has every route the router serves, and no route it does not", async () => {
    const doc = await document();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const served = routerRoutes();
    expect(served.length).toBeGreaterThan(10);
    expect(documented).toEqual(served);
  });

  it("marks /dev/* dev-only and public, /v1/* (but connect, stomp, the VAPID key and /v1/me) behind the API key, and every operation answers errors as ErrorBody", async () => {
    const doc = await document();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method} ${path}`;
        if (path.startsWith("/dev/")) {
          expect(op["x-dev-only"], where).toBe(true);
          expect(op.security, where).toEqual([]);
        } else if (path === "/v1/webpush/key") {
          expect(op.security, where).toEqual([]);
        } else if (path.startsWith("/v1/me/")) {
          expect(op.security, where).toEqual([{ clientToken: [] }]);
        } else if (path.startsWith("/v1/") && path !== "/v1/connect" && path !== "/v1/stomp") {
          expect(op.security, where).toEqual([{ apiKey: [] }]);
        }
        expect(op.responses["500"], where).toEqual({ $ref: "#/components/responses/E500" });
        expect(op.responses["405"], where).toEqual({ $ref: "#/components/responses/E405" });
      }
    }
  });

  it("says a 405 carries Allow", async () => {
    const doc = await document();
    expect(doc.components.responses.E405?.headers?.Allow).toMatchObject({ schema: { type: "string" } });
  });

  it("describes the push body from the schema the router validates with (names, ttl limit, no extra fields)", async () => {
    const doc = await document();
    const push = doc.components.schemas.PushBody as {
      properties: Record<string, { maxLength?: number; pattern?: string; maximum?: number }>;
      additionalProperties: unknown;
    };
    expect(push.additionalProperties).toBe(false);
    expect(push.properties.id).toMatchObject({ maxLength: 128, pattern: "^[A-Za-z0-9._:@-]+$" });
    expect(push.properties.device).toMatchObject({ maxLength: 64 });
    expect(push.properties.ttl).toMatchObject({ maximum: 604_800 });
  });

  it("/dev/api answers 404 when dev mode is off", async () => {
    const res = await worker("/dev/api");
    expect(res.status).toBe(404);
  });
});
