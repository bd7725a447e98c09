/**
 * Where modelswap's requests/s at 64 connections stands against proxies that
 * do less, in one interleaved run (rounds rotate the order; medians): the
 * bare Bun proxy (`bench/bun-proxy.ts`, `Bun.serve` + `fetch`), modelswap's
 * own parts without features (`bench/floor-proxy.ts`, the pooled client),
 * the plainest Bun proxy with modelswap's per-request features
 * (`bench/floor-features.ts`) over `fetch` and over the pooled client, and
 * modelswap. Prints requests/s, CPU per request of each proxy's process and
 * p99, each with its ratio to the bare proxy in the same round. Not part of
 * `npm run bench` (README, Benchmarks).
 *
 *   ./node_modules/.bin/bun bench/ladder.ts [--connections 64] [--rounds 6] [--duration 3s]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { freePort, installCleanup, processTicks, start, stopAll, waitHttp } from "./children.ts";
import { median } from "./probes.ts";
import { BUN, startModelswap, startUpstream, writeModelswapConfig } from "./targets.ts";
import { runWrk, writeWrkScript } from "./wrk.ts";

const { values: opts } = parseArgs({
  options: {
    connections: { type: "string", default: "64" },
    rounds: { type: "string", default: "6" },
    duration: { type: "string", default: "3s" },
  },
});

interface Run {
  rps: number;
  cpuUs: number;
  p99Ms: number;
}

/** The floors: name, script, and its arguments after the port and upstream. */
const FLOORS = [
  ["bare Bun proxy", "bench/bun-proxy.ts", null],
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
    const port = freePort();
    // bun-proxy.ts takes PORT=UPSTREAM; the others PORT UPSTREAM [pooled].
    const args = extra === null ? [`${port}=${up.url}`] : [String(port), up.url, ...extra];
    const child = start(name.replaceAll(/\W+/g, "-"), [BUN, resolve(file), ...args], join(tmp, `${targets.size}.log`));
    const url = `http://127.0.0.1:${port}`;
    await waitHttp(child, `${url}/health`, 10_000);
    targets.set(name, { pid: child.pid, url });
  }
  const cfg = join(tmp, "config.yaml");
  writeModelswapConfig(cfg, [{ id: "bench", flags: { tokens: 20, tokenInterval: "0" } }]);
  const ms = await startModelswap(tmp, "modelswap", cfg, null);
  targets.set("modelswap", { pid: ms.child.pid, url: ms.url });
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
    const m = (k: keyof Run) => median(rs.map((x) => x[k]));
    const x = (k: keyof Run) => median(rs.map((x, i) => x[k] / bare[i]![k])).toFixed(2);
    console.log(`| ${name} | ${m("rps").toFixed(0)} | ${x("rps")} | ${m("cpuUs").toFixed(1)} | ${x("cpuUs")} | ${m("p99Ms").toFixed(2)} | ${x("p99Ms")} |`);
  }
} finally {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
}
