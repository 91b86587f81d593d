/**
 * npm run token — mint a client token outside dev mode (for `npm run serve`,
 * or any deployment whose JWT_SECRET you hold):
 *
 *   JWT_SECRET=… npm run -s token -- --user alice [--ttl 3600]
 *
 * Prints only the token on stdout, so `export TOKEN=$(npm run -s token -- --user alice)`
 * works. HS256 with JWT_SECRET, `sub` = the user, `iat`/`exp`, and `aud`/`iss`
 * when JWT_AUDIENCE/JWT_ISSUER are set: exactly what src/auth/jwt.ts checks.
 * A secret the Worker would refuse (unset, under 32 bytes) is refused here too,
 * so a token this prints is one the service accepts.
 */
import { isUserId, nameRule, USER_ID_MAX } from "@switchboard/protocol";
import { SignJWT } from "jose";
import { secretProblem } from "../src/config.ts";
import { type CliSpec, parseCommandLine, usageError } from "./lib/cli.ts";

/** Longest lifetime minted here (30 days): a client token is meant to be renewed, not kept. */
const MAX_TTL_SECONDS = 30 * 24 * 3600;
const DEFAULT_TTL_SECONDS = 3600;
const TOKEN_CLI = {
  command: "npm run -s token --",
  summary: "Mint a client token (HS256 with JWT_SECRET from the environment; aud/iss from JWT_AUDIENCE/JWT_ISSUER when set). Prints only the token.",
  options: {
    user: { type: "string", value: "USER_ID", help: "the token's user (`sub`), required" },
    ttl: { type: "string", value: "SECONDS", help: `lifetime, 1 to ${MAX_TTL_SECONDS} (default ${DEFAULT_TTL_SECONDS})` },
  },
  notes: ["example: export TOKEN=$(JWT_SECRET=… npm run -s token -- --user alice)"],
} satisfies CliSpec;

function fail(message: string): never {
  return usageError(TOKEN_CLI, message);
}
const { values } = parseCommandLine(TOKEN_CLI);

const secret = process.env.JWT_SECRET?.trim();
if (secret === undefined || secret === "") fail("JWT_SECRET is not set in the environment (the same value the service runs with)");
const weak = secretProblem(secret, undefined);
if (weak !== undefined) fail(`${weak}; the service refuses it, so its tokens would open nothing`);

const user = values.user;
if (user === undefined) fail("--user is required");
const shownUser = JSON.stringify(user.slice(0, 40));
if (!isUserId(user)) fail(`${nameRule("--user", USER_ID_MAX)} (got ${shownUser})`);

const ttlRaw = values.ttl ?? String(DEFAULT_TTL_SECONDS);
const ttl = /^\d+$/.test(ttlRaw) ? Number(ttlRaw) : Number.NaN;
if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS)
  fail(`--ttl must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS} (got ${JSON.stringify(ttlRaw)})`);

const now = Math.floor(Date.now() / 1000);
let jwt = new SignJWT({})
  .setProtectedHeader({ alg: "HS256", typ: "JWT" })
  .setSubject(user)
  .setIssuedAt(now)
  .setExpirationTime(now + ttl);
const audience = process.env.JWT_AUDIENCE?.trim();
const issuer = process.env.JWT_ISSUER?.trim();
if (audience !== undefined && audience !== "") jwt = jwt.setAudience(audience);
if (issuer !== undefined && issuer !== "") jwt = jwt.setIssuer(issuer);
console.log(await jwt.sign(new TextEncoder().encode(secret)));
