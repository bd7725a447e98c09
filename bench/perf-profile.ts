/**
 * Where modelswap's main thread spends its CPU at 64 connections, by Linux
 * `perf` (needs `perf` on PATH: `apt-get install -y linux-perf`; run as root
 * or with `kernel.perf_event_paranoid` ≤ 1). Unlike `bun --cpu-prof`, which
 * charges native work to the JavaScript function on top, it tells Bun's and
 * JavaScriptCore's native code, the kernel and compiled JavaScript apart:
 * JavaScriptCore writes the compiled code's names (`BUN_JSC_useJITDump=1`),
 * and each sample is charged to the innermost JavaScript function above it.
 *
 *   ./node_modules/.bin/bun bench/perf-profile.ts [--seconds 6] [--hz 2000] [--connections 64] [--top 30] [--inclusive] [--under NAME]
 *
 * Caveat: libc has no frame pointers, so a sample inside a system call
 * (`sendto`, `recvfrom`) shows no JavaScript caller even when one made it.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { installCleanup, stopAll } from "./children.ts";
import { chat } from "./probes.ts";
import { startModelswap, writeModelswapConfig } from "./targets.ts";
import { runWrk, writeWrkScript } from "./wrk.ts";

const { values: opts } = parseArgs({
  options: {
    seconds: { type: "string", default: "6" },
    hz: { type: "string", default: "2000" },
    connections: { type: "string", default: "64" },
    top: { type: "string", default: "30" },
    inclusive: { type: "boolean", default: false },
    under: { type: "string" },
  },
});

interface JitSymbol {
  start: number;
  end: number;
  name: string;
}

/** The jitdump files JavaScriptCore wrote in `dir` for process `pid` (`jit-<tid>-<pid>.dump`). */
function jitDumpFiles(dir: string, pid: number): string[] {
  return readdirSync(dir)
    .filter((f) => new RegExp(`^jit-\\d+-${pid}\\.dump$`).test(f))
    .map((f) => join(dir, f));
}

/** The code-load records of jitdump files (perf's jitdump format: a header, then records; type 0 loads code). */
function readJitSymbols(files: string[]): JitSymbol[] {
  const out: JitSymbol[] = [];
  for (const file of files) {
    const b = readFileSync(file);
    if (b.length < 40) continue;
    let off = b.readUInt32LE(8);
    while (off + 16 <= b.length) {
      const id = b.readUInt32LE(off);
      const size = b.readUInt32LE(off + 4);
      if (size === 0 || off + size > b.length) break;
      if (id === 0) {
        const addr = Number(b.readBigUInt64LE(off + 32));
        const len = Number(b.readBigUInt64LE(off + 40));
        const nameStart = off + 56;
        const nameEnd = b.indexOf(0, nameStart);
        if (nameEnd < 0) break;
        const name = b.toString("utf8", nameStart, nameEnd);
        out.push({ start: addr, end: addr + len, name: name.replace(/^JSC-(DFG|Baseline|FTL|\w*InlineCache\w*): /, "") });
      }
      off += size;
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

function lookup(syms: JitSymbol[], addr: number): string | null {
  let lo = 0;
  let hi = syms.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = syms[mid]!;
    if (addr < s.start) hi = mid - 1;
    else if (addr >= s.end) lo = mid + 1;
    else return s.name;
  }
  return null;
}

type Kind = "native" | "kernel" | "jit" | "libc";

interface Frame {
  addr: number;
  dso: string;
}

/** `perf script -F tid,ip,sym,dso` output: one block per sample, its thread id, then one frame per line. */
function parseSamples(text: string): { tid: number; frames: Frame[] }[] {
  const out: { tid: number; frames: Frame[] }[] = [];
  for (const block of text.split("\n\n")) {
    const lines = block.split("\n").filter((l) => l.trim() !== "");
    if (lines.length === 0) continue;
    const tid = Number(lines[0]!.trim().split(/\s+/)[0]);
    const frames: Frame[] = [];
    for (const line of lines.slice(1)) {
      const m = /^\s*([0-9a-f]+) .* \((.*)\)$/.exec(line);
      if (m) frames.push({ addr: parseInt(m[1]!, 16), dso: m[2]! });
    }
    out.push({ tid, frames });
  }
  return out;
}

function kindOf(f: Frame, syms: JitSymbol[]): Kind {
  if (f.dso.includes("kernel")) return "kernel";
  if (lookup(syms, f.addr) !== null) return "jit";
  if (f.dso.includes("libc")) return "libc";
  return "native";
}

const pct = (n: number, total: number) => `${((100 * n) / total).toFixed(1).padStart(5)} %`;

installCleanup();
const tmp = mkdtempSync(join(tmpdir(), "modelswap-perf-"));
try {
  const script = writeWrkScript(tmp, "bench");
  const cfg = join(tmp, "config.yaml");
  writeModelswapConfig(cfg, [{ id: "bench", flags: { tokens: 20, tokenInterval: "0" } }]);
  // Into the temp dir (removed at the end), with the dumps of modelswap's children, which inherit the setting.
  const dumps = join(tmp, "jitdump");
  mkdirSync(dumps);
  const ms = await startModelswap(tmp, "modelswap", cfg, null, { BUN_JSC_useJITDump: "1", BUN_JSC_jitDumpDirectory: dumps });
  const pid = ms.child.pid;
  await chat(ms.url, "bench", AbortSignal.timeout(60_000));
  await runWrk(tmp, `${ms.url}/v1/chat/completions`, script, Number(opts.connections), "3s");
  const data = join(tmp, "perf.data");
  const seconds = Number(opts.seconds);
  const rec = Bun.spawn(["perf", "record", "-F", opts.hz, "-g", "-o", data, "-p", String(pid), "--", "sleep", String(seconds)], { stdout: "ignore", stderr: "pipe" });
  const w = await runWrk(tmp, `${ms.url}/v1/chat/completions`, script, Number(opts.connections), `${Math.max(1, seconds - 1)}s`);
  if ((await rec.exited) !== 0) throw new Error(`perf record failed: ${await new Response(rec.stderr).text()}`);
  const dump = Bun.spawnSync(["perf", "script", "-i", data, "-F", "tid,ip,sym,dso"], { stdout: "pipe", stderr: "pipe" });
  if (dump.exitCode !== 0) throw new Error(`perf script failed: ${dump.stderr.toString()}`);
  const syms = readJitSymbols(jitDumpFiles(dumps, pid));
  const samples = parseSamples(dump.stdout.toString()).filter((s) => s.tid === pid && s.frames.length > 0);
  const total = samples.length;
  const kinds: Record<Kind, number> = { native: 0, kernel: 0, jit: 0, libc: 0 };
  const byFn = new Map<string, Record<Kind, number>>();
  const inclusive = new Map<string, number>();
  const under = new Map<string, number>();
  for (const s of samples) {
    const kind = kindOf(s.frames[0]!, syms);
    kinds[kind]++;
    // The sample's JavaScript functions, innermost first.
    const js: string[] = [];
    for (const f of s.frames) {
      const name = lookup(syms, f.addr);
      if (name !== null && !name.startsWith("JSC-")) js.push(name);
    }
    for (const n of new Set(js)) inclusive.set(n, (inclusive.get(n) ?? 0) + 1);
    if (opts.under !== undefined) {
      // What the innermost function named like --under called: the frame just inside it, or its own work.
      const at = js.findIndex((n) => n.startsWith(opts.under!));
      if (at >= 0) {
        const callee = at === 0 ? `(its own code and native work: ${kind})` : js[at - 1]!;
        under.set(callee, (under.get(callee) ?? 0) + 1);
      }
    }
    const fn = js[0] ?? "(no JavaScript frame)";
    const row = byFn.get(fn) ?? { native: 0, kernel: 0, jit: 0, libc: 0 };
    row[kind]++;
    byFn.set(fn, row);
  }
  console.log(`modelswap pid ${pid}: ${w.rps.toFixed(0)} requests/s at ${opts.connections} connections; ${total} samples of its main thread, ${syms.length} compiled functions named`);
  console.log(`main thread by where the sample landed: ${(Object.keys(kinds) as Kind[]).map((k) => `${k} ${pct(kinds[k], total).trim()}`).join(", ")}`);
  console.log(`\nby the innermost JavaScript function above the sample (its own compiled code and the native and kernel work under it):`);
  const rows = [...byFn].sort((a, b) => sum(b[1]) - sum(a[1])).slice(0, Number(opts.top));
  for (const [fn, r] of rows) {
    const split = (Object.keys(r) as Kind[]).filter((k) => r[k] > 0).map((k) => `${k} ${((100 * r[k]) / total).toFixed(1)}`).join(", ");
    console.log(`${pct(sum(r), total)}  ${fn}  [${split}]`);
  }
  if (opts.inclusive) {
    console.log(`\nby every JavaScript function on the sample's stack (inclusive; a system call's samples have no JavaScript frames):`);
    for (const [fn, n] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(opts.top))) console.log(`${pct(n, total)}  ${fn}`);
  }
  if (opts.under !== undefined) {
    console.log(`\nunder ${opts.under}, by the JavaScript function it called (or itself), as a share of all samples:`);
    for (const [fn, n] of [...under].sort((a, b) => b[1] - a[1]).slice(0, Number(opts.top))) console.log(`${pct(n, total)}  ${fn}`);
  }
} finally {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
}

function sum(r: Record<Kind, number>): number {
  return r.native + r.kernel + r.jit + r.libc;
}
