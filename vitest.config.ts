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
};

function workersProject(name: string, include: string[], bindings: Record<string, string>, exclude: string[] = []): TestProjectInlineConfiguration {
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: { bindings: { ...TEST_BINDINGS, ...bindings } },
      }),
    ],
    test: { name, include, exclude },
  };
}

export default defineConfig({
  test: {
    projects: [
      workersProject("worker", ["test/**/*.test.ts"], {}, ["test/webhooks*.test.ts", "test/devMode*.test.ts", "test/node/**"]),
      workersProject("webhooks", ["test/webhooks*.test.ts"], {
        WEBHOOK_URL: "https://hooks.example.test/switchboard",
        WEBHOOK_SECRET: "test-webhook-secret",
        WEBHOOK_OFFLINE_GRACE: "2",
      }),
      workersProject("dev-mode", ["test/devMode*.test.ts"], { DEV_MODE: "1" }),
      // Plain Node: the client SDK's unit tests and the smoke runs of the scripts
      // (bench, fuzz, chaos) that drive a real workerd process.
      {
        test: {
          name: "node",
          include: ["packages/*/test/**/*.test.ts", "test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
