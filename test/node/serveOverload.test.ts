/**
 * `npm run serve` caps sessions at what workerd's open-file limit allows: with
 * SWITCHBOARD_NOFILE=1100 the cap is (1100 - 1000) / 5 = 20. Upgrades beyond
 * it are answered 503 with Retry-After (before the token is even read), the
 * service keeps answering, and a slot freed by a close is taken by the next
 * upgrade. Real sockets against the real script; the storm at 1.5× the cap
 * with the client SDK is in docs/operations.md ("Overload").
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../scripts/lib/time.ts";
import { clientToken } from "../../scripts/lib/tokens.ts";
import { isOpen, openSession, type OpenResult, type Session } from "../../scripts/lib/wsSession.ts";
import { type Service, startService } from "../../scripts/lib/service.ts";

const SECRETS = { JWT_SECRET: "serve-overload-jwt-secret-0123456789", API_KEY: "serve-overload-api-key-0123" };
const CAP = 20;
let run: Service;
const sessions: Session[] = [];

beforeAll(async () => {
  run = await startService({ kind: "serve", env: { ...SECRETS, SWITCHBOARD_NOFILE: "1100" } });
}, 120_000);
afterAll(async () => {
  for (const s of sessions) s.ws.terminate();
  await run?.stop();
});

const connectAs = (user: string): Promise<OpenResult> =>
  openSession(`${run.base.replace("http", "ws")}/v1/connect?token=${clientToken(SECRETS.JWT_SECRET, user)}`);

describe("npm run serve under more connections than its open-file limit allows", () => {
  it("says the cap it derived at start", async () => {
    await eventually("the start-up lines", async () => (run.output().includes("supervised") ? true : undefined));
    expect(run.output()).toContain(`session cap ${CAP} (from SWITCHBOARD_NOFILE`);
  });

  it("refuses upgrades beyond the cap with 503 and Retry-After, keeps serving, and admits again when a slot frees", async () => {
    // A burst: every upgrade in flight at once, so the cap must count the ones not yet accepted too.
    const burst = await Promise.all(Array.from({ length: CAP + 10 }, (_, i) => connectAs(`cap-${i}`)));
    for (const s of burst) if (isOpen(s)) sessions.push(s);
    const refusals: OpenResult[] = burst.filter((s) => s.kind === "refused");
    expect(sessions).toHaveLength(CAP);
    expect(refusals).toHaveLength(10);
    for (const user of ["over-1", "over-2", "cap-0"]) refusals.push(await connectAs(user));
    for (const refused of refusals) {
      expect(refused.kind).toBe("refused");
      if (refused.kind !== "refused") continue;
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: "over_capacity", message: expect.stringContaining("MAX_CONNECTIONS") } });
      const retryAfter = Number(refused.headers?.["retry-after"]);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(5);
    }
    // Only upgrades are capped: the API and health answer as usual.
    expect((await fetch(`${run.base}/healthz`)).status).toBe(200);
    const stats = await fetch(`${run.base}/v1/stats`, { headers: { Authorization: `Bearer ${SECRETS.API_KEY}` } });
    expect(stats.status).toBe(200);

    const leaving = sessions.splice(0, 3);
    for (const s of leaving) s.ws.close(1000);
    const back = await eventually("an upgrade admitted after three closes", async () => {
      const s = await connectAs("after-close");
      return isOpen(s) ? s : undefined;
    });
    sessions.push(back);
    expect(await back.until(() => back.welcome !== undefined)).toBe(true);
  });
});
