/** The fuzz run's token pool: good tokens of every algorithm for each user, and tokens that must be refused, each with why. */
import { algNone, claimsFor, es256, hs256, nowSeconds, rs256, tamper, type KeyMaterial } from "../tokens.ts";
import type { TokenPool } from "./cases.ts";

export interface Issuer {
  secret: string;
  audience: string;
  issuer: string;
}

export async function makeTokens(keys: KeyMaterial, users: readonly string[], iss: Issuer): Promise<TokenPool> {
  const { secret, audience, issuer } = iss;
  const good: TokenPool["good"] = [];
  for (const sub of users) good.push({ token: await hs256(claimsFor(sub, 3600, audience, issuer), secret), sub, kind: "hs256" });
  for (const sub of users.slice(0, 5)) {
    good.push({ token: await rs256(claimsFor(sub, 3600, audience, issuer), keys.rsa.privateKey), sub, kind: "rs256" });
    good.push({ token: await es256(claimsFor(sub, 3600, audience, issuer), keys.ec.privateKey), sub, kind: "es256" });
  }
  const c = claimsFor(users[0] ?? "u", 3600, audience, issuer);
  const now = nowSeconds();
  const goodOne = good[0]?.token ?? "";
  const pem = new TextEncoder().encode(keys.rsa.publicPem);
  const bad: TokenPool["bad"] = [
    { token: "", kind: "empty" },
    { token: "x", kind: "garbage" },
    { token: "a.b.c", kind: "garbage3" },
    { token: "...", kind: "dots" },
    { token: "e30.e30.", kind: "empty-objects" },
    { token: algNone(c), kind: "alg-none" },
    { token: algNone(c, goodOne.split(".")[2]), kind: "alg-none-sig" },
    { token: await hs256(c, pem), kind: "hs-with-rsa-pem" },
    { token: tamper(goodOne, { ...c, sub: "mallory" }), kind: "tampered" },
    { token: await hs256(c, "wrong-secret-0123456789"), kind: "wrong-secret" },
    { token: await hs256({ ...c, exp: now - 5 }, secret), kind: "expired" },
    { token: await hs256({ ...c, nbf: now + 120 }, secret), kind: "nbf-future" },
    { token: await hs256({ ...c, iat: now + 120 }, secret), kind: "iat-future" },
    { token: await hs256({ ...c, aud: "other" }, secret), kind: "wrong-aud" },
    { token: await hs256({ ...c, iss: "https://evil.example" }, secret), kind: "wrong-iss" },
    { token: await hs256(claimsFor(users[0] ?? "u", 3600), secret), kind: "no-aud-iss" },
    { token: await hs256({ ...c, sub: "a/b" }, secret), kind: "bad-sub" },
    { token: await hs256({ aud: audience, iss: issuer, exp: now + 600 }, secret), kind: "no-sub" },
    { token: await rs256(c, keys.strangerRsa.privateKey), kind: "stranger-rsa" },
    { token: `${goodOne}x`, kind: "sig-suffix" },
    { token: goodOne.slice(0, -2), kind: "sig-truncated" },
    { token: "x".repeat(8000), kind: "huge" },
    { token: "bearer.x", kind: "bearer-dot" },
  ];
  return { good, bad };
}
