/** Switchboard Worker entry: the router, and the Durable Object classes it routes to. */
import { app } from "./http/app";

export { UserHub } from "./userHub";
export { StatsShard } from "./stats/statsShard";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
