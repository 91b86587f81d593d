/**
 * A device's Web Push subscription: the JSON of the browser's
 * `PushSubscription` (`subscription.toJSON()`), checked field by field so a
 * bad one is refused at registration (a 400 naming the field) rather than
 * failing at every push later.
 */
import * as v from "valibot";
import type { Checked } from "../util/checked.ts";
import { base64UrlBytes } from "./config.ts";
import { nonPublicHost } from "./endpointHost.ts";
import { isP256Point } from "./p256.ts";

/** Push service URLs are long (FCM's are ~190 characters); this bounds what a client can make us store. */
export const MAX_ENDPOINT_CHARS = 2048;

export interface WebPushSubscription {
  endpoint: string;
  /** base64url, 65-byte uncompressed P-256 point: the user agent's ECDH key (RFC 8291 §3.1). */
  p256dh: string;
  /** base64url, 16 bytes: the authentication secret (RFC 8291 §3.2). */
  auth: string;
  /** When the browser says the subscription ends (ms), if it says. */
  expirationTime: number | null;
}

function endpointProblem(raw: string, allowHttp: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "endpoint must be an absolute URL";
  }
  // RFC 8030 §8: a push resource is https. http only for a local fake push service in dev mode.
  if (url.protocol !== "https:" && !(allowHttp && url.protocol === "http:")) {
    return allowHttp ? "endpoint must be an https: (or, in dev mode, http:) URL" : "endpoint must be an https: URL";
  }
  if (url.username !== "" || url.password !== "") return "endpoint must not carry credentials";
  // A local fake push service is fine in dev mode; a deployment never calls a private address a client named.
  const notPublic = allowHttp ? undefined : nonPublicHost(url);
  if (notPublic !== undefined) return `endpoint's host is ${notPublic}: a push service must be public (private hosts only under DEV_MODE=1)`;
  return undefined;
}

const schema = (allowHttp: boolean) =>
  v.object(
    {
      endpoint: v.pipe(
        v.string("endpoint must be a string"),
        v.maxLength(MAX_ENDPOINT_CHARS, `endpoint must be at most ${MAX_ENDPOINT_CHARS} characters`),
        v.description("the push service URL: https on a public host (http and private hosts only under DEV_MODE=1), no credentials"),
        v.rawCheck(({ dataset, addIssue }) => {
          if (!dataset.typed) return;
          const problem = endpointProblem(dataset.value, allowHttp);
          if (problem !== undefined) addIssue({ message: problem });
        }),
      ),
      keys: v.object(
        {
          p256dh: v.pipe(
            v.string("keys.p256dh must be a string"),
            v.check((s) => isP256Point(base64UrlBytes(s)), "keys.p256dh must be base64url of a 65-byte uncompressed point on P-256"),
            v.description("base64url of the browser's 65-byte uncompressed P-256 ECDH key"),
          ),
          auth: v.pipe(
            v.string("keys.auth must be a string"),
            v.check((s) => base64UrlBytes(s)?.byteLength === 16, "keys.auth must be base64url of 16 bytes"),
            v.description("base64url of the 16-byte authentication secret"),
          ),
        },
        "keys must be an object with p256dh and auth",
      ),
      expirationTime: v.optional(
        v.nullable(
          v.pipe(
            v.number("expirationTime must be a number or null"),
            v.integer("expirationTime must be an integer (ms)"),
            v.minValue(0, "expirationTime must be at least 0"),
          ),
        ),
      ),
    },
    "body must be a PushSubscription JSON object",
  );

const schemas = { http: schema(true), https: schema(false) };

/** The registration body as a deployment (DEV_MODE off) checks it: for the OpenAPI document. */
export const SUBSCRIPTION_SCHEMA = schemas.https;

/** Narrow a registration body; `allowHttp` only under DEV_MODE=1. */
export function parseSubscription(input: unknown, allowHttp: boolean): Checked<WebPushSubscription> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, field: "body", message: "body must be a PushSubscription JSON object" };
  }
  const result = v.safeParse(allowHttp ? schemas.http : schemas.https, input, { abortEarly: true });
  if (!result.success) {
    const issue = result.issues[0];
    const field = issue.path?.map((p) => String(p.key)).join(".") || "body";
    // A missing key reports the parent's path plus the key; say "keys.auth is required", not "must be a string".
    const message = issue.input === undefined ? `${field} is required` : issue.message;
    return { ok: false, field, message };
  }
  const { endpoint, keys, expirationTime } = result.output;
  return {
    ok: true,
    value: { endpoint, p256dh: keys.p256dh.replace(/=+$/, ""), auth: keys.auth.replace(/=+$/, ""), expirationTime: expirationTime ?? null },
  };
}
