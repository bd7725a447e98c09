/**
 * What this folder needs of a GPU query: the shape `src/hardware`'s
 * `queryGpus` (nvidia-smi) returns, stated structurally so the readers here
 * depend on the answer, not on how it was obtained.
 */
export interface GpuReport {
  present: boolean;
  gpus: Array<{
    index: number;
    name: string;
    memoryTotalBytes: number | null;
    memoryUsedBytes: number | null;
    utilizationPercent: number | null;
    temperatureC: number | null;
  }>;
  reason?: string;
}
