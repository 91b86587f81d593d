/** Derived figures for one measured push window, shared by bench/run.ts and bench/profile.ts. */
import type { ConnectResult, PushResult, Target } from "./messages.ts";
import { machineCpu } from "./proc.ts";
import type { Service } from "../../scripts/lib/service.ts";

export interface PushSummary extends PushResult {
  pushesPerS: number;
  deliveriesPerS: number;
  cpuPerPushUs: number;
  cpuPerDeliveryUs: number;
  /** Server CPU / wall: 1.0 = one core busy. */
  serverUtil: number;
  loadUtil: number;
  /** CPU used by everything else on the machine during the window (other engineers' runs), in cores. */
  otherCores: number;
}

export function summarize(r: PushResult, machineBusyS: number): PushSummary {
  const wallS = r.wallMs / 1000;
  return {
    ...r,
    pushesPerS: r.pushes / wallS,
    deliveriesPerS: r.deliveries / wallS,
    cpuPerPushUs: (r.serverCpuS / Math.max(1, r.pushes)) * 1e6,
    cpuPerDeliveryUs: (r.serverCpuS / Math.max(1, r.deliveries)) * 1e6,
    serverUtil: r.serverCpuS / wallS,
    loadUtil: r.loadCpuS / wallS,
    otherCores: Math.max(0, (machineBusyS - r.serverCpuS - r.loadCpuS) / wallS),
  };
}

const USER_HZ = 100;
/** Start a whole-machine CPU reading; call the result to get busy CPU-seconds since. */
export function machineBusy(): () => number {
  const m0 = machineCpu();
  return () => (machineCpu().busy - m0.busy) / USER_HZ;
}

export interface Secrets {
  apiKey: string;
  jwtSecret: string;
}

export function targetOf(s: Service, secrets: Secrets): Target {
  return { kind: s.kind === "baseline" ? "baseline" : "product", base: s.base, pid: s.pid ?? -1, apiKey: secrets.apiKey, jwtSecret: secrets.jwtSecret };
}

export const KINDS = ["product", "baseline"] as const;
export type Kind = (typeof KINDS)[number];

/** Servers are stopped with sockets open; workerd would drain them for ~5 s first. */
export const STOP_GRACE_MS = 500;

export function checkConnect(what: string, r: ConnectResult, problems: string[]): void {
  if (r.failed > 0) problems.push(`${what}: ${r.failed} connects failed (${r.errors.join("; ")})`);
}
