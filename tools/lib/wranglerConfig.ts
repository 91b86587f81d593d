/** Values read from wrangler.toml, so scripts and the Worker never disagree. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./workerd.ts";

const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
if (date === undefined) throw new Error("wrangler.toml has no compatibility_date");
export const COMPATIBILITY_DATE: string = date;
