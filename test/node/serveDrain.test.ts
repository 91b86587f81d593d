/**
 * SIGTERM to `npm run serve` with clients connected: each client sees its
 * socket closed 1001 "going away" (serve asks the Worker's admin entrypoint to
 * close every socket before it stops workerd, src/http/admin.ts), the SDK
 * reports it as a close it will reconnect from, and serve exits 0 with workerd
 * gone. Native and Pusher sockets alike.
 */
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { connect as sdkConnect } from "../../packages/client/src/index.ts";
import { eventually } from "../../scripts/lib/time.ts";
import { clientToken } from "../../scripts/lib/tokens.ts";
import { isOpen, openSession, type Session } from "../../scripts/lib/wsSession.ts";
import { alive } from "../../tools/lib/processTree.ts";
import { type Service, startService } from "../../scripts/lib/service.ts";

const SECRETS = {
  JWT_SECRET: "serve-drain-jwt-secret-0123456789",
  API_KEY: "serve-drain-api-key-0123",
  PUSHER_APP_ID: "drain-app",
  PUSHER_KEY: "drain-key",
  PUSHER_SECRET: "serve-drain-pusher-secret-0123",
};
let run: Service | undefined;
afterAll(async () => await run?.stop());

describe("npm run serve on SIGTERM, and on Ctrl+C", () => {
  for (const how of ["SIGTERM to serve", "SIGINT to the process group (Ctrl+C)"] as const) {
    it(`closes every client 1001 going away, then exits 0: ${how}`, () => stopWith(how));
  }
});

async function stopWith(how: "SIGTERM to serve" | "SIGINT to the process group (Ctrl+C)"): Promise<void> {
  {
    await run?.stop();
    run = await startService({ kind: "serve", env: SECRETS });
    const r = run;
    const ws = r.base.replace("http", "ws");
    const natives: Session[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await openSession(`${ws}/v1/connect?token=${clientToken(SECRETS.JWT_SECRET, `drain-${i}`)}`);
      if (!isOpen(s)) throw new Error(`connect refused: ${JSON.stringify(s)}`);
      natives.push(s);
    }
    const pusherSocket = await openSession(`${ws}/pusher/users/drain-pusher/app/${SECRETS.PUSHER_KEY}?protocol=7&client=js&version=8.6.0&flash=false`);
    if (!isOpen(pusherSocket)) throw new Error(`pusher connect refused: ${JSON.stringify(pusherSocket)}`);
    const closes: Array<{ code: number; willReconnect: boolean }> = [];
    const sdk = sdkConnect({ url: r.base, getToken: () => clientToken(SECRETS.JWT_SECRET, "drain-sdk"), backoff: { baseMs: 60_000, maxMs: 60_000 } });
    sdk.on("close", (e) => closes.push({ code: e.code, willReconnect: e.willReconnect }));
    sdk.on("error", () => undefined);
    await new Promise<void>((done) => sdk.on("open", () => done()));

    if (how === "SIGTERM to serve") {
      // `kill -TERM` of serve itself (the node process, workerd's parent), as systemd or an operator does.
      const workerdPid = Number(await eventually("workerd's pid", () => /workerd pid (\d+)/.exec(r.output())?.[1]));
      const servePid = Number(
        readFileSync(`/proc/${workerdPid}/stat`, "utf8")
          .replace(/^.*\) /s, "")
          .split(" ")[1],
      );
      process.kill(servePid, "SIGTERM");
    } else {
      // A terminal's Ctrl+C signals the whole foreground group (npm, its shell, serve; workerd has its own).
      process.kill(-(r.pid as number), "SIGINT");
    }
    for (const s of natives) {
      expect(await s.waitClosed(30_000)).toMatchObject({ code: 1001, reason: "server going away" });
    }
    expect((await pusherSocket.waitClosed(30_000))?.code).toBe(1001);
    const closed = await eventually("the SDK's close", () => closes[0]);
    expect(closed).toEqual({ code: 1001, willReconnect: true });
    sdk.close();
    // npm itself dies of a SIGINT sent to it (no exit code); serve, under it, exits 0 either way.
    expect(await r.exited).toBe(how === "SIGTERM to serve" ? 0 : null);
    expect(r.output()).toMatch(/closed 5 WebSocket\(s\) of 5 user\(s\) with 1001/);
    const workerdPid = Number(/workerd pid (\d+)/.exec(r.output())?.[1]);
    await eventually("workerd to be gone", () => (alive(workerdPid) ? undefined : true));
  }
}
