/**
 * One API call: timeout per attempt, and retries only where they are safe.
 *
 * Every call the SDK makes is idempotent: reads, a kick (closing closed
 * sessions again closes nothing), and pushes that carry an id made before the
 * first attempt (the same id again is answered as a duplicate, not delivered
 * twice). So a call is retried on a network error, a timeout or a 503 (the
 * user's object briefly unavailable), with full-jitter backoff and at least
 * the server's Retry-After. A 4xx is the caller's to fix and is never retried;
 * neither is any other 5xx (a bug does not go away by asking again).
 */
import { RETRYABLE_STATUSES } from "@switchboard/protocol";
import { errorFromBody, SwitchboardError } from "./errors.ts";

export type FetchLike = (request: Request) => Promise<Response>;

export interface RetryOptions {
  /** Retries after the first attempt. Default 2. */
  retries?: number;
  /** First backoff ceiling, ms (doubles per retry). Default 200. */
  baseMs?: number;
  /** Backoff ceiling, ms. Default 5000. */
  maxMs?: number;
  /** A Retry-After longer than this (ms) is not waited out: the error is thrown. Default 30 000. */
  maxRetryAfterMs?: number;
  /** Math.random's contract; injectable for tests. */
  random?: () => number;
}

export interface TransportOptions extends RetryOptions {
  url: string;
  apiKey: string;
  fetch: FetchLike;
  timeoutMs: number;
}

export interface Call {
  method: "GET" | "POST" | "DELETE";
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
}

/** The SDK's own codes for a call that got no answer: asking again may get one. */
const RETRYABLE_WITHOUT_ANSWER: ReadonlySet<string> = new Set(["network", "timeout"]);

type Failure = { ok: false; error: SwitchboardError; retryAfter: string | null };
type Outcome = { ok: true; value: unknown } | Failure;

/** Retry-After in ms: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Full jitter (Brooker, "Exponential Backoff And Jitter"): uniform in [0, min(max, base·2^n)). */
export function jitterMs(retry: number, baseMs: number, maxMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** retry));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Transport {
  readonly #base: URL;
  readonly #authorization: string;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #random: () => number;

  constructor(options: TransportOptions) {
    this.#base = new URL(options.url);
    this.#authorization = `Bearer ${options.apiKey}`;
    this.#fetch = options.fetch;
    this.#timeoutMs = options.timeoutMs;
    this.#retries = options.retries ?? 2;
    this.#baseMs = options.baseMs ?? 200;
    this.#maxMs = options.maxMs ?? 5000;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.#random = options.random ?? Math.random;
  }

  async call<T>(call: Call): Promise<T> {
    const url = new URL(call.path, this.#base);
    for (const [key, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#attempt(call.method, url, body, attempt);
      if (outcome.ok) return outcome.value as T;
      const wait = this.#retryDelay(outcome, attempt);
      if (wait === undefined) throw outcome.error;
      await sleep(wait);
    }
  }

  /** The parsed answer, or the error (thrown by call() unless retried). */
  async #attempt(method: string, url: URL, body: string | undefined, attempt: number): Promise<Outcome> {
    const headers: Record<string, string> = { Authorization: this.#authorization, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(new Request(url, { method, headers, body: body ?? null, signal: controller.signal }));
      text = await response.text();
    } catch (cause) {
      const timedOut = controller.signal.aborted;
      const error = new SwitchboardError({
        status: 0,
        code: timedOut ? "timeout" : "network",
        message: timedOut ? `no answer within ${this.#timeoutMs} ms` : "the request failed before an answer",
        attempts: attempt,
        cause,
      });
      return { ok: false, error, retryAfter: null };
    } finally {
      clearTimeout(timer);
    }
    const retryAfter = response.headers.get("Retry-After");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      const message = `HTTP ${response.status} answer is not JSON`;
      return { ok: false, error: new SwitchboardError({ status: response.status, code: "bad_response", message, attempts: attempt }), retryAfter };
    }
    if (response.ok) return { ok: true, value: parsed };
    return { ok: false, error: errorFromBody(response.status, parsed, attempt), retryAfter };
  }

  #retryDelay({ error, retryAfter }: Failure, attempt: number): number | undefined {
    const retryable = error.status === 0 ? RETRYABLE_WITHOUT_ANSWER.has(error.code) : RETRYABLE_STATUSES.has(error.status);
    if (!retryable || attempt > this.#retries) return undefined;
    const jitter = jitterMs(attempt - 1, this.#baseMs, this.#maxMs, this.#random);
    const asked = retryAfterMs(retryAfter);
    if (asked === undefined) return jitter;
    if (asked > this.#maxRetryAfterMs) return undefined;
    return Math.max(asked, jitter);
  }
}
