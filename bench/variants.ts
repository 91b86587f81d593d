/**
 * Variants of the Worker for `npm run bench -- --profile`: each is src/ with
 * one piece stubbed out or amplified, to price it. Edits are exact-text
 * replacements in a scratch copy. When src/ moves on and an anchor is gone, the
 * profile refuses to run and names the variant (`staleEdits`), and
 * test/node/benchVariants.test.ts fails in CI: a variant that silently measured
 * src/ unchanged once passed for a result.
 *
 * History: P1-P4 (sync API-key check, insert-first stored push, lease renewed
 * every 6th reaper alarm, no index on the shard's seen_at) were measured as
 * patches and are in src/ since commit 255a12e. P5 (the push route served
 * before Hono) was measured and not applied (docs/benchmark.md); its
 * variant is `stub-hono`.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Edit {
  /** Path under src/. */
  file: string;
  from: string;
  to: string;
}

export interface Variant {
  name: string;
  what: string;
  kind: "product" | "baseline";
  edits?: Edit[];
  /** Whole files to write (path under src/ → text). */
  files?: Record<string, string>;
  /** Text bindings (baseline knobs). */
  text?: Record<string, string>;
  /** Built by wrangler (as `npm run bench` and `npm run serve` build it) instead of esbuild; no edits apply. */
  wrangler?: boolean;
}

/** The push route handled before Hono (same checks, same answers on the happy path; anything else falls through to the app). */
const BARE_ROUTER_INDEX = `import { app } from "./http/app";
import { configFrom } from "./config";
import { isUserId } from "@switchboard/protocol";
import { check, PushBody } from "./http/schemas";
import { serializeData } from "./http/body";
import { jsonError } from "./http/errors";

export { UserHub } from "./hub/userHub";
export { StatsShard } from "./stats/statsShard";

const PUSH = /^\\/v1\\/users\\/([^/]+)\\/messages$/;
const encoder = new TextEncoder();

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    if (request.method === "POST") {
      const m = PUSH.exec(new URL(request.url).pathname);
      const result = configFrom(env);
      if (m !== null && m[1] !== undefined && result.ok) {
        const config = result.config;
        const given = encoder.encode(/^Bearer +(\\S+) *$/i.exec(request.headers.get("Authorization") ?? "")?.[1] ?? "");
        const expected = encoder.encode(config.apiKey);
        const length = Number(request.headers.get("Content-Length") ?? Number.NaN);
        const type = (request.headers.get("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase();
        const userId = decodeURIComponent(m[1]);
        if (
          given.byteLength === expected.byteLength &&
          crypto.subtle.timingSafeEqual(given, expected) &&
          length <= config.maxMessageBytes &&
          type === "application/json" &&
          isUserId(userId)
        ) {
          let input: unknown;
          try {
            input = JSON.parse(await request.text());
          } catch {
            return jsonError(400, "bad_json", "body is not valid JSON", "body");
          }
          const checked = check(PushBody, input);
          if (!checked.ok) return jsonError(400, "bad_request", checked.message, checked.field);
          const dataJson = serializeData(checked.value.data);
          if (dataJson === undefined) return jsonError(400, "bad_request", "data is nested too deeply to store", "data");
          const { id, ttl, device, exceptDevice, exceptSession } = checked.value;
          const stub = env.USER_HUB.getByName(userId);
          return Response.json(
            await stub.push({ userId, id: id ?? crypto.randomUUID(), dataJson, ttl: ttl ?? config.defaultTtl, device, exceptDevice, exceptSession }),
          );
        }
      }
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
`;

/** Amplification factor: an "amp-" variant runs its piece this many extra times per request. */
export const AMP = 20;
const AUTH_USE = `app.use("/v1/*", (c, next) => middlewaresFor(c.var.config).auth(c, next));`;
const LIMIT_USE = `app.use("/v1/*", (c, next) => middlewaresFor(c.var.config).limit(c, next));`;
const PUSH_RETURN = "return c.json(await c.env.USER_HUB.getByName(userId).push(req));";
/** No-op RPC methods on UserHub, for pricing the Worker→object hop. */
const RPC_NOOPS: Edit = {
  file: "hub/userHub.ts",
  from: "  // ---- RPC ----",
  to: `  // ---- RPC ----

  async noopObject(req: PushRequest): Promise<PushResult> {
    return { id: req.id, seq: null, delivered: 0, sessions: 0, stored: false, duplicate: false };
  }

  async noopString(text: string): Promise<number> {
    return text.length;
  }`,
};

/** Switchboard's objects behind a Worker as bare as the baseline's. */
const BARE_WORKER_INDEX = `export { UserHub } from "./hub/userHub";
export { StatsShard } from "./stats/statsShard";
import { app } from "./http/app";

const PUSH = /^\\/v1\\/users\\/([^/]+)\\/messages$/;

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const m = request.method === "POST" ? PUSH.exec(new URL(request.url).pathname) : null;
    if (m === null || m[1] === undefined) return app.fetch(request, env, ctx);
    const body = JSON.parse(await request.text()) as { data: unknown; id: string; ttl?: number };
    const userId = m[1];
    return Response.json(
      await env.USER_HUB.getByName(userId).push({ userId, id: body.id, dataJson: JSON.stringify(body.data), ttl: body.ttl ?? 86400 }),
    );
  },
} satisfies ExportedHandler<Env>;
`;

export const VARIANTS: Variant[] = [
  { name: "control", kind: "product", what: "src/ as is (bundled with esbuild like every variant)" },
  {
    name: "control-wrangler",
    kind: "product",
    what: "src/ as is, bundled by wrangler like npm run bench's Switchboard (checks the esbuild bundle is representative)",
    wrangler: true,
  },
  { name: "baseline", kind: "baseline", what: "bench/baseline/worker.js: route by name, RPC, send to each socket" },
  { name: "baseline-fetch", kind: "baseline", what: "baseline, Worker→object hop as fetch() instead of RPC", text: { HOP: "fetch" } },
  { name: "baseline-store", kind: "baseline", what: "baseline + one SQLite INSERT per push (the runtime's cost of a stored push)", text: { STORE: "1" } },
  // A proposed change is measured by adding a variant here, e.g.
  // { name: "fix-x", kind: "product", what: "PROPOSED: …", edits: [...] },
  {
    name: "compact-rpc",
    kind: "product",
    what: "push: the PushRequest sent to the object without its undefined fields (4 properties, not 9)",
    edits: [
      {
        file: "http/api.ts",
        from: `    ttl: ttl ?? c.var.config.defaultTtl,
    event,
    device,
    exceptDevice,
    exceptSession,
    webpush,
  };
  return c.json(`,
        to: `    ttl: ttl ?? c.var.config.defaultTtl,
  };
  if (event !== undefined) req.event = event;
  if (webpush !== undefined) req.webpush = webpush;
  if (device !== undefined) req.device = device;
  if (exceptDevice !== undefined) req.exceptDevice = exceptDevice;
  if (exceptSession !== undefined) req.exceptSession = exceptSession;
  return c.json(`,
      },
    ],
  },
  {
    name: "string-rpc",
    kind: "product",
    what: "push: the Worker→object hop carries JSON text both ways (pushText(string): string), the answer passed through unparsed",
    edits: [
      {
        file: "hub/userHub.ts",
        from: "  // ---- RPC ----",
        to: `  // ---- RPC ----

  async pushText(text: string): Promise<string> {
    return JSON.stringify(await this.push(JSON.parse(text) as PushRequest));
  }`,
      },
      {
        file: "http/api.ts",
        from: PUSH_RETURN,
        to: 'return c.body(await c.env.USER_HUB.getByName(userId).pushText(JSON.stringify(req)), 200, { "Content-Type": "application/json" });',
      },
    ],
  },
  {
    name: "stub-worker",
    kind: "product",
    what: "the baseline's bare Worker (no Hono, auth, validation) calling Switchboard's object: splits the gap into Worker side and object side",
    files: { "index.ts": BARE_WORKER_INDEX },
  },
  {
    name: "stub-hono",
    kind: "product",
    what: "the push route served before Hono with the same checks (prices routing, context, middleware chain)",
    files: { "index.ts": BARE_ROUTER_INDEX },
  },
  {
    name: "stub-jwt",
    kind: "product",
    what: "connect: token decoded, signature and claims not checked (prices jose HS256)",
    edits: [
      {
        file: "http/connect.ts",
        from: "const verified = await verifyClientToken(token, config);",
        to: `const claims = JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as { sub: string; exp: number };
  const verified = { ok: true as const, identity: { userId: claims.sub, expiresAt: claims.exp * 1000 } };`,
      },
    ],
  },
  {
    name: "stub-presence",
    kind: "product",
    what: "connect: no presence report to the stats shard",
    edits: [{ file: "hub/userHub.ts", from: "this.presence.report(live.length);", to: "" }],
  },
  // Amplified: the piece runs AMP extra times per request, so (amp − control) / AMP is its
  // cost with AMP times the signal — small pieces stand out of the machine's noise.
  {
    name: "amp-auth",
    kind: "product",
    what: `the API-key check (apiKeyAuth: regex + timingSafeEqual) run ${AMP} extra times per request`,
    edits: [{ file: "http/app.ts", from: AUTH_USE, to: Array.from({ length: AMP + 1 }, () => AUTH_USE).join("\n") }],
  },
  {
    name: "amp-validation",
    kind: "product",
    what: `valibot check of the push body run ${AMP} extra times`,
    edits: [
      {
        file: "http/api.ts",
        from: "const pushBody = jsonBody((input) => targetConflict(check(PushBody, input)));",
        to: `const pushBody = jsonBody((input) => {
  for (let i = 0; i < ${AMP}; i++) targetConflict(check(PushBody, input));
  return targetConflict(check(PushBody, input));
});`,
      },
    ],
  },
  {
    name: "amp-json",
    kind: "product",
    what: `JSON.parse of the body and JSON.stringify of data run ${AMP} extra times`,
    edits: [
      {
        file: "http/body.ts",
        from: "    return JSON.parse(text) as unknown;",
        to: `    for (let i = 0; i < ${AMP}; i++) JSON.parse(text);\n    return JSON.parse(text) as unknown;`,
      },
      {
        file: "http/body.ts",
        from: "    return JSON.stringify(data);",
        to: `    for (let i = 0; i < ${AMP}; i++) JSON.stringify(data);\n    return JSON.stringify(data);`,
      },
    ],
  },
  {
    name: "amp-middleware",
    kind: "product",
    what: `${AMP} extra no-op async Hono middlewares on /v1/* (the price of one layer of the chain)`,
    edits: [
      {
        file: "http/app.ts",
        from: LIMIT_USE,
        to: [LIMIT_USE, ...Array.from({ length: AMP }, () => `app.use("/v1/*", async (_c, next) => {\n  await next();\n});`)].join("\n"),
      },
    ],
  },
  {
    name: "amp-rpc-object",
    kind: "product",
    what: `${AMP} extra RPC calls to the user's object per push, PushRequest in, PushResult out, no work (one Worker→object hop)`,
    edits: [
      RPC_NOOPS,
      {
        file: "http/api.ts",
        from: PUSH_RETURN,
        to: `const hub = c.env.USER_HUB.getByName(userId);
  for (let i = 0; i < ${AMP}; i++) await hub.noopObject(req);
  ${PUSH_RETURN}`,
      },
    ],
  },
  {
    name: "amp-rpc-string",
    kind: "product",
    what: `${AMP} extra RPC calls per push with a string in and a number out (as the baseline's hop)`,
    edits: [
      RPC_NOOPS,
      {
        file: "http/api.ts",
        from: PUSH_RETURN,
        to: `const hub = c.env.USER_HUB.getByName(userId);
  const asText = JSON.stringify(req);
  for (let i = 0; i < ${AMP}; i++) await hub.noopString(asText);
  ${PUSH_RETURN}`,
      },
    ],
  },
  {
    name: "amp-do-bookkeeping",
    kind: "product",
    what: `the object's per-push JS (idempotency map get/set, frame encoding) run ${AMP} extra times`,
    edits: [
      // The hub encodes through its dialects now; the native encoder is imported for the extra frames.
      {
        file: "hub/userHub.ts",
        from: 'import { CloseCode, encodeError, FrameError } from "@switchboard/protocol";',
        to: 'import { CloseCode, encodeError, encodeMessage, FrameError } from "@switchboard/protocol";',
      },
      {
        file: "hub/userHub.ts",
        from: "    this.recentLive.set(req.id, result, now);",
        to: `    this.recentLive.set(req.id, result, now);
    for (let i = 0; i < ${AMP}; i++) {
      const extra = \`\${req.id}~\${i}\`;
      this.recentLive.get(extra, now);
      encodeMessage({ id: extra, seq: null, sentAt: now }, req.dataJson);
      this.recentLive.set(extra, result, now);
    }`,
      },
    ],
  },
  {
    name: "stub-backlog",
    kind: "product",
    what: "push: no slow-consumer accounting (SendBacklog.admit skipped for every delivery)",
    edits: [{ file: "hub/deliver.ts", from: "if (!input.backlog.admit(ws, frame.length, input.hub.now)) {", to: "if (false) {" }],
  },
  {
    name: "amp-jwt",
    kind: "product",
    what: `connect: the token verified ${AMP} extra times (jose HS256 + claims)`,
    edits: [
      {
        file: "http/connect.ts",
        from: "const verified = await verifyClientToken(token, config);",
        to: `for (let i = 0; i < ${AMP}; i++) await verifyClientToken(token, config);
  const verified = await verifyClientToken(token, config);`,
      },
    ],
  },
];

/**
 * Every edit whose anchor (`from`) is not in `srcDir` (src/ by default), as
 * "variant: file: anchor…" lines. Empty when every variant still applies.
 */
export function staleEdits(variants: readonly Variant[] = VARIANTS, srcDir = join(import.meta.dirname, "..", "src")): string[] {
  const stale: string[] = [];
  for (const v of variants) {
    // Edits apply in order, so an anchor may be text an earlier edit of the variant wrote.
    const files = new Map<string, string>();
    for (const e of v.edits ?? []) {
      const path = join(srcDir, e.file);
      if (!files.has(e.file) && !existsSync(path)) {
        stale.push(`${v.name}: src/${e.file} is gone`);
        continue;
      }
      const text = files.get(e.file) ?? readFileSync(path, "utf8");
      if (!text.includes(e.from)) stale.push(`${v.name}: src/${e.file}: ${JSON.stringify(e.from.slice(0, 80))}`);
      files.set(e.file, text.replace(e.from, e.to));
    }
  }
  return stale;
}
