/**
 * Where modelswap's requests/s at 64 connections stands against proxies that
 * do less, in one interleaved run (rounds rotate the order; medians): the
 * bare Bun proxy (`bench/bun-proxy.ts`, `Bun.serve` + `fetch`), modelswap's
 * own parts without features (`bench/floor-proxy.ts`, the pooled client),
 * the plainest Bun proxy with modelswap's per-request features
 * (`bench/floor-features.ts`) over `fetch` and over the pooled client, and
 * modelswap. Prints requests/s, CPU per request of each proxy's process and
 * p99, each with its ratio to the bare proxy in the same round. The floors
 * run with the Bun settings modelswap's `serve` sets (src/lib/runtime-env.ts),
 * or Bun's own with `--bun-defaults`. Not part of `npm run bench` (README,
 * Benchmarks).
 *
 *   ./node_modules/.bin/bun bench/ladder.ts [--connections 64] [--rounds 6] [--duration 3s] [--bun-defaults]
 *       [--modelswap-env K=V ...]   (one more modelswap per K=V, with it set)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { installCleanup, processTicks, stopAll } from "./children.ts";
import { median } from "./probes.ts";
import { RUNTIME_DEFAULTS } from "../src/lib/runtime-env.ts";
import { startFloor, startModelswap, startUpstream, writeModelswapConfig } from "./targets.ts";
import { runWrk, writeWrkScript } from "./wrk.ts";

const { values: opts } = parseArgs({
  options: {
    connections: { type: "string", default: "64" },
    rounds: { type: "string", default: "6" },
    duration: { type: "string", default: "3s" },
    "bun-defaults": { type: "boolean", default: false },
    "modelswap-env": { type: "string", multiple: true, default: [] },
  },
});

interface Run {
  rps: number;
  cpuUs: number;
  p99Ms: number;
}

/** The floors: name, script, and its arguments after the port and upstream (see `startFloor`). */
const FLOORS = [
  ["bare Bun proxy", "bench/bun-proxy.ts", []],
  ["modelswap's parts, no features", "bench/floor-proxy.ts", []],
  ["plain features over fetch", "bench/floor-features.ts", []],
  ["plain features over the pooled client", "bench/floor-features.ts", ["pooled"]],
] as const;

installCleanup();
const tmp = mkdtempSync(join(tmpdir(), "modelswap-ladder-"));
try {
  const up = await startUpstream(tmp, "upstream", { tokens: 20, tokenInterval: "0" });
  const targets = new Map<string, { pid: number; url: string }>();
  for (const [name, file, extra] of FLOORS) {
    // modelswap's own runtime settings (full collections, no FTL), so that the ladder compares code, not settings.
    const env = opts["bun-defaults"] ? {} : { ...RUNTIME_DEFAULTS };
    const floor = await startFloor(tmp, name, file, [...extra], up.url, env);
    targets.set(name, { pid: floor.pid, url: floor.url });
  }
  const cfg = join(tmp, "config.yaml");
  writeModelswapConfig(cfg, [{ id: "bench", flags: { tokens: 20, tokenInterval: "0" } }]);
  const ms = await startModelswap(tmp, "modelswap", cfg, null);
  targets.set("modelswap", { pid: ms.child.pid, url: ms.url });
  for (const kv of opts["modelswap-env"]) {
    const eq = kv.indexOf("=");
    if (eq < 1) throw new TypeError(`Cannot read --modelswap-env ${kv}: expected NAME=VALUE`);
    // Its own config: its own model server on its own port.
    const otherCfg = join(tmp, `config-${targets.size}.yaml`);
    writeModelswapConfig(otherCfg, [{ id: "bench", flags: { tokens: 20, tokenInterval: "0" } }]);
    const other = await startModelswap(tmp, `modelswap-${targets.size}`, otherCfg, null, { [kv.slice(0, eq)]: kv.slice(eq + 1) });
    targets.set(`modelswap, ${kv}`, { pid: other.child.pid, url: other.url });
  }
  const script = writeWrkScript(tmp, "bench");
  const connections = Number(opts.connections);
  for (const t of targets.values()) await runWrk(tmp, `${t.url}/v1/chat/completions`, script, connections, "2s");
  const names = [...targets.keys()];
  const runs = new Map<string, Run[]>(names.map((n) => [n, []]));
  for (let r = 0; r < Number(opts.rounds); r++) {
    const order = [...names.slice(r % names.length), ...names.slice(0, r % names.length)];
    for (const name of order) {
      const t = targets.get(name)!;
      const before = processTicks([t.pid]);
      const w = await runWrk(tmp, `${t.url}/v1/chat/completions`, script, connections, opts.duration);
      if (w.errors > 0) throw new Error(`${name}: ${w.errors} of ${w.requests} requests failed (not 2xx, or a socket error)`);
      const run = { rps: w.rps, cpuUs: ((processTicks([t.pid]) - before) * 10_000) / w.requests, p99Ms: w.p99Ms };
      runs.get(name)!.push(run);
      console.log(`round ${r + 1}  ${name.padEnd(38)} req/s ${run.rps.toFixed(0).padStart(6)}  CPU ${run.cpuUs.toFixed(1).padStart(6)} µs/request  p99 ${run.p99Ms.toFixed(2)} ms`);
    }
  }
  const bare = runs.get(FLOORS[0][0])!;
  console.log(`\nmedians at ${connections} connections (ratio to the bare Bun proxy: the median of the rounds' ratios)`);
  console.log("| proxy | req/s | × bare | CPU µs/request | × bare | p99 ms | × bare |\n|---|---:|---:|---:|---:|---:|---:|");
  for (const name of names) {
    const rs = runs.get(name)!;
    const m = (k: keyof Run) => median(rs.map((run) => run[k]));
    const ratio = (k: keyof Run) => median(rs.map((run, i) => run[k] / bare[i]![k])).toFixed(2);
    console.log(`| ${name} | ${m("rps").toFixed(0)} | ${ratio("rps")} | ${m("cpuUs").toFixed(1)} | ${ratio("cpuUs")} | ${m("p99Ms").toFixed(2)} | ${ratio("p99Ms")} |`);
  }
} finally {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
}
