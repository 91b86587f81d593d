/** `npm run serve`'s command line (tools/serve.ts): one flag; everything else is environment. */
import type { CliSpec } from "./cli.ts";
import { KNOBS } from "./workerd.ts";

export const SERVE_CLI = {
  command: "npm run serve --",
  summary:
    "Switchboard on standalone workerd, Durable Objects on local disk; restarted if workerd exits on its own. Needs JWT_SECRET (or JWT_PUBLIC_KEYS) and API_KEY in the environment.",
  options: {
    "no-supervise": { type: "boolean", help: "exit when workerd exits (for an outer supervisor such as systemd's Restart=)" },
  },
  notes: [
    "environment:",
    "  SWITCHBOARD_ADDRESS  listen address (default 127.0.0.1:8788)",
    "  SWITCHBOARD_DATA     Durable Object storage directory (default .serve-data/)",
    "  SWITCHBOARD_DIST     where the bundle and config.capnp go (default dist/)",
    "  SWITCHBOARD_NOFILE   workerd's open-file limit (default: the hard limit); the session cap derives from it",
    "  SWITCHBOARD_EGRESS   public (default) or private: may the Worker reach private and loopback addresses",
    "  SWITCHBOARD_DRAIN_MS how long a stop waits for sessions to close 1001 (default 10000)",
    `  the Worker's knobs: ${KNOBS.join(", ")}`,
    "every knob, its default and its limits: docs/operations.md",
  ],
} satisfies CliSpec;
