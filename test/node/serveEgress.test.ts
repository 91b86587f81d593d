/**
 * Egress on standalone workerd (tools/lib/egress.ts). Under
 * SWITCHBOARD_EGRESS=private, `npm run serve`'s webhooks reach a receiver on
 * 127.0.0.1 (under the default, serve refuses to start on that WEBHOOK_URL:
 * test/node/serveRefusal.test.ts). And whatever the setting, the
 * PUBLIC_EGRESS binding meant for client-supplied URLs (src/util/egress.ts)
 * cannot reach loopback, while the global fetch() of the same Worker can.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../../scripts/lib/janitor.ts";
import { eventually } from "../../scripts/lib/time.ts";
import { clientToken } from "../../scripts/lib/tokens.ts";
import { isOpen, openSession } from "../../scripts/lib/wsSession.ts";
import { pickPort, type Service, startService } from "../../scripts/lib/service.ts";

const SECRETS = { JWT_SECRET: "serve-egress-jwt-secret-0123456789", API_KEY: "serve-egress-api-key-0123" };
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

async function receiver(): Promise<{ port: number; received: Received[] }> {
  const port = await pickPort();
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((done) => server.listen(port as number, "127.0.0.1", done));
  cleanups.push(() => new Promise<void>((done) => server.close(() => done())));
  return { port: port as number, received };
}

describe("egress on standalone workerd", () => {
  it("SWITCHBOARD_EGRESS=private: a webhook receiver on 127.0.0.1 gets user.online, signed", async () => {
    const hook = await receiver();
    const run: Service = await startService({
      kind: "serve",
      env: {
        ...SECRETS,
        SWITCHBOARD_EGRESS: "private",
        WEBHOOK_URL: `http://127.0.0.1:${hook.port}/hook`,
        WEBHOOK_SECRET: "serve-egress-webhook-secret",
        WEBHOOK_OFFLINE_GRACE: "0",
      },
    });
    cleanups.push(() => run.stop());
    await eventually("the egress line", () => (run.output().includes("egress private") ? true : undefined));
    const session = await openSession(`${run.base.replace("http", "ws")}/v1/connect?token=${clientToken(SECRETS.JWT_SECRET, "egress-user")}`);
    if (!isOpen(session)) throw new Error(`connect refused: ${JSON.stringify(session)}`);
    const online = await eventually("user.online at the receiver", () =>
      hook.received.find((r) => r.path === "/hook" && r.body.includes('"user.online"') && r.body.includes("egress-user")),
    );
    expect(online.headers["switchboard-signature"]).toBeDefined();
    expect(run.output()).not.toMatch(/is not allowed/);
    session.ws.close(1000);
    await eventually("user.offline at the receiver", () => hook.received.find((r) => r.body.includes('"user.offline"') && r.body.includes("egress-user")));
  });

  it("the PUBLIC_EGRESS binding refuses loopback even where the global fetch() may reach it", async () => {
    const hook = await receiver();
    const dir = tempDir("sb-egress");
    // A Worker that fetches the receiver both ways and answers what each got.
    const script = join(dir, "probe.js");
    writeFileSync(
      script,
      `export default { async fetch(request, env) {
        const target = new URL(request.url).searchParams.get("target");
        const attempt = async (f) => { try { const r = await f(target); return String(r.status); } catch (e) { return "refused: " + String(e && e.message); } };
        return Response.json({ global: await attempt((u) => fetch(u)), publicEgress: await attempt((u) => env.PUBLIC_EGRESS.fetch(u)) });
      } };\n`,
    );
    // The probe has no /healthz of its own; any answer means it is up.
    const probe = await startService({ kind: "workerd", script, objects: {}, storage: "memory", egress: "private" });
    cleanups.push(() => probe.stop());
    const res = await fetch(`${probe.base}/?target=${encodeURIComponent(`http://127.0.0.1:${hook.port}/probe`)}`);
    const answer = (await res.json()) as { global: string; publicEgress: string };
    expect(answer.global).toBe("200");
    expect(answer.publicEgress).toMatch(/^refused/);
    expect(hook.received.filter((r) => r.path === "/probe")).toHaveLength(1);
  });
});
