/**
 * One generated HTTP input with the contract's expected answer, and the
 * evaluation of an answer against it (the oracle's verdicts come from
 * scripts/lib/contract.ts). Shared by the HTTP lanes: push.ts, paths.ts,
 * auth.ts, connect.ts.
 */
import type { Expect } from "../contract.ts";
import { errorShape, type RawRequest, type RawResponse } from "../rawHttp.ts";

export interface HttpCase {
  category: string;
  name: string;
  req: RawRequest;
  expect: Expect;
  /** The runtime (not the app) may refuse this malformed HTTP with its own non-JSON 4xx. */
  runtimeMayRefuse?: boolean;
  /**
   * The body is over the limit: the server may answer 413 and close without
   * reading the rest (workerd does no lingering close, RFC 9112 §9.6), so the
   * client's write can fail (EPIPE/ECONNRESET) before the answer is read.
   */
  mayReset?: boolean;
  /** Extra check on a response that met `expect`; returns a violation or undefined. */
  check?: (res: RawResponse) => string | undefined;
}

export interface TokenPool {
  /** Good tokens: token → its sub. */
  good: Array<{ token: string; sub: string; kind: string }>;
  /** Tokens that must be refused, with why. */
  bad: Array<{ token: string; kind: string }>;
}

/** Limits the oracle assumes; `--inject-oracle` lowers them (a wrong oracle) to prove the checkers fail. */
export interface OracleLimits {
  bodyBytes: number;
  frameBytes: number;
}

export interface FuzzContext {
  port: number;
  apiKey: string;
  jwtSecret: string;
  users: readonly string[];
  tokens: TokenPool;
  allowedOrigin: string;
  limits: OracleLimits;
}

export function auth(ctx: FuzzContext): [string, string] {
  return ["Authorization", `Bearer ${ctx.apiKey}`];
}

export function jsonPost(ctx: FuzzContext, target: string, body: string | Buffer, contentType = "application/json"): RawRequest {
  return { method: "POST", target, headers: [auth(ctx), ["Content-Type", contentType]], body };
}

export const pushPath = (user: string): string => `/v1/users/${user}/messages`;

/** A push answered 200 must carry its documented fields. */
export function pushAnswerCheck(res: RawResponse): string | undefined {
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

/** A short, printable description of a case (for counterexamples). */
export function describeCase(c: HttpCase): string {
  const target = typeof c.req.target === "string" ? c.req.target : c.req.target.toString("latin1");
  const body = c.req.body === undefined ? "" : typeof c.req.body === "string" ? c.req.body : c.req.body.toString("latin1");
  const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s);
  const headers = (c.req.headers ?? []).map(([k, v]) => `${k}: ${clip(typeof v === "string" ? v : v.toString("latin1"), 60)}`);
  return `${c.name} — ${c.req.method} ${clip(target, 120)} [${clip(headers.join("; "), 300)}]${body === "" ? "" : ` body ${JSON.stringify(clip(body, 200))}`}`;
}

export function evaluate(c: HttpCase, res: RawResponse): { violation?: string; runtimeRefusal?: boolean } {
  if (res.error !== undefined && res.status === 0) {
    // The runtime may drop a connection it cannot parse (no response at all).
    if (c.runtimeMayRefuse === true && res.error !== "timeout") return { runtimeRefusal: true };
    if (c.mayReset === true && /EPIPE|ECONNRESET/.test(res.error)) return { runtimeRefusal: true };
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
