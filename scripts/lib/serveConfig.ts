/**
 * `npm run serve`'s pre-flight check: the Worker's own config check
 * (src/config.ts parseConfig, the same code, so the two cannot disagree),
 * run on the environment workerd will see, plus a refusal of the development
 * secrets even with DEV_MODE=1 — serve is the production-like way to run, and
 * `npm run dev` is the place for those values.
 */
import { DEV_API_KEY, DEV_JWT_SECRET, DEV_VAPID_PRIVATE_KEY, parseConfig } from "../../src/config.ts";
import { KNOBS } from "./workerd.ts";

/** Why serve must not start on this environment, or undefined when it may. */
export function configRefusal(env: NodeJS.ProcessEnv): string | undefined {
  const vars = Object.fromEntries(KNOBS.map((name) => [name, env[name]]));
  if (env.JWT_SECRET?.trim() === DEV_JWT_SECRET) return "JWT_SECRET is the development value from .dev.vars; set a real secret";
  if (env.API_KEY?.trim() === DEV_API_KEY) return "API_KEY is the development value from .dev.vars; set a real key";
  if (env.VAPID_PRIVATE_KEY?.trim() === DEV_VAPID_PRIVATE_KEY) return "VAPID_PRIVATE_KEY is the development value from .dev.vars; generate your own (npx web-push generate-vapid-keys)";
  const result = parseConfig(vars);
  return result.ok ? undefined : result.problem;
}
