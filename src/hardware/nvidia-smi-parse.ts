/**
 * The pure half of the nvidia-smi reader: one CSV line per GPU in, plain
 * figures out. Kept apart from the process call so captured output can be
 * tested without a GPU.
 */

/** The fields asked of nvidia-smi, in the order its CSV answers them. */
export const NVIDIA_SMI_FIELDS = [
  "index",
  "name",
  "memory.total",
  "memory.used",
  "memory.free",
  "utilization.gpu",
  "temperature.gpu",
] as const;

/** One GPU as nvidia-smi reports it. Memory in bytes; `null` where it said `[N/A]` or similar. */
export interface GpuInfo {
  /** nvidia-smi's index (what `CUDA_VISIBLE_DEVICES` counts by default). */
  index: number;
  name: string;
  /** Total memory in bytes; `null` when not reported (then it counts as 0 in totals). */
  memoryTotalBytes: number | null;
  memoryUsedBytes: number | null;
  memoryFreeBytes: number | null;
  /** GPU utilization, 0-100. */
  utilizationPercent: number | null;
  temperatureC: number | null;
}

const MIB = 1024 * 1024;

/** A number, or null for nvidia-smi's placeholders (`[N/A]`, `[Not Supported]`, `N/A`, empty). */
function numberOrNull(field: string): number | null {
  const t = field.trim();
  if (t === "" || t.startsWith("[") || /^n\/a$/i.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

function mibToBytes(field: string): number | null {
  const n = numberOrNull(field);
  return n === null ? null : Math.round(n * MIB);
}

/**
 * Parses the output of
 * `nvidia-smi --query-gpu=index,name,memory.total,memory.used,memory.free,utilization.gpu,temperature.gpu --format=csv,noheader,nounits`.
 * Lines that are not seven comma-separated fields with a numeric index are
 * skipped (nvidia-smi prints warnings on stdout on some drivers). A GPU name
 * with a comma is kept whole: the name is everything between the index and
 * the last five fields.
 *
 * @example
 * ```ts
 * parseNvidiaSmi("0, NVIDIA GeForce RTX 4090, 24564, 1, 24107, 0, 35\n")[0]?.memoryTotalBytes; // 24564 MiB in bytes
 * ```
 */
export function parseNvidiaSmi(text: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const parts = raw.split(",");
    if (parts.length < NVIDIA_SMI_FIELDS.length) continue;
    const index = numberOrNull(parts[0] as string);
    if (index === null || !Number.isInteger(index)) continue;
    const tail = parts.slice(-5);
    const name = parts.slice(1, -5).join(",").trim();
    const [total, used, free, util, temp] = tail as [string, string, string, string, string];
    gpus.push({
      index,
      name,
      memoryTotalBytes: mibToBytes(total),
      memoryUsedBytes: mibToBytes(used),
      memoryFreeBytes: mibToBytes(free),
      utilizationPercent: numberOrNull(util),
      temperatureC: numberOrNull(temp),
    });
  }
  return gpus;
}

/**
 * Total memory of all GPUs in bytes (GPUs that did not report theirs count as 0).
 *
 * @example
 * ```ts
 * totalVramBytes(parseNvidiaSmi(out)); // e.g. 2 × 24 GiB
 * ```
 */
export function totalVramBytes(gpus: readonly GpuInfo[]): number {
  let sum = 0;
  for (const g of gpus) sum += g.memoryTotalBytes ?? 0;
  return sum;
}
