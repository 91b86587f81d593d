/** The VAPID knobs: all three or none; shapes checked; the development key refused outside dev mode. */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { DEV_VAPID_PRIVATE_KEY, DEV_VAPID_PUBLIC_KEY, DEV_VAPID_SUBJECT } from "../../src/webpush/config";

const base = { JWT_SECRET: "test-jwt-secret-0123456789abcdef-xx", API_KEY: "test-api-key-0123456789" };
const keys = {
  VAPID_PUBLIC_KEY: "BFP_lcDlEhPOR8eOnFLkCYrN2uJ-BSaIJzVB0yOuWd0HLhgoSzwjTzZUkM-7e6JefoczrCElCt20MBnH0nCIelo",
  VAPID_PRIVATE_KEY: "d-qkPQd-jhtipHpSiimuGlhhDVpQhhuBeoKZOuytyU0",
  VAPID_SUBJECT: "mailto:ops@example.com",
};
const problem = (vars: Record<string, string>) => {
  const r = parseConfig({ ...base, ...vars });
  return r.ok ? undefined : r.problem;
};

describe("VAPID config", () => {
  it("none set: Web Push is off; all three set: on", () => {
    const off = parseConfig(base);
    expect(off.ok && off.config.webPush).toBeUndefined();
    const on = parseConfig({ ...base, ...keys });
    expect(on.ok && on.config.webPush).toEqual({ publicKey: keys.VAPID_PUBLIC_KEY, privateKey: keys.VAPID_PRIVATE_KEY, subject: keys.VAPID_SUBJECT });
  });

  it("a half-set or malformed VAPID config refuses every request, naming the knob", () => {
    expect(problem({ VAPID_PUBLIC_KEY: keys.VAPID_PUBLIC_KEY })).toMatch(/VAPID_PRIVATE_KEY and VAPID_SUBJECT not set/);
    expect(problem({ ...keys, VAPID_PUBLIC_KEY: keys.VAPID_PRIVATE_KEY })).toMatch(/^VAPID_PUBLIC_KEY must be/);
    expect(problem({ ...keys, VAPID_PRIVATE_KEY: keys.VAPID_PUBLIC_KEY })).toMatch(/^VAPID_PRIVATE_KEY must be/);
    expect(problem({ ...keys, VAPID_SUBJECT: "ops@example.com" })).toMatch(/^VAPID_SUBJECT must be a mailto: or https: URL/);
    expect(problem({ ...keys, VAPID_SUBJECT: "https://example.com/contact" })).toBeUndefined();
  });

  it("the development key pair of .dev.vars works only with DEV_MODE=1", () => {
    const dev = { VAPID_PUBLIC_KEY: DEV_VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY: DEV_VAPID_PRIVATE_KEY, VAPID_SUBJECT: DEV_VAPID_SUBJECT };
    expect(problem(dev)).toMatch(/VAPID_PRIVATE_KEY is the development default/);
    expect(problem({ ...dev, DEV_MODE: "1" })).toBeUndefined();
  });
});
