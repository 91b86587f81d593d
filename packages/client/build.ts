/**
 * Builds @switchboard/client (`npm run build:client` at the root, `npm run
 * build` here; `npm pack` runs it too): dist/ for the package, and
 * ../../public/sdk.js, the same bundle minified, which the Worker serves at
 * `/sdk.js`. Both generated (gitignored); `npm run dev` and `npm run e2e` build first.
 */
import { fileURLToPath } from "node:url";
import { buildPackage } from "../buildPackage.ts";

const started = performance.now();
await buildPackage(fileURLToPath(new URL(".", import.meta.url)), [{ outfile: "../../public/sdk.js", minify: true }]);
console.log(`build:client: packages/client/dist and public/sdk.js in ${Math.round(performance.now() - started)} ms`);
