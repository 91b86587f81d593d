import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { verifyClientToken } from "../src/auth/jwt";
import { parseConfig, type Config } from "../src/config";
import { api, connect, tokenFor, uniqueUser } from "./helpers";

const SECRET = "unit-test-secret-0123456789abcdef";
const enc = new TextEncoder();

function config(vars: Record<string, string> = {}): Config {
  const result = parseConfig({ JWT_SECRET: SECRET, API_KEY: "unit-test-api-key-0123", ...vars });
  if (!result.ok) throw new Error(result.problem);
  return result.config;
}

const now = () => Math.floor(Date.now() / 1000);

function hs(claims: Record<string, unknown>, secret: string | Uint8Array = SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(typeof secret === "string" ? enc.encode(secret) : secret);
}

const b64url = (s: string) => btoa(s).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");

describe("client token table", () => {
  const cfg = config();

  it("accepts a good HS256 token and reports sub and exp", async () => {
    const exp = now() + 600;
    const result = await verifyClientToken(await hs({ sub: "alice", exp }), cfg);
    expect(result).toEqual({ ok: true, identity: { userId: "alice", expiresAt: exp * 1000 } });
  });

  it("refuses alg none, a tampered payload, a wrong secret, missing claims, a bad sub", async () => {
    const exp = now() + 600;
    const good = await hs({ sub: "alice", exp });
    const [h, , sig] = good.split(".");
    const cases: Record<string, string> = {
      none: `${b64url(JSON.stringify({ alg: "none" }))}.${b64url(JSON.stringify({ sub: "alice", exp }))}.`,
      noneWithSig: `${b64url(JSON.stringify({ alg: "none" }))}.${b64url(JSON.stringify({ sub: "alice", exp }))}.${sig}`,
      tampered: `${h}.${b64url(JSON.stringify({ sub: "mallory", exp }))}.${sig}`,
      wrongSecret: await hs({ sub: "alice", exp }, "another-secret"),
      noSub: await hs({ exp }),
      noExp: await hs({ sub: "alice" }),
      badSub: await hs({ sub: "alice/../bob", exp }),
      numericSub: await hs({ sub: 42, exp }),
      hs512: await new SignJWT({ sub: "alice", exp }).setProtectedHeader({ alg: "HS512" }).sign(enc.encode(SECRET)),
      garbage: "a.b.c",
      empty: "",
    };
    for (const [name, token] of Object.entries(cases)) {
      expect((await verifyClientToken(token, cfg)).ok, name).toBe(false);
    }
  });

  it("exp is strict; nbf and iat allow 60 s of skew, and no more", async () => {
    const t = now();
    const ok = async (claims: Record<string, unknown>) => (await verifyClientToken(await hs({ sub: "a", ...claims }), cfg)).ok;
    expect(await ok({ exp: t - 1 })).toBe(false);
    expect(await ok({ exp: t + 5 })).toBe(true);
    expect(await ok({ exp: t + 600, nbf: t + 55 })).toBe(true);
    expect(await ok({ exp: t + 600, nbf: t + 65 })).toBe(false);
    expect(await ok({ exp: t + 600, iat: t + 55 })).toBe(true);
    expect(await ok({ exp: t + 600, iat: t + 65 })).toBe(false);
  });

  it("checks aud and iss when configured", async () => {
    const strict = config({ JWT_AUDIENCE: "switchboard", JWT_ISSUER: "https://auth.example.com" });
    const exp = now() + 600;
    const ok = async (claims: Record<string, unknown>) => (await verifyClientToken(await hs({ sub: "a", exp, ...claims }), strict)).ok;
    expect(await ok({ aud: "switchboard", iss: "https://auth.example.com" })).toBe(true);
    expect(await ok({ aud: "other", iss: "https://auth.example.com" })).toBe(false);
    expect(await ok({ aud: "switchboard", iss: "https://evil.example.com" })).toBe(false);
    expect(await ok({ iss: "https://auth.example.com" })).toBe(false);
    expect(await ok({ aud: "switchboard" })).toBe(false);
  });

  it("RS256/ES256 from a JWKS; an HS256 token MAC'd with the public key is refused (HS/RS confusion)", async () => {
    const rsa = await generateKeyPair("RS256", { extractable: true });
    const ec = await generateKeyPair("ES256", { extractable: true });
    const rsaJwk = { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256" };
    const ecJwk = { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256" };
    const withKeys = config({ JWT_PUBLIC_KEYS: JSON.stringify({ keys: [rsaJwk, ecJwk] }) });
    const exp = now() + 600;
    const rs = await new SignJWT({ sub: "alice", exp }).setProtectedHeader({ alg: "RS256", kid: "rsa-1" }).sign(rsa.privateKey);
    const es = await new SignJWT({ sub: "alice", exp }).setProtectedHeader({ alg: "ES256", kid: "ec-1" }).sign(ec.privateKey);
    expect((await verifyClientToken(rs, withKeys)).ok).toBe(true);
    expect((await verifyClientToken(es, withKeys)).ok).toBe(true);
    expect((await verifyClientToken(rs, cfg)).ok).toBe(false); // not configured: refused

    // The classic confusion: use the RSA public key's bytes as an HMAC secret.
    const spki = new Uint8Array((await crypto.subtle.exportKey("spki", rsa.publicKey)) as ArrayBuffer);
    const confused = await new SignJWT({ sub: "alice", exp }).setProtectedHeader({ alg: "HS256", kid: "rsa-1" }).sign(spki);
    expect((await verifyClientToken(confused, withKeys)).ok).toBe(false);
    const rsWithHsHeader = `${b64url(JSON.stringify({ alg: "HS256", kid: "rsa-1" }))}.${rs.split(".")[1]}.${rs.split(".")[2]}`;
    expect((await verifyClientToken(rsWithHsHeader, withKeys)).ok).toBe(false);
  });
});

describe("a client token opens only its own user's sessions", () => {
  it("a token for one user connects as that user, whatever the query says, and opens no server endpoint", async () => {
    const alice = uniqueUser("alice");
    const bob = uniqueUser("bob");
    const c = await connect(alice, { token: await tokenFor(alice) });
    expect(c.welcome.userId).toBe(alice);
    const asBob = await connect(bob, { token: await tokenFor(alice) });
    expect(asBob.welcome.userId).toBe(alice);
    for (const path of [`/users/${bob}/presence`, `/users/${bob}/messages`, `/users/${alice}/presence`]) {
      const res = await api(path, { headers: { Authorization: `Bearer ${await tokenFor(alice)}` } });
      expect(res.status, path).toBe(401);
    }
    c.close();
    asBob.close();
  });
});

describe("mid-session expiry", () => {
  it("the session is closed with 1008 when its token expires", async () => {
    const user = uniqueUser();
    const token = await new SignJWT({ sub: user })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(now() + 2)
      .sign(enc.encode(env.JWT_SECRET));
    const c = await connect(user, { token });
    const closed = await (async () => {
      await c.until(() => c.closed !== undefined, "close at exp", 8000);
      return c.closed;
    })();
    expect(closed?.code).toBe(1008);
  }, 15_000);
});
