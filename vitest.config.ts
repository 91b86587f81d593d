import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

/** Secrets and knobs the tests run with (never the .dev.vars ones, so dev mode is off unless asked). */
export const TEST_BINDINGS = {
  JWT_SECRET: "test-jwt-secret-0123456789abcdef",
  API_KEY: "test-api-key-0123456789",
  ALLOWED_ORIGINS: "https://app.example.com",
  MAX_SESSIONS_PER_USER: "8",
  MAX_STORED_PER_USER: "200",
  STATS_SHARDS: "4",
  // The Pusher dialect (test/pusher*.test.ts); unset-means-404 is tested with an env without them.
  PUSHER_APP_ID: "test-app",
  PUSHER_KEY: "test-pusher-key",
  PUSHER_SECRET: "test-pusher-secret-0123456789",
  // .dev.vars (which the plugin also reads) turns dev mode on; tests opt in per project.
  DEV_MODE: "0",
  // .dev.vars' development VAPID keys would be refused with DEV_MODE=0: Web Push is off
  // unless a project turns it on (the "webpush" project, with keys of its own).
  VAPID_PUBLIC_KEY: "",
  VAPID_PRIVATE_KEY: "",
  VAPID_SUBJECT: "",
};

/** A VAPID key pair for the tests only (test/webpush/*), generated with WebCrypto. */
export const TEST_VAPID = {
  VAPID_PUBLIC_KEY: "BFP_lcDlEhPOR8eOnFLkCYrN2uJ-BSaIJzVB0yOuWd0HLhgoSzwjTzZUkM-7e6JefoczrCElCt20MBnH0nCIelo",
  VAPID_PRIVATE_KEY: "d-qkPQd-jhtipHpSiimuGlhhDVpQhhuBeoKZOuytyU0",
  VAPID_SUBJECT: "mailto:ops@switchboard.test",
};

/**
 * Files that read deployment-wide state (/v1/stats, broadcasts reach every online user): they
 * need a runtime of their own, so they stay isolated even in the inner loop.
 */
const DEPLOYMENT_WIDE = ["test/stats.test.ts", "test/fanout.test.ts"];

function workersProject(
  name: string,
  include: string[],
  bindings: Record<string, string>,
  o: { exclude?: string[]; compatibilityFlags?: string[]; isolate: boolean },
): TestProjectInlineConfiguration {
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: { bindings: { ...TEST_BINDINGS, ...bindings }, compatibilityFlags: o.compatibilityFlags ?? [] },
      }),
    ],
    test: { name, include, exclude: o.exclude ?? [], isolate: o.isolate },
  };
}

// `vitest run --mode fast` (npm run test:fast): the files of a workerd project share one runtime
// and its storage instead of starting one each, which halves the inner loop. `npm test` and CI
// keep one runtime per file, the storage isolation the tests are written for.
export default defineConfig(({ mode }) => {
  const isolate = mode !== "fast";
  return {
    test: {
      projects: [
        workersProject(
          "worker",
          ["test/**/*.test.ts"],
          {},
          {
            exclude: ["test/webhooks*.test.ts", "test/devMode*.test.ts", "test/webpush/**", "test/node/**", ...DEPLOYMENT_WIDE],
            isolate,
          },
        ),
        workersProject("deployment", DEPLOYMENT_WIDE, {}, { isolate: true }),
        // Web Push on (VAPID keys set). The fake push service is a fetch mock in the test isolate that
        // decrypts with http_ece, which needs Node's crypto: nodejs_compat in this project only.
        workersProject("webpush", ["test/webpush/**/*.test.ts"], { ...TEST_VAPID }, { compatibilityFlags: ["nodejs_compat"], isolate }),
        workersProject(
          "webhooks",
          ["test/webhooks*.test.ts"],
          { WEBHOOK_URL: "https://hooks.example.test/switchboard", WEBHOOK_SECRET: "test-webhook-secret", WEBHOOK_OFFLINE_GRACE: "2" },
          { isolate },
        ),
        workersProject("dev-mode", ["test/devMode*.test.ts"], { DEV_MODE: "1" }, { isolate }),
        // Plain Node, no processes: the SDKs' and the protocol's unit tests (in `npm run test:fast` with the workerd projects).
        { test: { name: "packages", include: ["packages/*/test/**/*.test.ts"], environment: "node", isolate } },
        // Plain Node with real processes: standalone workerd, wrangler dev, and the smoke runs of
        // the scripts (bench, fuzz, chaos). Only `npm test` runs these.
        {
          test: {
            name: "node",
            include: ["test/node/**/*.test.ts"],
            environment: "node",
            testTimeout: 120_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  };
});
