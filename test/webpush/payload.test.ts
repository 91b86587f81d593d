/** The notification's plaintext and the Retry-After reading, as pure functions. */
import { describe, expect, it } from "vitest";
import { retryAfterMs } from "../../src/webpush/outbox";
import { MAX_PLAINTEXT_BYTES, notificationText } from "../../src/webpush/request";

describe("notificationText", () => {
  it("carries id, seq, the event when the push named one, and data spliced as it was stored", () => {
    expect(notificationText({ id: "a", seq: 7, event: "order.shipped", dataJson: `{"n":1}` }, false)).toEqual({
      text: `{"id":"a","seq":7,"event":"order.shipped","data":{"n":1}}`,
      truncated: false,
    });
    expect(JSON.parse(notificationText({ id: "a", seq: 7, dataJson: "[1,2]" }, false).text)).toEqual({ id: "a", seq: 7, data: [1, 2] });
  });

  it("is the truncated form (event kept) past 3,993 bytes counted in UTF-8, or when asked", () => {
    expect(MAX_PLAINTEXT_BYTES).toBe(3993);
    // 28 bytes of frame (`{"id":"a","seq":1,"data":""}`) + 2 bytes per "é" in UTF-8.
    const withAccents = (n: number) => notificationText({ id: "a", seq: 1, dataJson: JSON.stringify("é".repeat(n)) }, false);
    expect(withAccents(1982)).toMatchObject({ truncated: false });
    expect(new TextEncoder().encode(withAccents(1982).text).byteLength).toBe(3992);
    expect(withAccents(1983)).toMatchObject({ truncated: true }); // 3,994 bytes, though only 2,011 characters
    const over = JSON.stringify("é".repeat(2000)); // 2,000 characters, 4,000 bytes
    expect(notificationText({ id: "a", seq: 1, event: "e", dataJson: over }, false)).toEqual({
      text: `{"id":"a","seq":1,"event":"e","truncated":true}`,
      truncated: true,
    });
    expect(notificationText({ id: "a", seq: 1, dataJson: "1" }, true).text).toBe(`{"id":"a","seq":1,"truncated":true}`);
  });
});

describe("retryAfterMs", () => {
  const now = Date.parse("2026-12-02T06:00:00Z");
  it("reads delay-seconds and HTTP-dates (RFC 9110 §10.2.3); nothing for garbage", () => {
    expect(retryAfterMs("120", now)).toBe(120_000);
    expect(retryAfterMs("Wed, 02 Dec 2026 06:01:00 GMT", now)).toBe(60_000);
    expect(retryAfterMs("Wed, 02 Dec 2026 05:00:00 GMT", now)).toBe(0); // in the past: now
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs("99999999", now)).toBe(24 * 60 * 60_000); // capped: the ttl decides beyond
  });
});
