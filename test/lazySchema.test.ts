/**
 * A user's tables are created by the first write that needs them (src/hub/log.ts):
 * a first connect creates only the resume cursors; the message log appears with
 * the first stored push. Evicting in between checks that nothing relies on
 * memory for it.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, connect, hubOf, push, uniqueUser } from "./helpers";

function tables(user: string): Promise<string[]> {
  return runInDurableObject(hubOf(user), (_i, state) =>
    state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name")
      .toArray()
      .map((r) => r.name),
  );
}

describe("tables are created on first need", () => {
  it("a first connect creates only the cursors; the first stored push creates the log; resume works across evictions", async () => {
    const user = uniqueUser("lazy");
    const phone = await connect(user, { device: "phone" });
    expect(phone.frames[0]).toMatchObject({ type: "welcome", head: 0, recovered: true });
    expect(await tables(user)).toEqual(["cursors"]);

    // Reads of a user with no log answer as an empty one.
    const page = await api(`/users/${encodeURIComponent(user)}/messages`);
    expect(await page.json()).toEqual({ head: 0, messages: [] });
    const live = await push(user, { data: { live: true }, ttl: 0 });
    expect(live).toMatchObject({ seq: null, delivered: 1 });
    expect(await tables(user)).toEqual(["cursors"]);

    phone.close();
    await evictDurableObject(hubOf(user));
    const first = await push(user, { data: { n: 1 } });
    expect(first).toMatchObject({ seq: 1, delivered: 0, stored: true });
    expect(await tables(user)).toEqual(["cursors", "messages"]);

    // The phone's cursor (written at its first connect, before the log existed) brings it back to seq 1.
    await evictDurableObject(hubOf(user));
    const back = await connect(user, { device: "phone" });
    await back.nextMessages(1);
    expect(back.frames[0]).toMatchObject({ type: "welcome", head: 1, recovered: true });
    expect(back.messages().map((m) => m.seq)).toEqual([1]);
    back.close();
  });
});
