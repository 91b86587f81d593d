/**
 * In-band token refresh (docs/protocol.md, "Token refresh"): an `auth` frame
 * with a fresh token for the same user moves the session's end; anything
 * else is refused with 4003. Real sockets: test/node/cadence.test.ts.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, connect, eventuallyEqual, hubOf, push, tokenFor, uniqueUser, type TestClient } from "./helpers";

const HOUR = 3600;

/** The session's attachment and the object's scheduled alarm, read inside the object. */
async function stateOf(user: string): Promise<{ expiresAt: unknown[]; sessionIds: unknown[]; alarm: number | null }> {
  return runInDurableObject(hubOf(user), async (_instance, ctx) => {
    const attachments = ctx.getWebSockets().map((ws) => ws.deserializeAttachment() as Record<string, unknown>);
    return {
      expiresAt: attachments.map((a) => a.expiresAt),
      sessionIds: attachments.map((a) => a.sessionId),
      alarm: await ctx.storage.getAlarm(),
    };
  });
}

/** Poll `read` until it returns `expected` (deep-equal), or fail naming both. */
const settlesAt = <T>(read: () => Promise<T>, expected: T, what: string) => eventuallyEqual(what, read, expected);

const expOf = (token: string): number =>
  (JSON.parse(atob((token.split(".")[1] as string).replace(/-/g, "+").replace(/_/g, "/"))) as { exp: number }).exp * 1000;

async function presence(user: string): Promise<unknown> {
  return (await api(`/users/${user}/presence`)).json();
}

/** Send an auth frame and wait for the frame or close it causes. */
async function refresh(c: TestClient, token: string): Promise<void> {
  const before = c.frames.length;
  c.send(JSON.stringify({ type: "auth", token }));
  await c.until(() => c.frames.length > before || c.closed !== undefined, "answer to auth");
}

describe("token refresh on an open session", () => {
  it("a fresh token for the same user moves exp: same session, presence unchanged, answered `refreshed`", async () => {
    const user = uniqueUser();
    const c = await connect(user, { token: await tokenFor(user, { expiresIn: HOUR }) });
    const before = await presence(user);
    const fresh = await tokenFor(user, { expiresIn: 2 * HOUR });
    const newExp = expOf(fresh);
    await refresh(c, fresh);
    expect(c.frames.at(-1)).toEqual({ type: "refreshed", expiresAt: newExp });
    expect(await presence(user)).toEqual(before);
    const state = await stateOf(user);
    expect(state.sessionIds).toEqual([c.welcome.sessionId]);
    expect(state.expiresAt).toEqual([newExp]);
    expect(c.closed).toBeUndefined();
    c.close();
  });

  it("the expiry alarm moves to the new exp, later too, and the change survives eviction", async () => {
    const user = uniqueUser();
    const first = await tokenFor(user, { expiresIn: HOUR });
    const c = await connect(user, { token: first });
    const oldExp = expOf(first);
    await settlesAt(async () => (await stateOf(user)).alarm, oldExp, "the alarm at the first exp");
    const fresh = await tokenFor(user, { expiresIn: 3 * HOUR });
    const newExp = expOf(fresh);
    await refresh(c, fresh);
    await settlesAt(async () => (await stateOf(user)).alarm, newExp, "the alarm moved to the new exp");

    await evictDurableObject(hubOf(user));
    const after = await stateOf(user);
    expect(after).toEqual({ expiresAt: [newExp], sessionIds: [c.welcome.sessionId], alarm: newExp });
    // Still the same live session after waking: a push reaches it.
    expect(await push(user, { data: "still here", ttl: 0 })).toMatchObject({ delivered: 1, sessions: 1 });
    c.close();
  });

  it("with two sessions, the alarm follows the earliest exp left", async () => {
    const user = uniqueUser();
    const a = await connect(user, { device: "a", token: await tokenFor(user, { expiresIn: HOUR }) });
    const bToken = await tokenFor(user, { expiresIn: 2 * HOUR });
    const b = await connect(user, { device: "b", token: bToken });
    const bExp = expOf(bToken);
    await refresh(a, await tokenFor(user, { expiresIn: 5 * HOUR }));
    expect(a.frames.at(-1)?.type).toBe("refreshed");
    await settlesAt(async () => (await stateOf(user)).alarm, bExp, "the alarm at b's exp");
    a.close();
    b.close();
  });

  it("a token for another user is refused: closed 4003, and the session leaves presence", async () => {
    const user = uniqueUser();
    const c = await connect(user);
    await refresh(c, await tokenFor(uniqueUser("mallory"), { expiresIn: 2 * HOUR }));
    expect(await c.waitClosed()).toEqual({ code: 4003, reason: "token refused: it is for another user" });
    await settlesAt(() => presence(user), { userId: user, online: false, sessions: [] }, "presence without the refused session");
  });

  it.each([
    ["a wrong signature", (u: string) => tokenFor(u, { secret: "another-secret-0123456789abcdef-xx" }), "token refused: token signature invalid"],
    ["an expired token", (u: string) => tokenFor(u, { expiresIn: -10 }), "token refused: token expired"],
    ["not a JWT", async () => "not.a.jwt", "token refused: token is malformed"],
  ])("%s is refused with 4003 naming why", async (_, make, reason) => {
    const user = uniqueUser();
    const c = await connect(user);
    await refresh(c, await make(user));
    expect(await c.waitClosed()).toEqual({ code: 4003, reason });
  });

  it("an auth frame without a token string is a bad_auth error; the session stays", async () => {
    const user = uniqueUser();
    const c = await connect(user);
    for (const frame of ['{"type":"auth"}', '{"type":"auth","token":""}', '{"type":"auth","token":42}']) {
      const before = c.frames.length;
      c.send(frame);
      await c.until(() => c.frames.length > before, "error frame");
      expect(c.frames.at(-1)).toMatchObject({ type: "error", code: "bad_auth" });
    }
    expect(c.closed).toBeUndefined();
    c.close();
  });

  it("of two overlapping refreshes, the one sent last decides", async () => {
    const user = uniqueUser();
    const c = await connect(user);
    const later = await tokenFor(user, { expiresIn: 3 * HOUR });
    const laterExp = expOf(later);
    c.send(JSON.stringify({ type: "auth", token: await tokenFor(user, { expiresIn: 2 * HOUR }) }));
    c.send(JSON.stringify({ type: "auth", token: later }));
    await c.until(() => c.frames.some((f) => f.type === "refreshed" && f.expiresAt === laterExp), "the later refresh");
    expect((await stateOf(user)).expiresAt).toEqual([laterExp]);
    c.close();
  });
});
