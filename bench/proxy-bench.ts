/**
 * Proxy benchmark: the same fake upstream reached directly, through nginx,
 * through a bare Bun proxy (bench/bun-proxy.ts, the floor of any Bun proxy)
 * and through modelswap, in interleaved rounds so machine drift cancels.
 *
 *   ./node_modules/.bin/bun bench/proxy-bench.ts [--rounds 3] [--duration 5s]
 *       [--only rps,body,ttfb,ready,rss] [--binary [--binary-path dist/modelswap]]
 *       [--nginx-workers auto]
 *       [--streams 10000] [--settle 30] [--ready-samples 5] [--skip-modelswap] [--skip-baseline]
 *
 * Prints a Markdown table, writes bench/results.md and bench/results.json.
 * Traffic goes to 127.0.0.1 only; every child is stopped on exit, SIGINT or error.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { descendants, installCleanup, openFiles, openFilesLimit, processTicks, rssKb, stop, stopAll, tail, threadCpuTicks } from "./children.ts";
import { bodyThroughput, chat, median, openStreams, streamTimings } from "./probes.ts";
import { measureReadiness, type ReadinessResult } from "./readiness.ts";
import { addedTable, figuresTable, medians, verdicts, verdictTable, type ModelswapFigures, type Samples, type Target } from "./report.ts";
import { binaryIdleKb, checkTools, startBunProxy, startModelswap, startNginx, startUpstream, writeModelswapConfig } from "./targets.ts";
import { runWrk, writeWrkScript } from "./wrk.ts";

const PARTS = ["rps", "body", "ttfb", "ready", "rss"] as const;
type Part = (typeof PARTS)[number];

const { values: opts } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5s" },
    only: { type: "string", default: PARTS.join(",") },
    binary: { type: "boolean", default: false },
    "binary-path": { type: "string", default: "dist/modelswap" },
    "nginx-workers": { type: "string", default: "auto" },
    streams: { type: "string", default: "10000" },
    settle: { type: "string", default: "30" },
    "ready-samples": { type: "string", default: "5" },
    "skip-modelswap": { type: "boolean", default: false },
    "skip-baseline": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (opts.help) {
  const text = readFileSync(import.meta.path, "utf8");
  console.log(text.slice(text.indexOf("\n") + 1, text.indexOf("*/")).replace(/^ \*[ ]?/gm, ""));
  process.exit(0);
}
const rounds = Number(opts.rounds);
const only = new Set(opts.only.split(",").map((s) => s.trim()));
for (const p of only) if (!(PARTS as readonly string[]).includes(p)) throw new TypeError(`Cannot run part '${p}': choose from ${PARTS.join(",")}`);
const want = (p: Part) => only.has(p);
const nStreams = Number(opts.streams);

if (!checkTools()) process.exit(2);
const binary = opts.binary ? opts["binary-path"] : null;
const haveModelswap = !opts["skip-modelswap"] && existsSync(binary ?? "src/main.ts");
if (!haveModelswap && !opts["skip-modelswap"]) console.error(`bench: ${binary ?? "src/main.ts"} not found: measuring without modelswap`);

installCleanup();
const tmp = mkdtempSync(join(tmpdir(), "modelswap-bench-"));
const log = (msg: string) => console.error(`bench: ${msg}`);
const samples: Samples = {};
const push = (key: string, t: Target, v: number) => ((samples[key] ??= {})[t] ??= []).push(v);
const extra: Record<string, unknown> = {};
const rss: Record<string, number> = {};
/** The bare Bun proxy's RSS at the same steps (no streams: it is the floor for the memory rows). */
const bareRss: Record<string, number> = {};
const readiness: ReadinessResult[] = [];
const streamRuns: Record<string, unknown>[] = [];
const wrkErrors: Record<string, number> = {};
/** CPU ticks per thread name of modelswap, summed over its 64-connection wrk runs, and the requests they served. */
const cpu64: { ticks: Record<string, number>; requests: number } = { ticks: {}, requests: 0 };

/** Samples `pid`'s RSS every 50 ms until stopped; resolves the highest value in kB. */
function rssSampler(pid: number): () => number {
  let peak = rssKb(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssKb(pid));
    } catch {
      // the process is gone: keep what was seen
    }
  }, 50);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

interface Endpoint {
  name: Target;
  fast: string;
  stream: string;
  /** Model id sent in requests (modelswap routes by it). */
  fastModel: string;
  streamModel: string;
  /** The proxy's processes, whose CPU per request is measured at 64 connections (none for direct). */
  pids?: () => number[];
}

async function main(): Promise<void> {
  const t0 = performance.now();
  let barePid: number | null = null;
  log(`temp dir ${tmp}`);
  const fast = await startUpstream(tmp, "upstream-fast", { tokens: 20, tokenInterval: "0" }, binary);
  const slow = await startUpstream(tmp, "upstream-stream", { tokens: 20, tokenInterval: "5ms" }, binary);
  const nginx = await startNginx(tmp, [fast.url, slow.url], opts["nginx-workers"]);
  const endpoints: Endpoint[] = [
    { name: "direct", fast: fast.url, stream: slow.url, fastModel: "bench", streamModel: "stream" },
    { name: "nginx", fast: nginx.urls[0]!, stream: nginx.urls[1]!, fastModel: "bench", streamModel: "stream", pids: () => [nginx.child.pid, ...descendants(nginx.child.pid)] },
  ];
  if (!opts["skip-baseline"]) {
    const bp = await startBunProxy(tmp, [fast.url, slow.url]);
    bareRss.idleKb = rssKb(bp.child.pid);
    barePid = bp.child.pid;
    endpoints.push({ name: "bun-proxy", fast: bp.urls[0]!, stream: bp.urls[1]!, fastModel: "bench", streamModel: "stream", pids: () => [bp.child.pid] });
  }

  let ms: Awaited<ReturnType<typeof startModelswap>> | undefined;
  if (haveModelswap) {
    const cfg = join(tmp, "config.yaml");
    writeModelswapConfig(cfg, [
      { id: "bench", flags: { tokens: 20, tokenInterval: "0" } },
      { id: "stream", flags: { tokens: 20, tokenInterval: "5ms" } },
      { id: "hold", flags: { tokens: 1000, tokenInterval: "1s" } },
    ]);
    // The binary users download idles lower than a run from source (bundled chunks: no per-module cost of loading from source).
    const binaryKb = binary === null && want("rss") ? await binaryIdleKb(tmp, cfg) : undefined;
    if (binaryKb !== undefined) rss.binaryIdleKb = binaryKb;
    ms = await startModelswap(tmp, "modelswap", cfg, binary);
    rss.idleKb = rssKb(ms.child.pid);
    log(`modelswap pid ${ms.child.pid} idle RSS ${(rss.idleKb / 1024).toFixed(1)} MB; warming up`);
    await chat(ms.url, "bench", AbortSignal.timeout(60_000));
    await streamTimings(ms.url, "stream", 1);
    rss.warmKb = rssKb(ms.child.pid);
    // Its own process only: its children are the model servers.
    const msPid = ms.child.pid;
    endpoints.push({ name: "modelswap", fast: ms.url, stream: ms.url, fastModel: "bench", streamModel: "stream", pids: () => [msPid] });
  }

  if (barePid !== null) bareRss.warmKb = rssKb(barePid);
  const scripts = { bench: writeWrkScript(tmp, "bench") };
  // warm every path (and this process's JIT) before anything is timed
  for (const e of endpoints) {
    await streamTimings(e.stream, e.streamModel, 3);
    for (let i = 0; i < 20; i++) await chat(e.fast, e.fastModel);
  }
  for (let r = 0; r < rounds; r++) {
    // rotate the order each round so no target always runs first
    const order = endpoints.map((_, i) => endpoints[(i + r) % endpoints.length]!);
    log(`round ${r + 1}/${rounds}: ${order.map((e) => e.name).join(", ")}`);
    if (want("rps")) {
      for (const c of [1, 64]) {
        for (const e of order) {
          const watched = e.name === "modelswap" && c === 64 && ms ? ms.child.pid : null;
          const sample = watched !== null ? rssSampler(watched) : null;
          const bareSample = e.name === "bun-proxy" && c === 64 && barePid !== null ? rssSampler(barePid) : null;
          const before = watched !== null ? threadCpuTicks(watched) : null;
          const pids = c === 64 ? (e.pids?.() ?? []) : [];
          const cpuBefore = processTicks(pids);
          const w = await runWrk(tmp, `${e.fast}/v1/chat/completions`, scripts.bench, c, opts.duration);
          if (pids.length > 0 && w.requests > 0) push("cpu64", e.name, ((processTicks(pids) - cpuBefore) * 1e6) / 100 / w.requests);
          if (sample) rss.peak64Kb = Math.max(rss.peak64Kb ?? 0, sample());
          if (bareSample) bareRss.peak64Kb = Math.max(bareRss.peak64Kb ?? 0, bareSample());
          if (watched !== null && before !== null) {
            for (const [name, t] of Object.entries(threadCpuTicks(watched))) cpu64.ticks[name] = (cpu64.ticks[name] ?? 0) + t - (before[name] ?? 0);
            cpu64.requests += w.requests;
          }
          push(`rps${c}`, e.name, w.rps);
          push(`p50_${c}`, e.name, w.p50Ms);
          push(`p99_${c}`, e.name, w.p99Ms);
          wrkErrors[`${e.name} c${c}`] = (wrkErrors[`${e.name} c${c}`] ?? 0) + w.errors;
          if (w.errors > 0) log(`${e.name} c${c}: ${w.errors} errors out of ${w.requests} requests`);
        }
      }
    }
    if (want("body")) {
      for (const e of order) {
        const b = await bodyThroughput(e.fast, e.fastModel, 10, 5);
        push("bodyMBs", e.name, b.mbPerS);
        extra.bodyResponseBytes = b.responseBytes;
        extra.bodyRequestBytes = b.requestBytes;
      }
    }
    if (want("ttfb")) {
      for (const e of order) {
        const s = await streamTimings(e.stream, e.streamModel, 25);
        push("ttfb", e.name, s.ttfbMs);
        push("gap", e.name, s.gapMs);
        push("streamTotal", e.name, s.totalMs);
        streamRuns.push({ round: r, target: e.name, ...s });
      }
    }
  }

  if (ms) {
    rss.afterLoadKb = rssKb(ms.child.pid);
    if (barePid !== null) bareRss.afterLoadKb = rssKb(barePid);
    if (want("rss")) {
      const settleS = Number(opts.settle);
      log(`waiting ${settleS} s for modelswap and the bare Bun proxy to settle after the load`);
      await Bun.sleep(settleS * 1000);
      rss.settledKb = rssKb(ms.child.pid);
      if (barePid !== null) bareRss.settledKb = rssKb(barePid);
      // Each stream holds a client socket and an upstream socket: stay inside modelswap's open-files limit
      // (what it has open now, and a few spare for its logs and the model's pipes).
      const limit = openFilesLimit(ms.child.pid);
      const fit = Math.floor((limit - openFiles(ms.child.pid) - 32) / 2);
      const n = Math.min(nStreams, fit);
      if (n < nStreams) log(`modelswap may open ${limit} files: measuring ${n} streams instead of ${nStreams} (raise 'ulimit -n' (the hard limit) for more)`);
      log(`opening ${n} streams through modelswap`);
      const warm = await openStreams(ms.url, "hold", 1, 60_000);
      warm.close();
      const before = rssKb(ms.child.pid);
      const open = await openStreams(ms.url, "hold", n, 300_000);
      rss.streamsKb = rssKb(ms.child.pid);
      extra.streams = {
        requested: nStreams,
        measured: n,
        openFilesLimit: limit,
        opened: open.opened,
        statuses: open.statuses,
        beforeKb: before,
        kbPerStream: open.opened > 0 ? (rss.streamsKb - before) / open.opened : NaN,
      };
      open.close();
      log(`${open.opened}/${n} streams got their first chunk; RSS ${(rss.streamsKb / 1024).toFixed(1)} MB`);
    }
    // The readiness step starts modelswaps of its own: this one (and its models) must not run alongside them.
    await stop(ms.child);
    if (want("ready")) {
      const n = Number(opts["ready-samples"]);
      for (let r = 0; r < n; r++) {
        const res = await measureReadiness(tmp, r, binary, "1500ms");
        readiness.push(res);
        log(`readiness ${r + 1}/${n}: ${res.delayMs.toFixed(2)} ms (${res.method}; client poll ${res.pollDelayMs.toFixed(2)} ms)`);
      }
    }
  }
  extra.elapsedS = (performance.now() - t0) / 1000;
}

/** CPU µs per request of modelswap's main thread, its scheduler Worker and the whole process, over the 64-connection runs. */
function workerShare(): { main: number; worker: number; total: number } | undefined {
  if (cpu64.requests === 0) return undefined;
  const us = (ticks: number) => (ticks * 1e6) / 100 / cpu64.requests;
  const total = Object.values(cpu64.ticks).reduce((a, b) => a + b, 0);
  return { main: us(cpu64.ticks.main ?? 0), worker: us(cpu64.ticks.Worker ?? 0), total: us(total) };
}

function machine(): Record<string, unknown> {
  const run = (argv: string[]) => {
    const p = Bun.spawnSync(argv, { stderr: "pipe", stdout: "pipe" });
    return (p.stdout.toString() + p.stderr.toString()).trim().split("\n")[0] ?? "";
  };
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? "unknown",
    kernel: release(),
    bun: Bun.version,
    nginx: run(["nginx", "-v"]),
    wrk: run(["wrk", "--version"]),
  };
}

function render(): { md: string; json: unknown } {
  const m = medians(samples);
  const readyMs = readiness.length ? median(readiness.map((r) => r.delayMs)) : undefined;
  const idleMb = rss.idleKb !== undefined ? rss.idleKb / 1024 : undefined;
  const mach = machine();
  const mb = (kb: number | undefined) => (kb === undefined ? "–" : (kb / 1024).toFixed(1));
  const streams = extra.streams as { requested: number; measured: number; opened: number; kbPerStream: number; openFilesLimit: number } | undefined;
  const lines = [
    `## Proxy benchmark (${rounds} interleaved rounds, medians; wrk ${opts.duration} per run)`,
    "",
    `Machine: ${mach.cores} cores (${mach.cpu}), Linux ${mach.kernel}, Bun ${mach.bun}, ${mach.nginx}. Upstream: modelswap fake-upstream; modelswap ${binary ?? "from source"}; nginx worker_processes ${opts["nginx-workers"]}.`,
    "",
    figuresTable(m),
    "",
    addedTable(m),
    "",
  ];
  if (rss.idleKb !== undefined) {
    const row = (label: string, key: string) => `| ${label} | ${mb(bareRss[key])} | ${mb(rss[key])} |`;
    const grown = (r: Record<string, number>) => (r.settledKb === undefined || r.idleKb === undefined ? undefined : r.settledKb - r.idleKb);
    lines.push("| RSS, MB | bare Bun proxy | modelswap |", "|---|---:|---:|");
    lines.push(row("idle after start", "idleKb"));
    if (rss.binaryIdleKb !== undefined) lines.push(`| idle after start, the compiled binary | – | ${mb(rss.binaryIdleKb)} |`);
    lines.push(row("after warm-up", "warmKb"), row("peak during the 64-connection runs", "peak64Kb"));
    lines.push(row("after the load above", "afterLoadKb"), row(`${opts.settle} s after the load`, "settledKb"));
    lines.push(`| ${opts.settle} s after the load − idle | ${mb(grown(bareRss))} | ${mb(grown(rss))} |`, "");
  }
  if (rss.idleKb !== undefined || readiness.length) {
    lines.push("| modelswap only | value |", "|---|---:|");
    if (streams) {
      const capped = streams.measured < streams.requested ? ` (open-files limit ${streams.openFilesLimit}: ${streams.measured} measured)` : "";
      lines.push(`| RSS with ${streams.opened}/${streams.measured} open streams${capped}, MB; KB per stream | ${mb(rss.streamsKb)}; ${streams.kbPerStream.toFixed(1)} |`);
    }
    const w = workerShare();
    if (w) lines.push(`| CPU per request at 64 connections, µs: main thread / scheduler Worker / whole process | ${w.main.toFixed(1)} / ${w.worker.toFixed(1)} / ${w.total.toFixed(1)} |`);
    if (readyMs !== undefined) {
      const ds = readiness.map((r) => r.delayMs.toFixed(1)).join(", ");
      lines.push(`| readiness delay, ms (median; samples: ${ds}; ${readiness[0]!.method}) | ${readyMs.toFixed(2)} |`);
    }
    lines.push("");
  }
  const figures: ModelswapFigures = {};
  if (idleMb !== undefined) figures.idleMb = idleMb;
  if (rss.binaryIdleKb !== undefined) figures.binaryIdleMb = rss.binaryIdleKb / 1024;
  if (rss.peak64Kb !== undefined) figures.peak64Mb = rss.peak64Kb / 1024;
  if (rss.settledKb !== undefined) figures.settledMb = rss.settledKb / 1024;
  const bare: Record<string, number> = {};
  for (const [k, v] of Object.entries(bareRss)) bare[k.replace(/Kb$/, "Mb")] = v / 1024;
  figures.bare = bare;
  if (streams) figures.streams = { requested: streams.measured, opened: streams.opened, kbPerStream: streams.kbPerStream };
  if (readyMs !== undefined) figures.readinessMs = readyMs;
  const share = workerShare();
  if (share) figures.workerShare = share;
  const vs = verdicts(m, figures);
  if (vs.length) lines.push(verdictTable(vs), "");
  if (extra.bodyResponseBytes !== undefined) {
    lines.push(`10 MB body: ${extra.bodyRequestBytes} bytes sent per request, ${extra.bodyResponseBytes} bytes received (${Number(extra.bodyResponseBytes) > 1e6 ? "echoed: both directions measured" : "not echoed: upload direction only"}).`);
  }
  const errs = Object.entries(wrkErrors).filter(([, n]) => n > 0);
  if (errs.length) lines.push(`wrk errors (non-2xx or socket): ${errs.map(([k, n]) => `${k}: ${n}`).join(", ")}.`);
  lines.push(`Elapsed: ${Number(extra.elapsedS ?? 0).toFixed(0)} s.`);
  const json = { machine: mach, options: opts, samples, medians: m, rss, bareRss, cpu64, readiness, streamRuns, wrkErrors, extra, verdicts: vs };
  return { md: lines.join("\n") + "\n", json };
}

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  console.error(`bench: failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  for (const name of ["modelswap.log", "upstream-fast.log", "nginx/error.log"]) {
    const t = tail(join(tmp, name));
    if (t) console.error(`--- ${name}\n${t}`);
  }
} finally {
  await stopAll();
}
const { md, json } = render();
console.log(md);
if (!failed) {
  writeFileSync("bench/results.md", md);
  writeFileSync("bench/results.json", JSON.stringify(json, null, 2) + "\n");
  rmSync(tmp, { recursive: true, force: true });
} else console.error(`bench: kept ${tmp} for inspection`);
process.exit(failed ? 1 : 0);
