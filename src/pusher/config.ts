/**
 * The Pusher dialect's knobs. All three credentials set = the dialect is on;
 * none set = it is off and every Pusher route answers 404 (as if absent);
 * some set = a configuration error (fail closed, like src/config.ts).
 */
import { isUserId, nameRule, USER_ID_MAX } from "@switchboard/protocol";
import { text, type Vars } from "../util/vars.ts";

/** Values shipped in `.dev.vars` for `wrangler dev`; refused outside dev mode. */
export const DEV_PUSHER_APP_ID = "switchboard-dev";
export const DEV_PUSHER_KEY = "dev-pusher-key";
export const DEV_PUSHER_SECRET = "dev-only-pusher-secret-change-me";

export const DEFAULT_USER_CHANNELS = "private-user-{id},private-App.Models.User.{id}";

/** A socket that has neither signed in nor subscribed validly by then is closed 4009 (what soketi does). */
export const AUTH_DEADLINE_MS = 30_000;

export interface UserChannelTemplate {
  /** The text before `{id}`. */
  prefix: string;
  /** The text after `{id}`. */
  suffix: string;
}

export interface PusherConfig {
  appId: string;
  key: string;
  secret: string;
  /** Private channels that belong to one user (`{id}` = the userId), besides `#server-to-user-{id}`. */
  userChannels: readonly UserChannelTemplate[];
}

export type PusherConfigResult = { ok: true; config: PusherConfig | undefined } | { ok: false; problem: string };

/** `a-{id},b-{id}-x` → templates; each must be a private channel with exactly one `{id}`. */
export function parseUserChannels(raw: string): UserChannelTemplate[] | string {
  const templates: UserChannelTemplate[] = [];
  for (const part of raw.split(",")) {
    const t = part.trim();
    if (t === "") continue;
    const pieces = t.split("{id}");
    if (pieces.length !== 2) return `PUSHER_USER_CHANNELS entry must contain {id} exactly once: ${t}`;
    const [prefix = "", suffix = ""] = pieces;
    // Presence channels carry member lists, which this dialect does not keep; public ones need no auth.
    if (!prefix.startsWith("private-") || prefix.startsWith("private-encrypted-")) {
      return `PUSHER_USER_CHANNELS entry must be a private- channel (not private-encrypted-): ${t}`;
    }
    if (!/^[A-Za-z0-9_\-=@,.;]*$/.test(prefix + suffix)) return `PUSHER_USER_CHANNELS entry has characters Pusher channel names cannot: ${t}`;
    templates.push({ prefix, suffix });
  }
  if (templates.length === 0) return "PUSHER_USER_CHANNELS has no entries";
  return templates;
}

export function parsePusherConfig(vars: Vars): PusherConfigResult {
  const appId = text(vars, "PUSHER_APP_ID");
  const key = text(vars, "PUSHER_KEY");
  const secret = text(vars, "PUSHER_SECRET");
  if (appId === undefined && key === undefined && secret === undefined) return { ok: true, config: undefined };
  if (appId === undefined) return { ok: false, problem: "PUSHER_APP_ID is not set (required with PUSHER_KEY / PUSHER_SECRET)" };
  if (key === undefined) return { ok: false, problem: "PUSHER_KEY is not set (required with PUSHER_APP_ID / PUSHER_SECRET)" };
  if (secret === undefined) return { ok: false, problem: "PUSHER_SECRET is not set (required with PUSHER_APP_ID / PUSHER_KEY)" };
  if (text(vars, "DEV_MODE") !== "1" && secret === DEV_PUSHER_SECRET) {
    return { ok: false, problem: "PUSHER_SECRET is the development default; set a real secret" };
  }
  // The key is the last path segment of the socket URL and the app id a path segment of the API.
  if (!isUserId(key)) return { ok: false, problem: nameRule("PUSHER_KEY", USER_ID_MAX) };
  if (!isUserId(appId)) return { ok: false, problem: nameRule("PUSHER_APP_ID", USER_ID_MAX) };
  const channels = parseUserChannels(text(vars, "PUSHER_USER_CHANNELS") ?? DEFAULT_USER_CHANNELS);
  if (typeof channels === "string") return { ok: false, problem: channels };
  return { ok: true, config: { appId, key, secret, userChannels: channels } };
}

const cache = new WeakMap<object, PusherConfigResult>();

/** `env` is the same object for the life of an isolate, so parse it once. */
export function pusherConfigFrom(env: object): PusherConfigResult {
  let result = cache.get(env);
  if (result === undefined) {
    result = parsePusherConfig(env);
    cache.set(env, result);
  }
  return result;
}
