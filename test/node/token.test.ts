/**
 * `npm run token` (tools/token.ts): the token it prints is accepted by the
 * Worker's own verifier (src/auth/jwt.ts) under the same config, for the user
 * and lifetime asked; bad arguments and weak or missing secrets exit non-zero
 * with a message and print no token.
 */
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../../src/config.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SECRET = "token-test-jwt-secret-0123456789abcdef";

type TokenResult = { ok: true; identity: { userId: string; expiresAt: number } } | { ok: false; reason: string };
type Verify = (token: string, config: Config, now?: number) => Promise<TokenResult>;

/** The Worker's verifier, loaded through vitest (src/ uses extensionless imports, which plain Node and the Node typecheck don't resolve). */
async function verifier(): Promise<Verify> {
  const path = join(ROOT, "src/auth/jwt.ts");
  const mod = (await import(/* @vite-ignore */ path)) as { verifyClientToken: Verify };
  return mod.verifyClientToken;
}

function token(args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "tools/token.ts"), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function config(vars: Record<string, string>): Config {
  const result = parseConfig({ API_KEY: "token-test-api-key-0123", ...vars });
  if (!result.ok) throw new Error(result.problem);
  return result.config;
}

describe("npm run token", () => {
  it("prints only a token the Worker accepts, for that user and ttl", async () => {
    const verify = await verifier();
    const before = Date.now();
    const r = token(["--user", "alice", "--ttl", "120"], { JWT_SECRET: SECRET });
    expect(r.status, r.stderr).toBe(0);
    const printed = r.stdout.trim();
    expect(printed.split("\n")).toHaveLength(1);
    const result = await verify(printed, config({ JWT_SECRET: SECRET }));
    expect(result).toMatchObject({ ok: true, identity: { userId: "alice" } });
    if (result.ok) {
      expect(result.identity.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 120_000);
      expect(result.identity.expiresAt).toBeLessThanOrEqual(Date.now() + 120_000);
    }
    // Another secret does not verify it.
    expect(await verify(printed, config({ JWT_SECRET: `${SECRET}-other` }))).toMatchObject({ ok: false });
  });

  it("sets aud and iss from JWT_AUDIENCE and JWT_ISSUER, which the Worker then requires", async () => {
    const verify = await verifier();
    const vars = { JWT_SECRET: SECRET, JWT_AUDIENCE: "switchboard-test", JWT_ISSUER: "https://issuer.test" };
    const r = token(["--user", "bob"], vars);
    expect(r.status, r.stderr).toBe(0);
    expect(await verify(r.stdout.trim(), config(vars))).toMatchObject({ ok: true, identity: { userId: "bob" } });
    const plain = token(["--user", "bob"], { JWT_SECRET: SECRET });
    expect(await verify(plain.stdout.trim(), config(vars))).toMatchObject({ ok: false });
  });

  const refusals: Array<[string, string[], Record<string, string>, RegExp]> = [
    ["no JWT_SECRET", ["--user", "alice"], {}, /JWT_SECRET is not set/],
    ["a JWT_SECRET under 32 bytes", ["--user", "alice"], { JWT_SECRET: "short" }, /JWT_SECRET is 5 bytes; HS256 needs at least 32/],
    ["no --user", [], { JWT_SECRET: SECRET }, /--user is required/],
    ["a bad user", ["--user", "a b"], { JWT_SECRET: SECRET }, /--user must be 1-128 characters/],
    ["a ttl that is not a number", ["--user", "alice", "--ttl", "1h"], { JWT_SECRET: SECRET }, /--ttl must be a whole number/],
    ["a ttl of 0", ["--user", "alice", "--ttl", "0"], { JWT_SECRET: SECRET }, /--ttl must be/],
    ["a ttl over 30 days", ["--user", "alice", "--ttl", "2592001"], { JWT_SECRET: SECRET }, /--ttl must be/],
    ["an unknown option", ["--usr", "alice"], { JWT_SECRET: SECRET }, /Unknown option '--usr'/],
  ];
  for (const [what, args, env, message] of refusals) {
    it(`refuses ${what}`, () => {
      const r = token(args, env);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain("usage:");
    });
  }
});
