/**
 * Browser end-to-end test (`npm run e2e`): the demo page and the SDK in
 * Debian's chromium against `wrangler dev`.
 *
 * Two tabs (separate browser contexts, i.e. two devices) of one user:
 * 1. both connect through the page and see each other in the session list;
 * 2. a push to the user reaches both; "all but this device" and "only one
 *    device" pushes reach only the other tab; a live-only push reaches both;
 * 3. one tab goes offline (Chromium keeps the socket but stops delivering
 *    frames, so only the SDK's heartbeat can notice), stored pushes pile up,
 *    some excluding that device; back online it resumes: every seq meant for
 *    it arrives exactly once, in order, and none of the excluded ones;
 * 4. that tab reloads, pushes arrive meanwhile, and on connect it resumes from
 *    the seq it persisted in sessionStorage;
 * 5. the SDK in Node (header auth) replays the whole log from since=0;
 * 6. the demo's service worker turns push messages into one notification per
 *    id while no page is open (e2e/webpush.ts).
 *
 * Exits 1 with a reason on any failure, 0 with a short summary otherwise.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { connect } from "../packages/client/src/index.ts";
import type { PushAnswer } from "../scripts/lib/api.ts";
import { closeLatencyInChromium } from "./closeLatency.ts";
import { stompInChromium } from "./stomp.ts";
import { webPushInChromium } from "./webpush.ts";
import { startWrangler, type DevServer } from "./wrangler.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** The whole run, wrangler start-up included, must finish within this. */
const OVERALL_TIMEOUT_MS = 110_000;
/** Heartbeat for the pages (?heartbeat=), so a dead connection is noticed in ~2 s, not ~35 s. */
const HEARTBEAT_MS = 1000;

class E2EFailure extends Error {}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new E2EFailure(message);
}

const started = Date.now();
const summary: string[] = [];
function passed(what: string): void {
  const line = `  ✓ ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`;
  summary.push(line);
  console.log(line);
}

// ---- page helpers ----

/** The seqs in a tab's message log, oldest first (the page lists newest first). */
function seqsOf(page: Page): Promise<number[]> {
  return page.evaluate(() => [...document.querySelectorAll<HTMLLIElement>("#log li[data-seq]")].map((li) => Number(li.dataset.seq)).reverse());
}

/** Wait until a tab's log holds exactly `expected` seqs, in order; fail with what it has otherwise. */
async function expectSeqs(page: Page, name: string, expected: number[], timeoutMs = 15_000): Promise<void> {
  try {
    await page.waitForFunction(
      (want) => {
        const have = [...document.querySelectorAll<HTMLLIElement>("#log li[data-seq]")].map((li) => Number(li.dataset.seq)).reverse();
        return have.length >= want.length;
      },
      expected,
      { timeout: timeoutMs, polling: 50 },
    );
  } catch {
    throw new E2EFailure(`${name}: waited for seqs [${expected.join(",")}], have [${(await seqsOf(page)).join(",")}]`);
  }
  const have = await seqsOf(page);
  check(
    JSON.stringify(have) === JSON.stringify(expected),
    `${name}: expected seqs [${expected.join(",")}] exactly once each and in order, got [${have.join(",")}]`,
  );
}

async function waitForState(page: Page, name: string, state: string, timeoutMs = 15_000): Promise<void> {
  try {
    await page.waitForFunction((s) => document.querySelector<HTMLElement>("#status")?.dataset.state === s, state, {
      timeout: timeoutMs,
      polling: 50,
    });
  } catch {
    throw new E2EFailure(`${name}: status never became "${state}"; it says: ${await page.textContent("#status")}`);
  }
}

async function connectTab(page: Page, base: string, name: string, user: string, device: string): Promise<void> {
  await page.goto(`${base}/?heartbeat=${HEARTBEAT_MS}`);
  await page.getByLabel("User", { exact: true }).fill(user);
  await page.getByLabel("Device name", { exact: true }).fill(device);
  await page.getByRole("button", { name: "Connect", exact: true }).click();
  await waitForState(page, name, "open");
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

async function pushFromServer(base: string, user: string, body: Record<string, unknown>): Promise<PushAnswer> {
  const res = await fetch(`${base}/dev/push?user=${encodeURIComponent(user)}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new E2EFailure(`POST /dev/push answered ${res.status}: ${await res.text()}`);
  const answer = (await res.json()) as PushAnswer;
  return answer;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

// ---- the scenario ----

async function scenario(base: string, browser: Browser): Promise<void> {
  const user = `e2e-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const contexts: BrowserContext[] = [await browser.newContext(), await browser.newContext()];
  const [ctxA, ctxB] = contexts as [BrowserContext, BrowserContext];
  const a = await ctxA.newPage();
  const b = await ctxB.newPage();
  for (const page of [a, b]) page.setDefaultTimeout(10_000);
  const pageErrors: string[] = [];
  for (const [name, page] of [
    ["laptop", a],
    ["phone", b],
  ] as const) {
    page.on("pageerror", (err) => pageErrors.push(`${name}: ${err.message}`));
  }

  // 1. Two devices of one user, visible in each other's session list.
  await connectTab(a, base, "laptop", user, "laptop");
  await connectTab(b, base, "phone", user, "phone");
  try {
    await a.waitForFunction(
      () => {
        const devices = [...document.querySelectorAll<HTMLTableRowElement>("#sessions tbody tr")].map((tr) => tr.dataset.device).sort();
        return JSON.stringify(devices) === JSON.stringify(["laptop", "phone"]);
      },
      undefined,
      { timeout: 10_000, polling: 100 },
    );
  } catch {
    throw new E2EFailure(`laptop: session list never showed laptop and phone: ${await a.textContent("#sessions")}`);
  }
  passed(`two tabs of ${user} connected (laptop, phone) and listed in the session table`);

  // 2. Targeting, driven from the laptop's push form.
  const all = await pushFromPage(a, "to everyone", "all");
  check(/seq 1\b.*delivered to 2 of 2/.test(all), `push to all: unexpected answer "${all}"`);
  await expectSeqs(a, "laptop", [1]);
  await expectSeqs(b, "phone", [1]);
  passed("a push to the user reached both tabs");

  const except = await pushFromPage(a, "not for the laptop", "except");
  check(/seq 2\b.*delivered to 1 of 2/.test(except), `except-device push: unexpected answer "${except}"`);
  const only = await pushFromPage(a, "only the phone", "one", "phone");
  check(/seq 3\b.*delivered to 1 of 2/.test(only), `one-device push: unexpected answer "${only}"`);
  // Frames on one socket arrive in order, so once seq 4 is in, seqs 2 and 3
  // would already be there if the laptop had been sent them.
  await pushFromServer(base, user, { data: { text: "to everyone again" } });
  await expectSeqs(b, "phone", [1, 2, 3, 4]);
  await expectSeqs(a, "laptop", [1, 4]);
  passed("all-but-this-device and only-one-device pushes reached only the other tab");

  const live = await pushFromServer(base, user, { data: { text: "live only" }, ttl: 0, id: `live-${user}` });
  check(live.seq === null && live.delivered === 2, `live-only push: ${JSON.stringify(live)}`);
  for (const [name, page] of [
    ["laptop", a],
    ["phone", b],
  ] as const) {
    await page
      .locator(`#log li[data-id="live-${user}"]:not([data-seq])`)
      .waitFor({ timeout: 10_000 })
      .catch(() => {
        throw new E2EFailure(`${name}: the live-only push never arrived`);
      });
  }
  passed("a live-only push (ttl 0, no seq) reached both tabs");

  // 3. The phone loses its network; only the heartbeat can tell.
  await ctxB.setOffline(true);
  await waitForState(b, "phone", "reconnecting", 10_000);
  passed("offline phone: the SDK's heartbeat noticed the dead connection");
  const missed = range(5, 24);
  const excluded = new Set([5, 10, 15, 20]);
  for (const seq of missed) {
    const answer = await pushFromServer(base, user, {
      data: { text: `while the phone is offline #${seq}` },
      ...(excluded.has(seq) ? { exceptDevice: "phone" } : {}),
    });
    check(answer.seq === seq && answer.stored, `push while offline: expected stored seq ${seq}, got ${JSON.stringify(answer)}`);
  }
  await ctxB.setOffline(false);
  await waitForState(b, "phone", "open", 20_000);
  const phoneExpected = [1, 2, 3, 4, ...missed.filter((s) => !excluded.has(s))];
  await expectSeqs(b, "phone", phoneExpected);
  await expectSeqs(a, "laptop", [1, 4, ...missed]);
  const resumedNote = await b.locator("#log li.note").first().textContent();
  check(/resumed after seq 4\b/.test(resumedNote ?? ""), `phone: expected a resume after seq 4, log says "${resumedNote}"`);
  passed(`back online the phone resumed after seq 4: ${phoneExpected.length - 4} missed messages once each, in order, none of the 4 excluded`);

  // 4. A reload resumes from the seq persisted in sessionStorage.
  await b.waitForTimeout(1200); // > the SDK's 1 s ack batching, so the last seq is persisted and acked
  await b.reload();
  for (const seq of [25, 26, 27]) await pushFromServer(base, user, { data: { text: `while the phone reloads #${seq}` } });
  check((await b.getByLabel("Device name", { exact: true }).inputValue()) === "phone", "phone: the device name did not survive the reload");
  await b.getByRole("button", { name: "Connect", exact: true }).click();
  await waitForState(b, "phone", "open");
  await expectSeqs(b, "phone", [25, 26, 27]);
  const reloadNote = await b.locator("#log li.note").first().textContent();
  check(/resumed after seq 24\b/.test(reloadNote ?? ""), `phone: expected a resume after seq 24, log says "${reloadNote}"`);
  await expectSeqs(a, "laptop", [1, 4, ...range(5, 27)]);
  passed("after a reload the phone resumed from its persisted seq 24 and got 25-27 once");

  // 5. The SDK in Node against the same Worker: header auth, and a full replay
  // from since=0 that honours targeting (seq 3 was for the phone only).
  await nodeClient(base, user, [1, 2, ...range(4, 27)]);
  passed("a Node SDK client (Authorization header) replayed seqs 1-27 from since=0, minus the phone-only seq 3, then got a live push");

  check(pageErrors.length === 0, `uncaught errors in the page:\n${pageErrors.join("\n")}`);
  for (const ctx of contexts) await ctx.close();
}

async function nodeClient(base: string, user: string, replay: number[]): Promise<void> {
  const seqs: number[] = [];
  const errors: string[] = [];
  const client = connect({
    url: base,
    device: "node",
    since: 0,
    getToken: async () => {
      const res = await fetch(`${base}/dev/token?user=${encodeURIComponent(user)}`);
      const body = (await res.json()) as { token: string };
      return body.token;
    },
    backoff: { maxAttempts: 3 },
  });
  client.on("message", (m) => {
    if (m.seq !== null) seqs.push(m.seq);
  });
  client.on("error", (e) => errors.push(`${e.kind}: ${e.message}`));
  const until = async (what: string, done: () => boolean): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!done()) {
      if (Date.now() > deadline || client.state === "closed") {
        throw new E2EFailure(`node client: ${what}; state ${client.state}, seqs [${seqs.join(",")}], errors [${errors.join("; ")}]`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await until("no replay", () => seqs.length >= replay.length);
    check(JSON.stringify(seqs) === JSON.stringify(replay), `node client: expected replay [${replay.join(",")}], got [${seqs.join(",")}]`);
    const live = await pushFromServer(base, user, { data: { text: "to the node client too" } });
    await until(`live seq ${live.seq} never arrived`, () => seqs.at(-1) === live.seq);
  } finally {
    client.close();
  }
}

// ---- driver ----

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: "inherit" });
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(" ")} exited with ${code}`))));
  });
}

async function main(): Promise<number> {
  if (!existsSync(CHROMIUM)) {
    console.error(`e2e: FAILED: ${CHROMIUM} is missing. Install Debian's chromium (apt-get install chromium); this test never downloads a browser.`);
    return 1;
  }
  let server: DevServer | undefined;
  let browser: Browser | undefined;
  let finished = false;
  const cleanup = async (): Promise<void> => {
    await browser?.close().catch(() => {});
    await server?.stop();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void cleanup().finally(() => process.exit(130));
    });
  }
  const watchdog = setTimeout(() => {
    if (finished) return;
    console.error(`e2e: FAILED: took longer than ${OVERALL_TIMEOUT_MS / 1000} s`);
    void cleanup().finally(() => process.exit(1));
  }, OVERALL_TIMEOUT_MS);

  try {
    await run(process.execPath, ["packages/client/build.ts"]);
    server = await startWrangler(ROOT, 60_000);
    passed(`wrangler dev is up on ${server.baseUrl}`);
    const sdk = await fetch(`${server.baseUrl}/sdk.js`);
    check(sdk.ok && (sdk.headers.get("content-type") ?? "").includes("javascript"), `GET /sdk.js answered ${sdk.status} ${sdk.headers.get("content-type")}`);
    // launch() gives every run a fresh temporary user-data dir
    // (playwright_chromiumdev_profile-*) and deletes it on close; each
    // newContext() is a fresh incognito-like profile inside it.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    await scenario(server.baseUrl, browser);
    passed(await closeLatencyInChromium(ROOT, server.baseUrl, browser));
    passed(await stompInChromium(ROOT, server.baseUrl, browser));
    passed(await webPushInChromium(server.baseUrl, browser));
    finished = true;
    console.log(`e2e: PASSED: ${summary.length} checks in ${((Date.now() - started) / 1000).toFixed(1)} s (Chromium ${browser.version()})`);
    return 0;
  } catch (err) {
    finished = true;
    console.error(`\ne2e: FAILED: ${err instanceof Error ? err.message : String(err)}`);
    if (!(err instanceof E2EFailure) && err instanceof Error && err.stack !== undefined) console.error(err.stack);
    if (server !== undefined) console.error(`\n--- wrangler dev, last lines ---\n${server.logTail()}`);
    return 1;
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

process.exitCode = await main();
