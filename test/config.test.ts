import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEV_API_KEY, DEV_JWT_SECRET, MIN_API_KEY_CHARS, MIN_JWT_SECRET_BYTES, parseConfig } from "../src/config";
import { app } from "../src/http/app";
import { worker } from "./helpers";

async function answer(vars: Record<string, unknown>, path = "/healthz"): Promise<{ status: number; body: string }> {
  const res = await app.fetch(new Request(`https://switchboard.test${path}`), { ...env, ...vars });
  return { status: res.status, body: await res.text() };
}

describe("configuration fails closed", () => {
  it("a deployment without its secrets answers 500 naming the missing one, on every path", async () => {
    for (const path of ["/healthz", "/v1/connect", "/v1/stats", "/dev/token?user=a"]) {
      const noJwt = await answer({ JWT_SECRET: undefined }, path);
      expect(noJwt.status).toBe(500);
      expect(noJwt.body).toContain("JWT_SECRET");
      const noKey = await answer({ API_KEY: "" }, path);
      expect(noKey.status).toBe(500);
      expect(noKey.body).toContain("API_KEY");
    }
  });

  it("refuses the shipped development secrets unless DEV_MODE=1", async () => {
    expect((await answer({ JWT_SECRET: DEV_JWT_SECRET, DEV_MODE: undefined })).body).toContain("JWT_SECRET");
    expect((await answer({ API_KEY: DEV_API_KEY, DEV_MODE: "0" })).body).toContain("API_KEY");
    expect((await answer({ JWT_SECRET: DEV_JWT_SECRET, API_KEY: DEV_API_KEY, DEV_MODE: "1" })).status).toBe(200);
  });

  it("refuses an HS256 secret under 32 bytes and an API key under 16 characters, in dev mode too", async () => {
    for (const DEV_MODE of ["0", "1"]) {
      const shortSecret = await answer({ JWT_SECRET: "short", DEV_MODE }, "/v1/stats");
      expect(shortSecret.status).toBe(500);
      expect(JSON.parse(shortSecret.body)).toMatchObject({ error: { code: "misconfigured", message: expect.stringContaining("JWT_SECRET is 5 bytes") } });
      // 31 ASCII bytes: one short of the RFC 7518 §3.2 floor.
      expect((await answer({ JWT_SECRET: "x".repeat(31), DEV_MODE })).body).toContain("RFC 7518");
      const shortKey = await answer({ API_KEY: "k", DEV_MODE }, "/v1/stats");
      expect(shortKey.status).toBe(500);
      expect(shortKey.body).toContain("API_KEY is 1 characters");
    }
    // Bytes, not characters: 11 three-byte characters are 33 bytes.
    expect(parseConfig({ JWT_SECRET: "€".repeat(11), API_KEY: "k".repeat(16) })).toMatchObject({ ok: true });
    expect(parseConfig({ JWT_SECRET: "x".repeat(32), API_KEY: "k".repeat(15) })).toMatchObject({ ok: false, problem: expect.stringContaining("API_KEY") });
    // The shipped dev values pass the same rules (dev mode is not a way around them).
    expect(parseConfig({ JWT_SECRET: DEV_JWT_SECRET, API_KEY: DEV_API_KEY, DEV_MODE: "1" })).toMatchObject({ ok: true });
  });

  it("a malformed knob is named", () => {
    const base = { JWT_SECRET: "s".repeat(MIN_JWT_SECRET_BYTES), API_KEY: "k".repeat(MIN_API_KEY_CHARS) };
    expect(parseConfig({ ...base, MAX_SESSIONS_PER_USER: "lots" })).toMatchObject({ ok: false, problem: expect.stringContaining("MAX_SESSIONS_PER_USER") });
    expect(parseConfig({ ...base, ALLOWED_ORIGINS: "not a url" })).toMatchObject({ ok: false, problem: expect.stringContaining("ALLOWED_ORIGINS") });
    expect(parseConfig({ ...base, WEBHOOK_URL: "https://x.test" })).toMatchObject({ ok: false, problem: expect.stringContaining("WEBHOOK_SECRET") });
    expect(parseConfig(base)).toMatchObject({
      ok: true,
      config: { maxSessionsPerUser: 100, defaultTtl: 86400, heartbeatIntervalMs: 90_000, staleAfterMs: 180_000, maxConnections: 0 },
    });
    expect(parseConfig({ ...base, WEBHOOK_URL: "ftp://x.test", WEBHOOK_SECRET: "s" })).toMatchObject({
      ok: false,
      problem: expect.stringContaining("WEBHOOK_URL must be http"),
    });
    expect(parseConfig({ ...base, MAX_CONNECTIONS: "-1" })).toMatchObject({ ok: false, problem: expect.stringContaining("MAX_CONNECTIONS") });
  });

  it("STALE_AFTER follows HEARTBEAT_INTERVAL: twice it by default, and never set below that", () => {
    const base = { JWT_SECRET: "s".repeat(MIN_JWT_SECRET_BYTES), API_KEY: "k".repeat(MIN_API_KEY_CHARS) };
    expect(parseConfig(base)).toMatchObject({ ok: true, config: { heartbeatIntervalMs: 90_000, staleAfterMs: 180_000 } });
    expect(parseConfig({ ...base, HEARTBEAT_INTERVAL: "30" })).toMatchObject({ ok: true, config: { heartbeatIntervalMs: 30_000, staleAfterMs: 60_000 } });
    // STALE_AFTER's own floor (10 s) holds for short test cadences.
    expect(parseConfig({ ...base, HEARTBEAT_INTERVAL: "2" })).toMatchObject({ ok: true, config: { staleAfterMs: 10_000 } });
    expect(parseConfig({ ...base, HEARTBEAT_INTERVAL: "60", STALE_AFTER: "300" })).toMatchObject({ ok: true, config: { staleAfterMs: 300_000 } });
    expect(parseConfig({ ...base, STALE_AFTER: "90" })).toMatchObject({
      ok: false,
      problem: "STALE_AFTER (90) must be at least 2 × HEARTBEAT_INTERVAL (180); leave it unset to derive it",
    });
    for (const bad of ["0", "301", "1.5", "fast"]) {
      expect(parseConfig({ ...base, HEARTBEAT_INTERVAL: bad })).toMatchObject({ ok: false, problem: "HEARTBEAT_INTERVAL must be an integer from 1 to 300" });
    }
  });

  it("a half-set Pusher dialect is refused by the one check, so every route answers 500 naming the missing knob", async () => {
    const base = { JWT_SECRET: "s".repeat(MIN_JWT_SECRET_BYTES), API_KEY: "k".repeat(MIN_API_KEY_CHARS) };
    expect(parseConfig({ ...base, PUSHER_KEY: "k" })).toMatchObject({ ok: false, problem: expect.stringContaining("PUSHER_APP_ID is not set") });
    expect(parseConfig({ ...base, PUSHER_APP_ID: "a", PUSHER_KEY: "k", PUSHER_SECRET: "s", PUSHER_USER_CHANNELS: "public-{id}" })).toMatchObject({
      ok: false,
      problem: expect.stringContaining("PUSHER_USER_CHANNELS"),
    });
    for (const path of ["/healthz", "/v1/stats"]) {
      const half = await answer({ PUSHER_APP_ID: undefined, PUSHER_SECRET: undefined }, path);
      expect(half.status, path).toBe(500);
      expect(half.body).toContain("PUSHER_APP_ID is not set");
    }
  });

  it("dev endpoints do not exist outside dev mode", async () => {
    for (const path of ["/dev/token?user=a", "/dev/presence?user=a"]) expect((await worker(path)).status).toBe(404);
    expect((await worker("/dev/push?user=a", { method: "POST", body: "{}" })).status).toBe(404);
  });

  it("unknown paths are a JSON 404", async () => {
    const res = await worker("/v2/nothing");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
  });
});
