/** Runs in the "webhooks" project: @switchboard/server's verifyWebhook against the Worker's real signatures. */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { verifyWebhook } from "../packages/server/src/index.ts";
import { shardIndex, shardName } from "../src/stats/shardKey";
import { connect, eventually, uniqueUser } from "./helpers";

const SECRET = "test-webhook-secret";
const shardOf = (userId: string) => env.STATS_SHARD.getByName(shardName(shardIndex(userId, 4)));

afterEach(() => {
  vi.restoreAllMocks();
});

describe("verifyWebhook", () => {
  it("accepts the Worker's own signed request, and refuses a changed body, another secret, or an old timestamp", async () => {
    // Read inside the mock: the body is the shard's I/O object (runtime rule).
    const captured: Array<{ headers: Headers; body: string }> = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const request = new Request(input, init);
      captured.push({ headers: new Headers(request.headers), body: await request.text() });
      return new Response(null, { status: 200 });
    });
    const user = uniqueUser("hook-sdk");
    const client = await connect(user);
    // The event is due at once: the shard's own alarm may send it before the test runs that alarm.
    const sent = () => captured.some((c) => c.body.includes(user));
    await eventually(
      "the user.online event queued or sent",
      async () =>
        sent() ||
        (await runInDurableObject(shardOf(user), (_i, state) => state.storage.sql.exec("SELECT 1 FROM outbox WHERE user_id = ?", user).toArray())).length > 0,
    );
    if (!sent()) await runDurableObjectAlarm(shardOf(user));
    const hooks = captured.filter((c) => c.body.includes(user));
    expect(hooks).toHaveLength(1);
    const { headers, body } = hooks[0] as { headers: Headers; body: string };

    expect(await verifyWebhook(SECRET, headers, body)).toBe(true);
    // Node's IncomingHttpHeaders shape (lower-case names), the header value alone, and raw bytes.
    const plain = Object.fromEntries(headers.entries());
    expect(await verifyWebhook(SECRET, plain, new TextEncoder().encode(body))).toBe(true);
    expect(await verifyWebhook(SECRET, headers.get("Switchboard-Signature") ?? "", body)).toBe(true);

    expect(await verifyWebhook(SECRET, headers, body.replace("online", "offline"))).toBe(false);
    expect(await verifyWebhook("another-secret", headers, body)).toBe(false);
    const t = Number(/t=(\d+)/.exec(headers.get("Switchboard-Signature") ?? "")?.[1]);
    expect(await verifyWebhook(SECRET, headers, body, { now: t + 301 })).toBe(false);
    expect(await verifyWebhook(SECRET, headers, body, { now: t + 301, toleranceSeconds: 600 })).toBe(true);
    expect(await verifyWebhook(SECRET, {}, body)).toBe(false);
    expect(await verifyWebhook(SECRET, "t=abc,v1=zz", body)).toBe(false);
    client.close();
  });
});
