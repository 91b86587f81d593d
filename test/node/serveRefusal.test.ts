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
const GOOD = { JWT_SECRET: GOOD_SECRET, API_KEY: GOOD_KEY };
const HOOK = { WEBHOOK_SECRET: "serve-refusal-webhook-secret" };

function serve(env: Record<string, string>): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [join(ROOT, "tools/serve.ts")], {
    cwd: ROOT,
    // A port nobody listens on: if a case wrongly starts, it fails on the timeout, not on a clash.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, SWITCHBOARD_ADDRESS: "127.0.0.1:9279", SWITCHBOARD_DIST: join(ROOT, "dist/refusal"), ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("npm run serve refuses weak or development secrets, and anything the Worker or workerd would refuse", () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ["the development JWT secret", { JWT_SECRET: DEV_JWT_SECRET, API_KEY: GOOD_KEY }, /JWT_SECRET is the development value/],
    ["the development API key", { JWT_SECRET: GOOD_SECRET, API_KEY: DEV_API_KEY }, /API_KEY is the development value/],
    ["the development secrets with DEV_MODE=1", { JWT_SECRET: DEV_JWT_SECRET, API_KEY: DEV_API_KEY, DEV_MODE: "1" }, /development value/],
    ["a JWT secret under 32 bytes", { JWT_SECRET: "short", API_KEY: GOOD_KEY }, /JWT_SECRET is 5 bytes; HS256 needs at least 32 \(RFC 7518 §3\.2\)/],
    ["an API key under 16 characters", { JWT_SECRET: GOOD_SECRET, API_KEY: "k" }, /API_KEY is 1 characters; use at least 16/],
    [
      "the development VAPID key, even with DEV_MODE=1",
      {
        JWT_SECRET: GOOD_SECRET,
        API_KEY: GOOD_KEY,
        DEV_MODE: "1",
        VAPID_PUBLIC_KEY: DEV_VAPID_PUBLIC_KEY,
        VAPID_PRIVATE_KEY: DEV_VAPID_PRIVATE_KEY,
        VAPID_SUBJECT: DEV_VAPID_SUBJECT,
      },
      /VAPID_PRIVATE_KEY is the development value/,
    ],
    [
      "a half-set VAPID config",
      { JWT_SECRET: GOOD_SECRET, API_KEY: GOOD_KEY, VAPID_SUBJECT: "mailto:ops@example.com" },
      /VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY not set/,
    ],
    ["a malformed knob", { JWT_SECRET: GOOD_SECRET, API_KEY: GOOD_KEY, MAX_SESSIONS_PER_USER: "lots" }, /MAX_SESSIONS_PER_USER must be an integer/],
    // The Worker would answer every request 500 misconfigured on these: serve must not listen.
    ["a partial Pusher config (only PUSHER_KEY)", { ...GOOD, PUSHER_KEY: "abc" }, /PUSHER_APP_ID is not set \(required with PUSHER_KEY/],
    ["a partial Pusher config (no PUSHER_SECRET)", { ...GOOD, PUSHER_KEY: "abc", PUSHER_APP_ID: "app" }, /PUSHER_SECRET is not set/],
    ["an out-of-range number", { ...GOOD, DEFAULT_TTL: "604801" }, /DEFAULT_TTL must be an integer from 0 to 604800/],
    ["a fractional number", { ...GOOD, STALE_AFTER: "1.5" }, /STALE_AFTER must be an integer/],
    ["REAP_INTERVAL under a minute", { ...GOOD, REAP_INTERVAL: "30" }, /REAP_INTERVAL must be 0 \(off\)/],
    ["WEBHOOK_URL without WEBHOOK_SECRET", { ...GOOD, WEBHOOK_URL: "https://hooks.example.test/x" }, /WEBHOOK_SECRET is not set/],
    ["a WEBHOOK_URL that is not http(s)", { ...GOOD, WEBHOOK_URL: "ftp://hooks.example.test/x", WEBHOOK_SECRET: "s" }, /WEBHOOK_URL must be http: or https:/],
    // serve's own knobs.
    ["a SWITCHBOARD_EGRESS that is neither public nor private", { ...GOOD, SWITCHBOARD_EGRESS: "open" }, /SWITCHBOARD_EGRESS must be public or private/],
    ["a malformed SWITCHBOARD_NOFILE", { ...GOOD, SWITCHBOARD_NOFILE: "many" }, /SWITCHBOARD_NOFILE must be an integer/],
    ["a malformed SWITCHBOARD_DRAIN_MS", { ...GOOD, SWITCHBOARD_DRAIN_MS: "-1" }, /SWITCHBOARD_DRAIN_MS must be an integer/],
    ["an open-file limit with no room for sessions", { ...GOOD, SWITCHBOARD_NOFILE: "900" }, /leaves no room for sessions .*SWITCHBOARD_NOFILE/],
    [
      "a MAX_CONNECTIONS the open-file limit cannot hold",
      { ...GOOD, SWITCHBOARD_NOFILE: "2000", MAX_CONNECTIONS: "500" },
      /MAX_CONNECTIONS=500 is more than .* raise SWITCHBOARD_NOFILE to at least 3500/,
    ],
    // The runtime refuses loopback and private addresses under the default egress (tools/lib/egress.ts).
    [
      "a loopback WEBHOOK_URL under SWITCHBOARD_EGRESS=public",
      { ...GOOD, ...HOOK, WEBHOOK_URL: "http://127.0.0.1:9/hook" },
      /WEBHOOK_URL's address 127\.0\.0\.1 is not public.*SWITCHBOARD_EGRESS=private/,
    ],
    [
      "a localhost WEBHOOK_URL by default",
      { ...GOOD, ...HOOK, WEBHOOK_URL: "http://localhost:9/hook" },
      /host localhost is loopback.*SWITCHBOARD_EGRESS=private/,
    ],
    ["a private-network WEBHOOK_URL by default", { ...GOOD, ...HOOK, WEBHOOK_URL: "http://[fd00::1]/hook" }, /address fd00::1 is not public/],
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
