/**
 * Paths and userId injection (encoded, dotted, raw bytes, overlong) and query
 * strings (since/limit, device/session), as fast-check arbitraries of HttpCase.
 */
import fc from "fast-check";
import { isDevice, isUserId, seqValue, type Expect } from "../contract.ts";
import type { RawRequest } from "../rawHttp.ts";
import { auth, type FuzzContext, type HttpCase } from "./cases.ts";
import { chance, LONG, maybe, pick } from "./arb.ts";

const SEGMENTS = [
  "alice",
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

const RAW_UNICODE = ["é", "用户", "\u202e", "😀", "\ufeff"];

function segmentArb(users: readonly string[]): fc.Arbitrary<string | Buffer> {
  return fc.oneof(
    { arbitrary: pick(SEGMENTS), weight: 6 },
    { arbitrary: fc.tuple(pick(users), pick(SEGMENTS)).map(([u, s]) => u + s), weight: 1 },
    { arbitrary: fc.tuple(pick([128, 129, 4000]), pick(["a", "%41", "."])).map(([n, c]) => LONG(n, c)), weight: 1 },
    { arbitrary: pick(RAW_UNICODE).map((s) => Buffer.from(s, "utf8")), weight: 1 },
    { arbitrary: pick([0x80, 0xff, 0xed, 0xa0, 0x20, 0x09, 0x7f, 0x00]).map((b) => Buffer.from([0x61, b, 0x62])), weight: 1 },
  );
}

function userPathArb(ctx: FuzzContext): fc.Arbitrary<HttpCase> {
  return fc.tuple(segmentArb(ctx.users), pick(["presence", "messages-get", "messages-post", "sessions-delete"] as const)).map(([seg, kind]): HttpCase => {
    const segText = typeof seg === "string" ? seg : seg.toString("latin1");
    const suffix = kind === "presence" ? "presence" : kind === "sessions-delete" ? "sessions" : "messages";
    const target = Buffer.concat([Buffer.from("/v1/users/"), typeof seg === "string" ? Buffer.from(seg) : seg, Buffer.from(`/${suffix}`)]);
    const method = kind === "messages-post" ? "POST" : kind === "sessions-delete" ? "DELETE" : "GET";
    const decoded = typeof seg === "string" ? decodeSegment(seg) : undefined;
    const validAfterDecode = decoded !== undefined && isUserId(decoded);
    // Dot segments and backslashes may be normalised by the URL parser into another route.
    const mayReroute =
      /(^|\/)(\.|%2e){1,2}$/i.test(segText) ||
      /^(\.|%2e){1,2}(%2f|\/|\\|%5c)/i.test(segText) ||
      segText.includes("\\") ||
      segText === "" ||
      segText.includes("/");
    const req: RawRequest = { method, target, headers: [auth(ctx)] };
    if (method === "POST") {
      req.headers?.push(["Content-Type", "application/json"]);
      req.body = JSON.stringify({ data: { injected: segText.slice(0, 50) } });
    }
    return {
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
    };
  });
}

/** Paths outside the routes. */
const OTHERS = [
  "/",
  "/v1",
  "/v1/",
  "/v1/users",
  "/v1/users/",
  "/v1/users/a",
  "/v1/users/a/",
  "/v1/users/a/b",
  "/v1/users/a/messages/1",
  "/v2/stats",
  "/V1/stats",
  "/v1/stats/",
  "//v1/stats",
  "/v1//stats",
  "/v1/stats?x=%ZZ",
  "/v1/stats#frag",
  "/dev/token?user=a",
  "/dev/push?user=a",
  "/dev/presence?user=a",
  "/healthz/..",
  "/%2e%2e/v1/stats",
  "/v1/%2e%2e/v1/stats",
  "*",
  "http://evil.example/v1/stats",
  "/v1/connect/../stats",
];

function otherPathArb(ctx: FuzzContext): fc.Arbitrary<HttpCase> {
  return fc.tuple(pick(OTHERS), chance(0.3)).map(([target, noAuth]): HttpCase => ({
    category: "path",
    name: `GET ${target}${noAuth ? " (no key)" : ""}`,
    req: { method: "GET", target, headers: noAuth ? [] : [auth(ctx)] },
    expect: { statuses: [200, 400, 401, 404, 426] },
    runtimeMayRefuse: target === "*" || target.startsWith("http:"),
    check: (res) =>
      res.status === 200 && noAuth && target.includes("/v1") && !target.includes("connect") ? `${target} without API key answered 200` : undefined,
  }));
}

export function pathArb(ctx: FuzzContext): fc.Arbitrary<HttpCase> {
  return fc.oneof({ arbitrary: userPathArb(ctx), weight: 6 }, { arbitrary: otherPathArb(ctx), weight: 1 });
}

export const SEQ_VALUES = [
  "0",
  "1",
  "5",
  "1000",
  "1001",
  "-1",
  "1.5",
  "1e3",
  "0x10",
  "",
  " 1",
  "1 ",
  "+1",
  "%2B1",
  "01",
  "0001",
  "9007199254740991",
  "9007199254740992",
  "99999999999999999999",
  "١",
  "１",
  "NaN",
  "null",
  "true",
  "[1]",
  "%00",
  "1%00",
  "1&since=2",
  "%ZZ",
  LONG(300, "9"),
];

function messagesQueryArb(ctx: FuzzContext): fc.Arbitrary<HttpCase> {
  return fc
    .record({ user: pick(ctx.users), since: maybe(0.8, pick(SEQ_VALUES)), limit: maybe(0.6, pick(SEQ_VALUES)), again: maybe(0.1, pick(SEQ_VALUES)) })
    .map(({ user, since, limit, again }): HttpCase => {
      const parts: string[] = [];
      if (since !== undefined) parts.push(`since=${since}`);
      if (limit !== undefined) parts.push(`limit=${limit}`);
      if (again !== undefined) parts.push(`since=${again}`);
      const query = parts.join("&");
      const params = new URLSearchParams(query);
      const s = params.get("since");
      const l = params.get("limit");
      const sOk = s === null || seqValue(s) !== undefined;
      const lv = l === null ? 100 : seqValue(l);
      const lOk = lv !== undefined && lv >= 1 && lv <= 1000;
      const fields = [...(sOk ? [] : ["since"]), ...(lOk ? [] : ["limit"])];
      // A single-valued key given twice is refused, naming it (docs/http-api.md).
      if (since !== undefined && again !== undefined) fields.push("since");
      return {
        category: "query",
        name: `messages?${query.slice(0, 40)}`,
        req: { method: "GET", target: `/v1/users/${user}/messages${query === "" ? "" : `?${query.replaceAll(" ", "%20")}`}`, headers: [auth(ctx)] },
        expect: fields.length === 0 ? { statuses: [200] } : { statuses: [400], fields, codes: ["bad_request"] },
      };
    });
}

function sessionsQueryArb(ctx: FuzzContext): fc.Arbitrary<HttpCase> {
  return fc
    .record({
      user: pick(ctx.users),
      device: maybe(0.5, pick(["d1", "", LONG(64), LONG(65), "a%2Fb", "é", "%C3%A9", "a+b", "x:y", "%00"])),
      session: maybe(0.4, pick(["s", "", LONG(128), LONG(129), "00000000-0000-0000-0000-000000000000", "%00", "é"])),
    })
    .map(({ user, device, session }): HttpCase => {
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
      return {
        category: "query",
        name: `DELETE sessions?${query.slice(0, 40)}`,
        req: { method: "DELETE", target: `/v1/users/${user}/sessions${query === "" ? "" : `?${query}`}`, headers: [auth(ctx)] },
        expect,
      };
    });
}

export function queryArb(ctx: FuzzContext): fc.Arbitrary<HttpCase> {
  return fc.oneof({ arbitrary: messagesQueryArb(ctx), weight: 3 }, { arbitrary: sessionsQueryArb(ctx), weight: 2 });
}
