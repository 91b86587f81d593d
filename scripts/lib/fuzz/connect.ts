/**
 * Connect requests (GET /v1/connect): Upgrade headers, Origin, the token and
 * where it travels (header, subprotocol, query, several at once), odd
 * subprotocol lists, device and since — as a fast-check arbitrary of HttpCase
 * whose expectation is every refusal that applies (the contract leaves their
 * order open).
 */
import fc from "fast-check";
import { isDevice, seqValue } from "../contract.ts";
import { randomTokenArb } from "./auth.ts";
import type { FuzzContext, HttpCase } from "./cases.ts";
import { chance, LONG, maybe, pick } from "./arb.ts";
import { SEQ_VALUES } from "./paths.ts";

const WS_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const VIAS = ["header", "protocol", "query", "none", "header-bad-protocol-good", "odd-header", "all"] as const;

function origins(ctx: FuzzContext): Array<{ value: string | Buffer | undefined; ok: boolean }> {
  return [
    { value: undefined, ok: true },
    { value: `http://127.0.0.1:${ctx.port}`, ok: true },
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
}

const ODD_PROTOCOLS: Array<string[] | "append-x"> = [
  [],
  [""],
  ["SWITCHBOARD.V1"],
  ["switchboard.v2"],
  ["switchboard.v1", "switchboard.v1"],
  ["chat", "superchat"],
  Array.from({ length: 200 }, (_, j) => `p${j}`),
  "append-x",
  [" switchboard.v1 "],
  ["switchboard.v1", "bearer."],
];

function choicesArb(ctx: FuzzContext) {
  const bad = fc.oneof({ arbitrary: pick(ctx.tokens.bad), weight: 3 }, { arbitrary: randomTokenArb.map((token) => ({ token, kind: "random" })), weight: 1 });
  return fc.record({
    upgrade: pick<string | undefined>(["websocket", "websocket", "websocket", "WebSocket", undefined, "h2c", "websocket, h2c", ""]),
    // Without a key or version 13 the runtime itself refuses the upgrade (400/426, plain text) after
    // the Worker answered 101; the object's socket is cleaned up (checked: no ghost sessions).
    wsHeadersBroken: chance(0.05),
    keyWhenBroken: fc.boolean(),
    versionWhenBroken: maybe(0.5, pick(["8", "14", "x"])),
    origin: pick(origins(ctx)),
    good: pick(ctx.tokens.good),
    bad,
    useBad: fc.boolean(),
    via: pick(VIAS),
    plainProtocol: chance(0.2),
    onlyBearer: chance(0.15),
    oddHeader: fc.nat(5),
    allPicks: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
    oddProtocols: maybe(0.15, pick(ODD_PROTOCOLS)),
    doubleCommas: chance(0.1),
    device: maybe(0.5, pick(["phone", "d1", "", LONG(64), LONG(65), "a%2Fb", "%C3%A9", "a+b", "x:y@z", "%00", "dev%20ice"])),
    since: maybe(0.4, pick(SEQ_VALUES)),
    user: maybe(0.05, pick(ctx.users)),
  });
}

export function connectArb(ctx: FuzzContext): fc.Arbitrary<HttpCase> {
  const valid = new Set(ctx.tokens.good.map((t) => t.token));
  return choicesArb(ctx).map((ch): HttpCase => {
    const headers: Array<[string, string | Buffer]> = [];
    const params: string[] = [];
    const reasons: number[] = [];
    const isUpgrade = ch.upgrade !== undefined && ch.upgrade.toLowerCase() === "websocket";
    if (ch.upgrade !== undefined) headers.push(["Upgrade", ch.upgrade], ["Connection", "Upgrade"]);
    const wsHeadersOk = !ch.wsHeadersBroken;
    if (wsHeadersOk || ch.keyWhenBroken) headers.push(["Sec-WebSocket-Key", WS_KEY]);
    if (wsHeadersOk) headers.push(["Sec-WebSocket-Version", "13"]);
    else if (ch.versionWhenBroken !== undefined) headers.push(["Sec-WebSocket-Version", ch.versionWhenBroken]);
    if (!isUpgrade) reasons.push(426);
    if (ch.origin.value !== undefined) headers.push(["Origin", ch.origin.value]);
    if (!ch.origin.ok) reasons.push(403);
    // Token and where it travels. Precedence between transports is not part
    // of the contract: when the candidates disagree, either answer is accepted.
    const { good, bad, via } = ch;
    const token = ch.useBad ? bad.token : good.token;
    let protocols: string[] | undefined = ch.plainProtocol ? ["switchboard.v1"] : undefined;
    let headerValue: string | undefined;
    let queryToken: string | undefined;
    if (via === "header") headerValue = `Bearer ${token}`;
    else if (via === "protocol") protocols = ch.onlyBearer ? [`bearer.${token}`] : ["switchboard.v1", `bearer.${token}`];
    else if (via === "query") queryToken = token;
    else if (via === "header-bad-protocol-good") {
      headerValue = `Bearer ${bad.token || "x"}`;
      protocols = ["switchboard.v1", `bearer.${good.token}`];
    } else if (via === "odd-header") {
      headerValue = [`Basic ${good.token}`, good.token, "Bearer", `Bearer ${good.token} extra`, `bearer ${good.token}`, `Bearer  ${good.token}`][ch.oddHeader];
    } else if (via === "all") {
      const [h, p, q] = ch.allPicks;
      headerValue = `Bearer ${h ? bad.token : good.token}`;
      protocols = ["switchboard.v1", `bearer.${p ? bad.token : good.token}`];
      queryToken = q ? bad.token : good.token;
    }
    if (headerValue !== undefined) headers.push(["Authorization", headerValue]);
    if (queryToken !== undefined) params.push(`token=${encodeURIComponent(queryToken)}`);
    if (ch.oddProtocols !== undefined) protocols = ch.oddProtocols === "append-x" ? [...(protocols ?? []), "x"] : ch.oddProtocols;
    let offered: string[] = [];
    if (protocols !== undefined) {
      const joined = ch.doubleCommas ? protocols.join(",,") : protocols.join(", ");
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
    if (ch.device !== undefined) {
      params.push(`device=${ch.device}`);
      if (!isDevice(new URLSearchParams(`device=${ch.device}`).get("device"))) reasons.push(400);
    }
    if (ch.since !== undefined) {
      params.push(`since=${ch.since}`);
      if (seqValue(new URLSearchParams(`since=${ch.since}`).get("since")) === undefined) reasons.push(400);
    }
    // An unknown query parameter is a 400 naming it (the token picks the user either way).
    if (ch.user !== undefined) {
      params.push(`user=${ch.user}`);
      reasons.push(400);
    }
    const target = `/v1/connect${params.length > 0 ? `?${params.join("&").replaceAll(" ", "%20")}` : ""}`;
    const expectStatuses = reasons.length === 0 ? [101, 429] : [...new Set(reasons)];
    if (authMixed) expectStatuses.push(401);
    if (authMixed && reasons.length === 0) expectStatuses.push(101);
    return {
      category: "connect",
      name: `connect via=${via} token=${ch.useBad ? bad.kind : good.kind} origin=${String(ch.origin.value ?? "<none>").slice(0, 30)} reasons=${reasons.join(",")}`,
      req: { method: "GET", target, headers },
      expect: { statuses: expectStatuses },
      runtimeMayRefuse: Buffer.isBuffer(ch.origin.value) || !wsHeadersOk,
      check: (res) => {
        if (res.status !== 101) return undefined;
        const answered = res.headers["sec-websocket-protocol"];
        if (offered.length > 0 && answered !== "switchboard.v1")
          return `101 answered subprotocol ${String(answered)} to ${JSON.stringify(offered.slice(0, 3))}`;
        if (offered.length === 0 && answered !== undefined) return `101 answered subprotocol ${answered} though none was offered`;
        if (answered !== undefined && answered.includes("bearer")) return "101 echoed the bearer token subprotocol";
        return undefined;
      },
    };
  });
}
