/** Where the client connects: the service's URL (or the connect URL itself) made into the socket's URL. */
import { CONNECT_PATH } from "@switchboard/protocol";

/**
 * The connect URL from the service's URL (or the connect URL itself),
 * resolved against the page's location in browsers; http(s) becomes ws(s).
 */
export function connectUrl(base: string | URL, params: { device: string | undefined; since: number | undefined; token: string | undefined }): string {
  const location = (globalThis as { location?: { href?: unknown } }).location;
  const url = new URL(String(base), typeof location?.href === "string" ? location.href : undefined);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  if (!url.pathname.endsWith(CONNECT_PATH)) url.pathname = `${url.pathname.replace(/\/+$/, "")}${CONNECT_PATH}`;
  if (params.device !== undefined) url.searchParams.set("device", params.device);
  if (params.since !== undefined) url.searchParams.set("since", String(params.since));
  if (params.token !== undefined) url.searchParams.set("token", params.token);
  return url.toString();
}
