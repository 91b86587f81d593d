/**
 * Generated bad (and some good) HTTP inputs, each with the contract's expected
 * answer: push bodies, paths and userIds, query strings, Authorization
 * variants, batch bodies, connect requests (token, Origin, subprotocols,
 * device/since), and odd headers. See scripts/fuzz.ts.
 */
import { isDevice, isJsonType, isName, isUserId, MAX_BATCH, pushExpect, seqValue, type Expect } from "./contract.ts";
import { errorShape, type RawRequest, type RawResponse } from "./rawHttp.ts";
import type { Rng } from "./rng.ts";

export interface HttpCase {
  category: string;
  name: string;
  req: RawRequest;
  expect: Expect;
  /** The runtime (not the app) may refuse this malformed HTTP with its own non-JSON 4xx. */
  runtimeMayRefuse?: boolean;
  /** Extra check on a response that met `expect`; returns a violation or undefined. */
  check?: (res: RawResponse) => string | undefined;
}

export interface TokenPool {
  /** Good tokens: token → its sub. */
  good: Array<{ token: string; sub: string; kind: string }>;
  /** Tokens that must be refused, with why. */
  bad: Array<{ token: string; kind: string }>;
}

export interface FuzzContext {
  port: number;
  apiKey: string;
  jwtSecret: string;
  users: readonly string[];
  tokens: TokenPool;
  allowedOrigin: string;
}

// ---------------------------------------------------------------- values

const LONG = (n: number, c = "a") => c.repeat(n);

/** JSON values of every type, for "wrong type" fields. */
function oddValues(r: Rng): unknown[] {
  return [
    null,
    true,
    false,
    0,
    -1,
    1.5,
    -0,
    1e21,
    2 ** 53,
    Number.MAX_SAFE_INTEGER,
    "",
    " ",
    "x",
    "a/b",
    "../../etc/passwd",
    "a b",
    "é",
    "\u0000",
    "\ud800",
    "\udfff",
    "a\u202eb",
    "\ufeffx",
    "😀",
    LONG(65),
    LONG(128),
    LONG(129),
    LONG(r.int(130, 5000)),
    [],
    [1],
    {},
    { a: 1 },
    "123",
    "1e3",
    "NaN",
    "Infinity",
  ];
}

/** Random unicode, including lone surrogates, controls, BOM, bidi and astral code points. */
function weirdString(r: Rng, max = 40): string {
  const pool = [
    () => String.fromCharCode(r.int(0, 0x1f)),
    () => String.fromCharCode(r.int(0xd800, 0xdbff)),
    () => String.fromCharCode(r.int(0xdc00, 0xdfff)),
    () => "\ufeff",
    () => "\u202e",
    () => "\u200b",
    () => String.fromCodePoint(r.int(0x10000, 0x10ffff)),
    () => String.fromCharCode(r.int(0x80, 0x7ff)),
    () => String.fromCharCode(r.int(0x20, 0x7e)),
    () => "\\",
    () => '"',
    () => "\u2028",
    () => "\uffff",
  ];
  let s = "";
  const n = r.int(0, max);
  for (let i = 0; i < n; i++) s += r.pick(pool)();
  return s;
}

function randomJsonValue(r: Rng, depth = 0): unknown {
  const k = r.int(0, depth > 3 ? 4 : 6);
  switch (k) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.chance(0.5) ? r.int(-1e9, 1e9) : (r() - 0.5) * 1e6;
    case 3:
      return weirdString(r, 20);
    case 4:
      return "x".repeat(r.int(0, 50));
    case 5:
      return Array.from({ length: r.int(0, 4) }, () => randomJsonValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = r.int(0, 4); i > 0; i--) o[weirdString(r, 6) || "k"] = randomJsonValue(r, depth + 1);
      return o;
    }
  }
}

// ---------------------------------------------------------------- request builders

function auth(ctx: FuzzContext): [string, string] {
  return ["Authorization", `Bearer ${ctx.apiKey}`];
}

function jsonPost(ctx: FuzzContext, target: string, body: string | Buffer, contentType = "application/json"): RawRequest {
  return { method: "POST", target, headers: [auth(ctx), ["Content-Type", contentType]], body };
}

const pushPath = (user: string) => `/v1/users/${user}/messages`;

/** Every answered refusal must carry the documented error shape; a 200 push answer its documented fields. */
function pushAnswerCheck(res: RawResponse): string | undefined {
  if (res.status !== 200) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(res.body.toString("utf8"));
  } catch {
    return "200 body is not JSON";
  }
  const b = body as Record<string, unknown>;
  if (typeof b.id !== "string" || typeof b.delivered !== "number" || typeof b.stored !== "boolean") return "200 body lacks id/delivered/stored";
  if (b.stored === true && !(typeof b.seq === "number" && Number.isSafeInteger(b.seq) && b.seq >= 1)) return "stored push without a seq";
  if (b.stored === false && b.seq !== null) return "live-only push with a seq";
  return undefined;
}

// ---------------------------------------------------------------- push bodies

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
  '{data:1}',
  '{"data":1}{"data":2}',
  '{"data":1} x',
  "nul",
  "tru",
  '"unterminated',
  "[1,2",
  "/* c */ {\"data\":1}",
  '{"data":1 // c\n}',
  "\u0000",
  '{"data":"\u0000"}',
];

export function pushBodyCases(r: Rng, ctx: FuzzContext, n: number): HttpCase[] {
  const cases: HttpCase[] = [];
  const user = () => r.pick(ctx.users);
  const add = (name: string, body: string | Buffer, extraCheck = true) => {
    const buf = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    cases.push({
      category: "push-body",
      name,
      req: jsonPost(ctx, pushPath(user()), buf),
      expect: buf.length > 65_536 ? { statuses: [413], codes: ["payload_too_large"] } : pushExpect(buf),
      check: extraCheck ? pushAnswerCheck : undefined,
    });
  };
  const gens: Array<() => void> = [
    // malformed JSON, listed and mutated
    () => add("bad-json", r.pick(BAD_JSON)),
    () => {
      const good = JSON.stringify({ data: randomJsonValue(r), id: `m-${r.int(0, 1e9)}` });
      const i = r.int(0, good.length - 1);
      const mutated =
        r.int(0, 2) === 0
          ? good.slice(0, i) + good.slice(i + 1)
          : r.int(0, 1) === 0
            ? good.slice(0, i)
            : good.slice(0, i) + r.pick(["{", "}", "[", "]", ",", ":", '"', "\\", "\u0000", "\ud800", "1", " "]) + good.slice(i);
      add("mutated-json", mutated);
    },
    // wrong types for every field
    () => {
      const field = r.pick(["id", "ttl", "device", "exceptDevice", "exceptSession", "data"]);
      const body: Record<string, unknown> = { data: 1, [field]: r.pick(oddValues(r)) };
      add(`wrong-type:${field}`, JSON.stringify(body));
    },
    // missing data, unknown fields, non-objects
    () =>
      add(
        "shape",
        JSON.stringify(
          r.pick<unknown>([
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
            { data: 1, ttl: 1, extra: weirdString(r, 5) },
          ]),
        ),
      ),
    () => add("proto-key", '{"data":1,"__proto__":{"ttl":-1}}'),
    () => add("proto-only", '{"__proto__":{"data":1}}'),
    () => add("duplicate-key", '{"data":1,"ttl":5,"ttl":"x"}'),
    () => add("duplicate-key-ok", '{"data":1,"ttl":"x","ttl":5}'),
    // a valid push with random targeting and data
    () => {
      const body: Record<string, unknown> = { data: randomJsonValue(r) };
      if (r.chance(0.5)) body.id = `fz-${r.int(0, 1e12)}`;
      if (r.chance(0.5)) body.ttl = r.pick([0, 1, 60, 86_400, 604_800, 604_801, -1, 0.5]);
      if (r.chance(0.3)) body.device = r.pick(["d1", "phone", LONG(64), LONG(65), "a b"]);
      if (r.chance(0.2)) body.exceptDevice = r.pick(["d1", "x:y@z", "é"]);
      if (r.chance(0.2)) body.exceptSession = r.pick(["s1", LONG(128), LONG(129)]);
      add("random-push", JSON.stringify(body));
    },
    // huge strings (under and over the limit)
    () => {
      const size = r.pick([1000, 30_000, 65_000, 65_536, 65_537, 70_000, 200_000, 1_100_000]);
      const wrapper = '{"data":""}'.length;
      add(`huge-string:${size}`, JSON.stringify({ data: "x".repeat(Math.max(0, size - wrapper)) }));
    },
    () => add("huge-id", JSON.stringify({ data: 1, id: LONG(r.pick([128, 129, 1000, 60_000])) })),
    // deep nesting
    () => {
      const depth = r.pick([10, 100, 1000, 5000, 20_000, 32_000]);
      const obj = r.chance(0.5);
      const inner = obj ? `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}` : `${"[".repeat(depth)}${"]".repeat(depth)}`;
      add(`deep:${obj ? "obj" : "arr"}:${depth}`, `{"data":${inner}}`);
    },
    () => {
      const depth = r.pick([1000, 30_000]);
      add(`deep-unclosed:${depth}`, `{"data":${"[".repeat(depth)}`);
    },
    // unicode edge cases: escaped lone surrogates, raw invalid UTF-8, BOM, overlong, NUL
    () => add("lone-surrogate-data", `{"data":"${r.pick(["\\ud800", "\\udfff", "\\ud83d", "\\ude00\\ud83d", "a\\ud800b"])}"}`),
    () => add("lone-surrogate-id", `{"data":1,"id":"${r.pick(["\\ud800", "x\\udfff", "\\u0000", "\\u202e", "\\ufeff"])}"}`),
    () => add("lone-surrogate-key", `{"data":1,"${r.pick(["\\ud800", "\\u0000", "da\\u0074a2", "\\ufeffdata"])}":1}`),
    () =>
      add(
        "raw-bytes",
        Buffer.concat([
          Buffer.from('{"data":"'),
          r.pick([
            Buffer.from([0xed, 0xa0, 0x80]),
            Buffer.from([0xc0, 0xaf]),
            Buffer.from([0xff, 0xfe]),
            Buffer.from([0xe2, 0x82]),
            Buffer.from([0xf4, 0x90, 0x80, 0x80]),
            Buffer.from([0x80]),
          ]),
          Buffer.from('"}'),
        ]),
      ),
    () => add("raw-bytes-outside", Buffer.concat([Buffer.from('{"data":1'), Buffer.from([r.pick([0xff, 0xc0, 0xed, 0x00])]), Buffer.from("}")])),
    () => add("bom", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"data":1}')])),
    () => add("utf16-body", Buffer.from('{"data":1}', "utf16le")),
    () => add("weird-data", JSON.stringify({ data: weirdString(r, 200) })),
    () => add("big-numbers", `{"data":${r.pick(["1e309", "-1e309", "123456789012345678901234567890", "1e-400", "-0"])},"ttl":${r.pick(["1e2", "100.0", "1e309", "-0", "5e-324", "604800.0000000001"])}}`),
  ];
  for (let i = 0; i < n; i++) r.pick(gens)();
  return cases;
}

// ---------------------------------------------------------------- content types and methods

export function contentTypeCases(r: Rng, ctx: FuzzContext, n: number): HttpCase[] {
  const cases: HttpCase[] = [];
  const types: Array<string | undefined> = [
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
  for (let i = 0; i < n; i++) {
    const ct = r.pick(types);
    const body = Buffer.from(JSON.stringify({ data: { n: i } }));
    const headers: Array<[string, string | Buffer]> = [auth(ctx)];
    if (ct !== undefined) headers.push(["Content-Type", Buffer.from(ct, "latin1")]);
    const json = isJsonType(ct === undefined ? undefined : Buffer.from(ct, "latin1").toString("latin1"));
    cases.push({
      category: "content-type",
      name: `ct:${(ct ?? "<none>").slice(0, 40)}`,
      req: { method: "POST", target: pushPath(r.pick(ctx.users)), headers, body },
      // The runtime may normalise odd header values; either answer is within the contract.
      // Non-ASCII header bytes: the runtime decides how to decode them, so either answer is within the contract.
      expect: /[^\x20-\x7e]/.test(ct ?? "") ? { statuses: [200, 415] } : json ? { statuses: [200] } : { statuses: [415], codes: ["unsupported_media_type"] },
      runtimeMayRefuse: /[^\x20-\x7e]/.test(ct ?? ""),
    });
  }
  // Methods the routes do not take: 404 (no such endpoint); never a 5xx.
  const methods = ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "post", "FOO"];
  for (let i = 0; i < Math.ceil(n / 4); i++) {
    const method = r.pick(methods);
    const target = r.pick([pushPath(r.pick(ctx.users)), "/v1/messages", "/v1/stats", "/v1/broadcast", "/v1/connect", "/healthz"]);
    cases.push({
      category: "method",
      name: `${method} ${target.replace(/users\/[^/]+/, "users/:u")}`,
      req: { method, target, headers: [auth(ctx), ["Content-Type", "application/json"]], body: method === "HEAD" ? undefined : '{"data":1}' },
      expect: { statuses: [200, 400, 404, 405, 426] },
      // An unknown method never reaches the Worker: workerd's HTTP server answers it (501, RFC 9110 §9.1).
      runtimeMayRefuse: method === "TRACE" || method === "FOO" || method === "post" || method === "PROPFIND",
      check: (res) => {
        // Only the documented method/path pairs may succeed.
        const ok =
          (method === "GET" && (target === "/v1/stats" || target === "/healthz" || /^\/v1\/users\/[^/]+\/messages$/.test(target))) ||
          (method === "DELETE" && false);
        if (res.status === 200 && !ok && method !== "HEAD") return `${method} ${target} answered 200`;
        if (res.status === 405) return "405 is not a documented status";
        return undefined;
      },
    });
  }
  // Chunked bodies (no Content-Length): the size limit must still hold.
  for (let i = 0; i < Math.ceil(n / 8); i++) {
    const size = r.pick([10, 1000, 65_000, 65_537, 200_000]);
    const body = Buffer.from(JSON.stringify({ data: "y".repeat(size) }));
    cases.push({
      category: "content-type",
      name: `chunked:${size}`,
      req: { method: "POST", target: pushPath(r.pick(ctx.users)), headers: [auth(ctx), ["Content-Type", "application/json"]], body, chunked: true, chunkSize: r.pick([1, 7, 4096, 65_536]) === 1 ? 4096 : 16_384 },
      expect: body.length > 65_536 ? { statuses: [413], codes: ["payload_too_large"] } : { statuses: [200] },
    });
  }
  return cases;
}

// ---------------------------------------------------------------- paths / userId injection

const SEGMENTS = [
  "",
  ".",
  "..",
  "%2e",
  "%2e%2e",
  "%2E%2E",
  ".%2e",
  "%2e.",
  "a%2Fb",
  "a%2fb",
  "a%252Fb",
  "..%2F..%2Fstats",
  "%2F",
  "a/b",
  "a\\b",
  "a%5Cb",
  "%00",
  "a%00b",
  "a%0Ab",
  "a%0D%0AX-Injected:%201",
  "a%20b",
  "a+b",
  "%C3%A9",
  "%ED%A0%80",
  "%C0%AF",
  "%FF",
  "%",
  "%Z1",
  "%2",
  "a;b",
  "a%3Bb",
  "a%3Fb",
  "a%23b",
  "%40",
  "%3A",
  "%2D",
  "alice%2Ebob",
  "ALICE",
  "alice..",
  "@",
  ":",
  "-",
  "_",
  "~",
  "a~b",
  "a*b",
  "a$b",
  "a!b",
  "%E2%80%AE",
  "%EF%BB%BFalice",
  "%F0%9F%98%80",
  "%EF%BC%A1", // full-width A
  "%C2%A0",
];

function decodeSegment(seg: string): string | undefined {
  try {
    return decodeURIComponent(seg);
  } catch {
    return undefined;
  }
}

export function pathCases(r: Rng, ctx: FuzzContext, n: number): HttpCase[] {
  const cases: HttpCase[] = [];
  const rawUnicode = ["é", "用户", "\u202e", "😀", "\ufeff"];
  for (let i = 0; i < n; i++) {
    let seg: string | Buffer;
    const k = r.int(0, 9);
    if (k <= 5) seg = r.pick(SEGMENTS);
    else if (k === 6) seg = r.pick(ctx.users) + r.pick(SEGMENTS);
    else if (k === 7) seg = LONG(r.pick([128, 129, 4000]), r.pick(["a", "%41", "."]));
    else if (k === 8) seg = Buffer.from(r.pick(rawUnicode), "utf8");
    else seg = Buffer.from([0x61, r.pick([0x80, 0xff, 0xed, 0xa0, 0x20, 0x09, 0x7f, 0x00]), 0x62]);
    const segText = typeof seg === "string" ? seg : seg.toString("latin1");
    const kind = r.pick(["presence", "messages-get", "messages-post", "sessions-delete"] as const);
    const suffix = kind === "presence" ? "presence" : kind === "sessions-delete" ? "sessions" : "messages";
    const target = Buffer.concat([Buffer.from("/v1/users/"), typeof seg === "string" ? Buffer.from(seg) : seg, Buffer.from(`/${suffix}`)]);
    const method = kind === "messages-post" ? "POST" : kind === "sessions-delete" ? "DELETE" : "GET";
    const decoded = typeof seg === "string" ? decodeSegment(seg) : undefined;
    const validAfterDecode = decoded !== undefined && isUserId(decoded);
    // Dot segments and backslashes may be normalised by the URL parser into another route.
    const mayReroute = /(^|\/)(\.|%2e){1,2}$/i.test(segText) || /^(\.|%2e){1,2}(%2f|\/|\\|%5c)/i.test(segText) || segText.includes("\\") || segText === "" || segText.includes("/");
    const req: RawRequest = { method, target, headers: [auth(ctx)] };
    if (method === "POST") {
      req.headers?.push(["Content-Type", "application/json"]);
      req.body = JSON.stringify({ data: { injected: segText.slice(0, 50) } });
    }
    cases.push({
      category: "path",
      name: `${method} ${suffix} seg=${segText.slice(0, 30)}`,
      req,
      expect: { statuses: validAfterDecode || mayReroute ? [200, 400, 404] : [400, 404] },
      runtimeMayRefuse: typeof seg !== "string",
      check: (res) => {
        if (res.status !== 200 || kind !== "presence") return undefined;
        try {
          const body = JSON.parse(res.body.toString("utf8")) as { userId?: unknown };
          if (!isUserId(body.userId)) return `presence answered for an invalid userId ${JSON.stringify(body.userId)}`;
          if (!mayReroute && body.userId !== decoded) return `presence for ${JSON.stringify(body.userId)}, asked for ${JSON.stringify(decoded)}`;
        } catch {
          return "presence 200 is not JSON";
        }
        return undefined;
      },
    });
  }
  // Paths outside the routes
  const others = ["/", "/v1", "/v1/", "/v1/users", "/v1/users/", "/v1/users/a", "/v1/users/a/", "/v1/users/a/b", "/v1/users/a/messages/1", "/v2/stats", "/V1/stats", "/v1/stats/", "//v1/stats", "/v1//stats", "/v1/stats?x=%ZZ", "/v1/stats#frag", "/dev/token?user=a", "/dev/push?user=a", "/dev/presence?user=a", "/healthz/..", "/%2e%2e/v1/stats", "/v1/%2e%2e/v1/stats", "*", "http://evil.example/v1/stats", "/v1/connect/../stats"];
  for (let i = 0; i < Math.ceil(n / 6); i++) {
    const target = r.pick(others);
    const withAuth = r.chance(0.7);
    cases.push({
      category: "path",
      name: `GET ${target}`,
      req: { method: "GET", target, headers: withAuth ? [auth(ctx)] : [] },
      expect: { statuses: [200, 400, 401, 404, 426] },
      runtimeMayRefuse: target === "*" || target.startsWith("http:"),
      check: (res) => (res.status === 200 && !withAuth && target.includes("/v1") && !target.includes("connect") ? `${target} without API key answered 200` : undefined),
    });
  }
  return cases;
}

// ---------------------------------------------------------------- query strings

const SEQ_VALUES = ["0", "1", "5", "1000", "1001", "-1", "1.5", "1e3", "0x10", "", " 1", "1 ", "+1", "%2B1", "01", "0001", "9007199254740991", "9007199254740992", "99999999999999999999", "١", "１", "NaN", "null", "true", "[1]", "%00", "1%00", "1&since=2", "%ZZ", LONG(300, "9")];

export function queryCases(r: Rng, ctx: FuzzContext, n: number): HttpCase[] {
  const cases: HttpCase[] = [];
  for (let i = 0; i < n; i++) {
    const user = r.pick(ctx.users);
    if (r.chance(0.6)) {
      const parts: string[] = [];
      const since = r.chance(0.8) ? r.pick(SEQ_VALUES) : undefined;
      const limit = r.chance(0.6) ? r.pick(SEQ_VALUES) : undefined;
      if (since !== undefined) parts.push(`since=${since}`);
      if (limit !== undefined) parts.push(`limit=${limit}`);
      if (r.chance(0.1)) parts.push(`since=${r.pick(SEQ_VALUES)}`);
      const query = parts.join("&");
      const params = new URLSearchParams(query);
      const s = params.get("since");
      const l = params.get("limit");
      const sOk = s === null || seqValue(s) !== undefined;
      const lv = l === null ? 100 : seqValue(l);
      const lOk = lv !== undefined && lv >= 1 && lv <= 1000;
      const fields = [...(sOk ? [] : ["since"]), ...(lOk ? [] : ["limit"])];
      cases.push({
        category: "query",
        name: `messages?${query.slice(0, 40)}`,
        req: { method: "GET", target: `/v1/users/${user}/messages${query === "" ? "" : `?${query.replaceAll(" ", "%20")}`}`, headers: [auth(ctx)] },
        expect: fields.length === 0 ? { statuses: [200] } : { statuses: [400], fields, codes: ["bad_request"] },
      });
    } else {
      const device = r.chance(0.5) ? r.pick(["d1", "", LONG(64), LONG(65), "a%2Fb", "é", "%C3%A9", "a+b", "x:y", "%00"]) : undefined;
      const session = r.chance(0.4) ? r.pick(["s", "", LONG(128), LONG(129), "00000000-0000-0000-0000-000000000000", "%00", "é"]) : undefined;
      const parts: string[] = [];
      if (device !== undefined) parts.push(`device=${device}`);
      if (session !== undefined) parts.push(`session=${session}`);
      const query = parts.join("&");
      const params = new URLSearchParams(query);
      const d = params.get("device");
      const s = params.get("session");
      let expect: Expect;
      if (d !== null && s !== null) expect = { statuses: [400], codes: ["bad_request"], fields: ["session", "device"] };
      else if (d !== null && !isDevice(d)) expect = { statuses: [400], fields: ["device"] };
      else if (s !== null && (s === "" || s.length > 128)) expect = { statuses: [400], fields: ["session"] };
      else expect = { statuses: [200] };
      cases.push({
        category: "query",
        name: `DELETE sessions?${query.slice(0, 40)}`,
        req: { method: "DELETE", target: `/v1/users/${user}/sessions${query === "" ? "" : `?${query}`}`, headers: [auth(ctx)] },
        expect,
      });
    }
  }
  return cases;
}

// ---------------------------------------------------------------- Authorization on server endpoints

export function authCases(r: Rng, ctx: FuzzContext, n: number): HttpCase[] {
  const cases: HttpCase[] = [];
  const key = ctx.apiKey;
  const clientToken = () => r.pick(ctx.tokens.good).token;
  const variants: Array<{ name: string; headers: Array<[string, string | Buffer]>; mayPass: boolean }> = [
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
    { name: "client-jwt", headers: [["Authorization", `Bearer ${clientToken()}`]], mayPass: false },
    { name: "jwt-secret", headers: [["Authorization", `Bearer ${ctx.jwtSecret}`]], mayPass: false },
    { name: "latin1", headers: [["Authorization", Buffer.from([0x42, 0x65, 0x61, 0x72, 0x65, 0x72, 0x20, 0xe9, 0xff])]], mayPass: false },
    { name: "huge", headers: [["Authorization", `Bearer ${LONG(16_000)}`]], mayPass: false },
    { name: "x-api-key", headers: [["X-API-Key", key]], mayPass: false },
    { name: "query-key", headers: [], mayPass: false },
    { name: "dup-header-bad-first", headers: [["Authorization", "Bearer nope"], ["Authorization", `Bearer ${key}`]], mayPass: false },
    { name: "dup-header-good-first", headers: [["Authorization", `Bearer ${key}`], ["Authorization", "Bearer nope"]], mayPass: false },
  ];
  const endpoints: Array<{ method: string; target: (u: string) => string; body?: string }> = [
    { method: "GET", target: () => "/v1/stats" },
    { method: "GET", target: (u) => `/v1/users/${u}/presence` },
    { method: "GET", target: (u) => `/v1/users/${u}/messages` },
    { method: "POST", target: (u) => `/v1/users/${u}/messages`, body: '{"data":{"auth":true},"ttl":0}' },
    { method: "DELETE", target: (u) => `/v1/users/${u}/sessions?device=nobody-${u}` },
    { method: "POST", target: () => "/v1/messages", body: `{"data":1,"ttl":0,"userIds":["${ctx.users[0] ?? "u"}"]}` },
  ];
  for (let i = 0; i < n; i++) {
    const v = r.pick(variants);
    const e = r.pick(endpoints);
    // The client-JWT case uses the token's own user: a client token never opens its own data either.
    const good = ctx.tokens.good[i % ctx.tokens.good.length];
    const user = v.name === "client-jwt" && good !== undefined ? good.sub : r.pick(ctx.users);
    const headers: Array<[string, string | Buffer]> = v.name === "client-jwt" && good !== undefined ? [["Authorization", `Bearer ${good.token}`]] : [...v.headers];
    let target = e.target(user);
    if (v.name === "query-key") target += `${target.includes("?") ? "&" : "?"}token=${key}&api_key=${key}`;
    if (e.body !== undefined) headers.push(["Content-Type", "application/json"]);
    cases.push({
      category: "auth",
      name: `${v.name} ${e.method} ${e.target(":u")}`,
      req: { method: e.method, target, headers, body: e.body },
      expect: v.mayPass ? { statuses: [200, 401] } : { statuses: [401], codes: ["unauthorized"] },
      runtimeMayRefuse: v.name === "latin1" || v.name === "huge",
    });
  }
  return cases;
}

// ---------------------------------------------------------------- batch

export function batchCases(r: Rng, ctx: FuzzContext, n: number): HttpCase[] {
  const cases: HttpCase[] = [];
  const entries = (): unknown[] => {
    const len = r.pick([1, 2, 5, 20]);
    return Array.from({ length: len }, () =>
      r.chance(0.6) ? r.pick(ctx.users) : r.pick<unknown>([null, 1, "", "a/b", LONG(129), { u: 1 }, ["x"], "é", "\ud800", true, LONG(128)]),
    );
  };
  for (let i = 0; i < n; i++) {
    const k = r.int(0, 5);
    let body: Record<string, unknown>;
    if (k === 0) body = { data: 1, ttl: 0, userIds: r.pick<unknown>(["a", 1, null, {}, [], "[]", true]) };
    else if (k === 1) body = { data: 1, ttl: 0, userIds: Array.from({ length: r.pick([1001, 1500, 5000]) }, (_, j) => `x${j}`) };
    else if (k === 2) body = { ttl: 0, userIds: [r.pick(ctx.users)] };
    else if (k === 3) body = { data: 1, ttl: 0, userIds: entries(), [r.pick(["id", "ttl", "device", "extra"])]: r.pick(oddValues(r)) };
    else body = { data: { batch: i }, ttl: r.pick([0, 0, 60]), userIds: entries() };
    const buf = Buffer.from(JSON.stringify(body));
    let expect: Expect;
    if (buf.length > 65_536) expect = { statuses: [413] };
    else {
      expect = pushExpect(buf, ["userIds"]);
      const ids = body.userIds;
      const idsBad = !Array.isArray(ids) || ids.length < 1 || ids.length > MAX_BATCH;
      if (idsBad) {
        const fields = new Set([...(expect.statuses.includes(200) ? [] : (expect.fields ?? [])), "userIds"]);
        expect = { statuses: [400], codes: ["bad_request"], fields: [...fields] };
      }
    }
    const userIds = body.userIds;
    cases.push({
      category: "batch",
      name: `batch k=${k}`,
      req: jsonPost(ctx, "/v1/messages", buf),
      expect,
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
    });
  }
  return cases;
}

// ---------------------------------------------------------------- connect

const WS_KEY = "dGhlIHNhbXBsZSBub25jZQ==";

export function connectCases(r: Rng, ctx: FuzzContext, n: number): HttpCase[] {
  const cases: HttpCase[] = [];
  const own = `http://127.0.0.1:${ctx.port}`;
  const origins: Array<{ value: string | Buffer | undefined; ok: boolean }> = [
    { value: undefined, ok: true },
    { value: own, ok: true },
    { value: ctx.allowedOrigin, ok: true },
    { value: "https://evil.example", ok: false },
    { value: "null", ok: false },
    // An empty Origin carries no origin: the runtime may drop the empty header (same as none).
    { value: "", ok: true },
    { value: `${ctx.allowedOrigin}/`, ok: false },
    { value: `${ctx.allowedOrigin}:443`, ok: false },
    { value: ctx.allowedOrigin.replace("https:", "http:"), ok: false },
    { value: ctx.allowedOrigin.toUpperCase(), ok: false },
    { value: `${ctx.allowedOrigin}.evil.example`, ok: false },
    { value: `https://127.0.0.1:${ctx.port}`, ok: false },
    { value: `http://localhost:${ctx.port}`, ok: false },
    { value: `${ctx.allowedOrigin}, https://evil.example`, ok: false },
    { value: Buffer.from("https://é.example", "utf8"), ok: false },
    { value: "file://", ok: false },
  ];
  for (let i = 0; i < n; i++) {
    const headers: Array<[string, string | Buffer]> = [];
    const params: string[] = [];
    const reasons: number[] = [];
    // Upgrade headers
    const upgrade = r.pick<string | undefined>(["websocket", "websocket", "websocket", "WebSocket", undefined, "h2c", "websocket, h2c", ""]);
    const isUpgrade = upgrade !== undefined && upgrade.toLowerCase() === "websocket";
    if (upgrade !== undefined) headers.push(["Upgrade", upgrade], ["Connection", "Upgrade"]);
    // Without a key or version 13 the runtime itself refuses the upgrade (400/426, plain text) after
    // the Worker answered 101; the object's socket is cleaned up (checked: no ghost sessions).
    const wsHeadersOk = r.chance(0.95);
    if (wsHeadersOk || r.chance(0.5)) headers.push(["Sec-WebSocket-Key", WS_KEY]);
    if (wsHeadersOk) headers.push(["Sec-WebSocket-Version", "13"]);
    else if (r.chance(0.5)) headers.push(["Sec-WebSocket-Version", r.pick(["8", "14", "x"])]);
    if (!isUpgrade) reasons.push(426);
    // Origin
    const origin = r.pick(origins);
    if (origin.value !== undefined) headers.push(["Origin", origin.value]);
    if (!origin.ok) reasons.push(403);
    // Token and where it travels. Precedence between transports is not part
    // of the contract: when the candidates disagree, either answer is accepted.
    const good = r.pick(ctx.tokens.good);
    const bad = r.pick(ctx.tokens.bad);
    const valid = new Set(ctx.tokens.good.map((t) => t.token));
    const token = r.chance(0.5) ? good.token : bad.token;
    const via = r.pick(["header", "protocol", "query", "none", "header-bad-protocol-good", "odd-header", "all"] as const);
    let protocols: string[] | undefined = r.chance(0.2) ? ["switchboard.v1"] : undefined;
    let headerValue: string | undefined;
    let queryToken: string | undefined;
    if (via === "header") headerValue = `Bearer ${token}`;
    else if (via === "protocol") protocols = r.chance(0.85) ? ["switchboard.v1", `bearer.${token}`] : [`bearer.${token}`];
    else if (via === "query") queryToken = token;
    else if (via === "header-bad-protocol-good") {
      headerValue = `Bearer ${bad.token || "x"}`;
      protocols = ["switchboard.v1", `bearer.${good.token}`];
    } else if (via === "odd-header") {
      headerValue = r.pick([`Basic ${good.token}`, good.token, "Bearer", `Bearer ${good.token} extra`, `bearer ${good.token}`, `Bearer  ${good.token}`]);
    } else if (via === "all") {
      headerValue = `Bearer ${r.pick([good.token, bad.token])}`;
      protocols = ["switchboard.v1", `bearer.${r.pick([good.token, bad.token])}`];
      queryToken = r.pick([good.token, bad.token]);
    }
    if (headerValue !== undefined) headers.push(["Authorization", headerValue]);
    if (queryToken !== undefined) params.push(`token=${encodeURIComponent(queryToken)}`);
    // Odd subprotocol lists
    if (r.chance(0.15)) {
      protocols = r.pick([
        [],
        [""],
        ["SWITCHBOARD.V1"],
        ["switchboard.v2"],
        ["switchboard.v1", "switchboard.v1"],
        ["chat", "superchat"],
        Array.from({ length: 200 }, (_, j) => `p${j}`),
        [...(protocols ?? []), "x"],
        [" switchboard.v1 "],
        ["switchboard.v1", "bearer."],
      ]);
    }
    let offered: string[] = [];
    if (protocols !== undefined) {
      const joined = r.chance(0.1) ? protocols.join(",,") : protocols.join(", ");
      headers.push(["Sec-WebSocket-Protocol", joined]);
      offered = joined
        .split(",")
        .map((p) => p.trim())
        .filter((p) => p !== "");
      if (offered.length > 0 && !offered.includes("switchboard.v1")) reasons.push(400);
    }
    const candidates: string[] = [];
    const fromHeader = headerValue === undefined ? undefined : /^Bearer +(\S+) *$/i.exec(headerValue)?.[1];
    if (fromHeader !== undefined) candidates.push(fromHeader);
    const fromList = offered.find((p) => p.startsWith("bearer."));
    if (fromList !== undefined) candidates.push(fromList.slice("bearer.".length));
    if (queryToken !== undefined) candidates.push(queryToken);
    const validCount = candidates.filter((t) => valid.has(t)).length;
    const authMixed = validCount > 0 && validCount < candidates.length;
    if (validCount === 0) reasons.push(401);
    // device / since
    if (r.chance(0.5)) {
      const device = r.pick(["phone", "d1", "", LONG(64), LONG(65), "a%2Fb", "%C3%A9", "a+b", "x:y@z", "%00", "dev%20ice"]);
      params.push(`device=${device}`);
      const d = new URLSearchParams(`device=${device}`).get("device");
      if (!isDevice(d)) reasons.push(400);
    }
    if (r.chance(0.4)) {
      const since = r.pick(SEQ_VALUES);
      params.push(`since=${since}`);
      if (seqValue(new URLSearchParams(`since=${since}`).get("since")) === undefined) reasons.push(400);
    }
    // An unknown query parameter is a 400 naming it (the token never picks the user either way).
    if (r.chance(0.05)) {
      params.push(`user=${r.pick(ctx.users)}`);
      reasons.push(400);
    }
    const target = `/v1/connect${params.length > 0 ? `?${params.join("&").replaceAll(" ", "%20")}` : ""}`;
    const expectStatuses = reasons.length === 0 ? [101, 429] : [...new Set(reasons)];
    if (authMixed) expectStatuses.push(401);
    if (authMixed && reasons.length === 0) expectStatuses.push(101);
    cases.push({
      category: "connect",
      name: `connect via=${via} token=${token === good.token ? good.kind : bad.kind} origin=${String(origin.value ?? "<none>").slice(0, 30)} reasons=${reasons.join(",")}`,
      req: { method: "GET", target, headers },
      expect: { statuses: expectStatuses },
      runtimeMayRefuse: Buffer.isBuffer(origin.value) || !wsHeadersOk,
      check: (res) => {
        if (res.status !== 101) return undefined;
        const answered = res.headers["sec-websocket-protocol"];
        if (offered.length > 0 && answered !== "switchboard.v1") return `101 answered subprotocol ${String(answered)} to ${JSON.stringify(offered.slice(0, 3))}`;
        if (offered.length === 0 && answered !== undefined) return `101 answered subprotocol ${answered} though none was offered`;
        if (answered !== undefined && answered.includes("bearer")) return "101 echoed the bearer token subprotocol";
        return undefined;
      },
    });
  }
  return cases;
}

// ---------------------------------------------------------------- odd headers

export function headerCases(r: Rng, ctx: FuzzContext, n: number): HttpCase[] {
  const cases: HttpCase[] = [];
  for (let i = 0; i < n; i++) {
    const k = r.int(0, 6);
    const headers: Array<[string, string | Buffer]> = [auth(ctx)];
    let name: string;
    if (k === 0) {
      const size = r.pick([1000, 8000, 30_000, 70_000]);
      headers.push(["X-Big", LONG(size)]);
      name = `big-header:${size}`;
    } else if (k === 1) {
      const count = r.pick([50, 200, 1000]);
      for (let j = 0; j < count; j++) headers.push([`X-H${j}`, "v"]);
      name = `many-headers:${count}`;
    } else if (k === 2) {
      headers.push(["X-Odd", Buffer.from([0x80, 0xff, 0xc3, 0x28])]);
      name = "non-ascii-header";
    } else if (k === 3) {
      headers.push(["Content-Length", "abc"]);
      name = "bad-content-length";
    } else if (k === 4) {
      headers.push(["Expect", "100-continue"], ["Content-Type", "application/json"]);
      name = "expect-continue";
    } else if (k === 5) {
      headers.push(["Host", "evil.example"], ["X-Forwarded-Host", "evil.example"], ["X-Forwarded-For", "1.2.3.4"]);
      name = "host-override";
    } else {
      headers.push(["Sec-WebSocket-Version", "8"], ["Upgrade", "websocket"], ["Connection", "Upgrade"]);
      name = "ws-version-8";
    }
    const target = r.pick(["/v1/stats", `/v1/users/${r.pick(ctx.users)}/presence`, "/healthz"]);
    cases.push({
      category: "headers",
      name,
      req: { method: "GET", target, headers },
      expect: { statuses: [200, 400, 404, 413, 426, 431] },
      runtimeMayRefuse: true,
    });
  }
  return cases;
}

// ---------------------------------------------------------------- evaluation

export function evaluate(c: HttpCase, res: RawResponse): { violation?: string; runtimeRefusal?: boolean } {
  if (res.error !== undefined && res.status === 0) {
    // The runtime may drop a connection it cannot parse (no response at all).
    if (c.runtimeMayRefuse === true && res.error !== "timeout") return { runtimeRefusal: true };
    return { violation: `no response (${res.error})` };
  }
  const shape = res.status >= 400 ? errorShape(res.body) : undefined;
  // workerd's own HTTP server answers an unrecognised method 501 before any Worker code runs.
  if (res.status === 501 && shape === undefined && c.runtimeMayRefuse === true) return { runtimeRefusal: true };
  if (res.status >= 500) return { violation: `${res.status}: ${res.body.toString("utf8").slice(0, 200)}` };
  if (res.status >= 400 && shape === undefined) {
    if (c.runtimeMayRefuse === true) return { runtimeRefusal: true };
    // A HEAD answer has no body (RFC 9110 §9.3.2); only its status can be checked.
    if (c.req.method === "HEAD" && c.expect.statuses.includes(res.status)) return {};
    return { violation: `${res.status} without the {error:{code,message}} body: ${res.body.toString("utf8").slice(0, 120)}` };
  }
  if (!c.expect.statuses.includes(res.status)) {
    return { violation: `status ${res.status}, expected ${c.expect.statuses.join("/")}${shape ? ` (${shape.code}: ${shape.message})` : ""}` };
  }
  if (shape !== undefined) {
    if (c.expect.codes !== undefined && !c.expect.codes.includes(shape.code)) return { violation: `code ${shape.code}, expected ${c.expect.codes.join("/")}` };
    if (res.status === 400 && c.expect.fields !== undefined && (shape.field === undefined || !c.expect.fields.includes(shape.field))) {
      return { violation: `400 names field ${String(shape.field)}, expected one of ${c.expect.fields.slice(0, 5).join("/")}` };
    }
  }
  const extra = c.check?.(res);
  return extra === undefined ? {} : { violation: extra };
}

export { isName };
