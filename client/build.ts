/**
 * Builds the SDK (`npm run build:client`):
 * - public/sdk.js: the ESM bundle the demo page imports from `/sdk.js`;
 * - client/dist/index.js: the same, unminified, for `import … from "switchboard-client"` in Node.
 * Both are generated (gitignored); `npm run dev` and `npm run e2e` build first.
 */
import { build, type BuildOptions } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const common: BuildOptions = {
  absWorkingDir: root,
  entryPoints: ["client/src/index.ts"],
  bundle: true,
  format: "esm",
  // Every evergreen browser and Node 22: private fields and ?? stay native.
  target: ["es2022"],
  platform: "neutral",
  sourcemap: true,
  legalComments: "none",
  logLevel: "warning",
};

const started = performance.now();
await Promise.all([
  build({ ...common, outfile: "public/sdk.js", minify: true }),
  build({ ...common, outfile: "client/dist/index.js" }),
]);
console.log(`build:client: public/sdk.js and client/dist/index.js in ${Math.round(performance.now() - started)} ms`);
