/**
 * The JWT table, end to end against a running service: every row is a real
 * connect (or a server-endpoint call) and its outcome. Plus mid-session expiry:
 * a session whose token expires a few seconds after connect is closed with 1008
 * at `exp` by the user object's alarm.
 */
import { rawRequest, errorShape } from "./rawHttp.ts";
import { algNone, claimsFor, es256, hs256, hs256Raw, nowSeconds, rs256, tamper, type Claims, type KeyMaterial } from "./tokens.ts";
import { isOpen, openSession } from "./wsSession.ts";

export interface JwtRow {
  name: string;
  expect: "accept" | "refuse";
  got: string;
  pass: boolean;
}

export interface JwtServer {
  port: number;
  wsBase: string;
  apiKey: string;
  /** Undefined when the server has no JWT_SECRET (JWKS only). */
  secret: string | undefined;
  audience: string | undefined;
  issuer: string | undefined;
  keys: KeyMaterial;
  label: string;
}

async function connectWith(s: JwtServer, token: string, via: "header" | "protocol" | "query"): Promise<{ status: number; userId?: string; detail: string }> {
  const q = new URLSearchParams({ device: "jwt-table" });
  if (via === "query") q.set("token", token);
  const r = await openSession(`${s.wsBase}/v1/connect?${q}`, {
    headers: via === "header" ? { Authorization: `Bearer ${token}` } : {},
    protocols: via === "protocol" ? ["switchboard.v1", `bearer.${token}`] : [],
  });
  if (!isOpen(r)) {
    if (r.kind === "refused") {
      const shape = errorShape(Buffer.from(r.body));
      return { status: r.status, detail: `${r.status} ${shape?.message ?? r.body.slice(0, 60)}` };
    }
    return { status: 0, detail: `failed: ${r.error}` };
  }
  await r.until(() => r.welcome !== undefined, 5000);
  const userId = typeof r.welcome?.userId === "string" ? r.welcome.userId : undefined;
  r.close();
  return { status: 101, userId, detail: `101 as ${String(userId)}` };
}

export async function runJwtTable(s: JwtServer, log: (line: string) => void): Promise<JwtRow[]> {
  const rows: JwtRow[] = [];
  const now = nowSeconds();
  const base = (sub = "jwt-alice", ttl = 600): Claims => claimsFor(sub, ttl, s.audience, s.issuer);
  const hsSecret = s.secret;
  const good = hsSecret !== undefined ? await hs256(base(), hsSecret) : await rs256(base(), s.keys.rsa.privateKey);
  const sign = (c: Claims) => (hsSecret !== undefined ? hs256(c, hsSecret) : rs256(c, s.keys.rsa.privateKey));
  const pem = new TextEncoder().encode(s.keys.rsa.publicPem);
  const jwkText = new TextEncoder().encode(JSON.stringify(s.keys.rsa.publicJwk));
  const nBytes = Buffer.from(String(s.keys.rsa.publicJwk.n), "base64url");
  const table: Array<{ name: string; token: string; expect: "accept" | "refuse"; sub?: string; via?: "header" | "protocol" | "query" }> = [
    { name: "good (header)", token: good, expect: "accept", sub: "jwt-alice" },
    { name: "good (subprotocol)", token: good, expect: "accept", sub: "jwt-alice", via: "protocol" },
    { name: "good (?token=)", token: good, expect: "accept", sub: "jwt-alice", via: "query" },
    { name: "RS256 from the JWKS", token: await rs256(base("jwt-rs"), s.keys.rsa.privateKey), expect: "accept", sub: "jwt-rs" },
    { name: "ES256 from the JWKS", token: await es256(base("jwt-es"), s.keys.ec.privateKey), expect: "accept", sub: "jwt-es" },
    { name: "RS256 without kid", token: await rs256(base("jwt-rs2"), s.keys.rsa.privateKey, undefined), expect: "accept", sub: "jwt-rs2" },
    { name: "alg none, empty signature", token: algNone(base()), expect: "refuse" },
    { name: "alg none, borrowed signature", token: algNone(base(), good.split(".")[2] ?? ""), expect: "refuse" },
    { name: "alg NONE (case)", token: algNone(base(), "", "NONE"), expect: "refuse" },
    { name: "HS256 MAC'd with the RSA public key (PEM)", token: await hs256(base(), pem), expect: "refuse" },
    { name: "HS256 MAC'd with the RSA public key (JWK JSON)", token: await hs256(base(), jwkText), expect: "refuse" },
    { name: "HS256 MAC'd with the RSA modulus", token: await hs256(base(), nBytes), expect: "refuse" },
    { name: "HS256 MAC'd with the PEM, kid of the RSA key", token: await hs256(base(), pem, { kid: "rsa-1" }), expect: "refuse" },
    { name: "RS256 by a key not in the JWKS", token: await rs256(base(), s.keys.strangerRsa.privateKey), expect: "refuse" },
    { name: "RS256 by a stranger, kid of the RSA key", token: await rs256(base(), s.keys.strangerRsa.privateKey, "rsa-1"), expect: "refuse" },
    { name: "ES256 header, kid of the RSA key", token: await es256(base(), s.keys.ec.privateKey, "rsa-1"), expect: "refuse" },
    { name: "tampered payload (sub)", token: tamper(good, { ...base("jwt-mallory") }), expect: "refuse" },
    { name: "tampered payload (exp extended)", token: tamper(await sign(base("jwt-alice", 5)), base("jwt-alice", 99_999)), expect: "refuse" },
    { name: "wrong secret", token: await hs256(base(), "not-the-secret-0123456789"), expect: "refuse" },
    { name: "expired 1 s ago", token: await sign({ ...base(), exp: now - 1 }), expect: "refuse" },
    { name: "exp = now (strict)", token: await sign({ ...base(), exp: now }), expect: "refuse" },
    { name: "exp 61 s ago (no skew on exp)", token: await sign({ ...base(), exp: now - 61 }), expect: "refuse" },
    { name: "exp in 5 s", token: await sign({ ...base(), exp: now + 5 }), expect: "accept", sub: "jwt-alice" },
    { name: "nbf now+50 (within skew)", token: await sign({ ...base(), nbf: now + 50 }), expect: "accept", sub: "jwt-alice" },
    { name: "nbf now+70 (beyond skew)", token: await sign({ ...base(), nbf: now + 70 }), expect: "refuse" },
    { name: "iat now+50 (within skew)", token: await sign({ ...base(), iat: now + 50 }), expect: "accept", sub: "jwt-alice" },
    { name: "iat now+70 (beyond skew)", token: await sign({ ...base(), iat: now + 70 }), expect: "refuse" },
    { name: "missing sub", token: await sign((({ sub: _sub, ...rest }) => rest)(base())), expect: "refuse" },
    { name: "missing exp", token: await sign((({ exp: _exp, ...rest }) => rest)(base())), expect: "refuse" },
    { name: "exp as a string", token: await sign({ ...base(), exp: String(now + 600) as unknown as number }), expect: "refuse" },
    { name: "sub not a userId (a/b)", token: await sign(base("a/b")), expect: "refuse" },
    { name: "sub 129 chars", token: await sign(base("a".repeat(129))), expect: "refuse" },
    { name: "sub empty", token: await sign(base("")), expect: "refuse" },
    { name: "sub numeric", token: await sign({ ...base(), sub: 42 as unknown as string }), expect: "refuse" },
    { name: "HS512 with the secret", token: hsSecret === undefined ? "x.y.z" : await hs512(base(), hsSecret), expect: "refuse" },
    { name: "garbage", token: "not.a.jwt", expect: "refuse" },
    { name: "five-part (JWE-shaped)", token: `${good}.x.y`, expect: "refuse" },
    {
      name: "crit header (unknown extension)",
      token: hsSecret === undefined ? "x" : hs256Raw({ crit: ["x-unknown"], "x-unknown": 1 }, base(), hsSecret),
      expect: "refuse",
    },
    {
      name: "good claims, HS256 signed over a raw header with kid",
      token: hsSecret === undefined ? "x.y.z" : hs256Raw({ kid: "rsa-1", typ: "JWT" }, base(), hsSecret),
      expect: hsSecret === undefined ? "refuse" : "accept",
      sub: "jwt-alice",
    },
  ];
  if (s.audience !== undefined) {
    table.push(
      { name: "wrong aud", token: await sign({ ...base(), aud: "someone-else" }), expect: "refuse" },
      { name: "missing aud", token: await sign((({ aud: _a, ...rest }) => rest)(base())), expect: "refuse" },
      { name: "aud array incl. ours", token: await sign({ ...base(), aud: ["x", s.audience] }), expect: "accept", sub: "jwt-alice" },
    );
  }
  if (s.issuer !== undefined) {
    table.push(
      { name: "wrong iss", token: await sign({ ...base(), iss: "https://evil.example" }), expect: "refuse" },
      { name: "missing iss", token: await sign((({ iss: _i, ...rest }) => rest)(base())), expect: "refuse" },
    );
  }
  for (const row of table) {
    const result = await connectWith(s, row.token, row.via ?? "header");
    let pass: boolean;
    if (row.expect === "accept") pass = result.status === 101 && result.userId === row.sub;
    else pass = result.status === 401;
    rows.push({ name: `[${s.label}] connect: ${row.name}`, expect: row.expect, got: result.detail, pass });
  }

  // A client token never opens a server endpoint, not even for its own user's data.
  const aliceToken = good;
  const endpoints: Array<{ method: string; path: string; body?: string }> = [
    { method: "GET", path: "/v1/users/jwt-alice/presence" },
    { method: "GET", path: "/v1/users/jwt-alice/messages" },
    { method: "POST", path: "/v1/users/jwt-alice/messages", body: '{"data":1}' },
    { method: "DELETE", path: "/v1/users/jwt-alice/sessions" },
    { method: "GET", path: "/v1/users/jwt-bob/presence" },
    { method: "POST", path: "/v1/users/jwt-bob/messages", body: '{"data":1}' },
    { method: "POST", path: "/v1/messages", body: '{"data":1,"userIds":["jwt-bob"]}' },
    { method: "POST", path: "/v1/broadcast", body: '{"data":1}' },
    { method: "GET", path: "/v1/stats" },
  ];
  for (const e of endpoints) {
    for (const [how, headers] of [
      ["Bearer", [["Authorization", `Bearer ${aliceToken}`]]],
      ["?token=", []],
    ] as Array<[string, Array<[string, string]>]>) {
      const target = how === "?token=" ? `${e.path}?token=${aliceToken}` : e.path;
      const h: Array<[string, string]> = [...headers];
      if (e.body !== undefined) h.push(["Content-Type", "application/json"]);
      const res = await rawRequest(s.port, { method: e.method, target, headers: h, body: e.body });
      rows.push({
        name: `[${s.label}] client token as server key (${how}): ${e.method} ${e.path}`,
        expect: "refuse",
        got: String(res.status),
        pass: res.status === 401,
      });
    }
  }
  // A token for alice only ever opens alice: query params naming someone else
  // are unknown parameters, refused with a 400 naming them (and never open bob).
  const cross = await openSession(`${s.wsBase}/v1/connect?device=x&user=jwt-bob&userId=jwt-bob&sub=jwt-bob`, {
    headers: { Authorization: `Bearer ${aliceToken}` },
  });
  let crossGot = "not opened";
  let crossPass = false;
  if (!isOpen(cross) && cross.kind === "refused") {
    crossGot = `refused ${cross.status}`;
    crossPass = cross.status === 400 && cross.body.includes('"field":"user"');
  }
  if (isOpen(cross)) {
    await cross.until(() => cross.welcome !== undefined, 5000);
    crossGot = `opened: welcome for ${String(cross.welcome?.userId)}`;
    cross.close();
  }
  rows.push({ name: `[${s.label}] alice's token with ?user=jwt-bob opens no one (400 naming user)`, expect: "refuse", got: crossGot, pass: crossPass });
  for (const r of rows) if (!r.pass) log(`  JWT FAIL ${r.name}: expected ${r.expect}, got ${r.got}`);
  return rows;
}

async function hs512(claims: Claims, secret: string): Promise<string> {
  const { SignJWT } = await import("jose");
  return new SignJWT(claims).setProtectedHeader({ alg: "HS512" }).sign(new TextEncoder().encode(secret));
}

export interface ExpiryResult {
  pass: boolean;
  detail: string;
  /** ms between `exp` and the close arriving. */
  lagMs: number | undefined;
}

/** A session whose token expires `inSeconds` after now must be closed with 1008 at `exp` (not before). */
export async function midSessionExpiry(s: JwtServer, inSeconds: number): Promise<ExpiryResult> {
  const exp = nowSeconds() + inSeconds;
  const claims: Claims = { ...claimsFor("jwt-expiring", 0, s.audience, s.issuer), exp };
  const token = s.secret !== undefined ? await hs256(claims, s.secret) : await rs256(claims, s.keys.rsa.privateKey);
  const r = await openSession(`${s.wsBase}/v1/connect?device=expiring`, { headers: { Authorization: `Bearer ${token}` } });
  if (!isOpen(r)) return { pass: false, detail: `could not connect: ${r.kind === "refused" ? r.status : r.error}`, lagMs: undefined };
  await r.until(() => r.welcome !== undefined, 5000);
  // Keep it alive with heartbeats, as a client would; the close must come from the token, not staleness.
  const beat = setInterval(() => r.send("ping"), 1000);
  const closed = await r.waitClosed((inSeconds + 30) * 1000);
  clearInterval(beat);
  if (closed === undefined) {
    r.terminate();
    return { pass: false, detail: `still open ${inSeconds + 30} s after connect (exp was +${inSeconds} s)`, lagMs: undefined };
  }
  const lag = closed.at - exp * 1000;
  const pass = closed.code === 1008 && lag >= -50;
  return { pass, detail: `closed ${closed.code} "${closed.reason}" ${lag} ms after exp`, lagMs: lag };
}
