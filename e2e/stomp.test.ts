/**
 * @stomp/stompjs 7 in Chromium, configured as docs/stomp.md says (brokerURL +
 * connectHeaders), against `wrangler dev`: the browser offers v12/v11/v10.stomp
 * and fails the connection unless one is answered; it connects, subscribes
 * with client acks, gets a push by event, and acks it. One browser run, once.
 */
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { ROOT } from "../tools/lib/workerd.ts";
import { chromiumForThisFile, devToken, devVar } from "./browser.ts";

interface Seen {
  connected?: { version?: string; userName?: string };
  protocol?: string;
  receipts: string[];
  messages: { destination?: string; body: string }[];
  errors: string[];
}

const base = inject("base");
const browser = chromiumForThisFile();

describe("@stomp/stompjs 7 in Chromium", () => {
  it("connects with v12.stomp, subscribes with client acks and gets a push by event", stompInChromium);
});

async function stompInChromium(): Promise<void> {
  const apiKey = devVar("API_KEY");
  const user = `e2e-stomp-${Date.now().toString(36)}`;
  const token = await devToken(base, user);
  const ctx = await browser().newContext();
  try {
    const page = await ctx.newPage();
    await page.goto(`${base}/healthz`);
    await page.addScriptTag({ path: join(ROOT, "node_modules/@stomp/stompjs/bundles/stomp.umd.min.js") });
    await page.evaluate((t: string) => {
      type Frame = { headers: Record<string, string>; body: string; ack(): void };
      type StompClient = {
        webSocket?: WebSocket;
        onConnect: (f: Frame) => void;
        onStompError: (f: Frame) => void;
        activate(): void;
        subscribe(d: string, cb: (m: Frame) => void, h: Record<string, string>): void;
        watchForReceipt(id: string, cb: () => void): void;
      };
      const w = window as unknown as { seen: Seen; StompJs: { Client: new (o: object) => StompClient } };
      w.seen = { receipts: [], messages: [], errors: [] };
      const client = new w.StompJs.Client({
        brokerURL: `${location.origin.replace(/^http/, "ws")}/v1/stomp`,
        connectHeaders: { Authorization: `Bearer ${t}`, device: "chromium" },
        reconnectDelay: 0,
      });
      client.onStompError = (f) => w.seen.errors.push(f.headers.message ?? "");
      client.onConnect = (f) => {
        w.seen.connected = { version: f.headers.version, userName: f.headers["user-name"] };
        w.seen.protocol = client.webSocket?.protocol;
        client.watchForReceipt("subscribed", () => w.seen.receipts.push("subscribed"));
        client.subscribe(
          "/user/queue/e2e",
          (m) => {
            w.seen.messages.push({ destination: m.headers.destination, body: m.body });
            m.ack();
          },
          { ack: "client", receipt: "subscribed" },
        );
      };
      client.activate();
    }, token);
    await page.waitForFunction(() => (window as unknown as { seen: Seen }).seen.receipts.includes("subscribed"), undefined, { timeout: 15_000 });
    const res = await fetch(`${base}/v1/users/${user}/messages`, {
      method: "POST",
      headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ data: { from: "e2e" }, event: "e2e" }),
    });
    expect(res.status, "the push's status").toBe(200);
    await page.waitForFunction(() => (window as unknown as { seen: Seen }).seen.messages.length > 0, undefined, { timeout: 15_000 }).catch(() => undefined);
    const seen = await page.evaluate(() => (window as unknown as { seen: Seen }).seen);
    expect(seen.protocol, "the subprotocol").toBe("v12.stomp");
    expect(seen.connected, "CONNECTED").toEqual({ version: "1.2", userName: user });
    expect(seen.messages[0], "the MESSAGE").toEqual({ destination: "/user/queue/e2e", body: JSON.stringify({ from: "e2e" }) });
    expect(seen.errors, "ERROR frames").toEqual([]);
  } finally {
    await ctx.close();
  }
}
