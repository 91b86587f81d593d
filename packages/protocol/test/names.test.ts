import { describe, expect, it } from "vitest";
import { DEVICE_MAX, isDevice, isName, isUserId, nameRule, parseSeq, USER_ID_MAX } from "@switchboard/protocol";

describe("the name rule", () => {
  it("takes 1 to max characters of A-Z a-z 0-9 . _ : @ -", () => {
    expect(isName("Az09._:@-", 9)).toBe(true);
    expect(isName("", 9)).toBe(false);
    expect(isName("abc", 2)).toBe(false);
    expect(isName("a b", 9)).toBe(false);
    expect(isName("é", 9)).toBe(false);
    expect(isName(7, 9)).toBe(false);
    expect(isUserId("u".repeat(USER_ID_MAX))).toBe(true);
    expect(isUserId("u".repeat(USER_ID_MAX + 1))).toBe(false);
    expect(isDevice("d".repeat(DEVICE_MAX))).toBe(true);
    expect(isDevice("d".repeat(DEVICE_MAX + 1))).toBe(false);
  });

  it("is refused in one sentence that names the field and its limit", () => {
    expect(nameRule("device", DEVICE_MAX)).toBe("device must be 1-64 characters of A-Z a-z 0-9 . _ : @ -");
    expect(nameRule("userId", USER_ID_MAX)).toBe("userId must be 1-128 characters of A-Z a-z 0-9 . _ : @ -");
  });
});

describe("seq query values", () => {
  it("are decimal digits from 0 to 2^53-1", () => {
    expect(parseSeq("0")).toBe(0);
    expect(parseSeq("9007199254740991")).toBe(9007199254740991);
    expect(parseSeq("9007199254740992")).toBeUndefined();
    expect(parseSeq("-1")).toBeUndefined();
    expect(parseSeq("1e3")).toBeUndefined();
    expect(parseSeq("")).toBeUndefined();
  });
});
