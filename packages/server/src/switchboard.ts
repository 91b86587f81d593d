/** The server API client: `new Switchboard({ url, apiKey })`. */
import { invalidArgument } from "./errors.ts";
import { DEVICE_MAX, MESSAGE_ID_MAX, USER_ID_MAX } from "@switchboard/protocol";
import { checkName } from "./names.ts";
import { Transport, type FetchLike, type RetryOptions } from "./transport.ts";
import { checkArity, checkData, checkOptions, checkRequired, func, integer, literal, ms, name, nonEmptyString, shortString, type Check } from "./validate.ts";
import type {
  BatchResult,
  BroadcastOptions,
  BroadcastResult,
  KickResult,
  KickTarget,
  MessagesPage,
  PresenceView,
  PushOptions,
  PushResult,
  StatsResult,
  StoredMessage,
  WebPushOptions,
} from "@switchboard/protocol";

export interface SwitchboardOptions {
  /** The deployment, e.g. `https://sb.example.com`. */
  url: string | URL;
  /** The deployment's API_KEY. */
  apiKey: string;
  /**
   * Default: the global fetch. In a Worker calling Switchboard through a
   * service binding, pass `env.SWITCHBOARD.fetch.bind(env.SWITCHBOARD)`.
   */
  fetch?: FetchLike;
  /** Per attempt, ms. Default 10 000. */
  timeoutMs?: number;
  /** Retries after the first attempt (network error, timeout, 503). Default 2; 0 disables. */
  retries?: number;
  /** Backoff and Retry-After limits. */
  backoff?: Omit<RetryOptions, "retries">;
}

export interface MessagesOptions {
  /** Messages after this seq. Default 0 (everything retained). */
  since?: number;
  /** Page size, 1-1000. Default 100. */
  limit?: number;
}

const SESSION_MAX = 128;
/** The Worker's limits (src/config.ts MAX_TTL, MAX_BATCH_USERS; src/http/api.ts MAX_PAGE). */
const MAX_TTL = 604_800;
const MAX_BATCH_USERS = 1000;
const MAX_PAGE = 1000;

/**
 * The options each call knows, one check per key; `satisfies` keeps each
 * list equal to its interface, so an option added to a type and not here
 * fails the build instead of being refused at run time.
 */
const CLIENT_OPTIONS = {
  url: (value, field) => {
    if (typeof value !== "string" && !(value instanceof URL)) throw invalidArgument(field, "url must be a string or a URL");
  },
  apiKey: nonEmptyString,
  fetch: func,
  timeoutMs: ms(1),
  retries: integer(0, 100),
  backoff: (value, field) => checkOptions(value, field, BACKOFF_OPTIONS),
} satisfies Record<keyof SwitchboardOptions, Check>;
const BACKOFF_OPTIONS = {
  baseMs: ms(0),
  maxMs: ms(0),
  maxRetryAfterMs: ms(0),
  random: func,
} satisfies Record<keyof NonNullable<SwitchboardOptions["backoff"]>, Check>;
const URGENCIES: readonly unknown[] = ["very-low", "low", "normal", "high"];
const WEBPUSH_OPTIONS = {
  urgency: (value, field) => {
    if (!URGENCIES.includes(value)) throw invalidArgument(field, `${field} must be very-low, low, normal or high`);
  },
  topic: (value, field) => {
    // RFC 8030 §5.4: at most 32 characters of the URL-safe base64 alphabet.
    if (typeof value !== "string" || !/^[A-Za-z0-9_-]{1,32}$/.test(value)) throw invalidArgument(field, `${field} must be 1-32 characters of A-Z a-z 0-9 - _`);
  },
} satisfies Record<keyof WebPushOptions, Check>;
const webpush: Check = (value, field) => {
  if (typeof value === "boolean") return;
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalidArgument(field, `${field} must be true, false or { urgency, topic }`);
  checkOptions(value, field, WEBPUSH_OPTIONS);
};
/** `event` follows the device name rules, minus the Pusher protocol's prefixes (the server's src/http/schemas.ts). */
const eventName: Check = (value, field) => {
  name(DEVICE_MAX)(value, field);
  if (/^pusher(_internal)?:/.test(value as string))
    throw invalidArgument(field, `${field} must not start with pusher: or pusher_internal: (reserved by the Pusher protocol)`);
};
const BROADCAST_OPTIONS = { id: name(MESSAGE_ID_MAX), ttl: integer(0, MAX_TTL), event: eventName, webpush } satisfies Record<keyof BroadcastOptions, Check>;
const PUSH_OPTIONS = {
  ...BROADCAST_OPTIONS,
  device: name(DEVICE_MAX),
  exceptDevice: name(DEVICE_MAX),
  exceptSession: shortString(SESSION_MAX),
} satisfies Record<keyof PushOptions, Check>;
const MESSAGES_OPTIONS = { since: integer(0), limit: integer(1, MAX_PAGE) } satisfies Record<keyof MessagesOptions, Check>;
type KickKeys = "device" | "session" | "all";
const KICK_TARGET = { device: name(DEVICE_MAX), session: shortString(SESSION_MAX), all: literal(true) } satisfies Record<KickKeys, Check>;
const KICK_HELP = "kick needs a target: { device }, { session } or { all: true } (or kickAll(userId))";

const userPath = (userId: string, suffix: string) => `/v1/users/${encodeURIComponent(checkName(userId, "userId", USER_ID_MAX))}/${suffix}`;

/** The push's id: the caller's, or one made now, so every attempt carries the same one. */
function withId<T extends { id?: string | undefined }>(options: T | undefined): T & { id: string } {
  return { ...(options as T), id: options?.id ?? crypto.randomUUID() };
}

/** The one target of a kick, spelled out: a typo or a missing target must never mean "everyone". */
function kickQuery(target: unknown): { device?: string; session?: string } {
  if (typeof target !== "object" || target === null || Array.isArray(target)) throw invalidArgument("target", KICK_HELP);
  checkOptions(target, "", KICK_TARGET);
  const given = (Object.keys(KICK_TARGET) as KickKeys[]).filter((key) => (target as Record<string, unknown>)[key] !== undefined);
  if (given.length !== 1)
    throw invalidArgument(given[1] ?? "target", given.length === 0 ? KICK_HELP : `give one of device, session and all, not ${given.join(" and ")}`);
  const { device, session } = target as { device?: string; session?: string };
  return device !== undefined ? { device } : session !== undefined ? { session } : {};
}

export class Switchboard {
  readonly #transport: Transport;

  constructor(options: SwitchboardOptions) {
    checkArity(arguments, 1, "new Switchboard(options)");
    if (options === undefined) throw invalidArgument("options", "new Switchboard needs { url, apiKey }");
    checkOptions(options, "", CLIENT_OPTIONS);
    checkRequired(options, "", ["url", "apiKey"]);
    let url: URL;
    try {
      url = new URL(String(options.url));
    } catch {
      throw invalidArgument("url", "url must be an absolute http(s) URL");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") throw invalidArgument("url", "url must be an absolute http(s) URL");
    const fetch: FetchLike = options.fetch ?? ((request) => globalThis.fetch(request));
    this.#transport = new Transport({
      ...options.backoff,
      url: url.toString(),
      apiKey: options.apiKey,
      fetch,
      timeoutMs: options.timeoutMs ?? 10_000,
      retries: options.retries ?? 2,
    });
  }

  /** Deliver `data` to every live session of the user (and keep it for offline ones, unless ttl is 0). */
  async push(userId: string, data: unknown, options?: PushOptions): Promise<PushResult> {
    checkArity(arguments, 3, "push(userId, data, options)");
    const path = userPath(userId, "messages");
    checkData(data);
    checkOptions(options, "", PUSH_OPTIONS);
    return this.#transport.call({ method: "POST", path, body: { ...withId(options), data } });
  }

  /** One message to up to 1000 users; a user that fails fails only its own entry. */
  async pushMany(userIds: readonly string[], data: unknown, options?: PushOptions): Promise<BatchResult> {
    checkArity(arguments, 3, "pushMany(userIds, data, options)");
    // A userId that breaks the name rule fails only its own entry (the
    // server's answer); one that is not a string is a caller's bug.
    if (!Array.isArray(userIds) || userIds.length === 0 || userIds.length > MAX_BATCH_USERS || !userIds.every((u) => typeof u === "string")) {
      throw invalidArgument("userIds", `userIds must be an array of 1-${MAX_BATCH_USERS} strings`);
    }
    checkData(data);
    checkOptions(options, "", PUSH_OPTIONS);
    return this.#transport.call({ method: "POST", path: "/v1/messages", body: { ...withId(options), userIds, data } });
  }

  /** To every user online now; live-only unless a ttl is given. */
  async broadcast(data: unknown, options?: BroadcastOptions): Promise<BroadcastResult> {
    checkArity(arguments, 2, "broadcast(data, options)");
    checkData(data);
    checkOptions(options, "", BROADCAST_OPTIONS);
    return this.#transport.call({ method: "POST", path: "/v1/broadcast", body: { ...withId(options), data } });
  }

  async presence(userId: string): Promise<PresenceView> {
    checkArity(arguments, 1, "presence(userId)");
    return this.#transport.call({ method: "GET", path: userPath(userId, "presence") });
  }

  /**
   * Close one device's sessions, one session, or (`{ all: true }`) all of
   * them, with 4001: the SDK does not reconnect. The target is required.
   */
  async kick(userId: string, target: KickTarget): Promise<KickResult> {
    checkArity(arguments, 2, "kick(userId, target)");
    const path = userPath(userId, "sessions");
    return this.#transport.call({ method: "DELETE", path, query: kickQuery(target) });
  }

  /** Close every session of the user with 4001: `kick(userId, { all: true })`. */
  async kickAll(userId: string): Promise<KickResult> {
    checkArity(arguments, 1, "kickAll(userId)");
    return this.kick(userId, { all: true });
  }

  /** One page of the user's stored messages after `since`, oldest first. */
  async messages(userId: string, options: MessagesOptions = {}): Promise<MessagesPage> {
    checkArity(arguments, 2, "messages(userId, options)");
    const path = userPath(userId, "messages");
    checkOptions(options, "", MESSAGES_OPTIONS);
    return this.#transport.call({ method: "GET", path, query: { since: options.since, limit: options.limit } });
  }

  /** Every stored message after `since`, page by page: `for await (const m of sb.allMessages(userId)) …`. */
  async *allMessages(userId: string, options: MessagesOptions = {}): AsyncGenerator<StoredMessage, void, undefined> {
    checkArity(arguments, 2, "allMessages(userId, options)");
    userPath(userId, "messages");
    checkOptions(options, "", MESSAGES_OPTIONS);
    let since = options.since ?? 0;
    for (;;) {
      const page = await this.messages(userId, { since, limit: options.limit });
      for (const message of page.messages) yield message;
      const last = page.messages.at(-1);
      if (last === undefined || last.seq >= page.head) return;
      since = last.seq;
    }
  }

  /** Online users and sessions across the deployment. */
  async stats(): Promise<StatsResult> {
    checkArity(arguments, 0, "stats()");
    return this.#transport.call({ method: "GET", path: "/v1/stats" });
  }
}
