/**
 * Push bodies, content types, methods and chunked bodies (POST /v1/users/{u}/messages),
 * as fast-check arbitraries of HttpCase: each shrinks toward a plainer body.
 */
import fc from "fast-check";
import { isJsonType, pushExpect } from "../contract.ts";
import { auth, jsonPost, pushAnswerCheck, pushPath, type FuzzContext, type HttpCase } from "./cases.ts";
import { int, jsonValue, LONG, maybe, oddValue, pick, weirdString } from "./arb.ts";

const BAD_JSON = [
  "",
  " ",
  "{",
  "}",
  "{]",
  '{"data":}',
  '{"data":1,}',
  "{'data':1}",
  '{"data":NaN}',
  '{"data":Infinity}',
  '{"data":undefined}',
  '{"data":0x10}',
  '{"data":01}',
  '{"data":.5}',
  '{"data":"\\x41"}',
  '{"data":"\\u12"}',
  '{"data":"a\nb"}',
  '{"data":"\t"}',
  "{data:1}",
  '{"data":1}{"data":2}',
  '{"data":1} x',
  "nul",
  "tru",
  '"unterminated',
  "[1,2",
  '/* c */ {"data":1}',
  '{"data":1 // c\n}',
  "\u0000",
  '{"data":"\u0000"}',
];

const bytes = (...parts: Array<string | number[] | Buffer>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.isBuffer(p) ? p : Buffer.from(p))));

/** Named bodies: [name, body]. */
function bodies(): fc.Arbitrary<[string, string | Buffer]> {
  const named = (name: string, arb: fc.Arbitrary<string | Buffer>) => arb.map((b): [string, string | Buffer] => [name, b]);
  return fc.oneof(
    // malformed JSON, listed and mutated
    named("bad-json", pick(BAD_JSON)),
    fc
      .record({
        data: jsonValue,
        id: int(0, 1e9),
        at: fc.nat(),
        how: int(0, 3),
        ch: pick(["{", "}", "[", "]", ",", ":", '"', "\\", "\u0000", "\ud800", "1", " "]),
      })
      .map(({ data, id, at, how, ch }): [string, string] => {
        const good = JSON.stringify({ data, id: `m-${id}` });
        const i = at % good.length;
        const mutated = how === 0 ? good.slice(0, i) + good.slice(i + 1) : how === 1 ? good.slice(0, i) : good.slice(0, i) + ch + good.slice(i);
        return ["mutated-json", mutated];
      }),
    // wrong types for every field
    fc
      .tuple(pick(["id", "ttl", "device", "exceptDevice", "exceptSession", "data"]), oddValue)
      .map(([field, v]): [string, string] => [`wrong-type:${field}`, JSON.stringify({ data: 1, [field]: v })]),
    // missing data, unknown fields, non-objects
    fc
      .oneof(
        pick<unknown>([
          {},
          { id: "x" },
          { Data: 1 },
          { data: 1, exceptDevices: "a" },
          { data: 1, userIds: ["a"] },
          { data: 1, __proto__x: 1 },
          { data: 1, constructor: 1 },
          [{ data: 1 }],
          "data",
          42,
          null,
        ]),
        weirdString(5).map((extra) => ({ data: 1, ttl: 1, extra })),
      )
      .map((v): [string, string] => ["shape", JSON.stringify(v)]),
    named("proto-key", fc.constant('{"data":1,"__proto__":{"ttl":-1}}')),
    named("proto-only", fc.constant('{"__proto__":{"data":1}}')),
    named("duplicate-key", fc.constant('{"data":1,"ttl":5,"ttl":"x"}')),
    named("duplicate-key-ok", fc.constant('{"data":1,"ttl":"x","ttl":5}')),
    // a valid push with random targeting and data
    fc
      .record({
        data: jsonValue,
        id: maybe(
          0.5,
          int(0, 1e12).map((n) => `fz-${n}`),
        ),
        ttl: maybe(0.5, pick([0, 1, 60, 86_400, 604_800, 604_801, -1, 0.5])),
        device: maybe(0.3, pick(["d1", "phone", LONG(64), LONG(65), "a b"])),
        exceptDevice: maybe(0.2, pick(["d1", "x:y@z", "é"])),
        exceptSession: maybe(0.2, pick(["s1", LONG(128), LONG(129)])),
      })
      .map((b): [string, string] => ["random-push", JSON.stringify(b)]),
    // huge strings (under and over the limit)
    pick([1000, 30_000, 65_000, 65_536, 65_537, 70_000, 200_000, 1_100_000]).map((size): [string, string] => [
      `huge-string:${size}`,
      JSON.stringify({ data: "x".repeat(Math.max(0, size - '{"data":""}'.length)) }),
    ]),
    pick([128, 129, 1000, 60_000]).map((n): [string, string] => ["huge-id", JSON.stringify({ data: 1, id: LONG(n) })]),
    // deep nesting
    fc
      .tuple(pick([10, 100, 1000, 5000, 20_000, 32_000]), fc.boolean())
      .map(([depth, obj]): [string, string] => [
        `deep:${obj ? "obj" : "arr"}:${depth}`,
        `{"data":${obj ? `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}` : `${"[".repeat(depth)}${"]".repeat(depth)}`}}`,
      ]),
    pick([1000, 30_000]).map((depth): [string, string] => [`deep-unclosed:${depth}`, `{"data":${"[".repeat(depth)}`]),
    // unicode edge cases: escaped lone surrogates, raw invalid UTF-8, BOM, overlong, NUL
    named(
      "lone-surrogate-data",
      pick(["\\ud800", "\\udfff", "\\ud83d", "\\ude00\\ud83d", "a\\ud800b"]).map((s) => `{"data":"${s}"}`),
    ),
    named(
      "lone-surrogate-id",
      pick(["\\ud800", "x\\udfff", "\\u0000", "\\u202e", "\\ufeff"]).map((s) => `{"data":1,"id":"${s}"}`),
    ),
    named(
      "lone-surrogate-key",
      pick(["\\ud800", "\\u0000", "da\\u0074a2", "\\ufeffdata"]).map((s) => `{"data":1,"${s}":1}`),
    ),
    named(
      "raw-bytes",
      pick([[0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xff, 0xfe], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x80]]).map((b) => bytes('{"data":"', b, '"}')),
    ),
    named(
      "raw-bytes-outside",
      pick([0xff, 0xc0, 0xed, 0x00]).map((b) => bytes('{"data":1', [b], "}")),
    ),
    named("bom", fc.constant(bytes([0xef, 0xbb, 0xbf], '{"data":1}'))),
    named("utf16-body", fc.constant(Buffer.from('{"data":1}', "utf16le"))),
    named(
      "weird-data",
      weirdString(200).map((s) => JSON.stringify({ data: s })),
    ),
    named(
      "big-numbers",
      fc
        .tuple(
          pick(["1e309", "-1e309", "123456789012345678901234567890", "1e-400", "-0"]),
          pick(["1e2", "100.0", "1e309", "-0", "5e-324", "604800.0000000001"]),
        )
        .map(([d, t]) => `{"data":${d},"ttl":${t}}`),
    ),
  );
}

export function pushBodyArb(ctx: FuzzContext): fc.Arbitrary<HttpCase> {
  return fc.tuple(bodies(), pick(ctx.users)).map(([[name, body], user]): HttpCase => {
    const buf = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    return {
      category: "push-body",
      name,
      req: jsonPost(ctx, pushPath(user), buf),
      expect: buf.length > ctx.limits.bodyBytes ? { statuses: [413], codes: ["payload_too_large"] } : pushExpect(buf),
      mayReset: buf.length > ctx.limits.bodyBytes,
      check: pushAnswerCheck,
    };
  });
}

const CONTENT_TYPES: Array<string | undefined> = [
  "application/json",
  undefined,
  "",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/jsonp",
  "application/json-patch+json",
  "application/ld+json",
  "APPLICATION/JSON",
  "application/json; charset=utf-8",
  "application/json;charset=utf-16",
  " application/json ",
  "application/json, text/plain",
  "application /json",
  "application/json\u00a0",
  "text/json",
  "*/*",
  "application/*",
  ";application/json",
  LONG(5000, "a"),
];

/** Content types (and, one in nine, a chunked body with no Content-Length: the size limit must still hold). */
export function contentTypeArb(ctx: FuzzContext): fc.Arbitrary<HttpCase> {
  const typed = fc.tuple(pick(CONTENT_TYPES), pick(ctx.users), fc.nat(1e6)).map(([ct, user, n]): HttpCase => {
    const headers: Array<[string, string | Buffer]> = [auth(ctx)];
    if (ct !== undefined) headers.push(["Content-Type", Buffer.from(ct, "latin1")]);
    const json = isJsonType(ct);
    // Non-ASCII header bytes: the runtime decides how to decode them, so either answer is within the contract.
    const odd = /[^\x20-\x7e]/.test(ct ?? "");
    return {
      category: "content-type",
      name: `ct:${(ct ?? "<none>").slice(0, 40)}`,
      req: { method: "POST", target: pushPath(user), headers, body: Buffer.from(JSON.stringify({ data: { n } })) },
      expect: odd ? { statuses: [200, 415] } : json ? { statuses: [200] } : { statuses: [415], codes: ["unsupported_media_type"] },
      runtimeMayRefuse: odd,
    };
  });
  const chunked = fc.tuple(pick([10, 1000, 65_000, 65_537, 200_000]), pick([16_384, 4096]), pick(ctx.users)).map(([size, chunkSize, user]): HttpCase => {
    const body = Buffer.from(JSON.stringify({ data: "y".repeat(size) }));
    return {
      category: "content-type",
      name: `chunked:${size}`,
      req: { method: "POST", target: pushPath(user), headers: [auth(ctx), ["Content-Type", "application/json"]], body, chunked: true, chunkSize },
      expect: body.length > ctx.limits.bodyBytes ? { statuses: [413], codes: ["payload_too_large"] } : { statuses: [200] },
      mayReset: body.length > ctx.limits.bodyBytes,
    };
  });
  return fc.oneof({ arbitrary: typed, weight: 8 }, { arbitrary: chunked, weight: 1 });
}

/** Methods the routes do not take: 405 with `Allow` on a known path, 404 elsewhere; never a 5xx. */
export function methodArb(ctx: FuzzContext): fc.Arbitrary<HttpCase> {
  const methods = ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "post", "FOO"];
  return fc
    .tuple(pick(methods), pick(ctx.users), pick(["user", "/v1/messages", "/v1/stats", "/v1/broadcast", "/v1/connect", "/healthz"]))
    .map(([method, user, where]): HttpCase => {
      const target = where === "user" ? pushPath(user) : where;
      return {
        category: "method",
        name: `${method} ${target.replace(/users\/[^/]+/, "users/:u")}`,
        req: { method, target, headers: [auth(ctx), ["Content-Type", "application/json"]], body: method === "HEAD" ? undefined : '{"data":1}' },
        expect: { statuses: [200, 400, 404, 405, 426] },
        // An unknown method never reaches the Worker: workerd's HTTP server answers it (501, RFC 9110 §9.1).
        runtimeMayRefuse: method === "TRACE" || method === "FOO" || method === "post" || method === "PROPFIND",
        check: (res) => {
          // Only the documented method/path pairs may succeed.
          const ok = method === "GET" && (target === "/v1/stats" || target === "/healthz" || /^\/v1\/users\/[^/]+\/messages$/.test(target));
          if (res.status === 200 && !ok && method !== "HEAD") return `${method} ${target} answered 200`;
          return undefined;
        },
      };
    });
}
