/** The retry rules on a scripted fetch and fake timers: what is retried, how long it waits, what never is. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Switchboard, SwitchboardError, type FetchLike } from "../src/index.ts";
import { jitterMs, retryAfterMs } from "../src/transport.ts";

const ok = (body: unknown) => Response.json(body);
const refuse = (status: number, headers: Record<string, string> = {}) =>
  Response.json({ error: { code: status === 503 ? "unavailable" : "bad_request", message: "no", field: "ttl" } }, { status, headers });

function scripted(answers: Array<Response | Error | "hang">) {
  const requests: Request[] = [];
  const fetch: FetchLike = (request) => {
    requests.push(request);
    const next = answers.shift() ?? ok({ onlineUsers: 0, sessions: 0 });
    if (next === "hang") {
      return new Promise((_resolve, reject) => request.signal.addEventListener("abort", () => reject(new Error("aborted"))));
    }
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  };
  return { requests, fetch };
}

const make = (fetch: FetchLike, extra: { retries?: number; random?: () => number; timeoutMs?: number } = {}) =>
  new Switchboard({
    url: "https://sb.test",
    apiKey: "k",
    fetch,
    retries: extra.retries ?? 3,
    timeoutMs: extra.timeoutMs ?? 1000,
    backoff: { baseMs: 100, maxMs: 1000, random: extra.random ?? (() => 0) },
  });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("retries", () => {
  it("waits out Retry-After (seconds) before the next attempt", async () => {
    const s = scripted([refuse(503, { "Retry-After": "5" })]);
    const result = make(s.fetch).stats();
    await vi.advanceTimersByTimeAsync(4999);
    expect(s.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.requests).toHaveLength(2);
    expect(await result).toEqual({ onlineUsers: 0, sessions: 0 });
  });

  it("uses full jitter: each wait is below min(max, base·2^n), drawn from random()", async () => {
    expect([0, 1, 2, 3, 4].map((n) => jitterMs(n, 100, 1000, () => 0.999))).toEqual([99, 199, 399, 799, 999]);
    expect(jitterMs(3, 100, 1000, () => 0)).toBe(0);
    const s = scripted([refuse(503), refuse(503)]);
    const result = make(s.fetch, { random: () => 0.5 }).stats();
    await vi.advanceTimersByTimeAsync(49);
    expect(s.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1); // 0.5 × 100
    expect(s.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(100); // 0.5 × 200
    expect(s.requests).toHaveLength(3);
    await result;
  });

  it("a push keeps one id across attempts (made before the first), network errors included", async () => {
    const s = scripted([new TypeError("fetch failed"), refuse(503)]);
    const result = make(s.fetch).push("alice", { n: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    await result;
    const ids = await Promise.all(s.requests.map(async (r) => ((await r.json()) as { id: string }).id));
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
  });

  it("retries a timeout (the attempt is aborted)", async () => {
    const s = scripted(["hang"]);
    const result = make(s.fetch, { timeoutMs: 500 }).stats();
    await vi.advanceTimersByTimeAsync(500);
    expect(s.requests[0]?.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(10);
    expect(s.requests).toHaveLength(2);
    await result;
  });

  it("never retries a 4xx, nor a 500; gives up after `retries` with the last error", async () => {
    for (const status of [400, 401, 404, 413, 429, 500]) {
      const s = scripted([refuse(status)]);
      const err = await make(s.fetch)
        .stats()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SwitchboardError);
      expect(err).toMatchObject({ status, attempts: 1 });
      expect(s.requests).toHaveLength(1);
    }
    const s = scripted([refuse(503), refuse(503), refuse(503)]);
    const result = make(s.fetch, { retries: 2 })
      .stats()
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await result).toMatchObject({ status: 503, code: "unavailable", attempts: 3 });
  });

  it("an answer that is not JSON is a typed error, not a crash", async () => {
    const s = scripted([new Response("<html>gateway</html>", { status: 502 })]);
    await expect(make(s.fetch).stats()).rejects.toMatchObject({ status: 502, code: "bad_response" });
  });
});

describe("retryAfterMs", () => {
  it("reads delay-seconds and HTTP dates (RFC 9110)", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs("3", now)).toBe(3000);
    expect(retryAfterMs("Thu, 01 Jan 2026 00:00:07 GMT", now)).toBe(7000);
    expect(retryAfterMs("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
