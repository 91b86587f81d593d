import type { Config } from "../config";

/** Hono's environment for every route: the Worker's bindings, and the parsed config. */
export type AppEnv = { Bindings: Env; Variables: { config: Config } };
