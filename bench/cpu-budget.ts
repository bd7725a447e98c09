/**
 * The whole machine's CPU per request at 64 connections, split by process:
 * wrk, the fake upstream, the proxy, the rest and idle, for the bare Bun
 * proxy and modelswap in alternating runs. Answers whether a proxy's
 * requests/s is bounded by its own thread or by the machine's cores: when
 * idle is near zero, moving work to another thread cannot raise it, only
 * less CPU per request can.
 *
 *   ./node_modules/.bin/bun bench/cpu-budget.ts [--pairs 6] [--duration 5s] [--connections 64]
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { descendants, installCleanup, processTicks, stopAll, systemTicks, threadCpuTicks } from "./children.ts";
import { chat, median } from "./probes.ts";
import { startBunProxy, startModelswap, startUpstream, writeModelswapConfig } from "./targets.ts";
import { runWrk, writeWrkScript } from "./wrk.ts";

const { values: opts } = parseArgs({
  options: {
    pairs: { type: "string", default: "6" },
    duration: { type: "string", default: "5s" },
    connections: { type: "string", default: "64" },
  },
});

/** Busy and idle clock ticks of the whole machine (all cores), from /proc/stat. */
function machineTicks(): { busy: number; idle: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + f[4]!;
  return { busy: f.slice(0, 8).reduce((a, b) => a + b, 0) - idle, idle };
}

interface Split {
  rps: number;
  proxy: number;
  proxySys: number;
  proxyMain: number;
  upstream: number;
  other: number;
  idle: number;
}

const US_PER_TICK = 10_000;

async function measure(tmp: string, url: string, proxyPid: number, upstreamPid: number, script: string): Promise<Split> {
  const m0 = machineTicks();
  const p0 = processTicks([proxyPid]);
  const pm0 = threadCpuTicks(proxyPid).main ?? 0;
  const ps0 = systemTicks(proxyPid);
  const u0 = processTicks([upstreamPid]);
  const w = await runWrk(tmp, `${url}/v1/chat/completions`, script, Number(opts.connections), opts.duration);
  const m1 = machineTicks();
  const per = (ticks: number) => (ticks * US_PER_TICK) / w.requests;
  const proxy = per(processTicks([proxyPid]) - p0);
  const upstream = per(processTicks([upstreamPid]) - u0);
  // wrk is gone when runWrk returns: what the machine did besides the proxy and the upstream is wrk's, mostly.
  return { rps: w.rps, proxy, proxySys: per(systemTicks(proxyPid) - ps0), proxyMain: per((threadCpuTicks(proxyPid).main ?? 0) - pm0), upstream, other: per(m1.busy - m0.busy) - proxy - upstream, idle: per(m1.idle - m0.idle) };
}

installCleanup();
const tmp = mkdtempSync(join(tmpdir(), "modelswap-cpu-budget-"));
const script = writeWrkScript(tmp, "bench");
const flags = { tokens: 20, tokenInterval: "0" };
const bareUp = await startUpstream(tmp, "upstream-bare", flags);
const bare = await startBunProxy(tmp, [bareUp.url]);
const cfg = join(tmp, "config.yaml");
writeModelswapConfig(cfg, [{ id: "bench", ...{ flags } }]);
const ms = await startModelswap(tmp, "modelswap", cfg, null);
await chat(ms.url, "bench", AbortSignal.timeout(60_000));
const msUpstream = descendants(ms.child.pid)[0]!;
const sides = {
  bare: { url: bare.urls[0]!, proxy: bare.child.pid, upstream: bareUp.child.pid },
  modelswap: { url: ms.url, proxy: ms.child.pid, upstream: msUpstream },
};
for (const s of Object.values(sides)) await runWrk(tmp, `${s.url}/v1/chat/completions`, script, Number(opts.connections), "2s");
const runs: Record<keyof typeof sides, Split[]> = { bare: [], modelswap: [] };
const fmt = (s: Split) =>
  `req/s ${s.rps.toFixed(0).padStart(6)}  µs/request: proxy ${s.proxy.toFixed(1)} (main thread ${s.proxyMain.toFixed(1)}, kernel ${s.proxySys.toFixed(1)})  upstream ${s.upstream.toFixed(1)}  wrk+rest ${s.other.toFixed(1)}  idle ${s.idle.toFixed(1)}`;
for (let i = 0; i < Number(opts.pairs); i++) {
  for (const name of i % 2 === 0 ? (["bare", "modelswap"] as const) : (["modelswap", "bare"] as const)) {
    const s = sides[name];
    const r = await measure(tmp, s.url, s.proxy, s.upstream, script);
    runs[name].push(r);
    console.log(`${name.padEnd(9)} ${fmt(r)}`);
  }
}
for (const name of ["bare", "modelswap"] as const) {
  const rs = runs[name];
  const med = (k: keyof Split) => median(rs.map((r) => r[k]));
  const m = { rps: med("rps"), proxy: med("proxy"), proxySys: med("proxySys"), proxyMain: med("proxyMain"), upstream: med("upstream"), other: med("other"), idle: med("idle") };
  const total = m.proxy + m.upstream + m.other;
  console.log(`median ${name.padEnd(9)} ${fmt(m)}  busy ${total.toFixed(1)} µs, idle ${((100 * m.idle) / (total + m.idle)).toFixed(1)} % of the cores`);
}
await stopAll();
