/**
 * Readiness delay: how long after a starting model's upstream turns healthy
 * modelswap lets the waiting request through to it.
 *
 * Two methods, both reported:
 * - upstream log: the fake upstream started with a delay prints `healthy at
 *   <epoch ms>` (its first 200 on /health) and `first request at <epoch ms>`
 *   (same process, same clock), found in modelswap's `/logs`; exact.
 * - client poll: the benchmark polls the upstream's /health every ~1 ms itself
 *   and takes (response arrival − half a direct round trip) − first 200 seen;
 *   good to about ±1 ms.
 *
 * The benchmark's poller makes "first 200" the moment the server turned
 * ready, whoever asked. Each sample is a fresh modelswap whose proxy path is
 * warmed first by a few requests to a model that is ready at once: what is
 * measured is a model's cold start in a running modelswap, not JSC compiling
 * the proxy path for the process's very first request (measured here: that
 * adds 1-5 ms once per process).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { poll } from "../src/lib/async.ts";
import { stop } from "./children.ts";
import { chat, median } from "./probes.ts";
import { startModelswap, writeModelswapConfig } from "./targets.ts";

export interface ReadinessResult {
  /** Upstream-log delay when available, else the client-poll one. */
  delayMs: number;
  method: "upstream-log" | "client-poll";
  logDelayMs: number | null;
  pollDelayMs: number;
  /** Request sent → response read, start included. */
  requestMs: number;
}

async function firstHealthy(url: string, signal: AbortSignal): Promise<number> {
  for (;;) {
    signal.throwIfAborted();
    try {
      const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(500)]) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now();
    } catch {
      // not listening yet
    }
    await Bun.sleep(1);
  }
}

/** Delay from the fake upstream's own timestamped lines, if it prints them. */
function fromLines(text: string): number | null {
  const healthy = /healthy at (\d+(?:\.\d+)?)/.exec(text);
  const first = /first request at (\d+(?:\.\d+)?)/.exec(text);
  return healthy && first ? Number(first[1]) - Number(healthy[1]) : null;
}

/** modelswap's output plus its `/logs` history (where upstream output goes). */
async function modelswapLogs(url: string, logPath: string): Promise<string> {
  let text = "";
  try {
    text = readFileSync(logPath, "utf8");
  } catch {
    // no output yet
  }
  try {
    const res = await fetch(`${url}/logs`, { signal: AbortSignal.timeout(1000) });
    text += await res.text();
  } catch {
    // no /logs endpoint
  }
  return text;
}

/** Starts a fresh modelswap whose only model takes `startDelay` to become healthy, and measures one request. */
export async function measureReadiness(tmp: string, index: number, binary: string | null, startDelay: string): Promise<ReadinessResult> {
  const configPath = join(tmp, `ready-${index}.yaml`);
  const ports = writeModelswapConfig(configPath, [
    { id: "warm", flags: { tokens: 1, tokenInterval: "0" } },
    { id: "late", flags: { tokens: 1, tokenInterval: "0", startDelay } },
  ]);
  const upstream = `http://127.0.0.1:${ports.late}`;
  const ms = await startModelswap(tmp, `modelswap-ready-${index}`, configPath, binary);
  const abort = new AbortController();
  try {
    for (let i = 0; i < 20; i++) await chat(ms.url, "warm", AbortSignal.timeout(60_000));
    const seen = firstHealthy(`${upstream}/health`, AbortSignal.any([abort.signal, AbortSignal.timeout(60_000)]));
    const t0 = performance.now();
    await chat(ms.url, "late", AbortSignal.timeout(60_000));
    const tResp = performance.now();
    const tHealthy = await seen;
    const rtt: number[] = [];
    for (let i = 0; i < 7; i++) {
      const a = performance.now();
      await chat(upstream, "late");
      rtt.push(performance.now() - a);
    }
    const pollDelayMs = tResp - median(rtt) / 2 - tHealthy;
    // modelswap may pass the upstream's output on a little later, or not at all
    const logDelayMs = await poll(async () => fromLines(await modelswapLogs(ms.url, ms.child.logPath)) ?? undefined, 50, {
      signal: AbortSignal.timeout(1000),
    }).catch(() => null);
    return {
      delayMs: logDelayMs ?? pollDelayMs,
      method: logDelayMs === null ? "client-poll" : "upstream-log",
      logDelayMs,
      pollDelayMs,
      requestMs: tResp - t0,
    };
  } finally {
    abort.abort();
    await stop(ms.child);
  }
}
