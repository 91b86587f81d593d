/** mintClientToken and verifyWebhook on their own (the Worker-side checks are in test/serverSdk.test.ts and test/webhooks.sdk.test.ts). */
import { jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { mintClientToken, verifyWebhook } from "../src/index.ts";

const secret = "unit-secret-0123456789";

describe("mintClientToken", () => {
  it("is an HS256 JWT with sub, iat, exp (and aud/iss when given) that jose verifies", async () => {
    const token = await mintClientToken({ secret, userId: "alice", ttlSeconds: 60, audience: "app", issuer: "me", now: 1_900_000_000 });
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ["HS256"],
      currentDate: new Date(1_900_000_010_000),
      audience: "app",
      issuer: "me",
    });
    expect(protectedHeader.alg).toBe("HS256");
    expect(payload).toEqual({ sub: "alice", iat: 1_900_000_000, exp: 1_900_000_060, aud: "app", iss: "me" });
  });

  it("refuses arguments the Worker never accepts", async () => {
    await expect(mintClientToken({ secret, userId: "a b", ttlSeconds: 60 })).rejects.toMatchObject({ code: "invalid_argument", field: "userId" });
    await expect(mintClientToken({ secret, userId: "a", ttlSeconds: 0 })).rejects.toMatchObject({ field: "ttlSeconds" });
    await expect(mintClientToken({ secret: "", userId: "a", ttlSeconds: 1 })).rejects.toMatchObject({ field: "secret" });
  });
});

describe("verifyWebhook", () => {
  async function sign(body: string, t: number): Promise<string> {
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${t}.${body}`)));
    return `t=${t},v1=${[...mac].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  }

  it("accepts any of several v1 signatures (secret rotation) and refuses a malformed one", async () => {
    const t = 1_900_000_000;
    const good = await sign("{}", t);
    const rotated = `t=${t},v1=${"0".repeat(64)},${good.split(",")[1]}`;
    expect(await verifyWebhook(secret, rotated, "{}", { now: t })).toBe(true);
    expect(await verifyWebhook(secret, `t=${t},v1=xyz`, "{}", { now: t })).toBe(false);
    expect(await verifyWebhook(secret, good, "{}", { now: t - 301 })).toBe(false);
  });
});
