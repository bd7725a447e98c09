/** /proc readers, the hardware snapshot and the performance sampler, on captured text. */
import { describe, expect, test } from "bun:test";
import { cpuPercent, parseLoadavg, parseMeminfo, parseNetDev, parseProcStat } from "../../../src/system/proc-parse.ts";
import { hardwareSnapshot, parseCpuinfo, parseOsRelease } from "../../../src/system/hardware.ts";
import { PerformanceMonitor, gpuStats, sysStat } from "../../../src/system/performance.ts";
import type { GpuReport } from "../../../src/system/gpu-report.ts";

const STAT_A = "cpu  300 0 100 600 0 0 0 0 0 0\ncpu0 100 0 50 300 0 0 0 0 0 0\ncpu1 200 0 50 300 0 0 0 0 0 0\nintr 1 2 3\n";
const STAT_B = "cpu  400 0 200 700 0 0 0 0 0 0\ncpu0 150 0 100 350 0 0 0 0 0 0\ncpu1 250 0 50 400 0 0 0 0 0 0\n";
const MEMINFO = "MemTotal:       24683548 kB\nMemFree:        18453420 kB\nMemAvailable:   23220864 kB\nBuffers:           46948 kB\nCached:          4711224 kB\nSwapTotal:       2097148 kB\nSwapFree:        1048574 kB\n";
const NETDEV = "Inter-|   Receive |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets\n    lo: 102345973  214467    0    0    0     0          0         0 102345970  214467    0    0    0     0       0          0\n  eth0: 10 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0\n";
const GPUS: GpuReport = {
  present: true,
  gpus: [{ index: 0, name: "NVIDIA GeForce RTX 4090", memoryTotalBytes: 24564 * 1048576, memoryUsedBytes: 12282 * 1048576, utilizationPercent: 37, temperatureC: 61 }],
};

describe("/proc readers", () => {
  test("per-core utilisation between two /proc/stat readings", () => {
    expect(cpuPercent(parseProcStat(STAT_A), parseProcStat(STAT_B))).toEqual([66.7, 33.3]);
  });

  test("memory in MB: used is total minus available; swap used", () => {
    expect(parseMeminfo(MEMINFO)).toEqual({ totalMb: 24105, usedMb: 1428, freeMb: 22677, swapTotalMb: 2048, swapUsedMb: 1024 });
  });

  test("load averages and network bytes per interface", () => {
    expect(parseLoadavg("5.65 6.32 4.38 4/135 5900\n")).toEqual([5.65, 6.32, 4.38]);
    expect(parseNetDev(NETDEV)).toEqual([
      { name: "lo", bytes_recv: 102345973, bytes_sent: 102345970 },
      { name: "eth0", bytes_recv: 10, bytes_sent: 20 },
    ]);
  });

  test("os-release and cpuinfo facts", () => {
    expect(parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n')).toEqual({ name: "Debian GNU/Linux", version: "12" });
    const cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nphysical id\t: 0\ncore id\t\t: 0\n\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\nphysical id\t: 0\ncore id\t\t: 1\n\nprocessor\t: 2\nphysical id\t: 0\ncore id\t\t: 1\n";
    expect(parseCpuinfo(cpuinfo)).toEqual({ vendor: "AuthenticAMD", sockets: 1, cores: 2 });
  });
});

describe("hardware snapshot (llama-swap's schema 1)", () => {
  test("GPUs from the nvidia-smi report become accelerators with their memory", () => {
    const snap = hardwareSnapshot(GPUS, "0.1.0", Date.UTC(2026, 11, 1));
    expect(snap).toMatchObject({ schema_version: 1, captured_at: "2026-12-01T00:00:00.000Z", capture: { scope: "inference_host", method: "detected" } });
    expect(snap.accelerators).toEqual([
      { index: 0, kind: "gpu", vendor: "NVIDIA", model: "NVIDIA GeForce RTX 4090", architecture: null, memory: { kind: "dedicated", capacity_bytes: 24564 * 1048576 }, driver: null, power_limit_watts: null },
    ]);
    expect(snap.memory.capacity_bytes).toBeGreaterThan(0);
    expect(snap.cpu.logical_thread_count).toBeGreaterThan(0);
  });

  test("no GPU: an empty list and the reason", () => {
    const snap = hardwareSnapshot({ present: false, gpus: [], reason: "nvidia-smi not found on PATH" }, "0.1.0");
    expect(snap.accelerators).toEqual([]);
    expect(snap.accelerators_reason).toBe("nvidia-smi not found on PATH");
  });
});

describe("performance samples (llama-swap's SysStat and GpuStat)", () => {
  test("a system sample from /proc text", () => {
    const { stat } = sysStat(Date.UTC(2026, 11, 1), parseProcStat(STAT_A), { stat: STAT_B, meminfo: MEMINFO, loadavg: "1 2 3 1/2 3", netdev: NETDEV });
    expect(stat).toMatchObject({ timestamp: "2026-12-01T00:00:00.000Z", cpu_util_per_core: [66.7, 33.3], mem_total_mb: 24105, swap_used_mb: 1024, load_avg_1: 1, load_avg_15: 3 });
  });

  test("GPU samples from an nvidia-smi report", () => {
    expect(gpuStats(0, GPUS)).toEqual([
      { timestamp: "1970-01-01T00:00:00.000Z", id: 0, name: "NVIDIA GeForce RTX 4090", uuid: "", temp_c: 61, vram_temp_c: 0, gpu_util_pct: 37, mem_util_pct: 50, mem_used_mb: 12282, mem_total_mb: 24564, fan_speed_pct: 0, power_draw_w: 0 },
    ]);
  });

  test("the monitor takes its first sample when first asked, of this machine", async () => {
    let queries = 0;
    const monitor = new PerformanceMonitor({ everyMs: 60_000, queryGpus: async () => (queries++, GPUS) });
    try {
      expect(queries).toBe(0);
      const first = await monitor.current();
      expect(queries).toBe(1);
      expect(first.sys_stats).toHaveLength(1);
      expect(first.sys_stats[0]!.mem_total_mb).toBeGreaterThan(0);
      expect(first.gpu_stats).toHaveLength(1);
    } finally {
      monitor.stop();
    }
  });
});
