/** Runs in the "dev-mode" project (DEV_MODE=1): the API reference page. */
import { describe, expect, it } from "vitest";
import { worker } from "./helpers";

describe("/dev/api", () => {
  it("serves a self-contained page that renders /openapi.json", async () => {
    const res = await worker("/dev/api");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain('fetch("/openapi.json")');
    // Offline-safe: no script or stylesheet from elsewhere.
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)="https?:/);
  });
});
