/**
 * Bodies of the Pusher HTTP API (POST /apps/{id}/events and batch_events), as
 * valibot schemas. Fields the SDKs may send that this dialect ignores (`info`)
 * are allowed; every refusal names its field.
 */
import * as v from "valibot";
import type { Checked } from "../util/checked";
import { MAX_CHANNEL_NAME } from "./channels";
import { isSocketId } from "./state";

/** Pusher's limits: 100 channels per event, 10 events per batch, 200-character event names. */
export const MAX_CHANNELS_PER_EVENT = 100;
export const MAX_BATCH_EVENTS = 10;
export const MAX_EVENT_NAME = 200;

const channelName = v.pipe(
  v.string("a channel must be a string"),
  v.minLength(1, "a channel must not be empty"),
  v.maxLength(MAX_CHANNEL_NAME, `a channel name has at most ${MAX_CHANNEL_NAME} characters`),
);

const eventFields = {
  name: v.pipe(
    v.string("name must be a string"),
    v.minLength(1, "name must not be empty"),
    v.maxLength(MAX_EVENT_NAME, `name has at most ${MAX_EVENT_NAME} characters`),
    v.check((s) => !s.startsWith("pusher:") && !s.startsWith("pusher_internal:"), "name must not start with pusher: or pusher_internal:"),
  ),
  // Pusher's data is a string (the SDKs JSON-encode objects); anything else is encoded here the same way.
  data: v.unknown(),
  socket_id: v.optional(
    v.pipe(
      v.string("socket_id must be a string"),
      v.check((s) => isSocketId(s), "socket_id must look like 123.456"),
    ),
  ),
  info: v.optional(v.unknown()),
};

export const EventBody = v.object({
  ...eventFields,
  channel: v.optional(channelName),
  channels: v.optional(
    v.pipe(
      v.array(channelName, "channels must be an array of strings"),
      v.minLength(1, "channels must not be empty"),
      v.maxLength(MAX_CHANNELS_PER_EVENT, `channels may hold at most ${MAX_CHANNELS_PER_EVENT} channels`),
    ),
  ),
});

export const BatchEventsBody = v.object({
  batch: v.pipe(
    v.array(v.object({ ...eventFields, channel: channelName }), "batch must be an array of events"),
    v.minLength(1, "batch must not be empty"),
    v.maxLength(MAX_BATCH_EVENTS, `batch may hold at most ${MAX_BATCH_EVENTS} events`),
  ),
});

export type EventBody = v.InferOutput<typeof EventBody>;
export type BatchEventsBody = v.InferOutput<typeof BatchEventsBody>;

/** Validate; on failure name the first offending field as a path (`channels[3]`, `batch[0].name`). */
export function checkBody<S extends v.GenericSchema>(schema: S, input: unknown): Checked<v.InferOutput<S>> {
  const result = v.safeParse(schema, input, { abortEarly: true });
  if (result.success) return { ok: true, value: result.output };
  const issue = result.issues[0];
  const field = (issue.path ?? []).map((p, i) => (typeof p.key === "number" ? `[${p.key}]` : `${i === 0 ? "" : "."}${String(p.key)}`)).join("");
  return { ok: false, field: (field || "body").slice(0, 64), message: issue.message };
}
