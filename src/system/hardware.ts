/**
 * `/api/hardware`: llama-swap's `HardwareSnapshot` (schema 1) for this
 * machine: architecture, OS, CPU, memory, and NVIDIA GPUs through
 * `src/hardware` (nvidia-smi). Taken once and kept, as llama-swap does.
 */
import { arch, cpus, platform, release, totalmem } from "node:os";
import { readFileSync } from "node:fs";
import type { GpuReport } from "./gpu-report.ts";

/** llama-swap's accelerator row. */
export interface Accelerator {
  index: number;
  kind: "gpu";
  vendor: string | null;
  model: string | null;
  architecture: string | null;
  memory: { kind: "dedicated"; capacity_bytes: number | null };
  driver: { name: string | null; version: string | null } | null;
  power_limit_watts: number | null;
}

/** llama-swap's `HardwareSnapshot`. */
export interface HardwareSnapshot {
  schema_version: 1;
  captured_at: string;
  capture: { scope: "inference_host"; method: "detected"; detector: { name: string; version: string } };
  architecture: { name: string; raw_name: string | null };
  operating_system: { family: string; name: string | null; version: string | null; kernel: string | null };
  environment: { kind: string; name: string | null; version: string | null };
  cpu: { vendor: string | null; model: string | null; socket_count: number | null; physical_core_count: number | null; logical_thread_count: number | null };
  memory: { capacity_bytes: number };
  accelerators: Accelerator[];
  /** modelswap: why no GPU is listed (nvidia-smi missing or failing), when none is. */
  accelerators_reason?: string;
}

const ARCH: Record<string, string> = { x64: "x86_64", arm64: "arm64", arm: "arm", ia32: "x86" };

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** `/etc/os-release` fields. */
export function parseOsRelease(text: string): { name: string | null; version: string | null } {
  const field = (k: string) => {
    const m = new RegExp(`^${k}="?([^"\\n]*)"?$`, "m").exec(text);
    return m === null ? null : m[1]!;
  };
  return { name: field("NAME"), version: field("VERSION_ID") };
}

/** CPU facts from /proc/cpuinfo: vendor, sockets and physical cores (null where it does not say). */
export function parseCpuinfo(text: string): { vendor: string | null; sockets: number | null; cores: number | null } {
  const vendor = /^vendor_id\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? null;
  const sockets = new Set([...text.matchAll(/^physical id\s*:\s*(\d+)$/gm)].map((m) => m[1]));
  const cores = new Set([...text.matchAll(/^physical id\s*:\s*(\d+)\n(?:.*\n)*?core id\s*:\s*(\d+)$/gm)].map((m) => `${m[1]}:${m[2]}`));
  return { vendor, sockets: sockets.size > 0 ? sockets.size : null, cores: cores.size > 0 ? cores.size : null };
}

/** Whether this runs in a container (Docker/Podman marker files), as llama-swap's `environment.kind`. */
function environment(): { kind: string; name: string | null; version: string | null } {
  if (read("/.dockerenv") !== "" || read("/run/.containerenv") !== "" || /docker|containerd|kubepods/.test(read("/proc/1/cgroup"))) return { kind: "container", name: null, version: null };
  return { kind: "native", name: null, version: null };
}

/**
 * The snapshot of this machine with `gpus` as the accelerators.
 *
 * @example
 * ```ts
 * const snap = hardwareSnapshot(await queryGpus(), "0.1.0");
 * ```
 */
export function hardwareSnapshot(gpus: GpuReport, version: string, now = Date.now()): HardwareSnapshot {
  const os = parseOsRelease(read("/etc/os-release"));
  const info = parseCpuinfo(read("/proc/cpuinfo"));
  const list = cpus();
  const snap: HardwareSnapshot = {
    schema_version: 1,
    captured_at: new Date(now).toISOString(),
    capture: { scope: "inference_host", method: "detected", detector: { name: "modelswap", version } },
    architecture: { name: ARCH[arch()] ?? arch(), raw_name: arch() },
    operating_system: { family: platform(), name: os.name, version: os.version, kernel: release() },
    environment: environment(),
    cpu: { vendor: info.vendor, model: list[0]?.model?.trim() || null, socket_count: info.sockets, physical_core_count: info.cores, logical_thread_count: list.length || null },
    memory: { capacity_bytes: totalmem() },
    accelerators: gpus.gpus.map((g) => ({
      index: g.index,
      kind: "gpu",
      vendor: "NVIDIA",
      model: g.name,
      architecture: null,
      memory: { kind: "dedicated", capacity_bytes: g.memoryTotalBytes },
      driver: null,
      power_limit_watts: null,
    })),
  };
  if (!gpus.present && gpus.reason !== undefined) snap.accelerators_reason = gpus.reason;
  return snap;
}
