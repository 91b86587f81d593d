/**
 * serve's own knobs and the session cap it derives (tools/lib/serveConfig.ts),
 * as a pure function of the environment and the open-file limits it inherits:
 * the cases no real shell here can show (a soft limit of 1024 under a high
 * hard one; an unprivileged ask above the hard limit).
 */
import { describe, expect, it } from "vitest";
import { serveSettings } from "../../tools/lib/serveConfig.ts";

const user = { soft: 1024, hard: 524_288 };

describe("serve's session cap", () => {
  it("asks for the hard limit when SWITCHBOARD_NOFILE is unset, so a 1024 soft limit is not a cap of 4", () => {
    expect(serveSettings({}, user, false, 1_048_576)).toMatchObject({
      ok: true,
      settings: { nofile: 524_288, nofileAsked: 524_288, maxConnections: Math.floor((524_288 - 1000) / 5), capSource: "the hard open-file limit" },
    });
  });

  it("clamps the hard limit to the kernel's per-process maximum", () => {
    const r = serveSettings({}, { soft: 1024, hard: 4_000_000 }, false, 1_048_576);
    expect(r).toMatchObject({ ok: true, settings: { nofileAsked: 1_048_576, maxConnections: Math.floor((1_048_576 - 1000) / 5) } });
  });

  it("derives the cap from SWITCHBOARD_NOFILE, and refuses one above the hard limit unless privileged", () => {
    expect(serveSettings({ SWITCHBOARD_NOFILE: "3000" }, user, false)).toMatchObject({
      ok: true,
      settings: { maxConnections: 400, capSource: "SWITCHBOARD_NOFILE" },
    });
    expect(serveSettings({ SWITCHBOARD_NOFILE: "600000" }, user, false)).toMatchObject({
      ok: false,
      problem: expect.stringContaining("above the hard open-file limit 524288"),
    });
    expect(serveSettings({ SWITCHBOARD_NOFILE: "600000" }, user, true)).toMatchObject({ ok: true, settings: { nofile: 600_000 } });
    // Not even root gets past fs.nr_open: the shell's ulimit would fail and workerd run with less.
    expect(serveSettings({ SWITCHBOARD_NOFILE: "2000000" }, user, true, 1_048_576)).toMatchObject({
      ok: false,
      problem: expect.stringContaining("fs.nr_open = 1048576"),
    });
  });

  it("keeps the soft limit when it already is the hard one", () => {
    expect(serveSettings({}, { soft: 20_000, hard: 20_000 }, false)).toMatchObject({
      ok: true,
      settings: { nofileAsked: undefined, maxConnections: 3800, capSource: "the shell's open-file limit" },
    });
  });

  it("takes MAX_CONNECTIONS within the limit, 0 as no cap, and refuses more than the limit holds", () => {
    const limits = { soft: 3000, hard: 3000 };
    expect(serveSettings({ MAX_CONNECTIONS: "100" }, limits, false)).toMatchObject({
      ok: true,
      settings: { maxConnections: 100, capSource: "MAX_CONNECTIONS" },
    });
    expect(serveSettings({ MAX_CONNECTIONS: "0" }, limits, false)).toMatchObject({ ok: true, settings: { maxConnections: 0, capSource: "none" } });
    expect(serveSettings({ MAX_CONNECTIONS: "401" }, limits, false)).toMatchObject({ ok: false, problem: expect.stringContaining("at least 3005") });
  });

  it("reads SWITCHBOARD_EGRESS and SWITCHBOARD_DRAIN_MS with their defaults", () => {
    expect(serveSettings({}, user, false)).toMatchObject({ ok: true, settings: { egress: "public", drainMs: 10_000 } });
    expect(serveSettings({ SWITCHBOARD_EGRESS: "private", SWITCHBOARD_DRAIN_MS: "2500" }, user, false)).toMatchObject({
      ok: true,
      settings: { egress: "private", drainMs: 2500 },
    });
  });
});
