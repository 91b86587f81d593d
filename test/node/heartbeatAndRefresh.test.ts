/**
 * The advertised heartbeat cadence and in-band token refresh over real
 * sockets, on both runtimes (standalone workerd as `npm run serve` runs it,
 * and `wrangler dev` as `npm run dev` does), each with a short
 * HEARTBEAT_INTERVAL so several intervals pass in seconds.
 *
 * Nothing here is timed: the cadence check counts the client's frames over
 * a window and compares them with the number of intervals the window held;
 * the refresh checks wait for frames and closes, and compare the close with
 * the token's own exp.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WsWebSocket from "ws";
import { connect as sdkConnect, type SwitchboardClient } from "../../packages/client/src/index.ts";
import { Api } from "../../scripts/lib/api.ts";
import { type Service, startService } from "../../scripts/lib/service.ts";
import { claimsFor, hs256 } from "../../scripts/lib/tokens.ts";
import { ROOT } from "../../tools/lib/workerd.ts";
import { isOpen, openSession, type Session } from "../../scripts/lib/wsSession.ts";
import { eventually } from "../../scripts/lib/time.ts";

/** Seconds: short, so that several intervals pass in a test; STALE_AFTER is then derived (10 s). */
const HEARTBEAT_INTERVAL = 2;

interface Runtime {
  name: string;
  base: string;
  api: Api;
  secret: string;
}

const runtimes: Runtime[] = [];
let svc: Service | undefined;
let dev: Service | undefined;

beforeAll(async () => {
  const secret = `hb-jwt-${randomBytes(24).toString("hex")}`;
  const apiKey = `hb-api-${randomBytes(12).toString("hex")}`;
  svc = await startService({ kind: "workerd", knobs: { JWT_SECRET: secret, API_KEY: apiKey, HEARTBEAT_INTERVAL: String(HEARTBEAT_INTERVAL) } });
  runtimes.push({ name: "standalone workerd", base: svc.base, api: new Api(svc.base, apiKey), secret });
  dev = await startService({ kind: "wrangler", vars: { HEARTBEAT_INTERVAL: String(HEARTBEAT_INTERVAL) } });
  const devVars = readFileSync(join(ROOT, ".dev.vars"), "utf8");
  const devVar = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(devVars)?.[1]?.trim() ?? "";
  runtimes.push({ name: "wrangler dev", base: dev.base, api: new Api(dev.base, devVar("API_KEY")), secret: devVar("JWT_SECRET") });
}, 180_000);

afterAll(async () => {
  await svc?.kill("SIGKILL");
  await dev?.stop();
});

const token = (rt: Runtime, user: string, ttlSeconds: number) => hs256(claimsFor(user, ttlSeconds), rt.secret);
const expMs = (t: string): number => (JSON.parse(Buffer.from(t.split(".")[1] as string, "base64url").toString()) as { exp: number }).exp * 1000;
const userFor = (what: string) => `hb-${what}-${randomBytes(4).toString("hex")}`;

async function sessionsOf(rt: Runtime, user: string): Promise<{ sessionId: string; device: string; connectedAt: number; lastSeenAt: number }[]> {
  const answer = await rt.api.presence(user);
  if (!answer.ok) throw new Error(`presence answered ${answer.status}`);
  return answer.body.sessions;
}

/** A raw `ws` session that follows the protocol: one ping after open, then one per interval of its own. */
async function rawSession(rt: Runtime, jwt: string): Promise<{ s: Session; stop: () => void }> {
  const opened = await openSession(`${rt.base.replace(/^http/, "ws")}/v1/connect?device=raw`, { protocols: ["switchboard.v1", `bearer.${jwt}`] });
  if (!isOpen(opened)) throw new Error(`connect failed: ${JSON.stringify(opened)}`);
  const s = opened;
  await s.until(() => s.welcome !== undefined);
  s.send("ping");
  const timer = setInterval(() => s.send("ping"), HEARTBEAT_INTERVAL * 1000);
  return { s, stop: () => clearInterval(timer) };
}

/** Send `auth` and wait for the `refreshed` answer or a close. */
async function sendAuth(s: Session, jwt: string): Promise<void> {
  const before = s.frames.length;
  s.send(JSON.stringify({ type: "auth", token: jwt }));
  await s.until(() => s.frames.length > before || s.closed !== undefined, 10_000);
}

describe.each(["standalone workerd", "wrangler dev"])("on %s", (name) => {
  const rt = () => runtimes.find((r) => r.name === name) as Runtime;

  it("welcome advertises HEARTBEAT_INTERVAL", async () => {
    const { s, stop } = await rawSession(rt(), await token(rt(), userFor("welcome"), 3600));
    expect(s.welcome).toMatchObject({ type: "welcome", heartbeat: HEARTBEAT_INTERVAL });
    stop();
    s.close();
  });

  it("an idle SDK session with default options sends at most one text frame per advertised interval, and stays live", async () => {
    const user = userFor("idle");
    const sent: { text: string; at: number }[] = [];
    const client: SwitchboardClient = sdkConnect({
      url: rt().base,
      token: await token(rt(), user, 3600),
      device: "idle",
      createWebSocket: (url, { protocols, headers }) => {
        const ws = new WsWebSocket(url, protocols, { headers });
        const send = ws.send.bind(ws);
        ws.send = ((data: string) => {
          sent.push({ text: String(data), at: Date.now() });
          send(data);
        }) as typeof ws.send;
        return ws;
      },
    });
    const closes: number[] = [];
    client.on("close", (e) => closes.push(e.code));
    const opened = await new Promise<{ sessionId: string; at: number }>((resolve) =>
      client.once("open", (e) => resolve({ sessionId: e.sessionId, at: Date.now() })),
    );
    const atOpen = sent.length;
    const intervals = 6;
    // The window is whatever the machine gives: the check compares the frames sent in it with the intervals it held.
    await eventually(`${intervals} intervals`, () => Date.now() - opened.at >= intervals * HEARTBEAT_INTERVAL * 1000, 20_000);
    const windowMs = Date.now() - opened.at;
    const inWindow = sent.slice(atOpen);
    expect(atOpen).toBe(1); // the one ping on open (docs/protocol.md, "Closes the server starts")
    expect(inWindow.every((f) => f.text === "ping")).toBe(true);
    expect(inWindow.length).toBeGreaterThanOrEqual(1);
    expect(inWindow.length).toBeLessThanOrEqual(Math.floor(windowMs / (HEARTBEAT_INTERVAL * 1000)));
    // Past STALE_AFTER (10 s) the session is still there, and the server saw its pings.
    const sessions = await sessionsOf(rt(), user);
    expect(sessions.map((s) => s.sessionId)).toEqual([opened.sessionId]);
    expect(sessions[0]?.lastSeenAt).toBeGreaterThan(sessions[0]?.connectedAt ?? Infinity);
    expect(closes).toEqual([]);
    client.close();
  }, 60_000);

  it("an auth frame extends the session: same session id and presence; the 1008 close comes at the new exp, not the old", async () => {
    const user = userFor("refresh");
    const first = await token(rt(), user, 3);
    const { s, stop } = await rawSession(rt(), first);
    const before = await sessionsOf(rt(), user);
    expect(before.map((x) => x.sessionId)).toEqual([s.welcome?.sessionId]);

    const second = await token(rt(), user, 7);
    await sendAuth(s, second);
    expect(s.frames.at(-1)).toEqual({ type: "refreshed", expiresAt: expMs(second) });
    const same = (xs: typeof before) => xs.map(({ sessionId, device, connectedAt }) => ({ sessionId, device, connectedAt }));
    expect(same(await sessionsOf(rt(), user))).toEqual(same(before));

    // Past the first token's exp the session is still open, and still gets pushes.
    await eventually("the first token's exp to pass", () => Date.now() > expMs(first) + 1000, 20_000);
    expect(s.closed).toBeUndefined();
    const pushed = await rt().api.push(user, { data: "after the old exp", ttl: 0 });
    expect(pushed.ok && pushed.body.delivered).toBe(1);
    expect(same(await sessionsOf(rt(), user))).toEqual(same(before));

    const closed = await s.waitClosed(20_000);
    stop();
    expect(closed).toMatchObject({ code: 1008, reason: "token expired" });
    expect(closed?.at).toBeGreaterThanOrEqual(expMs(second));
  }, 60_000);

  it.each([
    ["a token for another user", (rt: Runtime) => token(rt, userFor("mallory"), 3600), "token refused: it is for another user"],
    ["a token with a wrong signature", () => hs256(claimsFor("x", 3600), "a-different-secret-0123456789abcdef"), "token refused: token signature invalid"],
  ])("%s is refused with 4003", async (_, make, reason) => {
    const user = userFor("refused");
    const { s, stop } = await rawSession(rt(), await token(rt(), user, 3600));
    await sendAuth(s, await make(rt()));
    const closed = await s.waitClosed(10_000);
    stop();
    expect(closed).toMatchObject({ code: 4003, reason });
    await eventually("presence without the refused session", async () => (await sessionsOf(rt(), user)).length === 0, 20_000);
  });

  it("the SDK refreshes by itself through getToken: one session across three short-lived tokens, no close", async () => {
    const user = userFor("sdk");
    const reasons: string[] = [];
    const refreshed: number[] = [];
    const client = sdkConnect({
      url: rt().base,
      device: "sdk",
      getToken: async ({ reason }) => {
        reasons.push(reason);
        return token(rt(), user, 4);
      },
      createWebSocket: (url, { protocols, headers }) => {
        const ws = new WsWebSocket(url, protocols, { headers });
        ws.on("message", (data) => {
          const text = String(data);
          if (text.includes('"refreshed"')) refreshed.push((JSON.parse(text) as { expiresAt: number }).expiresAt);
        });
        return ws;
      },
    });
    const opens: string[] = [];
    const closes: number[] = [];
    client.on("open", (e) => opens.push(e.sessionId));
    client.on("close", (e) => closes.push(e.code));
    await eventually("two refreshes", () => refreshed.length >= 2, 30_000);
    expect(reasons.slice(0, 3)).toEqual(["connect", "refresh", "refresh"]);
    expect(opens).toHaveLength(1);
    expect(closes).toEqual([]);
    expect((await sessionsOf(rt(), user)).map((s) => s.sessionId)).toEqual(opens);
    client.close();
  }, 60_000);
});
