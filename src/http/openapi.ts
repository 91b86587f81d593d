/**
 * The OpenAPI 3.1 description of the whole HTTP API, served at `/openapi.json`.
 * Bodies and answers are generated from valibot schemas: the request bodies
 * the router validates with (schemas.ts) and the answers in responses.ts, so
 * the document cannot drift from what the Worker accepts. Path and query
 * parameters are built from the same constants the handlers check them with.
 * test/openapi.test.ts walks the router's routes against `paths`; the node
 * test validates the document with an OpenAPI 3.1 validator.
 */
import { toJsonSchema, type ConversionConfig, type JsonSchema } from "@valibot/to-json-schema";
import type * as v from "valibot";
import { MAX_BATCH_USERS, MAX_TTL } from "../config";
import { DEVICE_MAX, MAX_SEQ, NAME_CHARS, USER_ID_MAX } from "@switchboard/protocol";
import { DEFAULT_PAGE, MAX_PAGE } from "./api";
import * as R from "./responses";
import { BatchBody, BroadcastBody, PushBody } from "./schemas";
import { SUBSCRIPTION_SCHEMA } from "../webpush/subscription";

/** The contract's name rule (docs/http-api.md, "Names"), as a JSON Schema pattern. */
const NAME_PATTERN = NAME_CHARS.source;
const NAME_PROBE = "Az09._:@-";

/**
 * schemas.ts checks names with `v.check(isName)`, which JSON Schema cannot
 * see into. Probe the check itself: it must accept every allowed character,
 * refuse "" and a space, and its length limit is found by bisection. Any
 * other kind of check fails the build of the document rather than vanish.
 */
function nameCheckSchema(requirement: (input: unknown) => boolean): JsonSchema {
  if (!requirement(NAME_PROBE) || requirement("") || requirement("a b")) {
    throw new Error("openapi: a v.check that is not a name check; describe it in openapi.ts");
  }
  let lo = 1;
  let hi = 10_000;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (requirement("a".repeat(mid))) lo = mid;
    else hi = mid - 1;
  }
  return { minLength: 1, maxLength: lo, pattern: NAME_PATTERN };
}

const conversion: ConversionConfig = {
  target: "draft-2020-12",
  errorMode: "throw",
  overrideAction: ({ valibotAction, jsonSchema }) => {
    if (valibotAction.type !== "check") return undefined;
    const { requirement } = valibotAction as unknown as { requirement: (input: unknown) => boolean };
    return { ...jsonSchema, ...nameCheckSchema(requirement) };
  },
};

function schemaOf(schema: v.GenericSchema): JsonSchema {
  const { $schema: _dialect, ...rest } = toJsonSchema(schema, conversion);
  return rest;
}

/**
 * The subscription's checks (an https URL, a P-256 point, 16 bytes) are code
 * JSON Schema cannot express: they are left out of the schema here and
 * stated in each field's description, which the same valibot schema carries.
 */
function subscriptionSchema(): JsonSchema {
  const { $schema: _dialect, ...rest } = toJsonSchema(SUBSCRIPTION_SCHEMA, { target: "draft-2020-12", errorMode: "ignore" });
  return rest;
}

const SCHEMAS = {
  PushBody,
  BatchBody,
  BroadcastBody,
  PushResult: R.PushResult,
  BatchResult: R.BatchResult,
  BroadcastResult: R.BroadcastResult,
  PresenceView: R.PresenceView,
  KickResult: R.KickResult,
  MessagesPage: R.MessagesPage,
  StatsResult: R.StatsResult,
  ErrorBody: R.ErrorBody,
  Health: R.Health,
  DevToken: R.DevToken,
  WebPushKey: R.WebPushKey,
  WebPushStored: R.WebPushStored,
  WebPushRemoved: R.WebPushRemoved,
} satisfies Record<string, v.GenericSchema>;
type SchemaName = keyof typeof SCHEMAS;

const ref = (name: SchemaName) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: SchemaName, description: string) => ({ description, content: { "application/json": { schema: ref(name) } } });

/** Refusals, each `{ error: { code, message, field? } }`. */
const ERRORS = {
  "400": "bad input: the message and `field` name what",
  "401": "missing or bad credentials",
  "403": "Origin not allowed (ALLOWED_ORIGINS)",
  "404": "no such endpoint (dev-only routes when DEV_MODE is off; the Web Push routes without VAPID config: webpush_disabled)",
  "405": "this path is served, but not with this method: the `Allow` header lists the methods that are",
  "409": "the user already has a Web Push subscription on 100 devices: delete one first",
  "413": "request body over MAX_MESSAGE_BYTES",
  "415": "Content-Type is not application/json",
  "426": "not a WebSocket upgrade",
  "429": "the user already has MAX_SESSIONS_PER_USER sessions",
  "500": "misconfigured deployment (names the missing secret) or internal error",
  "503": "the user's object is briefly unavailable: retry (with the same id) after Retry-After",
} as const;
type ErrorStatus = keyof typeof ERRORS;

/**
 * Every operation may answer 500, and 405 (src/http/methodNotAllowed.ts
 * answers it for any path the router serves, from the route table), so
 * those two are listed everywhere without being asked for.
 */
const ALWAYS: ErrorStatus[] = ["405", "500"];

function errors(...statuses: ErrorStatus[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of [...ALWAYS, ...statuses].sort()) out[s] = { $ref: `#/components/responses/E${s}` };
  return out;
}

/** Response headers some refusals carry. */
const ERROR_HEADERS: Partial<Record<ErrorStatus, Record<string, unknown>>> = {
  "405": { Allow: { description: "the methods this path is served with (RFC 9110 §10.2.1)", schema: { type: "string" } } },
  "503": { "Retry-After": { description: "seconds to wait before retrying", schema: { type: "string" } } },
};

const seqSchema = { type: "integer", minimum: 0, maximum: MAX_SEQ };
const nameSchema = (max: number) => ({ type: "string", minLength: 1, maxLength: max, pattern: NAME_PATTERN });
const param = (name: string, where: "path" | "query", schema: object, description: string, required = where === "path") => ({
  name,
  in: where,
  required,
  description,
  schema,
});
const userIdParam = param("userId", "path", nameSchema(USER_ID_MAX), "the user");
const userQuery = param("user", "query", nameSchema(USER_ID_MAX), "the user", true);

const SERVER = [{ apiKey: [] }];
const CLIENT = [{ clientToken: [] }];
const deviceParam = param("device", "path", nameSchema(DEVICE_MAX), "the device (the name it connects with: ?device=)");
const WEBPUSH = "Web Push (docs/webpush.md). Without VAPID config every Web Push route answers 404 `webpush_disabled`.";
const subscriptionBody = {
  required: true,
  description: "the browser's PushSubscription as JSON (subscription.toJSON()); one per device, a new one replaces it",
  content: { "application/json": { schema: { $ref: "#/components/schemas/WebPushSubscription" } } },
};

function webpushRoutes(security: Array<Record<string, never[]>>, who: "client" | "server", parameters: object[]) {
  return {
    put: {
      operationId: who === "client" ? "webpushRegisterMine" : "webpushRegister",
      tags: [who],
      summary: "Register the device's Web Push subscription",
      description: WEBPUSH,
      security,
      parameters,
      requestBody: subscriptionBody,
      responses: { "200": json("WebPushStored", "stored"), ...errors("400", "401", "404", "409", "413", "415", "503") },
    },
    delete: {
      operationId: who === "client" ? "webpushUnregisterMine" : "webpushUnregister",
      tags: [who],
      summary: "Remove the device's Web Push subscription (and its queued notifications)",
      description: WEBPUSH,
      security,
      parameters,
      responses: { "200": json("WebPushRemoved", "removed, or there was none"), ...errors("400", "401", "404", "503") },
    },
  };
}
const PUBLIC: never[] = [];
const DEV_ONLY = "Development only: exists when DEV_MODE=1 (`npm run dev`); every /dev path answers 404 in a deployment.";

function body(name: SchemaName, description: string) {
  return { required: true, description, content: { "application/json": { schema: ref(name) } } };
}

function paths(): Record<string, Record<string, unknown>> {
  return {
    "/healthz": {
      get: { operationId: "health", tags: ["meta"], summary: "Liveness", security: PUBLIC, responses: { "200": json("Health", "up"), ...errors() } },
    },
    "/metrics": {
      get: {
        operationId: "metrics",
        tags: ["meta"],
        summary: "Counters and live sessions in the Prometheus text format",
        description:
          "The process's sessions and online users by dialect, pushes, deliveries, refusals and closes by code, webhook outcomes and alarm runs since it started. " +
          "Bearer API_KEY, or METRICS_TOKEN when set. Whole-process figures on standalone workerd (`npm run serve`); on Cloudflare one isolate's (use EVENT_LOG=json there).",
        security: SERVER,
        responses: { "200": { description: "text format 0.0.4", content: { "text/plain": { schema: { type: "string" } } } }, ...errors("400", "401") },
      },
    },
    "/openapi.json": {
      get: {
        operationId: "openapi",
        tags: ["meta"],
        summary: "This document",
        security: PUBLIC,
        responses: { "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } }, ...errors() },
      },
    },
    "/v1/connect": {
      get: {
        operationId: "connect",
        tags: ["client"],
        summary: "Open a WebSocket session (client)",
        description:
          "WebSocket upgrade. The client token travels as `Authorization: Bearer <jwt>`, as the subprotocol pair " +
          "`switchboard.v1, bearer.<jwt>` (browsers), or as `?token=`. The frames are in the README's WebSocket protocol section.",
        security: [{ clientToken: [] }],
        parameters: [
          param("device", "query", nameSchema(DEVICE_MAX), "a stable name for this browser or phone; assigned when absent", false),
          param("since", "query", seqSchema, "resume after this seq", false),
          param("token", "query", { type: "string" }, "the client token, when neither header nor subprotocol can carry it", false),
        ],
        responses: { "101": { description: "Switching Protocols: the session is open" }, ...errors("400", "401", "403", "426", "429") },
      },
    },
    "/v1/stomp": {
      get: {
        operationId: "stomp",
        tags: ["client"],
        summary: "Open a STOMP 1.2 session over WebSocket (client)",
        description:
          "WebSocket upgrade for STOMP clients (@stomp/stompjs, Spring's WebSocketStompClient); subprotocols v12.stomp, v11.stomp, " +
          "v10.stomp (the highest offered is answered) or none. The client token travels in the CONNECT frame " +
          "(`Authorization: Bearer <jwt>` or `passcode`) or as `?token=`; a bad one gets ERROR and close 1008. " +
          "SUBSCRIBE to `/user/queue/{event}`; a push's `event` picks the destination (none: `/user/queue/messages`). See docs/stomp.md.",
        security: [{ clientToken: [] }],
        parameters: [
          param(
            "device",
            "query",
            nameSchema(DEVICE_MAX),
            "a stable name for this browser or phone (or the CONNECT header `device`); assigned when absent",
            false,
          ),
          param("token", "query", { type: "string" }, "the client token, instead of the CONNECT frame's Authorization or passcode", false),
        ],
        responses: { "101": { description: "Switching Protocols: send CONNECT next" }, ...errors("400", "403", "426") },
      },
    },
    "/v1/users/{userId}/messages": {
      post: {
        operationId: "push",
        tags: ["server"],
        summary: "Push to every session of one user",
        security: SERVER,
        parameters: [userIdParam],
        requestBody: body("PushBody", `data is required; ttl 0-${MAX_TTL} s (0: live-only)`),
        responses: { "200": json("PushResult", "delivered (and stored unless live-only)"), ...errors("400", "401", "413", "415", "503") },
      },
      get: {
        operationId: "messages",
        tags: ["server"],
        summary: "The user's stored messages after `since`, oldest first",
        security: SERVER,
        parameters: [
          userIdParam,
          param("since", "query", { ...seqSchema, default: 0 }, "messages after this seq", false),
          param("limit", "query", { type: "integer", minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE }, "page size", false),
        ],
        responses: { "200": json("MessagesPage", "one page"), ...errors("400", "401", "503") },
      },
    },
    "/v1/users/{userId}/presence": {
      get: {
        operationId: "presence",
        tags: ["server"],
        summary: "The user's live sessions",
        security: SERVER,
        parameters: [userIdParam],
        responses: { "200": json("PresenceView", "presence"), ...errors("400", "401", "503") },
      },
    },
    "/v1/users/{userId}/sessions": {
      delete: {
        operationId: "kick",
        tags: ["server"],
        summary: "Close the user's sessions (close code 4001: clients do not reconnect)",
        security: SERVER,
        parameters: [
          userIdParam,
          param("device", "query", nameSchema(DEVICE_MAX), "only this device's sessions", false),
          param("session", "query", { type: "string", minLength: 1, maxLength: 128 }, "only this session (not with device)", false),
        ],
        responses: { "200": json("KickResult", "closed"), ...errors("400", "401", "503") },
      },
    },
    "/v1/messages": {
      post: {
        operationId: "pushMany",
        tags: ["server"],
        summary: `Push one message to up to ${MAX_BATCH_USERS} users`,
        description: "A bad or unavailable user fails only its own entry of `results`.",
        security: SERVER,
        requestBody: body("BatchBody", "the push body plus userIds"),
        responses: { "200": json("BatchResult", "one entry per user, in order"), ...errors("400", "401", "413", "415") },
      },
    },
    "/v1/broadcast": {
      post: {
        operationId: "broadcast",
        tags: ["server"],
        summary: "Push to every user online now (live-only unless ttl is given)",
        security: SERVER,
        requestBody: body("BroadcastBody", "data, and optionally id and ttl"),
        responses: { "200": json("BroadcastResult", "how far it reached"), ...errors("400", "401", "413", "415") },
      },
    },
    "/v1/stats": {
      get: {
        operationId: "stats",
        tags: ["server"],
        summary: "Online users and sessions across the deployment",
        security: SERVER,
        responses: { "200": json("StatsResult", "counts"), ...errors("401", "503") },
      },
    },
    "/v1/webpush/key": {
      get: {
        operationId: "webpushKey",
        tags: ["client"],
        summary: "The VAPID public key (public)",
        description: WEBPUSH,
        security: PUBLIC,
        responses: { "200": json("WebPushKey", "the key"), ...errors("404") },
      },
    },
    "/v1/me/devices/{device}/webpush": webpushRoutes(CLIENT, "client", [deviceParam]),
    "/v1/users/{userId}/devices/{device}/webpush": webpushRoutes(SERVER, "server", [userIdParam, deviceParam]),
    "/dev/token": {
      get: {
        operationId: "devToken",
        tags: ["dev"],
        summary: "Mint a client token (needs JWT_SECRET)",
        description: DEV_ONLY,
        "x-dev-only": true,
        security: PUBLIC,
        parameters: [userQuery, param("ttl", "query", { type: "integer", minimum: 1, maximum: 86_400, default: 3600 }, "seconds", false)],
        responses: { "200": json("DevToken", "a token"), ...errors("400", "404") },
      },
    },
    "/dev/presence": {
      get: {
        operationId: "devPresence",
        tags: ["dev"],
        summary: "The presence API without the API key",
        description: DEV_ONLY,
        "x-dev-only": true,
        security: PUBLIC,
        parameters: [userQuery],
        responses: { "200": json("PresenceView", "presence"), ...errors("400", "404") },
      },
    },
    "/dev/push": {
      post: {
        operationId: "devPush",
        tags: ["dev"],
        summary: "The push API without the API key",
        description: DEV_ONLY,
        "x-dev-only": true,
        security: PUBLIC,
        parameters: [userQuery],
        requestBody: body("PushBody", "as for push"),
        responses: { "200": json("PushResult", "pushed"), ...errors("400", "404", "413", "415") },
      },
    },
    "/dev/api": {
      get: {
        operationId: "devApiReference",
        tags: ["dev"],
        summary: "This document as a browsable page",
        description: DEV_ONLY,
        "x-dev-only": true,
        security: PUBLIC,
        responses: { "200": { description: "HTML", content: { "text/html": { schema: { type: "string" } } } }, ...errors("404") },
      },
    },
  };
}

function buildDocument(): Record<string, unknown> {
  const schemas: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries(SCHEMAS)) schemas[name] = schemaOf(schema);
  schemas.WebPushSubscription = subscriptionSchema();
  const responses: Record<string, unknown> = {};
  for (const [status, description] of Object.entries(ERRORS) as [ErrorStatus, string][]) {
    const headers = ERROR_HEADERS[status];
    responses[`E${status}`] = { ...json("ErrorBody", description), ...(headers === undefined ? {} : { headers }) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Switchboard",
      version: "1",
      description:
        "Push a message to every live WebSocket session of one user, from one HTTP call. Server endpoints take " +
        "`Authorization: Bearer <API_KEY>`; clients connect with a JWT. Every refusal is `{ error: { code, message, field? } }`.",
    },
    servers: [{ url: "/" }],
    tags: [
      { name: "server", description: "the server API (API key)" },
      { name: "client", description: "WebSocket sessions (client token)" },
      { name: "meta", description: "public" },
      { name: "dev", description: "development only (DEV_MODE=1)" },
    ],
    paths: paths(),
    components: {
      schemas,
      responses,
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "the deployment's API_KEY" },
        clientToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "a client token: HS256 with JWT_SECRET, or RS256/ES256 against JWT_PUBLIC_KEYS",
        },
      },
    },
  };
}

let cached: string | undefined;

/** The document as JSON text, built once per isolate. */
export function openApiJson(): string {
  cached ??= JSON.stringify(buildDocument());
  return cached;
}

export function openApiDocument(): Record<string, unknown> {
  return JSON.parse(openApiJson()) as Record<string, unknown>;
}
