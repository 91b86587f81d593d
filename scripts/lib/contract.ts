/**
 * The wire contract (shared/API.md + docs/http-api.md and docs/protocol.md) as an oracle for the suites:
 * what the service must answer for a given input, written from the documents,
 * not from src/. Where the documents leave an order open (several things wrong
 * at once), the oracle accepts any of the applicable refusals.
 */

export const NAME_CHARS = /^[A-Za-z0-9._:@-]+$/;
export const isName = (v: unknown, max: number): v is string => typeof v === "string" && v.length >= 1 && v.length <= max && NAME_CHARS.test(v);
export const isUserId = (v: unknown): v is string => isName(v, 128);
export const isDevice = (v: unknown): v is string => isName(v, 64);

export const MAX_TTL = 604_800;
export const MAX_BATCH = 1000;
export const MAX_FRAME_BYTES = 4096;

/** Every HTTP status the service documents. */
export const DOCUMENTED_STATUS = new Set([101, 200, 400, 401, 403, 404, 405, 413, 415, 426, 429, 503]);
/** Close codes the service documents, plus the RFC 6455 codes the runtime itself uses for protocol errors. */
export const DOCUMENTED_CLOSE = new Set([1000, 1008, 1009, 1011, 4001, 4002, 4003, 4029]);
export const RUNTIME_CLOSE = new Set([1002, 1006, 1007]);
/** Error-frame codes (docs/protocol.md). */
export const FRAME_ERRORS = new Set(["bad_json", "bad_frame", "unknown_type", "binary_not_supported", "bad_ack", "bad_auth", "internal"]);

/** `since`/`limit`-like values: decimal digits, 0 … 2^53-1. */
export function seqValue(raw: string | null): number | undefined {
  if (raw === null || !/^\d{1,16}$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

export interface Expect {
  /** Acceptable statuses. */
  statuses: number[];
  /** When refused with 400: acceptable `field` values (any if undefined). */
  fields?: string[];
  /** When refused: acceptable error codes (any if undefined). */
  codes?: string[];
}

/** `application/json` with optional parameters, case-insensitive. */
export function isJsonType(ct: string | undefined): boolean {
  if (ct === undefined) return false;
  return (ct.split(";")[0] ?? "").trim().toLowerCase() === "application/json";
}

const PUSH_FIELDS = ["data", "id", "ttl", "device", "exceptDevice", "exceptSession"] as const;

function fieldProblem(name: string, value: unknown): boolean {
  switch (name) {
    case "data":
      return false;
    case "id":
      return !isName(value, 128);
    case "ttl":
      return typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_TTL;
    case "device":
    case "exceptDevice":
      return !isName(value, 64);
    case "exceptSession":
      return !isName(value, 128);
    default:
      return true;
  }
}

/** Nesting depth of a JSON value (iterative, so any depth is safe here). */
export function depthOf(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== "object" || v === null) continue;
    if (d > max) max = d;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** Depth beyond which `data` may be refused as "nested too deeply" (the runtime's JSON.stringify stack). */
const SAFE_DEPTH = 1000;

/** The answer to a push body (already past auth, size and content type), from its bytes. */
export function pushExpect(body: Buffer, extraFields: readonly string[] = []): Expect {
  // JSON text is UTF-8 (RFC 8259 §8.1): invalid sequences are refused, never
  // replaced with U+FFFD; a leading BOM is dropped (docs/http-api.md).
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    return { statuses: [400], fields: ["body"], codes: ["bad_json"] };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { statuses: [400], codes: ["bad_request"] };
  const obj = value as Record<string, unknown>;
  const allowed = new Set<string>([...PUSH_FIELDS, ...extraFields]);
  const bad: string[] = [];
  if (!Object.hasOwn(obj, "data")) bad.push("data");
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) bad.push(key.slice(0, 64));
    else if (PUSH_FIELDS.includes(key as (typeof PUSH_FIELDS)[number]) && fieldProblem(key, obj[key])) bad.push(key);
  }
  if (bad.length > 0) return { statuses: [400], codes: ["bad_request"], fields: [...bad, "body"] };
  // device with exceptDevice means nothing (README "Push to a user"): refused, naming exceptDevice.
  if (obj.device !== undefined && obj.exceptDevice !== undefined) return { statuses: [400], codes: ["bad_request"], fields: ["exceptDevice"] };
  if (depthOf(obj.data) > SAFE_DEPTH) return { statuses: [200, 400], fields: ["data"] };
  return { statuses: [200] };
}
