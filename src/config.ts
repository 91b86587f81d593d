/**
 * Reads the deployment's knobs and secrets from `env` once per isolate.
 * A missing secret or a malformed knob is a configuration error: every request
 * then answers 500 naming it (fail closed), rather than running half-configured.
 */
import { parseWebPushConfig, type WebPushConfig } from "./webpush/config.ts";

/** For `npm run serve`'s refusal of the development secrets: the VAPID private key is one. */
export { DEV_VAPID_PRIVATE_KEY } from "./webpush/config.ts";

import { parsePusherConfig } from "./pusher/config.ts";
import { text, type Vars } from "./util/vars.ts";

/**
 * Values shipped in `.dev.vars` for `wrangler dev`; refused outside dev mode.
 * They meet the length rules below themselves, so dev mode runs the same checks.
 */
export const DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789";
export const DEV_API_KEY = "dev-only-api-key";

/**
 * RFC 7518 §3.2: an HS256 key must be at least as long as the hash output,
 * 256 bits. Shorter secrets make a captured token cheap to brute-force.
 */
export const MIN_JWT_SECRET_BYTES = 32;
/** A server key short enough to guess is no key; 16 characters is our floor. */
export const MIN_API_KEY_CHARS = 16;

export interface Config {
  devMode: boolean;
  jwtSecret: string | undefined;
  jwtPublicKeys: string | undefined;
  jwtAudience: string | undefined;
  jwtIssuer: string | undefined;
  apiKey: string;
  allowedOrigins: ReadonlySet<string>;
  maxSessionsPerUser: number;
  maxMessageBytes: number;
  defaultTtl: number;
  maxStoredPerUser: number;
  /**
   * The heartbeat cadence (HEARTBEAT_INTERVAL, ms): the longest a client may
   * stay silent. Advertised to every dialect (src/hub/cadence.ts).
   */
  heartbeatIntervalMs: number;
  /** Silence after which a session is stale (STALE_AFTER): by default 2 × the heartbeat interval. */
  staleAfterMs: number;
  /**
   * How often a user's object with sessions wakes to close half-open ones (0 = never):
   * the only per-user timer. Off by default; on (600 s) when webhooks are, so that
   * `user.offline` is timely. See docs/cost-model.md for what each setting costs.
   */
  reapIntervalMs: number;
  /** How often each stats shard asks its online users, not heard from since, for their live count. */
  statsAuditIntervalMs: number;
  statsShards: number;
  /** Client frames allowed per second per socket (token bucket, burst = 2×). */
  maxFramesPerSecond: number;
  /** Bytes sent to a session without a frame back before it may be closed as too slow (0 = never). */
  maxSessionBacklogBytes: number;
  webhookUrl: string | undefined;
  webhookSecret: string | undefined;
  webhookGraceMs: number;
  /**
   * Open WebSockets the process may hold before upgrades are refused 503 (0 = no cap). Only
   * meaningful where one process holds every socket (`npm run serve` sets it from its open-file
   * limit; src/http/overload.ts); on Cloudflare each isolate would count only its own.
   */
  maxConnections: number;
  /** EVENT_LOG=json: one JSON log line per operational event (src/metrics/events.ts). */
  eventLog: boolean;
  /** A second Bearer token GET /metrics accepts besides API_KEY (for a scraper that must not push). */
  metricsToken: string | undefined;
  /** VAPID keys and contact; undefined = Web Push is off (src/webpush/config.ts). */
  webPush: WebPushConfig | undefined;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problem: string };

/** Longest `ttl` a push may ask for (7 days); also the contract's upper bound. */
export const MAX_TTL = 604_800;
/** Users per `POST /v1/messages`. */
export const MAX_BATCH_USERS = 1000;

class ConfigError extends Error {}

function int(vars: Vars, name: string, fallback: number, min: number, max: number): number {
  const raw = text(vars, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** REAP_INTERVAL: 0 (off) or 60-86400 s; unset means 600 with webhooks, else off. */
function reapInterval(vars: Vars, webhooks: boolean): number {
  const seconds = int(vars, "REAP_INTERVAL", webhooks ? 600 : 0, 0, 86_400);
  if (seconds !== 0 && seconds < 60) throw new ConfigError("REAP_INTERVAL must be 0 (off) or an integer from 60 to 86400");
  return seconds;
}

/**
 * The heartbeat cadence the server advertises (s). 90 by default: Cloudflare
 * is reported to close WebSockets silent for 100 s in both directions, and
 * every text frame a client sends is a billed request, so the longest silence
 * that stays under that limit is the cheapest safe one (docs/operations.md).
 */
export const DEFAULT_HEARTBEAT_INTERVAL = 90;

/**
 * HEARTBEAT_INTERVAL and STALE_AFTER (s). A client pings after HEARTBEAT_INTERVAL
 * of silence, so a session is stale only after that much again (a late timer,
 * the network): STALE_AFTER defaults to twice the interval (at least 10) and
 * may not be set below it, or healthy idle sessions would be closed 4002.
 */
function cadence(vars: Vars): { heartbeatS: number; staleS: number } {
  const heartbeatS = int(vars, "HEARTBEAT_INTERVAL", DEFAULT_HEARTBEAT_INTERVAL, 1, 300);
  const staleS = int(vars, "STALE_AFTER", Math.max(10, 2 * heartbeatS), 10, 86_400);
  if (staleS < 2 * heartbeatS) {
    throw new ConfigError(`STALE_AFTER (${staleS}) must be at least 2 × HEARTBEAT_INTERVAL (${2 * heartbeatS}); leave it unset to derive it`);
  }
  return { heartbeatS, staleS };
}

function origins(raw: string | undefined): ReadonlySet<string> {
  const set = new Set<string>();
  for (const part of (raw ?? "").split(",")) {
    const trimmed = part.trim();
    if (trimmed === "") continue;
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      throw new ConfigError(`ALLOWED_ORIGINS has an entry that is not an origin: ${trimmed}`);
    }
    set.add(url.origin);
  }
  return set;
}

/** The length rules for the two secrets (the same in dev mode and in `npm run serve`'s pre-flight check). */
export function secretProblem(jwtSecret: string | undefined, apiKey: string | undefined): string | undefined {
  if (jwtSecret !== undefined) {
    const bytes = new TextEncoder().encode(jwtSecret).byteLength;
    if (bytes < MIN_JWT_SECRET_BYTES) {
      return `JWT_SECRET is ${bytes} bytes; HS256 needs at least ${MIN_JWT_SECRET_BYTES} (RFC 7518 §3.2)`;
    }
  }
  if (apiKey !== undefined && apiKey.length < MIN_API_KEY_CHARS) {
    return `API_KEY is ${apiKey.length} characters; use at least ${MIN_API_KEY_CHARS}`;
  }
  return undefined;
}

function eventLog(raw: string | undefined): boolean {
  if (raw === undefined || raw === "off") return false;
  if (raw === "json") return true;
  throw new ConfigError("EVENT_LOG must be json or off");
}

/** A webhook target must be an absolute http(s) URL: fetch() refuses anything else at delivery time. */
function webhookUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "WEBHOOK_URL is not a URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `WEBHOOK_URL must be http: or https:, not ${url.protocol}`;
  return undefined;
}

export function parseConfig(vars: Vars): ConfigResult {
  try {
    const devMode = text(vars, "DEV_MODE") === "1";
    const jwtSecret = text(vars, "JWT_SECRET");
    const jwtPublicKeys = text(vars, "JWT_PUBLIC_KEYS");
    const apiKey = text(vars, "API_KEY");
    if (jwtSecret === undefined && jwtPublicKeys === undefined) {
      return { ok: false, problem: "JWT_SECRET is not set (or set JWT_PUBLIC_KEYS)" };
    }
    if (apiKey === undefined) return { ok: false, problem: "API_KEY is not set" };
    const weak = secretProblem(jwtSecret, apiKey);
    if (weak !== undefined) return { ok: false, problem: weak };
    if (!devMode && jwtSecret === DEV_JWT_SECRET) {
      return { ok: false, problem: "JWT_SECRET is the development default; set a real secret" };
    }
    if (!devMode && apiKey === DEV_API_KEY) {
      return { ok: false, problem: "API_KEY is the development default; set a real secret" };
    }
    const webhookUrl = text(vars, "WEBHOOK_URL");
    const webhookSecret = text(vars, "WEBHOOK_SECRET");
    if (webhookUrl !== undefined && webhookSecret === undefined) {
      return { ok: false, problem: "WEBHOOK_SECRET is not set (required with WEBHOOK_URL)" };
    }
    const { heartbeatS, staleS } = cadence(vars);
    const webPush = parseWebPushConfig(vars);
    if (!webPush.ok) return { ok: false, problem: webPush.problem };
    const config: Config = {
      devMode,
      jwtSecret,
      jwtPublicKeys,
      jwtAudience: text(vars, "JWT_AUDIENCE"),
      jwtIssuer: text(vars, "JWT_ISSUER"),
      apiKey,
      allowedOrigins: origins(text(vars, "ALLOWED_ORIGINS")),
      maxSessionsPerUser: int(vars, "MAX_SESSIONS_PER_USER", 100, 1, 10_000),
      maxMessageBytes: int(vars, "MAX_MESSAGE_BYTES", 65_536, 256, 1_048_576),
      defaultTtl: int(vars, "DEFAULT_TTL", 86_400, 0, MAX_TTL),
      maxStoredPerUser: int(vars, "MAX_STORED_PER_USER", 1000, 1, 100_000),
      heartbeatIntervalMs: heartbeatS * 1000,
      staleAfterMs: staleS * 1000,
      reapIntervalMs: reapInterval(vars, webhookUrl !== undefined) * 1000,
      statsAuditIntervalMs: int(vars, "STATS_AUDIT_INTERVAL", 43_200, 60, 86_400) * 1000,
      statsShards: int(vars, "STATS_SHARDS", 16, 1, 1024),
      maxFramesPerSecond: int(vars, "MAX_FRAMES_PER_SECOND", 20, 1, 10_000),
      maxSessionBacklogBytes: int(vars, "MAX_SESSION_BACKLOG", 1_048_576, 0, 1_073_741_824),
      webhookUrl,
      webhookSecret,
      webhookGraceMs: int(vars, "WEBHOOK_OFFLINE_GRACE", 10, 0, 3600) * 1000,
      maxConnections: int(vars, "MAX_CONNECTIONS", 0, 0, 10_000_000),
      eventLog: eventLog(text(vars, "EVENT_LOG")),
      metricsToken: text(vars, "METRICS_TOKEN"),
      webPush: webPush.config,
    };
    if (config.metricsToken !== undefined && config.metricsToken.length < MIN_API_KEY_CHARS) {
      return { ok: false, problem: `METRICS_TOKEN is ${config.metricsToken.length} characters; use at least ${MIN_API_KEY_CHARS}` };
    }
    const webhookProblem = webhookUrl === undefined ? undefined : webhookUrlProblem(webhookUrl);
    if (webhookProblem !== undefined) return { ok: false, problem: webhookProblem };
    // The Pusher dialect's knobs are part of the one check: a half-set dialect refuses every
    // request (and `npm run serve` refuses to start) rather than 500 on its routes only.
    const pusher = parsePusherConfig(vars);
    if (!pusher.ok) return { ok: false, problem: pusher.problem };
    return { ok: true, config };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, problem: err.message };
    throw err;
  }
}

const cache = new WeakMap<object, ConfigResult>();

/** `env` is the same object for the life of an isolate, so parse it once. */
export function configFrom(env: object): ConfigResult {
  let result = cache.get(env);
  if (result === undefined) {
    result = parseConfig(env);
    cache.set(env, result);
  }
  return result;
}
