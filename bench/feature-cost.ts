/**
 * What each of modelswap's per-request features costs in Bun, written as
 * plainly as Bun allows: `bench/floor-features.ts` over the pooled client
 * with every feature, and once more for each feature with that one left out
 * (`skip=F`), at 64 connections. A feature's cost is the CPU per request it
 * takes from the proxy's process (all threads), and the requests/s it takes
 * (as a share of the bare proxy's), from the whole floor and the floor
 * without it run back to back, in alternating order, medians of the rounds:
 * the VM drifts by a third within minutes, so only adjacent runs compare. The bare Bun proxy and modelswap's parts
 * without features (`bench/floor-proxy.ts`) run beside them for scale. The
 * floors run with modelswap's Bun settings (src/lib/runtime-env.ts). Not
 * part of `npm run bench` (README, Benchmarks).
 *
 *   ./node_modules/.bin/bun bench/feature-cost.ts [--rounds 3] [--duration 3s] [--connections 64]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { installCleanup, processTicks, stopAll } from "./children.ts";
import { FEATURES } from "./floor-feature-list.ts";
import { median } from "./probes.ts";
import { RUNTIME_DEFAULTS } from "../src/lib/runtime-env.ts";
import { startFloor, startUpstream } from "./targets.ts";
import { runWrk, writeWrkScript } from "./wrk.ts";

const { values: opts } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "3s" },
    connections: { type: "string", default: "64" },
  },
});

interface Run {
  rps: number;
  cpuUs: number;
}

const ALL = "every feature";

installCleanup();
const tmp = mkdtempSync(join(tmpdir(), "modelswap-feature-cost-"));
try {
  const up = await startUpstream(tmp, "upstream", { tokens: 20, tokenInterval: "0" });
  const proxies: [name: string, argv: string[]][] = [
    ["bare Bun proxy", ["bench/bun-proxy.ts"]],
    ["modelswap's parts, no features", ["bench/floor-proxy.ts"]],
    [ALL, ["bench/floor-features.ts", "pooled"]],
    ...FEATURES.map((f): [string, string[]] => [`without ${f}`, ["bench/floor-features.ts", "pooled", `skip=${f}`]]),
  ];
  const targets = new Map<string, { pid: number; url: string }>();
  for (const [name, [file, ...extra]] of proxies) {
    const floor = await startFloor(tmp, name, file!, extra, up.url, { ...RUNTIME_DEFAULTS });
    targets.set(name, { pid: floor.pid, url: floor.url });
  }
  const script = writeWrkScript(tmp, "bench");
  const connections = Number(opts.connections);
  for (const t of targets.values()) await runWrk(tmp, `${t.url}/v1/chat/completions`, script, connections, "2s");
  let r = 0;
  const measure = async (name: string): Promise<Run> => {
    const t = targets.get(name)!;
    const before = processTicks([t.pid]);
    const w = await runWrk(tmp, `${t.url}/v1/chat/completions`, script, connections, opts.duration);
    if (w.errors > 0) throw new Error(`${name}: ${w.errors} of ${w.requests} requests failed (not 2xx, or a socket error)`);
    const run = { rps: w.rps, cpuUs: ((processTicks([t.pid]) - before) * 10_000) / w.requests };
    console.log(`round ${r + 1}  ${name.padEnd(32)} req/s ${run.rps.toFixed(0).padStart(6)}  CPU ${run.cpuUs.toFixed(1).padStart(6)} µs/request`);
    return run;
  };
  const names = [...targets.keys()];
  const runs = new Map<string, Run[]>(names.map((n) => [n, []]));
  /** Per feature, what it cost in each pair: the whole floor and the floor without it, run back to back (the VM drifts by a third within minutes). */
  const costs = new Map<string, Run[]>(FEATURES.map((f) => [`without ${f}`, []]));
  for (; r < Number(opts.rounds); r++) {
    for (const name of ["bare Bun proxy", "modelswap's parts, no features", ALL]) runs.get(name)!.push(await measure(name));
    for (const name of costs.keys()) {
      const pair = r % 2 === 0 ? [ALL, name] : [name, ALL];
      const [a, b] = [await measure(pair[0]!), await measure(pair[1]!)];
      const [all, without] = pair[0] === ALL ? [a, b] : [b, a];
      runs.get(name)!.push(without);
      costs.get(name)!.push({ rps: (without.rps - all.rps) / runs.get("bare Bun proxy")![r]!.rps, cpuUs: all.cpuUs - without.cpuUs });
    }
  }
  console.log(`\nat ${connections} connections, medians of ${r} rounds (a feature's cost: the whole floor against the floor without it, run back to back)`);
  console.log("| proxy | req/s | CPU µs/request | the feature's CPU µs/request | the feature's req/s, × bare |\n|---|---:|---:|---:|---:|");
  for (const name of names) {
    const rs = runs.get(name)!;
    const m = (k: keyof Run) => median(rs.map((x) => x[k]));
    const c = costs.get(name);
    const cost = c === undefined ? "| | |" : `| ${median(c.map((x) => x.cpuUs)).toFixed(1)} | ${median(c.map((x) => x.rps)).toFixed(3)} |`;
    console.log(`| ${name} | ${m("rps").toFixed(0)} | ${m("cpuUs").toFixed(1)} ${cost}`);
  }
} finally {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
}
