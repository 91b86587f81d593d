/**
 * What the browser test's files share: Debian's chromium under playwright-core
 * (a fresh temporary profile per launch), and the development secrets
 * `wrangler dev` runs with (.dev.vars).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { ROOT } from "../tools/lib/workerd.ts";

export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * launch() gives every run a fresh temporary user-data dir
 * (playwright_chromiumdev_profile-*) and deletes it on close; each
 * newContext() is a fresh incognito-like profile inside it.
 */
function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** Chromium for the calling test file: launched before its tests, closed after them. The getter gives it. */
export function chromiumForThisFile(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (browser === undefined) throw new Error("chromium is not launched yet");
    return browser;
  };
}

/** A client token for `user` from wrangler dev's /dev/token (DEV_MODE=1). */
export async function devToken(base: string, user: string): Promise<string> {
  const res = await fetch(`${base}/dev/token?user=${encodeURIComponent(user)}`);
  return ((await res.json()) as { token: string }).token;
}

/** A value of .dev.vars (what `wrangler dev` runs with), e.g. API_KEY. */
export function devVar(name: string): string {
  const line = new RegExp(`^${name}=(.*)$`, "m").exec(readFileSync(join(ROOT, ".dev.vars"), "utf8"));
  if (line?.[1] === undefined) throw new Error(`.dev.vars has no ${name}`);
  return line[1].trim();
}

/**
 * Load the SDK the Worker serves (/sdk.js, an ES module) into `page` as `window.sdk`. Not with an
 * import() inside page.evaluate: vite, which runs these files under vitest, rewrites every
 * literal import() in them, the functions meant for the page included.
 */
export async function loadSdk(page: Page): Promise<void> {
  await page.addScriptTag({ type: "module", content: `import * as sdk from "/sdk.js"; window.sdk = sdk;` });
  await page.waitForFunction(() => "sdk" in window);
}
