/** Switchboard Worker entry: the router, and the Durable Object classes it routes to. */
import { app } from "./http/app";

export { UserHub } from "./userHub";
export { StatsShard } from "./stats/statsShard";
/** `npm run serve`'s admin entrypoint (drain on SIGTERM), on a Unix socket only: src/http/admin.ts. */
export { admin } from "./http/admin";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
