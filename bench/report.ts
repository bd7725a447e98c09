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
  { key: "cpu64", label: "CPU µs per request, 64 connections (the proxy's processes, all threads)", higherIsBetter: false, additive: false },
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

/** What only modelswap is measured for (all optional: a part may not have run). */
export interface ModelswapFigures {
  /** RSS right after start, MB. */
  idleMb?: number;
  /** The same for the compiled binary (`npm run build`), when the run is from source. */
  binaryIdleMb?: number;
  /** Highest RSS sampled while wrk ran 64 connections against modelswap, MB. */
  peak64Mb?: number;
  /** RSS 30 s after the last load, MB. */
  settledMb?: number;
  /** Concurrent streams asked for, opened, and the RSS they added per stream, KB. */
  streams?: { requested: number; opened: number; kbPerStream: number };
  /** First byte after the upstream's health check first passed, ms (median). */
  readinessMs?: number;
  /** The bare Bun proxy's RSS at the same steps, MB (`idleMb`, `peak64Mb`, `settledMb`, ...). */
  bare?: Record<string, number>;
  /** The scheduler Worker thread's CPU over the main thread's, during the 64-connection runs. */
  workerShare?: { worker: number; main: number; total: number };
}

/** The targets of issue 14, checked against the medians of one interleaved run. */
export function verdicts(m: Medians, f: ModelswapFigures): Verdict[] {
  const out: Verdict[] = [];
  const ms = (key: string) => m[key]?.modelswap;
  const of = (key: string, t: Target) => m[key]?.[t];
  const rps64 = ms("rps64");
  const bare64 = of("rps64", "bun-proxy");
  if (rps64 !== undefined && bare64 !== undefined) {
    const cpu = of("cpu64", "modelswap");
    const bareCpu = of("cpu64", "bun-proxy");
    const cpuNote = cpu === undefined || bareCpu === undefined ? "" : `; CPU per request ${fmt(cpu)} vs ${fmt(bareCpu)} µs`;
    out.push({ target: "req/s at 64 connections ≥ the bare Bun proxy's", met: rps64 >= bare64, detail: `${fmt(rps64)} vs ${fmt(bare64)} (${ratio(rps64, bare64)})${cpuNote}` });
  }
  const nginx64 = of("rps64", "nginx");
  if (rps64 !== undefined && nginx64 !== undefined) {
    out.push({ target: "req/s at 64 connections ≥ 0.6 × nginx's", met: rps64 >= 0.6 * nginx64, detail: `${ratio(rps64, nginx64)} of nginx (${fmt(rps64)} vs ${fmt(nginx64)})` });
  }
  const rps1 = ms("rps1");
  const nginx1 = of("rps1", "nginx");
  if (rps1 !== undefined && nginx1 !== undefined) {
    out.push({ target: "req/s at 1 connection ≥ 0.5 × nginx's", met: rps1 >= 0.5 * nginx1, detail: `${ratio(rps1, nginx1)} of nginx (${fmt(rps1)} vs ${fmt(nginx1)})` });
  }
  const addedOf = (key: string, t: Target) => {
    const a = of(key, t);
    const d = of(key, "direct");
    return a === undefined || d === undefined ? undefined : a - d;
  };
  const bareNote = (key: string) => {
    const b = addedOf(key, "bun-proxy");
    return b === undefined ? "" : `; bare Bun proxy +${b.toFixed(3)} ms`;
  };
  const p50 = addedOf("p50_1", "modelswap");
  if (p50 !== undefined) out.push({ target: "added p50 latency at 1 connection ≤ 0.10 ms", met: p50 <= 0.1, detail: `+${p50.toFixed(3)} ms${bareNote("p50_1")}` });
  const ttfb = addedOf("ttfb", "modelswap");
  if (ttfb !== undefined) out.push({ target: "SSE time to first byte added ≤ 0.30 ms", met: ttfb <= 0.3, detail: `+${ttfb.toFixed(3)} ms${bareNote("ttfb")}` });
  const p99 = ms("p99_64");
  const nginxP99 = of("p99_64", "nginx");
  if (p99 !== undefined && nginxP99 !== undefined) {
    out.push({ target: "p99 at 64 connections ≤ 2 × nginx's", met: p99 <= 2 * nginxP99, detail: `${fmt(p99)} ms vs nginx ${fmt(nginxP99)} ms (${ratio(p99, nginxP99)})` });
  }
  const b = f.bare ?? {};
  const bareMb = (v: number | undefined) => (v === undefined ? "" : `; bare Bun proxy ${v.toFixed(1)} MB`);
  if (f.idleMb !== undefined) {
    const bin = f.binaryIdleMb === undefined ? "" : `; the compiled binary ${f.binaryIdleMb.toFixed(1)} MB`;
    out.push({ target: "RSS idle ≤ 45 MB", met: f.idleMb <= 45, detail: `${f.idleMb.toFixed(1)} MB${bin}${bareMb(b.idleMb)}` });
  }
  if (f.peak64Mb !== undefined) out.push({ target: "peak RSS during the 64-connection load ≤ 100 MB", met: f.peak64Mb <= 100, detail: `${f.peak64Mb.toFixed(1)} MB${bareMb(b.peak64Mb)}` });
  if (f.settledMb !== undefined && f.idleMb !== undefined) {
    const d = f.settledMb - f.idleMb;
    const bareD = b.settledMb !== undefined && b.idleMb !== undefined ? `; bare Bun proxy idle + ${(b.settledMb - b.idleMb).toFixed(1)} MB` : "";
    out.push({ target: "RSS 30 s after the load within 20 MB of idle", met: d <= 20, detail: `${f.settledMb.toFixed(1)} MB (idle + ${d.toFixed(1)} MB)${bareD}` });
  }
  if (f.streams) {
    const s = f.streams;
    out.push({
      target: `${s.requested} concurrent open streams work, ≤ 25 KB each`,
      met: s.opened === s.requested && s.kbPerStream <= 25,
      detail: `${s.opened}/${s.requested} opened, ${s.kbPerStream.toFixed(1)} KB each`,
    });
  }
  if (f.readinessMs !== undefined) out.push({ target: "cold start: first byte ≤ 3 ms after the health check first passes", met: f.readinessMs <= 3, detail: `${f.readinessMs.toFixed(2)} ms` });
  if (f.workerShare) {
    const w = f.workerShare;
    out.push({
      target: "the scheduler Worker is not the bottleneck (its thread busier than the main thread)",
      met: w.worker < w.main,
      detail: `Worker ${w.worker.toFixed(1)} µs, main thread ${w.main.toFixed(1)} µs, whole process ${w.total.toFixed(1)} µs of CPU per request (Worker ${((100 * w.worker) / w.total).toFixed(0)} %)`,
    });
  }
  return out;
}

export function verdictTable(vs: Verdict[]): string {
  const rows = ["| target | met | measured |", "|---|---|---|"];
  for (const v of vs) rows.push(`| ${v.target} | ${v.met === null ? "–" : v.met ? "yes" : "**no**"} | ${v.detail} |`);
  return rows.join("\n");
}
