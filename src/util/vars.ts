/**
 * Reading the Worker's variables (wrangler vars, secrets, .dev.vars), shared by
 * every config parser (src/config.ts, src/pusher/config.ts, src/webpush/config.ts).
 * Imported by Node tools too, hence the `.ts` import specifiers there.
 */
export type Vars = Partial<Record<string, unknown>>;

/** A variable's trimmed text; undefined when unset, not a string, or blank (a blank secret is an unset one). */
export function text(vars: Vars, name: string): string | undefined {
  const value = vars[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}
