/**
 * @stomp/stompjs 7 in Chromium, configured as docs/stomp.md says (brokerURL +
 * connectHeaders), against `wrangler dev`: the browser offers v12/v11/v10.stomp
 * and fails the connection unless one is answered; it connects, subscribes
 * with client acks, gets a push by event, and acks it. One browser run, once.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";

interface Seen {
  connected?: { version?: string; userName?: string };
  protocol?: string;
  receipts: string[];
  messages: { destination?: string; body: string }[];
  errors: string[];
}

export async function stompInChromium(root: string, base: string, browser: Browser): Promise<string> {
  const apiKey = /^API_KEY=(.*)$/m.exec(readFileSync(join(root, ".dev.vars"), "utf8"))?.[1]?.trim() ?? "";
  const user = `e2e-stomp-${Date.now().toString(36)}`;
  const token = ((await (await fetch(`${base}/dev/token?user=${user}`)).json()) as { token: string }).token;
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    await page.goto(`${base}/healthz`);
    await page.addScriptTag({ path: join(root, "node_modules/@stomp/stompjs/bundles/stomp.umd.min.js") });
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
    if (!res.ok) throw new Error(`push answered ${res.status}: ${await res.text()}`);
    await page.waitForFunction(() => (window as unknown as { seen: Seen }).seen.messages.length > 0, undefined, { timeout: 15_000 });
    const seen = await page.evaluate(() => (window as unknown as { seen: Seen }).seen);
    const problems: string[] = [];
    if (seen.protocol !== "v12.stomp") problems.push(`subprotocol ${String(seen.protocol)}`);
    if (seen.connected?.version !== "1.2" || seen.connected.userName !== user) problems.push(`CONNECTED ${JSON.stringify(seen.connected)}`);
    const m = seen.messages[0];
    if (m?.destination !== "/user/queue/e2e" || m.body !== JSON.stringify({ from: "e2e" })) problems.push(`MESSAGE ${JSON.stringify(m)}`);
    if (seen.errors.length > 0) problems.push(`ERROR frames: ${seen.errors.join("; ")}`);
    if (problems.length > 0) throw new Error(`stompjs in Chromium: ${problems.join(", ")}`);
    return "@stomp/stompjs 7 in Chromium connected with v12.stomp, subscribed with client acks and got a push by event";
  } finally {
    await ctx.close();
  }
}
