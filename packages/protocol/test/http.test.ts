import { describe, expect, it } from "vitest";
import { HTTP_ERRORS, HttpErrorCode, RETRYABLE_STATUSES } from "@switchboard/protocol";

describe("HTTP error codes carry whether asking again can succeed", () => {
  it("only the 503s (unavailable, over_capacity) are worth a retry with the same id", () => {
    expect([...RETRYABLE_STATUSES]).toEqual([503]);
    const retried = Object.entries(HTTP_ERRORS).flatMap(([code, e]) => (e.retry ? [code] : []));
    expect(retried.sort()).toEqual([HttpErrorCode.OverCapacity, HttpErrorCode.Unavailable]);
  });

  it("a 4xx is the caller's to fix and a 500 a bug: never retried", () => {
    const below503 = Object.entries(HTTP_ERRORS).filter(([, e]) => e.statuses.every((s) => s < 503));
    expect(below503.length).toBeGreaterThan(0);
    expect(below503.filter(([, e]) => e.retry).map(([code]) => code)).toEqual([]);
  });
});
