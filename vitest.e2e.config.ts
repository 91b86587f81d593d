import { defineConfig } from "vitest/config";

/**
 * The browser test (`npm run e2e`): e2e/*.test.ts in Node, driving Debian's chromium
 * (/usr/bin/chromium) through playwright-core against one `wrangler dev` (e2e/setup.ts).
 * Not part of `npm test`: vitest.config.ts's projects never include e2e/, since the
 * machines `npm test` runs on may have no chromium.
 */
export default defineConfig({
  test: {
    name: "e2e",
    include: ["e2e/**/*.test.ts"],
    environment: "node",
    globalSetup: ["e2e/setup.ts"],
    // One browser at a time against the one wrangler dev.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
