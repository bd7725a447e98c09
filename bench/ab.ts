/**
 * A/B of two modelswaps (two source trees, or one tree with two
 * environments): wrk against each in turn, alternating which goes first, and
 * the median of the pairs' ratios B/A. Pairs taken back to back cancel most
 * of the VM's drift, which moves whole runs by ±30 % within minutes. For
 * measuring one change; `npm run bench` stays the judge of the targets.
 *
 *   ./node_modules/.bin/bun bench/ab.ts [--a DIR] [--b DIR] [--a-env K=V ...] [--b-env K=V ...]
 *       [--b-config-line 'key: value' ...] [--connections 64] [--pairs 12] [--duration 3s]
 *
 * Prints each run (req/s, p50, p99, CPU per request of the modelswap process,
 * its peak RSS) and the medians.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { envOf, SIDE_OPTIONS, startTree } from "./ab-sides.ts";
import { installCleanup, processTicks, rssKb, stopAll } from "./children.ts";
import { median } from "./probes.ts";
import { runWrk, writeWrkScript } from "./wrk.ts";

const { values: opts } = parseArgs({
  options: {
    ...SIDE_OPTIONS,
    "b-config-line": { type: "string", multiple: true, default: [] },
    connections: { type: "string", default: "64" },
    pairs: { type: "string", default: "12" },
    duration: { type: "string", default: "3s" },
  },
});

interface Run {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuUs: number;
  peakMb: number;
}

async function main(): Promise<void> {
  installCleanup();
  const tmp = mkdtempSync(join(tmpdir(), "modelswap-ab-"));
  const sides = {
    A: await startTree(tmp, "A", opts.a, envOf(opts["a-env"]), []),
    B: await startTree(tmp, "B", opts.b, envOf(opts["b-env"]), opts["b-config-line"]),
  };
  const script = writeWrkScript(tmp, "bench");
  const c = Number(opts.connections);
  for (const s of Object.values(sides)) await runWrk(tmp, `${s.url}/v1/chat/completions`, script, c, "2s");
  const runs: Record<"A" | "B", Run[]> = { A: [], B: [] };
  for (let i = 0; i < Number(opts.pairs); i++) {
    for (const name of i % 2 === 0 ? (["A", "B"] as const) : (["B", "A"] as const)) {
      const { child, url } = sides[name];
      const before = processTicks([child.pid]);
      let peak = rssKb(child.pid);
      const sampler = setInterval(() => (peak = Math.max(peak, rssKb(child.pid))), 50);
      const w = await runWrk(tmp, `${url}/v1/chat/completions`, script, c, opts.duration);
      clearInterval(sampler);
      const run = { rps: w.rps, p50Ms: w.p50Ms, p99Ms: w.p99Ms, cpuUs: ((processTicks([child.pid]) - before) * 10_000) / w.requests, peakMb: peak / 1024 };
      runs[name].push(run);
      console.log(`${name} req/s ${run.rps.toFixed(0)}  p50 ${run.p50Ms.toFixed(3)} ms  p99 ${run.p99Ms.toFixed(2)} ms  CPU ${run.cpuUs.toFixed(1)} µs/request  peak ${run.peakMb.toFixed(1)} MB`);
    }
  }
  const ratio = (k: keyof Run) => median(runs.A.map((a, i) => runs.B[i]![k] / a[k])).toFixed(3);
  console.log(`pairs' ratio B/A (median): req/s ${ratio("rps")}  CPU per request ${ratio("cpuUs")}  p99 ${ratio("p99Ms")}  peak ${ratio("peakMb")}`);
  for (const name of ["A", "B"] as const) {
    const m = (k: keyof Run) => median(runs[name].map((r) => r[k]));
    console.log(`median ${name}: req/s ${m("rps").toFixed(0)}  p50 ${m("p50Ms").toFixed(3)} ms  p99 ${m("p99Ms").toFixed(2)} ms  CPU ${m("cpuUs").toFixed(1)} µs/request  peak ${m("peakMb").toFixed(1)} MB`);
  }
}

try {
  await main();
} finally {
  await stopAll();
}
