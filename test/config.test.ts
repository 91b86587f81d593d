import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEV_API_KEY, DEV_JWT_SECRET, parseConfig } from "../src/config";
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

  it("a malformed knob is named", () => {
    const base = { JWT_SECRET: "s", API_KEY: "k" };
    expect(parseConfig({ ...base, MAX_SESSIONS_PER_USER: "lots" })).toMatchObject({ ok: false, problem: expect.stringContaining("MAX_SESSIONS_PER_USER") });
    expect(parseConfig({ ...base, ALLOWED_ORIGINS: "not a url" })).toMatchObject({ ok: false, problem: expect.stringContaining("ALLOWED_ORIGINS") });
    expect(parseConfig({ ...base, WEBHOOK_URL: "https://x.test" })).toMatchObject({ ok: false, problem: expect.stringContaining("WEBHOOK_SECRET") });
    expect(parseConfig(base)).toMatchObject({ ok: true, config: { maxSessionsPerUser: 100, defaultTtl: 86400, staleAfterMs: 90_000 } });
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
