/**
 * GET /dev/token?user=<userId>[&ttl=<s>]: mints a client token with JWT_SECRET
 * for the demo page and the README's quick start. Exists only when DEV_MODE=1
 * (set by .dev.vars for `wrangler dev`); a deployment answers 404.
 */
import { SignJWT } from "jose";
import type { Config } from "../config";
import { jsonError } from "../http/errors";
import { isUserId, parseSeq } from "../protocol";

const MAX_DEV_TTL = 24 * 3600;

export async function mintDevToken(url: URL, config: Config): Promise<Response> {
  if (!config.devMode || config.jwtSecret === undefined) return jsonError(404, "not_found", "not found");
  const user = url.searchParams.get("user");
  if (!isUserId(user)) return jsonError(400, "bad_request", "user must be a valid userId", "user");
  const ttlRaw = url.searchParams.get("ttl");
  const ttl = ttlRaw === null ? 3600 : parseSeq(ttlRaw);
  if (ttl === undefined || ttl < 1 || ttl > MAX_DEV_TTL) {
    return jsonError(400, "bad_request", `ttl must be 1-${MAX_DEV_TTL} seconds`, "ttl");
  }
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(user).setIssuedAt(now).setExpirationTime(now + ttl);
  if (config.jwtAudience !== undefined) jwt = jwt.setAudience(config.jwtAudience);
  if (config.jwtIssuer !== undefined) jwt = jwt.setIssuer(config.jwtIssuer);
  const token = await jwt.sign(new TextEncoder().encode(config.jwtSecret));
  return Response.json({ token, userId: user, expiresAt: (now + ttl) * 1000 }, { headers: { "Cache-Control": "no-store" } });
}
