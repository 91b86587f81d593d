/**
 * The demo page and the SDK in Debian's chromium against `wrangler dev`
 * (`npm run e2e`). Two tabs (separate browser contexts, i.e. two devices) of one
 * user, in order, each step building on the last:
 * 1. both connect through the page and see each other in the session list;
 * 2. a push to the user reaches both; "all but this device" and "only one
 *    device" pushes reach only the other tab; a live-only push reaches both;
 * 3. one tab goes offline (Chromium keeps the socket but stops delivering
 *    frames, so only the SDK's heartbeat can notice), stored pushes pile up,
 *    some excluding that device; back online it resumes: every seq meant for
 *    it arrives exactly once, in order, and none of the excluded ones;
 * 4. that tab reloads, pushes arrive meanwhile, and on connect it resumes from
 *    the seq it persisted in sessionStorage;
 * 5. the SDK in Node (header auth) replays the whole log from since=0.
 */
import type { BrowserContext, Page } from "playwright-core";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { connect } from "../packages/client/src/index.ts";
import type { PushAnswer } from "../scripts/lib/api.ts";
import { eventually } from "../scripts/lib/time.ts";
import { chromiumForThisFile, devToken } from "./browser.ts";

const base = inject("base");
/** Heartbeat for the pages (?heartbeat=), so a dead connection is noticed in ~2 s, not ~35 s. */
const HEARTBEAT_MS = 1000;

// ---- page helpers ----

/** The seqs in a tab's message log, oldest first (the page lists newest first). */
function seqsOf(page: Page): Promise<number[]> {
  return page.evaluate(() => [...document.querySelectorAll<HTMLLIElement>("#log li[data-seq]")].map((li) => Number(li.dataset.seq)).reverse());
}

/** Wait until a tab's log holds as many seqs as `expected`, then: exactly those, once each and in order. */
async function expectSeqs(page: Page, name: string, expected: number[], timeoutMs = 15_000): Promise<void> {
  await page
    .waitForFunction((want) => document.querySelectorAll("#log li[data-seq]").length >= want, expected.length, { timeout: timeoutMs, polling: 50 })
    .catch(() => undefined); // the assertion below says what it has
  expect(await seqsOf(page), `${name}: seqs exactly once each and in order`).toEqual(expected);
}

async function expectState(page: Page, name: string, state: string, timeoutMs = 15_000): Promise<void> {
  await page
    .waitForFunction((s) => document.querySelector<HTMLElement>("#status")?.dataset.state === s, state, { timeout: timeoutMs, polling: 50 })
    .catch(() => undefined);
  const now = await page.evaluate(() => ({
    state: document.querySelector<HTMLElement>("#status")?.dataset.state,
    text: document.querySelector("#status")?.textContent,
  }));
  expect(now, `${name}: the status`).toMatchObject({ state });
}

async function connectTab(page: Page, name: string, user: string, device: string): Promise<void> {
  await page.goto(`${base}/?heartbeat=${HEARTBEAT_MS}`);
  await page.getByLabel("User", { exact: true }).fill(user);
  await page.getByLabel("Device name", { exact: true }).fill(device);
  await page.getByRole("button", { name: "Connect", exact: true }).click();
  await expectState(page, name, "open");
}

async function pushFromPage(page: Page, text: string, target: "all" | "except" | "one", device?: string): Promise<string> {
  await page.getByLabel("Message", { exact: true }).fill(text);
  if (target === "all") await page.getByLabel("Every session of the user", { exact: true }).check();
  if (target === "except") await page.getByLabel(/All but this device/).check();
  if (target === "one") {
    await page.getByLabel("Device to push to", { exact: true }).selectOption(device ?? "");
    await page.getByLabel("Only the device", { exact: true }).check();
  }
  const result = page.locator("#push-result");
  const before = await result.textContent();
  await page.getByRole("button", { name: "Push", exact: true }).click();
  await page.waitForFunction((prev) => {
    const text = document.querySelector("#push-result")?.textContent ?? "";
    return text !== "" && text !== prev;
  }, before);
  return (await result.textContent()) ?? "";
}

// ---- server helpers ----

async function pushFromServer(user: string, body: Record<string, unknown>): Promise<PushAnswer> {
  const res = await fetch(`${base}/dev/push?user=${encodeURIComponent(user)}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST /dev/push answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as PushAnswer;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

// ---- the scenario ----

const user = `e2e-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const browser = chromiumForThisFile();
let ctxA: BrowserContext;
let ctxB: BrowserContext;
/** The laptop tab. */
let a: Page;
/** The phone tab. */
let b: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  ctxA = await browser().newContext();
  ctxB = await browser().newContext();
  a = await ctxA.newPage();
  b = await ctxB.newPage();
  for (const [name, page] of [
    ["laptop", a],
    ["phone", b],
  ] as const) {
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (err) => pageErrors.push(`${name}: ${err.message}`));
  }
});

describe("the demo page in Chromium: two tabs of one user", () => {
  it("serves the SDK bundle at /sdk.js", async () => {
    const sdk = await fetch(`${base}/sdk.js`);
    await sdk.body?.cancel();
    expect(sdk.status).toBe(200);
    expect(sdk.headers.get("content-type") ?? "").toContain("javascript");
  });

  it("connects two tabs (laptop, phone), each listed in the other's session table", async () => {
    await connectTab(a, "laptop", user, "laptop");
    await connectTab(b, "phone", user, "phone");
    const devices = () => a.evaluate(() => [...document.querySelectorAll<HTMLTableRowElement>("#sessions tbody tr")].map((tr) => tr.dataset.device).sort());
    await a
      .waitForFunction(
        () =>
          [...document.querySelectorAll<HTMLTableRowElement>("#sessions tbody tr")]
            .map((tr) => tr.dataset.device)
            .sort()
            .join() === "laptop,phone",
        undefined,
        { timeout: 10_000, polling: 100 },
      )
      .catch(() => undefined);
    expect(await devices(), "the laptop's session list").toEqual(["laptop", "phone"]);
  });

  it("delivers a push to the user to both tabs", async () => {
    expect(await pushFromPage(a, "to everyone", "all")).toMatch(/seq 1\b.*delivered to 2 of 2/);
    await expectSeqs(a, "laptop", [1]);
    await expectSeqs(b, "phone", [1]);
  });

  it("delivers all-but-this-device and only-one-device pushes to the other tab only", async () => {
    expect(await pushFromPage(a, "not for the laptop", "except")).toMatch(/seq 2\b.*delivered to 1 of 2/);
    expect(await pushFromPage(a, "only the phone", "one", "phone")).toMatch(/seq 3\b.*delivered to 1 of 2/);
    // Frames on one socket arrive in order, so once seq 4 is in, seqs 2 and 3
    // would already be there if the laptop had been sent them.
    await pushFromServer(user, { data: { text: "to everyone again" } });
    await expectSeqs(b, "phone", [1, 2, 3, 4]);
    await expectSeqs(a, "laptop", [1, 4]);
  });

  it("delivers a live-only push (ttl 0, no seq) to both tabs", async () => {
    const live = await pushFromServer(user, { data: { text: "live only" }, ttl: 0, id: `live-${user}` });
    expect(live).toMatchObject({ seq: null, delivered: 2 });
    for (const page of [a, b]) {
      await page
        .locator(`#log li[data-id="live-${user}"]:not([data-seq])`)
        .waitFor({ timeout: 10_000 })
        .catch(() => undefined);
      expect(await page.locator(`#log li[data-id="live-${user}"]:not([data-seq])`).count(), "the live-only push in the log").toBeGreaterThanOrEqual(1);
    }
  });

  it("notices an offline phone by the SDK's heartbeat", async () => {
    await ctxB.setOffline(true);
    await expectState(b, "phone", "reconnecting", 10_000);
  });

  it("resumes the phone after seq 4 once back online: the missed messages once each, in order, none of the excluded", async () => {
    const missed = range(5, 24);
    const excluded = new Set([5, 10, 15, 20]);
    for (const seq of missed) {
      const answer = await pushFromServer(user, {
        data: { text: `while the phone is offline #${seq}` },
        ...(excluded.has(seq) ? { exceptDevice: "phone" } : {}),
      });
      expect(answer, `push while offline #${seq}`).toMatchObject({ seq, stored: true });
    }
    await ctxB.setOffline(false);
    await expectState(b, "phone", "open", 20_000);
    await expectSeqs(b, "phone", [1, 2, 3, 4, ...missed.filter((s) => !excluded.has(s))]);
    await expectSeqs(a, "laptop", [1, 4, ...missed]);
    expect(await b.locator("#log li.note").first().textContent()).toMatch(/resumed after seq 4\b/);
  });

  it("resumes the phone after a reload from its persisted seq 24, and delivers 25-27 once", async () => {
    // The SDK persists the last seq when it sends the ack (batched for 1 s): wait for that, not a while.
    const key = `switchboard.seq:${user}:phone`;
    await b.waitForFunction((k) => Number(sessionStorage.getItem(k)) === 24, key, { timeout: 10_000, polling: 50 });
    await b.reload();
    for (const seq of [25, 26, 27]) await pushFromServer(user, { data: { text: `while the phone reloads #${seq}` } });
    expect(await b.getByLabel("Device name", { exact: true }).inputValue(), "the device name after the reload").toBe("phone");
    await b.getByRole("button", { name: "Connect", exact: true }).click();
    await expectState(b, "phone", "open");
    await expectSeqs(b, "phone", [25, 26, 27]);
    expect(await b.locator("#log li.note").first().textContent()).toMatch(/resumed after seq 24\b/);
    await expectSeqs(a, "laptop", [1, 4, ...range(5, 27)]);
  });

  it("replays seqs 1-27 but the phone-only 3 to a Node SDK client (header auth) from since=0, then delivers it a live push", async () => {
    const seqs: number[] = [];
    const errors: string[] = [];
    const client = connect({
      url: base,
      device: "node",
      since: 0,
      getToken: () => devToken(base, user),
      backoff: { maxAttempts: 3 },
    });
    client.on("message", (m) => {
      if (m.seq !== null) seqs.push(m.seq);
    });
    client.on("error", (e) => errors.push(`${e.kind}: ${e.message}`));
    const replay = [1, 2, ...range(4, 27)];
    const until = (what: string, done: () => boolean) =>
      eventually(
        what,
        () => {
          if (client.state === "closed") throw new Error(`node client closed: seqs [${seqs.join(",")}], errors [${errors.join("; ")}]`);
          return done();
        },
        10_000,
        20,
      );
    try {
      await until("the replay", () => seqs.length >= replay.length);
      expect(seqs).toEqual(replay);
      const live = await pushFromServer(user, { data: { text: "to the node client too" } });
      await until(`live seq ${String(live.seq)}`, () => seqs.at(-1) === live.seq);
    } finally {
      client.close();
    }
  });

  it("raised no uncaught error in either page", () => {
    expect(pageErrors).toEqual([]);
  });
});
