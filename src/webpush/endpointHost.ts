/**
 * Is a push endpoint's host one a client may make us call? A registered
 * endpoint is a URL a client chose; outside dev mode an IP literal in a
 * private, loopback, link-local or otherwise non-public range (or a
 * `localhost` name) is refused at registration, as issue 24 asks, so the
 * client hears it at once rather than every push failing later. This is the
 * early answer only: names that resolve to private addresses are stopped at
 * delivery by the public-only egress (src/util/egress.ts, PUBLIC_EGRESS).
 * The host is read from WHATWG `URL`, which has already normalised IPv4
 * spellings (0x7f000001 → 127.0.0.1) and IPv6 (brackets, lower case).
 */
const NON_PUBLIC_V4: ReadonlyArray<readonly [number, number]> = [
  [0x00000000, 8], // "this network" (RFC 791)
  [0x0a000000, 8], // private (RFC 1918)
  [0x64400000, 10], // CGNAT (RFC 6598)
  [0x7f000000, 8], // loopback
  [0xa9fe0000, 16], // link-local (cloud metadata lives at 169.254.169.254)
  [0xac100000, 12], // private (RFC 1918)
  [0xc0000000, 24], // IETF protocol assignments (RFC 6890)
  [0xc0a80000, 16], // private (RFC 1918)
  [0xc6120000, 15], // benchmarking (RFC 2544)
  [0xe0000000, 4], // multicast
  [0xf0000000, 4], // reserved, broadcast
];

function v4Number(host: string): number | undefined {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function isNonPublicV4(n: number): boolean {
  return NON_PUBLIC_V4.some(([net, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(net / 2 ** (32 - bits)));
}

/** A reason the endpoint's host is not public, or undefined when it may be. */
export function nonPublicHost(url: URL): string | undefined {
  const host = url.hostname.toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return "localhost";
  const v4 = v4Number(host);
  if (v4 !== undefined) return isNonPublicV4(v4) ? "a non-public IPv4 address" : undefined;
  if (host.startsWith("[")) {
    // Only global unicast (2000::/3) is public; ::1, ::, fc00::/7, fe80::/10, ::ffff:… (mapped IPv4) are not.
    const first = Number.parseInt(host.slice(1).split(":")[0] || "0", 16);
    return (first & 0xe000) === 0x2000 ? undefined : "a non-public IPv6 address";
  }
  return undefined;
}
