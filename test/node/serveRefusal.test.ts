/**
 * `npm run serve` refuses to start on secrets the Worker would refuse (or that
 * are the development ones), naming the problem, instead of listening and
 * answering every request 500 `misconfigured`. The check runs before the
 * bundle is built, so each case exits at once.
 */
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DEV_API_KEY, DEV_JWT_SECRET } from "../../src/config.ts";
import { DEV_VAPID_PUBLIC_KEY, DEV_VAPID_PRIVATE_KEY, DEV_VAPID_SUBJECT } from "../../src/webpush/config.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const GOOD_SECRET = "serve-refusal-jwt-secret-0123456789abcdef";
const GOOD_KEY = "serve-refusal-api-key-0123";

function serve(env: Record<string, string>): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [join(ROOT, "scripts/serve.ts")], {
    cwd: ROOT,
    // A port nobody listens on: if a case wrongly starts, it fails on the timeout, not on a clash.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, SWITCHBOARD_ADDRESS: "127.0.0.1:9279", SWITCHBOARD_DIST: join(ROOT, "dist/refusal"), ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("npm run serve refuses weak or development secrets", () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ["the development JWT secret", { JWT_SECRET: DEV_JWT_SECRET, API_KEY: GOOD_KEY }, /JWT_SECRET is the development value/],
    ["the development API key", { JWT_SECRET: GOOD_SECRET, API_KEY: DEV_API_KEY }, /API_KEY is the development value/],
    ["the development secrets with DEV_MODE=1", { JWT_SECRET: DEV_JWT_SECRET, API_KEY: DEV_API_KEY, DEV_MODE: "1" }, /development value/],
    ["a JWT secret under 32 bytes", { JWT_SECRET: "short", API_KEY: GOOD_KEY }, /JWT_SECRET is 5 bytes; HS256 needs at least 32 \(RFC 7518 §3\.2\)/],
    ["an API key under 16 characters", { JWT_SECRET: GOOD_SECRET, API_KEY: "k" }, /API_KEY is 1 characters; use at least 16/],
    [
      "the development VAPID key, even with DEV_MODE=1",
      { JWT_SECRET: GOOD_SECRET, API_KEY: GOOD_KEY, DEV_MODE: "1", VAPID_PUBLIC_KEY: DEV_VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY: DEV_VAPID_PRIVATE_KEY, VAPID_SUBJECT: DEV_VAPID_SUBJECT },
      /VAPID_PRIVATE_KEY is the development value/,
    ],
    ["a half-set VAPID config", { JWT_SECRET: GOOD_SECRET, API_KEY: GOOD_KEY, VAPID_SUBJECT: "mailto:ops@example.com" }, /VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY not set/],
    ["a malformed knob", { JWT_SECRET: GOOD_SECRET, API_KEY: GOOD_KEY, MAX_SESSIONS_PER_USER: "lots" }, /MAX_SESSIONS_PER_USER must be an integer/],
  ];
  for (const [what, env, message] of cases) {
    it(`refuses ${what}`, () => {
      const { status, output } = serve(env);
      expect(status, output).toBe(1);
      expect(output).toMatch(/refusing to start/);
      expect(output).toMatch(message);
      expect(output).not.toMatch(/listening/);
    });
  }
});
