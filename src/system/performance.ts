/**
 * `/api/performance`: llama-swap's system and GPU samples (`sys_stats`,
 * `gpu_stats`), taken every `performance.every` and kept for the last hour.
 * Sampling starts when something first asks (a modelswap nobody watches
 * reads no /proc files and runs no nvidia-smi), and stops with `stop()`.
 */
import { readFileSync } from "node:fs";
import type { GpuReport } from "./gpu-report.ts";
import { type CpuTimes, type NetIo, cpuPercent, parseLoadavg, parseMeminfo, parseNetDev, parseProcStat } from "./proc-parse.ts";

/** llama-swap's `SysStat`. */
export interface SysStat {
  timestamp: string;
  cpu_util_per_core: number[];
  mem_total_mb: number;
  mem_used_mb: number;
  mem_free_mb: number;
  swap_total_mb: number;
  swap_used_mb: number;
  load_avg_1: number;
  load_avg_5: number;
  load_avg_15: number;
  net_io: NetIo[];
}

/** llama-swap's `GpuStat` (fields nvidia-smi's query gives; the rest 0). */
export interface GpuStat {
  timestamp: string;
  id: number;
  name: string;
  uuid: string;
  temp_c: number;
  vram_temp_c: number;
  gpu_util_pct: number;
  mem_util_pct: number;
  mem_used_mb: number;
  mem_total_mb: number;
  fan_speed_pct: number;
  power_draw_w: number;
}

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** One system sample from /proc text (`before`: the previous CPU times, for utilisation). */
export function sysStat(now: number, before: CpuTimes[], files: { stat: string; meminfo: string; loadavg: string; netdev: string }): { stat: SysStat; cpu: CpuTimes[] } {
  const cpu = parseProcStat(files.stat);
  const mem = parseMeminfo(files.meminfo);
  const [l1, l5, l15] = parseLoadavg(files.loadavg);
  return {
    cpu,
    stat: {
      timestamp: new Date(now).toISOString(),
      cpu_util_per_core: cpuPercent(before, cpu),
      mem_total_mb: mem.totalMb,
      mem_used_mb: mem.usedMb,
      mem_free_mb: mem.freeMb,
      swap_total_mb: mem.swapTotalMb,
      swap_used_mb: mem.swapUsedMb,
      load_avg_1: l1,
      load_avg_5: l5,
      load_avg_15: l15,
      net_io: parseNetDev(files.netdev),
    },
  };
}

/** GPU samples from one nvidia-smi report. */
export function gpuStats(now: number, report: GpuReport): GpuStat[] {
  const mb = (b: number | null) => (b === null ? 0 : Math.round(b / (1024 * 1024)));
  return report.gpus.map((g) => ({
    timestamp: new Date(now).toISOString(),
    id: g.index,
    name: g.name,
    uuid: "",
    temp_c: g.temperatureC ?? 0,
    vram_temp_c: 0,
    gpu_util_pct: g.utilizationPercent ?? 0,
    mem_util_pct: g.memoryTotalBytes ? Math.round(((g.memoryUsedBytes ?? 0) / g.memoryTotalBytes) * 1000) / 10 : 0,
    mem_used_mb: mb(g.memoryUsedBytes),
    mem_total_mb: mb(g.memoryTotalBytes),
    fan_speed_pct: 0,
    power_draw_w: 0,
  }));
}

export interface PerformanceOptions {
  everyMs: number;
  /** Samples kept (default: one hour's worth). */
  keep?: number;
  queryGpus: () => Promise<GpuReport>;
}

/** The sampler behind `/api/performance`. */
export class PerformanceMonitor {
  readonly #o: PerformanceOptions;
  readonly #keep: number;
  #sys: SysStat[] = [];
  #gpu: GpuStat[] = [];
  #cpu: CpuTimes[] = [];
  #timer: ReturnType<typeof setInterval> | null = null;
  #sampling: Promise<void> | null = null;

  constructor(o: PerformanceOptions) {
    this.#o = o;
    this.#keep = o.keep ?? Math.max(1, Math.ceil(3_600_000 / o.everyMs));
  }

  /** Samples kept so far, starting the sampler (and taking a first sample) on first use. */
  async current(): Promise<{ sys_stats: SysStat[]; gpu_stats: GpuStat[] }> {
    if (this.#timer === null) {
      this.#timer = setInterval(() => void this.#sample(), this.#o.everyMs);
      this.#timer.unref();
      await this.#sample();
    } else await this.#sampling;
    return { sys_stats: [...this.#sys], gpu_stats: [...this.#gpu] };
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
  }

  #sample(): Promise<void> {
    this.#sampling ??= (async () => {
      const now = Date.now();
      const files = { stat: read("/proc/stat"), meminfo: read("/proc/meminfo"), loadavg: read("/proc/loadavg"), netdev: read("/proc/net/dev") };
      const { stat, cpu } = sysStat(now, this.#cpu, files);
      this.#cpu = cpu;
      this.#sys.push(stat);
      this.#gpu.push(...gpuStats(now, await this.#o.queryGpus()));
      if (this.#sys.length > this.#keep) this.#sys = this.#sys.slice(-this.#keep);
      if (this.#gpu.length > this.#keep * 8) this.#gpu = this.#gpu.slice(-this.#keep * 8);
    })().finally(() => {
      this.#sampling = null;
    });
    return this.#sampling;
  }
}
