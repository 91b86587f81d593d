/** Builds @switchboard/server into dist/ (`npm run build:server` at the root; `npm pack` runs it too). */
import { fileURLToPath } from "node:url";
import { buildPackage } from "../buildPackage.ts";

const started = performance.now();
await buildPackage(fileURLToPath(new URL(".", import.meta.url)));
console.log(`build:server: packages/server/dist in ${Math.round(performance.now() - started)} ms`);
