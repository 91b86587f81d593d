/**
 * `npm run serve`'s pre-flight check: the Worker's own config check
 * (src/config.ts parseConfig, the same code, so the two cannot disagree: the
 * Pusher dialect's knobs included), run on the environment workerd will see,
 * plus a refusal of the development secrets even with DEV_MODE=1 — serve is
 * the production-like way to run, and `npm run dev` is the place for those
 * values — plus serve's own knobs (SWITCHBOARD_*), and the session cap derived
 * from the open-file limit workerd gets.
 */
import { readFileSync } from "node:fs";
import { DEV_API_KEY, DEV_JWT_SECRET, DEV_VAPID_PRIVATE_KEY, parseConfig } from "../../src/config.ts";
import { KNOBS, openFileLimits } from "./workerd.ts";

/** Why serve must not start on this environment, or undefined when it may. */
export function configRefusal(env: NodeJS.ProcessEnv): string | undefined {
  const vars = Object.fromEntries(KNOBS.map((name) => [name, env[name]]));
  if (env.JWT_SECRET?.trim() === DEV_JWT_SECRET) return "JWT_SECRET is the development value from .dev.vars; set a real secret";
  if (env.API_KEY?.trim() === DEV_API_KEY) return "API_KEY is the development value from .dev.vars; set a real key";
  if (env.VAPID_PRIVATE_KEY?.trim() === DEV_VAPID_PRIVATE_KEY)
    return "VAPID_PRIVATE_KEY is the development value from .dev.vars; generate your own (npx web-push generate-vapid-keys)";
  const result = parseConfig(vars);
  return result.ok ? undefined : result.problem;
}

/** Where the Worker's fetch() may go: `public` (workerd's default; no private or loopback address) or `private` too. */
export type Egress = "public" | "private";

/**
 * File descriptors per session and the fixed reserve, from docs/guarantees.md
 * "Mass disconnect": up to 2 per WebSocket and 3 per awake user object; the
 * reserve covers workerd itself, the stats shards, webhook connections and
 * the upgrades being refused while the cap is reached (each holds one socket
 * until its 503 is written).
 */
export const FDS_PER_SESSION = 5;
export const FD_RESERVE = 1000;

/**
 * How long serve's stop may spend closing sockets 1001 before workerd is
 * stopped anyway (SWITCHBOARD_DRAIN_MS). Measured on the 2-core box of
 * docs/operations.md ("Stopping"): 1,000 sessions closed in 1.8-5.6 s (a
 * busy box), so 10 s covers ~1,500 at worst and ~5,000 on a quiet box.
 */
export const DEFAULT_DRAIN_MS = 10_000;

export interface ServeSettings {
  egress: Egress;
  /** The open-file limit workerd will run with (undefined: unknown, e.g. not Linux). */
  nofile: number | undefined;
  /** The value to ask the shell for (SWITCHBOARD_NOFILE, else the hard limit when above the soft one), if any. */
  nofileAsked: number | undefined;
  /** Open WebSockets allowed before upgrades get 503 (0 = no cap); passed to workerd as MAX_CONNECTIONS. */
  maxConnections: number;
  /** Where the cap came from, for the start-up line. */
  capSource: "MAX_CONNECTIONS" | "SWITCHBOARD_NOFILE" | "the hard open-file limit" | "the shell's open-file limit" | "none";
  drainMs: number;
}

export type SettingsResult = { ok: true; settings: ServeSettings } | { ok: false; problem: string };

/** This process's open-file limits (Linux /proc); a child started without SWITCHBOARD_NOFILE inherits them. */
export function ownOpenFileLimits(): { soft: number; hard: number } | undefined {
  return openFileLimits("self");
}

/** The most descriptors the kernel lets one process have (Linux fs.nr_open; 1048576 by default). */
function kernelNrOpen(): number {
  try {
    const n = Number(readFileSync("/proc/sys/fs/nr_open", "utf8").trim());
    return Number.isSafeInteger(n) && n > 0 ? n : 1_048_576;
  } catch {
    return 1_048_576;
  }
}

/** The session cap an open-file limit allows (0 when it allows none or is unknown). */
export function sessionCap(nofile: number | undefined): number {
  if (nofile === undefined || !Number.isFinite(nofile)) return 0;
  return Math.max(0, Math.floor((nofile - FD_RESERVE) / FDS_PER_SESSION));
}

function positiveInt(raw: string | undefined, name: string, min: number, max: number): number | undefined | string {
  if (raw === undefined || raw.trim() === "") return undefined;
  const n = Number(raw.trim());
  if (!Number.isSafeInteger(n) || n < min || n > max) return `${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(raw)}`;
  return n;
}

/**
 * serve's own knobs. `limits` is this process's open-file limit (what workerd
 * inherits), `privileged` whether the shell may raise the hard limit.
 */
export function serveSettings(
  env: NodeJS.ProcessEnv,
  limits: { soft: number; hard: number } | undefined = ownOpenFileLimits(),
  privileged: boolean = process.getuid?.() === 0,
  nrOpen: number = kernelNrOpen(),
): SettingsResult {
  const egressRaw = (env.SWITCHBOARD_EGRESS ?? "").trim();
  if (egressRaw !== "" && egressRaw !== "public" && egressRaw !== "private") {
    return { ok: false, problem: `SWITCHBOARD_EGRESS must be public or private, not ${JSON.stringify(egressRaw)}` };
  }
  const egress: Egress = egressRaw === "private" ? "private" : "public";

  const asked = positiveInt(env.SWITCHBOARD_NOFILE, "SWITCHBOARD_NOFILE", 64, 1 << 30);
  if (typeof asked === "string") return { ok: false, problem: asked };
  // The shell's `ulimit -n N` (workerd.ts withOpenFileLimit) fails above the hard limit unless
  // privileged; it then falls back to the hard limit, so say so now rather than cap on a number workerd never gets.
  if (asked !== undefined && limits !== undefined && asked > limits.hard && !privileged) {
    return {
      ok: false,
      problem: `SWITCHBOARD_NOFILE=${asked} is above the hard open-file limit ${limits.hard} (raise it with ulimit -Hn or LimitNOFILE=, or run as root)`,
    };
  }
  if (asked !== undefined && asked > nrOpen) {
    return { ok: false, problem: `SWITCHBOARD_NOFILE=${asked} is above the kernel's per-process maximum (fs.nr_open = ${nrOpen})` };
  }
  // Unasked, workerd gets the hard limit (the shell's soft one is often 1024: a cap of 4), clamped to
  // what the kernel allows one process (fs.nr_open), as servers that raise their own limit do.
  const raised =
    asked === undefined && limits !== undefined && Number.isFinite(limits.hard) && limits.hard > limits.soft ? Math.min(limits.hard, nrOpen) : undefined;
  const nofileToAsk = asked ?? raised;
  const nofile = nofileToAsk ?? limits?.soft;

  const drain = positiveInt(env.SWITCHBOARD_DRAIN_MS, "SWITCHBOARD_DRAIN_MS", 0, 600_000);
  if (typeof drain === "string") return { ok: false, problem: drain };

  const budget = sessionCap(nofile);
  const explicit = positiveInt(env.MAX_CONNECTIONS, "MAX_CONNECTIONS", 0, 10_000_000);
  if (typeof explicit === "string") return { ok: false, problem: explicit };
  let maxConnections: number;
  let capSource: ServeSettings["capSource"];
  if (explicit !== undefined) {
    if (explicit > budget && nofile !== undefined && Number.isFinite(nofile)) {
      return {
        ok: false,
        problem:
          `MAX_CONNECTIONS=${explicit} is more than workerd's open-file limit ${nofile} allows (~${budget} sessions at ${FDS_PER_SESSION} fds each plus ${FD_RESERVE}); ` +
          `raise SWITCHBOARD_NOFILE to at least ${explicit * FDS_PER_SESSION + FD_RESERVE}, or lower MAX_CONNECTIONS (0 turns the cap off)`,
      };
    }
    maxConnections = explicit;
    capSource = explicit === 0 ? "none" : "MAX_CONNECTIONS";
  } else {
    if (nofile !== undefined && Number.isFinite(nofile) && budget === 0) {
      return {
        ok: false,
        problem: `workerd's open-file limit ${nofile} leaves no room for sessions (at least ${FD_RESERVE + FDS_PER_SESSION}; set SWITCHBOARD_NOFILE)`,
      };
    }
    maxConnections = budget;
    capSource =
      budget === 0 ? "none" : asked !== undefined ? "SWITCHBOARD_NOFILE" : raised !== undefined ? "the hard open-file limit" : "the shell's open-file limit";
  }
  return { ok: true, settings: { egress, nofile, nofileAsked: nofileToAsk, maxConnections, capSource, drainMs: drain ?? DEFAULT_DRAIN_MS } };
}
