/**
 * The Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`,
 * then `name{label="value"} number` lines. Label values escape `\`, `"` and
 * newlines; help text escapes `\` and newlines
 * (https://prometheus.io/docs/instrumenting/exposition_formats/).
 */
import type { Labels } from "./events";

export interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge";
  samples: ReadonlyArray<{ labels: Labels; value: number }>;
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const escapeHelp = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function sample(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return `${name}${pairs.length === 0 ? "" : `{${pairs.join(",")}}`} ${Number.isFinite(value) ? String(value) : "NaN"}`;
}

export function exposition(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) lines.push(sample(f.name, s.labels, s.value));
  }
  return `${lines.join("\n")}\n`;
}

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
