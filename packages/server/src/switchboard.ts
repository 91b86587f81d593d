/** The server API client: `new Switchboard({ url, apiKey })`. */
import { invalidArgument } from "./errors.ts";
import { checkName, USER_ID_MAX } from "./names.ts";
import { Transport, type FetchLike, type RetryOptions } from "./transport.ts";
import type {
  BatchResult,
  BroadcastOptions,
  BroadcastResult,
  KickOptions,
  KickResult,
  MessagesPage,
  PresenceView,
  PushOptions,
  PushResult,
  StatsResult,
  StoredMessage,
} from "./wire.ts";

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

const MESSAGE_ID_MAX = 128;
const DEVICE_MAX = 64;

const userPath = (userId: string, suffix: string) =>
  `/v1/users/${encodeURIComponent(checkName(userId, "userId", USER_ID_MAX))}/${suffix}`;

/** The push's id: the caller's, or one made now, so every attempt carries the same one. */
function withId<T extends { id?: string | undefined }>(options: T | undefined): T & { id: string } {
  const id = options?.id ?? crypto.randomUUID();
  checkName(id, "id", MESSAGE_ID_MAX);
  return { ...(options as T), id };
}

export class Switchboard {
  readonly #transport: Transport;

  constructor(options: SwitchboardOptions) {
    if (typeof options.apiKey !== "string" || options.apiKey === "") throw invalidArgument("apiKey", "apiKey must be a non-empty string");
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
    const path = userPath(userId, "messages");
    return this.#transport.call({ method: "POST", path, body: { ...withId(options), data } });
  }

  /** One message to up to 1000 users; a user that fails fails only its own entry. */
  async pushMany(userIds: readonly string[], data: unknown, options?: PushOptions): Promise<BatchResult> {
    if (!Array.isArray(userIds) || userIds.length === 0) throw invalidArgument("userIds", "userIds must be a non-empty array");
    return this.#transport.call({ method: "POST", path: "/v1/messages", body: { ...withId(options), userIds, data } });
  }

  /** To every user online now; live-only unless a ttl is given. */
  async broadcast(data: unknown, options?: BroadcastOptions): Promise<BroadcastResult> {
    return this.#transport.call({ method: "POST", path: "/v1/broadcast", body: { ...withId(options), data } });
  }

  async presence(userId: string): Promise<PresenceView> {
    return this.#transport.call({ method: "GET", path: userPath(userId, "presence") });
  }

  /** Close the user's sessions (all, one device's, or one session) with 4001: the SDK does not reconnect. */
  async kick(userId: string, options: KickOptions = {}): Promise<KickResult> {
    const path = userPath(userId, "sessions");
    if (options.device !== undefined && options.session !== undefined) throw invalidArgument("session", "give device or session, not both");
    if (options.device !== undefined) checkName(options.device, "device", DEVICE_MAX);
    return this.#transport.call({ method: "DELETE", path, query: { device: options.device, session: options.session } });
  }

  /** One page of the user's stored messages after `since`, oldest first. */
  async messages(userId: string, options: MessagesOptions = {}): Promise<MessagesPage> {
    const path = userPath(userId, "messages");
    return this.#transport.call({ method: "GET", path, query: { since: options.since, limit: options.limit } });
  }

  /** Every stored message after `since`, page by page: `for await (const m of sb.allMessages(userId)) …`. */
  async *allMessages(userId: string, options: MessagesOptions = {}): AsyncGenerator<StoredMessage, void, undefined> {
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
    return this.#transport.call({ method: "GET", path: "/v1/stats" });
  }
}
