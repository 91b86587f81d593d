/**
 * The SDK against a real WebSocket server in Node (real sockets, real timers):
 * header auth through Node 22's global WebSocket (undici), the `ws` package
 * through createWebSocket, and protocol auth. The server is a tiny stand-in
 * for the Worker that speaks the same frames; the Worker itself is covered
 * by the browser e2e test (npm run e2e).
 */
import type { IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WS, { WebSocketServer } from "ws";
import { connect, type ConnectOptions, type SwitchboardClient, type SwitchboardEvents } from "../src/index.ts";

interface Seen {
  authorization: string | undefined;
  protocols: string | undefined;
  url: string;
  frames: string[];
}

let wss: WebSocketServer;
let port = 0;
const seen: Seen[] = [];

/** Listen on the first free port of 8850-8899 (the range this project's agents may use). */
async function listenInRange(): Promise<WebSocketServer> {
  for (let p = 8850; p < 8900; p++) {
    const server = new WebSocketServer({
      host: "127.0.0.1",
      port: p,
      handleProtocols: (protocols) => (protocols.has("switchboard.v1") ? "switchboard.v1" : false),
    });
    const ok = await new Promise<boolean>((resolve) => {
      server.once("listening", () => resolve(true));
      server.once("error", () => resolve(false));
    });
    if (ok) {
      port = p;
      return server;
    }
    server.close();
  }
  throw new Error("no free port in 8850-8899");
}

beforeAll(async () => {
  wss = await listenInRange();
  wss.on("connection", (socket: WS, req: IncomingMessage) => {
    const entry: Seen = { authorization: req.headers.authorization, protocols: req.headers["sec-websocket-protocol"], url: req.url ?? "", frames: [] };
    seen.push(entry);
    const url = new URL(req.url ?? "/", "http://x");
    socket.send(
      JSON.stringify({
        type: "welcome",
        sessionId: `s${seen.length}`,
        userId: "alice",
        device: url.searchParams.get("device") ?? "d",
        head: 2,
        recovered: true,
      }),
    );
    socket.send(JSON.stringify({ type: "message", id: "a", seq: 1, sentAt: 1, data: { n: 1 } }));
    socket.send(JSON.stringify({ type: "message", id: "b", seq: 2, sentAt: 2, data: { n: 2 } }));
    socket.on("message", (data: WS.RawData) => {
      const text = data.toString();
      entry.frames.push(text);
      if (text === "ping") socket.send("pong");
    });
  });
});

afterAll(async () => {
  for (const client of wss.clients) client.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
});

function once<K extends keyof SwitchboardEvents>(client: SwitchboardClient, type: K, what = String(type)): Promise<SwitchboardEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000);
    client.once(type, (event) => {
      clearTimeout(timer);
      resolve(event);
    });
  });
}

async function roundTrip(options: Partial<ConnectOptions>): Promise<{ entry: Seen; messages: unknown[] }> {
  const client = connect({
    url: `http://127.0.0.1:${port}`,
    token: "jwt-123",
    device: "node-1",
    ackDelayMs: 20,
    heartbeat: { intervalMs: 50, timeoutMs: 5000 },
    ...options,
  });
  const messages: unknown[] = [];
  client.on("message", (m) => messages.push(m.data));
  const open = await once(client, "open");
  expect(open).toMatchObject({ userId: "alice", device: "node-1", head: 2, recovered: true });
  const entry = seen.at(-1);
  if (entry === undefined) throw new Error("server saw no connection");
  // Wait until the server has both the ack and a ping; both come from the SDK's timers.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`frames so far: ${JSON.stringify(entry.frames)}`)), 10_000);
    const poll = setInterval(() => {
      if (entry.frames.includes('{"type":"ack","seq":2}') && entry.frames.includes("ping")) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve();
      }
    }, 10);
  });
  client.close();
  return { entry, messages };
}

describe("in Node, against a real server", () => {
  it("defaults to header auth through the global WebSocket (undici)", async () => {
    const { entry, messages } = await roundTrip({});
    expect(entry.authorization).toBe("Bearer jwt-123");
    expect(entry.protocols).toBe("switchboard.v1");
    expect(entry.url).toBe("/v1/connect?device=node-1");
    expect(messages).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("works with the ws package injected through createWebSocket", async () => {
    const { entry, messages } = await roundTrip({
      createWebSocket: (url, { protocols, headers }) => new WS(url, protocols, { headers }),
    });
    expect(entry.authorization).toBe("Bearer jwt-123");
    expect(messages).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("can use protocol auth, as browsers do", async () => {
    const { entry } = await roundTrip({ auth: "protocol" });
    expect(entry.authorization).toBeUndefined();
    expect(entry.protocols).toBe("switchboard.v1, bearer.jwt-123");
  });
});
