/**
 * Checks around the generated lanes: nobody is left online after the connect
 * barrage, a flood of frames is answered one for one, deeply nested stored
 * data reads back intact, and afterwards a clean push still reaches a clean
 * session.
 */
import type { Api } from "../api.ts";
import { rawRequest } from "../rawHttp.ts";
import { eventually } from "../time.ts";
import type { Session } from "../wsSession.ts";
import { openFor } from "./frameRun.ts";

export interface Check {
  pass: boolean;
  detail: string;
}

/** After the connect barrage every raw 101 socket was dropped: nobody may still be online. */
export async function nobodyLeftOnline(api: Api, users: readonly string[]): Promise<Check> {
  let left: string[] = [];
  await eventually(
    "every user offline",
    async () => {
      left = [];
      for (const u of users) {
        const p = await api.presence(u);
        if (!p.ok || p.body.sessions.length > 0) left.push(`${u}:${p.ok ? p.body.sessions.length : p.status}`);
      }
      return left.length === 0;
    },
    5000,
    250,
  ).catch(() => undefined);
  return { pass: left.length === 0, detail: left.length === 0 ? `${users.length} users offline` : `still online: ${left.slice(0, 8).join(", ")}` };
}

/** `count` frames at once on a session with a high rate limit: every non-ping frame must get its error answer, and the socket stays open. */
export async function flood(s: Session, count: number): Promise<Check> {
  for (let i = 0; i < count; i++) s.send(i % 3 === 0 ? "ping" : i % 3 === 1 ? "{" : '{"type":"nope"}');
  s.send('{"type":"flood-end"}');
  const done = await s.until(() => s.errors().some((e) => String(e.message).includes("flood-end")) || s.closed !== undefined, 30_000);
  const errs = s.errors().length - 1;
  const want = count - Math.ceil(count / 3);
  const pass = done && s.closed === undefined && errs === want;
  return { pass, detail: `${errs} error answers of ${want}, closed ${s.closed?.code ?? "no"}` };
}

/** A clean session receives a clean push (live and stored), and presence sees it. */
export async function deliversCleanly(api: Api, wsBase: string, token: string, user: string): Promise<Check> {
  const s = await openFor(wsBase, token, "post-check");
  if (typeof s === "string") return { pass: false, detail: `connect: ${s}` };
  const stored = await api.push(user, { data: { check: "stored" } });
  const live = await api.push(user, { data: { check: "live" }, ttl: 0 });
  const got = await s.until(() => s.messages().length >= 2, 5000);
  const presence = await api.presence(user);
  s.close();
  const seq = stored.ok ? stored.body.seq : undefined;
  const frames = s.messages();
  const pass = stored.ok && live.ok && got && frames[0]?.seq === seq && frames[1]?.seq === null && presence.ok && presence.body.sessions.length >= 1;
  return {
    pass,
    detail: `stored push ${stored.status} seq=${String(seq)}, live push ${live.status}, frames ${JSON.stringify(frames.map((f) => f.seq))}, presence ${presence.ok ? presence.body.sessions.length : presence.status}`,
  };
}

/**
 * A stored push whose data is nested thousands of levels deep (up to what fits
 * in MAX_MESSAGE_BYTES) must come back from `GET /v1/users/{u}/messages` byte
 * for byte (a push may refuse such data with 400 `data`; once accepted, reading
 * it back must never fail). This once answered 500 (finding 1 in
 * docs/guarantees.md): the object parsed every stored `data`.
 */
export async function deepRoundTrip(port: number, apiKey: string): Promise<Check> {
  const auth: [string, string] = ["Authorization", `Bearer ${apiKey}`];
  const notes: string[] = [];
  let pass = true;
  let readBack = 0;
  for (const [kind, depth] of [
    ["arr", 5000],
    ["obj", 5000],
    ["arr", 32_000],
    ["obj", 10_000],
  ] as const) {
    const user = `fz-deep-${kind}-${depth}`;
    const inner = kind === "obj" ? `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}` : `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const push = await rawRequest(port, {
      method: "POST",
      target: `/v1/users/${user}/messages`,
      headers: [auth, ["Content-Type", "application/json"]],
      body: `{"data":${inner},"id":"deep"}`,
    });
    if (push.status === 400) {
      notes.push(`${kind}×${depth}: push refused 400`);
      continue;
    }
    if (push.status !== 200) {
      pass = false;
      notes.push(`${kind}×${depth}: push answered ${push.status}`);
      continue;
    }
    const get = await rawRequest(port, { method: "GET", target: `/v1/users/${user}/messages?since=0`, headers: [auth] });
    const intact = get.status === 200 && get.body.toString("utf8").includes(`"data":${inner}`);
    if (!intact) pass = false;
    else readBack++;
    notes.push(`${kind}×${depth}: push 200, GET ${get.status}${intact ? " intact" : get.status === 200 ? " NOT intact" : ""}`);
  }
  if (readBack === 0) pass = false;
  return { pass, detail: notes.join("; ") };
}
