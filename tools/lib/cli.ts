/**
 * The command line of every npm-script CLI (bench, cost, fuzz, chaos, token,
 * serve, dev): node:util parseArgs in strict mode, plus the two answers a user
 * expects of any command — `--help` (or `-h`) prints the usage on stdout and
 * exits 0; an unknown option, a missing value or a malformed one prints what
 * was wrong and the usage on stderr and exits 2 (the shell's "usage error"
 * status, as getopt tools use), never a stack trace.
 */
import { parseArgs } from "node:util";

export interface OptionSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  /** How the value is shown in the usage, e.g. "N" or "FILE" (string options). */
  value?: string;
  /** A whole number at least `min` (checked here, so a typo is a usage error, not NaN downstream). */
  int?: { min: number };
  /** A number at least `min` (not necessarily whole). */
  number?: { min: number };
  /** The whole value must match `re`; `what` says what it must be, for the usage error. */
  pattern?: { re: RegExp; what: string };
  help: string;
}

export interface CliSpec {
  /** How it is run, e.g. "npm run bench --". */
  command: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /** Allow arguments after `--` (dev passes them on to wrangler); described in the usage. */
  rest?: string;
  /** Lines after the options (environment, examples, where the docs are). */
  notes?: string[];
}

type Values<O extends Record<string, OptionSpec>> = {
  [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : O[K]["multiple"] extends true ? string[] : string;
};

export function usage(spec: CliSpec): string {
  const flags: Array<readonly [string, string]> = Object.entries(spec.options).map(
    ([name, o]) => [`--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`, o.help] as const,
  );
  flags.push(["-h, --help", "print this and exit"]);
  if (spec.rest !== undefined) flags.push(["-- ARGS…", spec.rest]);
  const width = Math.max(...flags.map(([f]) => f.length));
  return [
    `usage: ${spec.command} [options]${spec.rest === undefined ? "" : " [-- ARGS…]"}`,
    "",
    spec.summary,
    "",
    "options:",
    ...flags.map(([f, help]) => `  ${f.padEnd(width)}  ${help}`),
    ...(spec.notes === undefined ? [] : ["", ...spec.notes]),
  ].join("\n");
}

/** A usage error: what was wrong, then the usage, on stderr; exit 2. */
export function usageError(spec: CliSpec, message: string): never {
  process.stderr.write(`${spec.command.replace(/ --$/, "")}: ${message}\n\n${usage(spec)}\n`);
  process.exit(2);
}

/**
 * Parses `argv` against `spec`; handles --help and usage errors itself (both
 * exit). Returns the values (numbers checked, still as strings) and what came
 * after `--` when `spec.rest` allows it.
 */
export function parseCommandLine<O extends Record<string, OptionSpec>>(
  spec: CliSpec & { options: O },
  argv: readonly string[] = process.argv.slice(2),
): { values: Values<O>; rest: string[] } {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = { help: { type: "boolean", short: "h" } };
  for (const [name, o] of Object.entries(spec.options)) options[name] = { type: o.type, ...(o.multiple === true ? { multiple: true } : {}) };
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: spec.rest !== undefined });
  } catch (err) {
    // node:util reports every parse problem as a TypeError with an ERR_PARSE_ARGS_* code.
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_"))
      usageError(spec, (err as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
    throw err;
  }
  if (parsed.values.help === true) {
    process.stdout.write(`${usage(spec)}\n`);
    process.exit(0);
  }
  if (spec.rest !== undefined && parsed.positionals.length > 0 && !argv.includes("--")) {
    usageError(spec, `unexpected argument ${JSON.stringify(parsed.positionals[0])} (arguments for ${spec.rest.split(" ")[0]} go after --)`);
  }
  for (const [name, o] of Object.entries(spec.options)) {
    const raw = parsed.values[name];
    if (typeof raw !== "string") continue;
    if (o.pattern !== undefined && !o.pattern.re.test(raw)) usageError(spec, `--${name} must be ${o.pattern.what} (got ${JSON.stringify(raw)})`);
    const bound = o.int ?? o.number;
    if (bound === undefined) continue;
    const n = raw.trim() === "" ? Number.NaN : Number(raw);
    const ok = o.int !== undefined ? Number.isSafeInteger(n) && n >= o.int.min : Number.isFinite(n) && n >= bound.min;
    if (!ok) usageError(spec, `--${name} must be ${o.int !== undefined ? "a whole number" : "a number"} ≥ ${bound.min} (got ${JSON.stringify(raw)})`);
  }
  const { help: _help, ...values } = parsed.values;
  return { values: values as Values<O>, rest: parsed.positionals };
}
