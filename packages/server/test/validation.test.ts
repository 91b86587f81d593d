/**
 * Every public function refuses a misspelt option, a wrong type or a missing
 * kick target with invalid_argument naming it, and sends nothing: each call
 * goes to a fetch that records what it is asked to send.
 */
import { describe, expect, it } from "vitest";
import { INVALID_ARGUMENT, mintClientToken, Switchboard, SwitchboardError, verifyWebhook, type FetchLike } from "../src/index.ts";

function recording() {
  const sent: Request[] = [];
  const fetch: FetchLike = async (request) => {
    sent.push(request);
    return Response.json({ closed: 0, onlineUsers: 0, sessions: 0, head: 0, messages: [] });
  };
  return { sent, sb: new Switchboard({ url: "https://sb.test", apiKey: "k", fetch, retries: 0 }) };
}

/** Plain JavaScript's view of the SDK: any argument, any number of them. */
type Loose = Record<string, (...args: unknown[]) => Promise<unknown> | AsyncGenerator<unknown>>;

async function refusal(call: () => unknown): Promise<unknown> {
  try {
    const result = call();
    if (result !== null && typeof result === "object" && Symbol.asyncIterator in result) {
      await (result as AsyncGenerator<unknown>).next();
    } else {
      await result;
    }
  } catch (err) {
    return err;
  }
  return undefined;
}

/** [method, arguments, the field the error must name] */
const CASES: Array<[string, unknown[], string]> = [
  ["push", ["u", 1, { ttll: 5 }], "ttll"],
  ["push", ["u", 1, { ttl: "60" }], "ttl"],
  ["push", ["u", 1, { ttl: 1.5 }], "ttl"],
  ["push", ["u", 1, { devcie: "phone" }], "devcie"],
  ["push", ["u", 1, { device: 7 }], "device"],
  ["push", ["u", 1, { exceptSession: "" }], "exceptSession"],
  ["push", ["u", 1, { id: "has space" }], "id"],
  ["push", ["u", 1, "phone"], "options"],
  ["push", ["u", 1, { webpush: "yes" }], "webpush"],
  ["push", ["u", 1, { event: "pusher:error" }], "event"],
  ["broadcast", [1, { event: "pusher_internal:subscription_succeeded" }], "event"],
  ["push", ["u", 1, { webpush: { urgency: "asap" } }], "webpush.urgency"],
  ["push", ["u", 1, { webpush: { topic: "x".repeat(33) } }], "webpush.topic"],
  ["push", ["u", 1, { webpush: { urgncy: "low" } }], "webpush.urgncy"],
  ["broadcast", [1, { webpush: 1 }], "webpush"],
  ["push", ["u", undefined], "data"],
  ["push", ["u", () => 1], "data"],
  ["push", ["u", { n: 1n }], "data"],
  ["push", [42, 1], "userId"],
  ["push", ["u", 1, {}, "extra"], "arguments"],
  ["pushMany", [["u"], 1, { tll: 5 }], "tll"],
  ["pushMany", ["u", 1], "userIds"],
  ["pushMany", [[], 1], "userIds"],
  ["pushMany", [["u", 7], 1], "userIds"],
  ["pushMany", [Array.from({ length: 1001 }, (_, i) => `u${i}`), 1], "userIds"],
  ["pushMany", [["u"], undefined], "data"],
  ["broadcast", [1, { device: "phone" }], "device"],
  ["broadcast", [1, { ttl: -1 }], "ttl"],
  ["broadcast", [undefined], "data"],
  ["presence", ["u", { device: "phone" }], "arguments"],
  ["presence", [["u"]], "userId"],
  ["kick", ["u", { devcie: "phone" }], "devcie"],
  ["kick", ["u", "phone"], "target"],
  ["kick", ["u"], "target"],
  ["kick", ["u", {}], "target"],
  ["kick", ["u", { device: undefined }], "target"],
  ["kick", ["u", { all: false }], "all"],
  ["kick", ["u", { all: "yes" }], "all"],
  ["kick", ["u", { device: "phone", session: "s" }], "session"],
  ["kick", ["u", { device: "phone", all: true }], "all"],
  ["kick", ["u", { device: "bad device" }], "device"],
  ["kick", ["u", { session: 5 }], "session"],
  ["kickAll", ["u", { device: "phone" }], "arguments"],
  ["kickAll", [""], "userId"],
  ["messages", ["u", { sinse: 3 }], "sinse"],
  ["messages", ["u", { since: -1 }], "since"],
  ["messages", ["u", { limit: 1001 }], "limit"],
  ["messages", ["u", 5], "options"],
  ["allMessages", ["u", { limt: 5 }], "limt"],
  ["allMessages", ["u", { since: "0" }], "since"],
  ["stats", [{ shard: 1 }], "arguments"],
];

describe("Switchboard methods", () => {
  it.each(CASES)("%s(%o) is invalid_argument naming %s, and sends nothing", async (method, args, field) => {
    const { sent, sb } = recording();
    const err = await refusal(() => (sb as unknown as Loose)[method]?.(...args));
    expect(err).toBeInstanceOf(SwitchboardError);
    expect(err).toMatchObject({ code: INVALID_ARGUMENT, status: 0, field });
    expect((err as Error).message).toContain(field === "arguments" || field === "target" || field === "options" ? "" : field);
    expect(sent).toEqual([]);
  });

  it("the correctly spelled calls are sent, the kick with exactly its target", async () => {
    const { sent, sb } = recording();
    await sb.kick("u", { device: "phone" });
    await sb.kick("u", { session: "s-1" });
    await sb.kick("u", { all: true });
    await sb.kickAll("u");
    await sb.push("u", { n: 1 }, { ttl: 0, device: "phone", id: "p1" });
    await sb.push("u", 2, { ttl: 60, id: "p2", webpush: { urgency: "very-low", topic: "t_1" } });
    await sb.messages("u", { since: 2, limit: 10 });
    await sb.stats();
    expect(sent.map((r) => `${r.method} ${new URL(r.url).pathname}${new URL(r.url).search}`)).toEqual([
      "DELETE /v1/users/u/sessions?device=phone",
      "DELETE /v1/users/u/sessions?session=s-1",
      "DELETE /v1/users/u/sessions",
      "DELETE /v1/users/u/sessions",
      "POST /v1/users/u/messages",
      "POST /v1/users/u/messages",
      "GET /v1/users/u/messages?since=2&limit=10",
      "GET /v1/stats",
    ]);
    expect(await sent[4]?.json()).toEqual({ id: "p1", ttl: 0, device: "phone", data: { n: 1 } });
    expect(await sent[5]?.json()).toEqual({ id: "p2", ttl: 60, webpush: { urgency: "very-low", topic: "t_1" }, data: 2 });
  });

  it("an option given as undefined is absent (what TypeScript's optional means)", async () => {
    const { sent, sb } = recording();
    await sb.push("u", 1, { ttl: undefined, device: undefined });
    expect(sent).toHaveLength(1);
  });
});

describe("new Switchboard", () => {
  const fetch: FetchLike = async () => Response.json({});
  const cases: Array<[Record<string, unknown> | undefined, string]> = [
    [undefined, "options"],
    [{ url: "https://sb.test", apiKey: "k", retry: 3 }, "retry"],
    [{ url: "https://sb.test", apiKey: "k", timeoutMs: "1000" }, "timeoutMs"],
    [{ url: "https://sb.test", apiKey: "k", retries: -1 }, "retries"],
    [{ url: "https://sb.test", apiKey: "k", fetch: "fetch" }, "fetch"],
    [{ url: "https://sb.test", apiKey: "k", backoff: { base: 100 } }, "backoff.base"],
    [{ url: "https://sb.test", apiKey: "k", backoff: { maxMs: Number.NaN } }, "backoff.maxMs"],
    [{ url: "https://sb.test", apiKey: "k", backoff: 100 }, "backoff"],
    [{ url: "https://sb.test", apikey: "k" }, "apikey"],
    [{ url: "https://sb.test" }, "apiKey"],
    [{ apiKey: "k" }, "url"],
    [{ url: 8787, apiKey: "k" }, "url"],
    [{ url: "ftp://sb.test", apiKey: "k" }, "url"],
  ];
  it.each(cases)("%j is invalid_argument naming %s", (options, field) => {
    const make = () => new (Switchboard as unknown as new (o: unknown) => Switchboard)(options === undefined ? undefined : { fetch, ...options });
    expect(make).toThrow(SwitchboardError);
    expect(make).toThrow(expect.objectContaining({ code: INVALID_ARGUMENT, field }));
  });
});

describe("mintClientToken", () => {
  const base = { secret: "s3cret", userId: "alice", ttlSeconds: 60 };
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ ...base, ttl: 60 }, "ttl"],
    [{ ...base, audiance: "app" }, "audiance"],
    [{ ...base, audience: 5 }, "audience"],
    [{ ...base, issuer: "" }, "issuer"],
    [{ ...base, now: "now" }, "now"],
    [{ ...base, ttlSeconds: "60" }, "ttlSeconds"],
    [{ secret: "s", userId: "alice" }, "ttlSeconds"],
  ];
  it.each(cases)("%j is invalid_argument naming %s", async (options, field) => {
    const mint = mintClientToken as (o: unknown) => Promise<string>;
    await expect(mint(options)).rejects.toMatchObject({ code: INVALID_ARGUMENT, field });
  });
});

describe("verifyWebhook", () => {
  const verify = verifyWebhook as (...args: unknown[]) => Promise<boolean>;
  const header = "t=1,v1=" + "0".repeat(64);

  it("refuses the caller's own mistakes with invalid_argument (an unset secret, a parsed body, a misspelt option)", async () => {
    const cases: Array<[unknown[], string]> = [
      [[undefined, header, "{}"], "secret"],
      [["", header, "{}"], "secret"],
      [["s", header, { parsed: true }], "rawBody"],
      [["s", undefined, "{}"], "headers"],
      [["s", header, "{}", { tolerance: 60 }], "tolerance"],
      [["s", header, "{}", { toleranceSeconds: "60" }], "toleranceSeconds"],
      [["s", header, "{}", {}, "extra"], "arguments"],
    ];
    for (const [args, field] of cases) {
      await expect(verify(...args), field).rejects.toMatchObject({ code: INVALID_ARGUMENT, field });
    }
  });

  it("still answers false, never throws, for what comes over the network", async () => {
    for (const bad of ["", "t=", "v1=zz", "t=x,v1=", "garbage", ",,,", "t=1,v1=" + "g".repeat(64)]) {
      expect(await verify("s", bad, "{}"), bad).toBe(false);
    }
    expect(await verify("s", { "switchboard-signature": ["t=1"] }, "{}")).toBe(false);
    expect(await verify("s", new Headers(), "{}")).toBe(false);
  });
});
