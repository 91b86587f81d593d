import { describe, expect, it } from "vitest";
import { connect, push, uniqueUser } from "./helpers";
import { echoableCode } from "../src/hub/sockets";

describe("client frames", () => {
  it("answers bad frames with an error frame and keeps the socket open", async () => {
    const c = await connect(uniqueUser());
    const cases: Array<[string | ArrayBuffer, string]> = [
      ["{not json", "bad_json"],
      ["[1,2]", "bad_frame"],
      ['{"type":"subscribe"}', "unknown_type"],
      ['{"seq":1}', "unknown_type"],
      ['{"type":"ack","seq":-1}', "bad_ack"],
      ['{"type":"ack","seq":"1"}', "bad_ack"],
      ['{"type":"ack","seq":99}', "bad_ack"], // beyond head
      [new Uint8Array([1, 2, 3]).buffer, "binary_not_supported"],
    ];
    for (const [frame, code] of cases) {
      const before = c.frames.length;
      c.send(frame);
      await c.until(() => c.frames.length > before, `error for ${String(frame)}`);
      expect(c.frames.at(-1), String(frame)).toMatchObject({ type: "error", code });
      expect(typeof c.frames.at(-1)?.message).toBe("string");
    }
    expect(c.closed).toBeUndefined();
    c.close();
  });

  it("accepts an ack for a stored message without answering", async () => {
    const user = uniqueUser();
    const c = await connect(user);
    await push(user, { data: 1 });
    const [m] = await c.nextMessages(1);
    c.send(JSON.stringify({ type: "ack", seq: m?.seq }));
    c.send("ping");
    await c.until(() => c.raw.includes("pong"), "pong");
    expect(c.frames.filter((f) => f.type === "error")).toHaveLength(0);
    c.close();
  });

  it("closes with 1009 on a frame over 4 KiB (counted in UTF-8 bytes)", async () => {
    const c = await connect(uniqueUser());
    c.send(JSON.stringify({ type: "hello", pad: "x".repeat(4000) })); // < 4 KiB: an error frame, not a close
    await c.until(() => c.frames.length > 1, "answer");
    expect(c.closed).toBeUndefined();
    c.send("é".repeat(2100)); // 2100 characters, 4200 bytes
    expect((await c.waitClosed()).code).toBe(1009);

    const d = await connect(uniqueUser());
    d.send(new Uint8Array(5000).buffer);
    expect((await d.waitClosed()).code).toBe(1009);
  });

  it("closes a flooding client with 4029 and leaves the user's other sessions alone", async () => {
    const user = uniqueUser();
    const flooder = await connect(user, { device: "flood" });
    const calm = await connect(user, { device: "calm" });
    for (let i = 0; i < 200; i++) flooder.send('{"type":"ack","seq":0}');
    expect((await flooder.waitClosed()).code).toBe(4029);
    await push(user, { data: "still here", ttl: 0 });
    expect((await calm.nextMessages(1))[0]?.data).toBe("still here");
    expect(calm.closed).toBeUndefined();
    calm.close();
  });

  it("a client close is reciprocated with its code (reserved codes are never echoed)", async () => {
    const c = await connect(uniqueUser());
    c.close(4100, "app going away");
    expect((await c.waitClosed()).code).toBe(4100);
  });

  it("maps codes an endpoint may not send (RFC 6455 §7.4.1) to 1000 when echoing", () => {
    for (const reserved of [1004, 1005, 1006, 1015]) expect(echoableCode(reserved), String(reserved)).toBe(1000);
    for (const legal of [1000, 1001, 1008, 1011, 3000, 4100, 4999]) expect(echoableCode(legal), String(legal)).toBe(legal);
    for (const illegal of [0, 999, 1016, 2999, 5000]) expect(echoableCode(illegal), String(illegal)).toBe(1000);
  });
});
