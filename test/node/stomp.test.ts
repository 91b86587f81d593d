/**
 * The STOMP dialect from outside: the real @stomp/stompjs 7 (Node, `ws` as its
 * WebSocket), configured as a Spring app's frontend is (docs/stomp.md), against
 * standalone workerd and `wrangler dev`. Each test uses its own users.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { join } from "node:path";
import { Client, type IFrame, type IMessage, type StompConfig } from "@stomp/stompjs";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Service, startService } from "../../scripts/lib/service.ts";
import { claimsFor, hs256 } from "../../scripts/lib/tokens.ts";
import { eventually } from "../../scripts/lib/time.ts";

const ROOT = join(import.meta.dirname, "../..");
const JWT = "stomp-node-jwt-secret-0123456789abcdef";
const KEY = "stomp-node-api-key-0123456789";

interface Runtime {
  base: string;
  apiKey: string;
  secret: string;
}
const runtimes = new Map<string, Runtime>();
let svc: Service | undefined;
let dev: Service | undefined;

beforeAll(async () => {
  svc = await startService({ kind: "workerd", knobs: { JWT_SECRET: JWT, API_KEY: KEY, DEV_MODE: "0" } });
  runtimes.set("standalone workerd", { base: svc.base, apiKey: KEY, secret: JWT });
  dev = await startService({ kind: "wrangler" });
  const vars = readFileSync(join(ROOT, ".dev.vars"), "utf8");
  const get = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(vars)?.[1]?.trim() ?? "";
  runtimes.set("wrangler dev", { base: dev.base, apiKey: get("API_KEY"), secret: get("JWT_SECRET") });
}, 180_000);

afterAll(async () => {
  await svc?.stop();
  await dev?.stop();
});

let counter = 0;
const uniqueUser = () => `st-${Date.now().toString(36)}-${++counter}`;

interface Stomp {
  client: Client;
  connected?: IFrame;
  errors: IFrame[];
  closes: number[];
  messages: IMessage[];
}

/** A stompjs client as docs/stomp.md configures one: brokerURL + connectHeaders. */
function stomp(rt: Runtime, token: string, o: Partial<StompConfig> & { device?: string } = {}): Stomp {
  const url = `${rt.base.replace(/^http/, "ws")}/v1/stomp`;
  const s: Stomp = { client: undefined as unknown as Client, errors: [], closes: [], messages: [] };
  s.client = new Client({
    brokerURL: url,
    // Node 20 has no global WebSocket: the factory offers what stompjs offers in a browser.
    webSocketFactory: () => new WebSocket(url, ["v12.stomp", "v11.stomp", "v10.stomp"]),
    connectHeaders: { Authorization: `Bearer ${token}`, ...(o.device === undefined ? {} : { device: o.device }) },
    reconnectDelay: 0,
    onConnect: (frame) => (s.connected = frame),
    onStompError: (frame) => s.errors.push(frame),
    onWebSocketClose: (ev: { code: number }) => s.closes.push(ev.code),
    ...o,
  });
  s.client.activate();
  return s;
}

function api(rt: Runtime, path: string, body: unknown): Promise<Response> {
  return fetch(`${rt.base}/v1${path}`, {
    method: path.startsWith("/users/") && path.includes("/sessions") ? "DELETE" : "POST",
    headers: { Authorization: `Bearer ${rt.apiKey}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe.each(["standalone workerd", "wrangler dev"])("@stomp/stompjs 7 on %s", (name) => {
  const rt = () => runtimes.get(name) as Runtime;
  const token = (u: string, ttl = 3600) => hs256(claimsFor(u, ttl), rt().secret);

  it("connects with connectHeaders, gets a push by event on /user/queue/{event}, and is told a heart-beat slower than 10 s", async () => {
    const user = uniqueUser();
    const s = stomp(rt(), await token(user), { device: "web" });
    const connected = await eventually("CONNECTED", () => s.connected);
    expect(connected.headers).toMatchObject({ version: "1.2", "user-name": user });
    const [out] = (connected.headers["heart-beat"] ?? "").split(",").map(Number);
    expect(out).toBeGreaterThan(10_000);
    s.client.subscribe("/user/queue/notify", (m) => s.messages.push(m));
    s.client.subscribe("/user/queue/messages", (m) => s.messages.push(m), { receipt: "subbed" });
    await new Promise<void>((resolve) => s.client.watchForReceipt("subbed", () => resolve()));
    expect((await api(rt(), `/users/${user}/messages`, { data: { n: "ü" }, event: "notify" })).status).toBe(200);
    expect((await api(rt(), `/users/${user}/messages`, { data: 2, ttl: 0 })).status).toBe(200);
    await eventually("2 messages", () => s.messages.length >= 2);
    expect(s.messages.map((m) => [m.headers.destination, JSON.parse(m.body)])).toEqual([
      ["/user/queue/notify", { n: "ü" }],
      ["/user/queue/messages", 2],
    ]);
    await s.client.deactivate();
  });

  it("except-device skips the STOMP session of that device and reaches a native one", async () => {
    const user = uniqueUser();
    const s = stomp(rt(), await token(user), { device: "phone" });
    await eventually("CONNECTED", () => s.connected);
    s.client.subscribe("/user/queue/messages", (m) => s.messages.push(m), { receipt: "r" });
    await new Promise<void>((resolve) => s.client.watchForReceipt("r", () => resolve()));
    const native = new WebSocket(`${rt().base.replace(/^http/, "ws")}/v1/connect?device=laptop`, { headers: { Authorization: `Bearer ${await token(user)}` } });
    const got: { type: string; data?: unknown }[] = [];
    native.on("message", (d) => got.push(JSON.parse(String(d)) as { type: string }));
    await eventually("welcome", () => got.length > 0);
    const res = await api(rt(), `/users/${user}/messages`, { data: "to-laptop", exceptDevice: "phone", ttl: 0 });
    expect(await res.json()).toMatchObject({ delivered: 1, sessions: 2 });
    await api(rt(), `/users/${user}/messages`, { data: "to-phone", exceptDevice: "laptop", ttl: 0 });
    await eventually("phone message", () => s.messages.length >= 1);
    await eventually("laptop message", () => got.some((f) => f.type === "message"));
    expect(got.filter((f) => f.type === "message").map((f) => f.data)).toEqual(["to-laptop"]);
    expect(s.messages.map((m) => JSON.parse(m.body))).toEqual(["to-phone"]);
    native.close();
    await s.client.deactivate();
  });

  it("resumes after offline with client acks: what was not acked comes again, in seq order, then live ones", async () => {
    const user = uniqueUser();
    const a = stomp(rt(), await token(user), { device: "tablet" });
    await eventually("CONNECTED", () => a.connected);
    a.client.subscribe("/user/queue/messages", (m) => a.messages.push(m), { ack: "client", receipt: "r" });
    await new Promise<void>((resolve) => a.client.watchForReceipt("r", () => resolve()));
    for (const n of [1, 2, 3]) await api(rt(), `/users/${user}/messages`, { data: n });
    await eventually("3 messages", () => a.messages.length >= 3);
    a.messages[0]?.ack();
    await a.client.deactivate();
    await api(rt(), `/users/${user}/messages`, { data: 4 });

    const b = stomp(rt(), await token(user), { device: "tablet" });
    await eventually("CONNECTED", () => b.connected);
    b.client.subscribe("/user/queue/messages", (m) => b.messages.push(m), { ack: "client" });
    await eventually("replay", () => b.messages.length >= 3);
    await api(rt(), `/users/${user}/messages`, { data: 5 });
    await eventually("live", () => b.messages.length >= 4);
    expect(b.messages.map((m) => JSON.parse(m.body))).toEqual([2, 3, 4, 5]);
    expect(b.messages.map((m) => Number(m.headers.seq))).toEqual([2, 3, 4, 5]);
    await b.client.deactivate();
  });

  it("a kick is an ERROR and close 4001; a bad token an ERROR and close 1008", async () => {
    const user = uniqueUser();
    const s = stomp(rt(), await token(user), { device: "k" });
    await eventually("CONNECTED", () => s.connected);
    expect(await (await api(rt(), `/users/${user}/sessions?device=k`, undefined)).json()).toEqual({ closed: 1 });
    await eventually("kick close", () => s.closes.length > 0);
    expect(s.closes[0]).toBe(4001);
    expect(s.errors[0]?.headers.message).toBe("closed by server");
    await s.client.deactivate();

    const bad = stomp(rt(), await hs256(claimsFor(user, 3600), "another-secret-0123456789abcdef0123"));
    await eventually("refusal close", () => bad.closes.length > 0);
    expect(bad.closes[0]).toBe(1008);
    expect(bad.errors[0]?.headers.message).toMatch(/^unauthorized/);
    expect(bad.connected).toBeUndefined();
    await bad.client.deactivate();
  });

  it("a SUBSCRIBE to a destination of 100 'é' (over a close reason's 123 bytes) is an ERROR naming it, then close 1002", async () => {
    const destination = `/topic/${"é".repeat(100)}`;
    const s = stomp(rt(), await token(uniqueUser()));
    await eventually("CONNECTED", () => s.connected);
    s.client.subscribe(destination, () => {});
    await eventually("close after the ERROR", () => s.closes.length > 0);
    expect(s.closes[0]).toBe(1002);
    expect(s.errors[0]?.headers.message).toContain("é".repeat(50));
    await s.client.deactivate();
  });

  it("token expiry is an ERROR and close 1008", async () => {
    const user = uniqueUser();
    const s = stomp(rt(), await token(user, 2));
    await eventually("CONNECTED", () => s.connected);
    await eventually("expiry close", () => s.closes.length > 0);
    expect(s.closes[0]).toBe(1008);
    expect(s.errors[0]?.headers.message).toBe("token expired");
    await s.client.deactivate();
  });

  it("binary frames (forceBinaryWSFrames) connect, subscribe and receive", async () => {
    const user = uniqueUser();
    const s = stomp(rt(), await token(user), { forceBinaryWSFrames: true });
    await eventually("CONNECTED", () => s.connected);
    s.client.subscribe("/user/queue/messages", (m) => s.messages.push(m), { receipt: "r" });
    await new Promise<void>((resolve) => s.client.watchForReceipt("r", () => resolve()));
    await api(rt(), `/users/${user}/messages`, { data: { bin: true }, ttl: 0 });
    await eventually("message", () => s.messages.length >= 1);
    expect(JSON.parse(s.messages[0]?.body ?? "")).toEqual({ bin: true });
    await s.client.deactivate();
  });
});

describe("STOMP CONNECT deadline on standalone workerd", () => {
  it("a socket that sends no CONNECT is closed 1008 after the deadline, whether its token came in the URL or not", async () => {
    const rt = runtimes.get("standalone workerd") as Runtime;
    const user = uniqueUser();
    const ws = rt.base.replace(/^http/, "ws");
    const tokenQuery = `?token=${await hs256(claimsFor(user, 3600), rt.secret)}`;
    const closes = await Promise.all(
      [tokenQuery, ""].map(
        (query) =>
          new Promise<{ code: number; frames: string[] }>((resolve) => {
            const frames: string[] = [];
            const sock = new WebSocket(`${ws}/v1/stomp${query}`);
            // One frame first: the local runtime holds a server-started close while the client has sent none.
            sock.on("open", () => sock.send("\n"));
            sock.on("message", (d) => frames.push(String(d)));
            sock.on("close", (code) => resolve({ code, frames }));
          }),
      ),
    );
    for (const { code, frames } of closes) {
      expect(code).toBe(1008);
      expect(frames.some((f) => f.startsWith("ERROR\n") && f.includes("message:no CONNECT in time"))).toBe(true);
    }
  }, 60_000);
});

// docs/stomp.md's Java backend snippet, run as it is (java's single-file source launch), when a JDK is here.
const hasJava = await promisify(execFile)("java", ["-version"]).then(
  () => true,
  () => false,
);
describe.skipIf(!hasJava)("docs/examples/PushToUser.java", () => {
  it("pushes by event to a stompjs subscription on /user/queue/{event}", async () => {
    const rt = runtimes.get("standalone workerd") as Runtime;
    const user = uniqueUser();
    const s = stomp(rt, await hs256(claimsFor(user, 3600), rt.secret));
    await eventually("CONNECTED", () => s.connected);
    s.client.subscribe("/user/queue/notify", (m) => s.messages.push(m), { receipt: "r" });
    await new Promise<void>((resolve) => s.client.watchForReceipt("r", () => resolve()));
    const { stdout } = await promisify(execFile)("java", [
      join(ROOT, "docs/examples/PushToUser.java"),
      rt.base,
      rt.apiKey,
      user,
      "notify",
      '{"text":"from java"}',
    ]);
    expect(stdout).toMatch(/^200 /);
    await eventually("message", () => s.messages.length >= 1);
    expect(JSON.parse(s.messages[0]?.body ?? "")).toEqual({ text: "from java" });
    await s.client.deactivate();
  }, 60_000);
});

describe("STOMP heart-beats on standalone workerd (HEARTBEAT_INTERVAL=3, STALE_AFTER=10)", () => {
  let quick: Service | undefined;
  afterAll(async () => {
    await quick?.stop();
  });

  it("an idle stompjs client beats at the advertised period, the runtime echoes each beat, and the session outlives STALE_AFTER", async () => {
    quick = await startService({
      kind: "workerd",

      knobs: { JWT_SECRET: JWT, API_KEY: KEY, DEV_MODE: "0", HEARTBEAT_INTERVAL: "3", STALE_AFTER: "10" },
    });
    const rt: Runtime = { base: quick.base, apiKey: KEY, secret: JWT };
    const user = uniqueUser();
    let pings = 0;
    let pongs = 0;
    const s = stomp(rt, await hs256(claimsFor(user, 3600), JWT), {
      heartbeatIncoming: 1000,
      heartbeatOutgoing: 1000,
      debug: (line) => {
        if (line === ">>> PING") pings++;
        if (line === "<<< PONG") pongs++;
      },
    });
    const connected = await eventually("CONNECTED", () => s.connected);
    // HEARTBEAT_INTERVAL: the client's 1 s wish is raised to it (max of both).
    expect(connected.headers["heart-beat"]).toBe("3000,3000");
    // Four echoed beats: 12 s, past STALE_AFTER, with no frame but the beats.
    await eventually("4 echoed beats", () => pongs >= 4 && pings >= 4, 30_000);
    expect(s.closes).toEqual([]);
    const res = await fetch(`${rt.base}/v1/users/${user}/presence`, { headers: { Authorization: `Bearer ${KEY}` } });
    const presence = (await res.json()) as { sessions: { connectedAt: number; lastSeenAt: number }[] };
    expect(presence.sessions).toHaveLength(1);
    const [session] = presence.sessions;
    // The runtime's record of the last echoed beat is what presence shows.
    expect((session?.lastSeenAt ?? 0) - (session?.connectedAt ?? 0)).toBeGreaterThanOrEqual(9000);
    await s.client.deactivate();
  }, 60_000);
});
