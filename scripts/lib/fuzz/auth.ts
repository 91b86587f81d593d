/**
 * Authorization on the server endpoints, batch bodies (POST /v1/messages) and
 * odd headers, as fast-check arbitraries of HttpCase.
 */
import fc from "fast-check";
import { isUserId, MAX_BATCH, pushExpect, type Expect } from "../contract.ts";
import { auth, jsonPost, type FuzzContext, type HttpCase } from "./cases.ts";
import { LONG, oddValue, pick } from "./arb.ts";

interface Variant {
  name: string;
  headers: Array<[string, string | Buffer]>;
  mayPass: boolean;
}

function variants(ctx: FuzzContext): Variant[] {
  const key = ctx.apiKey;
  return [
    { name: "none", headers: [], mayPass: false },
    { name: "empty", headers: [["Authorization", ""]], mayPass: false },
    { name: "Bearer", headers: [["Authorization", "Bearer"]], mayPass: false },
    { name: "Bearer-space", headers: [["Authorization", "Bearer "]], mayPass: false },
    { name: "good", headers: [["Authorization", `Bearer ${key}`]], mayPass: true },
    { name: "lowercase-scheme", headers: [["Authorization", `bearer ${key}`]], mayPass: true },
    { name: "two-spaces", headers: [["Authorization", `Bearer  ${key}`]], mayPass: true },
    { name: "trailing-space", headers: [["Authorization", `Bearer ${key} `]], mayPass: true },
    { name: "key-only", headers: [["Authorization", key]], mayPass: false },
    { name: "basic", headers: [["Authorization", `Basic ${Buffer.from(`x:${key}`).toString("base64")}`]], mayPass: false },
    { name: "token-scheme", headers: [["Authorization", `Token ${key}`]], mayPass: false },
    { name: "prefix", headers: [["Authorization", `Bearer ${key.slice(0, -1)}`]], mayPass: false },
    { name: "suffix", headers: [["Authorization", `Bearer ${key}x`]], mayPass: false },
    { name: "case-flip", headers: [["Authorization", `Bearer ${key.toUpperCase()}`]], mayPass: key === key.toUpperCase() },
    { name: "two-keys", headers: [["Authorization", `Bearer ${key}, Bearer ${key}`]], mayPass: false },
    { name: "tab", headers: [["Authorization", `Bearer\t${key}`]], mayPass: true },
    // The client-JWT case uses the token's own user: a client token never opens its own data either.
    { name: "client-jwt", headers: [], mayPass: false },
    { name: "jwt-secret", headers: [["Authorization", `Bearer ${ctx.jwtSecret}`]], mayPass: false },
    { name: "latin1", headers: [["Authorization", Buffer.from([0x42, 0x65, 0x61, 0x72, 0x65, 0x72, 0x20, 0xe9, 0xff])]], mayPass: false },
    { name: "huge", headers: [["Authorization", `Bearer ${LONG(16_000)}`]], mayPass: false },
    { name: "x-api-key", headers: [["X-API-Key", key]], mayPass: false },
    { name: "query-key", headers: [], mayPass: false },
    {
      name: "dup-header-bad-first",
      headers: [
        ["Authorization", "Bearer nope"],
        ["Authorization", `Bearer ${key}`],
      ],
      mayPass: false,
    },
    {
      name: "dup-header-good-first",
      headers: [
        ["Authorization", `Bearer ${key}`],
        ["Authorization", "Bearer nope"],
      ],
      mayPass: false,
    },
  ];
}

export function authArb(ctx: FuzzContext): fc.Arbitrary<HttpCase> {
  const endpoints: Array<{ method: string; target: (u: string) => string; body?: string }> = [
    { method: "GET", target: () => "/v1/stats" },
    { method: "GET", target: (u) => `/v1/users/${u}/presence` },
    { method: "GET", target: (u) => `/v1/users/${u}/messages` },
    { method: "POST", target: (u) => `/v1/users/${u}/messages`, body: '{"data":{"auth":true},"ttl":0}' },
    { method: "DELETE", target: (u) => `/v1/users/${u}/sessions?device=nobody-${u}` },
    { method: "POST", target: () => "/v1/messages", body: `{"data":1,"ttl":0,"userIds":["${ctx.users[0] ?? "u"}"]}` },
  ];
  return fc.tuple(pick(variants(ctx)), pick(endpoints), pick(ctx.users), pick(ctx.tokens.good)).map(([v, e, someUser, good]): HttpCase => {
    const user = v.name === "client-jwt" ? good.sub : someUser;
    const headers: Array<[string, string | Buffer]> = v.name === "client-jwt" ? [["Authorization", `Bearer ${good.token}`]] : [...v.headers];
    let target = e.target(user);
    if (v.name === "query-key") target += `${target.includes("?") ? "&" : "?"}token=${ctx.apiKey}&api_key=${ctx.apiKey}`;
    if (e.body !== undefined) headers.push(["Content-Type", "application/json"]);
    return {
      category: "auth",
      name: `${v.name} ${e.method} ${e.target(":u")}`,
      req: { method: e.method, target, headers, body: e.body },
      expect: v.mayPass ? { statuses: [200, 401] } : { statuses: [401], codes: ["unauthorized"] },
      runtimeMayRefuse: v.name === "latin1" || v.name === "huge",
    };
  });
}

function batchBodyArb(ctx: FuzzContext): fc.Arbitrary<Record<string, unknown>> {
  const entry = fc.oneof(
    { arbitrary: pick(ctx.users), weight: 3 },
    { arbitrary: pick<unknown>([null, 1, "", "a/b", LONG(129), { u: 1 }, ["x"], "é", "\ud800", true, LONG(128)]), weight: 2 },
  );
  const entries = pick([1, 2, 5, 20]).chain((n) => fc.array(entry, { minLength: n, maxLength: n }));
  return fc.oneof(
    { arbitrary: fc.tuple(fc.nat(1e6), pick([0, 0, 60]), entries).map(([i, ttl, userIds]) => ({ data: { batch: i }, ttl, userIds })), weight: 2 },
    pick<unknown>(["a", 1, null, {}, [], "[]", true]).map((userIds) => ({ data: 1, ttl: 0, userIds })),
    pick([1001, 1500, 5000]).map((n) => ({ data: 1, ttl: 0, userIds: Array.from({ length: n }, (_, j) => `x${j}`) })),
    pick(ctx.users).map((u) => ({ ttl: 0, userIds: [u] })),
    fc.tuple(entries, pick(["id", "ttl", "device", "extra"]), oddValue).map(([userIds, field, v]) => ({ data: 1, ttl: 0, userIds, [field]: v })),
  );
}

export function batchArb(ctx: FuzzContext): fc.Arbitrary<HttpCase> {
  return batchBodyArb(ctx).map((body): HttpCase => {
    const buf = Buffer.from(JSON.stringify(body));
    let expect: Expect;
    if (buf.length > ctx.limits.bodyBytes) expect = { statuses: [413] };
    else {
      expect = pushExpect(buf, ["userIds"]);
      const ids = body.userIds;
      if (!Array.isArray(ids) || ids.length < 1 || ids.length > MAX_BATCH) {
        const fields = new Set([...(expect.statuses.includes(200) ? [] : (expect.fields ?? [])), "userIds"]);
        expect = { statuses: [400], codes: ["bad_request"], fields: [...fields] };
      }
    }
    const userIds = body.userIds;
    return {
      category: "batch",
      name: `batch of ${Array.isArray(userIds) ? userIds.length : typeof userIds}`,
      req: jsonPost(ctx, "/v1/messages", buf),
      expect,
      mayReset: buf.length > ctx.limits.bodyBytes,
      check: (res) => {
        if (res.status !== 200 || !Array.isArray(userIds)) return undefined;
        let answer: { results?: Array<Record<string, unknown>> };
        try {
          answer = JSON.parse(res.body.toString("utf8")) as typeof answer;
        } catch {
          return "batch 200 is not JSON";
        }
        const results = answer.results ?? [];
        if (results.length !== userIds.length) return `batch answered ${results.length} results for ${userIds.length} userIds`;
        for (let j = 0; j < results.length; j++) {
          const entry = results[j] ?? {};
          const valid = isUserId(userIds[j]);
          if (valid && entry.error !== undefined) return `batch entry ${j} (${String(userIds[j])}) failed: ${JSON.stringify(entry.error)}`;
          if (!valid && (entry.error as { code?: unknown } | undefined)?.code !== "bad_request") return `batch entry ${j} (bad userId) not refused`;
        }
        return undefined;
      },
    };
  });
}

export function headerArb(ctx: FuzzContext): fc.Arbitrary<HttpCase> {
  const odd: fc.Arbitrary<[string, Array<[string, string | Buffer]>]> = fc.oneof(
    pick([1000, 8000, 30_000, 70_000]).map((size): [string, Array<[string, string]>] => [`big-header:${size}`, [["X-Big", LONG(size)]]]),
    pick([50, 200, 1000]).map((count): [string, Array<[string, string]>] => [
      `many-headers:${count}`,
      Array.from({ length: count }, (_, j): [string, string] => [`X-H${j}`, "v"]),
    ]),
    fc.constant<[string, Array<[string, Buffer]>]>(["non-ascii-header", [["X-Odd", Buffer.from([0x80, 0xff, 0xc3, 0x28])]]]),
    fc.constant<[string, Array<[string, string]>]>(["bad-content-length", [["Content-Length", "abc"]]]),
    fc.constant<[string, Array<[string, string]>]>([
      "expect-continue",
      [
        ["Expect", "100-continue"],
        ["Content-Type", "application/json"],
      ],
    ]),
    fc.constant<[string, Array<[string, string]>]>([
      "host-override",
      [
        ["Host", "evil.example"],
        ["X-Forwarded-Host", "evil.example"],
        ["X-Forwarded-For", "1.2.3.4"],
      ],
    ]),
    fc.constant<[string, Array<[string, string]>]>([
      "ws-version-8",
      [
        ["Sec-WebSocket-Version", "8"],
        ["Upgrade", "websocket"],
        ["Connection", "Upgrade"],
      ],
    ]),
  );
  return fc.tuple(odd, pick(["/v1/stats", "presence", "/healthz"]), pick(ctx.users)).map(([[name, extra], where, user]): HttpCase => ({
    category: "headers",
    name,
    req: { method: "GET", target: where === "presence" ? `/v1/users/${user}/presence` : where, headers: [auth(ctx), ...extra] },
    expect: { statuses: [200, 400, 404, 413, 426, 431] },
    runtimeMayRefuse: true,
  }));
}

/** A random token-shaped string: 1-4 base64url parts of random bytes. */
export const randomTokenArb: fc.Arbitrary<string> = fc
  .array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.map((p) => Buffer.from(p).toString("base64url")).join("."));
