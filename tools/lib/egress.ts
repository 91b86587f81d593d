/**
 * Egress for `npm run serve`: which addresses the Worker's fetch() may reach,
 * and the start-up check of WEBHOOK_URL against it.
 *
 * workerd's network services filter every connection by address (its
 * config's `Network.allow`/`deny`, node_modules/workerd/workerd.capnp); a
 * hostname is resolved and only permitted addresses are tried, so the filter
 * also holds against DNS rebinding. The default "internet" service allows
 * "public" only: a webhook to 127.0.0.1 or 10.x fails at delivery time with
 * "connecting to … is not allowed". serve writes two network services
 * (workerd.ts writeConfig):
 *
 * - `internet`, the Worker's global fetch(): "public", plus "private" (a
 *   superset of "local", i.e. loopback) with SWITCHBOARD_EGRESS=private. Only
 *   operator-supplied URLs go there (WEBHOOK_URL).
 * - `public-internet`, bound as the service binding PUBLIC_EGRESS: "public"
 *   whatever SWITCHBOARD_EGRESS says. Any URL a client supplies (a Web Push
 *   endpoint) must be fetched through `env.PUBLIC_EGRESS` (src/util/egress.ts
 *   publicFetch), so a registered endpoint of http://169.254.169.254/ or
 *   http://127.0.0.1:6379/ can never be reached, even on a box that lets
 *   webhooks reach its sidecars.
 */
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import type { Egress } from "./serveConfig.ts";

/**
 * Addresses workerd's "private" names (kj::Network::restrictPeers): reserved
 * for private networks, loopback, link-local, CGNAT, unspecified. A URL whose
 * every address is here cannot be reached under `public`. (The runtime is the
 * authority; this list only lets serve say so at start.)
 */
const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
] as const) {
  NOT_PUBLIC.addSubnet(net, bits, "ipv4");
}
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
] as const) {
  NOT_PUBLIC.addSubnet(net, bits, "ipv6");
}

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined) return !NOT_PUBLIC.check(mapped, "ipv4");
  return !NOT_PUBLIC.check(address, family === 4 ? "ipv4" : "ipv6");
}

export interface EgressCheck {
  /** serve must not start: the webhook could never be delivered. */
  refuse?: string;
  /** Worth a line at start, not a refusal (e.g. the name does not resolve yet). */
  warn?: string;
}

const ADVICE = "set SWITCHBOARD_EGRESS=private to let the Worker reach private and loopback addresses (docs/operations.md, Egress)";

/** Can the Worker reach WEBHOOK_URL under `egress`? Resolves the host once, as workerd will. */
export async function webhookEgress(
  rawUrl: string | undefined,
  egress: Egress,
  resolve: (host: string, options: { all: true }) => Promise<Array<{ address: string }>> = lookup,
): Promise<EgressCheck> {
  if (rawUrl === undefined || rawUrl.trim() === "" || egress === "private") return {};
  const host = new URL(rawUrl.trim()).hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "localhost" || host.endsWith(".localhost"))
    return { refuse: `WEBHOOK_URL's host ${host} is loopback, which SWITCHBOARD_EGRESS=public refuses; ${ADVICE}` };
  if (isIP(host) !== 0) {
    return isPublicAddress(host) ? {} : { refuse: `WEBHOOK_URL's address ${host} is not public, which SWITCHBOARD_EGRESS=public refuses; ${ADVICE}` };
  }
  let addresses: string[];
  try {
    addresses = (await resolve(host, { all: true })).map((a) => a.address);
  } catch (err) {
    return { warn: `WEBHOOK_URL's host ${host} does not resolve now (${err instanceof Error ? err.message : String(err)}); webhooks fail until it does` };
  }
  if (addresses.length > 0 && !addresses.some(isPublicAddress)) {
    return {
      refuse: `WEBHOOK_URL's host ${host} resolves only to addresses that are not public (${addresses.join(", ")}), which SWITCHBOARD_EGRESS=public refuses; ${ADVICE}`,
    };
  }
  return {};
}
