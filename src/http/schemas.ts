/**
 * Request bodies of the server API, as valibot schemas. Unknown fields are
 * refused (a typo like `exceptDevices` would otherwise silently widen a push).
 */
import * as v from "valibot";
import type { Checked } from "../util/checked";
import { MAX_BATCH_USERS, MAX_TTL } from "../config";
import { DEVICE_MAX, isName, MESSAGE_ID_MAX, nameRule } from "@switchboard/protocol";

const name = (max: number, what: string) =>
  v.pipe(
    v.string(`${what} must be a string`),
    v.check((s) => isName(s, max), nameRule(what, max)),
  );

/** RFC 8030 §5.4: a topic is at most 32 characters of the URL-safe base64 alphabet. */
export const WEBPUSH_TOPIC = /^[A-Za-z0-9_-]{1,32}$/;

const webpushObject = v.strictObject(
  {
    urgency: v.optional(v.picklist(["very-low", "low", "normal", "high"], "webpush.urgency must be very-low, low, normal or high")),
    topic: v.optional(v.pipe(v.string("webpush.topic must be a string"), v.regex(WEBPUSH_TOPIC, "webpush.topic must be 1-32 characters of A-Z a-z 0-9 - _"))),
  },
  (issue) => `webpush has an unknown field${typeof issue.input === "string" ? `: ${issue.input.slice(0, 64)}` : ""} (it takes urgency and topic)`,
);
const webpushField = v.optional(v.union([v.boolean(), webpushObject], "webpush must be true, false or {urgency, topic}"));

/**
 * An event name is a device-like name that a Pusher socket can carry as its event: pusher-js
 * treats `pusher:…` and `pusher_internal:…` as protocol (a `pusher:error` push became a
 * connection error, never an app event), and Pusher's own API refuses them as this one's
 * Pusher routes do (src/pusher/schemas.ts).
 */
export const RESERVED_EVENT_PREFIX = /^pusher(_internal)?:/;
// One check, so src/http/openapi.ts still reads it as a name check (its pattern cannot say "not this prefix").
const eventName = v.pipe(
  v.string("event must be a string"),
  v.check(
    (s) => isName(s, DEVICE_MAX) && !RESERVED_EVENT_PREFIX.test(s),
    `${nameRule("event", DEVICE_MAX)}, not starting with pusher: or pusher_internal: (reserved by the Pusher protocol)`,
  ),
);

const deliveryFields = {
  data: v.unknown(),
  id: v.optional(name(MESSAGE_ID_MAX, "id")),
  event: v.optional(eventName),
  ttl: v.optional(
    v.pipe(
      v.number("ttl must be a number"),
      v.integer("ttl must be an integer"),
      v.minValue(0, "ttl must be at least 0"),
      v.maxValue(MAX_TTL, `ttl must be at most ${MAX_TTL}`),
    ),
  ),
  webpush: webpushField,
};

const targetFields = {
  device: v.optional(name(DEVICE_MAX, "device")),
  exceptDevice: v.optional(name(DEVICE_MAX, "exceptDevice")),
  exceptSession: v.optional(name(128, "exceptSession")),
};

export const PushBody = v.strictObject({ ...deliveryFields, ...targetFields }, (issue) => unknownField(issue));

export const BatchBody = v.strictObject(
  {
    ...deliveryFields,
    ...targetFields,
    userIds: v.pipe(
      v.array(v.unknown(), "userIds must be an array"),
      v.minLength(1, "userIds must not be empty"),
      v.maxLength(MAX_BATCH_USERS, `userIds may hold at most ${MAX_BATCH_USERS} users`),
    ),
  },
  (issue) => unknownField(issue),
);

export const BroadcastBody = v.strictObject({ ...deliveryFields }, (issue) => unknownField(issue));

export type PushBody = v.InferOutput<typeof PushBody>;
export type BatchBody = v.InferOutput<typeof BatchBody>;
export type BroadcastBody = v.InferOutput<typeof BroadcastBody>;

function unknownField(issue: v.StrictObjectIssue | v.ObjectIssue): string {
  if (issue.kind === "schema" && issue.type === "strict_object" && typeof issue.input === "string") {
    return `unknown field: ${issue.input.slice(0, 64)}`;
  }
  return "body must be a JSON object";
}

/**
 * Validate and name the first offending field (`data` when it is missing).
 * A body that is not an object (`"text"`, `42`, `null`, `[1,2]`) has no
 * fields to name: valibot would report its value as an unknown key.
 */
export function check<S extends v.GenericSchema>(schema: S, input: unknown): Checked<v.InferOutput<S>> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, message: "body must be a JSON object" };
  }
  if (!("data" in input)) return { ok: false, field: "data", message: "data is required" };
  const result = v.safeParse(schema, input, { abortEarly: true });
  if (result.success) return { ok: true, value: result.output };
  const { issue, path } = deepest(result.issues[0]);
  const field = path.join(".") || (issue.type === "strict_object" ? String(issue.input) : "body");
  return { ok: false, field: field.slice(0, 64), message: issue.message };
}

/**
 * A union's own issue says only "none matched"; when one option got into the
 * input (webpush: {urgency: "asap"} is an object with a bad field), name that
 * option's field instead. An option's issues have paths relative to the union.
 */
function deepest(issue: v.BaseIssue<unknown>, prefix: string[] = []): { issue: v.BaseIssue<unknown>; path: string[] } {
  const path = [...prefix, ...(issue.path?.map((p) => String(p.key)) ?? [])];
  const inner = issue.issues?.filter((i) => (i.path?.length ?? 0) > 0)[0];
  return inner === undefined ? { issue, path } : deepest(inner, path);
}

/**
 * The targeting fields combine as filters that must all pass: `device` keeps
 * one device's sessions, `exceptDevice` drops one device's, `exceptSession`
 * drops one session. `device` with `exceptDevice` can only mean "nothing"
 * (same device) or "just `device`" (another one), so it is refused rather
 * than guessed at; every other pair narrows the push meaningfully.
 */
export function targetConflict<T extends { device?: string | undefined; exceptDevice?: string | undefined }>(checked: Checked<T>): Checked<T> {
  if (!checked.ok) return checked;
  if (checked.value.device !== undefined && checked.value.exceptDevice !== undefined) {
    return { ok: false, field: "exceptDevice", message: "give device or exceptDevice, not both (device already leaves every other device out)" };
  }
  return checked;
}
