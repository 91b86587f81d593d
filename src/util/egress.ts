/**
 * fetch() for URLs a client supplied (a Web Push endpoint registered by a
 * browser): never to a private, link-local or loopback address, whatever the
 * operator allowed for its own URLs. Operator-supplied URLs (WEBHOOK_URL) use
 * the global fetch().
 *
 * Under `npm run serve` the global fetch() follows SWITCHBOARD_EGRESS, and
 * PUBLIC_EGRESS is a service binding to a workerd network service allowing
 * "public" only (tools/lib/egress.ts); workerd filters the resolved
 * addresses at connect time, so a hostname that resolves to 127.0.0.1 is
 * refused too. Without the binding (Cloudflare, `wrangler dev`) this is the
 * global fetch(): on Cloudflare that reaches the public Internet only (not
 * checked here); under `wrangler dev` it reaches loopback, a development box only.
 */
type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

function isFetcher(value: unknown): value is { fetch: FetchLike } {
  return typeof value === "object" && value !== null && typeof (value as { fetch?: unknown }).fetch === "function";
}

export function publicFetch(env: object): FetchLike {
  const binding = (env as { PUBLIC_EGRESS?: unknown }).PUBLIC_EGRESS;
  if (isFetcher(binding)) return (input, init) => binding.fetch(input, init);
  return (input, init) => fetch(input, init);
}
