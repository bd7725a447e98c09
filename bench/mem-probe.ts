/**
 * Memory probe: the benchmark's sequence (wrk 1 and 64 connections, 10 MB
 * bodies, streams; `--rounds` times) against one target, with its RSS split
 * into RssAnon and RssFile (/proc/PID/smaps_rollup) at each step, the peak
 * during the 64-connection runs (sampled every 50 ms) and the settling after
 * the load. For finding where modelswap's memory goes; `npm run bench` stays
 * the judge of the targets.
 *
 *   ./node_modules/.bin/bun bench/mem-probe.ts [--target modelswap|bun-proxy] [--binary PATH]
 *       [--rounds 3] [--duration 5s] [--settle 30] [--no-body] [--env K=V ...] [--config-line 'key: value' ...]
 */
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { installCleanup, rssKb, stopAll, threadCpuTicks } from "./children.ts";
import { bodyThroughput, chat, streamTimings } from "./probes.ts";
import { startBunProxy, startModelswap, startUpstream, writeModelswapConfig } from "./targets.ts";
import { runWrk, writeWrkScript } from "./wrk.ts";

const { values: opts } = parseArgs({
  options: {
    target: { type: "string", default: "modelswap" },
    binary: { type: "string" },
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5s" },
    settle: { type: "string", default: "30" },
    "no-body": { type: "boolean", default: false },
    env: { type: "string", multiple: true, default: [] },
    /** Extra top-level config lines (`--config-line "captureBuffer: 0"`). */
    "config-line": { type: "string", multiple: true, default: [] },
  },
});

/** RSS, RssAnon and RssFile of `pid` in MB. */
function memory(pid: number): { rss: number; anon: number; file: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN) / 1024;
  return { rss: rssKb(pid) / 1024, anon: field("Anonymous"), file: field("Rss") - field("Anonymous") };
}

const lines: string[] = [];
function note(step: string, pid: number, extra = ""): void {
  const m = memory(pid);
  const line = `${String(Date.now() % 1_000_000).padStart(6)} ${step.padEnd(28)} RSS ${m.rss.toFixed(1).padStart(6)} MB  anon ${m.anon.toFixed(1).padStart(6)}  file ${m.file.toFixed(1).padStart(5)}${extra}`;
  lines.push(line);
  console.error(line);
}

async function main(): Promise<void> {
  installCleanup();
  const tmp = mkdtempSync(join(tmpdir(), "modelswap-memprobe-"));
  const binary = opts.binary ?? null;
  const env: Record<string, string> = {};
  for (const kv of opts.env) env[kv.slice(0, kv.indexOf("="))] = kv.slice(kv.indexOf("=") + 1);
  const fast = await startUpstream(tmp, "upstream-fast", { tokens: 20, tokenInterval: "0" }, binary);
  const slow = await startUpstream(tmp, "upstream-stream", { tokens: 20, tokenInterval: "5ms" }, binary);
  let pid: number;
  let fastUrl: string;
  let streamUrl: string;
  if (opts.target === "bun-proxy") {
    const bp = await startBunProxy(tmp, [fast.url, slow.url]);
    pid = bp.child.pid;
    [fastUrl, streamUrl] = [bp.urls[0]!, bp.urls[1]!];
  } else {
    const cfg = join(tmp, "config.yaml");
    writeModelswapConfig(cfg, [
      { id: "bench", flags: { tokens: 20, tokenInterval: "0" } },
      { id: "stream", flags: { tokens: 20, tokenInterval: "5ms" } },
      { id: "hold", flags: { tokens: 1000, tokenInterval: "1s" } },
    ]);
    if (opts["config-line"].length > 0) appendFileSync(cfg, opts["config-line"].join("\n") + "\n");
    const ms = await startModelswap(tmp, "modelswap", cfg, binary, env);
    pid = ms.child.pid;
    fastUrl = streamUrl = ms.url;
  }
  note("ready", pid);
  await Bun.sleep(2000);
  note("idle +2 s", pid);
  await chat(fastUrl, "bench", AbortSignal.timeout(60_000));
  await streamTimings(streamUrl, "stream", 1);
  note("first requests", pid);
  for (let i = 0; i < 3; i++) await streamTimings(streamUrl, "stream", 1);
  for (let i = 0; i < 20; i++) await chat(fastUrl, "bench");
  note("warm", pid);
  const script = writeWrkScript(tmp, "bench");
  let peak = 0;
  /** CPU µs per request of the whole process, per 64-connection run. */
  const cpuUs: number[] = [];
  for (let r = 0; r < Number(opts.rounds); r++) {
    await runWrk(tmp, `${fastUrl}/v1/chat/completions`, script, 1, opts.duration);
    note(`r${r + 1} after wrk c1`, pid);
    let roundPeak = 0;
    const timer = setInterval(() => {
      try {
        roundPeak = Math.max(roundPeak, rssKb(pid) / 1024);
      } catch {
        // gone
      }
    }, 50);
    const before = threadCpuTicks(pid);
    const w = await runWrk(tmp, `${fastUrl}/v1/chat/completions`, script, 64, opts.duration);
    clearInterval(timer);
    const after = threadCpuTicks(pid);
    let ticks = 0;
    for (const [name, t] of Object.entries(after)) ticks += t - (before[name] ?? 0);
    cpuUs.push((ticks * 1e4) / w.requests);
    peak = Math.max(peak, roundPeak);
    note(`r${r + 1} after wrk c64`, pid, `  peak ${roundPeak.toFixed(1)}  ${w.rps.toFixed(0)} req/s  ${cpuUs.at(-1)!.toFixed(0)} µs CPU/req  ${w.errors} errors`);
    if (!opts["no-body"]) {
      await bodyThroughput(fastUrl, "bench", 10, 5);
      note(`r${r + 1} after 10 MB bodies`, pid);
    }
    await streamTimings(streamUrl, "stream", 25);
    note(`r${r + 1} after streams`, pid);
  }
  const settle = Number(opts.settle);
  for (const s of [1, 3, 10, settle].filter((s, i, a) => s <= settle && a.indexOf(s) === i)) {
    const waited = s - (lines.at(-1)?.startsWith("settled") ? Number(/settled \+(\d+)/.exec(lines.at(-1)!)?.[1]) : 0);
    await Bun.sleep(waited * 1000);
    note(`settled +${s} s`, pid);
  }
  console.log(`peak during c64: ${peak.toFixed(1)} MB\n${lines.join("\n")}`);
  await stopAll();
}

try {
  await main();
} catch (error) {
  console.error(error);
  await stopAll();
  process.exit(1);
}
