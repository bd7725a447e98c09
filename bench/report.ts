/**
 * Turns per-round samples into medians, ratios, target verdicts and the
 * Markdown tables printed to stdout and written to bench/results.md.
 */
import { median } from "./probes.ts";

export const TARGETS = ["direct", "nginx", "bun-proxy", "modelswap"] as const;
export type Target = (typeof TARGETS)[number];

/** One figure measured for every target, one sample per round. */
export interface Metric {
  key: string;
  label: string;
  higherIsBetter: boolean;
  /** Whether "X − direct" makes sense (latencies). */
  additive: boolean;
}

export const METRICS: Metric[] = [
  { key: "rps1", label: "req/s, 1 connection", higherIsBetter: true, additive: false },
  { key: "p50_1", label: "p50 latency ms, 1 connection", higherIsBetter: false, additive: true },
  { key: "p99_1", label: "p99 latency ms, 1 connection", higherIsBetter: false, additive: true },
  { key: "rps64", label: "req/s, 64 connections", higherIsBetter: true, additive: false },
  { key: "p50_64", label: "p50 latency ms, 64 connections", higherIsBetter: false, additive: true },
  { key: "p99_64", label: "p99 latency ms, 64 connections", higherIsBetter: false, additive: true },
  { key: "bodyMBs", label: "10 MB request body, MB/s", higherIsBetter: true, additive: false },
  { key: "ttfb", label: "stream time to first byte ms", higherIsBetter: false, additive: true },
  { key: "gap", label: "stream mean inter-chunk gap ms", higherIsBetter: false, additive: true },
  { key: "streamTotal", label: "stream total ms (20 × 5 ms)", higherIsBetter: false, additive: true },
];

/** samples[metric][target] = one value per round. */
export type Samples = Record<string, Partial<Record<Target, number[]>>>;
export type Medians = Record<string, Partial<Record<Target, number>>>;

export function medians(samples: Samples): Medians {
  const out: Medians = {};
  for (const [key, byTarget] of Object.entries(samples)) {
    out[key] = {};
    for (const t of TARGETS) {
      const xs = byTarget[t];
      if (xs && xs.length > 0) out[key]![t] = median(xs);
    }
  }
  return out;
}

const fmt = (x: number | undefined): string => {
  if (x === undefined || Number.isNaN(x)) return "–";
  const a = Math.abs(x);
  return a >= 1000 ? x.toFixed(0) : a >= 100 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toFixed(3);
};
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || b === 0 ? "–" : (a / b).toFixed(2);
const added = (a: number | undefined, d: number | undefined): string =>
  a === undefined || d === undefined ? "–" : `${a - d >= 0 ? "+" : ""}${(a - d).toFixed(3)}`;

/** The main table: medians over rounds per target, then ratios. */
export function figuresTable(m: Medians): string {
  const base = Object.values(m).some((v) => v["bun-proxy"] !== undefined);
  const rows = [
    `| figure | direct | nginx |${base ? " bare Bun proxy |" : ""} modelswap | modelswap/nginx | nginx/direct | modelswap/direct |${base ? " modelswap/bare Bun |" : ""}`,
    `|---|---:|---:|${base ? "---:|" : ""}---:|---:|---:|---:|${base ? "---:|" : ""}`,
  ];
  for (const def of METRICS) {
    const v = m[def.key];
    if (!v) continue;
    const b = v["bun-proxy"];
    rows.push(
      `| ${def.label} | ${fmt(v.direct)} | ${fmt(v.nginx)} |${base ? ` ${fmt(b)} |` : ""} ${fmt(v.modelswap)} | ${ratio(v.modelswap, v.nginx)} | ${ratio(v.nginx, v.direct)} | ${ratio(v.modelswap, v.direct)} |${base ? ` ${ratio(v.modelswap, b)} |` : ""}`,
    );
  }
  return rows.join("\n");
}

/** Time each proxy adds over direct, for the latency figures. */
export function addedTable(m: Medians): string {
  const base = Object.values(m).some((v) => v["bun-proxy"] !== undefined);
  const rows = [`| added over direct, ms | nginx |${base ? " bare Bun proxy |" : ""} modelswap |`, `|---|---:|${base ? "---:|" : ""}---:|`];
  for (const def of METRICS) {
    const v = m[def.key];
    if (!v || !def.additive) continue;
    rows.push(`| ${def.label.replace(/ ms/, "")} | ${added(v.nginx, v.direct)} |${base ? ` ${added(v["bun-proxy"], v.direct)} |` : ""} ${added(v.modelswap, v.direct)} |`);
  }
  return rows.join("\n");
}

export interface Verdict {
  target: string;
  met: boolean | null;
  detail: string;
}

/** Checks the issue's targets against the medians and the modelswap-only figures. */
export function verdicts(m: Medians, readinessMs: number | undefined, idleRssMb: number | undefined): Verdict[] {
  const out: Verdict[] = [];
  const cmp = (key: string, what: string) => {
    const v = m[key];
    const def = METRICS.find((d) => d.key === key)!;
    if (v?.modelswap === undefined || v.nginx === undefined) return;
    const r = v.modelswap / v.nginx;
    const met = def.higherIsBetter ? r >= 1 : r <= 1;
    out.push({ target: `${what} at least as good as nginx`, met, detail: `modelswap/nginx = ${r.toFixed(2)} (${fmt(v.modelswap)} vs ${fmt(v.nginx)})` });
  };
  cmp("rps1", "req/s, 1 connection,");
  cmp("rps64", "req/s, 64 connections,");
  cmp("bodyMBs", "10 MB body throughput");
  for (const key of ["p50_1", "p50_64"]) {
    const v = m[key];
    if (v?.modelswap === undefined || v.nginx === undefined || v.direct === undefined) continue;
    const a = v.modelswap - v.direct;
    const n = v.nginx - v.direct;
    out.push({ target: `added ${key.replace("_", " latency, ")} conn ≤ nginx's`, met: a <= n, detail: `modelswap +${a.toFixed(3)} ms, nginx +${n.toFixed(3)} ms` });
  }
  const t = m.ttfb;
  if (t?.modelswap !== undefined && t.direct !== undefined) {
    const a = t.modelswap - t.direct;
    out.push({ target: "added time to first byte < 1 ms", met: a < 1, detail: `+${a.toFixed(3)} ms` });
  }
  if (readinessMs !== undefined) out.push({ target: "readiness noticed < 50 ms", met: readinessMs < 50, detail: `${readinessMs.toFixed(1)} ms` });
  if (idleRssMb !== undefined) out.push({ target: "idle RSS < 50 MB", met: idleRssMb < 50, detail: `${idleRssMb.toFixed(1)} MB` });
  return out;
}

export function verdictTable(vs: Verdict[]): string {
  const rows = ["| target | met | measured |", "|---|---|---|"];
  for (const v of vs) rows.push(`| ${v.target} | ${v.met === null ? "–" : v.met ? "yes" : "**no**"} | ${v.detail} |`);
  return rows.join("\n");
}
