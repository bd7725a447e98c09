/**
 * What a proxied request costs the JavaScript heap at 64 connections: bytes
 * allocated per request and the time of full collections per request, read
 * from JavaScriptCore's own GC log (`BUN_JSC_logGC=1`). modelswap runs with
 * full collections only (src/lib/runtime-env.ts), so each collection marks
 * the whole live heap, and what a request allocates sets how often that
 * happens. Unlike requests/s, which moves ±30 % with the VM from minute to
 * minute, bytes per request barely move between runs (±0.5 KB of ~25), so
 * one change shows in one run. Two trees (`--a`, `--b`) or environments are
 * run alternately and each gets the median of its runs.
 *
 *   ./node_modules/.bin/bun bench/alloc.ts [--a DIR] [--b DIR] [--a-env K=V ...] [--b-env K=V ...]
 *       [--b-config-line 'key: value' ...] [--runs 3] [--duration 5s]
 *
 * Bytes per request: the heap's size when each collection starts minus its
 * size when the previous one ended, summed over the measured load (after a
 * 2 s warm-up) and divided by wrk's requests. A collection's time is its
 * whole cycle as the log gives it (the main thread's pauses and the
 * concurrent marking on helper threads).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { envOf, SIDE_OPTIONS, startTree } from "./ab-sides.ts";
import { installCleanup, stop, stopAll } from "./children.ts";
import { median } from "./probes.ts";
import { runWrk, writeWrkScript } from "./wrk.ts";

const { values: opts } = parseArgs({
  options: {
    ...SIDE_OPTIONS,
    "b-config-line": { type: "string", multiple: true, default: [] },
    runs: { type: "string", default: "3" },
    duration: { type: "string", default: "5s" },
  },
});

interface Heap {
  rps: number;
  kbPerRequest: number;
  collectionsPer1000: number;
  gcUsPerRequest: number;
}

/**
 * The main heap's collections in a GC log: the heap that logs the most
 * starts (a Worker has its own, quieter heap). Sizes in KB, times in ms.
 */
function parseGcLog(log: string): { allocatedKb: number; collections: number; cycleMs: number } {
  const starts = new Map<string, number>();
  for (const m of log.matchAll(/GC<(0x[0-9a-f]+)>: START/g)) starts.set(m[1]!, (starts.get(m[1]!) ?? 0) + 1);
  const main = [...starts].sort((a, b) => b[1] - a[1])[0]?.[0];
  let allocatedKb = 0;
  let collections = 0;
  let cycleMs = 0;
  let endedKb = -1;
  if (main === undefined) return { allocatedKb, collections, cycleMs };
  // A line may hold another heap's text before this heap's tag: read only from the tag on.
  for (const line of log.split("\n")) {
    const at = line.indexOf(`GC<${main}>`);
    if (at < 0) continue;
    const own = line.slice(at);
    const started = /: START \w+ (\d+)kb/.exec(own);
    if (started) {
      if (endedKb >= 0) allocatedKb += Math.max(0, Number(started[1]) - endedKb);
      collections++;
    }
    for (const ended of own.matchAll(/=> (\d+)kb, p=/g)) endedKb = Number(ended[1]);
    const cycle = /cycle ([\d.]+)ms END/.exec(own);
    if (cycle) cycleMs += Number(cycle[1]);
  }
  return { allocatedKb, collections, cycleMs };
}

async function measure(tmp: string, name: string, root: string, env: Record<string, string>, configLines: string[]): Promise<Heap> {
  const { child, url } = await startTree(tmp, name, root, { ...env, BUN_JSC_logGC: "1" }, configLines);
  try {
    const script = writeWrkScript(tmp, "bench");
    await runWrk(tmp, `${url}/v1/chat/completions`, script, 64, "2s");
    const before = readFileSync(child.logPath, "utf8").length;
    const w = await runWrk(tmp, `${url}/v1/chat/completions`, script, 64, opts.duration);
    if (w.errors > 0) throw new Error(`Cannot measure ${name}: ${w.errors} of ${w.requests} requests failed`);
    const gc = parseGcLog(readFileSync(child.logPath, "utf8").slice(before));
    return { rps: w.rps, kbPerRequest: gc.allocatedKb / w.requests, collectionsPer1000: (gc.collections * 1000) / w.requests, gcUsPerRequest: (gc.cycleMs * 1000) / w.requests };
  } finally {
    await stop(child);
  }
}

installCleanup();
const tmp = mkdtempSync(join(tmpdir(), "modelswap-alloc-"));
const sides = [
  { name: "A", root: opts.a, env: envOf(opts["a-env"]), config: [] },
  { name: "B", root: opts.b, env: envOf(opts["b-env"]), config: opts["b-config-line"] },
];
const same = opts.a === opts.b && opts["a-env"].length === 0 && opts["b-env"].length === 0 && opts["b-config-line"].length === 0;
const runs: Record<string, Heap[]> = { A: [], B: [] };
try {
  for (let i = 0; i < Number(opts.runs); i++) {
    for (const s of i % 2 === 0 || same ? sides : [...sides].reverse()) {
      if (same && s.name === "B") continue;
      // Each run its own name: its own config, log and state dir.
      const h = await measure(tmp, `${s.name}${i}`, s.root, s.env, s.config);
      runs[s.name]!.push(h);
      console.log(`${s.name} ${h.rps.toFixed(0)} req/s  ${h.kbPerRequest.toFixed(1)} KB allocated per request  ${h.collectionsPer1000.toFixed(2)} full collections per 1000 requests  GC ${h.gcUsPerRequest.toFixed(1)} µs per request`);
    }
  }
} finally {
  await stopAll();
}
for (const s of sides) {
  const r = runs[s.name]!;
  if (r.length === 0) continue;
  const m = (k: keyof Heap) => median(r.map((x) => x[k]));
  console.log(`median ${s.name} (${s.root}${opts[s.name === "A" ? "a-env" : "b-env"].map((e) => ` ${e}`).join("")}): ${m("kbPerRequest").toFixed(1)} KB per request, ${m("collectionsPer1000").toFixed(2)} collections per 1000 requests, GC ${m("gcUsPerRequest").toFixed(1)} µs per request`);
}
