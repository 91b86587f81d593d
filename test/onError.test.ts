import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../src/http/app";
import { API_KEY } from "./helpers";

/** The Worker with a USER_HUB whose objects throw `err` on every call. */
async function presenceWhenTheObjectThrows(err: Error): Promise<Response> {
  const throwing = { getByName: () => ({ presenceOf: () => Promise.reject(err) }) };
  const request = new Request("https://switchboard.test/v1/users/alice/presence", { headers: { Authorization: `Bearer ${API_KEY}` } });
  return app.fetch(request, { ...env, USER_HUB: throwing });
}

function flagged(flags: Record<string, unknown>): Error {
  return Object.assign(new Error("object unavailable"), flags);
}

describe("an error no route answered", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is a 503 with Retry-After when the runtime marks it retryable or overloaded", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    for (const err of [flagged({ retryable: true }), flagged({ overloaded: true })]) {
      const res = await presenceWhenTheObjectThrows(err);
      expect(res.status).toBe(503);
      expect(res.headers.get("Retry-After")).toBe("1");
      expect(await res.json()).toEqual({ error: { code: "unavailable", message: "temporarily unavailable; retry" } });
    }
  });

  it("is the 500 body, logged in full, when the flags are there but false (their value counts, not their presence)", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const err = flagged({ retryable: false, overloaded: false });
    const res = await presenceWhenTheObjectThrows(err);
    expect(res.status).toBe(500);
    expect(res.headers.get("Retry-After")).toBeNull();
    expect(await res.json()).toEqual({ error: { code: "internal", message: "internal error" } });
    expect(logged).toHaveBeenCalledWith("switchboard: unhandled error", "GET", "/v1/users/alice/presence", err);
  });
});
