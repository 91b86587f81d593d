import { describe, expect, it } from "vitest";
import { BACKLOG_GRACE_MS } from "../src/hub/sendBacklog";
import { later } from "./clock";
import { connect, push, uniqueUser, type TestClient } from "./helpers";

/** MAX_SESSION_BACKLOG is the default (1 MiB) in the test config. */
const BIG = "x".repeat(60_000);

async function pushBig(user: string, n: number, prefix: string): Promise<void> {
  for (let i = 0; i < n; i++) await push(user, { id: `${prefix}-${i}`, data: BIG });
}

/** Run one push with the clock moved past the grace period. */
const pushLater = (user: string, body: Record<string, unknown>) => later(BACKLOG_GRACE_MS + 1000, () => push(user, body));

/** Ack what was received, and wait until the object has processed it (a bad frame behind it is answered in order). */
async function ackAll(c: TestClient): Promise<void> {
  const last = c.messages().at(-1);
  c.send(JSON.stringify({ type: "ack", seq: typeof last?.seq === "number" ? last.seq : 0 }));
  const errors = c.frames.filter((f) => f.type === "error").length;
  c.send("{}");
  await c.until(() => c.frames.filter((f) => f.type === "error").length > errors, "the barrier's error frame");
}

describe("slow consumers", () => {
  it("a session that sends nothing back while over 1 MiB is pushed to is closed 4008; its sibling is untouched and it resumes", async () => {
    const user = uniqueUser("slow");
    const silent = await connect(user, { device: "silent" });
    const reader = await connect(user, { device: "reader" });

    await pushBig(user, 10, "a");
    await reader.nextMessages(10);
    await ackAll(reader);
    await pushBig(user, 10, "b"); // 20 × 60 kB: the silent one is over the limit
    await reader.nextMessages(20);
    await ackAll(reader);
    await silent.nextMessages(20);
    expect(silent.closed).toBeUndefined(); // over the limit, but not for long yet

    const late = await pushLater(user, { id: "late", data: "after the grace period" });
    expect(late).toMatchObject({ seq: 21, sessions: 2, delivered: 1 });
    expect(await silent.waitClosed()).toMatchObject({ code: 4008 });
    expect((await reader.nextMessages(21)).at(-1)).toMatchObject({ id: "late" });
    expect(reader.closed).toBeUndefined();

    // Nothing stored is lost: the closed device resumes from what it saw.
    const back = await connect(user, { device: "silent", since: 20 });
    expect((await back.nextMessages(1)).map((m) => m.id)).toEqual(["late"]);
    back.close();
    reader.close();
  });

  it("any frame from the client (the SDK's ack, also for live-only messages) resets its backlog", async () => {
    const user = uniqueUser("acker");
    const c = await connect(user);
    for (let i = 0; i < 20; i++) await push(user, { id: `live-${i}`, data: BIG, ttl: 0 });
    await c.nextMessages(20);
    await ackAll(c);
    await pushLater(user, { id: "after-ack", data: 1, ttl: 0 });
    expect((await c.nextMessages(21)).at(-1)).toMatchObject({ id: "after-ack" });
    expect(c.closed).toBeUndefined();
    c.close();
  });
});
