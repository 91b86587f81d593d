/**
 * `npm run serve` (tools/serve.ts): refuses to start without secrets; under
 * supervision, a SIGKILLed workerd is restarted on the same data dir (a stored
 * message is still there) and serves again; SIGTERM stops it cleanly, with no
 * restart and exit code 0.
 */
import { afterAll, describe, expect, it } from "vitest";
import { alive } from "../../tools/lib/processTree.ts";
import { type Service, ServiceExited, startService } from "../../scripts/lib/service.ts";
import { eventually } from "../../scripts/lib/time.ts";

const API_KEY = "serve-smoke-api-key-0123456789";
let s: Service | undefined;

afterAll(async () => {
  await s?.stop();
});

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${s?.base ?? ""}${path}`, { ...init, headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" } });
}

describe("npm run serve (smoke)", () => {
  it("refuses to start without secrets", async () => {
    const refused = await startService({ kind: "serve", direct: true }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ServiceExited);
    expect((refused as ServiceExited).code).toBe(1);
    expect((refused as ServiceExited).output).toContain("refusing to start");
  });

  it("restarts a SIGKILLed workerd on the same data dir, and stops cleanly on SIGTERM", async () => {
    s = await startService({ kind: "serve", direct: true, env: { JWT_SECRET: "serve-smoke-jwt-secret-0123456789abcdef", API_KEY } });
    const serve = s;
    const [, first] = await serve.waitForOutput(/listening on .* workerd pid (\d+)/);
    const pid1 = Number(first);
    const push = await api("/v1/users/serve-smoke/messages", { method: "POST", body: JSON.stringify({ data: { n: 1 }, id: "before-crash" }) });
    expect(push.status).toBe(200);

    process.kill(pid1, "SIGKILL");
    const back = await eventually("restart", () => /workerd back after \d+ ms \(pid (\d+)\)/.exec(serve.output())?.[1]);
    const pid2 = Number(back);
    expect(pid2).not.toBe(pid1);
    const health = await api("/healthz");
    expect(health.status).toBe(200);
    const log = (await (await api("/v1/users/serve-smoke/messages?since=0")).json()) as { head: number; messages: Array<{ id: string }> };
    expect(log.head).toBe(1);
    expect(log.messages.map((m) => m.id)).toEqual(["before-crash"]);

    process.kill(serve.pid as number, "SIGTERM");
    expect(await serve.exited).toBe(0);
    expect(alive(pid2)).toBe(false);
    expect(serve.output().match(/workerd back after/g)?.length).toBe(1);
    expect(serve.output()).toContain("SIGTERM; stopping workerd");
  });
});
