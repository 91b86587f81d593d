import { describe, expect, it } from "vitest";
import { connect, push, uniqueUser, worker } from "./helpers";

describe("smoke", () => {
  it("healthz", async () => {
    const res = await worker("/healthz");
    expect(res.status).toBe(200);
  });
  it("connect and push", async () => {
    const user = uniqueUser();
    const a = await connect(user, { device: "phone" });
    expect(a.welcome).toMatchObject({ type: "welcome", userId: user, device: "phone", head: 0, recovered: true });
    const answer = await push(user, { data: { hello: 1 } });
    expect(answer).toMatchObject({ seq: 1, delivered: 1, sessions: 1, stored: true, duplicate: false });
    const [m] = await a.nextMessages(1);
    expect(m).toMatchObject({ type: "message", seq: 1, data: { hello: 1 } });
    a.close();
  });
});
