import { describe, expect, it } from "vitest";
import { CLOSE_CODES, CloseCode, reconnectAdvice } from "@switchboard/protocol";

describe("close codes carry their reconnect advice", () => {
  it("a kick is final, a refused token needs a fresh one, everything else is retried with backoff", () => {
    expect(reconnectAdvice(CloseCode.Kicked)).toBe("never");
    expect(reconnectAdvice(CloseCode.PolicyViolation)).toBe("with-fresh-token");
    expect(reconnectAdvice(CloseCode.TokenRefused)).toBe("with-fresh-token");
    for (const code of [1000, 1001, 1006, 1009, 1011, 4002, 4008, 4029]) expect(reconnectAdvice(code), String(code)).toBe("backoff");
  });

  it("a code the table does not know (a proxy's, a newer server's) is retried with backoff", () => {
    expect(reconnectAdvice(1012)).toBe("backoff");
    expect(reconnectAdvice(4999)).toBe("backoff");
  });

  it("every named code has one entry, under its own name", () => {
    expect(Object.keys(CLOSE_CODES).map(Number).sort()).toEqual(Object.values(CloseCode).sort());
    for (const [name, code] of Object.entries(CloseCode)) expect(CLOSE_CODES[code].name).toBe(name);
  });
});
